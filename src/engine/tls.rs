//! Stage 4 (https only): the TLS handshake over the connected socket, with SNI and ALPN, and the
//! certificate chain kept whether or not it verifies.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::{CertificateError, ClientConfig, RootCertStore};
use rustls_pki_types::ServerName;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::certs::{CertSummary, now_unix, summarize_chain};
use super::client_cert::{self, ClientAuth, RecordingResolver};
use super::clock::{Clock, TimeoutSetting};
use super::conn::Conn;
use super::settings::{CaSource, ProbeSettings};
use super::stage::{StageDetail, StageError};
use super::target::TargetHost;
use super::trust::{self, StoreProblem, TrustReport};
use super::verifier::{Recorded, RecordingVerifier};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsFailure {
    CertExpired,
    CertNotYetValid,
    CertNameMismatch,
    CertSelfSigned,
    CertUnknownIssuer,
    CertCaAsEndEntity,
    CertInvalid,
    NotTls,
    /// A handshake message (in practice the certificate chain) past rustls's 64 KiB limit.
    MessageTooLarge,
    HandshakeTimeout,
    ClosedDuringHandshake,
    ResetDuringHandshake,
    AlertReceived,
    /// The server asked for a client certificate, got none, and refused (`certificate_required`,
    /// or `handshake_failure` in TLS 1.2).
    ClientCertRequired,
    /// The server refused the client certificate netpeel presented (`unknown_ca`,
    /// `certificate_expired`, `bad_certificate`, …).
    ClientCertRejected,
    /// requests' CA bundle variable names a file that does not exist.
    CaBundleMissing,
    /// requests' CA bundle variable names a file without a certificate.
    CaBundleEmpty,
    Other,
}

impl TlsFailure {
    pub fn is_certificate(self) -> bool {
        matches!(
            self,
            TlsFailure::CertExpired
                | TlsFailure::CertNotYetValid
                | TlsFailure::CertNameMismatch
                | TlsFailure::CertSelfSigned
                | TlsFailure::CertUnknownIssuer
                | TlsFailure::CertCaAsEndEntity
                | TlsFailure::CertInvalid
        )
    }
}

/// What verification found, kept also when `--insecure` let the handshake go on.
#[derive(Clone, Debug)]
pub struct Verification {
    pub ok: bool,
    pub failure: Option<TlsFailure>,
    pub message: Option<String>,
}

#[derive(Clone, Debug)]
pub struct TlsInfo {
    pub sni: Option<String>,
    pub alpn_offered: Vec<String>,
    pub alpn: Option<String>,
    pub version: String,
    pub cipher: String,
    pub key_exchange: Option<String>,
    pub chain: Vec<CertSummary>,
    pub verification: Verification,
    pub insecure: bool,
    pub ca_source: CaSource,
    /// Whether the server asked for a client certificate and which one was sent.
    pub client_auth: ClientAuth,
    /// The chain checked against each client's store.
    pub trust: TrustReport,
}

impl TlsError {
    /// The server refused the ClientHello itself (a handshake_failure, insufficient_security
    /// or protocol_version alert before any certificate): the suites or versions offered.
    pub fn refused_hello(&self) -> bool {
        self.failure == TlsFailure::AlertReceived
            && self.chain.is_empty()
            && matches!(
                self.alert.as_deref(),
                Some("handshake_failure" | "insufficient_security" | "protocol_version")
            )
    }
}

#[derive(Clone, Debug)]
pub struct TlsError {
    pub failure: TlsFailure,
    /// The ALPN protocols offered in the ClientHello.
    pub alpn_offered: Vec<String>,
    pub addr: SocketAddr,
    pub server_name: String,
    pub sni: Option<String>,
    pub chain: Vec<CertSummary>,
    pub elapsed: Duration,
    pub timeout: Option<(Duration, TimeoutSetting)>,
    /// The TLS alert's name when the server sent one.
    pub alert: Option<String>,
    pub message: String,
    pub ca_source: CaSource,
    /// Whether the server asked for a client certificate and which one was sent.
    pub client_auth: ClientAuth,
    /// After a handshake_failure before any certificate: which other client's suites the
    /// server takes (see `legacy_tls`).
    pub legacy: Option<super::legacy_tls::LegacyAnswer>,
    /// The chain checked against each client's store (empty when no chain arrived).
    pub trust: TrustReport,
}

impl StageDetail for TlsInfo {
    fn summary(&self) -> String {
        format!("{} {}", self.version, self.cipher)
    }
}

impl StageError for TlsError {
    fn message(&self) -> &str {
        &self.message
    }

    fn timeout(&self) -> Option<(Duration, TimeoutSetting)> {
        self.timeout
    }
}

