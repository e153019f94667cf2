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

fn make_ca(cn: &str) -> Ca {
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
    let key = KeyPair::generate().expect("CA key");
    let cert = p.self_signed(&key).expect("self-sign CA");
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
    (p.not_before, p.not_after) = (now - Duration::days(1), now + Duration::days(30));
    p
}

/// Makes the server certificate for `kind` (see [`CertKind`] for each shape).
/// A common name that would clear the screen, retitle the terminal, overwrite the line and
/// reverse the text after it, if printed raw.
pub const HOSTILE_CN: &str = "localhost\u{1b}[2J\u{1b}]0;pwned\u{7}\rVERDICT: ok\u{202e}";

pub fn leaf(kind: CertKind) -> Leaf {
    let now = OffsetDateTime::now_utc();
    let sans: &[&str] = match kind {
        CertKind::WrongName => &["wrong.test", "other.test"],
        CertKind::CaAsEndEntity => &["localhost", "127.0.0.1"],
        CertKind::CnOnly => &[],
        _ => &LOOPBACK_SANS,
    };
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let cn = match kind {
        CertKind::WrongName => "wrong.test",
        CertKind::CaAsEndEntity => "netpeel CA used as server cert",
        CertKind::HostileSubject => HOSTILE_CN,
        _ => "localhost",
    };
    let mut p = end_entity(sans, cn, ExtendedKeyUsagePurpose::ServerAuth);
    (p.not_before, p.not_after) = match kind {
        CertKind::Expired => (now - Duration::days(30), now - Duration::days(3)),
        CertKind::NotYetValid => (now + Duration::days(5), now + Duration::days(35)),
        _ => (now - Duration::days(1), now + Duration::days(30)),
    };
    let key = KeyPair::generate().expect("leaf key");
    let cert = match kind {
        CertKind::SelfSigned => {
            p.use_authority_key_identifier_extension = false;
            p.self_signed(&key)
        }
        CertKind::CaAsEndEntity => {
            p.use_authority_key_identifier_extension = false;
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages
                .extend([KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign]);
            p.self_signed(&key)
        }
        CertKind::UnknownCa => p.signed_by(&key, &untrusted_ca().issuer),
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
