//! Misbehaving loopback servers for netpeel's tests and benchmarks.
//!
//! Every server here binds only to loopback (127.0.0.0/8 or [::1]), spawns its
//! tasks on the caller's tokio runtime and aborts them when the server value is
//! dropped, so a test that panics half-way cannot leave a listener behind. The
//! proxies (`proxy`, `socks`) resolve names only through a map given at start
//! and refuse any target off loopback. Every stall is
//! bounded (see [`MAX_STALL`]) and every accept loop is bounded in time
//! ([`MAX_SERVER_LIFETIME`]) and count ([`MAX_CONNECTIONS`]).

pub mod addrs;
pub mod dns;
pub mod h2;
pub mod http;
pub mod keepalive;
pub mod proxy;
pub mod socks;
pub mod tcp;
pub mod tls;

mod relay;
mod task;

pub use task::TaskGuard;

use std::time::Duration;

/// Longest time any behaviour keeps a socket open on purpose (stalls, holds).
pub const MAX_STALL: Duration = Duration::from_secs(60);

/// Bound for reading a request head or a DNS query on an open connection.
pub const READ_BOUND: Duration = Duration::from_secs(10);

/// A server's accept/receive loop ends by itself after this long, so a leaked
/// server (e.g. a forgotten `testserver`) cannot serve forever.
pub const MAX_SERVER_LIFETIME: Duration = Duration::from_secs(3600);

/// A server's accept/receive loop ends after this many connections or datagrams.
pub const MAX_CONNECTIONS: usize = 1_000_000;
