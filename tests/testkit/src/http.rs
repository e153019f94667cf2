//! Plain-TCP HTTP/1.1 servers that misbehave on purpose.
//!
//! The behaviours are written against any `AsyncRead + AsyncWrite` stream
//! ([`serve_stream`]) so `tls.rs` reuses them after a handshake. Resets need
//! the raw socket, so `serve_stream` only *asks* for one ([`Ending::Reset`])
//! and the caller, which owns the `TcpStream`, performs it.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, sleep, timeout, timeout_at};

use crate::task::{TaskGuard, accept_loop};
use crate::{MAX_STALL, READ_BOUND};

#[derive(Clone, Debug)]
pub enum Behavior {
    /// Read the request head, answer `code` with the given extra headers and
    /// body, `Content-Length` and `Connection: close` added (unless `headers`
    /// already has them, so a test can lie), then close (FIN). No body for HEAD.
    Respond {
        code: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request head, then send nothing; close after [`MAX_STALL`] or
    /// when the client goes away.
    StallBeforeResponse,
    /// Read the request head, then close cleanly (FIN) without a byte.
    CloseBeforeResponse,
    /// Read the request head, then reset (SO_LINGER 0 then close -> RST).
    ResetBeforeResponse,
    /// Read the request head, answer `SSH-2.0-OpenSSH_9.6\r\n` and close.
    Garbage,
    /// 200 head with `Content-Length: content_length`, then `sent` body bytes
    /// one every `interval` (whole trickle bounded by [`MAX_STALL`]), then FIN.
    TrickleThenClose {
        content_length: usize,
        sent: usize,
        interval: Duration,
    },
    /// 200 head with `Content-Length: content_length` and `sent` body bytes at
    /// once, then stall ([`MAX_STALL`] max, or until the client goes away).
    StallMidBody { content_length: usize, sent: usize },
    /// 200 head with `Content-Length: content_length` and `sent` body bytes,
    /// a 50 ms pause (so the bytes are surely delivered first), then RST.
    ResetMidBody { content_length: usize, sent: usize },
    /// Chunked 200 whose body ends without the terminating 0-chunk: one chunk
    /// (`5\r\nhello\r\n`), then close (FIN).
    ChunkedThenClose,
    /// Accept and never read or write; close after [`MAX_STALL`]. On a TLS
    /// server this runs on the raw TCP socket (no handshake): a handshake stall.
    AcceptAndHold,
    /// Accept, read whatever arrives first (e.g. a TLS ClientHello), close
    /// (FIN). On a TLS server this runs on the raw TCP socket too.
    ReadThenClose,
    /// Accept, read whatever arrives first (e.g. a TLS ClientHello), then
    /// reset (SO_LINGER 0 then close -> RST). On a TLS server this runs on the
    /// raw TCP socket too: a handshake reset.
    ReadThenReset,
    /// Accept, read whatever arrives first, answer a plain-text
    /// `HTTP/1.1 400 Bad Request` and close (FIN), without waiting for a
    /// request head: what nginx does when a TLS ClientHello reaches its plain
    /// HTTP port. On a TLS server this runs on the raw TCP socket too.
    ReadThenBadRequest,
    /// Accept, then reset at once (SO_LINGER 0 then close -> RST) without reading: the client
    /// sees its connect succeed and the next read or write fail. On a TLS server this runs on
    /// the raw TCP socket too.
    ResetOnAccept,
}

impl Behavior {
    /// True for behaviours that act below TLS (TlsServer skips the handshake).
    pub fn is_tcp_level(&self) -> bool {
        matches!(
            self,
            Behavior::AcceptAndHold
                | Behavior::ReadThenClose
                | Behavior::ReadThenReset
                | Behavior::ReadThenBadRequest
                | Behavior::ResetOnAccept
        )
    }

