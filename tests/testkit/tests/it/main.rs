//! Behaviour tests for the testkit servers, using plain tokio / tokio-rustls /
//! hickory-proto clients on loopback only.

mod dns;
mod http;
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
