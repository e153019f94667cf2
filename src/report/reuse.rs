//! The report of reuse mode: the worst gap's stages and verdict on top (so the exit code and
//! the waterfall say the worst), and the `reuse` object with every gap, the sweep, and what a
//! Session does about it in words.

use std::time::Duration;

use super::build::{build, ms};
use super::model::*;
use crate::engine::fmt_duration;
use crate::reuse::gap::{self, GapResult};
use crate::reuse::run::ReuseRun;
use crate::reuse::sweep::{self, SweepResult, Try};

/// Seconds to the millisecond.
fn secs(d: Duration) -> f64 {
    ms(d).round() / 1000.0
}

/// The report of a reuse run; None when no gap ran (interrupted before the first ended).
pub(crate) fn build_reuse(run: &ReuseRun) -> Option<Report> {
    let all: Vec<&GapResult> = run
        .gaps
        .iter()
        .chain(run.sweep.iter().flat_map(|s| s.tries.iter()))
        .collect();
    // The sweep counts by what it concluded, not by every try: a try that happened to land on
    // the moment of a clean close can meet the race by chance.
    let judged: Vec<&GapResult> = run
        .gaps
        .iter()
        .chain(run.sweep.as_ref().and_then(representative))
        .collect();
    // The first of the worst: a gap list reads left to right.
    let worst = judged
        .iter()
        .copied()
        .rev()
        .max_by_key(|g| gap::severity(g))?;
    let shown = worst.second.as_ref().unwrap_or(&worst.first);
    let mut report = build(shown);
    report.verdict = VerdictReport::from(&worst.verdict);
    let header = all.iter().find_map(|g| gap::keep_alive_header(&g.first));
    let (idle_close, close_kind) = idle_close(run, &all);
    let found = Found {
        idle_close,
        kind: close_kind,
        header,
        all_failed: all.iter().all(|g| g.wire == Wire::FirstFailed),
        never_kept: all.iter().any(|g| g.not_kept_alive),
    };
    let summary = summary(run, &found);
    report.reuse = Some(ReuseReport {
        gaps: run.gaps.iter().map(gap_report).collect(),
        sweep: run.sweep.as_ref().map(sweep_report),
        idle_close_s: idle_close.map(secs),
        close_kind,
        keep_alive_header_s: header,
        summary,
    });
    Some(super::mask::mask_secrets(report, shown))
}

/// The try that shows what the sweep concluded: the first of its kind (the close it measured,
/// the shortest gap that failed), else the longest gap (answered after all of them).
fn representative(s: &SweepResult) -> Option<&GapResult> {
    match s.kind {
        Some(kind) => s
            .tries
            .iter()
            .filter(|t| t.wire == kind)
            .min_by_key(|t| t.gap),
        None => s.tries.iter().max_by_key(|t| t.gap),
    }
}

fn sweep_report(s: &SweepResult) -> SweepReport {
    SweepReport {
        max_s: secs(s.max),
        rounds: s.rounds as u32,
        tries: s.tries.iter().map(gap_report).collect(),
    }
}

fn gap_report(g: &GapResult) -> ReuseGapReport {
    let status = |o: &crate::engine::ProbeOutcome| o.http.detail().map(|x| x.response.status);
    ReuseGapReport {
        gap_s: secs(g.gap),
        wire: g.wire,
        closed_after_s: g.closed_after.map(secs),
        requests_exception: g.verdict.requests_exception.clone(),
        urllib3_cause: g.verdict.urllib3_cause.clone(),
        kind: g.verdict.kind,
        summary: gap_summary(g),
        first_status: status(&g.first),
        second_request: g.second.as_ref().map(|o| SecondRequestReport {
            reused_connection: g.reused,
            status: status(o),
            stages: build(o).stages,
        }),
    }
}

/// How the gap went, then what requests makes of it.
pub(crate) fn gap_summary(g: &GapResult) -> String {
    let raises = match (&g.verdict.requests_exception, g.reused) {
        (Some(e), _) => format!("requests raises {e}"),
        (None, _) if g.not_kept_alive => {
            "requests raises nothing: http.client closes such a connection itself".into()
        }
        (None, false) if g.second.is_some() => {
            "requests raises nothing: urllib3 finds the socket readable and opens a new connection"
                .into()
        }
        (None, _) => "requests raises nothing".into(),
    };
    format!("{}; {raises}.", gap::describe(g))
}

