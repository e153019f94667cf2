use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use testkit::http::{Behavior, HttpServer};
use testkit::socks::{Atyp, SocksOptions, SocksRequest, SocksServer, reply};
use testkit::tcp::refused_addr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::read_all;

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: backend.test\r\n\r\n";

enum Dst<'a> {
    Ip(SocketAddr),
    Name(&'a str, u16),
}

/// What a minimal SOCKS5 client got at each step.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Method selection answered 0xFF (or something else unexpected).
    Method(u8),
    /// RFC 1929 status byte was not 0.
    AuthFailed(u8),
    /// The CONNECT reply code (0 = success).
    Reply(u8),
}

/// Negotiates with `methods`, authenticates if the server picks 0x02, sends
/// CONNECT to `dst`; returns the stream (tunnel on success) and the outcome.
async fn socks(
    proxy: SocketAddr,
    methods: &[u8],
    creds: (&str, &str),
    dst: Dst<'_>,
) -> (TcpStream, Outcome) {
    let mut s = TcpStream::connect(proxy).await.expect("connect socks");
    let mut hello = vec![5, u8::try_from(methods.len()).expect("few")];
    hello.extend_from_slice(methods);
    s.write_all(&hello).await.expect("hello");
    let mut sel = [0u8; 2];
    s.read_exact(&mut sel).await.expect("method selection");
    assert_eq!(sel[0], 5);
    match sel[1] {
        0x00 => {}
        0x02 => {
            let mut a = vec![1, u8::try_from(creds.0.len()).expect("short")];
            a.extend_from_slice(creds.0.as_bytes());
            a.push(u8::try_from(creds.1.len()).expect("short"));
            a.extend_from_slice(creds.1.as_bytes());
            s.write_all(&a).await.expect("auth");
            let mut st = [0u8; 2];
            s.read_exact(&mut st).await.expect("auth status");
            if st[1] != 0 {
                return (s, Outcome::AuthFailed(st[1]));
            }
        }
        other => return (s, Outcome::Method(other)),
    }
    let mut req = vec![5, 1, 0];
    match dst {
        Dst::Ip(a) => {
            match a.ip() {
                IpAddr::V4(ip) => {
                    req.push(1);
                    req.extend_from_slice(&ip.octets());
                }
                IpAddr::V6(ip) => {
                    req.push(4);
                    req.extend_from_slice(&ip.octets());
                }
            }
            req.extend_from_slice(&a.port().to_be_bytes());
        }
        Dst::Name(n, port) => {
            req.extend_from_slice(&[3, u8::try_from(n.len()).expect("short")]);
            req.extend_from_slice(n.as_bytes());
            req.extend_from_slice(&port.to_be_bytes());
        }
    }
    s.write_all(&req).await.expect("request");
    let mut rep = [0u8; 4];
    s.read_exact(&mut rep).await.expect("reply");
    let addr_len = match rep[3] {
        1 => 4,
        4 => 16,
        t => panic!("bad reply ATYP {t}"),
    };
    let mut rest = vec![0u8; addr_len + 2];
    s.read_exact(&mut rest).await.expect("bound addr");
    (s, Outcome::Reply(rep[1]))
}

async fn fetch_through(mut s: TcpStream) -> String {
    s.write_all(GET).await.expect("write through");
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    String::from_utf8_lossy(&data).into_owned()
}

