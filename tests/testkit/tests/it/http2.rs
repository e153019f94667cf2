//! H2Server with rustls + hyper 1.x clients: ALPN, 200s, and what hyper
//! reports for GOAWAY and RST_STREAM (printed with --nocapture).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::{Request, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::ClientConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use testkit::h2::{H2Behavior, H2Server, reason};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

const BOUND: Duration = Duration::from_secs(5);

/// TLS to `srv` as "localhost", trusting its CA file, offering `alpn`.
async fn tls(srv: &H2Server, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&srv.ca_pem_path).expect("CA PEM") {
        roots.add(c.expect("parse CA")).expect("add root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(srv.addr).await.expect("tcp");
    let name = ServerName::try_from("localhost").expect("name");
    timeout(BOUND, TlsConnector::from(Arc::new(cfg)).connect(name, tcp))
        .await
        .expect("handshake in time")
        .expect("handshake")
}

type H2Send = hyper::client::conn::http2::SendRequest<Empty<Bytes>>;
type ConnTask = JoinHandle<Result<(), hyper::Error>>;

/// A hyper HTTP/2 client connection (ALPN h2) and its driver task.
async fn h2_client(srv: &H2Server) -> (H2Send, ConnTask) {
    let io = tls(srv, &[b"h2"]).await;
    assert_eq!(io.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .expect("h2 handshake");
    (send, tokio::spawn(conn))
}

fn get(srv: &H2Server, path: &str) -> Request<Empty<Bytes>> {
    Request::get(format!("https://localhost:{}{path}", srv.addr.port()))
        .body(Empty::new())
        .expect("request")
}

/// The `h2::Error` somewhere in `e`'s source chain.
fn h2_error(e: &hyper::Error) -> Option<&h2::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    // Bounded by the chain's length (a handful of links).
    while let Some(c) = cur {
        if let Some(h) = c.downcast_ref::<h2::Error>() {
            return Some(h);
        }
        cur = c.source();
    }
    None
}

/// hyper puts the `h2::Error` right behind its own: `err.source()` is it.
fn first_source_is_h2(e: &hyper::Error) -> bool {
    std::error::Error::source(e).is_some_and(|s| s.downcast_ref::<h2::Error>().is_some())
}

/// Everything a client could classify on, on one line.
fn describe(e: &hyper::Error) -> String {
    let h2 = h2_error(e).map(|h| {
        format!(
            "h2::Error{{reason={:?} is_go_away={} is_reset={} is_remote={} is_io={} \
             display={h:?}}}",
            h.reason(),
            h.is_go_away(),
            h.is_reset(),
            h.is_remote(),
            h.is_io(),
        )
    });
    let io = {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
        let mut kind = None;
        while let Some(c) = cur {
            if let Some(i) = c.downcast_ref::<std::io::Error>() {
                kind = Some(i.kind());
                break;
            }
            cur = c.source();
        }
        kind
    };
    format!(
        "display={e:?} / {e} | is_closed={} is_canceled={} is_incomplete_message={} \
         is_timeout={} is_user={} is_parse={} is_shutdown={} | io={io:?} | {}",
        e.is_closed(),
        e.is_canceled(),
        e.is_incomplete_message(),
        e.is_timeout(),
        e.is_user(),
        e.is_parse(),
        e.is_shutdown(),
        h2.unwrap_or_else(|| "no h2::Error".into()),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn h2_is_negotiated_and_hyper_gets_200s_on_one_connection() {
    let srv = H2Server::start(H2Behavior::Respond {
        code: 200,
        body: "ok over h2\n".into(),
    })
    .await;
    assert_eq!(srv.url(), format!("https://localhost:{}/", srv.addr.port()));
    let (mut send, conn) = h2_client(&srv).await;
    for path in ["/", "/two?x=1"] {
        let resp = timeout(BOUND, send.send_request(get(&srv, path)))
            .await
            .expect("in time")
            .expect("response");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.version(), Version::HTTP_2);
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(&body[..], b"ok over h2\n");
    }
    assert_eq!(srv.protocols(), vec!["h2"]);
    assert_eq!(
        srv.requests(),
        vec!["GET / HTTP/2.0", "GET /two?x=1 HTTP/2.0"]
    );
    assert_eq!(srv.connections(), 1);
    conn.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn http11_and_no_alpn_fall_back_to_http1() {
    let srv = H2Server::start(H2Behavior::Respond {
        code: 503,
        body: "h1\n".into(),
    })
    .await;
    for alpn in [&[&b"http/1.1"[..]][..], &[]] {
        let io = tls(&srv, alpn).await;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .expect("h1 handshake");
        let conn = tokio::spawn(conn);
        let req = Request::get("/h1")
            .header("host", "localhost")
            .body(Empty::<Bytes>::new())
            .expect("request");
        let resp = timeout(BOUND, send.send_request(req))
            .await
            .expect("in time")
            .expect("response");
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.version(), Version::HTTP_11);
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(&body[..], b"h1\n");
        conn.abort();
    }
    assert_eq!(srv.protocols(), vec!["http/1.1", ""]);
    assert_eq!(srv.requests(), vec!["GET /h1 HTTP/1.1", "GET /h1 HTTP/1.1"]);
}

/// Sends one GET that must fail; returns the error and how the connection
/// task ended.
async fn failing_request(srv: &H2Server) -> (hyper::Error, Result<(), hyper::Error>, H2Send) {
    let (mut send, conn) = h2_client(srv).await;
    let err = timeout(BOUND, send.send_request(get(srv, "/fail")))
        .await
        .expect("in time")
        .expect_err("must fail");
    let ended = timeout(BOUND, conn)
        .await
        .expect("connection task ends")
        .expect("join");
    (err, ended, send)
}

#[tokio::test(flavor = "multi_thread")]
async fn go_away_is_a_remote_go_away_with_no_error() {
    let srv = H2Server::start(H2Behavior::GoAway).await;
    let (err, ended, mut send) = failing_request(&srv).await;
    println!("GoAway(NO_ERROR): request error: {}", describe(&err));
    println!("GoAway(NO_ERROR): connection task: {ended:?}");
    let h = h2_error(&err).expect("h2::Error in the chain");
    assert!(h.is_go_away() && h.is_remote(), "{}", describe(&err));
    assert_eq!(h.reason(), Some(h2::Reason::NO_ERROR));
    assert!(first_source_is_h2(&err));
    assert!(!err.is_closed() && !err.is_canceled() && !err.is_incomplete_message());
    // A graceful GOAWAY ends hyper's connection task without an error.
    assert!(ended.is_ok(), "{ended:?}");
    // The sender knows the connection is gone.
    let next = send.send_request(get(&srv, "/again")).await;
    let e = next.expect_err("connection is closed");
    println!("GoAway(NO_ERROR): next request on it: {}", describe(&e));
    assert!(e.is_canceled() || e.is_closed(), "{}", describe(&e));
    assert_eq!(srv.requests(), vec!["HEADERS stream 1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn go_away_with_an_error_code() {
    let srv = H2Server::start(H2Behavior::GoAwayWith {
        code: reason::ENHANCE_YOUR_CALM,
    })
    .await;
    let (err, ended, _send) = failing_request(&srv).await;
    println!(
        "GoAway(ENHANCE_YOUR_CALM): request error: {}",
        describe(&err)
    );
    println!("GoAway(ENHANCE_YOUR_CALM): connection task: {ended:?}");
    let h = h2_error(&err).expect("h2::Error in the chain");
    assert!(h.is_go_away() && h.is_remote(), "{}", describe(&err));
    assert_eq!(h.reason(), Some(h2::Reason::ENHANCE_YOUR_CALM));
    // Unlike NO_ERROR, the connection task fails too, with the same GOAWAY.
    let ce = ended.expect_err("connection error");
    println!(
        "GoAway(ENHANCE_YOUR_CALM): connection error: {}",
        describe(&ce)
    );
    assert_eq!(
        h2_error(&ce).and_then(|h| h.reason()),
        Some(h2::Reason::ENHANCE_YOUR_CALM)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_stream_is_a_remote_reset_and_the_connection_lives() {
    let srv = H2Server::start(H2Behavior::ResetStream).await;
    let (mut send, conn) = h2_client(&srv).await;
    for path in ["/r1", "/r2"] {
        let err = timeout(BOUND, send.send_request(get(&srv, path)))
            .await
            .expect("in time")
            .expect_err("reset");
        println!("ResetStream(INTERNAL_ERROR) {path}: {}", describe(&err));
        let h = h2_error(&err).expect("h2::Error in the chain");
        assert!(h.is_reset() && h.is_remote(), "{}", describe(&err));
        assert_eq!(h.reason(), Some(h2::Reason::INTERNAL_ERROR));
        assert!(first_source_is_h2(&err));
        assert!(!err.is_closed() && !err.is_canceled());
    }
    assert!(
        !conn.is_finished(),
        "a stream reset leaves the connection up"
    );
    assert_eq!(srv.requests(), vec!["GET /r1 HTTP/2.0", "GET /r2 HTTP/2.0"]);
    conn.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_stream_with_refused_stream() {
    let srv = H2Server::start(H2Behavior::ResetStreamWith {
        code: reason::REFUSED_STREAM,
    })
    .await;
    let (mut send, conn) = h2_client(&srv).await;
    let err = timeout(BOUND, send.send_request(get(&srv, "/")))
        .await
        .expect("in time")
        .expect_err("reset");
    println!("ResetStream(REFUSED_STREAM): {}", describe(&err));
    let h = h2_error(&err).expect("h2::Error in the chain");
    assert!(h.is_reset() && h.is_remote());
    assert_eq!(h.reason(), Some(h2::Reason::REFUSED_STREAM));
    conn.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_over_http1_close_or_reset() {
    for (b, name) in [
        (H2Behavior::GoAway, "GoAway"),
        (H2Behavior::ResetStream, "ResetStream"),
    ] {
        let srv = H2Server::start(b).await;
        let io = tls(&srv, &[b"http/1.1"]).await;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .expect("h1 handshake");
        let conn = tokio::spawn(conn);
        let req = Request::get("/")
            .header("host", "localhost")
            .body(Empty::<Bytes>::new())
            .expect("request");
        let err = timeout(BOUND, send.send_request(req))
            .await
            .expect("in time")
            .expect_err("no answer");
        println!("{name} over http/1.1: {}", describe(&err));
        assert!(h2_error(&err).is_none());
        assert_eq!(srv.requests(), vec!["GET / HTTP/1.1"]);
        if name == "GoAway" {
            assert!(err.is_incomplete_message(), "{}", describe(&err));
        }
        conn.abort();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn h2_only_server_refuses_http11_clients() {
    let srv = H2Server::start_with(testkit::h2::H2Options {
        kind: testkit::tls::CertKind::Valid,
        alpn: vec![b"h2".to_vec()],
        behavior: H2Behavior::GoAway,
    })
    .await;
    let tcp = TcpStream::connect(srv.addr).await.expect("tcp");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(srv.root_store())
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from("localhost").expect("name");
    let r = timeout(BOUND, TlsConnector::from(Arc::new(cfg)).connect(name, tcp))
        .await
        .expect("in time");
    assert!(r.is_err(), "no common ALPN protocol");
    assert!(srv.protocols().is_empty());
}
