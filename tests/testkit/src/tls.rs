//! TLS servers with deliberately broken certificates (or ALPN), running the
//! `http` behaviours after the handshake.
//!
//! rustls is always built with the ring provider passed explicitly: the main
//! crate may install a different process default, and tests must not care.

pub mod certs;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::ServerConfig;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

use crate::READ_BOUND;
use crate::http::{self, Behavior, Ending, Log};
use crate::task::{TaskGuard, accept_loop};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertKind {
    /// SANs localhost, 127.0.0.1, ::1; signed by the test CA; valid -1 .. +30 days.
    Valid,
    /// Same, but valid -30 .. -3 days.
    Expired,
    /// Same, but valid +5 .. +35 days.
    NotYetValid,
    /// Signed by the test CA, valid, SANs only wrong.test and other.test.
    WrongName,
    /// Self-signed leaf (CA:FALSE), loopback SANs, valid.
    SelfSigned,
    /// Loopback SANs, valid, signed by a CA that is *not* in `ca_pem_path`.
    UnknownCa,
    /// Self-signed CA:TRUE certificate as the server cert, SANs localhost, 127.0.0.1.
    CaAsEndEntity,
    /// Like `CaAsEndEntity`, but its SANs are only wrong.test.
    CaAsEndEntityWrongName,
    /// Like `CaAsEndEntity`, but valid -30 .. -3 days.
    CaAsEndEntityExpired,
    /// A CA:TRUE server certificate (loopback SANs, serverAuth) signed by the test CA.
    CaAsEndEntitySigned,
    /// Like `Valid`, but the subject's CN carries terminal control sequences (ESC, OSC title,
    /// BEL, CR, a bidi override): a hostile server's certificate.
    HostileSubject,
    /// Like `Valid`, but the chain carries copies of the test CA up to about 80 KiB: over
    /// rustls's 64 KiB handshake-message limit, under OpenSSL's 100 KiB `max_cert_list`.
    OversizedChain,
    /// Signed by the test CA, valid, CN localhost and no subjectAltName at all: OpenSSL (curl)
    /// falls back to the CN, Python's ssl and rustls do not.
    CnOnly,
    /// Signed by the test intermediate (itself signed by the test CA), sent *without* the
    /// intermediate; the leaf's AIA caIssuers URL is [`TlsOptions::aia_url`].
    MissingIntermediate,
    /// test CA → intermediate → sub-intermediate → leaf, sent as leaf, intermediate,
    /// sub-intermediate (the two intermediates in reverse order).
    ReversedChain,
    /// Signed by the test intermediate, sent with it and with an expired cross-sign of the test
    /// CA by another root (the test CA's own key and name, issued by "netpeel old root").
    ExpiredCrossSign,
    /// Signed by a CA named like a TLS-intercepting proxy's ("Zscaler Root CA"), which no test
    /// trusts unless it says so ([`certs::interception_ca`]).
    Interception,
    /// Loopback SANs, valid, CA:FALSE, signed by a root whose extendedKeyUsage is clientAuth
    /// only ([`certs::client_only_ca`]), which no test trusts unless it says so.
    UnderClientOnlyCa,
}

/// The chain an `OversizedChain` server sends reaches this many bytes.
pub const OVERSIZED_CHAIN_BYTES: usize = 80 * 1024;

/// What the server asks of the client's certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    #[default]
    Off,
    /// Mutual TLS: a certificate signed by the test client CA ([`certs::test_client_ca`]) is
    /// required. Without one rustls sends `certificate_required`; one it rejects gets
    /// `unknown_ca`, `certificate_expired`, … (the alert for the verification error).
    Required,
}

pub struct TlsOptions {
    pub kind: CertKind,
    /// If non-empty the server only accepts these protocols (a client offering
    /// none of them gets a `no_application_protocol` alert).
    pub alpn: Vec<Vec<u8>>,
    pub behavior: Behavior,
    pub client_auth: ClientAuth,
    /// Speak TLS 1.2 only (where the client certificate is checked inside the handshake; in
    /// TLS 1.3 the client's handshake is done before the server has looked at it).
    pub tls12_only: bool,
    /// The AIA caIssuers URL written into the leaf (for `MissingIntermediate`).
    pub aia_url: Option<String>,
}

