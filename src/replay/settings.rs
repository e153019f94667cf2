//! The replay settings: everything a replay can vary, what each field accepts, and the one
//! place where a typed value — a command-line flag or a dashboard edit — becomes a setting.
//!
//! The command line and the dashboard's editor both go through [`ReplaySettings::set_field`]
//! (the editor's `+`/`-` through [`ReplaySettings::step_field`]); settings put together in code
//! are checked with [`ReplaySettings::validate`]. A value one refuses, the other refuses too,
//! in the same words ([`SettingError`]). The caps are there because a replay makes real
//! attempts and really sleeps: nothing a person would not wait for, and nothing a `Duration`
//! cannot hold.

use std::fmt;
use std::time::Duration;

/// urllib3's `Retry.DEFAULT_ALLOWED_METHODS`.
pub const DEFAULT_ALLOWED_METHODS: [&str; 6] = ["HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE"];
/// urllib3's `Retry.DEFAULT_BACKOFF_MAX`, seconds.
pub const DEFAULT_BACKOFF_MAX: f64 = 120.0;
/// urllib3's `Retry.DEFAULT_RETRY_AFTER_MAX`, seconds (6 hours).
pub const DEFAULT_RETRY_AFTER_MAX: f64 = 21600.0;
/// `Retry()` with no arguments allows 10 retries in total.
pub const URLLIB3_DEFAULT_TOTAL: u32 = 10;
/// Retries for the loop, curl, fixed and full-jitter policies when `total` is `None`.
pub const SIMPLE_DEFAULT_RETRIES: u32 = 3;

/// Most retries a replay may make per counter.
pub const MAX_RETRIES: u32 = 100;
/// Longest backoff setting (factor, max and jitter), in seconds: an hour.
pub const MAX_SLEEP_S: f64 = 3600.0;
/// Longest timeout, in seconds: a day, as the command line's timeout flags allow.
pub const MAX_TIMEOUT_S: f64 = 86_400.0;
/// Shortest timeout, in seconds: a millisecond. Less is no timeout a person means, and it
/// would round to nothing in reports.
pub const MIN_TIMEOUT_S: f64 = 0.001;

/// Which retry behaviour to replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// urllib3 2.x `Retry`, as mounted on a requests `HTTPAdapter`.
    #[default]
    Urllib3,
    /// The loop people write by hand around `requests.request` (default adapter):
    /// `except (ConnectionError, Timeout)`, `sleep(backoff_factor * 2 ** attempt)`.
    Loop,
    /// `curl --fail --retry N` (with `--retry-delay` when `backoff_factor` > 0).
    Curl,
    /// A fixed `backoff_factor` seconds between attempts, any failure retried.
    Fixed,
    /// Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff And
    /// Jitter"): `sleep = random_between(0, min(cap, base * 2 ** attempt))`.
    FullJitter,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 5] = [
        PolicyKind::Urllib3,
        PolicyKind::Loop,
        PolicyKind::Curl,
        PolicyKind::Fixed,
        PolicyKind::FullJitter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Urllib3 => "urllib3",
            PolicyKind::Loop => "loop",
            PolicyKind::Curl => "curl",
            PolicyKind::Fixed => "fixed",
            PolicyKind::FullJitter => "full-jitter",
        }
    }

    pub fn from_name(name: &str) -> Option<PolicyKind> {
        PolicyKind::ALL.into_iter().find(|p| p.name() == name)
    }

    /// One line for the screen: how the sleep is computed and what is retried.
    pub fn formula(self) -> &'static str {
        match self {
            PolicyKind::Urllib3 => {
                "sleep = min(backoff_max, backoff_factor × 2^(n−1) + U(0, jitter)), 0 for the first \
                 retry; Retry-After (≤ retry_after_max) instead when sent and respected"
            }
            PolicyKind::Loop => {
                "sleep = backoff_factor × 2^(n−1) after failure n (1, 2, 4 … s for factor 1), no \
                 jitter; retries ConnectionError/Timeout on any method, never a status"
            }
            PolicyKind::Curl => {
                "sleep = 1 s doubling to 600 s (or --retry-delay = backoff_factor), at least \
                 Retry-After; retries timeouts, DNS and 408/429/500/502/503/504"
            }
            PolicyKind::Fixed => {
                "sleep = backoff_factor after every failure; retries any error and forcelist \
                 statuses, any method; Retry-After ignored"
            }
            PolicyKind::FullJitter => {
                "sleep = U(0, min(backoff_max, backoff_factor × 2^(n−1))); retries any error and \
                 forcelist statuses, any method; Retry-After ignored"
            }
        }
    }
}