    /// A plain `200 OK` with `body` (convenience for the common case).
    pub fn ok(body: &str) -> Behavior {
        Behavior::Respond {
            code: 200,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// A redirect: `code` (301, 302, 303, 307, 308 ...) with `Location:
    /// location` (relative or absolute, sent as given) and a short body.
    /// Combine with [`HttpServer::start_router`] for chains and loops.
    pub fn redirect(code: u16, location: &str) -> Behavior {
        Behavior::Respond {
            code,
            headers: vec![
                ("Location".into(), location.into()),
                ("Content-Type".into(), "text/plain".into()),
            ],
            body: format!("redirect to {location}\n").into_bytes(),
        }
    }
}

/// How [`serve_stream`] wants the connection finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Already shut down cleanly (FIN sent); just drop the stream.
    Closed,
    /// Set SO_LINGER 0 on the underlying TCP socket, then drop it (RST).
    Reset,
}

/// Most request heads a [`Log`] keeps (benchmarks may send many thousands).
const MAX_LOGGED: usize = 10_000;
/// Most bytes of a request head we read before giving up on the client.
const MAX_HEAD: usize = 128 * 1024;

/// What a server saw: request heads and accepted connections.
#[derive(Debug, Default)]
pub struct Log {
    requests: Mutex<Vec<String>>,
    connections: AtomicUsize,
}

impl Log {
    /// Raw request heads (up to and including the blank line), oldest first;
    /// the first 10 000 only.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    pub(crate) fn record_connection(&self) {
        self.connections.fetch_add(1, Ordering::SeqCst);
    }
    pub(crate) fn record_request(&self, head: &[u8]) {
        let mut v = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        if v.len() < MAX_LOGGED {
            v.push(String::from_utf8_lossy(head).into_owned());
        }
    }
}

pub struct HttpServer {
    pub addr: SocketAddr,
    log: Arc<Log>,
    _tasks: TaskGuard,
}

impl HttpServer {
    /// Serves `b` on 127.0.0.1:<random port>, every connection alike.
    pub async fn start(b: Behavior) -> HttpServer {
        let at = SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);
        Self::bind(at, Plan::One(b)).await
    }