/// ALPN: HTTP/1.1 only, as requests offers; with --http2 also h2, preferred, as curl offers.
const ALPN: &[&[u8]] = &[b"http/1.1"];
const ALPN_H2: &[&[u8]] = &[b"h2", b"http/1.1"];

/// The offered protocols as text, for reports.
fn offered(settings: &ProbeSettings) -> Vec<String> {
    alpn(settings)
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

fn alpn(settings: &ProbeSettings) -> &'static [&'static [u8]] {
    if settings.http2 { ALPN_H2 } else { ALPN }
}

pub async fn handshake(
    tcp: Conn,
    host: &TargetHost,
    settings: &ProbeSettings,
    clock: &Clock,
) -> Result<(TlsStream<Conn>, TlsInfo), TlsError> {
    let started = Instant::now();
    let addr = tcp
        .peer_addr()
        .unwrap_or_else(|_| SocketAddr::new([0, 0, 0, 0].into(), 0));
    let (server_name, sni) = match host {
        TargetHost::Name(n) => (n.clone(), Some(n.clone())),
        TargetHost::Ip(ip) => (ip.to_string(), None), // no SNI for IP addresses (RFC 6066)
    };
    let fail = |failure, message: String, chain: Vec<CertSummary>| TlsError {
        failure,
        alpn_offered: offered(settings),
        addr,
        server_name: server_name.clone(),
        sni: sni.clone(),
        chain,
        elapsed: started.elapsed(),
        timeout: None,
        alert: None,
        message,
        ca_source: settings.ca.source.clone(),
        client_auth: ClientAuth::default(),
        legacy: None,
        trust: TrustReport::default(),
    };

    let (config, recorded, client_auth) = match client_config(settings) {
        Ok(c) => c,
        Err(msg) => return Err(fail(TlsFailure::Other, msg, Vec::new())),
    };
    let name = match host {
        TargetHost::Name(n) => ServerName::try_from(n.clone()).map_err(|e| {
            fail(
                TlsFailure::Other,
                format!("'{n}' is not a valid TLS server name: {e}"),
                Vec::new(),
            )
        })?,
        TargetHost::Ip(ip) => ServerName::IpAddress((*ip).into()),
    };
    let verify_name = name.clone();
    let connector = TlsConnector::from(Arc::new(config));
    // requests bounds the handshake with its *connect* timeout (the socket keeps it until the
    // request is sent), so we do the same.
    let limit = clock.limit(settings.connect_timeout, TimeoutSetting::Connect);
    let handshake = connector.connect(name, tcp).into_fallible();
    let outcome = match tokio::time::timeout(limit.duration, handshake).await {
        Ok(Err((io_err, mut io))) => Ok(Err(with_unread_alert(io_err, &mut io).await)),
        Ok(Ok(stream)) => Ok(Ok(stream)),
        Err(elapsed) => Err(elapsed),
    };
    let rec = recorded.lock().map(|r| r.clone()).unwrap_or_default();
    let client_auth = client_auth.lock().map(|c| c.clone()).unwrap_or_default();
    let chain = summarize_chain(&rec.chain, now_unix());
    let trust = trust::assess(&settings.trust_stores, &rec.chain, &verify_name);
    let fail = |failure, message, chain| TlsError {
        client_auth: client_auth.clone(),
        trust: trust.clone(),
        ..fail(failure, message, chain)
    };
    match outcome {
        Err(_) => {
            let mut e = fail(
                TlsFailure::HandshakeTimeout,
                format!("no handshake {}", limit.describe()),
                chain,
            );
            e.timeout = Some((limit.reported, limit.setting));
            Err(e)
        }
        Ok(Err(io_err)) => Err(classify_handshake_error(&io_err, &rec, chain, fail)),
        // requests cannot use its CA bundle: the handshake ran only to record the chain.
        Ok(Ok(_)) if settings.ca_problem.is_some() => {
            let (failure, message) = ca_problem_failure(settings);
            Err(fail(failure, message, chain))
        }
        Ok(Ok(stream)) => {
            let mut info = finished(&stream, &rec, chain, client_auth, sni, settings);
            info.trust = trust;
            Ok((stream, info))
        }
    }
}