/// `--retry-policy` takes the policies' own names, so the command line, the editor and the
/// JSON report spell them alike.
impl clap::ValueEnum for PolicyKind {
    fn value_variants<'a>() -> &'a [Self] {
        &PolicyKind::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// Everything a replay can vary. Counts follow urllib3: `None` means "no limit of its own".
#[derive(Clone, Debug, PartialEq)]
pub struct ReplaySettings {
    /// TCP connect, per address (urllib3 also bounds the TLS handshake with it).
    pub connect_timeout: Duration,
    /// The longest gap between two reads (not a total).
    pub read_timeout: Duration,
    /// netpeel's `--max-time` for one attempt; requests has no equivalent.
    pub max_time: Option<Duration>,
    /// netpeel's DNS timeout; requests cannot bound getaddrinfo.
    pub dns_timeout: Duration,
    /// `Retry(total=…)`; `None` is urllib3's `total=None` (only the other counters limit).
    /// The loop, curl, fixed and full-jitter policies use it as their single retry count
    /// ([`SIMPLE_DEFAULT_RETRIES`] when `None`).
    pub total: Option<u32>,
    pub connect: Option<u32>,
    pub read: Option<u32>,
    /// urllib3's `read=False`: a read error is re-raised as it is, never retried and never
    /// wrapped in `MaxRetryError`. requests' default adapter uses `Retry(0, read=False)`.
    pub read_disabled: bool,
    pub status: Option<u32>,
    /// `Retry(other=…)`: errors that are neither connect nor read errors (urllib3 `SSLError`,
    /// a `ProxyError` not wrapping a connect error).
    pub other: Option<u32>,
    pub backoff_factor: f64,
    /// Seconds; caps backoff plus jitter (120 by default).
    pub backoff_max: f64,
    pub backoff_jitter: f64,
    pub status_forcelist: Vec<u16>,
    /// Compared with the upper-cased method as given (urllib3 does not upper-case this list).
    /// Empty means every method (urllib3's `allowed_methods=None`).
    pub allowed_methods: Vec<String>,
    pub respect_retry_after: bool,
    /// Seconds (21600 by default).
    pub retry_after_max: f64,
    pub raise_on_status: bool,
    pub method: String,
    pub policy: PolicyKind,
    /// curl policy: `--retry-connrefused` (ECONNREFUSED counts as transient).
    pub curl_retry_connrefused: bool,
    /// curl policy: `--retry-all-errors` (every error, and with `--fail` every HTTP status
    /// ≥ 400, counts as transient).
    pub curl_retry_all_errors: bool,
}

impl Default for ReplaySettings {
    /// What a plain `requests.get(url, timeout=(10, 30))` does: `HTTPAdapter`'s default
    /// `Retry(0, read=False)`, i.e. no retries at all; netpeel's default timeouts.
    fn default() -> Self {
        ReplaySettings {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            max_time: None,
            dns_timeout: Duration::from_secs(5),
            total: Some(0),
            connect: None,
            read: None,
            read_disabled: true,
            status: None,
            other: None,
            backoff_factor: 0.0,
            backoff_max: DEFAULT_BACKOFF_MAX,
            backoff_jitter: 0.0,
            status_forcelist: Vec::new(),
            allowed_methods: DEFAULT_ALLOWED_METHODS
                .iter()
                .map(|m| m.to_string())
                .collect(),
            respect_retry_after: true,
            retry_after_max: DEFAULT_RETRY_AFTER_MAX,
            raise_on_status: true,
            method: "GET".into(),
            policy: PolicyKind::Urllib3,
            curl_retry_connrefused: false,
            curl_retry_all_errors: false,
        }
    }
}

impl ReplaySettings {
    /// `Retry()` with its defaults: `total=10`, no per-category limits, no backoff, no
    /// forcelist, idempotent methods only, Retry-After respected.
    pub fn urllib3_default() -> Self {
        ReplaySettings {
            total: Some(URLLIB3_DEFAULT_TOTAL),
            read_disabled: false,
            ..ReplaySettings::default()
        }
    }

    /// The single retry count of the loop, curl, fixed and full-jitter policies.
    pub fn simple_retries(&self) -> u32 {
        self.total.unwrap_or(SIMPLE_DEFAULT_RETRIES)
    }

    /// urllib3's `_is_method_retryable`: an empty list allows every method.
    pub fn method_retryable(&self, method: &str) -> bool {
        let upper = method.to_uppercase();
        self.allowed_methods.is_empty() || self.allowed_methods.contains(&upper)
    }
}

/// One setting a person can change, in the order the dashboard's editor lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// The longest a server's `Retry-After` is honoured (urllib3's `retry_after_max`).
    RetryAfterMax,
}

impl Field {
    pub const ALL: [Field; 17] = [
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
        Field::RetryAfterMax,
    ];

