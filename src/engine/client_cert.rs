//! Mutual TLS: the client certificate of `--cert`/`--key` (requests' `cert=(c, k)`), and what
//! the server asked for. A server that requires a certificate and gets none (or one it does not
//! accept) answers with an alert; in TLS 1.3 that alert comes after the client's handshake is
//! already done, on the first read, so the HTTP stage sees it. Both belong to the TLS layer.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use rustls::{AlertDescription, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::prelude::{FromDer, X509Name};

use super::certs::{now_unix, summarize_chain};
use super::tls::TlsFailure;

/// A loaded client certificate and its private key (checked to match).
#[derive(Clone, Debug)]
pub struct ClientCert {
    pub cert_path: PathBuf,
    /// The same path as `cert_path` when the key was read from the certificate file.
    pub key_path: PathBuf,
    /// The leaf's subject, for reports.
    pub subject: String,
    pub(super) key: Arc<CertifiedKey>,
}

impl ClientCert {
    /// Certificate chain (leaf first) and key, as read from the PEM files; the error says
    /// what is wrong with them in words.
    pub fn new(
        cert_path: PathBuf,
        key_path: PathBuf,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<ClientCert, String> {
        let subject = summarize_chain(&chain[..chain.len().min(1)], now_unix())
            .into_iter()
            .next()
            .map(|c| c.subject)
            .ok_or("contains no certificate")?;
        let provider = rustls::crypto::ring::default_provider();
        let key = CertifiedKey::from_der(chain, key, &provider).map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => {
                "the private key does not match the certificate".to_string()
            }
            other => format!("cannot use the key: {other}"),
        })?;
        Ok(ClientCert {
            cert_path,
            key_path,
            subject,
            key: Arc::new(key),
        })
    }
}

/// What happened about client authentication during a handshake.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientAuth {
    /// The server sent a CertificateRequest.
    pub requested: bool,
    /// The issuers the server said it accepts (distinguished names; often empty).
    pub acceptable_issuers: Vec<String>,
    /// The subject of the certificate netpeel presented; None when none was sent.
    pub sent: Option<String>,
}

/// Hands rustls the `--cert` identity when the server asks for one, and records that it asked.
#[derive(Debug)]
pub(super) struct RecordingResolver {
    identity: Option<(Arc<CertifiedKey>, String)>,
    seen: Arc<Mutex<ClientAuth>>,
}

impl RecordingResolver {
    pub(super) fn new(cert: Option<&ClientCert>) -> (Self, Arc<Mutex<ClientAuth>>) {
        let seen = Arc::new(Mutex::new(ClientAuth::default()));
        let identity = cert.map(|c| (c.key.clone(), c.subject.clone()));
        (
            RecordingResolver {
                identity,
                seen: seen.clone(),
            },
            seen,
        )
    }
}

impl ResolvesClientCert for RecordingResolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.requested = true;
            seen.acceptable_issuers = root_hint_subjects
                .iter()
                .take(MAX_ISSUERS_SHOWN)
                .map(|der| issuer_name(der))
                .collect();
            seen.sent = self.identity.as_ref().map(|(_, subject)| subject.clone());
        }
        self.identity.as_ref().map(|(key, _)| key.clone())
    }

    fn has_certs(&self) -> bool {
        self.identity.is_some()
    }
}

/// A server may list hundreds of CAs; a report needs a few.
const MAX_ISSUERS_SHOWN: usize = 8;

fn issuer_name(der: &[u8]) -> String {
    match X509Name::from_der(der) {
        Ok((_, name)) => name.to_string(),
        Err(_) => "(unparsable name)".to_string(),
    }
}

/// What an alert from the server means when client authentication was part of the handshake:
/// none sent and `certificate_required` (TLS 1.3) or `handshake_failure` (TLS 1.2, OpenSSL's
/// choice) → the certificate is required; one sent and an alert about certificates → it was
/// rejected. None when the alert is about something else.
pub fn alert_meaning(auth: &ClientAuth, alert: AlertDescription) -> Option<TlsFailure> {
    use AlertDescription as A;
    if !auth.requested {
        return None;
    }
    match (&auth.sent, alert) {
        (None, A::CertificateRequired | A::HandshakeFailure) => {
            Some(TlsFailure::ClientCertRequired)
        }
        (
            Some(_),
            A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
            | A::AccessDenied
            | A::DecryptError
            | A::HandshakeFailure,
        ) => Some(TlsFailure::ClientCertRejected),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_mean_required_or_rejected_only_after_a_request() {
        let asked = |sent: Option<&str>| ClientAuth {
            requested: true,
            acceptable_issuers: Vec::new(),
            sent: sent.map(str::to_string),
        };
        let none = asked(None);
        let some = asked(Some("CN=me"));
        assert_eq!(
            alert_meaning(&none, AlertDescription::CertificateRequired),
            Some(TlsFailure::ClientCertRequired)
        );
        assert_eq!(
            alert_meaning(&none, AlertDescription::HandshakeFailure),
            Some(TlsFailure::ClientCertRequired)
        );
        assert_eq!(
            alert_meaning(&some, AlertDescription::UnknownCA),
            Some(TlsFailure::ClientCertRejected)
        );
        assert_eq!(
            alert_meaning(&some, AlertDescription::CertificateExpired),
            Some(TlsFailure::ClientCertRejected)
        );
        assert_eq!(
            alert_meaning(&none, AlertDescription::NoApplicationProtocol),
            None
        );
        assert_eq!(
            alert_meaning(
                &ClientAuth::default(),
                AlertDescription::CertificateRequired
            ),
            None
        );
    }
}