/// A handshake that failed on a write (broken pipe, reset: the server closed while our last
/// flight was still going out) may have left the server's alert unread in the socket. In
/// TLS 1.2 a refusal of the client certificate comes before the server's Finished, so the alert
/// is a plaintext record: read it, and fail with it as rustls would have.
async fn with_unread_alert(io_err: io::Error, io: &mut Conn) -> io::Error {
    use tokio::io::AsyncReadExt;
    const ALERT_RECORD: usize = 7;
    if io_err
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
    {
        return io_err;
    }
    let mut record = [0u8; ALERT_RECORD];
    let mut filled = 0;
    let read_all = async {
        // Bounded by the record's size and by the timeout around it.
        while filled < ALERT_RECORD {
            match io.read(&mut record[filled..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => filled += n,
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(200), read_all).await;
    // content type alert (21), TLS 1.x, length 2, level, description
    match record {
        [21, 3, _, 0, 2, _, description] if filled == ALERT_RECORD => io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::from(description)),
        ),
        _ => io_err,
    }
}

/// The TLS stage's failure when requests' CA bundle variable is unusable.
fn ca_problem_failure(settings: &ProbeSettings) -> (TlsFailure, String) {
    match &settings.ca_problem {
        Some(p) => {
            let failure = match p.problem {
                StoreProblem::Missing => TlsFailure::CaBundleMissing,
                StoreProblem::Empty | StoreProblem::Directory => TlsFailure::CaBundleEmpty,
            };
            (
                failure,
                format!("{}={}: {}", p.variable, p.path.display(), p.detail),
            )
        }
        None => (TlsFailure::Other, "no CA bundle problem".into()),
    }
}

/// What a finished handshake negotiated, with what verification found.
fn finished(
    stream: &TlsStream<Conn>,
    rec: &Recorded,
    chain: Vec<CertSummary>,
    client_auth: ClientAuth,
    sni: Option<String>,
    settings: &ProbeSettings,
) -> TlsInfo {
    let (_, conn) = stream.get_ref();
    let verification = match &rec.result {
        Some(Ok(())) | None => Verification {
            ok: rec.result.is_some(),
            failure: None,
            message: None,
        },
        Some(Err(e)) => Verification {
            ok: false,
            failure: Some(classify_rustls(e, rec)),
            message: Some(e.to_string()),
        },
    };
    TlsInfo {
        sni,
        alpn_offered: offered(settings),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        version: conn
            .protocol_version()
            .map(version_name)
            .unwrap_or_else(|| "unknown".into()),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_else(|| "unknown".into()),
        key_exchange: conn
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name())),
        chain,
        verification,
        insecure: settings.insecure,
        ca_source: settings.ca.source.clone(),
        client_auth,
        trust: TrustReport::default(),
    }
}

fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}

type Recorder = Arc<std::sync::Mutex<Recorded>>;
type ClientAuthRecorder = Arc<std::sync::Mutex<ClientAuth>>;

fn client_config(
    settings: &ProbeSettings,
) -> Result<(ClientConfig, Recorder, ClientAuthRecorder), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // The certificates as loaded, too: a self-signed CA certificate found among them is its own
    // anchor (see `ca_leaf`); webpki-roots has no server's own certificate.
    let (roots, anchors): (_, Arc<[_]>) = match &settings.ca.source {
        CaSource::BuiltIn => (
            RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
            Arc::new([]),
        ),
        CaSource::Bundle { .. } => (
            trust::roots_from(&settings.ca.certs),
            settings.ca.certs.clone().into(),
        ),
    };
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("cannot use the CA bundle: {e}"))?;
    // With an unusable CA bundle the handshake only records the chain for the trust matrix.
    let record_only = settings.insecure || settings.ca_problem.is_some();
    let (verifier, recorded) = RecordingVerifier::new(inner, anchors, record_only);
    // Always a resolver, also without --cert: it records that the server asked for one.
    let (resolver, client_auth) = RecordingResolver::new(settings.client_cert.as_ref());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = alpn(settings).iter().map(|p| p.to_vec()).collect();
    Ok((config, recorded, client_auth))
}

fn classify_handshake_error(
    io_err: &io::Error,
    rec: &Recorded,
    chain: Vec<CertSummary>,
    fail: impl Fn(TlsFailure, String, Vec<CertSummary>) -> TlsError,
) -> TlsError {
    if let Some(tls_err) = io_err
        .get_ref()
        .and_then(|i| i.downcast_ref::<rustls::Error>())
    {
        let failure = classify_rustls(tls_err, rec);
        let mut e = fail(failure, tls_err.to_string(), chain);
        if let rustls::Error::AlertReceived(alert) = tls_err {
            e.alert = Some(alert_name(*alert));
            if let Some(meaning) = client_cert::alert_meaning(&e.client_auth, *alert) {
                e.failure = meaning;
            }
        }
        return e;
    }
    let e = match io_err.kind() {
        io::ErrorKind::UnexpectedEof => fail(
            TlsFailure::ClosedDuringHandshake,
            "the server closed the connection during the handshake".into(),
            chain,
        ),
        // A socket the server reset right after the TCP handshake fails the first write.
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => fail(
            TlsFailure::ResetDuringHandshake,
            "the server reset the connection during the handshake".into(),
            chain,
        ),
        _ => fail(TlsFailure::Other, io_err.to_string(), chain),
    };
    dropped_after_client_auth(e, io_err)
}

