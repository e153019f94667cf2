//! An HTTP proxy on 127.0.0.1 that works, refuses, stalls or drops tunnels.
//!
//! One request per client connection: CONNECT tunnels are spliced until
//! either side closes; absolute-form requests are forwarded with
//! `Connection: close` and the answer relayed until the target closes. The
//! proxy never uses the system resolver and never connects off loopback:
//! targets come from a fixed map or are IP literals, and anything outside
//! 127.0.0.0/8 and ::1 gets a 403.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use crate::tls::{CertKind, ClientAuth};
use crate::{MAX_STALL, READ_BOUND};

/// The first byte of a TLS record carrying a handshake message (a ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

use crate::http::{Log, close, hold, read_head_and_rest, response_head, write_all};
use crate::relay::{self, TargetError};
use crate::task::{TaskGuard, accept_loop};

#[derive(Clone, Debug)]
pub enum ProxyBehavior {
    /// A working proxy. `CONNECT host:port` gets `HTTP/1.1 200 Connection
    /// established`, then bytes are spliced both ways (bytes the client sent
    /// right behind the CONNECT head are passed on). Absolute-form requests
    /// (`GET http://host:port/path HTTP/1.1`) are sent to the target in
    /// origin-form, `Proxy-Authorization`, `Proxy-Connection`, `Connection`
    /// and `Keep-Alive` dropped and `Connection: close` added; the answer is
    /// relayed as is. Targets: see [`ProxyServer::start`]. An unknown name or
    /// a refused connect gets 502, a connect timeout (3 s) 504, a non-loopback
    /// target 403, a malformed request 400.
    ///
    /// With `require_auth: Some((user, pass))`, a request without
    /// `Proxy-Authorization: Basic base64(user:pass)` gets 407 with
    /// `Proxy-Authenticate: Basic realm="netpeel-test"` and `Connection: close`.
    Forward {
        require_auth: Option<(String, String)>,
    },
    /// Answer every CONNECT or request with `status` and `body`
    /// (text/plain, `Content-Length`, `Connection: close`), then close.
    Refuse { status: u16, body: String },
    /// Read the request head, then never answer; close after
    /// [`crate::MAX_STALL`] or when the client goes away.
    Stall,
    /// Answer 200 to CONNECT, then close the tunnel at once (FIN), without
    /// connecting anywhere. Other requests: close without an answer.
    CloseTunnel,
}

pub struct ProxyServer {
    pub addr: SocketAddr,
    log: Arc<Log>,
    /// An https:// proxy: TLS in front of a plain one (kept here, alive).
    tls_front_of: Option<Box<ProxyServer>>,
    _tasks: TaskGuard,
}

impl ProxyServer {
    /// Listens on 127.0.0.1:<random port>. Targets are found in `resolve`
    /// (keys compared ignoring ASCII case: "host:port" first, then "host";
    /// a value with port 0 keeps the port the client asked for), else the
    /// host must be an IP literal. The system resolver is never used.
    pub async fn start(b: ProxyBehavior, resolve: HashMap<String, SocketAddr>) -> ProxyServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("ProxyServer: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("ProxyServer: local_addr");
        let log = Arc::new(Log::default());
        let shared = Arc::new((b, resolve));
        let l = log.clone();
        let mut tasks = TaskGuard::new();
        tasks.spawn(accept_loop(listener, move |tcp| {
            let (shared, l) = (shared.clone(), l.clone());
            async move { serve(tcp, &shared.0, &shared.1, &l).await }
        }));
        ProxyServer {
            addr,
            log,
            tls_front_of: None,
            _tasks: tasks,
        }
    }

    /// An https:// proxy: TLS (a `Valid` certificate from the test CA, for localhost and
    /// 127.0.0.1) in front of a [`ProxyServer::start`] proxy with this behaviour; the
    /// decrypted bytes go to it unchanged.
    pub async fn start_tls(b: ProxyBehavior, resolve: HashMap<String, SocketAddr>) -> ProxyServer {
        Self::start_tls_with(CertKind::Valid, b, resolve).await
    }

