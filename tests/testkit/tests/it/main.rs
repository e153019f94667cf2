//! Behaviour tests for the testkit servers, using plain tokio / tokio-rustls /
//! hickory-proto / hyper clients on loopback only.

mod dns;
mod http;
mod http2;
mod proxy;
mod router;
mod socks;
mod testserver;
mod tls;

use std::time::Duration;

use tokio::io::AsyncReadExt;

/// Short wait used to prove "nothing arrives" (stalls, silence, black holes).
pub const QUIET: Duration = Duration::from_millis(300);

/// Reads until EOF, error or 5 s; returns the bytes and how reading ended.
pub async fn read_all<S: tokio::io::AsyncRead + Unpin>(
    s: &mut S,
) -> (Vec<u8>, std::io::Result<()>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return (data, Err(std::io::ErrorKind::TimedOut.into())),
            Ok(Ok(0)) => return (data, Ok(())),
            Ok(Ok(n)) => data.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => return (data, Err(e)),
        }
    }
}

/// Reads one response head (up to the blank line) without reading past it,
/// so a tunnel's first bytes stay in the stream; 5 s bound.
pub async fn read_head<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 64 * 1024, "head too long");
        let n = tokio::time::timeout_at(deadline, s.read(&mut b))
            .await
            .expect("head in time")
            .expect("read head");
        assert!(
            n == 1,
            "EOF inside head: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(b[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}
