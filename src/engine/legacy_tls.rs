//! Which client could get through a server that refuses netpeel's ClientHello outright.
//!
//! rustls offers only TLS 1.3 and TLS 1.2 with ECDHE and AEAD ciphers. Python's `ssl` (what
//! requests uses) also offers ECDHE with CBC-SHA256/384 and DHE (its default cipher string since
//! 3.10: `ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!SHA1…`), and OpenSSL's own default list
//! (what curl uses) also RSA key exchange and SHA-1 suites. When the server answers rustls with
//! a handshake_failure before any certificate, one hand-written TLS 1.2 ClientHello per extra
//! set says which of the two clients the server would take: only the ServerHello (or the
//! alert) is read, nothing is negotiated.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// TLS 1.2 suites Python's default context offers and rustls does not.
const PYTHON_ONLY: &[u16] = &[
    0xC023, 0xC024, // ECDHE-ECDSA-AES128/256-SHA256/384 (CBC)
    0xC027, 0xC028, // ECDHE-RSA-AES128/256-SHA256/384 (CBC)
    0x009E, 0x009F, // DHE-RSA-AES128/256-GCM
    0x0067, 0x006B, // DHE-RSA-AES128/256-SHA256 (CBC)
];

/// Suites OpenSSL's default list adds beyond Python's: RSA key exchange and SHA-1.
const OPENSSL_ONLY: &[u16] = &[
    0x009C, 0x009D, // AES128/256-GCM-SHA256/384 (RSA key exchange)
    0x003C, 0x003D, // AES128/256-SHA256
    0x002F, 0x0035, // AES128/256-SHA
    0xC009, 0xC00A, 0xC013, 0xC014, // ECDHE-*-AES-SHA
    0x0033, 0x0039, // DHE-RSA-AES-SHA
    0xCCAA, // DHE-RSA-CHACHA20-POLY1305
];

/// What the server did with a ClientHello offering only the extra suites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegacyAnswer {
    /// requests (Python's ssl) offers a suite the server takes: it would connect.
    RequestsConnects { suite: u16 },
    /// Only OpenSSL's default list has a suite the server takes: curl connects, requests not.
    CurlOnly { suite: u16 },
    /// The server took none of them either.
    Neither,
}

impl LegacyAnswer {
    /// The IANA name of the suite, for sentences.
    pub fn suite_name(suite: u16) -> String {
        let name = match suite {
            0xC023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
            0xC024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
            0xC027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            0xC028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
            0x009E => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
            0x009F => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
            0x0067 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
            0x006B => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
            0x009C => "TLS_RSA_WITH_AES_128_GCM_SHA256",
            0x009D => "TLS_RSA_WITH_AES_256_GCM_SHA384",
            0x003C => "TLS_RSA_WITH_AES_128_CBC_SHA256",
            0x003D => "TLS_RSA_WITH_AES_256_CBC_SHA256",
            0x002F => "TLS_RSA_WITH_AES_128_CBC_SHA",
            0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
            0xC009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
            0xC00A => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
            0xC013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            0xC014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
            0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
            0xCCAA => "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            _ => return format!("0x{suite:04X}"),
        };
        name.to_string()
    }
}

/// Ask the server (on fresh connections, each bounded by `limit`) which extra set it takes.
pub async fn probe(addr: SocketAddr, sni: Option<&str>, limit: Duration) -> Option<LegacyAnswer> {
    if let Some(suite) = offer(addr, sni, PYTHON_ONLY, limit).await? {
        return Some(LegacyAnswer::RequestsConnects { suite });
    }
    Some(match offer(addr, sni, OPENSSL_ONLY, limit).await? {
        Some(suite) => LegacyAnswer::CurlOnly { suite },
        None => LegacyAnswer::Neither,
    })
}

