use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use testkit::http::{Behavior, HttpServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{QUIET, read_all};

const GET: &[u8] = b"GET /path HTTP/1.1\r\nHost: example.test\r\nUser-Agent: t\r\n\r\n";

async fn send(addr: SocketAddr, req: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(req).await.expect("write request");
    s
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn respond_sets_length_and_close_and_logs() {
    let srv = HttpServer::start(Behavior::Respond {
        code: 404,
        headers: vec![("X-Test".into(), "yes".into())],
        body: b"nope".to_vec(),
    })
    .await;
    for _ in 0..2 {
        let mut s = send(srv.addr, GET).await;
        let (data, end) = read_all(&mut s).await;
        end.expect("clean EOF");
        let t = text(&data);
        assert!(t.starts_with("HTTP/1.1 404 Not Found\r\n"), "{t}");
        assert!(t.contains("X-Test: yes\r\n"), "{t}");
        assert!(t.contains("Content-Length: 4\r\n"), "{t}");
        assert!(t.contains("Connection: close\r\n"), "{t}");
        assert!(t.ends_with("\r\n\r\nnope"), "{t}");
    }
    assert_eq!(srv.connections(), 2);
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].as_bytes(), GET);
}

#[tokio::test(flavor = "multi_thread")]
async fn respond_to_head_has_no_body() {
    let srv = HttpServer::start(Behavior::ok("ok\n")).await;
    let mut s = send(srv.addr, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    let t = text(&data);
    assert!(
        t.contains("Content-Length: 3\r\n") && t.ends_with("\r\n\r\n"),
        "{t}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn v6_server_answers_on_ipv6_loopback() {
    let srv = HttpServer::start_v6(Behavior::ok("ok\n")).await;
    assert!(srv.addr.is_ipv6() && srv.addr.ip().is_loopback());
    let mut s = send(srv.addr, GET).await;
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    assert!(text(&data).ends_with("ok\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn stall_before_response_sends_nothing() {
    let srv = HttpServer::start(Behavior::StallBeforeResponse).await;
    let mut s = send(srv.addr, GET).await;
    let mut buf = [0u8; 16];
    assert!(tokio::time::timeout(QUIET, s.read(&mut buf)).await.is_err());
    assert_eq!(srv.requests().len(), 1, "head was read");
}

#[tokio::test(flavor = "multi_thread")]
async fn close_before_response_is_clean_eof() {
    let srv = HttpServer::start(Behavior::CloseBeforeResponse).await;
    let mut s = send(srv.addr, GET).await;
    let (data, end) = read_all(&mut s).await;
    end.expect("FIN, not RST");
    assert!(data.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_before_response_is_rst() {
    let srv = HttpServer::start(Behavior::ResetBeforeResponse).await;
    let mut s = send(srv.addr, GET).await;
    let (data, end) = read_all(&mut s).await;
    assert!(data.is_empty());
    assert_eq!(end.expect_err("RST").kind(), ErrorKind::ConnectionReset);
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_is_an_ssh_banner() {
    let srv = HttpServer::start(Behavior::Garbage).await;
    let mut s = send(srv.addr, GET).await;
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    assert_eq!(data, b"SSH-2.0-OpenSSH_9.6\r\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn trickle_then_close_is_slow_and_short() {
    let srv = HttpServer::start(Behavior::TrickleThenClose {
        content_length: 10,
        sent: 3,
        interval: Duration::from_millis(100),
    })
    .await;
    let t0 = Instant::now();
    let mut s = send(srv.addr, GET).await;
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    let t = text(&data);
    assert!(t.contains("Content-Length: 10\r\n"), "{t}");
    assert!(t.ends_with("\r\n\r\nxxx"), "{t}");
    assert!(
        t0.elapsed() >= Duration::from_millis(190),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stall_mid_body_sends_part_then_nothing() {
    let srv = HttpServer::start(Behavior::StallMidBody {
        content_length: 10,
        sent: 4,
    })
    .await;
    let mut s = send(srv.addr, GET).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    // Read until the 4 body bytes are in, then expect silence.
    while !got.ends_with(b"\r\n\r\nxxxx") {
        let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf))
            .await
            .expect("head and partial body arrive")
            .expect("read");
        assert!(n > 0, "unexpected EOF: {}", text(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert!(tokio::time::timeout(QUIET, s.read(&mut buf)).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_mid_body_sends_part_then_rst() {
    let srv = HttpServer::start(Behavior::ResetMidBody {
        content_length: 10,
        sent: 4,
    })
    .await;
    let mut s = send(srv.addr, GET).await;
    let (data, end) = read_all(&mut s).await;
    assert!(text(&data).ends_with("\r\n\r\nxxxx"), "{}", text(&data));
    assert_eq!(end.expect_err("RST").kind(), ErrorKind::ConnectionReset);
}

#[tokio::test(flavor = "multi_thread")]
async fn chunked_then_close_lacks_last_chunk() {
    let srv = HttpServer::start(Behavior::ChunkedThenClose).await;
    let mut s = send(srv.addr, GET).await;
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    let t = text(&data);
    assert!(t.contains("Transfer-Encoding: chunked\r\n"), "{t}");
    assert!(t.ends_with("\r\n\r\n5\r\nhello\r\n"), "{t}");
}

#[tokio::test(flavor = "multi_thread")]
async fn accept_and_hold_is_silent_and_reads_nothing() {
    let srv = HttpServer::start(Behavior::AcceptAndHold).await;
    let mut s = send(srv.addr, GET).await;
    let mut buf = [0u8; 16];
    assert!(tokio::time::timeout(QUIET, s.read(&mut buf)).await.is_err());
    assert_eq!(srv.connections(), 1);
    assert!(srv.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn read_then_close_closes_after_first_bytes() {
    let srv = HttpServer::start(Behavior::ReadThenClose).await;
    let mut s = send(srv.addr, b"\x16\x03\x01 not really a hello").await;
    let (data, end) = read_all(&mut s).await;
    end.expect("FIN, not RST");
    assert!(data.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn read_then_reset_resets_after_first_bytes() {
    let srv = HttpServer::start(Behavior::ReadThenReset).await;
    let mut s = send(srv.addr, b"\x16\x03\x01 not really a hello").await;
    let (data, end) = read_all(&mut s).await;
    assert!(data.is_empty());
    assert_eq!(end.expect_err("RST").kind(), ErrorKind::ConnectionReset);
    assert_eq!(srv.connections(), 1);
    assert!(srv.requests().is_empty(), "no HTTP head is read");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_then_bad_request_answers_without_a_head() {
    let srv = HttpServer::start(Behavior::ReadThenBadRequest).await;
    // No "\r\n\r\n": the answer must not wait for a request head.
    let mut s = send(srv.addr, b"\x16\x03\x01 not really a hello").await;
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    let t = text(&data);
    assert!(t.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{t}");
    assert!(t.contains("Connection: close\r\n"), "{t}");
    assert!(srv.requests().is_empty(), "no HTTP head is read");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sequence_server_answers_each_connection_with_the_next_behaviour() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = testkit::http::HttpServer::start_sequence(vec![
        testkit::http::Behavior::Respond {
            code: 503,
            headers: vec![],
            body: b"no".to_vec(),
        },
        testkit::http::Behavior::ok("yes"),
    ])
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let mut s = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut out = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out)).await;
        statuses.push(
            String::from_utf8_lossy(&out)
                .split(' ')
                .nth(1)
                .unwrap_or("")
                .to_string(),
        );
    }
    assert_eq!(statuses, ["503", "200", "200"]);
}
