//! The dashboard's replay state, kept pure like [`super::app`]: what one attempt of a run looks
//! like on the timeline ([`TrySummary`]), the sleep being counted down, how a run ended, and
//! the settings editor ([`Editor`], [`Field`]): selection, `+`/`-` steps and typed values.

use std::time::{Duration, Instant};

use crate::replay::budget::{Budget, worst_case};
use crate::replay::policy::{PolicyKind, ReplaySettings, SleepReason};
use crate::report::Report;

use super::app::status_of;
use super::theme::Status;
use crate::engine::Stage;

/// One attempt of a run, as the timeline shows it (built from the engine's outcome by the
/// loop, so the app never sees the network).
#[derive(Clone, Debug, PartialEq)]
pub struct TrySummary {
    /// 1 for the first attempt of the run.
    pub number: usize,
    pub ok: bool,
    /// "HTTP 503", or the verdict's kind ("connection_refused").
    pub outcome: String,
    /// (stage, status, milliseconds) in the engine's order.
    pub stages: Vec<(Stage, Status, Option<f64>)>,
    pub elapsed: Duration,
    /// The sleep the policy chose before the next attempt.
    pub sleep_after: Option<(Duration, SleepReason)>,
}

impl TrySummary {
    pub fn from_report(
        number: usize,
        report: &Report,
        status: Option<u16>,
        elapsed: Duration,
        sleep_after: Option<(Duration, SleepReason)>,
    ) -> TrySummary {
        let outcome = match (status, &report.verdict.kind) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(k)) => k.name().to_string(),
            (None, None) => "ok".into(),
        };
        TrySummary {
            number,
            ok: report.verdict.ok,
            outcome,
            stages: report
                .stages
                .iter()
                .map(|s| (s.stage, status_of(s.status), s.elapsed_ms))
                .collect(),
            elapsed,
            sleep_after,
        }
    }

    /// An attempt of a replay run, as `replay::run::run` hands it to its callback.
    pub fn from_attempt(a: &crate::replay::run::Attempt) -> TrySummary {
        let report = crate::report::build(&a.outcome);
        TrySummary::from_report(
            a.number,
            &report,
            a.record.status,
            a.record.elapsed,
            a.sleep_after,
        )
    }
}

/// "backoff 2", "Retry-After".
pub fn reason_words(r: SleepReason) -> String {
    match r {
        SleepReason::Backoff(n) => format!("backoff {n}"),
        SleepReason::RetryAfter => "Retry-After".into(),
    }
}

/// The sleep between two attempts, counted down on the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Sleeping {
    pub until: Instant,
    pub total: Duration,
    pub reason: SleepReason,
}

/// How a replay run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RunEnd {
    /// The attempt that succeeded, if the last one did.
    pub success_on: Option<usize>,
    /// `StopOutcome::message`: requests' wording.
    pub message: String,
    pub total: Duration,
}

/// Whether these settings can make more than one attempt: then `r` runs a replay and the
/// timeline replaces the list of runs.
pub fn is_replay(s: &ReplaySettings) -> bool {
    let b = worst_case(s);
    b.unbounded || b.max_attempts > 1
}

/// "4 attempts, at worst 1.2 s" or "unbounded".
pub fn budget_words(b: &Budget) -> String {
    if b.unbounded {
        "unbounded: this policy can retry forever".into()
    } else {
        format!(
            "{} attempt{} at most, {} at worst",
            b.max_attempts,
            if b.max_attempts == 1 { "" } else { "s" },
            long_duration(b.worst_total)
        )
    }
}

/// "1.2 s", or hours for Retry-After-sized budgets ("65020 s (18.1 h)").
fn long_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 3600.0 {
        format!("{s:.0} s ({:.1} h)", s / 3600.0)
    } else {
        super::fmt::duration(d)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Cycled with ←/→, space, +/-.
    Choice,
    Number,
    Text,
}