    /// The command-line flag that sets it: how an error names it on the command line.
    pub fn flag(self) -> &'static str {
        match self {
            Field::Policy => "--retry-policy",
            Field::Method => "--request",
            Field::ConnectTimeout => "--connect-timeout",
            Field::ReadTimeout => "--read-timeout",
            Field::MaxTime => "--max-time",
            Field::DnsTimeout => "--dns-timeout",
            Field::Total => "--retries",
            Field::ConnectRetries => "--connect-retries",
            Field::ReadRetries => "--read-retries",
            Field::StatusRetries => "--status-retries",
            Field::BackoffFactor => "--backoff-factor",
            Field::BackoffMax => "--backoff-max",
            Field::BackoffJitter => "--backoff-jitter",
            Field::Forcelist => "--status-forcelist",
            Field::AllowedMethods => "--allowed-methods",
            Field::RetryAfter => "--no-retry-after",
            Field::RetryAfterMax => "--retry-after-max",
        }
    }

    /// The editor's name for it: how an error names it in the dashboard.
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
            Field::RetryAfterMax => "Retry-After cap",
        }
    }

    fn rule(self) -> Rule {
        match self {
            Field::Policy => Rule::Policy,
            Field::Method => Rule::Method,
            Field::ConnectTimeout | Field::ReadTimeout | Field::DnsTimeout => {
                Rule::Timeout { optional: false }
            }
            Field::MaxTime => Rule::Timeout { optional: true },
            Field::Total | Field::ConnectRetries | Field::ReadRetries | Field::StatusRetries => {
                Rule::Count
            }
            Field::BackoffFactor | Field::BackoffMax | Field::BackoffJitter => Rule::Sleep,
            Field::Forcelist => Rule::Statuses,
            Field::AllowedMethods => Rule::Methods,
            Field::RetryAfter => Rule::YesNo,
            Field::RetryAfterMax => Rule::Cap,
        }
    }

    /// Setting a retry counter mounts a `Retry` object: read errors become retryable, as with
    /// the command line's retry flags (requests' default adapter has `read=False`).
    fn mounts_retry(self) -> bool {
        self.rule() == Rule::Count
    }
}

/// What a field accepts. The words of its errors come from here, so the command line and the
/// editor describe a rule alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// Seconds, more than 0 and at most [`MAX_TIMEOUT_S`]; `optional` also takes "none".
    Timeout {
        optional: bool,
    },
    /// A retry count from 0 to [`MAX_RETRIES`], or "none" (no limit of its own).
    Count,
    /// Seconds from 0 to [`MAX_SLEEP_S`].
    Sleep,
    /// Seconds from 0 to [`MAX_TIMEOUT_S`] (the Retry-After cap: 6 h by default).
    Cap,
    /// A comma list of HTTP statuses; "none" or nothing for none.
    Statuses,
    /// A comma list of HTTP methods; "any" or nothing for every method.
    Methods,
    Method,
    Policy,
    YesNo,
}

impl Rule {
    /// What the field takes, to finish "'…' is not ".
    fn expected(self) -> String {
        match self {
            Rule::Timeout { optional } => format!(
                "a number of seconds, more than 0 and at most {MAX_TIMEOUT_S} (a day){}",
                if optional { ", or none" } else { "" }
            ),
            Rule::Count => format!("a count from 0 to {MAX_RETRIES}, or none"),
            Rule::Sleep => format!("a number of seconds from 0 to {MAX_SLEEP_S}"),
            Rule::Cap => format!("a number of seconds from 0 to {MAX_TIMEOUT_S} (a day)"),
            Rule::Statuses => "an HTTP status (100 to 999)".into(),
            Rule::Methods | Rule::Method => "an HTTP method".into(),
            Rule::Policy => {
                let names: Vec<&str> = PolicyKind::ALL.iter().map(|p| p.name()).collect();
                format!("one of {}", names.join(", "))
            }
            Rule::YesNo => "yes or no".into(),
        }
    }
}

/// Why a value was refused; the field's rule supplies the range in the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Not of the field's form at all (not a number, not a status, not a policy name…): the
    /// offending text, or the offending list item.
    Unreadable(String),
    /// A number below the field's least value.
    TooSmall,
    /// A number above the field's cap.
    TooLarge,
}

/// A refused replay setting: which field, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingError {
    pub field: Field,
    pub problem: Problem,
}

impl SettingError {
    /// Turns a [`Problem`] with `field` into its error (for `map_err`).
    fn in_field(field: Field) -> impl FnOnce(Problem) -> SettingError {
        move |problem| SettingError { field, problem }
    }

