//! HTTP/1.1 servers that keep connections alive, then give up on idle ones the ways servers,
//! load balancers and NATs do: a clean close (FIN), a reset (RST), silence (the flow forgotten:
//! the request is read and never answered), or a close right after reading the request that
//! arrives on a connection idle too long (the keep-alive race).
//!
//! Every response is a small `200 OK` with `Connection: keep-alive` (and `Keep-Alive:
//! timeout=N` when asked). A request head must start within [`crate::READ_BOUND`] of the
//! connection going idle, else the server closes it; holds end after [`crate::MAX_STALL`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout_at};

use crate::http::{Log, close, hold, read_head_and_rest, response_head, write_all};
use crate::task::{TaskGuard, accept_loop};

/// What the server does with a connection that has been idle (since its last response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleEnd {
    /// Close it (FIN) once it has been idle this long.
    Fin(Duration),
    /// Reset it (RST, SO_LINGER 0) once it has been idle this long.
    Rst(Duration),
    /// Keep it open; a request arriving after this long idle is read and never answered.
    Silent(Duration),
    /// Keep it open; a request arriving after this long idle is read, then the connection is
    /// closed (FIN) without a response.
    RaceFin(Duration),
    /// The same, with a reset (RST) instead of the FIN.
    RaceRst(Duration),
    /// Answer every request, however long the connection sat idle.
    Never,
}

/// Most requests one connection serves.
const MAX_REQUESTS: usize = 1000;

pub struct KeepAliveServer {
    pub addr: SocketAddr,
    log: Arc<Log>,
    _tasks: TaskGuard,
}

impl KeepAliveServer {
    /// Serves on 127.0.0.1:<random port>, giving up on idle connections as `end` says.
    pub async fn start(end: IdleEnd) -> KeepAliveServer {
        Self::bind(end, None).await
    }

    /// The same, announcing `Keep-Alive: timeout=<announced>` on every response (whatever
    /// `end` really does: servers that say one thing and do another are the point).
    pub async fn start_announcing(end: IdleEnd, announced: u64) -> KeepAliveServer {
        Self::bind(end, Some(announced)).await
    }

    async fn bind(end: IdleEnd, announced: Option<u64>) -> KeepAliveServer {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap_or_else(|e| panic!("KeepAliveServer: bind: {e}"));
        let addr = listener.local_addr().expect("KeepAliveServer: local_addr");
        let log = Arc::new(Log::default());
        let mut tasks = TaskGuard::new();
        let l = log.clone();
        tasks.spawn(accept_loop(listener, move |tcp| {
            let l = l.clone();
            async move { serve(tcp, end, announced, &l).await }
        }));
        KeepAliveServer {
            addr,
            log,
            _tasks: tasks,
        }
    }

    /// `http://<addr>/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.log.connections()
    }

    /// Request heads read so far (answered or not).
    pub fn requests(&self) -> usize {
        self.log.requests().len()
    }
}

/// One connection: requests answered until the idle behaviour ends it.
async fn serve(mut tcp: TcpStream, end: IdleEnd, announced: Option<u64>, log: &Log) {
    log.record_connection();
    let mut idle_since = Instant::now();
    for served in 0..MAX_REQUESTS {
        let next = match end {
            IdleEnd::Fin(t) | IdleEnd::Rst(t) => {
                timeout_at(idle_since + t, read_head_and_rest(&mut tcp)).await
            }
            _ => Ok(read_head_and_rest(&mut tcp).await),
        };
        let head = match next {
            Ok(Some((head, _))) => head,
            // The client went away (or sent junk): close.
            Ok(None) => return,
            Err(_) => {
                if matches!(end, IdleEnd::Rst(_)) {
                    let _ = tcp.set_zero_linger();
                } else {
                    close(&mut tcp).await;
                }
                return;
            }
        };
        log.record_request(&head);
        let idle = idle_since.elapsed();
        // The first request comes on a new connection: only reuse meets the idle behaviour.
        if served > 0 && give_up(&mut tcp, end, idle).await {
            return;
        }
        if !write_all(&mut tcp, &keep_alive_response(announced)).await {
            return;
        }
        idle_since = Instant::now();
    }
}

/// What a request on a connection idle for `idle` meets; true when the connection is over.
async fn give_up(tcp: &mut TcpStream, end: IdleEnd, idle: Duration) -> bool {
    match end {
        IdleEnd::Silent(t) if idle >= t => {
            hold(tcp).await;
            true
        }
        IdleEnd::RaceFin(t) if idle >= t => {
            close(tcp).await;
            true
        }
        IdleEnd::RaceRst(t) if idle >= t => {
            let _ = tcp.set_zero_linger();
            true
        }
        _ => false,
    }
}

fn keep_alive_response(announced: Option<u64>) -> Vec<u8> {
    let body = b"ok\n";
    let mut headers = vec![
        ("Content-Type".to_string(), "text/plain".to_string()),
        ("Connection".to_string(), "keep-alive".to_string()),
    ];
    if let Some(n) = announced {
        headers.push(("Keep-Alive".to_string(), format!("timeout={n}")));
    }
    let mut out = response_head(200, &headers, body.len());
    out.extend_from_slice(body);
    out
}
