//! Stage 3: connect to the resolved addresses one after another, each with the full connect
//! timeout, as urllib3's `create_connection` does, keeping a row per address tried.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::clock::{Clock, TimeoutSetting};
use super::events::{Events, ProbeEvent};
use super::stage::{StageDetail, StageError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpFailure {
    Refused,
    Timeout,
    HostUnreachable,
    NetworkUnreachable,
    AddressNotAvailable,
    Reset,
    Other,
}

impl TcpFailure {
    /// From the OS error value, never from its message text.
    pub fn from_io(e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => return TcpFailure::Refused,
            io::ErrorKind::HostUnreachable => return TcpFailure::HostUnreachable,
            io::ErrorKind::NetworkUnreachable => return TcpFailure::NetworkUnreachable,
            io::ErrorKind::AddrNotAvailable => return TcpFailure::AddressNotAvailable,
            io::ErrorKind::ConnectionReset => return TcpFailure::Reset,
            io::ErrorKind::TimedOut => return TcpFailure::Timeout,
            _ => {}
        }
        // Errno values Rust does not name as kinds (Linux numbering).
        match e.raw_os_error() {
            Some(113) => TcpFailure::HostUnreachable,    // EHOSTUNREACH
            Some(101) => TcpFailure::NetworkUnreachable, // ENETUNREACH
            Some(99) => TcpFailure::AddressNotAvailable, // EADDRNOTAVAIL
            Some(110) => TcpFailure::Timeout,            // ETIMEDOUT (kernel gave up on SYNs)
            _ => TcpFailure::Other,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            TcpFailure::Refused => "refused (RST: nothing listens on that port)",
            TcpFailure::Timeout => "timed out (no answer to SYN)",
            TcpFailure::HostUnreachable => "host unreachable",
            TcpFailure::NetworkUnreachable => "network unreachable",
            TcpFailure::AddressNotAvailable => "address not available on this machine",
            TcpFailure::Reset => "reset during connect",
            TcpFailure::Other => "failed",
        }
    }
}

/// One row of the per-address table.
#[derive(Clone, Debug)]
pub struct ConnectAttempt {
    pub addr: SocketAddr,
    pub elapsed: Duration,
    /// None when this attempt connected.
    pub failure: Option<TcpFailure>,
    /// The OS error text (or the timeout that ran out).
    pub detail: String,
    pub os_error: Option<i32>,
}

/// The TCP stage's result without the socket (which moves on to TLS/HTTP).
#[derive(Clone, Debug)]
pub struct TcpSummary {
    pub attempts: Vec<ConnectAttempt>,
    pub local: Option<SocketAddr>,
    pub peer: SocketAddr,
    /// The server reset the connection as soon as the handshake completed: the next stage
    /// (TLS or the request) fails on a dead socket, as requests' does.
    pub reset_after_handshake: bool,
}

impl StageDetail for TcpSummary {
    fn summary(&self) -> String {
        if self.reset_after_handshake {
            format!("connected to {}, then reset at once", self.peer)
        } else {
            format!("connected to {}", self.peer)
        }
    }
}

impl StageError for TcpError {
    fn message(&self) -> &str {
        &self.detail
    }

    fn timeout(&self) -> Option<(Duration, TimeoutSetting)> {
        self.timeout
    }
}

#[derive(Clone, Debug)]
pub struct TcpError {
    /// The failure of the last address tried: what urllib3 re-raises.
    pub failure: TcpFailure,
    pub addr: SocketAddr,
    pub attempts: Vec<ConnectAttempt>,
    pub elapsed: Duration,
    /// The timeout that ran out, when `failure` is Timeout.
    pub timeout: Option<(Duration, TimeoutSetting)>,
    pub detail: String,
}

type LastFailure = (
    TcpFailure,
    SocketAddr,
    Option<(Duration, TimeoutSetting)>,
    String,
);