    /// The message with the field called `name` (its flag, or its label in the editor).
    fn message(&self, name: &str) -> String {
        let rule = self.field.rule();
        match (&self.problem, rule) {
            // Debug-escaped so a line break typed into a value cannot split the message.
            (Problem::Unreadable(text), _) => {
                format!(
                    "{name}: '{}' is not {}",
                    text.escape_debug(),
                    rule.expected()
                )
            }
            (Problem::TooSmall, Rule::Timeout { .. }) => {
                format!("{name} must be more than 0 seconds (1 ms at least)")
            }
            (Problem::TooSmall, _) => format!("{name} must be a number of seconds, 0 or more"),
            (Problem::TooLarge, Rule::Count) => format!("{name} is at most {MAX_RETRIES}"),
            (Problem::TooLarge, Rule::Timeout { .. } | Rule::Cap) => {
                format!("{name} is at most {MAX_TIMEOUT_S} seconds (a day)")
            }
            (Problem::TooLarge, _) => format!("{name} is at most {MAX_SLEEP_S} seconds"),
        }
    }

    /// The message as the dashboard's editor shows it, naming the field by its label.
    pub fn editor_message(&self) -> String {
        self.message(self.field.label())
    }
}

/// The command line's wording: the field named by its flag.
impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(self.field.flag()))
    }
}

impl std::error::Error for SettingError {}

/// "none", or nothing at all: no value of its own.
fn is_none(t: &str) -> bool {
    t.is_empty() || t.eq_ignore_ascii_case("none")
}

/// A number of seconds. A trailing "s" is allowed because the editor shows values as "10 s".
fn seconds(t: &str) -> Result<f64, Problem> {
    let number = t.strip_suffix('s').unwrap_or(t).trim();
    match number.parse::<f64>() {
        Ok(v) if !v.is_nan() => Ok(v),
        _ => Err(Problem::Unreadable(t.to_string())),
    }
}

/// A timeout typed as a flag's value (`--connect-timeout`, `-m`, …), by the same rule as the
/// replay's timeouts, in the words clap puts after "invalid value '…' for '--flag'".
pub(crate) fn parse_timeout(t: &str) -> Result<Duration, String> {
    timeout(t.trim()).map_err(|problem| match problem {
        Problem::Unreadable(_) => format!("'{t}' is not a number of seconds"),
        Problem::TooSmall => format!("'{t}' must be more than 0 seconds (1 ms at least)"),
        Problem::TooLarge => format!("'{t}' is more than a day"),
    })
}

fn timeout(t: &str) -> Result<Duration, Problem> {
    let v = seconds(t)?;
    if v > MAX_TIMEOUT_S {
        return Err(Problem::TooLarge);
    }
    // Refuses negatives and anything below a millisecond.
    match Duration::try_from_secs_f64(v) {
        Ok(d) if d.as_secs_f64() >= MIN_TIMEOUT_S => Ok(d),
        _ => Err(Problem::TooSmall),
    }
}

fn check_timeout(d: Duration) -> Result<(), Problem> {
    if d.as_secs_f64() < MIN_TIMEOUT_S {
        Err(Problem::TooSmall)
    } else if d.as_secs_f64() > MAX_TIMEOUT_S {
        Err(Problem::TooLarge)
    } else {
        Ok(())
    }
}

fn sleep(t: &str) -> Result<f64, Problem> {
    let v = seconds(t)?;
    check_sleep(v)?;
    Ok(v)
}

/// The Retry-After cap: 0 (the backoff always) to a day.
fn cap(t: &str) -> Result<f64, Problem> {
    let v = seconds(t)?;
    check_cap(v)?;
    Ok(v)
}

fn check_cap(v: f64) -> Result<(), Problem> {
    check_seconds(v, MAX_TIMEOUT_S)
}

/// The cap moves by a minute below ten, by ten minutes below an hour, then by hours.
fn step_cap(v: f64, up: bool) -> f64 {
    let v = if v.is_nan() { 0.0 } else { v };
    let step = match (v, up) {
        (v, true) if v < 600.0 => 60.0,
        (v, false) if v <= 600.0 => 60.0,
        (v, true) if v < 3600.0 => 600.0,
        (v, false) if v <= 3600.0 => 600.0,
        _ => 3600.0,
    };
    let next = if up { v + step } else { v - step };
    round3(next.clamp(0.0, MAX_TIMEOUT_S))
}

fn check_sleep(v: f64) -> Result<(), Problem> {
    check_seconds(v, MAX_SLEEP_S)
}

/// Seconds from 0 to `max`.
fn check_seconds(v: f64, max: f64) -> Result<(), Problem> {
    if v.is_nan() {
        Err(Problem::Unreadable(v.to_string()))
    } else if v < 0.0 {
        Err(Problem::TooSmall)
    } else if v > max {
        Err(Problem::TooLarge)
    } else {
        Ok(())
    }
}

