//! Several loopback addresses behind one port, for "one name, several
//! backends, one of them dead" tests.
//!
//! Linux routes all of 127.0.0.0/8 to `lo`, so 127.0.0.2, 127.0.0.3 ... can
//! be bound without any setup. A test picks a port free on every address
//! ([`free_port_on_all`]), starts servers on some of them
//! ([`crate::http::HttpServer::start_on`]) and leaves the others dead:
//! connecting there is refused, like a backend that is down.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};

/// Most ports [`free_port_on_all`] tries before giving up.
const MAX_ATTEMPTS: usize = 50;

/// 127.0.0.`n` (n = 1 .. 254), for readable tests.
pub fn loopback_v4(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A TCP port that is free on every one of `ips` right now.
///
/// The kernel picks a free port on the first address; we keep it only if
/// binding the same port on every other address works too, and try again
/// otherwise (at most [`MAX_ATTEMPTS`] times). All listeners are closed on
/// return, so another process could take the port before the test binds it;
/// on a test machine that is vanishingly rare (same as
/// [`crate::tcp::refused_addr`]).
///
/// Duplicates in `ips` are ignored. Panics if `ips` is empty, holds a non-loopback address, or no common port
/// was found (e.g. 127.0.0.2 not routed to lo on some non-Linux kernel).
pub fn free_port_on_all(ips: &[IpAddr]) -> u16 {
    let mut unique: Vec<IpAddr> = Vec::with_capacity(ips.len());
    for ip in ips {
        if !unique.contains(ip) {
            unique.push(*ip);
        }
    }
    let ips = &unique[..];
    assert!(!ips.is_empty(), "free_port_on_all: no addresses");
    for ip in ips {
        assert!(
            ip.is_loopback(),
            "free_port_on_all: {ip} is not a loopback address"
        );
    }
    let mut last_err = None;
    for _ in 0..MAX_ATTEMPTS {
        let first = match TcpListener::bind(SocketAddr::new(ips[0], 0)) {
            Ok(l) => l,
            Err(e) => panic!("free_port_on_all: bind {}:0: {e}", ips[0]),
        };
        let port = first
            .local_addr()
            .expect("free_port_on_all: local_addr")
            .port();
        // Hold every listener until all binds are done, so the port cannot be
        // "free" on one address only because we closed it on another.
        let mut held = vec![first];
        let mut all = true;
        for ip in &ips[1..] {
            match TcpListener::bind(SocketAddr::new(*ip, port)) {
                Ok(l) => held.push(l),
                Err(e) => {
                    last_err = Some(format!("{ip}:{port}: {e}"));
                    all = false;
                    break;
                }
            }
        }
        if all {
            return port;
        }
    }
    panic!(
        "free_port_on_all: no port free on all of {ips:?} after {MAX_ATTEMPTS} tries \
         (last failure {})",
        last_err.unwrap_or_default()
    );
}
