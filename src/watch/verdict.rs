//! The verdict on a whole run, in one sentence and a hint: did it fail intermittently or every
//! time, at which layer, in what pattern, and which requests setting would have survived it.
//! The layer, kind and exception words are the verdict table's; the retry advice is checked
//! against the replay's own rules (`replay::classify`, `replay::budget`).

use std::time::{Duration, SystemTime};

use super::stats::{AddressCount, FailureCount, WatchStats};
use crate::engine::verdict::Kind;
use crate::replay::attempt::AttemptError;
use crate::replay::settings::ReplaySettings;

/// The shape of a run's failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Pattern {
    /// Stopped before the first probe finished.
    NoProbes,
    AllOk,
    Intermittent,
    Persistent,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RunVerdict {
    pub(crate) pattern: Pattern,
    pub(crate) summary: String,
    pub(crate) hint: Option<String>,
}

/// "12:02:10" (UTC): when a failure or a burst happened.
pub(crate) fn clock(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, (day % 3600) / 60, day % 60)
}

pub(crate) fn percent(part: u64, of: u64) -> f64 {
    if of == 0 {
        return 0.0;
    }
    (part as f64 * 1000.0 / of as f64).round() / 10.0
}

/// "connection_refused → requests.exceptions.ConnectionError".
pub(crate) fn failure_words(f: &FailureCount) -> String {
    match f.kind.info().requests_exception {
        Some(e) => format!("{} → {e}", f.kind.name()),
        None => format!("{} (requests returns the response)", f.kind.name()),
    }
}

/// Judge the run so far. `method` and `interval` shape the retry advice.
pub(crate) fn judge(stats: &WatchStats, method: &str, interval: Duration) -> RunVerdict {
    let failures = stats.failures_by_count();
    let Some(main) = failures.first() else {
        return all_ok(stats);
    };
    let (probes, failed) = (stats.probes, stats.failed());
    if failed == probes {
        let summary = format!(
            "Persistent: all {probes} probes failed{}, {}.",
            mostly(&failures),
            failure_words(main)
        );
        return RunVerdict {
            pattern: Pattern::Persistent,
            summary,
            hint: Some(main.kind.info().hint.to_string()),
        };
    }
    let mut summary = format!(
        "Intermittent: {failed} of {probes} probes ({} %) failed{}, {}; {}",
        percent(failed, probes),
        mostly(&failures),
        failure_words(main),
        pattern_words(stats)
    );
    if let Some(dead) = dead_address(&stats.addresses) {
        summary.push_str(&format!("; {dead}"));
    }
    summary.push('.');
    RunVerdict {
        pattern: Pattern::Intermittent,
        summary,
        hint: Some(retry_hint(stats, &failures, method, interval)),
    }
}

fn all_ok(stats: &WatchStats) -> RunVerdict {
    if stats.probes == 0 {
        return RunVerdict {
            pattern: Pattern::NoProbes,
            summary: "No probe finished.".into(),
            hint: None,
        };
    }
    let mut summary = format!("All {} probes succeeded", stats.probes);
    let hint = dead_address(&stats.addresses).map(|dead| {
        summary.push_str(&format!(", but {dead}"));
        "requests tries the addresses in order, each with the full connect timeout: a dead \
         address costs every request that reaches it first; take it out of DNS."
            .to_string()
    });
    summary.push('.');
    RunVerdict {
        pattern: Pattern::AllOk,
        summary,
        hint,
    }
}

/// " at the tcp layer" when every failure is in one layer, " mostly at …" otherwise.
fn mostly(failures: &[FailureCount]) -> String {
    let Some(layer) = failures.first().and_then(|f| f.layer) else {
        return String::new();
    };
    if failures.iter().all(|f| f.layer == Some(layer)) {
        format!(" at the {layer} layer")
    } else {
        format!(" mostly at the {layer} layer")
    }
}

/// Bursts or isolated failures, in words.
fn pattern_words(stats: &WatchStats) -> String {
    let s = &stats.streaks;
    match s.longest {
        Some(l) if l.len >= 2 => {
            let bursts = if s.bursts == 1 {
                "a burst".to_string()
            } else {
                format!("{} bursts", s.bursts)
            };
            format!(
                "failures come in {bursts}: the longest {} in a row at {}",
                l.len,
                clock(l.started)
            )
        }
        _ if s.runs >= 3 => "isolated failures, never two in a row (flapping)".into(),
        _ => "never two in a row".into(),
    }
}

/// The address that failed every time while others did not: "127.0.0.2 failed 9 of 9; the
/// others 0 of 191".
fn dead_address(rows: &[AddressCount]) -> Option<String> {
    if rows.len() < 2 {
        return None;
    }
    let dead = rows.iter().find(|a| a.probes > 0 && a.failed == a.probes)?;
    let (others, others_failed) = rows
        .iter()
        .filter(|a| a.address != dead.address)
        .fold((0, 0), |(p, f), a| (p + a.probes, f + a.failed));
    (others_failed < others).then(|| {
        format!(
            "{} failed {} of {}; the others {others_failed} of {others}",
            dead.address, dead.failed, dead.probes
        )
    })
}

/// Which urllib3 retry counter recovers a failure, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counter {
    Connect,
    Read,
    Status,
    Other,
    /// Raised outside urllib3's retry loop: no `Retry` recovers it.
    Never,
}