    /// [`ProxyServer::start_tls`] presenting a `kind` certificate (e.g. one from an unknown CA).
    pub async fn start_tls_with(
        kind: CertKind,
        b: ProxyBehavior,
        resolve: HashMap<String, SocketAddr>,
    ) -> ProxyServer {
        let inner = ProxyServer::start(b, resolve).await;
        let (cfg, _leaf) = crate::tls::server_config(kind, &[], ClientAuth::Off, false);
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("ProxyServer: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("ProxyServer: local_addr");
        let backend = inner.addr;
        let mut tasks = TaskGuard::new();
        tasks.spawn(accept_loop(listener, move |tcp| {
            let acceptor = acceptor.clone();
            async move {
                let Ok(Ok(mut tls)) = timeout(READ_BOUND, acceptor.accept(tcp)).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = timeout(MAX_STALL, copy_bidirectional(&mut tls, &mut plain)).await;
            }
        }));
        ProxyServer {
            addr,
            log: inner.log.clone(),
            tls_front_of: Some(Box::new(inner)),
            _tasks: tasks,
        }
    }

    /// Raw request heads received (CONNECT lines, Proxy-Authorization ...),
    /// oldest first; tunnelled bytes are not included.
    pub fn requests(&self) -> Vec<String> {
        self.log.requests()
    }
    /// Client connections accepted.
    pub fn connections(&self) -> usize {
        self.log.connections()
    }
    /// `http://127.0.0.1:<port>` (no trailing slash, as proxy URLs are written); `https://`
    /// for a [`ProxyServer::start_tls`] one.
    pub fn url(&self) -> String {
        let scheme = if self.tls_front_of.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }
}

/// `Basic base64(user:pass)`: the `Proxy-Authorization` value a client sends.
pub fn basic_auth(user: &str, pass: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{pass}").as_bytes()))
}

/// Standard base64 with padding (RFC 4648 §4); small enough to not need a crate.
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A parsed request head.
struct Head {
    method: String,
    target: String,
    version: String,
    headers: Vec<(String, String)>,
}

fn parse_head(raw: &[u8]) -> Option<Head> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target, version) = (first.next()?, first.next()?, first.next()?);
    if first.next().is_some() || !version.starts_with("HTTP/") {
        return None;
    }
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Some(Head {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
    })
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits `[user@]host[:port]` (IPv6 in brackets); `default` when no port.
fn split_authority(auth: &str, default: Option<u16>) -> Option<(String, u16)> {
    let auth = auth.rsplit('@').next()?;
    let (host, port) = if let Some(rest) = auth.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        (h, after.strip_prefix(':'))
    } else {
        match auth.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (auth, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default?,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
}

async fn serve(
    mut client: TcpStream,
    b: &ProxyBehavior,
    resolve: &HashMap<String, SocketAddr>,
    log: &Log,
) {
    log.record_connection();
    // A TLS ClientHello (an https:// proxy URL for this plain proxy): answer 400 at once, as
    // squid does, so the client's TLS library reads HTTP where a ServerHello should be.
    let mut first = [0u8; 1];
    if matches!(
        timeout(READ_BOUND, client.peek(&mut first)).await,
        Ok(Ok(1))
    ) && first[0] == TLS_HANDSHAKE_RECORD
    {
        return answer(&mut client, 400, &[], "this is a plain HTTP proxy\n").await;
    }
    let Some((raw, rest)) = read_head_and_rest(&mut client).await else {
        close(&mut client).await;
        return;
    };
    log.record_request(&raw);
    let Some(head) = parse_head(&raw) else {
        return answer(&mut client, 400, &[], "malformed request head\n").await;
    };
    let is_connect = head.method.eq_ignore_ascii_case("CONNECT");
    match b {
        ProxyBehavior::Refuse { status, body } => answer(&mut client, *status, &[], body).await,
        ProxyBehavior::Stall => {
            hold(&mut client).await;
            close(&mut client).await;
        }
        ProxyBehavior::CloseTunnel => {
            if is_connect {
                write_all(&mut client, b"HTTP/1.1 200 Connection established\r\n\r\n").await;
            }
            close(&mut client).await;
        }
        ProxyBehavior::Forward { require_auth } => {
            if let Some((user, pass)) = require_auth {
                let want = basic_auth(user, pass);
                let ok = head
                    .header("Proxy-Authorization")
                    .and_then(|v| v.split_once(' '))
                    .is_some_and(|(scheme, token)| {
                        scheme.eq_ignore_ascii_case("Basic") && token.trim() == &want[6..]
                    });
                if !ok {
                    let h = [(
                        "Proxy-Authenticate".to_string(),
                        "Basic realm=\"netpeel-test\"".to_string(),
                    )];
                    return answer(&mut client, 407, &h, "proxy authentication required\n").await;
                }
            }
            if is_connect {
                tunnel(client, &head, &rest, resolve).await
            } else {
                forward(client, &head, &rest, resolve).await
            }
        }
    }
}

async fn tunnel(
    mut client: TcpStream,
    head: &Head,
    rest: &[u8],
    resolve: &HashMap<String, SocketAddr>,
) {
    let Some((host, port)) = split_authority(&head.target, None) else {
        return answer(&mut client, 400, &[], "CONNECT needs host:port\n").await;
    };
    let Some(mut target) = reach(&mut client, &host, port, resolve).await else {
        return;
    };
    if write_all(&mut client, b"HTTP/1.1 200 Connection established\r\n\r\n").await {
        relay::splice(&mut client, &mut target, rest).await;
    }
}

async fn forward(
    mut client: TcpStream,
    head: &Head,
    rest: &[u8],
    resolve: &HashMap<String, SocketAddr>,
) {
    let Some(after) = head.target.strip_prefix("http://") else {
        let msg = "this proxy forwards only absolute-form http:// requests (and CONNECT)\n";
        return answer(&mut client, 400, &[], msg).await;
    };
    let (authority, path) = match after.find(['/', '?']) {
        Some(i) if after.as_bytes()[i] == b'/' => (&after[..i], after[i..].to_string()),
        Some(i) => (&after[..i], format!("/{}", &after[i..])),
        None => (after, "/".to_string()),
    };
    let Some((host, port)) = split_authority(authority, Some(80)) else {
        return answer(&mut client, 400, &[], "bad authority\n").await;
    };
    let Some(mut target) = reach(&mut client, &host, port, resolve).await else {
        return;
    };
    let mut out = format!("{} {path} {}\r\n", head.method, head.version);
    if head.header("Host").is_none() {
        out.push_str(&format!("Host: {authority}\r\n"));
    }
    const HOP: [&str; 4] = [
        "proxy-authorization",
        "proxy-connection",
        "connection",
        "keep-alive",
    ];
    for (k, v) in &head.headers {
        if !HOP.iter().any(|h| k.eq_ignore_ascii_case(h)) {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut first = out.into_bytes();
    first.extend_from_slice(rest);
    relay::splice(&mut client, &mut target, &first).await;
}

/// Resolves and connects, answering the client with the matching error
/// status (and returning `None`) on failure.
async fn reach(
    client: &mut TcpStream,
    host: &str,
    port: u16,
    resolve: &HashMap<String, SocketAddr>,
) -> Option<TcpStream> {
    let r = match relay::resolve(host, port, resolve) {
        Ok(addr) => relay::connect(addr).await,
        Err(e) => Err(e),
    };
    let (code, msg) = match r {
        Ok(s) => return Some(s),
        Err(TargetError::UnknownHost) => (502, format!("unknown host {host}\n")),
        Err(TargetError::NotLoopback(a)) => (403, format!("{a} is not loopback: refused\n")),
        Err(TargetError::Refused) => (502, format!("{host}:{port}: connection refused\n")),
        Err(TargetError::TimedOut) => (504, format!("{host}:{port}: connect timed out\n")),
        Err(TargetError::Other(e)) => (502, format!("{host}:{port}: {e}\n")),
    };
    answer(client, code, &[], &msg).await;
    None
}

/// Sends a complete text/plain answer (`Connection: close`) and closes.
async fn answer(s: &mut TcpStream, code: u16, extra: &[(String, String)], body: &str) {
    let mut headers = vec![("Content-Type".to_string(), "text/plain".to_string())];
    headers.extend_from_slice(extra);
    let mut out = response_head(code, &headers, body.len());
    out.extend_from_slice(body.as_bytes());
    if write_all(s, &out).await {
        close(s).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o, "{i:?}");
        }
        assert_eq!(basic_auth("user", "pass"), "Basic dXNlcjpwYXNz");
    }

    #[test]
    fn authorities() {
        let p = |s, d| split_authority(s, d);
        assert_eq!(p("a.test:443", None), Some(("a.test".into(), 443)));
        assert_eq!(p("[::1]:8080", None), Some(("::1".into(), 8080)));
        assert_eq!(p("u:p@a.test", Some(80)), Some(("a.test".into(), 80)));
        assert_eq!(p("a.test", None), None);
        assert_eq!(p(":80", None), None);
        assert_eq!(p("a.test:x", None), None);
    }
}
