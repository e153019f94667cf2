//! Test certificates made with rcgen (ECDSA P-256, fast enough per server).
//!
//! Two CAs are made once per process and cached: the trusted "netpeel test CA"
//! (whose PEM servers hand out as `ca_pem_path`) and an untrusted one that
//! signs the `UnknownCa` leaf. Leaves are made per server so their validity
//! windows are relative to "now".

use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::CertKind;

/// SANs of every leaf that should match a loopback client.
const LOOPBACK_SANS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

pub struct Ca {
    pub pem: String,
    pub der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

/// The CA whose PEM tests trust.
pub fn test_ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| make_ca("netpeel test CA"))
}

/// The CA a client-auth server trusts for client certificates (not for servers).
pub fn test_client_ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| make_ca("netpeel test client CA"))
}

/// A CA that no test trusts (signs the `UnknownCa` leaf).
pub fn untrusted_ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| make_ca("netpeel untrusted CA"))
}

/// The intermediate the test CA signs (signs `MissingIntermediate`, `ReversedChain` and
/// `ExpiredCrossSign` leaves).
pub fn test_intermediate() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| make_ca_signed("netpeel test intermediate", Some(&test_ca().issuer)))
}

/// The intermediate under [`test_intermediate`] (signs the `ReversedChain` leaf).
pub fn test_sub_intermediate() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| {
        make_ca_signed(
            "netpeel test sub-intermediate",
            Some(&test_intermediate().issuer),
        )
    })
}

/// A root named like a TLS-intercepting proxy's (signs the `Interception` leaf).
pub fn interception_ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| make_ca("Zscaler Root CA"))
}

/// A root whose extendedKeyUsage is clientAuth only (signs the `UnderClientOnlyCa` leaf):
/// webpki takes an anchor's name and key only, OpenSSL refuses the chain ("unsuitable
/// certificate purpose").
pub fn client_only_ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| {
        let mut p = ca_params("netpeel client-only CA");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().expect("CA key");
        let cert = p.self_signed(&key).expect("sign CA");
        Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(p, key),
        }
    })
}

/// The test CA's name and key issued by "netpeel old root", expired 30 days ago: an expired
/// cross-sign, as Let's Encrypt's ISRG Root X1 by DST Root CA X3 was in 2021.
pub fn expired_cross_sign() -> &'static CertificateDer<'static> {
    static CERT: OnceLock<CertificateDer<'static>> = OnceLock::new();
    CERT.get_or_init(|| {
        let old_root = make_ca("netpeel old root");
        let mut p = ca_params("netpeel test CA");
        let now = OffsetDateTime::now_utc();
        (p.not_before, p.not_after) = (now - Duration::days(400), now - Duration::days(30));
        p.signed_by(test_ca().issuer.key(), &old_root.issuer)
            .expect("cross-sign")
            .der()
            .clone()
    })
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    p.distinguished_name = dn(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::days(365);
    p.not_after = now + Duration::days(3650);
    p
}

fn make_ca(cn: &str) -> Ca {
    make_ca_signed(cn, None)
}

/// A CA certificate, self-signed or signed by `parent`.
fn make_ca_signed(cn: &str, parent: Option<&Issuer<'static, KeyPair>>) -> Ca {
    let mut p = ca_params(cn);
    let key = KeyPair::generate().expect("CA key");
    let cert = match parent {
        Some(parent) => {
            p.use_authority_key_identifier_extension = true;
            p.signed_by(&key, parent)
        }
        None => p.self_signed(&key),
    }
    .expect("sign CA");
    Ca {
        pem: cert.pem(),
        der: cert.der().clone(),
        issuer: Issuer::new(p, key),
    }
}

fn dn(cn: &str) -> rcgen::DistinguishedName {
    let mut d = rcgen::DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    d.push(DnType::OrganizationName, "netpeel tests");
    d
}

/// A server certificate and its key.
pub struct Leaf {
    pub der: CertificateDer<'static>,
    pub pem: String,
    pub key: PrivateKeyDer<'static>,
}

/// An end-entity certificate's parameters (CA:FALSE, digital signature, this purpose, an
/// authority key identifier), valid -1 .. +30 days.
fn end_entity(sans: Vec<String>, cn: &str, purpose: ExtendedKeyUsagePurpose) -> CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut p = CertificateParams::new(sans).expect("end-entity params");
    p.distinguished_name = dn(cn);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![purpose];
    p.use_authority_key_identifier_extension = true;
    (p.not_before, p.not_after) = (
        now - Duration::days(1),
        now + Duration::days(30) + Duration::hours(12),
    );
    p
}

/// Makes the server certificate for `kind` (see [`CertKind`] for each shape).
/// A common name that would clear the screen, retitle the terminal, overwrite the line and
/// reverse the text after it, if printed raw.
pub const HOSTILE_CN: &str = "localhost\u{1b}[2J\u{1b}]0;pwned\u{7}\rVERDICT: ok\u{202e}";

