//! An HTTP/2-capable TLS server: ALPN `h2` and `http/1.1`, the test CA's
//! certificates (see `tls.rs`), and HTTP/2 failures a client must classify.
//!
//! `Respond` is served by hyper's own servers (`http2` when ALPN chose h2,
//! `http1` otherwise), so a client meets a real-world HTTP/2 stack. The
//! failures need precise frames, so they bypass hyper: `ResetStream` uses
//! the `h2` crate's `send_reset`, and `GoAway` writes the few frames it needs
//! itself, because the `h2` crate counts a stream as processed as soon as its
//! HEADERS arrive and so cannot send "last stream 0" after a request came in.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::TlsAcceptor;

use crate::http::{Log, close, read_head_and_rest};
use crate::task::{TaskGuard, accept_loop};
use crate::tls::{self, CertKind};
use crate::{MAX_STALL, READ_BOUND};

/// HTTP/2 error codes (RFC 9113 §7), for the `*With` behaviours.
pub mod reason {
    pub const NO_ERROR: u32 = 0x0;
    pub const PROTOCOL_ERROR: u32 = 0x1;
    pub const INTERNAL_ERROR: u32 = 0x2;
    pub const REFUSED_STREAM: u32 = 0x7;
    pub const CANCEL: u32 = 0x8;
    pub const ENHANCE_YOUR_CALM: u32 = 0xb;
    pub const HTTP_1_1_REQUIRED: u32 = 0xd;
}

#[derive(Clone, Debug)]
pub enum H2Behavior {
    /// Answer every request `code` with `body` (text/plain), over h2 or
    /// http/1.1 (hyper servers, keep-alive).
    Respond { code: u16, body: String },
    /// `GoAwayWith { code: NO_ERROR }`: the graceful "I am shutting down,
    /// your request was not processed, retry elsewhere".
    GoAway,
    /// h2: once the client's first HEADERS frame arrives, send GOAWAY with
    /// last-stream-id 0 and `code`, then close (close_notify, FIN) without
    /// answering. The request was provably not processed. http/1.1: read the
    /// request head and close (FIN) without answering.
    GoAwayWith { code: u32 },
    /// `ResetStreamWith { code: INTERNAL_ERROR }`.
    ResetStream,
    /// h2: answer every request with RST_STREAM(`code`); the connection stays
    /// usable (until the client closes it or [`MAX_STALL`]). http/1.1: read
    /// the request head, then reset the TCP connection (RST).
    ResetStreamWith { code: u32 },
    /// h2: once the client's first HEADERS frame arrives, send a DATA frame on stream 0 (a
    /// connection-level PROTOCOL_ERROR the client's library must answer with its own
    /// GOAWAY), then close. http/1.1: read the request head and close (FIN).
    BadFrame,
}

pub struct H2Options {
    pub kind: CertKind,
    /// ALPN protocols offered, in preference order; `["h2", "http/1.1"]` by
    /// default. A client offering none of them gets `no_application_protocol`.
    pub alpn: Vec<Vec<u8>>,
    pub behavior: H2Behavior,
}

pub struct H2Server {
    pub addr: SocketAddr,
    /// PEM of the trusted test CA (lives in a temp dir owned by this value).
    pub ca_pem_path: PathBuf,
    /// PEM of the trusted test CA, in memory.
    pub ca_pem: String,
    state: Arc<State>,
    _dir: tempfile::TempDir,
    _tasks: TaskGuard,
}

#[derive(Default)]
struct State {
    /// One entry per completed TLS handshake.
    protocols: Mutex<Vec<String>>,
    /// Request lines, e.g. "GET /x HTTP/2.0".
    log: Log,
}

/// Most entries `protocols` keeps.
const MAX_LOGGED: usize = 10_000;
/// Most streams one connection may open under `ResetStream`.
const MAX_STREAMS: usize = 1_000;
/// Most frames `GoAway` reads while waiting for the first HEADERS.
const MAX_FRAMES: usize = 100;
/// Biggest frame payload `GoAway` accepts (the default SETTINGS_MAX_FRAME_SIZE).
const MAX_FRAME_LEN: usize = 16_384;
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

impl H2Server {
    /// `b` on 127.0.0.1:<random port>, CertKind::Valid, ALPN h2 then http/1.1.
    pub async fn start(b: H2Behavior) -> H2Server {
        Self::start_with(H2Options {
            kind: CertKind::Valid,
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            behavior: b,
        })
        .await
    }