/// The idle time after which the far end gives up, and how: the sweep's estimate, else the
/// earliest close seen during a gap, else (a race or silence after some gap) only the kind.
fn idle_close(run: &ReuseRun, all: &[&GapResult]) -> (Option<Duration>, Option<Wire>) {
    if let Some(s) = &run.sweep {
        return (s.estimate, s.kind);
    }
    if let Some((after, wire)) = sweep::earliest_close(all.iter().map(|g| Try::from(*g))) {
        return (Some(after), Some(wire));
    }
    let failing = all.iter().filter(|g| g.wire.fails()).min_by_key(|g| g.gap);
    (None, failing.map(|g| g.wire))
}

/// What the run found, as the summary tells it.
struct Found {
    idle_close: Option<Duration>,
    kind: Option<Wire>,
    header: Option<f64>,
    /// No first request succeeded.
    all_failed: bool,
    /// The server said `Connection: close`: nothing was ever kept.
    never_kept: bool,
}

/// "The server closes idle connections after 60.0 s (FIN, clean): a Session reconnects by
/// itself." and the like, with the Keep-Alive header compared.
fn summary(run: &ReuseRun, found: &Found) -> String {
    let Found {
        idle_close,
        kind,
        header,
        all_failed,
        never_kept,
    } = *found;
    let read_timeout = fmt_duration(run.settings.read_timeout);
    let at = |d: Option<Duration>| {
        d.map(|d| format!("{:.1} s", d.as_secs_f64()))
            .unwrap_or_else(|| "one of the gaps".into())
    };
    let mut words = match kind {
        _ if never_kept => "The server closes the connection after every response (Connection: close): nothing is pooled, a Session opens a new connection for each request.".to_string(),
        Some(Wire::Fin) => format!(
            "The server closes idle connections after {} (FIN, clean): a Session reconnects by itself.",
            at(idle_close)
        ),
        Some(Wire::Rst) => format!(
            "Idle connections are reset (RST) after {}: urllib3 sees the socket readable and a Session reconnects by itself.",
            at(idle_close)
        ),
        Some(Wire::Silent) => format!(
            "After {} idle the flow is silently dropped (no FIN, no RST): a Session will hang for the read timeout ({read_timeout}) then raise ReadTimeout.",
            at(idle_close)
        ),
        Some(Wire::Race) => format!(
            "After {} idle the far end closes the connection only when the request arrives: a Session raises ConnectionError unless it retries (Retry with allowed_methods).",
            at(idle_close)
        ),
        _ if all_failed => "The first request failed: there was no connection to reuse.".into(),
        _ => match &run.sweep {
            Some(s) => format!(
                "Nothing closed within {} idle: a Session can reuse its connections that long.",
                fmt_duration(s.max)
            ),
            None => "Every gap was answered on the same connection.".to_string(),
        },
    };
    if let Some(h) = header {
        words.push(' ');
        words.push_str(&header_words(h, idle_close));
    }
    words
}

/// The Keep-Alive header against what was measured.
fn header_words(header: f64, measured: Option<Duration>) -> String {
    let said = format!("The server announces Keep-Alive: timeout={header}");
    let Some(m) = measured.map(|d| d.as_secs_f64()) else {
        return format!("{said}, but nothing closed within what was measured.");
    };
    // Within a tenth (or 0.2 s) counts as keeping its word.
    let slack = (header * 0.1).max(0.2);
    if (m - header).abs() <= slack {
        format!("{said} and keeps to it.")
    } else if m < header {
        format!("{said} but gives up earlier, after {m:.1} s: trust the measurement.")
    } else {
        format!("{said} but keeps connections longer, {m:.1} s.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_compared_with_the_measurement() {
        let secs = Duration::from_secs_f64;
        assert!(header_words(5.0, Some(secs(5.1))).ends_with("keeps to it."));
        assert!(header_words(5.0, Some(secs(2.0))).contains("earlier, after 2.0 s"));
        assert!(header_words(1.0, Some(secs(2.0))).contains("longer, 2.0 s"));
        assert!(header_words(5.0, None).contains("nothing closed"));
    }
}