    /// Same on [::1]:<random port>; panics if the machine has no IPv6 loopback.
    pub async fn start_v6(b: Behavior) -> HttpServer {
        let at = SocketAddr::new(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), 0);
        Self::bind(at, Plan::One(b)).await
    }

    /// Serves `b` on a chosen loopback address and port (0 = any free port).
    /// All of 127.0.0.0/8 is loopback on Linux, so 127.0.0.2, 127.0.0.3 ...
    /// work without setup; with [`crate::addrs::free_port_on_all`] a test can
    /// serve 127.0.0.1:P and 127.0.0.3:P while 127.0.0.2:P refuses. Panics if
    /// `ip` is not a loopback address (tests never listen elsewhere) or the
    /// bind fails (port taken).
    pub async fn start_on(ip: IpAddr, port: u16, b: Behavior) -> HttpServer {
        assert!(
            ip.is_loopback(),
            "HttpServer::start_on: {ip} is not a loopback address"
        );
        Self::bind(SocketAddr::new(ip, port), Plan::One(b)).await
    }

    /// One server on 127.0.0.1:<random port> answering per request path:
    /// the first route whose path equals the request path (query included),
    /// else the first equal to the path without its query, else a 404.
    /// Absolute-form targets (`GET http://h/p`) are matched by their path.
    /// The head is always read first, so TCP-level behaviours act after it
    /// (`AcceptAndHold` stalls, `ReadThenClose` closes, `ReadThenReset`
    /// resets, `ReadThenBadRequest` answers 400). Each request line is logged
    /// ([`HttpServer::request_lines`]), so tests can check methods per hop.
    pub async fn start_router(routes: Vec<(String, Behavior)>) -> HttpServer {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), Plan::Routes(routes)).await
    }

    /// One server on 127.0.0.1 whose n-th connection gets the n-th behaviour, the last one
    /// repeating: "503 twice, then 200" for retry tests. Panics on an empty list.
    pub async fn start_sequence(behaviors: Vec<Behavior>) -> HttpServer {
        assert!(
            !behaviors.is_empty(),
            "HttpServer::start_sequence: no behaviour"
        );
        Self::bind(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            Plan::Sequence(behaviors, std::sync::atomic::AtomicUsize::new(0)),
        )
        .await
    }

    /// One server on 127.0.0.1 whose n-th connection gets behaviour n modulo the list's length:
    /// a failure on a schedule ("every third request 503", "every fifth connection reset") for
    /// watch tests. Panics on an empty list.
    pub async fn start_cycle(behaviors: Vec<Behavior>) -> HttpServer {
        assert!(
            !behaviors.is_empty(),
            "HttpServer::start_cycle: no behaviour"
        );
        Self::bind(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            Plan::Cycle(behaviors, AtomicUsize::new(0)),
        )
        .await
    }

    /// `b` on `ip` at a port that is also free on every address of `others` (for tests that
    /// pin one name to several loopback addresses). The free port is found first and bound
    /// after, so another process can take it in between: try again then, a bounded number of
    /// times.
    pub async fn start_on_port_free_on(ip: IpAddr, others: &[IpAddr], b: Behavior) -> HttpServer {
        let mut all = vec![ip];
        all.extend_from_slice(others);
        for _ in 0..20 {
            let port = crate::addrs::free_port_on_all(&all);
            if let Ok(listener) = TcpListener::bind(SocketAddr::new(ip, port)).await {
                return Self::serve_listener(listener, Plan::One(b));
            }
        }
        panic!("HttpServer: no port free on {all:?} after 20 tries");
    }

    async fn bind(at: SocketAddr, plan: Plan) -> HttpServer {
        let listener = TcpListener::bind(at)
            .await
            .unwrap_or_else(|e| panic!("HttpServer: bind {at}: {e}"));
        Self::serve_listener(listener, plan)
    }

    fn serve_listener(listener: TcpListener, plan: Plan) -> HttpServer {
        let addr = listener.local_addr().expect("HttpServer: local_addr");
        let log = Arc::new(Log::default());
        let mut tasks = TaskGuard::new();
        let (plan, l) = (Arc::new(plan), log.clone());
        tasks.spawn(accept_loop(listener, move |tcp| {
            let (plan, l) = (plan.clone(), l.clone());
            async move {
                match &*plan {
                    Plan::One(b) => serve_tcp(tcp, b, &l).await,
                    Plan::Routes(r) => serve_routes_tcp(tcp, r, &l).await,
                    Plan::Cycle(list, next) => {
                        let n = next.fetch_add(1, Ordering::SeqCst);
                        // Not empty: start_cycle refuses an empty list.
                        if let Some(b) = list.get(n % list.len().max(1)) {
                            serve_tcp(tcp, b, &l).await
                        }
                    }
                    Plan::Sequence(list, next) => {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        // Not empty: start_sequence refuses an empty list.
                        if let Some(b) = list.get(n.min(list.len().saturating_sub(1))) {
                            serve_tcp(tcp, b, &l).await
                        }
                    }
                }
            }
        }));
        HttpServer {
            addr,
            log,
            _tasks: tasks,
        }
    }

    /// Raw request heads received so far (see [`Log::requests`]).
    pub fn requests(&self) -> Vec<String> {
        self.log.requests()
    }
    /// The first line of each request head (`"POST /a HTTP/1.1"`), oldest first.
    pub fn request_lines(&self) -> Vec<String> {
        self.log
            .requests()
            .iter()
            .map(|h| h.lines().next().unwrap_or_default().to_string())
            .collect()
    }
    pub fn connections(&self) -> usize {
        self.log.connections()
    }
    /// `http://<addr>/` with IPv6 brackets where needed.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

/// What a server answers: one behaviour for everything, or one per path.
enum Plan {
    One(Behavior),
    Routes(Vec<(String, Behavior)>),
    /// The n-th connection gets the n-th behaviour; the last one repeats.
    Sequence(Vec<Behavior>, std::sync::atomic::AtomicUsize),
    /// The n-th connection gets behaviour n modulo the length.
    Cycle(Vec<Behavior>, AtomicUsize),
}

/// Runs `b` on a plain TCP connection, performing the reset if asked.
pub(crate) async fn serve_tcp(mut tcp: TcpStream, b: &Behavior, log: &Log) {
    log.record_connection();
    if serve_stream(&mut tcp, b, log).await == Ending::Reset {
        let _ = tcp.set_zero_linger();
    }
    drop(tcp);
}

