//! Per-path routing, redirects, and servers on other loopback addresses.

use std::io::ErrorKind;
use std::net::SocketAddr;

use testkit::addrs::{free_port_on_all, loopback_v4};
use testkit::http::{Behavior, HttpServer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::read_all;

async fn fetch(addr: SocketAddr, head: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("write");
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    String::from_utf8_lossy(&data).into_owned()
}

fn location(resp: &str) -> Option<&str> {
    resp.split("\r\n")
        .find_map(|l| l.strip_prefix("Location: "))
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_chain_and_methods_are_logged() {
    let srv = HttpServer::start_router(vec![
        ("/a".into(), Behavior::redirect(302, "/b")),
        ("/b".into(), Behavior::redirect(303, "/c")),
        ("/c".into(), Behavior::ok("end of chain\n")),
    ])
    .await;
    // Follow the chain the way a client would: POST, then GET after the 303.
    let r = fetch(
        srv.addr,
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 302 Found\r\n"), "{r}");
    assert_eq!(location(&r), Some("/b"));
    let r = fetch(
        srv.addr,
        "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 303 See Other\r\n"), "{r}");
    assert_eq!(location(&r), Some("/c"));
    let r = fetch(srv.addr, "GET /c HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(r.ends_with("\r\n\r\nend of chain\n"), "{r}");
    assert_eq!(
        srv.request_lines(),
        vec!["POST /a HTTP/1.1", "POST /b HTTP/1.1", "GET /c HTTP/1.1"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_loop_and_absolute_location() {
    let srv = HttpServer::start_router(vec![
        ("/x".into(), Behavior::redirect(307, "/y")),
        ("/y".into(), Behavior::redirect(308, "/x")),
    ])
    .await;
    let mut path = "/x".to_string();
    // Bounded: four hops of a two-step loop.
    for _ in 0..4 {
        let r = fetch(srv.addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")).await;
        path = location(&r).expect("Location").to_string();
    }
    assert_eq!(path, "/x");
    assert_eq!(srv.request_lines().len(), 4);
    let abs = format!("http://127.0.0.1:{}/x", srv.addr.port());
    match Behavior::redirect(301, &abs) {
        Behavior::Respond { code, headers, .. } => {
            assert_eq!(code, 301);
            assert!(headers.contains(&("Location".into(), abs)));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_match_query_then_path_else_404() {
    let srv = HttpServer::start_router(vec![
        ("/q?v=2".into(), Behavior::ok("two\n")),
        ("/q".into(), Behavior::ok("any\n")),
        ("/reset".into(), Behavior::ResetBeforeResponse),
        ("/hold".into(), Behavior::AcceptAndHold),
    ])
    .await;
    let get = |p: &str| format!("GET {p} HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(fetch(srv.addr, &get("/q?v=2")).await.ends_with("two\n"));
    assert!(fetch(srv.addr, &get("/q?v=1")).await.ends_with("any\n"));
    // Absolute-form (as sent to a proxy) is routed by its path.
    let abs = "GET http://x.test/q HTTP/1.1\r\nHost: x.test\r\n\r\n";
    assert!(fetch(srv.addr, abs).await.ends_with("any\n"));
    let r = fetch(srv.addr, &get("/nope")).await;
    assert!(
        r.starts_with("HTTP/1.1 404 ") && r.ends_with("no route for /nope\n"),
        "{r}"
    );
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    s.write_all(get("/reset").as_bytes()).await.expect("write");
    let (_, end) = read_all(&mut s).await;
    assert_eq!(end.expect_err("RST").kind(), ErrorKind::ConnectionReset);
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    s.write_all(get("/hold").as_bytes()).await.expect("write");
    let mut b = [0u8; 1];
    let r = tokio::time::timeout(crate::QUIET, tokio::io::AsyncReadExt::read(&mut s, &mut b));
    assert!(r.await.is_err(), "held after the head");
    assert_eq!(srv.request_lines().len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn start_on_other_loopback_addresses_with_one_dead() {
    let ips = [loopback_v4(1), loopback_v4(2), loopback_v4(3)];
    let port = free_port_on_all(&ips);
    let one = HttpServer::start_on(ips[0], port, Behavior::ok("one\n")).await;
    let three = HttpServer::start_on(ips[2], port, Behavior::ok("three\n")).await;
    assert_eq!(one.addr, SocketAddr::new(ips[0], port));
    assert_eq!(three.addr, SocketAddr::new(ips[2], port));
    let get = "GET / HTTP/1.1\r\nHost: multi.test\r\n\r\n";
    assert!(fetch(one.addr, get).await.ends_with("one\n"));
    assert!(fetch(three.addr, get).await.ends_with("three\n"));
    let err = TcpStream::connect(SocketAddr::new(ips[1], port))
        .await
        .expect_err("127.0.0.2 is dead");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    // Port 0 picks any free port on that address.
    let any = HttpServer::start_on(loopback_v4(2), 0, Behavior::ok("two\n")).await;
    assert_eq!(any.addr.ip(), loopback_v4(2));
    assert!(fetch(any.addr, get).await.ends_with("two\n"));
}

#[test]
#[should_panic(expected = "not a loopback address")]
fn free_port_refuses_non_loopback() {
    free_port_on_all(&["192.0.2.1".parse().expect("ip")]);
}
