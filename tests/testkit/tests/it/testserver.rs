//! The `testserver` binary: READY line, CA file, and a real answer.

use std::process::Stdio;
use std::time::Duration;

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
