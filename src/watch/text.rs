//! The watch run's text report: outcomes, latency percentiles, addresses, the timeline and the
//! run's verdict, within 80 columns. The layout and colours are the single report's
//! (`report::text`); every string that came from outside (the URL) is escaped first.

use super::report::{WatchDocument, WatchReport};
use super::verdict::Pattern;
use crate::report::escape::for_terminal;
use crate::report::text::{Style, para, wrap_with};
use crate::report::words::fmt_ms;

const WIDTH: usize = 80;
/// Timeline cells per line.
const CELLS_PER_LINE: usize = 60;
/// Failures listed with their time under the timeline (the newest).
const LISTED_FAILURES: usize = 5;

pub(crate) fn render(doc: &WatchDocument, color: bool) -> String {
    let style = Style { color };
    let w = &doc.watch;
    let mut out = String::new();
    let first = format!(
        "netpeel {} watch  {} ",
        doc.last.netpeel_version, doc.last.settings.method
    );
    out.push_str(&style.bold(&wrap_with(&first, &for_terminal(&doc.last.url), WIDTH)));
    out.push('\n');
    let count = w.count.map(|c| format!(" of {c}")).unwrap_or_default();
    let pace = if w.interval_s == 0.0 {
        "back to back".to_string()
    } else {
        let interval = std::time::Duration::from_secs_f64(w.interval_s);
        format!("one every {}", crate::engine::fmt_duration(interval))
    };
    let line = format!(
        "{} probe(s){count}, {pace}, for {:.1} s from {}",
        w.probes, w.elapsed_s, w.started
    );
    para(&mut out, "  ", &line);
    if w.stopped_by_signal {
        out.push_str("  stopped by a signal (Ctrl-C, SIGTERM or SIGHUP)\n");
    }
    outcomes(&mut out, w, style);
    latency(&mut out, w);
    addresses(&mut out, w, style);
    timeline(&mut out, w, style);
    verdict(&mut out, w, style);
    out
}

/// The verdict first (a small terminal cuts the bottom), then outcomes, latency and
/// addresses, without colour: what the dashboard shows under its timeline.
pub(crate) fn sections(w: &WatchReport) -> String {
    let style = Style { color: false };
    let mut out = String::new();
    verdict(&mut out, w, style);
    outcomes(&mut out, w, style);
    latency(&mut out, w);
    addresses(&mut out, w, style);
    out.trim_start().to_string()
}

fn outcomes(out: &mut String, w: &WatchReport, style: Style) {
    out.push_str(&style.bold("\nOUTCOMES\n"));
    let pct = super::verdict::percent(w.failed, w.probes);
    let line = format!("  {} ok, {} failed ({pct} %)", w.ok, w.failed);
    out.push_str(&if w.failed > 0 {
        style.red(&line)
    } else {
        style.green(&line)
    });
    out.push('\n');
    for f in &w.failures {
        let layer = f.layer.map(|l| l.name()).unwrap_or("any");
        let requests = f
            .requests_exception
            .as_deref()
            .unwrap_or("(requests returns the response)");
        let head = format!("  {:>6} × ", f.count);
        let what = format!("{layer} {} ({} %) → {requests}", f.kind.name(), f.percent);
        para(out, &head, &what);
    }
}

fn latency(out: &mut String, w: &WatchReport) {
    out.push_str("\nLATENCY (ms, stages that succeeded)\n");
    out.push_str(&format!(
        "  {:<6} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
        "stage", "n", "min", "p50", "p90", "p99", "max"
    ));
    if w.stages.rows().iter().all(|(_, l)| l.n == 0) {
        out.push_str("  (no stage succeeded)\n");
        return;
    }
    let cell = |v: Option<f64>| v.map(|ms| format!("{ms:.3}")).unwrap_or("-".into());
    for (timed, l) in w.stages.rows() {
        if l.n == 0 {
            continue;
        }
        out.push_str(&format!(
            "  {:<6} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            timed.name(),
            l.n,
            cell(l.min_ms),
            cell(l.p50_ms),
            cell(l.p90_ms),
            cell(l.p99_ms),
            cell(l.max_ms)
        ));
    }
}

fn addresses(out: &mut String, w: &WatchReport, style: Style) {
    if w.addresses.is_empty() {
        return;
    }
    out.push_str("\nADDRESSES (connects, and probes that failed on that address)\n");
    for a in &w.addresses {
        let pct = super::verdict::percent(a.failed, a.probes);
        let line = format!(
            "  {:<40} failed {:>6} of {:<6} ({pct} %)",
            a.address, a.failed, a.probes
        );
        out.push_str(&if a.failed > 0 && a.failed == a.probes {
            style.red(&line)
        } else {
            line
        });
        out.push('\n');
    }
}