fn count(t: &str) -> Result<Option<u32>, Problem> {
    if is_none(t) {
        return Ok(None);
    }
    let digits = t.strip_prefix('+').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::Unreadable(t.to_string()));
    }
    // However many digits: past u32 is past the cap too, and says so.
    match digits.parse::<u32>() {
        Ok(n) if n <= MAX_RETRIES => Ok(Some(n)),
        _ => Err(Problem::TooLarge),
    }
}

fn check_count(c: Option<u32>) -> Result<(), Problem> {
    match c {
        Some(n) if n > MAX_RETRIES => Err(Problem::TooLarge),
        _ => Ok(()),
    }
}

fn is_status(code: u16) -> bool {
    (100..=999).contains(&code)
}

fn statuses(t: &str) -> Result<Vec<u16>, Problem> {
    t.split(',')
        .map(str::trim)
        .filter(|x| !is_none(x))
        .map(|x| {
            x.parse::<u16>()
                .ok()
                .filter(|c| is_status(*c))
                .ok_or_else(|| Problem::Unreadable(x.to_string()))
        })
        .collect()
}

/// An HTTP method is a token (RFC 9110), as the command line's `-X` takes it.
fn is_method(m: &str) -> bool {
    !m.is_empty()
        && m.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn method(t: &str) -> Result<String, Problem> {
    let upper = t.to_ascii_uppercase();
    if is_method(&upper) {
        Ok(upper)
    } else {
        Err(Problem::Unreadable(t.to_string()))
    }
}

fn methods(t: &str) -> Result<Vec<String>, Problem> {
    t.split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty() && !m.eq_ignore_ascii_case("any"))
        .map(method)
        .collect()
}

