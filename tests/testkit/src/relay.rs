//! What the HTTP proxy and the SOCKS server share: finding a target without
//! the system resolver, refusing anything off loopback, connecting with a
//! bound, and splicing bytes both ways.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::MAX_STALL;

/// How long a proxy waits for its own connect to the target. Short, so a
/// test of "the proxy cannot reach the target" (a black hole) stays fast.
pub(crate) const CONNECT_BOUND: Duration = Duration::from_secs(3);

/// Why a proxy could not reach a target.
#[derive(Debug)]
pub(crate) enum TargetError {
    /// Not in the resolve map and not an IP literal: we never ask the system.
    UnknownHost,
    /// Resolved, but off loopback: test servers never connect there.
    NotLoopback(SocketAddr),
    Refused,
    TimedOut,
    Other(std::io::Error),
}

/// Finds where `host:port` goes. The map is searched (names compared
/// ignoring ASCII case) for "host:port" first, then "host"; a value with port
/// 0 means "that IP, the port the client asked for". Otherwise `host` must be
/// an IP literal (IPv6 with or without brackets). Never resolves names.
pub(crate) fn resolve(
    host: &str,
    port: u16,
    map: &HashMap<String, SocketAddr>,
) -> Result<SocketAddr, TargetError> {
    let with_port = format!("{host}:{port}");
    let found = map
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&with_port))
        .or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(host)))
        .map(|(_, a)| *a);
    let addr = match found {
        Some(a) if a.port() == 0 => SocketAddr::new(a.ip(), port),
        Some(a) => a,
        None => {
            let bare = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            match bare.parse::<IpAddr>() {
                Ok(ip) => SocketAddr::new(ip, port),
                Err(_) => return Err(TargetError::UnknownHost),
            }
        }
    };
    if !addr.ip().is_loopback() {
        return Err(TargetError::NotLoopback(addr));
    }
    Ok(addr)
}

/// Connects to a loopback target within [`CONNECT_BOUND`], TCP_NODELAY set.
pub(crate) async fn connect(addr: SocketAddr) -> Result<TcpStream, TargetError> {
    // Belt and braces: `resolve` already checked, but nothing else may reach
    // this function with a routable address.
    if !addr.ip().is_loopback() {
        return Err(TargetError::NotLoopback(addr));
    }
    match timeout(CONNECT_BOUND, TcpStream::connect(addr)).await {
        Err(_) => Err(TargetError::TimedOut),
        Ok(Err(e)) if e.kind() == ErrorKind::ConnectionRefused => Err(TargetError::Refused),
        Ok(Err(e)) => Err(TargetError::Other(e)),
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
    }
}

/// Sends `first` (bytes the client sent early) to `target`, then copies both
/// ways until both sides have closed, for at most [`MAX_STALL`]. Each side's
/// EOF is passed on as a FIN (half-close), so request/response protocols
/// that close after the answer end naturally.
pub(crate) async fn splice(client: &mut TcpStream, target: &mut TcpStream, first: &[u8]) {
    let _ = timeout(MAX_STALL, async {
        if !first.is_empty() && target.write_all(first).await.is_err() {
            return;
        }
        let _ = tokio::io::copy_bidirectional(client, target).await;
    })
    .await;
}