    pub async fn start_with(opts: H2Options) -> H2Server {
        if let H2Behavior::Respond { code, .. } = &opts.behavior {
            assert!(
                StatusCode::from_u16(*code).is_ok(),
                "H2Server: bad status {code}"
            );
        }
        let (dir, ca_pem_path) = tls::ca_file();
        let (cfg, _leaf) = tls::server_config(opts.kind, &opts.alpn, tls::ClientAuth::Off, false);
        let acceptor = TlsAcceptor::from(Arc::new(cfg));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("H2Server: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("H2Server: local_addr");
        let state = Arc::new(State::default());
        let (b, st) = (Arc::new(opts.behavior), state.clone());
        let mut tasks = TaskGuard::new();
        tasks.spawn(accept_loop(listener, move |tcp| {
            let (b, st, acc) = (b.clone(), st.clone(), acceptor.clone());
            async move { serve(tcp, acc, b, st).await }
        }));
        H2Server {
            addr,
            ca_pem_path,
            ca_pem: tls::certs::test_ca().pem.clone(),
            state,
            _dir: dir,
            _tasks: tasks,
        }
    }

    /// `https://localhost:<port>/`.
    pub fn url(&self) -> String {
        format!("https://localhost:{}/", self.addr.port())
    }
    /// The ALPN protocol negotiated on each TLS connection, in order:
    /// "h2", "http/1.1", or "" when the client offered no ALPN.
    pub fn protocols(&self) -> Vec<String> {
        self.state
            .protocols
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    /// One line per request: "GET /path HTTP/2.0" or "GET /path HTTP/1.1";
    /// under h2 `GoAway` (whose HEADERS are not decoded) "HEADERS stream N".
    pub fn requests(&self) -> Vec<String> {
        self.state.log.requests()
    }
    /// TCP connections accepted (whether or not the handshake succeeded).
    pub fn connections(&self) -> usize {
        self.state.log.connections()
    }
    /// A root store holding only the test CA, for test clients.
    pub fn root_store(&self) -> rustls::RootCertStore {
        tls::test_root_store()
    }
}

async fn serve(tcp: TcpStream, acceptor: TlsAcceptor, b: Arc<H2Behavior>, st: Arc<State>) {
    st.log.record_connection();
    // Handshake failures (a client rejecting an odd CertKind) end quietly.
    let Ok(Ok(mut tls)) = timeout(READ_BOUND, acceptor.accept(tcp)).await else {
        return;
    };
    let proto = tls
        .get_ref()
        .1
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    {
        let mut v = st.protocols.lock().unwrap_or_else(|e| e.into_inner());
        if v.len() < MAX_LOGGED {
            v.push(proto.clone());
        }
    }
    let h2 = proto == "h2";
    match (&*b, h2) {
        (H2Behavior::Respond { code, body }, _) => {
            let body = Bytes::from(body.clone().into_bytes());
            respond(tls, h2, *code, body, st).await
        }
        (H2Behavior::GoAway, true) => go_away(&mut tls, reason::NO_ERROR, &st.log).await,
        (H2Behavior::GoAwayWith { code }, true) => go_away(&mut tls, *code, &st.log).await,
        (H2Behavior::BadFrame, true) => {
            let data_on_stream_zero = frame(DATA, 0, 0, b"x");
            on_first_headers(&mut tls, &data_on_stream_zero, &st.log).await
        }
        (H2Behavior::ResetStream, true) => reset_streams(tls, reason::INTERNAL_ERROR, &st).await,
        (H2Behavior::ResetStreamWith { code }, true) => reset_streams(tls, *code, &st).await,
        (H2Behavior::GoAway | H2Behavior::GoAwayWith { .. } | H2Behavior::BadFrame, false) => {
            if let Some((head, _)) = read_head_and_rest(&mut tls).await {
                st.log.record_request(first_line(&head));
            }
            close(&mut tls).await;
        }
        (H2Behavior::ResetStream | H2Behavior::ResetStreamWith { .. }, false) => {
            if let Some((head, _)) = read_head_and_rest(&mut tls).await {
                st.log.record_request(first_line(&head));
            }
            // No close_notify: linger 0 on the TCP socket, then drop (RST).
            let _ = tls.get_ref().0.set_zero_linger();
        }
    }
}

fn first_line(head: &[u8]) -> &[u8] {
    head.split(|&c| c == b'\r').next().unwrap_or_default()
}

/// Serves `code`/`body` with hyper on one connection, for at most [`MAX_STALL`].
async fn respond<S>(io: S, h2: bool, code: u16, body: Bytes, st: Arc<State>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let status = StatusCode::from_u16(code).expect("checked in start_with");
    let svc = service_fn(move |req: Request<Incoming>| {
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let line = format!("{} {path} {:?}", req.method(), req.version());
        st.log.record_request(line.as_bytes());
        let body = body.clone();
        async move {
            let mut resp = Response::new(Full::new(body));
            *resp.status_mut() = status;
            resp.headers_mut()
                .insert("content-type", "text/plain".parse().expect("static"));
            Ok::<_, Infallible>(resp)
        }
    });
    let io = TokioIo::new(io);
    // Errors are the client's doing (it went away); the bound keeps an idle
    // keep-alive connection from living forever.
    if h2 {
        let exec = ConnExec::default();
        let conn = hyper::server::conn::http2::Builder::new(exec.clone()).serve_connection(io, svc);
        let _ = timeout(MAX_STALL, conn).await;
        drop(exec);
    } else {
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(READ_BOUND)
            .serve_connection(io, svc);
        let _ = timeout(MAX_STALL, conn).await;
    }
}

/// hyper's HTTP/2 server spawns one task per stream. `TokioExecutor` would
/// detach them; this executor keeps them in a `JoinSet` owned by the
/// connection, so they are aborted with it (and with the server).
#[derive(Clone, Default)]
struct ConnExec(Arc<Mutex<JoinSet<()>>>);

impl<F> hyper::rt::Executor<F> for ConnExec
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Reap finished streams so the set does not grow on long connections.
        while set.try_join_next().is_some() {}
        set.spawn(async move {
            fut.await;
        });
    }
}

