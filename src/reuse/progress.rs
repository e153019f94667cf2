//! Progress of a reuse run, for whoever watches it (the dashboard's reuse view): a gap
//! started, its first request done and the connection idle until a deadline, the request sent
//! again, the gap's outcome; the sweep's rounds and its estimate. Nothing here knows of
//! terminals. Sending never blocks and never disturbs the run.
//!
//! Bounded: a run has at most `MAX_GAPS` gaps and `sweep::MAX_ROUNDS` rounds of
//! `sweep::PER_ROUND` tries, four events each plus one per round, so the channel's capacity
//! holds a whole run even when nobody reads; were it ever full, an event is dropped, not
//! waited for.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{self, Receiver, Sender};

use super::Wire;
use super::gap::GapResult;
use crate::engine::ProbeOutcome;

/// Events a whole run can send: every gap and try (4 each) and every round, with room.
pub(crate) const CAPACITY: usize =
    4 * (super::MAX_GAPS + super::sweep::MAX_ROUNDS * super::sweep::PER_ROUND as usize) + 64;

/// Which gap an event is about: numbered from 0 in the order the gaps started.
pub(crate) type GapId = usize;

#[derive(Clone, Debug)]
pub(crate) enum ReuseEvent {
    /// A gap's first request is going out on a new connection. `round`: the sweep's round
    /// (None for a `--reuse-after` gap).
    GapStarted {
        id: GapId,
        gap: Duration,
        round: Option<usize>,
    },
    /// The first request ended. With `idle_until`, its connection is kept idle until then;
    /// without, the gap ends here (the request failed).
    FirstDone {
        id: GapId,
        first: Box<ProbeOutcome>,
        idle_since: Instant,
        idle_until: Option<Instant>,
    },
    /// The idle time is over (or the far end closed early): the request goes out again at
    /// `at`, `idle` after the first response ended.
    Sending {
        id: GapId,
        at: Instant,
        idle: Duration,
    },
    Done {
        id: GapId,
        result: Box<GapResult>,
    },
    /// The sweep starts a round of tries with these gaps.
    SweepRound {
        round: usize,
        gaps: Vec<Duration>,
    },
    /// The sweep concluded.
    SweepDone {
        estimate: Option<Duration>,
        kind: Option<Wire>,
        rounds: usize,
    },
}

/// The run's side of the channel; cheap to clone. `none()` reports to nobody.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReuseEvents {
    tx: Option<Sender<ReuseEvent>>,
    next_id: Arc<AtomicUsize>,
}

impl ReuseEvents {
    /// A handle and the receiver its events arrive on.
    pub(crate) fn channel() -> (ReuseEvents, Receiver<ReuseEvent>) {
        let (tx, rx) = mpsc::channel(CAPACITY);
        let events = ReuseEvents {
            tx: Some(tx),
            next_id: Arc::default(),
        };
        (events, rx)
    }

    pub(crate) fn none() -> ReuseEvents {
        ReuseEvents::default()
    }

    /// The number of the next gap to start.
    pub(crate) fn next_id(&self) -> GapId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn emit(&self, event: ReuseEvent) {
        if let Some(tx) = &self.tx {
            // Full (cannot happen within a run's bounds) or nobody listening: the run goes on.
            let _ = tx.try_send(event);
        }
    }
}