pub fn leaf(kind: CertKind) -> Leaf {
    leaf_with(kind, None)
}

/// The DER of an Authority Information Access extension with one caIssuers URI.
fn aia_extension(url: &str) -> rcgen::CustomExtension {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else if len < 0x100 {
            out.extend([0x81, len as u8]);
        } else {
            out.extend([0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(content);
        out
    }
    // id-ad-caIssuers 1.3.6.1.5.5.7.48.2
    let mut access = vec![0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    access.extend(tlv(0x86, url.as_bytes()));
    let content = tlv(0x30, &tlv(0x30, &access));
    rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], content)
}

/// [`leaf`] with an AIA caIssuers URL, when given.
pub fn leaf_with(kind: CertKind, aia_url: Option<&str>) -> Leaf {
    let now = OffsetDateTime::now_utc();
    let sans: &[&str] = match kind {
        CertKind::WrongName => &["wrong.test", "other.test"],
        CertKind::CaAsEndEntity
        | CertKind::CaAsEndEntityExpired
        | CertKind::CaAsEndEntitySigned => &["localhost", "127.0.0.1"],
        CertKind::CaAsEndEntityWrongName => &["wrong.test"],
        CertKind::CnOnly => &[],
        _ => &LOOPBACK_SANS,
    };
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let cn = match kind {
        CertKind::WrongName => "wrong.test",
        CertKind::CaAsEndEntity
        | CertKind::CaAsEndEntityWrongName
        | CertKind::CaAsEndEntityExpired
        | CertKind::CaAsEndEntitySigned => "netpeel CA used as server cert",
        CertKind::HostileSubject => HOSTILE_CN,
        _ => "localhost",
    };
    let mut p = end_entity(sans, cn, ExtendedKeyUsagePurpose::ServerAuth);
    if let Some(url) = aia_url {
        p.custom_extensions.push(aia_extension(url));
    }
    (p.not_before, p.not_after) = match kind {
        CertKind::Expired | CertKind::CaAsEndEntityExpired => {
            (now - Duration::days(30), now - Duration::days(3))
        }
        CertKind::NotYetValid => (now + Duration::days(5), now + Duration::days(35)),
        // Half a day past 30: "30 days left" for the whole run, whatever second it starts
        // (snapshots show it; exactly 30 days read 29 a second later).
        _ => (
            now - Duration::days(1),
            now + Duration::days(30) + Duration::hours(12),
        ),
    };
    let key = KeyPair::generate().expect("leaf key");
    let cert = match kind {
        CertKind::SelfSigned => {
            p.use_authority_key_identifier_extension = false;
            p.self_signed(&key)
        }
        CertKind::CaAsEndEntity
        | CertKind::CaAsEndEntityWrongName
        | CertKind::CaAsEndEntityExpired => {
            p.use_authority_key_identifier_extension = false;
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages
                .extend([KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign]);
            p.self_signed(&key)
        }
        CertKind::CaAsEndEntitySigned => {
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages.push(KeyUsagePurpose::KeyCertSign);
            p.signed_by(&key, &test_ca().issuer)
        }
        CertKind::UnknownCa => p.signed_by(&key, &untrusted_ca().issuer),
        CertKind::MissingIntermediate | CertKind::ExpiredCrossSign => {
            p.signed_by(&key, &test_intermediate().issuer)
        }
        CertKind::ReversedChain => p.signed_by(&key, &test_sub_intermediate().issuer),
        CertKind::Interception => p.signed_by(&key, &interception_ca().issuer),
        CertKind::UnderClientOnlyCa => p.signed_by(&key, &client_only_ca().issuer),
        _ => p.signed_by(&key, &test_ca().issuer),
    }
    .expect("sign leaf");
    Leaf {
        der: cert.der().clone(),
        pem: cert.pem(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// The client certificates tests present to a server that requires one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientCertKind {
    /// Signed by the test client CA, valid -1 .. +30 days.
    Valid,
    /// Signed by the test client CA, valid -30 .. -3 days.
    Expired,
    /// Valid, but signed by a CA the server does not trust for clients.
    UnknownCa,
}

/// A client certificate and its key, both PEM (what `--cert`/`--key` and requests' `cert=` read).
pub struct ClientIdentity {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Makes a client certificate (CN "netpeel test client") of the given kind.
pub fn client_identity(kind: ClientCertKind) -> ClientIdentity {
    let mut p = end_entity(
        Vec::new(),
        "netpeel test client",
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    if kind == ClientCertKind::Expired {
        let now = OffsetDateTime::now_utc();
        (p.not_before, p.not_after) = (now - Duration::days(30), now - Duration::days(3));
    }
    let issuer = match kind {
        ClientCertKind::UnknownCa => &untrusted_ca().issuer,
        _ => &test_client_ca().issuer,
    };
    let key = KeyPair::generate().expect("client key");
    let cert = p.signed_by(&key, issuer).expect("sign client cert");
    ClientIdentity {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}