/// The editor's fields, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Policy,
    Method,
    ConnectTimeout,
    ReadTimeout,
    MaxTime,
    DnsTimeout,
    Total,
    ConnectRetries,
    ReadRetries,
    StatusRetries,
    BackoffFactor,
    BackoffMax,
    BackoffJitter,
    Forcelist,
    AllowedMethods,
    RetryAfter,
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn num(v: f64) -> String {
    format!("{}", round3(v))
}

fn secs(d: Duration) -> String {
    format!("{} s", num(d.as_secs_f64()))
}

fn count(c: Option<u32>) -> String {
    c.map(|n| n.to_string()).unwrap_or_else(|| "none".into())
}

/// Timeouts: tenths below a second, whole seconds above; never below 0.1 s.
fn step_secs(d: Duration, up: bool) -> Duration {
    let v = d.as_secs_f64();
    let next = if up {
        if v < 1.0 - 1e-9 { v + 0.1 } else { v + 1.0 }
    } else if v <= 1.0 + 1e-9 {
        v - 0.1
    } else {
        v - 1.0
    };
    Duration::from_secs_f64(round3(next.max(0.1)))
}

/// `None` sits below 0: `-` from 0 gives "none" (no limit of its own), `+` from it gives 0.
fn step_count(c: Option<u32>, up: bool) -> Option<u32> {
    match (c, up) {
        (None, true) => Some(0),
        (None, false) => None,
        (Some(0), false) => None,
        (Some(n), true) => Some(n.saturating_add(1)),
        (Some(n), false) => Some(n - 1),
    }
}

fn step_f64(v: f64, step: f64, up: bool) -> f64 {
    round3(if up { v + step } else { (v - step).max(0.0) })
}

fn parse_secs(t: &str) -> Result<f64, String> {
    let t = t.trim().trim_end_matches('s').trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{t}' is not a number of seconds")),
    }
}

fn parse_timeout(t: &str) -> Result<Duration, String> {
    let v = parse_secs(t)?;
    if v < 0.001 {
        return Err("a timeout must be more than 0".into());
    }
    Ok(Duration::from_secs_f64(v))
}

fn is_none(t: &str) -> bool {
    let t = t.trim();
    t.is_empty() || t.eq_ignore_ascii_case("none")
}

fn parse_count(t: &str) -> Result<Option<u32>, String> {
    if is_none(t) {
        return Ok(None);
    }
    t.trim()
        .parse::<u32>()
        .map(Some)
        .map_err(|_| format!("'{}' is not a count (or none)", t.trim()))
}

fn valid_method(m: &str) -> bool {
    !m.is_empty() && m.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
}