/// Answers every stream with RST_STREAM(`code`) using the h2 crate.
async fn reset_streams<S>(io: S, code: u32, st: &State)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Ok(Ok(mut conn)) = timeout(READ_BOUND, ::h2::server::handshake(io)).await else {
        return;
    };
    let deadline = Instant::now() + MAX_STALL;
    // Bounded in count and time; `accept` also drives the connection, which
    // is what flushes the RST_STREAM frames.
    for _ in 0..MAX_STREAMS {
        match timeout_at(deadline, conn.accept()).await {
            Ok(Some(Ok((req, mut respond)))) => {
                let path = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into());
                let line = format!("{} {path} HTTP/2.0", req.method());
                st.log.record_request(line.as_bytes());
                respond.send_reset(::h2::Reason::from(code));
            }
            _ => break,
        }
    }
}

/// Writes one HTTP/2 frame header and payload.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("small frame");
    let mut f = len.to_be_bytes()[1..].to_vec();
    f.extend_from_slice(&[kind, flags]);
    f.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

const DATA: u8 = 0x0;
const SETTINGS: u8 = 0x4;
const HEADERS: u8 = 0x1;
const GOAWAY: u8 = 0x7;
const ACK: u8 = 0x1;

/// Speaks just enough HTTP/2 to take the first request's HEADERS, then sends
/// GOAWAY(last-stream-id 0, `code`) and closes. Bounded by [`READ_BOUND`].
async fn go_away<S>(s: &mut S, code: u32, log: &Log)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut p = 0u32.to_be_bytes().to_vec();
    p.extend_from_slice(&code.to_be_bytes());
    on_first_headers(s, &frame(GOAWAY, 0, 0, &p), log).await
}

/// Speak just enough HTTP/2 to receive the client's first HEADERS, answer it with `reply`
/// (raw frames), then close.
async fn on_first_headers<S>(s: &mut S, reply: &[u8], log: &Log)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _ = timeout(READ_BOUND, async {
        let mut preface = [0u8; 24];
        s.read_exact(&mut preface).await?;
        if &preface != PREFACE {
            return Ok(()); // not HTTP/2 after all: just close
        }
        // Our (empty) SETTINGS: the server preface.
        s.write_all(&frame(SETTINGS, 0, 0, &[])).await?;
        s.flush().await?;
        for _ in 0..MAX_FRAMES {
            let mut h = [0u8; 9];
            s.read_exact(&mut h).await?;
            let len = usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
            let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
            if len > MAX_FRAME_LEN {
                return Ok(());
            }
            let mut payload = vec![0u8; len];
            s.read_exact(&mut payload).await?;
            match h[3] {
                SETTINGS if h[4] & ACK == 0 => {
                    s.write_all(&frame(SETTINGS, ACK, 0, &[])).await?;
                    s.flush().await?;
                }
                HEADERS => {
                    log.record_request(format!("HEADERS stream {stream}").as_bytes());
                    s.write_all(reply).await?;
                    s.flush().await?;
                    return Ok(());
                }
                _ => {} // WINDOW_UPDATE, PRIORITY ...: nothing to do
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    close(s).await;
}