/// A server that asked for a client certificate and then dropped the connection refused it:
/// in TLS 1.2 the client sends its whole last flight at once, and when the server's alert and
/// close come while it is still writing, the write fails (broken pipe, reset) before the alert
/// is read.
fn dropped_after_client_auth(mut e: TlsError, io_err: &io::Error) -> TlsError {
    let dropped = matches!(
        e.failure,
        TlsFailure::ClosedDuringHandshake | TlsFailure::ResetDuringHandshake
    ) || io_err.kind() == io::ErrorKind::BrokenPipe;
    if !(dropped && e.client_auth.requested) {
        return e;
    }
    e.failure = if e.client_auth.sent.is_some() {
        TlsFailure::ClientCertRejected
    } else {
        TlsFailure::ClientCertRequired
    };
    e.message = format!(
        "the server dropped the connection after asking for a client certificate ({io_err}; its alert, if any, was not read)"
    );
    e
}

/// Map rustls's error value to a failure kind. Unknown issuer is split in two with the chain:
/// a self-signed leaf needs a different fix than a missing intermediate or private CA.
pub fn classify_rustls(e: &rustls::Error, rec: &Recorded) -> TlsFailure {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(ce) => match ce {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                TlsFailure::CertExpired
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsFailure::CertNotYetValid
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailure::CertNameMismatch
            }
            CertificateError::UnknownIssuer => {
                let leaf_self_signed = rec
                    .chain
                    .first()
                    .map(|der| summarize_chain(std::slice::from_ref(der), now_unix()))
                    .and_then(|v| v.into_iter().next())
                    .is_some_and(|c| c.self_signed);
                if leaf_self_signed {
                    TlsFailure::CertSelfSigned
                } else {
                    TlsFailure::CertUnknownIssuer
                }
            }
            CertificateError::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
                Some(webpki::Error::CaUsedAsEndEntity) => TlsFailure::CertCaAsEndEntity,
                _ => TlsFailure::CertInvalid,
            },
            _ => TlsFailure::CertInvalid,
        },
        E::InvalidMessage(
            rustls::InvalidMessage::HandshakePayloadTooLarge
            | rustls::InvalidMessage::CertificatePayloadTooLarge
            | rustls::InvalidMessage::MessageTooLarge,
        ) => TlsFailure::MessageTooLarge,
        E::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => TlsFailure::NotTls,
        E::InvalidMessage(_) => TlsFailure::NotTls,
        E::AlertReceived(_) => TlsFailure::AlertReceived,
        _ => TlsFailure::Other,
    }
}

/// "HandshakeFailure" → "handshake_failure", the name the TLS RFCs use.
pub fn alert_name(alert: rustls::AlertDescription) -> String {
    let debug = format!("{alert:?}");
    let mut out = String::new();
    let mut previous: Option<char> = None;
    for ch in debug.chars() {
        // A word starts at a capital after a small letter: "UnknownCA" is "unknown_ca".
        if ch.is_ascii_uppercase() && previous.is_some_and(|p| p.is_ascii_lowercase()) {
            out.push('_');
        }
        out.push(ch.to_ascii_lowercase());
        previous = Some(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_read_like_the_rfc() {
        assert_eq!(
            alert_name(rustls::AlertDescription::HandshakeFailure),
            "handshake_failure"
        );
        assert_eq!(
            alert_name(rustls::AlertDescription::NoApplicationProtocol),
            "no_application_protocol"
        );
        assert_eq!(
            alert_name(rustls::AlertDescription::UnknownCA),
            "unknown_ca"
        );
    }

    #[test]
    fn certificate_errors_map_to_kinds() {
        let rec = Recorded::default();
        let cert = |c| classify_rustls(&rustls::Error::InvalidCertificate(c), &rec);
        assert_eq!(cert(CertificateError::Expired), TlsFailure::CertExpired);
        assert_eq!(
            cert(CertificateError::NotValidYet),
            TlsFailure::CertNotYetValid
        );
        assert_eq!(
            cert(CertificateError::NotValidForName),
            TlsFailure::CertNameMismatch
        );
        assert_eq!(
            cert(CertificateError::UnknownIssuer),
            TlsFailure::CertUnknownIssuer
        );
        assert_eq!(
            cert(CertificateError::BadSignature),
            TlsFailure::CertInvalid
        );
    }
}
