//! Certificate facts a person needs when TLS fails: who it is for, who signed it, when it is
//! valid. Parsed with x509-parser from the chain the server presented, verified or not.

use rustls_pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses from subjectAltName.
    pub names: Vec<String>,
    /// subjectAltName has at least one DNS name (without one OpenSSL matches the CN instead).
    pub has_dns_name: bool,
    /// The subject's CN, if it has one.
    pub common_name: Option<String>,
    pub not_before: String,
    pub not_after: String,
    /// Whole days until not_after (negative once expired).
    pub days_left: i64,
    pub serial: String,
    pub is_ca: bool,
    /// subject == issuer and the signature verifies with its own key.
    pub self_signed: bool,
}

pub fn summarize_chain(chain: &[CertificateDer<'_>], now_unix: i64) -> Vec<CertSummary> {
    chain
        .iter()
        .map(|der| summarize(der, now_unix).unwrap_or_else(unparsable))
        .collect()
}

fn unparsable(reason: String) -> CertSummary {
    CertSummary {
        subject: format!("(unparsable certificate: {reason})"),
        issuer: String::new(),
        names: Vec::new(),
        has_dns_name: false,
        common_name: None,
        not_before: String::new(),
        not_after: String::new(),
        days_left: 0,
        serial: String::new(),
        is_ca: false,
        self_signed: false,
    }
}

fn summarize(der: &CertificateDer<'_>, now_unix: i64) -> Result<CertSummary, String> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).map_err(|e| e.to_string())?;
    let mut names = Vec::new();
    let mut has_dns_name = false;
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => {
                    has_dns_name = true;
                    names.push((*d).to_string());
                }
                GeneralName::IPAddress(bytes) => names.push(ip_text(bytes)),
                _ => {}
            }
        }
    }
    let validity = cert.validity();
    let not_after = validity.not_after.timestamp();
    let self_signed = cert.subject() == cert.issuer() && cert.verify_signature(None).is_ok();
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    Ok(CertSummary {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        names,
        has_dns_name,
        common_name,
        not_before: rfc3339(validity.not_before.timestamp()),
        not_after: rfc3339(not_after),
        // Truncates toward zero: expired 3.2 days ago reads "3 days ago".
        days_left: (not_after - now_unix) / 86_400,
        serial: cert.raw_serial_as_string(),
        is_ca: cert.is_ca(),
        self_signed,
    })
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(b).to_string()
        }
        _ => format!("IP {bytes:02x?}"),
    }
}

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{unix}"))
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