/// Runs behaviour `b` over `s`. Pass `&mut stream` to keep the stream and
/// honour [`Ending::Reset`] (only the owner of the TCP socket can reset it).
pub async fn serve_stream<S>(mut s: S, b: &Behavior, log: &Log) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if let Some(end) = serve_before_head(&mut s, b).await {
        return end;
    }
    let Some(head) = read_head(&mut s).await else {
        return close(&mut s).await; // client gave up or sent junk: just close
    };
    log.record_request(&head);
    serve_after_head(&mut s, &head, b).await
}

/// Router flavour of [`serve_tcp`].
async fn serve_routes_tcp(mut tcp: TcpStream, routes: &[(String, Behavior)], log: &Log) {
    log.record_connection();
    if serve_routes(&mut tcp, routes, log).await == Ending::Reset {
        let _ = tcp.set_zero_linger();
    }
}

/// Reads one head and runs the behaviour routed for its path (see
/// [`HttpServer::start_router`]).
async fn serve_routes<S>(mut s: S, routes: &[(String, Behavior)], log: &Log) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(head) = read_head(&mut s).await else {
        return close(&mut s).await;
    };
    log.record_request(&head);
    let target = request_path(&head);
    let path = target.split('?').next().unwrap_or_default();
    let routed = routes
        .iter()
        .find(|(p, _)| *p == target)
        .or_else(|| routes.iter().find(|(p, _)| *p == path));
    match routed {
        Some((_, b)) => serve_after_head(&mut s, &head, b).await,
        None => {
            let b = Behavior::Respond {
                code: 404,
                headers: vec![("Content-Type".into(), "text/plain".into())],
                body: format!("no route for {target}\n").into_bytes(),
            };
            serve_after_head(&mut s, &head, &b).await
        }
    }
}

/// The request target's path (and query) from a head: origin-form as is,
/// absolute-form stripped of scheme and authority; "/" if there is none.
fn request_path(head: &[u8]) -> String {
    let line = String::from_utf8_lossy(head.split(|&c| c == b'\r').next().unwrap_or_default())
        .into_owned();
    let target = line.split(' ').nth(1).unwrap_or("/");
    let rest = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"));
    match rest {
        Some(r) => match r.find('/') {
            Some(i) => r[i..].to_string(),
            None => "/".to_string(),
        },
        None => target.to_string(),
    }
}

/// The behaviours that act before (instead of) reading a request head;
/// `None` for the others.
async fn serve_before_head<S>(s: &mut S, b: &Behavior) -> Option<Ending>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    Some(match b {
        Behavior::AcceptAndHold => {
            sleep(MAX_STALL).await;
            close(s).await
        }
        Behavior::ReadThenClose => {
            let mut buf = vec![0u8; 16 * 1024];
            let _ = timeout(READ_BOUND, s.read(&mut buf)).await;
            close(s).await
        }
        Behavior::ReadThenReset => {
            let mut buf = vec![0u8; 16 * 1024];
            let _ = timeout(READ_BOUND, s.read(&mut buf)).await;
            Ending::Reset
        }
        Behavior::ResetOnAccept => Ending::Reset,
        Behavior::ReadThenBadRequest => {
            let mut buf = vec![0u8; 16 * 1024];
            let _ = timeout(READ_BOUND, s.read(&mut buf)).await;
            bad_request(s).await
        }
        _ => return None,
    })
}

async fn bad_request<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> Ending {
    let body = b"400 Bad Request: this port speaks plain HTTP\n";
    let mut out = response_head(400, &[], body.len());
    out.extend_from_slice(body);
    write_all(s, &out).await;
    close(s).await
}

