//! `--metrics-listen ADDR`: a small HTTP/1.1 responder for Prometheus. GET /metrics answers the
//! run's OpenMetrics text; anything else gets 404 or 405. One request per connection, a few
//! connections at a time, every read and write bounded in time, so a slow or hostile scraper
//! cannot stall the run or pile up tasks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Scrapes served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 8;
/// Time allowed to send a request head, and to take the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest request head read.
const MAX_HEAD: usize = 8 * 1024;

const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Bind `addr`; the one-line error names the address.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("--metrics-listen {addr}: cannot listen there: {e}"))
}

/// Serve `metrics()` at /metrics until the task is dropped.
pub(crate) async fn serve<F>(listener: TcpListener, metrics: F)
where
    F: Fn() -> String + Send + Sync + 'static,
{
    let metrics = Arc::new(metrics);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: wait a little instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(IO_TIMEOUT * 2, answer(stream, &*metrics)).await;
            drop(permit);
        });
    }
}

/// Read one request head and answer it.
async fn answer(mut stream: TcpStream, metrics: &(dyn Fn() -> String + Send + Sync)) {
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, body, content_type) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => ("200 OK", metrics(), CONTENT_TYPE),
        (_, "/metrics") => (
            "405 Method Not Allowed",
            "GET /metrics\n".into(),
            "text/plain",
        ),
        _ => (
            "404 Not Found",
            "netpeel serves /metrics only\n".into(),
            "text/plain",
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        response.push_str(&body);
    }
    let _ = tokio::time::timeout(IO_TIMEOUT, stream.write_all(response.as_bytes())).await;
    let _ = tokio::time::timeout(IO_TIMEOUT, stream.shutdown()).await;
}

/// The request head (up to the blank line), or None when the client is too slow, too long or
/// gone.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + IO_TIMEOUT;
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}