/// One ClientHello: Some(Some(suite)) when a ServerHello picks one, Some(None) when the server
/// refuses (an alert or a close), None when the question could not be asked (no connection,
/// no answer in time).
async fn offer(
    addr: SocketAddr,
    sni: Option<&str>,
    suites: &[u16],
    limit: Duration,
) -> Option<Option<u16>> {
    let exchange = async {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
        tcp.write_all(&client_hello(sni, suites)).await.ok()?;
        let mut head = [0u8; 5];
        if tcp.read_exact(&mut head).await.is_err() {
            return Some(None);
        }
        // A handshake record whose first message is a ServerHello: its cipher suite.
        if head[0] != 0x16 {
            return Some(None);
        }
        let mut hello = [0u8; 4 + 2 + 32 + 1];
        tcp.read_exact(&mut hello).await.ok()?;
        if hello[0] != 0x02 {
            return Some(None);
        }
        let mut session_and_suite = vec![0u8; usize::from(hello[38]) + 2];
        tcp.read_exact(&mut session_and_suite).await.ok()?;
        let n = session_and_suite.len();
        let suite = u16::from_be_bytes([session_and_suite[n - 2], session_and_suite[n - 1]]);
        // A suite we did not offer is no answer to our question (a broken server or a box in
        // between): say nothing rather than claim a client would connect.
        Some(suites.contains(&suite).then_some(suite))
    };
    tokio::time::timeout(limit, exchange).await.ok()?
}

/// A TLS 1.2 ClientHello offering `suites`, with the extensions servers expect.
fn client_hello(sni: Option<&str>, suites: &[u16]) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    // The random need not be secret: no key is ever made from this hello.
    body.extend((0..32u8).map(|i| i.wrapping_mul(37).wrapping_add(11)));
    body.push(0); // no session id
    push_u16(&mut body, (suites.len() * 2) as u16);
    for s in suites {
        push_u16(&mut body, *s);
    }
    body.extend_from_slice(&[1, 0]); // null compression only
    let ext = extensions(sni);
    push_u16(&mut body, ext.len() as u16);
    body.extend(ext);

    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend(body);
    let mut record = vec![0x16, 0x03, 0x01];
    push_u16(&mut record, handshake.len() as u16);
    record.extend(handshake);
    record
}

fn extensions(sni: Option<&str>) -> Vec<u8> {
    let mut ext = Vec::new();
    if let Some(name) = sni.filter(|n| n.len() < 256) {
        let mut list = vec![0];
        push_u16(&mut list, name.len() as u16);
        list.extend_from_slice(name.as_bytes());
        let mut data = Vec::new();
        push_u16(&mut data, list.len() as u16);
        data.extend(list);
        push_ext(&mut ext, 0x0000, &data);
    }
    // x25519, secp256r1, secp384r1, ffdhe2048
    push_ext(
        &mut ext,
        0x000a,
        &[0, 8, 0, 0x1d, 0, 0x17, 0, 0x18, 0x01, 0x00],
    );
    push_ext(&mut ext, 0x000b, &[1, 0]); // uncompressed points
    let sigs: [u16; 10] = [
        0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201,
    ];
    let mut data = Vec::new();
    push_u16(&mut data, (sigs.len() * 2) as u16);
    for s in sigs {
        push_u16(&mut data, s);
    }
    push_ext(&mut ext, 0x000d, &data);
    push_ext(&mut ext, 0xff01, &[0]); // secure renegotiation, initial
    ext
}

fn push_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn push_ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    push_u16(out, kind);
    push_u16(out, data.len() as u16);
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hello_is_well_formed() {
        let hello = client_hello(Some("localhost"), PYTHON_ONLY);
        assert_eq!(&hello[..3], &[0x16, 0x03, 0x01]);
        let record_len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
        assert_eq!(record_len, hello.len() - 5);
        assert_eq!(hello[5], 0x01);
        let body_len = u32::from_be_bytes([0, hello[6], hello[7], hello[8]]) as usize;
        assert_eq!(body_len, hello.len() - 9);
        let suites_len = usize::from(u16::from_be_bytes([hello[44], hello[45]]));
        assert_eq!(suites_len, PYTHON_ONLY.len() * 2);
    }
}