impl Field {
    pub const ALL: [Field; 16] = [
        Field::Policy,
        Field::Method,
        Field::ConnectTimeout,
        Field::ReadTimeout,
        Field::MaxTime,
        Field::DnsTimeout,
        Field::Total,
        Field::ConnectRetries,
        Field::ReadRetries,
        Field::StatusRetries,
        Field::BackoffFactor,
        Field::BackoffMax,
        Field::BackoffJitter,
        Field::Forcelist,
        Field::AllowedMethods,
        Field::RetryAfter,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Policy => "policy",
            Field::Method => "method",
            Field::ConnectTimeout => "connect timeout",
            Field::ReadTimeout => "read timeout",
            Field::MaxTime => "total deadline",
            Field::DnsTimeout => "DNS timeout",
            Field::Total => "retries total",
            Field::ConnectRetries => "retries connect",
            Field::ReadRetries => "retries read",
            Field::StatusRetries => "retries status",
            Field::BackoffFactor => "backoff factor",
            Field::BackoffMax => "backoff max",
            Field::BackoffJitter => "backoff jitter",
            Field::Forcelist => "status forcelist",
            Field::AllowedMethods => "allowed methods",
            Field::RetryAfter => "respect Retry-After",
        }
    }

    pub fn kind(self) -> FieldKind {
        match self {
            Field::Policy | Field::RetryAfter => FieldKind::Choice,
            Field::Method | Field::Forcelist | Field::AllowedMethods => FieldKind::Text,
            _ => FieldKind::Number,
        }
    }

    /// The value as shown (and as editing starts from).
    pub fn value(self, s: &ReplaySettings) -> String {
        match self {
            Field::Policy => s.policy.name().into(),
            Field::Method => s.method.clone(),
            Field::ConnectTimeout => secs(s.connect_timeout),
            Field::ReadTimeout => secs(s.read_timeout),
            Field::MaxTime => s.max_time.map(secs).unwrap_or_else(|| "none".into()),
            Field::DnsTimeout => secs(s.dns_timeout),
            Field::Total => count(s.total),
            Field::ConnectRetries => count(s.connect),
            Field::ReadRetries if s.read_disabled => "off (read=False)".into(),
            Field::ReadRetries => count(s.read),
            Field::StatusRetries => count(s.status),
            Field::BackoffFactor => num(s.backoff_factor),
            Field::BackoffMax => format!("{} s", num(s.backoff_max)),
            Field::BackoffJitter => num(s.backoff_jitter),
            Field::Forcelist if s.status_forcelist.is_empty() => "none".into(),
            Field::Forcelist => s
                .status_forcelist
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(","),
            Field::AllowedMethods if s.allowed_methods.is_empty() => "any".into(),
            Field::AllowedMethods => s.allowed_methods.join(","),
            Field::RetryAfter => if s.respect_retry_after { "yes" } else { "no" }.into(),
        }
    }

    /// The text a field's edit starts from: the value without its unit.
    fn edit_text(self, s: &ReplaySettings) -> String {
        match self {
            Field::ReadRetries if s.read_disabled => String::new(),
            Field::Forcelist if s.status_forcelist.is_empty() => String::new(),
            Field::AllowedMethods if s.allowed_methods.is_empty() => String::new(),
            _ => self.value(s).trim_end_matches(" s").to_string(),
        }
    }

    /// Setting a retry counter mounts a `Retry` object: read errors become retryable, as
    /// with the CLI's retry flags (requests' default adapter has `read=False`).
    fn mounts_retry(self) -> bool {
        matches!(
            self,
            Field::Total | Field::ConnectRetries | Field::ReadRetries | Field::StatusRetries
        )
    }

    /// `+` (up) or `-`; ←/→ and space for choices.
    pub fn step(self, s: &mut ReplaySettings, up: bool) {
        match self {
            Field::Policy => {
                let all = PolicyKind::ALL;
                let i = all.iter().position(|p| *p == s.policy).unwrap_or(0);
                let n = all.len();
                s.policy = all[if up { (i + 1) % n } else { (i + n - 1) % n }];
            }
            Field::RetryAfter => s.respect_retry_after = !s.respect_retry_after,
            Field::Method | Field::Forcelist | Field::AllowedMethods => {}
            Field::ConnectTimeout => s.connect_timeout = step_secs(s.connect_timeout, up),
            Field::ReadTimeout => s.read_timeout = step_secs(s.read_timeout, up),
            Field::DnsTimeout => s.dns_timeout = step_secs(s.dns_timeout, up),
            Field::MaxTime => {
                s.max_time = match s.max_time {
                    None if up => Some(Duration::from_secs(1)),
                    None => None,
                    Some(d) if !up && d.as_secs_f64() <= 1.0 + 1e-9 => None,
                    Some(d) => Some(step_secs(d, up)),
                }
            }
            Field::Total => s.total = step_count(s.total, up),
            Field::ConnectRetries => s.connect = step_count(s.connect, up),
            Field::ReadRetries => {
                if s.read_disabled {
                    s.read = if up { Some(0) } else { None };
                } else {
                    s.read = step_count(s.read, up);
                }
            }
            Field::StatusRetries => s.status = step_count(s.status, up),
            Field::BackoffFactor => s.backoff_factor = step_f64(s.backoff_factor, 0.1, up),
            Field::BackoffMax => s.backoff_max = step_f64(s.backoff_max, 10.0, up),
            Field::BackoffJitter => s.backoff_jitter = step_f64(s.backoff_jitter, 0.1, up),
        }
        if self.mounts_retry() {
            s.read_disabled = false;
        }
    }

    /// A typed value; an error leaves the settings as they were.
    pub fn set(self, s: &mut ReplaySettings, text: &str) -> Result<(), String> {
        let t = text.trim();
        match self {
            Field::Policy => {
                s.policy = PolicyKind::from_name(t).ok_or_else(|| {
                    format!("'{t}' is not one of urllib3, loop, curl, fixed, full-jitter")
                })?
            }
            Field::RetryAfter => {
                s.respect_retry_after = match t.to_ascii_lowercase().as_str() {
                    "yes" | "y" | "true" | "1" | "on" => true,
                    "no" | "n" | "false" | "0" | "off" => false,
                    _ => return Err(format!("'{t}' is not yes or no")),
                }
            }
            Field::Method => {
                let m = t.to_ascii_uppercase();
                if !valid_method(&m) {
                    return Err(format!("'{t}' is not an HTTP method"));
                }
                s.method = m;
            }
            Field::Forcelist => {
                s.status_forcelist = t
                    .split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty() && !x.eq_ignore_ascii_case("none"))
                    .map(|x| {
                        x.parse::<u16>()
                            .ok()
                            .filter(|c| (100..=999).contains(c))
                            .ok_or_else(|| format!("'{x}' is not an HTTP status"))
                    })
                    .collect::<Result<_, _>>()?
            }
            Field::AllowedMethods => {
                let list: Vec<String> = t
                    .split(',')
                    .map(|m| m.trim().to_ascii_uppercase())
                    .filter(|m| !m.is_empty() && m != "ANY")
                    .collect();
                if let Some(bad) = list.iter().find(|m| !valid_method(m)) {
                    return Err(format!("'{bad}' is not an HTTP method"));
                }
                s.allowed_methods = list;
            }
            Field::ConnectTimeout => s.connect_timeout = parse_timeout(t)?,
            Field::ReadTimeout => s.read_timeout = parse_timeout(t)?,
            Field::DnsTimeout => s.dns_timeout = parse_timeout(t)?,
            Field::MaxTime => {
                s.max_time = if is_none(t) {
                    None
                } else {
                    Some(parse_timeout(t)?)
                }
            }
            Field::Total => s.total = parse_count(t)?,
            Field::ConnectRetries => s.connect = parse_count(t)?,
            Field::ReadRetries => s.read = parse_count(t)?,
            Field::StatusRetries => s.status = parse_count(t)?,
            Field::BackoffFactor => s.backoff_factor = parse_secs(t)?,
            Field::BackoffMax => s.backoff_max = parse_secs(t)?,
            Field::BackoffJitter => s.backoff_jitter = parse_secs(t)?,
        }
        if self.mounts_retry() {
            s.read_disabled = false;
        }
        Ok(())
    }
}

