//! The run's metrics in the OpenMetrics text format (what Prometheus scrapes): probe counters by
//! result and by failing layer and kind, per-address counters, and a histogram of each stage's
//! duration in seconds. The same text goes to stdout after the run (`--format openmetrics`) and
//! to `/metrics` while it runs (`--metrics-listen`).

use std::fmt::Write as _;

use super::sample::Timed;
use super::stats::WatchStats;

/// Histogram bucket bounds, in seconds (Prometheus' defaults, down to a millisecond: local
/// stages are fast).
const BUCKETS_S: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A label value as OpenMetrics quotes it: backslash, double quote and newline escaped.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The metrics of `stats`; `url` (passwords already masked) labels the target.
pub(crate) fn render(stats: &WatchStats, url: &str) -> String {
    let mut out = String::new();
    // `write!` to a String cannot fail.
    let _ = writeln!(out, "# TYPE netpeel_target info");
    let _ = writeln!(out, "# HELP netpeel_target The URL being watched.");
    let _ = writeln!(
        out,
        "netpeel_target_info{{url=\"{}\",version=\"{}\"}} 1",
        label(url),
        env!("CARGO_PKG_VERSION")
    );
    probes(&mut out, stats);
    failures(&mut out, stats);
    addresses(&mut out, stats);
    durations(&mut out, stats);
    out.push_str("# EOF\n");
    out
}

fn probes(out: &mut String, stats: &WatchStats) {
    let _ = writeln!(out, "# TYPE netpeel_probes counter");
    let _ = writeln!(out, "# HELP netpeel_probes Probes finished, by result.");
    let _ = writeln!(out, "netpeel_probes_total{{result=\"ok\"}} {}", stats.ok);
    let _ = writeln!(
        out,
        "netpeel_probes_total{{result=\"failed\"}} {}",
        stats.failed()
    );
}

fn failures(out: &mut String, stats: &WatchStats) {
    let _ = writeln!(out, "# TYPE netpeel_probe_failures counter");
    let _ = writeln!(
        out,
        "# HELP netpeel_probe_failures Failed probes, by the layer and kind of the verdict table."
    );
    for f in &stats.failures {
        let layer = f.layer.map(|l| l.name()).unwrap_or("any");
        let requests = f.kind.info().requests_exception.unwrap_or("");
        let _ = writeln!(
            out,
            "netpeel_probe_failures_total{{layer=\"{layer}\",kind=\"{}\",requests_exception=\"{requests}\"}} {}",
            f.kind.name(),
            f.count
        );
    }
}

fn addresses(out: &mut String, stats: &WatchStats) {
    for (name, help, value) in [
        (
            "netpeel_address_connects",
            "Connect attempts per resolved address.",
            (|a: &super::stats::AddressCount| a.probes) as fn(&_) -> u64,
        ),
        (
            "netpeel_address_failures",
            "Connects that failed, or probes that failed after connecting, per address.",
            |a| a.failed,
        ),
    ] {
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "# HELP {name} {help}");
        for a in &stats.addresses {
            let _ = writeln!(
                out,
                "{name}_total{{address=\"{}\"}} {}",
                label(&a.address),
                value(a)
            );
        }
    }
}

fn durations(out: &mut String, stats: &WatchStats) {
    let name = "netpeel_stage_duration_seconds";
    let _ = writeln!(out, "# TYPE {name} histogram");
    let _ = writeln!(out, "# UNIT {name} seconds");
    let _ = writeln!(
        out,
        "# HELP {name} Duration of each stage that succeeded (ttfb: time to first byte)."
    );
    for timed in Timed::ALL {
        let Some(l) = stats.latency(timed) else {
            continue;
        };
        let stage = timed.name();
        for le in BUCKETS_S {
            let us = (le * 1_000_000.0).round() as u64;
            let _ = writeln!(
                out,
                "{name}_bucket{{stage=\"{stage}\",le=\"{le}\"}} {}",
                l.count_at_most(us)
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{stage=\"{stage}\",le=\"+Inf\"}} {}",
            l.count()
        );
        let _ = writeln!(out, "{name}_count{{stage=\"{stage}\"}} {}", l.count());
        let _ = writeln!(
            out,
            "{name}_sum{{stage=\"{stage}\"}} {}",
            l.sum.as_secs_f64()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn an_empty_run_is_still_a_whole_exposition() {
        let stats = WatchStats::new(std::time::SystemTime::UNIX_EPOCH);
        let text = render(&stats, "http://127.0.0.1/");
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(text.contains("netpeel_probes_total{result=\"ok\"} 0"));
        assert!(
            text.contains("netpeel_stage_duration_seconds_bucket{stage=\"total\",le=\"+Inf\"} 0")
        );
    }
}
