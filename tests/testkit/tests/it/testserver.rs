//! The `testserver` binary: READY line, CA file, and a real answer.

use std::process::Stdio;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::read_all;

async fn spawn(args: &[&str]) -> (Child, std::net::SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_testserver"))
        .args(args)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn testserver");
    let out = child.stdout.take().expect("stdout");
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        BufReader::new(out).read_line(&mut line),
    )
    .await
    .expect("READY in time")
    .expect("read stdout");
    let addr = line
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("bad first line {line:?}"))
        .trim()
        .parse()
        .expect("addr");
    (child, addr)
}

#[tokio::test(flavor = "multi_thread")]
async fn http_ok_prints_ready_and_answers() {
    let (mut child, addr) = spawn(&["http-ok", "--seconds", "20"]).await;
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    assert!(String::from_utf8_lossy(&data).ends_with("\r\n\r\nok\n"));
    child.kill().await.expect("kill testserver");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_writes_ca_and_exits_after_seconds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    let ca_arg = ca.to_str().expect("utf8 path");
    let (mut child, _addr) = spawn(&["https-expired", "--ca-out", ca_arg, "--seconds", "1"]).await;
    let pem = std::fs::read_to_string(&ca).expect("CA written");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("exits after --seconds")
        .expect("wait");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_scenario_fails() {
    let out = Command::new(env!("CARGO_BIN_EXE_testserver"))
        .arg("nope")
        .output()
        .await
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// Sends `req` to `addr` and reads everything until the server closes.
async fn exchange(addr: std::net::SocketAddr, req: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(req).await.expect("write");
    let (data, end) = read_all(&mut s).await;
    end.expect("clean EOF");
    String::from_utf8_lossy(&data).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_scenarios_reach_ok_test() {
    let (mut child, addr) = spawn(&["proxy", "--seconds", "20"]).await;
    let t = exchange(
        addr,
        b"GET http://ok.test/ HTTP/1.1\r\nHost: ok.test\r\n\r\n",
    )
    .await;
    assert!(t.ends_with("ok via proxy\n"), "{t}");
    child.kill().await.expect("kill");

    let (mut child, addr) = spawn(&["proxy-407", "--seconds", "20"]).await;
    let t = exchange(addr, b"CONNECT ok.test:80 HTTP/1.1\r\n\r\n").await;
    assert!(t.starts_with("HTTP/1.1 407 "), "{t}");
    child.kill().await.expect("kill");

    let (mut child, addr) = spawn(&["socks5", "--seconds", "20"]).await;
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // No-auth hello, then CONNECT ok.test:80 by name, in one write.
    let mut req = vec![5, 1, 0, 5, 1, 0, 3, 7];
    req.extend_from_slice(b"ok.test");
    req.extend_from_slice(&80u16.to_be_bytes());
    req.extend_from_slice(b"GET / HTTP/1.1\r\nHost: ok.test\r\n\r\n");
    s.write_all(&req).await.expect("write");
    let (data, _) = read_all(&mut s).await;
    assert_eq!(&data[..4], &[5, 0, 5, 0], "method 0, then success");
    assert!(data.ends_with(b"ok via socks\n"));
    child.kill().await.expect("kill");
}

#[tokio::test(flavor = "multi_thread")]
async fn h2_and_redirect_loop_scenarios() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    let ca_arg = ca.to_str().expect("utf8 path");
    let (mut child, addr) = spawn(&["h2", "--ca-out", ca_arg, "--seconds", "20"]).await;
    let pem = std::fs::read_to_string(&ca).expect("CA written");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(&ca).expect("open CA") {
        roots.add(c.expect("parse CA")).expect("add root");
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let tls = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg)).connect(name, tcp),
    )
    .await
    .expect("in time")
    .expect("handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    child.kill().await.expect("kill");

    let (mut child, addr) = spawn(&["redirect-loop", "--seconds", "20"]).await;
    let t = exchange(addr, b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(t.starts_with("HTTP/1.1 302 Found\r\n"), "{t}");
    assert!(t.contains("\r\nLocation: /y\r\n"), "{t}");
    child.kill().await.expect("kill");
}