/// The `e` overlay's state; the settings it edits are the app's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Editor {
    /// Index into [`Field::ALL`].
    pub field: usize,
    /// The text being typed into the field, when one is being edited.
    pub editing: Option<String>,
    /// Why the last typed value was refused.
    pub error: Option<String>,
}

impl Editor {
    pub fn selected(&self) -> Field {
        Field::ALL[self.field.min(Field::ALL.len() - 1)]
    }

    pub fn begin(&mut self, s: &ReplaySettings, first: Option<char>) {
        self.error = None;
        self.editing = Some(match first {
            Some(c) => c.to_string(),
            None => self.selected().edit_text(s),
        });
    }

    pub fn commit(&mut self, s: &mut ReplaySettings) {
        if let Some(text) = self.editing.take() {
            self.error = self.selected().set(s, &text).err();
        }
    }
}

/// The settings rows of the compare view: label and value.
pub fn compare_rows(s: &ReplaySettings) -> Vec<(&'static str, String)> {
    Field::ALL.iter().map(|f| (f.label(), f.value(s))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_sensible() {
        let mut s = ReplaySettings::default();
        Field::ConnectTimeout.step(&mut s, true);
        assert_eq!(s.connect_timeout, Duration::from_secs(11));
        s.connect_timeout = Duration::from_secs(1);
        Field::ConnectTimeout.step(&mut s, false);
        assert_eq!(Field::ConnectTimeout.value(&s), "0.9 s");
        for _ in 0..20 {
            Field::ConnectTimeout.step(&mut s, false);
        }
        assert_eq!(Field::ConnectTimeout.value(&s), "0.1 s", "never 0");
        Field::BackoffFactor.step(&mut s, true);
        Field::BackoffFactor.step(&mut s, true);
        Field::BackoffFactor.step(&mut s, true);
        assert_eq!(Field::BackoffFactor.value(&s), "0.3");
        Field::BackoffMax.step(&mut s, false);
        assert_eq!(s.backoff_max, 110.0);
        Field::MaxTime.step(&mut s, true);
        assert_eq!(s.max_time, Some(Duration::from_secs(1)));
        Field::MaxTime.step(&mut s, false);
        assert_eq!(s.max_time, None);
    }

    #[test]
    fn counts_go_through_none_and_mount_a_retry() {
        let mut s = ReplaySettings::default();
        assert!(s.read_disabled);
        Field::Total.step(&mut s, true);
        assert_eq!(s.total, Some(1));
        assert!(!s.read_disabled, "a Retry object now");
        Field::Total.step(&mut s, false);
        Field::Total.step(&mut s, false);
        assert_eq!(s.total, None);
        assert_eq!(Field::Total.value(&s), "none");
        Field::Total.step(&mut s, true);
        assert_eq!(s.total, Some(0));
    }

    #[test]
    fn typed_values_are_checked() {
        let mut s = ReplaySettings::default();
        assert!(Field::Forcelist.set(&mut s, "503, 429").is_ok());
        assert_eq!(s.status_forcelist, vec![503, 429]);
        assert!(Field::Forcelist.set(&mut s, "50x").is_err());
        assert_eq!(s.status_forcelist, vec![503, 429], "unchanged");
        assert!(Field::AllowedMethods.set(&mut s, "get,post").is_ok());
        assert_eq!(s.allowed_methods, vec!["GET", "POST"]);
        assert!(Field::Method.set(&mut s, "po st").is_err());
        assert!(Field::ReadTimeout.set(&mut s, "2.5").is_ok());
        assert_eq!(s.read_timeout, Duration::from_millis(2500));
        assert!(Field::ReadTimeout.set(&mut s, "0").is_err());
        assert!(Field::MaxTime.set(&mut s, "none").is_ok());
        assert!(Field::Policy.set(&mut s, "curl").is_ok());
        assert_eq!(s.policy, PolicyKind::Curl);
    }

    #[test]
    fn policy_cycles_through_all_both_ways() {
        let mut s = ReplaySettings::default();
        let mut seen = vec![s.policy];
        for _ in 0..PolicyKind::ALL.len() {
            Field::Policy.step(&mut s, true);
            seen.push(s.policy);
        }
        assert_eq!(&seen[..5], &PolicyKind::ALL);
        assert_eq!(s.policy, PolicyKind::Urllib3, "wraps");
        Field::Policy.step(&mut s, false);
        assert_eq!(s.policy, PolicyKind::FullJitter);
    }

    #[test]
    fn the_default_is_not_a_replay_and_retries_are() {
        let mut s = ReplaySettings::default();
        assert!(!is_replay(&s));
        s.total = Some(3);
        s.status_forcelist = vec![503];
        s.read_disabled = false;
        assert!(is_replay(&s));
    }
}