impl TlsOptions {
    /// `kind` and `behavior`, no ALPN, no client certificate, TLS 1.2 and 1.3.
    pub fn new(kind: CertKind, behavior: Behavior) -> TlsOptions {
        TlsOptions {
            kind,
            alpn: Vec::new(),
            behavior,
            client_auth: ClientAuth::Off,
            tls12_only: false,
            aia_url: None,
        }
    }
}

pub struct TlsServer {
    pub addr: SocketAddr,
    /// PEM of the trusted test CA (lives in a temp dir owned by this value).
    pub ca_pem_path: PathBuf,
    /// PEM of the trusted test CA, in memory.
    pub ca_pem: String,
    /// PEM of the certificate the server presents.
    pub leaf_pem: String,
    log: Arc<Log>,
    _dir: tempfile::TempDir,
    _tasks: TaskGuard,
}

impl TlsServer {
    pub async fn start(kind: CertKind, behavior: Behavior) -> TlsServer {
        Self::start_with(TlsOptions::new(kind, behavior)).await
    }

    /// Listens on 127.0.0.1:<random port>. Behaviours that act below TLS
    /// (`AcceptAndHold`, `ReadThenClose`) run on the raw socket, no handshake.
    pub async fn start_with(opts: TlsOptions) -> TlsServer {
        let ca = certs::test_ca();
        let (dir, ca_pem_path) = ca_file();
        let (cfg, leaf) = server_config_with(&opts);
        let acceptor = TlsAcceptor::from(Arc::new(cfg));

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("TlsServer: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("TlsServer: local_addr");
        let log = Arc::new(Log::default());
        let (b, l) = (Arc::new(opts.behavior), log.clone());
        let mut tasks = TaskGuard::new();
        tasks.spawn(accept_loop(listener, move |tcp| {
            let (b, l, acc) = (b.clone(), l.clone(), acceptor.clone());
            async move { serve_tls(tcp, acc, &b, &l).await }
        }));
        TlsServer {
            addr,
            ca_pem_path,
            ca_pem: ca.pem.clone(),
            leaf_pem: leaf.pem,
            log,
            _dir: dir,
            _tasks: tasks,
        }
    }

    /// Raw request heads received (after decryption) so far.
    pub fn requests(&self) -> Vec<String> {
        self.log.requests()
    }
    /// TCP connections accepted (whether or not the handshake succeeded).
    pub fn connections(&self) -> usize {
        self.log.connections()
    }
    /// `https://localhost:<port>/`.
    pub fn url(&self) -> String {
        format!("https://localhost:{}/", self.addr.port())
    }
    /// A root store holding only the test CA, for test clients.
    pub fn root_store(&self) -> rustls::RootCertStore {
        test_root_store()
    }
}

/// The server config for `opts` (see [`server_config`]), its leaf carrying `opts.aia_url`.
fn server_config_with(opts: &TlsOptions) -> (ServerConfig, certs::Leaf) {
    let leaf = certs::leaf_with(opts.kind, opts.aia_url.as_deref());
    config_for(
        leaf,
        opts.kind,
        &opts.alpn,
        opts.client_auth,
        opts.tls12_only,
    )
}

/// A rustls server config (ring provider) presenting a fresh `kind` leaf, offering `alpn`
/// (empty: no ALPN), with the options' client authentication and versions; also returns the
/// leaf.
pub(crate) fn server_config(
    kind: CertKind,
    alpn: &[Vec<u8>],
    client_auth: ClientAuth,
    tls12_only: bool,
) -> (ServerConfig, certs::Leaf) {
    config_for(certs::leaf(kind), kind, alpn, client_auth, tls12_only)
}

fn config_for(
    leaf: certs::Leaf,
    kind: CertKind,
    alpn: &[Vec<u8>],
    client_auth: ClientAuth,
    tls12_only: bool,
) -> (ServerConfig, certs::Leaf) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("tls: protocol versions");
    let builder = match client_auth {
        ClientAuth::Off => builder.with_no_client_auth(),
        ClientAuth::Required => {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(certs::test_client_ca().der.clone())
                .expect("test client CA is a valid trust anchor");
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("tls: client verifier");
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut cfg = builder
        .with_single_cert(chain_for(kind, &leaf), leaf.key.clone_key())
        .expect("tls: server cert");
    cfg.alpn_protocols = alpn.to_vec();
    (cfg, leaf)
}

/// A client certificate and key written as PEM files, for `--cert`/`--key` and requests'
/// `cert=(cert, key)`; the files go when this value is dropped.
pub struct ClientCertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Certificate and key in one file (curl's `--cert` alone, requests' `cert=path`).
    pub combined: PathBuf,
    _dir: tempfile::TempDir,
}

impl ClientCertFiles {
    pub fn write(kind: certs::ClientCertKind) -> ClientCertFiles {
        let id = certs::client_identity(kind);
        let dir = tempfile::tempdir().expect("tls: tempdir");
        let cert = dir.path().join("client.pem");
        let key = dir.path().join("client.key");
        let combined = dir.path().join("client-and-key.pem");
        std::fs::write(&cert, &id.cert_pem).expect("tls: write client cert");
        std::fs::write(&key, &id.key_pem).expect("tls: write client key");
        std::fs::write(&combined, format!("{}{}", id.cert_pem, id.key_pem))
            .expect("tls: write client cert and key");
        ClientCertFiles {
            cert,
            key,
            combined,
            _dir: dir,
        }
    }
}

/// The certificates a `kind` server sends: its leaf, padded for `OversizedChain`.
fn chain_for(
    kind: CertKind,
    leaf: &certs::Leaf,
) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    let mut chain = vec![leaf.der.clone()];
    match kind {
        CertKind::ReversedChain => {
            chain.push(certs::test_intermediate().der.clone());
            chain.push(certs::test_sub_intermediate().der.clone());
        }
        CertKind::ExpiredCrossSign => {
            chain.push(certs::test_intermediate().der.clone());
            chain.push(certs::expired_cross_sign().clone());
        }
        _ => {}
    }
    if kind == CertKind::OversizedChain {
        let ca = &certs::test_ca().der;
        while chain.iter().map(|c| c.len() + 3).sum::<usize>() < OVERSIZED_CHAIN_BYTES {
            chain.push(ca.clone());
        }
    }
    chain
}

/// Writes the trusted test CA's PEM into a new temp dir (removed when the
/// returned `TempDir` is dropped) and returns both.
pub(crate) fn ca_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tls: tempdir");
    let path = dir.path().join("netpeel-test-ca.pem");
    std::fs::write(&path, &certs::test_ca().pem).expect("tls: write CA PEM");
    (dir, path)
}

/// A root store holding only the test CA, for test clients.
pub fn test_root_store() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(certs::test_ca().der.clone())
        .expect("test CA is a valid trust anchor");
    roots
}

async fn serve_tls(tcp: TcpStream, acceptor: TlsAcceptor, b: &Behavior, log: &Log) {
    if b.is_tcp_level() {
        return http::serve_tcp(tcp, b, log).await;
    }
    log.record_connection();
    // Handshake failures are the point of most of these servers (the client
    // rejects our certificate): drop them quietly. Bounded so a silent client
    // cannot pin the task.
    let Ok(Ok(mut tls)) = timeout(READ_BOUND, acceptor.accept(tcp)).await else {
        return;
    };
    if http::serve_stream(&mut tls, b, log).await == Ending::Reset {
        // No close_notify: drop the TCP socket with linger 0 (RST).
        let _ = tls.get_ref().0.set_zero_linger();
    }
}
