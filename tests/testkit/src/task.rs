//! Abort-on-drop ownership of spawned server tasks.
//!
//! `tokio::spawn` detaches: dropping a `JoinHandle` does *not* stop the task.
//! Servers keep their loop tasks in a `TaskGuard` so dropping the server value
//! stops listening. Per-connection tasks live in a `JoinSet` owned by the loop
//! task, so aborting the loop drops the set, which aborts them too.

use tokio::task::JoinHandle;

/// Owns task handles and aborts every one of them when dropped.
#[derive(Debug, Default)]
pub struct TaskGuard(Vec<JoinHandle<()>>);

impl TaskGuard {
    pub fn new() -> TaskGuard {
        TaskGuard(Vec::new())
    }

    /// Spawns `fut` on the current tokio runtime (panics outside one, which is a
    /// setup error) and keeps its handle.
    pub fn spawn<F>(&mut self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.0.push(tokio::spawn(fut));
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// Accepts connections on `listener` and runs `handler` for each in a `JoinSet`
/// owned by this future, so aborting the loop aborts every connection too.
///
/// Bounded by [`crate::MAX_SERVER_LIFETIME`] and [`crate::MAX_CONNECTIONS`].
/// Sets TCP_NODELAY on every accepted socket: without it Nagle delays small
/// writes (e.g. a head then a body) by ~40 ms on loopback.
pub(crate) async fn accept_loop<F, Fut>(listener: tokio::net::TcpListener, handler: F)
where
    F: Fn(tokio::net::TcpStream) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let deadline = tokio::time::Instant::now() + crate::MAX_SERVER_LIFETIME;
    let mut conns = tokio::task::JoinSet::new();
    for _ in 0..crate::MAX_CONNECTIONS {
        // Reap finished connection tasks so the set does not grow forever.
        while conns.try_join_next().is_some() {}
        let accepted = match tokio::time::timeout_at(deadline, listener.accept()).await {
            Ok(r) => r,
            Err(_) => return,
        };
        match accepted {
            Ok((sock, _peer)) => {
                let _ = sock.set_nodelay(true);
                conns.spawn(handler(sock));
            }
            // EMFILE and friends: back off instead of spinning.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}
