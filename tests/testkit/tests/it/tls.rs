use std::io::ErrorKind;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{AlertDescription, CertificateError, ClientConfig, Error as TlsError};
use testkit::http::Behavior;
use testkit::tls::{CertKind, TlsOptions, TlsServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::{QUIET, read_all};

/// A client that trusts exactly the PEM bundle at `srv.ca_pem_path`.
fn client(srv: &TlsServer, alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&srv.ca_pem_path).expect("open CA PEM") {
        roots.add(c.expect("parse CA PEM")).expect("add root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(cfg))
}

async fn connect(
    srv: &TlsServer,
    name: &str,
    alpn: &[&[u8]],
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(srv.addr).await?;
    let name = ServerName::try_from(name.to_string()).expect("server name");
    tokio::time::timeout(Duration::from_secs(5), client(srv, alpn).connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::from(ErrorKind::TimedOut))?
}

/// The rustls error inside a failed handshake.
async fn handshake_error(kind: CertKind) -> TlsError {
    let srv = TlsServer::start(kind, Behavior::ok("ok\n")).await;
    let err = connect(&srv, "localhost", &[])
        .await
        .expect_err("handshake must fail");
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err:?}");
    err.get_ref()
        .and_then(|i| i.downcast_ref::<TlsError>())
        .unwrap_or_else(|| panic!("no rustls error in {err:?}"))
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_cert_verifies_by_name_and_ip_and_serves_http() {
    let srv = TlsServer::start(CertKind::Valid, Behavior::ok("ok\n")).await;
    assert!(srv.leaf_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    for name in ["localhost", "127.0.0.1"] {
        let mut s = connect(&srv, name, &[]).await.expect("handshake");
        s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .expect("write");
        let (data, end) = read_all(&mut s).await;
        end.expect("close_notify then EOF");
        let t = String::from_utf8_lossy(&data);
        assert!(
            t.starts_with("HTTP/1.1 200 OK\r\n") && t.ends_with("\r\n\r\nok\n"),
            "{t}"
        );
    }
    assert_eq!(srv.requests().len(), 2);
    assert!(srv.requests()[0].starts_with("GET / HTTP/1.1\r\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn expired() {
    let e = handshake_error(CertKind::Expired).await;
    assert!(
        matches!(
            e,
            TlsError::InvalidCertificate(CertificateError::ExpiredContext { .. })
        ),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn not_yet_valid() {
    let e = handshake_error(CertKind::NotYetValid).await;
    assert!(
        matches!(
            e,
            TlsError::InvalidCertificate(CertificateError::NotValidYetContext { .. })
        ),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_name() {
    let e = handshake_error(CertKind::WrongName).await;
    assert!(
        matches!(
            e,
            TlsError::InvalidCertificate(CertificateError::NotValidForNameContext { .. })
        ),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn self_signed_and_unknown_ca_are_unknown_issuer() {
    for kind in [CertKind::SelfSigned, CertKind::UnknownCa] {
        let e = handshake_error(kind).await;
        assert!(
            matches!(
                e,
                TlsError::InvalidCertificate(CertificateError::UnknownIssuer)
            ),
            "{kind:?}: {e:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ca_as_end_entity() {
    let e = handshake_error(CertKind::CaAsEndEntity).await;
    assert!(
        matches!(e, TlsError::InvalidCertificate(CertificateError::Other(_))),
        "{e:?}"
    );
    assert!(format!("{e:?}").contains("CaUsedAsEndEntity"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn alpn_mismatch_gets_no_application_protocol() {
    let srv = TlsServer::start_with(TlsOptions {
        alpn: vec![b"h2".to_vec()],
        ..TlsOptions::new(CertKind::Valid, Behavior::ok("ok\n"))
    })
    .await;
    let err = connect(&srv, "localhost", &[b"http/1.1"])
        .await
        .expect_err("no common protocol");
    let inner = err.get_ref().and_then(|i| i.downcast_ref::<TlsError>());
    assert!(
        matches!(
            inner,
            Some(TlsError::AlertReceived(
                AlertDescription::NoApplicationProtocol
            ))
        ),
        "{err:?}"
    );
    let s = connect(&srv, "localhost", &[b"h2"]).await.expect("h2 ok");
    assert_eq!(s.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
}

#[tokio::test(flavor = "multi_thread")]
async fn accept_and_hold_stalls_the_handshake() {
    let srv = TlsServer::start(CertKind::Valid, Behavior::AcceptAndHold).await;
    let tcp = TcpStream::connect(srv.addr).await.expect("tcp connect");
    let name = ServerName::try_from("localhost").expect("name");
    let r = tokio::time::timeout(QUIET, client(&srv, &[]).connect(name, tcp)).await;
    assert!(r.is_err(), "handshake should stall");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_then_close_is_eof_during_handshake() {
    let srv = TlsServer::start(CertKind::Valid, Behavior::ReadThenClose).await;
    let err = connect(&srv, "localhost", &[]).await.expect_err("closed");
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_then_reset_is_rst_during_handshake() {
    let srv = TlsServer::start(CertKind::Valid, Behavior::ReadThenReset).await;
    let err = connect(&srv, "localhost", &[]).await.expect_err("reset");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_then_bad_request_is_not_tls() {
    let srv = TlsServer::start(CertKind::Valid, Behavior::ReadThenBadRequest).await;
    let err = connect(&srv, "localhost", &[])
        .await
        .expect_err("plain text");
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err:?}");
    let inner = err.get_ref().and_then(|i| i.downcast_ref::<TlsError>());
    assert!(
        matches!(inner, Some(TlsError::InvalidMessage(_))),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stall_after_handshake() {
    let srv = TlsServer::start(CertKind::Valid, Behavior::StallBeforeResponse).await;
    let mut s = connect(&srv, "localhost", &[]).await.expect("handshake");
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 16];
    assert!(tokio::time::timeout(QUIET, s.read(&mut buf)).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_mid_body_over_tls() {
    let srv = TlsServer::start(
        CertKind::Valid,
        Behavior::ResetMidBody {
            content_length: 10,
            sent: 4,
        },
    )
    .await;
    let mut s = connect(&srv, "localhost", &[]).await.expect("handshake");
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let (data, end) = read_all(&mut s).await;
    assert!(data.ends_with(b"\r\n\r\nxxxx"), "{data:?}");
    assert_eq!(end.expect_err("RST").kind(), ErrorKind::ConnectionReset);
}
