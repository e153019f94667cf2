//! Reuse mode's part of the engine: one request on a new connection, that connection kept
//! idle, then the request again as a `requests.Session` sends it. urllib3's pool first checks
//! whether the idle socket has become readable (`is_connection_dropped`: `wait_for_read(sock,
//! timeout=0.0)`); if it has, the far end closed it (or spoke unasked), and urllib3 opens a new
//! connection without a word. Otherwise the request goes out on the old connection.
//!
//! The socket is watched all the time it is idle (hyper keeps reading an idle HTTP/1.1
//! connection to notice a close), so a close is known with the moment it happened.

use std::time::{Duration, Instant};

use super::clock::Clock;
use super::events::Events;
use super::pipeline::{self, Ctx, Pooled};
use super::settings::ProbeSettings;
use super::target::Target;
use super::{ProbeOutcome, run_hop};

pub(crate) use super::readwatch::CloseKind;

/// How often a wait for the far end's close looks again.
const CLOSE_POLL: Duration = Duration::from_millis(20);

/// A connection kept idle after its first exchange.
pub(crate) struct Kept {
    pooled: Pooled,
    target: Target,
    settings: ProbeSettings,
    url_elapsed: Duration,
    /// When the first response had been read to its end: idle time counts from here.
    idle_since: Instant,
    /// Bytes the first exchange read: more later means the server spoke unasked.
    bytes_after_first: u64,
}

/// Why urllib3 would not send on the kept connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dropped {
    /// The far end closed it (FIN or RST) this long after it went idle.
    Closed { kind: CloseKind, after: Duration },
    /// The response said `Connection: close` (or was HTTP/1.0): it was never kept.
    NotKeptAlive,
}

/// The second request: on the kept connection (`dropped` None), or on a new one opened
/// because urllib3 would have found the old one dropped.
pub(crate) struct Second {
    pub(crate) dropped: Option<Dropped>,
    pub(crate) outcome: ProbeOutcome,
}

/// The first request, on a new connection; the connection comes back when the exchange
/// succeeded. Redirects are not followed: the connection the URL answers on is the one kept.
pub(crate) async fn first(
    settings: &ProbeSettings,
    events: &Events,
) -> (ProbeOutcome, Option<Kept>) {
    let clock = Clock::start(settings.max_time);
    let ctx = Ctx {
        settings,
        clock: &clock,
        events,
    };
    let (mut outcome, pooled) = run_hop(ctx, None, 0).await;
    outcome.total = clock.elapsed();
    let idle_since = Instant::now();
    let kept = match (pooled, &outcome.target) {
        (Some(pooled), Ok(target)) if outcome.http.detail().is_some() => Some(Kept {
            bytes_after_first: pooled.conn().bytes_read(),
            pooled,
            target: target.clone(),
            settings: settings.clone(),
            url_elapsed: outcome.url_elapsed,
            idle_since,
        }),
        _ => None,
    };
    (outcome, kept)
}

impl Kept {
    pub(crate) fn idle_since(&self) -> Instant {
        self.idle_since
    }

    /// What urllib3 would find now: None when the socket is not readable (it sends the
    /// request on it), else why the connection is gone.
    pub(crate) fn dropped(&self) -> Option<Dropped> {
        let conn = self.pooled.conn();
        if conn.will_close() {
            return Some(Dropped::NotKeptAlive);
        }
        if let Some(close) = conn.peer_closed() {
            let after = close.at.saturating_duration_since(self.idle_since);
            return Some(Dropped::Closed {
                kind: close.kind,
                after,
            });
        }
        // Bytes nobody asked for (an unsolicited "408 Request Timeout"), or a connection hyper
        // gave up on for them: readable in urllib3's eyes, so dropped.
        let unasked = conn.bytes_read() > self.bytes_after_first;
        (unasked || conn.task_ended()).then(|| Dropped::Closed {
            kind: CloseKind::Fin,
            after: self.idle_since.elapsed(),
        })
    }

    /// Wait until the far end drops the connection, or until `until`; what `dropped` says then.
    pub(crate) async fn dropped_before(&self, until: Instant) -> Option<Dropped> {
        // Bounded by `until`: every pass sleeps until it or for CLOSE_POLL.
        loop {
            if let Some(d) = self.dropped() {
                return Some(d);
            }
            let now = Instant::now();
            if now >= until {
                return None;
            }
            tokio::time::sleep((until - now).min(CLOSE_POLL)).await;
        }
    }

    /// The request again, as a Session sends it: urllib3's check first; a dropped connection
    /// is replaced by a new one (every stage runs again), else the request goes out on it.
    pub(crate) async fn send_again(self, events: &Events) -> Second {
        // Let the connection task read what the kernel already holds (a close that has just
        // arrived), as urllib3's poll of the socket would see it.
        tokio::task::yield_now().await;
        let dropped = self.dropped();
        let clock = Clock::start(self.settings.max_time);
        let ctx = Ctx {
            settings: &self.settings,
            clock: &clock,
            events,
        };
        let mut outcome =
            ProbeOutcome::before_stages(&self.settings, Ok(self.target.clone()), self.url_elapsed);
        if dropped.is_some() {
            drop(self.pooled);
            pipeline::run_stages(&self.target, ctx, &mut outcome, None, 0).await;
        } else {
            let idle = crate::engine::fmt_duration(self.idle_since.elapsed());
            let reason = format!("reused the connection kept idle for {idle}");
            pipeline::reuse(self.pooled, &self.target, ctx, &mut outcome, &reason).await;
        }
        outcome.total = clock.elapsed();
        Second { dropped, outcome }
    }
}