fn counter(f: &FailureCount) -> Counter {
    match crate::replay::classify::classify_kind(f.kind, f.layer) {
        AttemptError::Connect(_) => Counter::Connect,
        AttemptError::Read(_) => Counter::Read,
        AttemptError::None if matches!(f.kind, Kind::HttpServerError | Kind::HttpClientError) => {
            Counter::Status
        }
        AttemptError::Other(_) => Counter::Other,
        AttemptError::None | AttemptError::Outside(_) => Counter::Never,
    }
}

/// The Retry that would have recovered the failures, judged from the run itself: a failure
/// followed by a success means a retry a probe interval later would have worked, so the
/// longest run of failures is the number of retries needed.
fn retry_hint(
    stats: &WatchStats,
    failures: &[FailureCount],
    method: &str,
    interval: Duration,
) -> String {
    let needed = stats.streaks.longest.map(|l| l.len).unwrap_or(1);
    let retries = u32::try_from(needed).unwrap_or(u32::MAX);
    let never: u64 = failures
        .iter()
        .filter(|f| counter(f) == Counter::Never)
        .map(|f| f.count)
        .sum();
    let recoverable = stats.failed() - never;
    if recoverable == 0 {
        return "urllib3's Retry does not retry these (they are raised outside its retry \
                loop): retry in the application, or fix the cause."
            .into();
    }
    let counters: Vec<Counter> = failures.iter().map(counter).collect();
    let call = retry_call(&counters, retries, &stats.failed_statuses);
    // urllib3's default allowed_methods decide whether a read error is retried.
    let read_refused = counters.contains(&Counter::Read)
        && !ReplaySettings::urllib3_default().method_retryable(method);
    let all = if never == 0 && !read_refused {
        format!("all {recoverable}")
    } else {
        format!("{recoverable} of {}", stats.failed())
    };
    let mut hint = format!(
        "{call} would have recovered {all}: at most {needed} probe(s) in a row failed \
         (if retries came as far apart as the probes, {})",
        crate::engine::fmt_duration(interval),
    );
    if read_refused {
        hint.push_str(&format!(
            "; {method} is not retried after a read error unless allowed_methods lists it"
        ));
    }
    hint.push('.');
    hint
}

/// `Retry(connect=2)`, `Retry(status=1, status_forcelist=[503])`, `Retry(total=3)`, …: the
/// counter of the failures' category when they share one, else the total.
fn retry_call(counters: &[Counter], retries: u32, statuses: &[u16]) -> String {
    let only = |c: Counter| counters.iter().all(|x| *x == c || *x == Counter::Never);
    let mut args = Vec::new();
    if only(Counter::Connect) {
        args.push(format!("connect={retries}"));
    } else if only(Counter::Read) {
        args.push(format!("read={retries}"));
    } else if only(Counter::Status) {
        args.push(format!("status={retries}"));
    } else {
        args.push(format!("total={retries}"));
    }
    if counters.contains(&Counter::Status) && !statuses.is_empty() {
        let list: Vec<String> = statuses.iter().map(u16::to_string).collect();
        args.push(format!("status_forcelist=[{}]", list.join(", ")));
    }
    format!("Retry({})", args.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: Kind, count: u64) -> FailureCount {
        FailureCount {
            layer: kind.info().layer,
            kind,
            count,
        }
    }

    #[test]
    fn retry_advice_names_the_counter_that_recovers() {
        let connect = [counter(&failure(Kind::ConnectionRefused, 1))];
        assert_eq!(retry_call(&connect, 2, &[]), "Retry(connect=2)");
        let status = [counter(&failure(Kind::HttpServerError, 1))];
        assert_eq!(
            retry_call(&status, 1, &[503]),
            "Retry(status=1, status_forcelist=[503])"
        );
        let mixed = [Counter::Connect, Counter::Read];
        assert_eq!(retry_call(&mixed, 3, &[]), "Retry(total=3)");
        assert_eq!(counter(&failure(Kind::IncompleteBody, 1)), Counter::Never);
        assert_eq!(counter(&failure(Kind::DnsTimeout, 1)), Counter::Connect);
        assert_eq!(
            counter(&failure(Kind::TlsHandshakeTimeout, 1)),
            Counter::Read
        );
    }

    #[test]
    fn a_dead_address_is_named_only_when_the_others_work() {
        let row = |a: &str, probes, failed| AddressCount {
            address: a.into(),
            probes,
            failed,
        };
        let rows = [row("127.0.0.1", 191, 0), row("127.0.0.2", 9, 9)];
        assert_eq!(
            dead_address(&rows).as_deref(),
            Some("127.0.0.2 failed 9 of 9; the others 0 of 191")
        );
        assert_eq!(
            dead_address(&[row("127.0.0.1", 5, 5), row("x", 5, 5)]),
            None
        );
        assert_eq!(dead_address(&rows[..1]), None);
    }

    #[test]
    fn clock_reads_utc_time_of_day() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(86_400 * 3 + 14 * 3600 + 2 * 60 + 10);
        assert_eq!(clock(at), "14:02:10");
        assert_eq!(percent(7, 200), 3.5);
        assert_eq!(percent(1, 3), 33.3);
    }
}
