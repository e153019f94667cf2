//! One gap: a request on a new connection, the connection idle for the gap, then the request
//! again as a `requests.Session` sends it — and what happened on the wire.

use std::time::Duration;

use super::Wire;
use super::progress::{ReuseEvent, ReuseEvents};
use crate::engine::events::Events;
use crate::engine::http::HttpFailure;
use crate::engine::keepalive::{self, CloseKind, Dropped, Second};
use crate::engine::verdict::{self, Verdict};
use crate::engine::{ProbeOutcome, ProbeSettings};

/// How one gap went.
#[derive(Clone, Debug)]
pub(crate) struct GapResult {
    pub(crate) gap: Duration,
    pub(crate) first: ProbeOutcome,
    /// The second request (on the kept connection, or on a new one when urllib3 would have
    /// found it dropped); None when the first request failed.
    pub(crate) second: Option<ProbeOutcome>,
    /// The second request went out on the kept connection.
    pub(crate) reused: bool,
    pub(crate) wire: Wire,
    /// When the far end closed the idle connection (fin, rst), counted from the first
    /// response's end.
    pub(crate) closed_after: Option<Duration>,
    /// The first response said `Connection: close`: nothing was kept.
    pub(crate) not_kept_alive: bool,
    /// What requests would do with the second request (the first's, when that failed).
    pub(crate) verdict: Verdict,
}

/// Run one gap, telling `progress` how it goes (`round`: the sweep's round, if a try). The
/// idle wait ends early when the far end closes (urllib3 would find it closed at the gap's end
/// just the same, and reconnect).
pub(crate) async fn run(
    settings: &ProbeSettings,
    gap: Duration,
    events: &Events,
    progress: &ReuseEvents,
    round: Option<usize>,
) -> GapResult {
    let id = progress.next_id();
    progress.emit(ReuseEvent::GapStarted { id, gap, round });
    let result = run_gap(settings, gap, events, progress, id).await;
    progress.emit(ReuseEvent::Done {
        id,
        result: Box::new(result.clone()),
    });
    result
}

async fn run_gap(
    settings: &ProbeSettings,
    gap: Duration,
    events: &Events,
    progress: &ReuseEvents,
    id: usize,
) -> GapResult {
    let (first, kept) = keepalive::first(settings, events).await;
    let until = kept.as_ref().map(|k| k.idle_since() + gap);
    progress.emit(ReuseEvent::FirstDone {
        id,
        first: Box::new(first.clone()),
        idle_since: kept
            .as_ref()
            .map_or_else(std::time::Instant::now, |k| k.idle_since()),
        idle_until: until,
    });
    let (Some(kept), Some(until)) = (kept, until) else {
        return GapResult {
            gap,
            verdict: verdict::judge(&first),
            first,
            second: None,
            reused: false,
            wire: Wire::FirstFailed,
            closed_after: None,
            not_kept_alive: false,
        };
    };
    let _ = kept.dropped_before(until).await;
    let idle = kept.idle_since().elapsed();
    progress.emit(ReuseEvent::Sending {
        id,
        at: std::time::Instant::now(),
        idle,
    });
    let second = kept.send_again(events).await;
    from_second(gap, first, second, idle)
}

/// The wire outcome and requests' verdict from how the second request went.
fn from_second(gap: Duration, first: ProbeOutcome, second: Second, idle: Duration) -> GapResult {
    let (wire, closed_after, not_kept_alive) = match second.dropped {
        Some(Dropped::Closed { kind, after }) => {
            let wire = match kind {
                CloseKind::Fin => Wire::Fin,
                CloseKind::Rst => Wire::Rst,
            };
            (wire, Some(after), false)
        }
        Some(Dropped::NotKeptAlive) => (Wire::Fin, Some(Duration::ZERO), true),
        None => (sent_wire(&second.outcome), None, false),
    };
    // On a new connection the request is an ordinary one; on the kept one a close, reset or
    // silence is the stale connection's.
    let verdict = if second.dropped.is_some() {
        verdict::judge(&second.outcome)
    } else {
        verdict::judge_reused(&second.outcome, idle)
    };
    GapResult {
        gap,
        first,
        second: Some(second.outcome),
        reused: second.dropped.is_none(),
        wire,
        closed_after,
        not_kept_alive,
        verdict,
    }
}

/// What the kept connection did with the request sent on it.
fn sent_wire(outcome: &ProbeOutcome) -> Wire {
    match outcome.http.error().map(|e| e.failure) {
        Some(HttpFailure::ClosedBeforeResponse | HttpFailure::ResetBeforeResponse) => Wire::Race,
        Some(HttpFailure::ReadTimeout) => Wire::Silent,
        _ => Wire::Open,
    }
}

/// The server's own word on its idle timeout: `Keep-Alive: timeout=N` on the first response.
pub(crate) fn keep_alive_header(first: &ProbeOutcome) -> Option<f64> {
    let response = &first.http.detail()?.response;
    response
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("keep-alive"))
        .find_map(|(_, v)| keep_alive_timeout(v))
}

/// `timeout=5, max=100` → 5.
fn keep_alive_timeout(value: &str) -> Option<f64> {
    value.split(',').find_map(|part| {
        let (name, n) = part.split_once('=')?;
        let n: f64 = n.trim().trim_matches('"').parse().ok()?;
        (name.trim().eq_ignore_ascii_case("timeout") && n.is_finite() && n >= 0.0).then_some(n)
    })
}

/// How bad a gap is for a Session: a hang is worse than an error, an error worse than a
/// reconnect nobody sees. The report's verdict is the worst gap's.
pub(crate) fn severity(g: &GapResult) -> u8 {
    match g.wire {
        Wire::FirstFailed => 5,
        Wire::Silent => 4,
        Wire::Race => 3,
        _ if g.verdict.kind.is_some() => 2,
        Wire::Fin | Wire::Rst => 1,
        Wire::Open => 0,
    }
}

/// One line on how a gap went, for progress on stderr.
pub(crate) fn describe(g: &GapResult) -> String {
    let gap = crate::engine::fmt_duration(g.gap);
    if g.not_kept_alive {
        return format!("gap {gap}: the server said Connection: close, nothing was kept");
    }
    match (g.wire, g.closed_after) {
        (Wire::Fin | Wire::Rst, Some(after)) => format!(
            "gap {gap}: {} after {:.1} s idle",
            if g.wire == Wire::Fin {
                "closed (FIN)"
            } else {
                "reset (RST)"
            },
            after.as_secs_f64()
        ),
        (Wire::Open, _) => format!("gap {gap}: answered on the same connection"),
        (Wire::Race, _) => format!("gap {gap}: closed as the request went out (race)"),
        (Wire::Silent, _) => format!("gap {gap}: no answer on the idle connection (silent drop)"),
        _ => format!("gap {gap}: the first request failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_timeout_is_read_from_the_header() {
        assert_eq!(keep_alive_timeout("timeout=5, max=100"), Some(5.0));
        assert_eq!(keep_alive_timeout("max=100, Timeout=2.5"), Some(2.5));
        assert_eq!(keep_alive_timeout("max=100"), None);
        assert_eq!(keep_alive_timeout("timeout=soon"), None);
    }
}