fn yes_or_no(t: &str) -> Result<bool, Problem> {
    match t.to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "on" => Ok(true),
        "no" | "n" | "false" | "0" | "off" => Ok(false),
        _ => Err(Problem::Unreadable(t.to_string())),
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Timeouts: tenths below a second, whole seconds above; never below 0.1 s nor above a day.
fn step_timeout(d: Duration, up: bool) -> Duration {
    let v = d.as_secs_f64();
    let next = if up {
        if v < 1.0 - 1e-9 { v + 0.1 } else { v + 1.0 }
    } else if v <= 1.0 + 1e-9 {
        v - 0.1
    } else {
        v - 1.0
    };
    Duration::from_secs_f64(round3(next.clamp(0.1, MAX_TIMEOUT_S)))
}

/// `-` stops at 0: "none" (no limit of its own, which can make a run unbounded) is only ever
/// typed, never reached by a step. `+` from "none" gives 0.
fn step_count(c: Option<u32>, up: bool) -> Option<u32> {
    match (c, up) {
        (None, true) => Some(0),
        (None, false) => None,
        (Some(0), false) => Some(0),
        (Some(n), true) => Some(n.saturating_add(1).min(MAX_RETRIES)),
        (Some(n), false) => Some((n - 1).min(MAX_RETRIES)),
    }
}

fn step_sleep(v: f64, step: f64, up: bool) -> f64 {
    let v = if v.is_nan() { 0.0 } else { v };
    let next = if up { v + step } else { v - step };
    round3(next.clamp(0.0, MAX_SLEEP_S))
}

impl ReplaySettings {
    /// Set `field` from typed text (surrounding blanks ignored). A refused value leaves the
    /// settings as they were.
    pub fn set_field(&mut self, field: Field, text: &str) -> Result<(), SettingError> {
        self.parse_into(field, text.trim())
            .map_err(SettingError::in_field(field))?;
        if field.mounts_retry() {
            self.read_disabled = false;
        }
        Ok(())
    }

    fn parse_into(&mut self, field: Field, t: &str) -> Result<(), Problem> {
        match field {
            Field::Policy => {
                self.policy =
                    PolicyKind::from_name(t).ok_or_else(|| Problem::Unreadable(t.to_string()))?
            }
            Field::RetryAfter => self.respect_retry_after = yes_or_no(t)?,
            Field::Method => self.method = method(t)?,
            Field::Forcelist => self.status_forcelist = statuses(t)?,
            Field::AllowedMethods => self.allowed_methods = methods(t)?,
            Field::ConnectTimeout => self.connect_timeout = timeout(t)?,
            Field::ReadTimeout => self.read_timeout = timeout(t)?,
            Field::DnsTimeout => self.dns_timeout = timeout(t)?,
            Field::MaxTime => self.max_time = if is_none(t) { None } else { Some(timeout(t)?) },
            Field::Total => self.total = count(t)?,
            Field::ConnectRetries => self.connect = count(t)?,
            Field::ReadRetries => self.read = count(t)?,
            Field::StatusRetries => self.status = count(t)?,
            Field::BackoffFactor => self.backoff_factor = sleep(t)?,
            Field::BackoffMax => self.backoff_max = sleep(t)?,
            Field::BackoffJitter => self.backoff_jitter = sleep(t)?,
            Field::RetryAfterMax => self.retry_after_max = cap(t)?,
        }
        Ok(())
    }

    /// The editor's `+` (`up`) or `-`: one step, kept within the field's range; choices cycle
    /// and text fields do not step. Backoff factor and jitter move by 0.1 s, backoff max by
    /// 10 s; the total deadline goes to "none" below a second.
    pub fn step_field(&mut self, field: Field, up: bool) {
        match field {
            Field::Policy => {
                let all = PolicyKind::ALL;
                let i = all.iter().position(|p| *p == self.policy).unwrap_or(0);
                let n = all.len();
                self.policy = all[if up { (i + 1) % n } else { (i + n - 1) % n }];
            }
            Field::RetryAfter => self.respect_retry_after = !self.respect_retry_after,
            Field::Method | Field::Forcelist | Field::AllowedMethods => {}
            Field::ConnectTimeout => self.connect_timeout = step_timeout(self.connect_timeout, up),
            Field::ReadTimeout => self.read_timeout = step_timeout(self.read_timeout, up),
            Field::DnsTimeout => self.dns_timeout = step_timeout(self.dns_timeout, up),
            Field::MaxTime => {
                self.max_time = match self.max_time {
                    None if up => Some(Duration::from_secs(1)),
                    None => None,
                    Some(d) if !up && d.as_secs_f64() <= 1.0 + 1e-9 => None,
                    Some(d) => Some(step_timeout(d, up)),
                }
            }
            Field::Total => self.total = step_count(self.total, up),
            Field::ConnectRetries => self.connect = step_count(self.connect, up),
            // From requests' `read=False`, `+` mounts a Retry with 0 read retries; `-` stays
            // off (it never turns into "none", an unlimited count).
            Field::ReadRetries if self.read_disabled && !up => return,
            Field::ReadRetries if self.read_disabled => self.read = Some(0),
            Field::ReadRetries => self.read = step_count(self.read, up),
            Field::StatusRetries => self.status = step_count(self.status, up),
            Field::BackoffFactor => self.backoff_factor = step_sleep(self.backoff_factor, 0.1, up),
            Field::BackoffMax => self.backoff_max = step_sleep(self.backoff_max, 10.0, up),
            Field::BackoffJitter => self.backoff_jitter = step_sleep(self.backoff_jitter, 0.1, up),
            Field::RetryAfterMax => self.retry_after_max = step_cap(self.retry_after_max, up),
        }
        if field.mounts_retry() {
            self.read_disabled = false;
        }
    }

    /// Every field against its rule, for settings put together in code rather than typed (the
    /// command line takes the timeouts and the method from its probe flags). The first refused
    /// field in [`Field::ALL`] order is the error.
    pub fn validate(&self) -> Result<(), SettingError> {
        Field::ALL
            .into_iter()
            .try_for_each(|field| self.check(field).map_err(SettingError::in_field(field)))
    }

    fn check(&self, field: Field) -> Result<(), Problem> {
        let unreadable = |v: &dyn fmt::Display| Problem::Unreadable(v.to_string());
        match field {
            Field::Policy | Field::RetryAfter => Ok(()),
            Field::Method if is_method(&self.method) => Ok(()),
            Field::Method => Err(unreadable(&self.method)),
            Field::ConnectTimeout => check_timeout(self.connect_timeout),
            Field::ReadTimeout => check_timeout(self.read_timeout),
            Field::DnsTimeout => check_timeout(self.dns_timeout),
            Field::MaxTime => self.max_time.map_or(Ok(()), check_timeout),
            Field::Total => check_count(self.total),
            Field::ConnectRetries => check_count(self.connect),
            Field::ReadRetries => check_count(self.read),
            Field::StatusRetries => check_count(self.status),
            Field::BackoffFactor => check_sleep(self.backoff_factor),
            Field::BackoffMax => check_sleep(self.backoff_max),
            Field::BackoffJitter => check_sleep(self.backoff_jitter),
            Field::RetryAfterMax => check_cap(self.retry_after_max),
            Field::Forcelist => match self.status_forcelist.iter().find(|c| !is_status(**c)) {
                Some(c) => Err(unreadable(c)),
                None => Ok(()),
            },
            Field::AllowedMethods => match self.allowed_methods.iter().find(|m| !is_method(m)) {
                Some(m) => Err(unreadable(m)),
                None => Ok(()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What people type by accident or on purpose, none of it a reason to panic.
    pub(crate) const NASTY: [&str; 22] = [
        "1e19",
        "-1",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "infinity",
        "18446744073709551616",
        "99999999999999999999999999999999999999",
        "4294967296",
        "1e-300",
        "0",
        "-0",
        "",
        "   ",
        "s",
        "none",
        "garbage",
        "5,,x",
        "0x10",
        "1.5.2",
        "é\n\u{0}",
    ];

    #[test]
    fn defaults_match_requests_and_urllib3() {
        let d = ReplaySettings::default();
        assert_eq!(d.total, Some(0));
        assert!(d.read_disabled);
        assert_eq!(d.policy, PolicyKind::Urllib3);
        assert_eq!(d.allowed_methods, DEFAULT_ALLOWED_METHODS);
        let u = ReplaySettings::urllib3_default();
        assert_eq!(u.total, Some(10));
        assert!(!u.read_disabled);
        assert_eq!((u.backoff_max, u.retry_after_max), (120.0, 21600.0));
        assert_eq!(u.backoff_factor, 0.0);
        assert!(u.status_forcelist.is_empty() && u.raise_on_status && u.respect_retry_after);
    }

    #[test]
    fn policy_names_and_formulas() {
        for p in PolicyKind::ALL {
            assert_eq!(PolicyKind::from_name(p.name()), Some(p));
            assert!(p.formula().starts_with("sleep = "), "{}", p.name());
        }
    }

    #[test]
    fn policy_names_are_the_retry_policy_values() {
        use clap::ValueEnum as _;
        for p in PolicyKind::ALL {
            assert_eq!(PolicyKind::from_str(p.name(), false), Ok(p));
        }
        assert!(PolicyKind::from_str("forever", false).is_err());
    }

    #[test]
    fn any_text_in_any_field_is_set_or_refused_never_out_of_range() {
        for field in Field::ALL {
            for text in NASTY {
                let mut s = ReplaySettings::urllib3_default();
                let before = s.clone();
                match s.set_field(field, text) {
                    Ok(()) => assert_eq!(s.validate(), Ok(()), "{field:?} {text:?}"),
                    Err(e) => {
                        assert_eq!(s, before, "{field:?} {text:?}: a refusal changes nothing");
                        assert_eq!(e.field, field);
                        assert_eq!(e.to_string().lines().count(), 1, "{e}");
                    }
                }
            }
        }
    }

    fn refused(field: Field, text: &str) -> Option<SettingError> {
        ReplaySettings::urllib3_default()
            .set_field(field, text)
            .err()
    }

    #[test]
    fn refusals_name_the_field_and_the_range() {
        let e = refused(Field::Total, "101");
        assert_eq!(e.as_ref().map(|e| &e.problem), Some(&Problem::TooLarge));
        assert_eq!(
            e.as_ref().map(ToString::to_string).as_deref(),
            Some("--retries is at most 100")
        );
        assert_eq!(
            e.map(|e| e.editor_message()).as_deref(),
            Some("retries total is at most 100")
        );
        let message = |f: Field, t: &str| refused(f, t).map(|e| e.to_string());
        let too_large = Some(Problem::TooLarge);
        assert_eq!(
            refused(Field::Total, "99999999999999999999").map(|e| e.problem),
            too_large
        );
        assert_eq!(
            message(Field::ConnectTimeout, "1e19").as_deref(),
            Some("--connect-timeout is at most 86400 seconds (a day)")
        );
        assert_eq!(
            message(Field::ReadTimeout, "0").as_deref(),
            Some("--read-timeout must be more than 0 seconds (1 ms at least)")
        );
        assert_eq!(
            refused(Field::MaxTime, "1e-300").map(|e| e.problem),
            Some(Problem::TooSmall)
        );
        assert_eq!(
            message(Field::BackoffFactor, "1e300").as_deref(),
            Some("--backoff-factor is at most 3600 seconds")
        );
        assert_eq!(
            message(Field::BackoffMax, "-1").as_deref(),
            Some("--backoff-max must be a number of seconds, 0 or more")
        );
        assert_eq!(
            message(Field::BackoffJitter, "NaN").as_deref(),
            Some("--backoff-jitter: 'NaN' is not a number of seconds from 0 to 3600")
        );
        assert_eq!(
            message(Field::ConnectRetries, "-1").as_deref(),
            Some("--connect-retries: '-1' is not a count from 0 to 100, or none")
        );
        assert_eq!(
            message(Field::Forcelist, "503, 50x").as_deref(),
            Some("--status-forcelist: '50x' is not an HTTP status (100 to 999)")
        );
        assert_eq!(
            message(Field::AllowedMethods, "get,g t").as_deref(),
            Some("--allowed-methods: 'g t' is not an HTTP method")
        );
        assert_eq!(
            message(Field::Policy, "forever").as_deref(),
            Some("--retry-policy: 'forever' is not one of urllib3, loop, curl, fixed, full-jitter")
        );
        assert_eq!(
            message(Field::Method, "a\nb").as_deref(),
            Some("--request: 'a\\nb' is not an HTTP method"),
            "one line, whatever was typed"
        );
    }

    #[test]
    fn accepted_text_and_what_it_sets() {
        let mut s = ReplaySettings::default();
        let ok = |s: &mut ReplaySettings, f: Field, t: &str| assert_eq!(s.set_field(f, t), Ok(()));
        ok(&mut s, Field::ReadTimeout, " 2.5 s ");
        assert_eq!(s.read_timeout, Duration::from_millis(2500));
        ok(&mut s, Field::DnsTimeout, "86400");
        assert_eq!(s.dns_timeout, Duration::from_secs(86_400));
        ok(&mut s, Field::MaxTime, "none");
        assert_eq!(s.max_time, None);
        ok(&mut s, Field::BackoffMax, "3600");
        ok(&mut s, Field::BackoffFactor, "0");
        assert!(s.read_disabled, "not a retry counter yet");
        ok(&mut s, Field::Total, "+100");
        assert_eq!(s.total, Some(100));
        assert!(!s.read_disabled, "a retry counter mounts a Retry");
        ok(&mut s, Field::StatusRetries, "none");
        assert_eq!(s.status, None);
        ok(&mut s, Field::Forcelist, "none");
        assert!(s.status_forcelist.is_empty());
        ok(&mut s, Field::AllowedMethods, "any");
        assert!(s.allowed_methods.is_empty());
        ok(&mut s, Field::Method, "m-search");
        assert_eq!(s.method, "M-SEARCH");
        ok(&mut s, Field::RetryAfter, "off");
        assert!(!s.respect_retry_after);
        ok(&mut s, Field::Policy, "full-jitter");
        assert_eq!(s.policy, PolicyKind::FullJitter);
    }

    #[test]
    fn steps_stay_within_the_caps() {
        let mut s = ReplaySettings::urllib3_default();
        for field in Field::ALL {
            for _ in 0..100_000 {
                s.step_field(field, true);
            }
        }
        assert_eq!(s.total, Some(MAX_RETRIES));
        assert_eq!(s.backoff_max, MAX_SLEEP_S);
        assert_eq!(s.connect_timeout, Duration::from_secs(86_400));
        assert_eq!(s.validate(), Ok(()));
        for field in Field::ALL {
            for _ in 0..100_000 {
                s.step_field(field, false);
            }
        }
        assert_eq!(s.connect_timeout, Duration::from_millis(100), "never 0");
        // A count stops at 0: "none" (no limit) is typed, never stepped into.
        assert_eq!(
            (s.total, s.max_time, s.backoff_factor),
            (Some(0), None, 0.0)
        );
        assert_eq!((s.retry_after_max, s.connect), (0.0, Some(0)));
        assert_eq!(s.validate(), Ok(()));
        let mut up = ReplaySettings::urllib3_default();
        for _ in 0..100_000 {
            up.step_field(Field::RetryAfterMax, true);
        }
        assert_eq!(up.retry_after_max, MAX_TIMEOUT_S);
    }

    #[test]
    fn validate_refuses_what_typing_would() {
        let bad = |f: fn(&mut ReplaySettings)| {
            let mut s = ReplaySettings::urllib3_default();
            f(&mut s);
            s.validate().err()
        };
        assert_eq!(ReplaySettings::default().validate(), Ok(()));
        assert_eq!(ReplaySettings::urllib3_default().validate(), Ok(()));
        let error = |field, problem| Some(SettingError { field, problem });
        assert_eq!(
            bad(|s| s.read = Some(101)),
            error(Field::ReadRetries, Problem::TooLarge)
        );
        assert_eq!(
            bad(|s| s.connect_timeout = Duration::ZERO),
            error(Field::ConnectTimeout, Problem::TooSmall)
        );
        assert_eq!(
            bad(|s| s.max_time = Some(Duration::from_secs(86_401))),
            error(Field::MaxTime, Problem::TooLarge)
        );
        assert_eq!(
            bad(|s| s.backoff_jitter = f64::NAN),
            error(Field::BackoffJitter, Problem::Unreadable("NaN".into()))
        );
        assert_eq!(
            bad(|s| s.backoff_factor = -0.5),
            error(Field::BackoffFactor, Problem::TooSmall)
        );
        assert_eq!(
            bad(|s| s.status_forcelist = vec![503, 42]),
            error(Field::Forcelist, Problem::Unreadable("42".into()))
        );
        assert_eq!(
            bad(|s| s.allowed_methods = vec!["GET".into(), String::new()]),
            error(Field::AllowedMethods, Problem::Unreadable(String::new()))
        );
        assert_eq!(
            bad(|s| s.method = "G T".into()),
            error(Field::Method, Problem::Unreadable("G T".into()))
        );
    }
}