/// Runs `b` once the request `head` has been read. TCP-level behaviours only
/// get here through a router; they then act after the head.
async fn serve_after_head<S>(s: &mut S, head: &[u8], b: &Behavior) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match b {
        Behavior::Respond {
            code,
            headers,
            body,
        } => {
            let mut out = response_head(*code, headers, body.len());
            if !head.starts_with(b"HEAD ") {
                out.extend_from_slice(body);
            }
            if write_all(s, &out).await {
                close(s).await
            } else {
                Ending::Closed
            }
        }
        Behavior::StallBeforeResponse | Behavior::AcceptAndHold => {
            hold(s).await;
            close(s).await
        }
        Behavior::CloseBeforeResponse | Behavior::ReadThenClose => close(s).await,
        Behavior::ResetBeforeResponse | Behavior::ReadThenReset | Behavior::ResetOnAccept => {
            Ending::Reset
        }
        Behavior::ReadThenBadRequest => bad_request(s).await,
        Behavior::Garbage => {
            write_all(s, b"SSH-2.0-OpenSSH_9.6\r\n").await;
            close(s).await
        }
        Behavior::TrickleThenClose {
            content_length,
            sent,
            interval,
        } => {
            if !write_all(s, &ok_head(*content_length)).await {
                return Ending::Closed;
            }
            let deadline = Instant::now() + MAX_STALL;
            for i in 0..*sent {
                if i > 0 && timeout_at(deadline, sleep(*interval)).await.is_err() {
                    break;
                }
                if !write_all(s, b"x").await {
                    return Ending::Closed;
                }
            }
            close(s).await
        }
        Behavior::StallMidBody {
            content_length,
            sent,
        } => {
            let mut out = ok_head(*content_length);
            out.resize(out.len() + sent, b'x');
            if write_all(s, &out).await {
                hold(s).await;
            }
            close(s).await
        }
        Behavior::ResetMidBody {
            content_length,
            sent,
        } => {
            let mut out = ok_head(*content_length);
            out.resize(out.len() + sent, b'x');
            write_all(s, &out).await;
            // Give the client time to read the bytes before the RST arrives.
            sleep(Duration::from_millis(50)).await;
            Ending::Reset
        }
        Behavior::ChunkedThenClose => {
            let out = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
                        Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                        5\r\nhello\r\n";
            write_all(s, out).await;
            close(s).await
        }
    }
}

/// Reads until "\r\n\r\n"; `None` on EOF, error, > 64 KiB or > 10 s.
async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    read_head_and_rest(s).await.map(|(head, _)| head)
}

/// Like [`read_head`], also returning the bytes read past the head (a
/// request body, or a TLS ClientHello sent right behind a CONNECT), which a
/// proxy must pass on.
pub(crate) async fn read_head_and_rest<S: AsyncRead + Unpin>(
    s: &mut S,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let deadline = Instant::now() + READ_BOUND;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    // Each pass adds at least one byte, so MAX_HEAD also bounds the loop.
    while buf.len() < MAX_HEAD {
        let n = timeout_at(deadline, s.read(&mut chunk)).await.ok()?.ok()?;
        if n == 0 {
            return None;
        }
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(from + i + 4);
            return Some((buf, rest));
        }
    }
    None
}

pub(crate) fn response_head(code: u16, headers: &[(String, String)], body_len: usize) -> Vec<u8> {
    let has = |n: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    let mut h = format!("HTTP/1.1 {code} {}\r\n", reason(code));
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has("content-length") && !has("transfer-encoding") {
        h.push_str(&format!("Content-Length: {body_len}\r\n"));
    }
    if !has("connection") {
        h.push_str("Connection: close\r\n");
    }
    h.push_str("\r\n");
    h.into_bytes()
}

fn ok_head(content_length: usize) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
         Content-Length: {content_length}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        407 => "Proxy Authentication Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Writes and flushes (TLS buffers until flushed); false if the client is gone.
pub(crate) async fn write_all<S: AsyncWrite + Unpin>(s: &mut S, data: &[u8]) -> bool {
    let r = timeout(READ_BOUND, async {
        s.write_all(data).await?;
        s.flush().await
    })
    .await;
    matches!(r, Ok(Ok(())))
}

/// Keeps the connection open without answering, for at most [`MAX_STALL`];
/// returns early when the client closes, so abandoned stalls free the socket.
pub(crate) async fn hold<S: AsyncRead + Unpin>(s: &mut S) {
    let deadline = Instant::now() + MAX_STALL;
    let mut buf = [0u8; 4096];
    // Bounded by the deadline; each pass either reads data or ends.
    loop {
        match timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => continue, // pipelined bytes: ignore
            _ => return,
        }
    }
}

/// Clean close: send FIN (TLS: close_notify first), then drain what the client
/// still sends for up to 2 s so unread bytes don't turn our close into an RST.
pub(crate) async fn close<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> Ending {
    let _ = timeout(Duration::from_secs(2), async {
        let _ = s.shutdown().await;
        let mut buf = [0u8; 4096];
        // Bounded by the 2 s timeout around it.
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    Ending::Closed
}