fn with_map(name: &str, addr: SocketAddr) -> SocksOptions {
    SocksOptions {
        resolve: HashMap::from([(name.to_string(), addr)]),
        ..SocksOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_by_ipv4_records_an_address() {
    let backend = HttpServer::start(Behavior::ok("socks-ip\n")).await;
    let srv = SocksServer::start(SocksOptions::default()).await;
    let port = srv.addr.port();
    assert_eq!(srv.url(false), format!("socks5://127.0.0.1:{port}"));
    assert_eq!(srv.url(true), format!("socks5h://127.0.0.1:{port}"));
    let (s, out) = socks(srv.addr, &[0], ("", ""), Dst::Ip(backend.addr)).await;
    assert_eq!(out, Outcome::Reply(reply::SUCCEEDED));
    assert!(fetch_through(s).await.ends_with("socks-ip\n"));
    assert_eq!(
        srv.requests(),
        vec![SocksRequest {
            atyp: Atyp::Ipv4,
            host: "127.0.0.1".into(),
            port: backend.addr.port(),
            user: None,
        }]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_by_ipv6() {
    let backend = HttpServer::start_v6(Behavior::ok("socks-v6\n")).await;
    let srv = SocksServer::start(SocksOptions::default()).await;
    let (s, out) = socks(srv.addr, &[0], ("", ""), Dst::Ip(backend.addr)).await;
    assert_eq!(out, Outcome::Reply(0));
    assert!(fetch_through(s).await.ends_with("socks-v6\n"));
    let r = &srv.requests()[0];
    assert_eq!((r.atyp, r.host.as_str()), (Atyp::Ipv6, "::1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_by_domain_uses_the_map_and_records_the_name() {
    let backend = HttpServer::start(Behavior::ok("socks-name\n")).await;
    let srv = SocksServer::start(with_map("Backend.Test", backend.addr)).await;
    let (s, out) = socks(srv.addr, &[0], ("", ""), Dst::Name("backend.test", 443)).await;
    assert_eq!(out, Outcome::Reply(0));
    assert!(fetch_through(s).await.ends_with("socks-name\n"));
    let r = &srv.requests()[0];
    assert_eq!(
        (r.atyp, r.host.as_str(), r.port),
        (Atyp::Domain, "backend.test", 443)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_get_their_reply_codes() {
    let srv = SocksServer::start(with_map("dead.test", refused_addr())).await;
    let cases = [
        (Dst::Name("unknown.test", 80), reply::HOST_UNREACHABLE),
        (Dst::Name("dead.test", 80), reply::CONNECTION_REFUSED),
        (Dst::Ip(refused_addr()), reply::CONNECTION_REFUSED),
        // TEST-NET-1: refused by the loopback-only rule, never connected.
        (
            Dst::Ip(SocketAddr::from(([192, 0, 2, 1], 80))),
            reply::NOT_ALLOWED,
        ),
    ];
    for (dst, want) in cases {
        let (mut s, out) = socks(srv.addr, &[0], ("", ""), dst).await;
        assert_eq!(out, Outcome::Reply(want));
        let (rest, end) = read_all(&mut s).await;
        assert!(rest.is_empty() && end.is_ok(), "closed after the reply");
    }
    assert_eq!(srv.requests().len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn forced_reply_codes() {
    let backend = HttpServer::start(Behavior::ok("never\n")).await;
    for code in [reply::NOT_ALLOWED, reply::CONNECTION_REFUSED, 0x01] {
        let srv = SocksServer::start(SocksOptions {
            reply: Some(code),
            ..with_map("backend.test", backend.addr)
        })
        .await;
        let (_s, out) = socks(srv.addr, &[0], ("", ""), Dst::Name("backend.test", 80)).await;
        assert_eq!(out, Outcome::Reply(code));
        assert_eq!(srv.requests().len(), 1, "request recorded first");
    }
    assert_eq!(backend.connections(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn username_password_auth() {
    let backend = HttpServer::start(Behavior::ok("socks-auth\n")).await;
    let srv = SocksServer::start(SocksOptions {
        auth: Some(("alice".into(), "s3cret".into())),
        ..with_map("backend.test", backend.addr)
    })
    .await;
    let dst = || Dst::Name("backend.test", 80);
    let (_s, out) = socks(srv.addr, &[0], ("", ""), dst()).await;
    assert_eq!(out, Outcome::Method(0xFF), "no-auth only is not acceptable");
    let (_s, out) = socks(srv.addr, &[0, 2], ("alice", "wrong"), dst()).await;
    assert_eq!(out, Outcome::AuthFailed(1));
    let (s, out) = socks(srv.addr, &[0, 2], ("alice", "s3cret"), dst()).await;
    assert_eq!(out, Outcome::Reply(0));
    assert!(fetch_through(s).await.ends_with("socks-auth\n"));
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1, "only the authenticated request is recorded");
    assert_eq!(reqs[0].user.as_deref(), Some("alice"));
    assert_eq!(srv.connections(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_auth_server_still_takes_username_password() {
    let backend = HttpServer::start(Behavior::ok("any-creds\n")).await;
    let srv = SocksServer::start(SocksOptions::default()).await;
    let (s, out) = socks(srv.addr, &[2], ("bob", "x"), Dst::Ip(backend.addr)).await;
    assert_eq!(out, Outcome::Reply(0));
    assert!(fetch_through(s).await.ends_with("any-creds\n"));
    assert_eq!(srv.requests()[0].user.as_deref(), Some("bob"));
}
