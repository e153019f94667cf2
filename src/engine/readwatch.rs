//! Watches every read on the HTTP connection. requests' read timeout is the longest gap between
//! two socket reads — also while the response head arrives — and hyper has no such timeout, so
//! the gap is measured here. The first bytes are kept too: they tell "not HTTP at all" apart
//! from "HTTP with a head hyper cannot parse". It also notes when the far end closed the
//! connection (FIN or RST), also while it sits idle: hyper keeps reading an idle HTTP/1.1
//! connection to notice that, and reuse mode needs to know when it happened.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::clock::{Clock, Limit, TimeoutSetting};
use super::head_limits::HeadScanner;

const FIRST_BYTES: usize = 16;

#[derive(Debug)]
struct State {
    last_progress: Instant,
    bytes: u64,
    first: Vec<u8>,
    /// HTTP/1 only: http.client's limits on the response head (HTTP/2 heads are frames).
    head: Option<HeadScanner>,
    /// The last error a read or write on the socket returned. hyper reports a reset seen by
    /// its connection task to the waiting request only as "canceled"; this keeps the cause.
    io_error: Option<io::ErrorKind>,
    /// The first time a read found the connection closed by the far end.
    closed: Option<PeerClose>,
}

/// How the far end closed the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseKind {
    /// End of stream (FIN; over TLS, also a close without close_notify).
    Fin,
    /// A read failed: reset (RST) or another socket error.
    Rst,
}

/// When and how the far end closed the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PeerClose {
    pub(crate) at: Instant,
    pub(crate) kind: CloseKind,
}

/// Shared between the wrapped transport and whoever waits on it.
#[derive(Clone, Debug)]
pub(super) struct ReadWatch(Arc<Mutex<State>>);

impl ReadWatch {
    /// `h1`: check each response head against http.client's limits.
    pub(super) fn new(h1: bool) -> Self {
        ReadWatch(Arc::new(Mutex::new(State {
            last_progress: Instant::now(),
            bytes: 0,
            first: Vec::new(),
            head: h1.then(HeadScanner::new),
            io_error: None,
            closed: None,
        })))
    }

    /// The last error the socket returned, if any.
    pub(super) fn io_error(&self) -> Option<io::ErrorKind> {
        self.0.lock().ok()?.io_error
    }

    pub(super) fn saw_error(&self, kind: io::ErrorKind) {
        if let Ok(mut s) = self.0.lock() {
            s.io_error = Some(kind);
        }
    }

    /// When and how the far end closed the connection, if a read has seen it.
    pub(super) fn closed(&self) -> Option<PeerClose> {
        self.0.lock().ok().and_then(|s| s.closed)
    }

    fn saw_close(&self, kind: CloseKind) {
        if let Ok(mut s) = self.0.lock() {
            s.closed.get_or_insert(PeerClose {
                at: Instant::now(),
                kind,
            });
        }
    }

    /// Restart the gap (when the request has been handed over: requests times from there).
    pub(super) fn touch(&self) {
        if let Ok(mut s) = self.0.lock() {
            s.last_progress = Instant::now();
        }
    }

    fn last_progress(&self) -> Instant {
        self.0
            .lock()
            .map(|s| s.last_progress)
            .unwrap_or_else(|_| Instant::now())
    }

    pub(super) fn bytes(&self) -> u64 {
        self.0.lock().map(|s| s.bytes).unwrap_or(0)
    }

    /// Forget the first bytes seen, before the next request on the same connection.
    pub(super) fn reset_first_bytes(&self) {
        if let Ok(mut s) = self.0.lock() {
            s.first.clear();
            s.bytes = 0;
            if let Some(head) = s.head.as_mut() {
                *head = HeadScanner::new();
            }
        }
    }

    /// The first bytes the server sent, if any.
    pub(super) fn first_bytes(&self) -> Vec<u8> {
        self.0.lock().map(|s| s.first.clone()).unwrap_or_default()
    }

    /// Note bytes read; an error when they break http.client's limits on the head.
    fn saw(&self, data: &[u8]) -> io::Result<()> {
        let Ok(mut s) = self.0.lock() else {
            return Ok(());
        };
        s.last_progress = Instant::now();
        s.bytes += data.len() as u64;
        let room = FIRST_BYTES.saturating_sub(s.first.len());
        s.first.extend_from_slice(&data[..data.len().min(room)]);
        match s.head.as_mut().map(|head| head.feed(data)) {
            Some(Err(limit)) => Err(io::Error::new(io::ErrorKind::InvalidData, limit)),
            _ => Ok(()),
        }
    }

    /// Await `fut`, failing when no byte arrived for `gap`, or when the total deadline passes.
    pub(super) async fn within_gap<F: Future>(
        &self,
        fut: F,
        gap: Duration,
        clock: &Clock,
    ) -> Result<F::Output, Limit> {
        tokio::pin!(fut);
        loop {
            let gap_end = self.last_progress() + gap;
            let (wake, total) = match clock.deadline() {
                Some(d) if d < gap_end => (d, true),
                _ => (gap_end, false),
            };
            tokio::select! {
                out = &mut fut => return Ok(out),
                _ = tokio::time::sleep_until(wake.into()) => {
                    if total {
                        let max = clock.max_time().unwrap_or(gap);
                        return Err(Limit { duration: max, setting: TimeoutSetting::Total, reported: max });
                    }
                    // Bytes arrived meanwhile: the gap starts again from the latest one.
                    if self.last_progress() + gap > Instant::now() {
                        continue;
                    }
                    return Err(Limit { duration: gap, setting: TimeoutSetting::Read, reported: gap });
                }
            }
        }
    }
}

/// A transport that reports its reads to a [`ReadWatch`].
pub(super) struct Watched<T> {
    inner: T,
    watch: ReadWatch,
}

impl<T> Watched<T> {
    pub(super) fn new(inner: T, watch: ReadWatch) -> Self {
        Watched { inner, watch }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let room = buf.remaining() > 0;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        match &polled {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                if new.is_empty() {
                    if room {
                        this.watch.saw_close(CloseKind::Fin);
                    }
                } else if let Err(broken) = this.watch.saw(new) {
                    return Poll::Ready(Err(broken));
                }
            }
            Poll::Ready(Err(e)) => {
                this.watch.saw_error(e.kind());
                // rustls reports a close without close_notify as UnexpectedEof: a FIN all the
                // same. Any other failed read is the far end resetting (or worse).
                let kind = if e.kind() == io::ErrorKind::UnexpectedEof {
                    CloseKind::Fin
                } else {
                    CloseKind::Rst
                };
                this.watch.saw_close(kind);
            }
            Poll::Pending => {}
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        if let Poll::Ready(Err(e)) = &polled {
            this.watch.saw_error(e.kind());
        }
        polled
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