/// One letter per layer: what a failed probe's cell shows.
pub(crate) fn layer_letter(layer: Option<crate::engine::Stage>) -> char {
    use crate::engine::Stage;
    match layer {
        Some(Stage::Url) => 'U',
        Some(Stage::Dns) => 'D',
        Some(Stage::Tcp) => 'T',
        Some(Stage::Proxy) => 'P',
        Some(Stage::Tls) => 'S',
        Some(Stage::Http) => 'H',
        None => 'X',
    }
}

fn timeline(out: &mut String, w: &WatchReport, style: Style) {
    if w.timeline.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\nTIMELINE (last {}; . ok, D dns, T tcp, P proxy, S tls, H http, U url)\n",
        w.timeline.len()
    ));
    for row in w.timeline.chunks(CELLS_PER_LINE) {
        out.push_str("  ");
        for cell in row {
            if cell.ok {
                out.push_str(&style.green("."));
            } else {
                out.push_str(&style.red(&layer_letter(cell.layer).to_string()));
            }
        }
        out.push('\n');
    }
    let failed: Vec<_> = w.timeline.iter().filter(|c| !c.ok).collect();
    let shown = failed.len().saturating_sub(LISTED_FAILURES);
    for c in &failed[shown..] {
        let kind = c.kind.map(|k| k.name()).unwrap_or("?");
        // The time of day is enough here; the JSON document has the date.
        let when = c.t.get(11..).unwrap_or(&c.t);
        out.push_str(&format!("  {when}  {kind} after {}\n", fmt_ms(c.total_ms)));
    }
    if let Some(s) = &w.longest_failure_streak {
        out.push_str(&format!(
            "  longest run of failures: {} at {}\n",
            s.probes,
            s.started.get(11..).unwrap_or(&s.started)
        ));
    }
}

fn verdict(out: &mut String, w: &WatchReport, style: Style) {
    let v = &w.verdict;
    out.push('\n');
    let head = match v.pattern {
        Pattern::AllOk => style.green("VERDICT: all ok"),
        Pattern::NoProbes => style.yellow("VERDICT: no probes"),
        Pattern::Intermittent => style.red("VERDICT: intermittent failures"),
        Pattern::Persistent => style.red("VERDICT: persistent failure"),
    };
    out.push_str(&head);
    out.push('\n');
    para(out, "  ", &v.summary);
    if let Some(h) = &v.hint {
        para(out, "  hint: ", h);
    }
    for line in w.what_if.iter().take(4) {
        para(out, "  what-if: ", line);
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::engine::verdict::Kind;
    use crate::replay::whatif::AttemptTimes;
    use crate::watch::report::{RunFacts, build};
    use crate::watch::sample::{AddressUse, ProbeSample};
    use crate::watch::stats::WatchStats;

    fn sample(kind: Option<Kind>, address: &str) -> ProbeSample {
        let ms = Some(Duration::from_millis(12));
        ProbeSample {
            layer: kind.and_then(|k| k.info().layer),
            kind,
            status: None,
            times: [
                ms,
                ms,
                None,
                ms,
                ms,
                ms,
                kind.is_none().then_some(Duration::from_millis(40)),
            ],
            elapsed: Duration::from_millis(40),
            addresses: vec![AddressUse {
                address: address
                    .parse::<IpAddr>()
                    .unwrap_or(IpAddr::from([127, 0, 0, 1])),
                failed: kind.is_some(),
            }],
            what_if: AttemptTimes::default(),
        }
    }

    #[test]
    fn the_report_fits_80_columns_and_escapes_the_url() {
        let mut stats = WatchStats::new(SystemTime::UNIX_EPOCH);
        let v6 = "fd00:1234:5678:9abc:def0:1234:5678:9abc";
        for i in 0..150u64 {
            let kind = match i % 7 {
                3 => Some(Kind::ConnectTimeout),
                5 => Some(Kind::TlsHandshakeTimeout),
                _ => None,
            };
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs(i);
            stats.record(&sample(kind, if i % 2 == 0 { v6 } else { "127.0.0.1" }), at);
        }
        let facts = RunFacts {
            method: "GET",
            interval: Duration::from_millis(500),
            count: Some(150),
            elapsed: Duration::from_secs(75),
            stopped_by_signal: false,
        };
        let watch = build(&stats, facts);
        let mut last = crate::tui::sample::report_tcp_refused();
        last.url = "http://evil.test/\u{1b}[2J".into();
        let doc = WatchDocument { last, watch };
        let text = render(&doc, false);
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "longer than 80 columns: {line}");
        }
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("VERDICT: intermittent failures"), "{text}");
        assert!(text.contains("TIMELINE (last 120;"), "{text}");
        assert!(text.contains(v6), "{text}");
    }
}
