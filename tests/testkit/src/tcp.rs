//! TCP-level failures: a refused port and a port that silently drops SYNs.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// An address on 127.0.0.1 where nothing listens: connecting gets RST
/// (`ConnectionRefused`). We bind port 0 to let the kernel pick a free port,
/// note it and close the listener. Another process could grab the port in the
/// meantime, but on a test machine that is vanishingly rare.
pub fn refused_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("refused_addr: bind 127.0.0.1:0");
    l.local_addr().expect("refused_addr: local_addr")
}

/// How long a probe connect may take before we call the listener a black hole.
const PROBE_TIMEOUT: Duration = Duration::from_millis(300);
/// Most filler connections we make before giving up.
const MAX_FILLERS: usize = 8;

/// A listener whose accept queue is full, so the kernel drops further SYNs:
/// a real connect timeout on loopback (no firewall rules needed).
///
/// Linux drops a SYN when the listener's accept queue is full; with
/// `listen(0)` that happens after one established-but-unaccepted connection.
/// We never accept, and keep the fillers open, so the queue stays full for
/// the life of this value.
#[derive(Debug)]
pub struct BlackholeListener {
    pub addr: SocketAddr,
    // Held only to keep the queue full; never read.
    _listener: Socket,
    _fillers: Vec<TcpStream>,
}

impl BlackholeListener {
    /// Blocks the calling thread for ~300 ms (the probe that times out), so
    /// call it from a multi-thread runtime or before one.
    ///
    /// Panics with a clear message if the kernel keeps accepting after
    /// [`MAX_FILLERS`] fillers (e.g. a kernel with different backlog rules).
    pub fn start() -> BlackholeListener {
        let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
            .expect("blackhole: create socket");
        let bind: SocketAddr = "127.0.0.1:0".parse().expect("static addr");
        listener.bind(&bind.into()).expect("blackhole: bind");
        listener.listen(0).expect("blackhole: listen(0)");
        let addr = listener
            .local_addr()
            .expect("blackhole: local_addr")
            .as_socket()
            .expect("blackhole: inet addr");

        let mut fillers = Vec::new();
        // Each probe that connects becomes a filler; the first probe that times
        // out proves the queue is full. The timed-out probe socket is closed by
        // std (it was still in SYN_SENT), so it leaves no state that could later
        // free a queue slot: the listener stays a black hole.
        for _ in 0..=MAX_FILLERS {
            match TcpStream::connect_timeout(&addr, PROBE_TIMEOUT) {
                Ok(s) => fillers.push(s),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return BlackholeListener {
                        addr,
                        _listener: listener,
                        _fillers: fillers,
                    };
                }
                Err(e) => panic!("blackhole: probe connect to {addr} failed unexpectedly: {e}"),
            }
        }
        panic!(
            "blackhole: {addr} still accepted connections after {MAX_FILLERS} fillers; \
             this kernel does not drop SYNs on a full accept queue"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpStream;

    #[tokio::test(flavor = "multi_thread")]
    async fn refused_addr_is_refused() {
        let addr = refused_addr();
        let err = TcpStream::connect(addr).await.expect_err("nothing listens");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn blackhole_times_out_twice() {
        let bh = BlackholeListener::start();
        // Two in a row: the probe's dropped SYN must not have freed anything.
        for i in 0..2 {
            let t0 = std::time::Instant::now();
            let r =
                tokio::time::timeout(Duration::from_millis(500), TcpStream::connect(bh.addr)).await;
            assert!(r.is_err(), "attempt {i}: connect finished: {r:?}");
            assert!(t0.elapsed() >= Duration::from_millis(450));
        }
    }
}
