use std::collections::HashMap;
use std::net::SocketAddr;

use testkit::http::{Behavior, HttpServer};
use testkit::proxy::{ProxyBehavior, ProxyServer, basic_auth};
use testkit::tcp::refused_addr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{QUIET, read_all, read_head};

const GET: &[u8] = b"GET /inside HTTP/1.1\r\nHost: backend.test\r\n\r\n";

fn map(name: &str, addr: SocketAddr) -> HashMap<String, SocketAddr> {
    HashMap::from([(name.to_string(), addr)])
}

fn forward() -> ProxyBehavior {
    ProxyBehavior::Forward { require_auth: None }
}

/// Sends `head` to the proxy and returns the stream and the answer's head.
async fn ask(proxy: &ProxyServer, head: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(proxy.addr).await.expect("connect proxy");
    s.write_all(head.as_bytes()).await.expect("write head");
    let h = read_head(&mut s).await;
    (s, h)
}

/// Whole answer (head and body) to a request the proxy ends by closing.
async fn answer(proxy: &ProxyServer, head: &str) -> String {
    let mut s = TcpStream::connect(proxy.addr).await.expect("connect proxy");
    s.write_all(head.as_bytes()).await.expect("write head");
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    String::from_utf8_lossy(&data).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_by_name_tunnels_to_the_mapped_server() {
    let backend = HttpServer::start(Behavior::ok("through\n")).await;
    let proxy = ProxyServer::start(forward(), map("backend.test", backend.addr)).await;
    assert_eq!(
        proxy.url(),
        format!("http://127.0.0.1:{}", proxy.addr.port())
    );
    let (mut s, head) = ask(
        &proxy,
        "CONNECT backend.test:443 HTTP/1.1\r\nHost: backend.test:443\r\n\r\n",
    )
    .await;
    assert_eq!(head, "HTTP/1.1 200 Connection established\r\n\r\n");
    s.write_all(GET).await.expect("write through tunnel");
    let (data, end) = read_all(&mut s).await;
    end.expect("backend's FIN passed on");
    assert!(String::from_utf8_lossy(&data).ends_with("\r\n\r\nthrough\n"));
    assert_eq!(backend.requests(), vec![String::from_utf8_lossy(GET)]);
    let reqs = proxy.requests();
    assert_eq!(reqs.len(), 1);
    assert!(
        reqs[0].starts_with("CONNECT backend.test:443 HTTP/1.1\r\n"),
        "{reqs:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_by_ip_literal_and_early_bytes() {
    let backend = HttpServer::start(Behavior::ok("ip\n")).await;
    let proxy = ProxyServer::start(forward(), HashMap::new()).await;
    // The request rides in the same write as the CONNECT: it must be passed on.
    let head = format!("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\n\r\n", backend.addr);
    let (mut s, h) = ask(&proxy, &format!("{head}{}", String::from_utf8_lossy(GET))).await;
    assert!(h.starts_with("HTTP/1.1 200 "), "{h}");
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    assert!(String::from_utf8_lossy(&data).ends_with("ip\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_to_ipv6_loopback() {
    let backend = HttpServer::start_v6(Behavior::ok("v6\n")).await;
    let proxy = ProxyServer::start(forward(), HashMap::new()).await;
    let (mut s, h) = ask(
        &proxy,
        &format!("CONNECT {} HTTP/1.1\r\n\r\n", backend.addr),
    )
    .await;
    assert!(h.starts_with("HTTP/1.1 200 "), "{h}");
    s.write_all(GET).await.expect("write");
    let (data, _) = read_all(&mut s).await;
    assert!(String::from_utf8_lossy(&data).ends_with("v6\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn absolute_form_is_forwarded_in_origin_form() {
    let backend = HttpServer::start(Behavior::ok("fwd\n")).await;
    let proxy = ProxyServer::start(forward(), map("backend.test", backend.addr)).await;
    let t = answer(
        &proxy,
        "GET http://backend.test/p?q=1 HTTP/1.1\r\nHost: backend.test\r\n\
         Proxy-Connection: keep-alive\r\nAccept: */*\r\n\r\n",
    )
    .await;
    assert!(
        t.starts_with("HTTP/1.1 200 OK\r\n") && t.ends_with("fwd\n"),
        "{t}"
    );
    assert_eq!(
        backend.requests(),
        vec![
            "GET /p?q=1 HTTP/1.1\r\nHost: backend.test\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn map_entry_with_port_zero_keeps_the_requested_port() {
    let backend = HttpServer::start(Behavior::ok("p0\n")).await;
    let proxy = ProxyServer::start(
        forward(),
        map("any.test", SocketAddr::from(([127, 0, 0, 1], 0))),
    )
    .await;
    let port = backend.addr.port();
    let t = answer(
        &proxy,
        &format!("GET http://any.test:{port}/ HTTP/1.1\r\nHost: any.test:{port}\r\n\r\n"),
    )
    .await;
    assert!(t.ends_with("p0\n"), "{t}");
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_407_without_or_with_wrong_credentials_200_with_them() {
    let backend = HttpServer::start(Behavior::ok("authed\n")).await;
    let proxy = ProxyServer::start(
        ProxyBehavior::Forward {
            require_auth: Some(("user".into(), "pa:ss".into())),
        },
        map("backend.test", backend.addr),
    )
    .await;
    let connect = "CONNECT backend.test:443 HTTP/1.1\r\nHost: backend.test:443\r\n";
    for extra in ["", "Proxy-Authorization: Basic dXNlcjp3cm9uZw==\r\n"] {
        let t = answer(&proxy, &format!("{connect}{extra}\r\n")).await;
        assert!(
            t.starts_with("HTTP/1.1 407 Proxy Authentication Required\r\n"),
            "{t}"
        );
        assert!(
            t.contains("Proxy-Authenticate: Basic realm=\"netpeel-test\"\r\n"),
            "{t}"
        );
        assert!(t.contains("Connection: close\r\n"), "{t}");
    }
    assert_eq!(backend.connections(), 0, "nothing got through");

    let good = basic_auth("user", "pa:ss");
    let (mut s, h) = ask(
        &proxy,
        &format!("{connect}Proxy-Authorization: {good}\r\n\r\n"),
    )
    .await;
    assert!(h.starts_with("HTTP/1.1 200 "), "{h}");
    s.write_all(GET).await.expect("write");
    let (data, _) = read_all(&mut s).await;
    assert!(String::from_utf8_lossy(&data).ends_with("authed\n"));
    let reqs = proxy.requests();
    assert_eq!(reqs.len(), 3);
    assert!(!reqs[0].contains("Proxy-Authorization"));
    assert!(reqs[2].contains(&format!("Proxy-Authorization: {good}\r\n")));

    // Absolute-form with credentials: forwarded, credentials not passed on.
    let t = answer(
        &proxy,
        &format!(
            "GET http://backend.test/ HTTP/1.1\r\nHost: backend.test\r\n\
             proxy-authorization: basic {}\r\n\r\n",
            &good[6..]
        ),
    )
    .await;
    assert!(t.ends_with("authed\n"), "{t}");
    let last = backend.requests().pop().expect("forwarded");
    assert!(!last.to_ascii_lowercase().contains("proxy-authorization"));
}

#[tokio::test(flavor = "multi_thread")]
async fn refuse_answers_the_status_to_connect_and_requests() {
    let proxy = ProxyServer::start(
        ProxyBehavior::Refuse {
            status: 403,
            body: "blocked by policy\n".into(),
        },
        HashMap::new(),
    )
    .await;
    for head in [
        "CONNECT example.test:443 HTTP/1.1\r\n\r\n",
        "GET http://example.test/ HTTP/1.1\r\nHost: example.test\r\n\r\n",
    ] {
        let t = answer(&proxy, head).await;
        assert!(t.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{t}");
        assert!(t.contains("Connection: close\r\n"), "{t}");
        assert!(t.ends_with("\r\n\r\nblocked by policy\n"), "{t}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stall_reads_the_head_and_says_nothing() {
    let proxy = ProxyServer::start(ProxyBehavior::Stall, HashMap::new()).await;
    let mut s = TcpStream::connect(proxy.addr).await.expect("connect");
    s.write_all(b"CONNECT example.test:443 HTTP/1.1\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 16];
    assert!(tokio::time::timeout(QUIET, s.read(&mut buf)).await.is_err());
    assert_eq!(proxy.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn close_tunnel_says_200_then_closes() {
    let proxy = ProxyServer::start(ProxyBehavior::CloseTunnel, HashMap::new()).await;
    let t = answer(&proxy, "CONNECT example.test:443 HTTP/1.1\r\n\r\n").await;
    assert_eq!(t, "HTTP/1.1 200 Connection established\r\n\r\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_targets_get_gateway_errors() {
    let proxy = ProxyServer::start(forward(), map("dead.test", refused_addr())).await;
    let cases = [
        (
            "CONNECT nowhere.test:443 HTTP/1.1\r\n\r\n",
            "502 ",
            "unknown host nowhere.test",
        ),
        (
            "CONNECT dead.test:443 HTTP/1.1\r\n\r\n",
            "502 ",
            "connection refused",
        ),
        // TEST-NET-1: refused by the loopback-only rule, never connected.
        (
            "CONNECT 192.0.2.1:443 HTTP/1.1\r\n\r\n",
            "403 ",
            "not loopback",
        ),
        ("CONNECT no-port.test HTTP/1.1\r\n\r\n", "400 ", "host:port"),
        (
            "GET https://x.test/ HTTP/1.1\r\n\r\n",
            "400 ",
            "absolute-form",
        ),
        ("garbage\r\n\r\n", "400 ", "malformed"),
    ];
    for (head, status, why) in cases {
        let t = answer(&proxy, head).await;
        assert!(t.starts_with(&format!("HTTP/1.1 {status}")), "{head}: {t}");
        assert!(t.contains(why), "{head}: {t}");
    }
}