pub async fn connect(
    addrs: &[IpAddr],
    port: u16,
    connect_timeout: Duration,
    clock: &Clock,
    events: &Events,
) -> Result<(TcpStream, TcpSummary), TcpError> {
    let started = Instant::now();
    let mut attempts = Vec::new();
    // (failure, address, timeout that ran out, detail) of the latest failed attempt.
    let mut last: Option<LastFailure> = None;
    for ip in addrs {
        let addr = SocketAddr::new(*ip, port);
        let limit = clock.limit(connect_timeout, TimeoutSetting::Connect);
        let t0 = Instant::now();
        let outcome = tokio::time::timeout(limit.duration, connect_one(addr)).await;
        let elapsed = t0.elapsed();
        match outcome {
            Ok(Ok((stream, reset))) => {
                let detail = if reset {
                    "connected, then reset at once by the server"
                } else {
                    "connected"
                };
                attempts.push(ConnectAttempt {
                    addr,
                    elapsed,
                    failure: None,
                    detail: detail.into(),
                    os_error: None,
                });
                events.emit(ProbeEvent::ConnectAttempt {
                    addr,
                    ok: true,
                    elapsed,
                    detail: detail.into(),
                });
                let local = stream.local_addr().ok();
                let summary = TcpSummary {
                    attempts,
                    local,
                    peer: addr,
                    reset_after_handshake: reset,
                };
                return Ok((stream, summary));
            }
            Ok(Err(e)) => {
                let failure = TcpFailure::from_io(&e);
                let detail = e.to_string();
                attempts.push(ConnectAttempt {
                    addr,
                    elapsed,
                    failure: Some(failure),
                    detail: detail.clone(),
                    os_error: e.raw_os_error(),
                });
                events.emit(ProbeEvent::ConnectAttempt {
                    addr,
                    ok: false,
                    elapsed,
                    detail: failure.describe().into(),
                });
                last = Some((failure, addr, None, detail));
            }
            Err(_) => {
                let detail = format!("no answer {}", limit.describe());
                attempts.push(ConnectAttempt {
                    addr,
                    elapsed,
                    failure: Some(TcpFailure::Timeout),
                    detail: detail.clone(),
                    os_error: None,
                });
                events.emit(ProbeEvent::ConnectAttempt {
                    addr,
                    ok: false,
                    elapsed,
                    detail: detail.clone(),
                });
                last = Some((
                    TcpFailure::Timeout,
                    addr,
                    Some((limit.reported, limit.setting)),
                    detail,
                ));
                // The total deadline is spent: trying further addresses would only time out again.
                if limit.setting == TimeoutSetting::Total {
                    break;
                }
            }
        }
    }
    let (failure, addr, timeout, detail) = last.unwrap_or((
        TcpFailure::Other,
        SocketAddr::new(IpAddr::from([0, 0, 0, 0]), port),
        None,
        "no address to connect to".into(),
    ));
    Err(TcpError {
        failure,
        addr,
        attempts,
        elapsed: started.elapsed(),
        timeout,
        detail,
    })
}

/// Connect to one address; true when the server reset the connection right after the
/// handshake. Whether the handshake completed decides, not when the error is read: a RST in
/// answer to the SYN is ECONNREFUSED, so ECONNRESET here means the connection was established
/// (and requests, whose connect returns before the RST lands, fails on the request instead).
async fn connect_one(addr: SocketAddr) -> io::Result<(TcpStream, bool)> {
    let domain = if addr.is_ipv4() {
        socket2::Domain::IPV4
    } else {
        socket2::Domain::IPV6
    };
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    // requests/urllib3 set TCP_NODELAY too; without it small requests wait on Nagle.
    socket.set_tcp_nodelay(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    let stream = TcpStream::from_std(std::net::TcpStream::from(socket))?;
    stream.writable().await?;
    match stream.take_error()? {
        None => Ok((stream, false)),
        Some(e) if e.kind() == io::ErrorKind::ConnectionReset => Ok((stream, true)),
        Some(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_os_error_value() {
        let from = |errno| TcpFailure::from_io(&io::Error::from_raw_os_error(errno));
        assert_eq!(from(111), TcpFailure::Refused);
        assert_eq!(from(113), TcpFailure::HostUnreachable);
        assert_eq!(from(101), TcpFailure::NetworkUnreachable);
        assert_eq!(from(99), TcpFailure::AddressNotAvailable);
        assert_eq!(from(104), TcpFailure::Reset);
        assert_eq!(from(110), TcpFailure::Timeout);
        assert_eq!(from(1), TcpFailure::Other);
    }
}
