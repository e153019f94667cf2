//! A watch run as serde types: the `watch` object of the JSON document (documented in
//! assets/report.schema.json) and what the text and OpenMetrics renderers read. The document is
//! the last probe's ordinary report with this object beside it, as a replay's report carries its
//! attempts: readers of the single-probe report keep working.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::sample::Timed;
use super::stats::{Latency, WatchStats};
use super::verdict::{self, Pattern, RunVerdict};
use crate::engine::Stage;
use crate::engine::verdict::Kind;
use crate::report::Report;

/// The whole `--watch --json` document.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct WatchDocument {
    /// The last probe's report (url, settings, stages, verdict).
    #[serde(flatten)]
    pub(crate) last: Report,
    pub(crate) watch: WatchReport,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct WatchReport {
    pub(crate) probes: u64,
    pub(crate) ok: u64,
    pub(crate) failed: u64,
    /// `--interval`, seconds from one probe's start to the next.
    pub(crate) interval_s: f64,
    /// `--count`, null when the run went on until stopped.
    pub(crate) count: Option<u64>,
    /// When the run started and how long it took.
    pub(crate) started: String,
    pub(crate) elapsed_s: f64,
    /// Ctrl-C, SIGTERM or SIGHUP ended the run before its count.
    pub(crate) stopped_by_signal: bool,
    pub(crate) failures: Vec<FailureReport>,
    pub(crate) stages: StageLatencies,
    pub(crate) addresses: Vec<AddressReport>,
    /// The longest run of failed probes, null when none failed.
    pub(crate) longest_failure_streak: Option<StreakReport>,
    /// The last probes, oldest first (at most `stats::TIMELINE_LEN`).
    pub(crate) timeline: Vec<TimelineReport>,
    /// Connect and read timeouts that would have failed some of the probes.
    pub(crate) what_if: Vec<String>,
    pub(crate) verdict: WatchVerdictReport,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct FailureReport {
    pub(crate) layer: Option<Stage>,
    pub(crate) kind: Kind,
    pub(crate) requests_exception: Option<String>,
    pub(crate) count: u64,
    pub(crate) percent: f64,
}

/// Latencies of the stages that succeeded, in milliseconds; null without a value.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct LatencyReport {
    pub(crate) n: u64,
    pub(crate) min_ms: Option<f64>,
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p90_ms: Option<f64>,
    pub(crate) p99_ms: Option<f64>,
    pub(crate) max_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct StageLatencies {
    pub(crate) dns: LatencyReport,
    pub(crate) tcp: LatencyReport,
    pub(crate) proxy: LatencyReport,
    pub(crate) tls: LatencyReport,
    pub(crate) ttfb: LatencyReport,
    pub(crate) body: LatencyReport,
    pub(crate) total: LatencyReport,
}

impl StageLatencies {
    /// The rows in [`Timed::ALL`] order, with their names.
    pub(crate) fn rows(&self) -> [(Timed, &LatencyReport); 7] {
        [
            (Timed::Dns, &self.dns),
            (Timed::Tcp, &self.tcp),
            (Timed::Proxy, &self.proxy),
            (Timed::Tls, &self.tls),
            (Timed::Ttfb, &self.ttfb),
            (Timed::Body, &self.body),
            (Timed::Total, &self.total),
        ]
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct AddressReport {
    pub(crate) address: String,
    pub(crate) probes: u64,
    pub(crate) failed: u64,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct StreakReport {
    pub(crate) probes: u64,
    pub(crate) started: String,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct TimelineReport {
    /// For the dashboard (which probe's report to open); not part of the documented JSON.
    #[serde(skip)]
    pub(crate) probe: u64,
    pub(crate) t: String,
    pub(crate) ok: bool,
    pub(crate) layer: Option<Stage>,
    pub(crate) kind: Option<Kind>,
    pub(crate) total_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct WatchVerdictReport {
    pub(crate) pattern: Pattern,
    pub(crate) summary: String,
    pub(crate) hint: Option<String>,
}

/// How the run was set up and how it ended, beside its statistics.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunFacts<'a> {
    pub(crate) method: &'a str,
    pub(crate) interval: Duration,
    pub(crate) count: Option<u64>,
    pub(crate) elapsed: Duration,
    pub(crate) stopped_by_signal: bool,
}

/// "2026-11-25T19:31:38.120Z": RFC 3339 in UTC, always with milliseconds.
pub(crate) fn rfc3339(at: SystemTime) -> String {
    let since = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(0);
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(secs) else {
        return String::new();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        since.subsec_millis()
    )
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

fn latency(l: Option<&Latency>) -> LatencyReport {
    let n = l.map(Latency::count).unwrap_or(0);
    let at = |f: &dyn Fn(&Latency) -> f64| l.filter(|_| n > 0).map(f);
    LatencyReport {
        n,
        min_ms: at(&Latency::min_ms),
        p50_ms: at(&|l| l.ms_at(0.5)),
        p90_ms: at(&|l| l.ms_at(0.9)),
        p99_ms: at(&|l| l.ms_at(0.99)),
        max_ms: at(&Latency::max_ms),
    }
}

/// The report of the run so far.
pub(crate) fn build(stats: &WatchStats, facts: RunFacts<'_>) -> WatchReport {
    let RunVerdict {
        pattern,
        summary,
        hint,
    } = verdict::judge(stats, facts.method, facts.interval);
    let lat = |t: Timed| latency(stats.latency(t));
    WatchReport {
        probes: stats.probes,
        ok: stats.ok,
        failed: stats.failed(),
        interval_s: facts.interval.as_secs_f64(),
        count: facts.count,
        started: rfc3339(stats.started),
        elapsed_s: facts.elapsed.as_secs_f64(),
        stopped_by_signal: facts.stopped_by_signal,
        failures: stats
            .failures_by_count()
            .iter()
            .map(|f| FailureReport {
                layer: f.layer,
                kind: f.kind,
                requests_exception: f.kind.info().requests_exception.map(str::to_string),
                count: f.count,
                percent: verdict::percent(f.count, stats.probes),
            })
            .collect(),
        stages: StageLatencies {
            dns: lat(Timed::Dns),
            tcp: lat(Timed::Tcp),
            proxy: lat(Timed::Proxy),
            tls: lat(Timed::Tls),
            ttfb: lat(Timed::Ttfb),
            body: lat(Timed::Body),
            total: lat(Timed::Total),
        },
        addresses: stats
            .addresses
            .iter()
            .map(|a| AddressReport {
                address: a.address.clone(),
                probes: a.probes,
                failed: a.failed,
            })
            .collect(),
        longest_failure_streak: stats.streaks.longest.map(|s| StreakReport {
            probes: s.len,
            started: rfc3339(s.started),
        }),
        timeline: stats
            .timeline
            .iter()
            .map(|c| TimelineReport {
                probe: c.probe,
                t: rfc3339(c.at),
                ok: c.kind.is_none(),
                layer: c.layer,
                kind: c.kind,
                total_ms: ms(c.total),
            })
            .collect(),
        what_if: stats
            .what_if
            .what_if()
            .iter()
            .map(|w| w.sentence())
            .collect(),
        verdict: WatchVerdictReport {
            pattern,
            summary,
            hint,
        },
    }
}
