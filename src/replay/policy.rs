//! Retry policies as pure functions: given the settings and what happened so far, what happens
//! next — sleep and try again, or stop, and then what Python `requests` would hand back or raise.
//!
//! The urllib3 policy follows urllib3 2.x `Retry` line by line (read from its source and checked
//! by `tests/suite/retry_policy.rs` against the real library, no network):
//!
//! - `urlopen` passes every exception it catches to `Retry.increment(error=…)`:
//!   `_is_connection_error` is `isinstance(err, ConnectTimeoutError)` after unwrapping a
//!   `ProxyError` to its `original_error`. `NewConnectionError` (refused, unreachable, SOCKS) and
//!   `NameResolutionError` (DNS) subclass `ConnectTimeoutError`, so they all count as **connect**.
//!   `_is_read_error` is `ReadTimeoutError` or `ProtocolError` (**read**): that includes a stalled
//!   TLS handshake (`_validate_conn` turns the socket timeout into `ReadTimeoutError`) and an RST
//!   during the handshake or after the request (an `OSError` that `urlopen` wraps in
//!   `ProtocolError("Connection aborted.")`). Everything else — urllib3's `SSLError` (certificate
//!   errors, handshake failures, EOF in the handshake) and a `ProxyError` that does not wrap a
//!   connect error (a 407/403 to CONNECT) — counts as **other**.
//! - A read error is raised as it is (no `MaxRetryError`) when `read=False` or the method is not
//!   in `allowed_methods`; `total` is not even decremented then.
//! - Every retry decrements `total` (unless it is `None`) and the counter of its category; the
//!   retry is refused (`MaxRetryError`) as soon as any counter is below zero.
//! - A response is retried only if the method is allowed and the status is in
//!   `status_forcelist`, or — only while `total` is truthy (not `None`, not 0) — the response
//!   carries a non-empty `Retry-After`, `respect_retry_after_header` is on and the status is 413,
//!   429 or 503. Out of status retries: `MaxRetryError(ResponseError("too many 503 error
//!   responses"))`, which requests raises as `RetryError`, or the response itself when
//!   `raise_on_status=False`.
//! - The sleep after an error is `get_backoff_time()`: with n = the number of retries so far
//!   (requests never lets urllib3 follow redirects, so the whole history counts), 0 when n ≤ 1,
//!   else `backoff_factor × 2^(n−1)`, plus `random() × backoff_jitter` (only when the jitter is
//!   not 0), **then** capped at `backoff_max` — the cap bounds the jitter too.
//! - The sleep after a retried response is the `Retry-After` value when respected and it parses
//!   to more than 0 s (digits only, or an HTTP date measured from now; past dates give 0), capped
//!   at `retry_after_max`; a value of 0 falls back to the backoff. Any retried status honours it,
//!   not only 413/429/503. A value that does not parse raises `InvalidHeader` (requests:
//!   `requests.exceptions.InvalidHeader`) — even an empty one, which did not count as "present"
//!   for the 413/429/503 rule.
//! - requests' own default adapter is `Retry(0, read=False)`: connect and other errors are
//!   wrapped in `MaxRetryError` ("Max retries exceeded" after zero retries), read errors are not.
//!
//! The settings these functions read are in [`super::settings`], the attempt records they read
//! in [`super::attempt`].

use std::time::Duration;

use super::attempt::CurlClass;

// Re-exported: these lived here before the settings, the attempt records, the verdict mapping
// and the date parser got files of their own, and `replay::policy::…` paths still name them.
pub use super::attempt::{
    AttemptError, AttemptRecord, ConnectFault, OtherFault, OutsideFault, ReadFault, RetryAfter,
};
pub use super::classify::{classify, classify_kind};
pub use super::http_date::parse_http_date;
pub use super::settings::{
    DEFAULT_ALLOWED_METHODS, DEFAULT_BACKOFF_MAX, DEFAULT_RETRY_AFTER_MAX, PolicyKind,
    ReplaySettings, SIMPLE_DEFAULT_RETRIES, URLLIB3_DEFAULT_TOTAL,
};

/// urllib3's `Retry.RETRY_AFTER_STATUS_CODES`.
pub const RETRY_AFTER_STATUS_CODES: [u16; 3] = [413, 429, 503];
/// HTTP statuses `curl --retry` treats as transient (curl's `retrycheck`).
pub const CURL_TRANSIENT_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];
/// curl's first retry sleep without `--retry-delay`, seconds (then doubled each retry).
pub const CURL_RETRY_SLEEP_DEFAULT: f64 = 1.0;
/// curl's longest retry sleep without `--retry-delay`, seconds (10 minutes).
pub const CURL_RETRY_SLEEP_MAX: f64 = 600.0;

/// Why the next attempt waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SleepReason {
    /// The policy's backoff for retry number n (1 for the first retry; n = 0 before the first
    /// attempt).
    Backoff(u32),
    /// The server's `Retry-After`.
    RetryAfter,
}

/// What the run ends with.
#[derive(Clone, Debug, PartialEq)]
pub enum StopOutcome {
    /// The last response is handed back: requests returns it (`raise_for_status()` then raises
    /// `requests.exceptions.HTTPError` for 4xx/5xx; `curl --fail` exits 22 for ≥ 400).
    Response { status: Option<u16> },
    /// The last error is raised as it is, not wrapped in `MaxRetryError`.
    Raise {
        exception: &'static str,
        cause: Option<&'static str>,
    },
    /// urllib3 gave up with `MaxRetryError(reason)`, which requests raises as `exception`.
    MaxRetries {
        exception: &'static str,
        /// The urllib3 class of the reason (`urllib3.exceptions.ResponseError` for statuses).
        reason: &'static str,
        /// The reason as it appears in "(Caused by …)".
        caused_by: String,
    },
    /// curl stops retrying and exits with the last attempt's own exit code.
    LastError,
    /// The user stopped the replay (Ctrl-C, SIGTERM, or cancel in the dashboard).
    Interrupted { after: usize },
}

impl StopOutcome {
    /// The exception requests raises, if any.
    pub fn exception(&self) -> Option<&'static str> {
        match self {
            StopOutcome::Raise { exception, .. } | StopOutcome::MaxRetries { exception, .. } => {
                Some(exception)
            }
            _ => None,
        }
    }

    /// One line for the screen. For `MaxRetries` this is requests' wording:
    /// `HTTPSConnectionPool(host='h', port=443): Max retries exceeded with url: /p (Caused by …)`
    /// (without a proxy; the connection details inside the cause are elided).
    pub fn message(&self, url: &str) -> String {
        match self {
            StopOutcome::Response { status: Some(s) } if *s >= 400 => format!(
                "returns the {s} response (raise_for_status() raises requests.exceptions.HTTPError)"
            ),
            StopOutcome::Response { status: Some(s) } => format!("returns the {s} response"),
            StopOutcome::Response { status: None } => "returns the response".into(),
            StopOutcome::Raise {
                exception,
                cause: Some(c),
            } if c != exception => format!("raises {exception} (caused by {c}, not retried)"),
            StopOutcome::Raise { exception, .. } => format!("raises {exception}"),
            StopOutcome::MaxRetries {
                exception,
                caused_by,
                ..
            } => {
                let (pool, path) = pool_and_path(url);
                format!(
                    "raises {exception}: {pool}: Max retries exceeded with url: {path} (Caused by {caused_by})"
                )
            }
            StopOutcome::LastError => "gives up: curl exits with the last attempt's code".into(),
            StopOutcome::Interrupted { after } => format!(
                "would have gone on: the replay was interrupted after {after} attempt{}",
                if *after == 1 { "" } else { "s" }
            ),
        }
    }
}

fn pool_and_path(raw: &str) -> (String, String) {
    match url::Url::parse(raw) {
        Ok(u) => {
            let class = if u.scheme() == "https" {
                "HTTPSConnectionPool"
            } else {
                "HTTPConnectionPool"
            };
            let host = u.host_str().unwrap_or("").trim_matches(['[', ']']);
            let port = u.port_or_known_default().unwrap_or(0);
            let mut path = u.path().to_string();
            if let Some(q) = u.query() {
                path.push('?');
                path.push_str(q);
            }
            (format!("{class}(host='{host}', port={port})"), path)
        }
        Err(_) => ("HTTPConnectionPool(…)".into(), raw.to_string()),
    }
}

/// The next step.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    Retry {
        sleep: Duration,
        reason: SleepReason,
    },
    Stop {
        outcome: StopOutcome,
    },
}

fn secs(s: f64) -> Duration {
    if s.is_nan() || s <= 0.0 {
        Duration::ZERO
    } else {
        Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX)
    }
}

fn pow2(n: u32) -> f64 {
    2f64.powi(n.min(2000) as i32)
}

fn retry(sleep: f64, reason: SleepReason) -> Decision {
    Decision::Retry {
        sleep: secs(sleep),
        reason,
    }
}

fn stop(outcome: StopOutcome) -> Decision {
    Decision::Stop { outcome }
}

/// The policy's next step after `history` (oldest first). Pure: `rng` must return values in
/// [0, 1) and is called only when the policy draws a random number (urllib3: only when the
/// jitter is not 0 and it is not the first retry, as `random.random()` is).
///
/// An empty history means "make the first attempt": `Retry { sleep: 0, reason: Backoff(0) }`.
/// If an earlier record already ends the run under this policy, that stop is returned.
pub fn decide(
    settings: &ReplaySettings,
    history: &[AttemptRecord],
    rng: &mut dyn FnMut() -> f64,
) -> Decision {
    if history.is_empty() {
        return retry(0.0, SleepReason::Backoff(0));
    }
    match settings.policy {
        PolicyKind::Urllib3 => decide_urllib3(settings, history, rng),
        PolicyKind::Loop => decide_simple(settings, history, rng, loop_step),
        PolicyKind::Curl => decide_simple(settings, history, rng, curl_step),
        PolicyKind::Fixed => decide_simple(settings, history, rng, fixed_step),
        PolicyKind::FullJitter => decide_simple(settings, history, rng, full_jitter_step),
    }
}

/// urllib3's counters; `None` is "no limit".
struct Counters {
    total: Option<i64>,
    connect: Option<i64>,
    read: Option<i64>,
    status: Option<i64>,
    other: Option<i64>,
}

impl Counters {
    fn new(s: &ReplaySettings) -> Self {
        let c = |v: Option<u32>| v.map(i64::from);
        Counters {
            total: c(s.total),
            connect: c(s.connect),
            read: c(s.read),
            status: c(s.status),
            other: c(s.other),
        }
    }

    /// `is_exhausted`: the smallest truthy counter is below zero.
    fn exhausted(&self) -> bool {
        [self.total, self.connect, self.read, self.status, self.other]
            .iter()
            .any(|c| matches!(c, Some(v) if *v < 0))
    }
}

fn dec(c: &mut Option<i64>) {
    if let Some(v) = c {
        *v -= 1;
    }
}

/// `Retry.get_backoff_time()` after `n` retries.
pub(crate) fn urllib3_backoff(s: &ReplaySettings, n: u32, rng: &mut dyn FnMut() -> f64) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let mut v = s.backoff_factor * pow2(n - 1);
    if s.backoff_jitter != 0.0 {
        v += rng() * s.backoff_jitter;
    }
    v.min(s.backoff_max).max(0.0)
}

/// What a single requests call with the default adapter (`Retry(0, read=False)`) ends with.
pub fn requests_default_outcome(rec: &AttemptRecord) -> StopOutcome {
    match rec.error {
        AttemptError::None => StopOutcome::Response { status: rec.status },
        e @ (AttemptError::Connect(_) | AttemptError::Other(_)) => max_retries(e),
        e @ (AttemptError::Read(_) | AttemptError::Outside(_)) => bare(e),
    }
}

fn max_retries(e: AttemptError) -> StopOutcome {
    StopOutcome::MaxRetries {
        exception: e.requests_when_wrapped(),
        reason: e.urllib3_class().unwrap_or("Exception"),
        caused_by: e.caused_by(),
    }
}

fn bare(e: AttemptError) -> StopOutcome {
    StopOutcome::Raise {
        exception: e.requests_when_bare(),
        cause: e.urllib3_class(),
    }
}

fn decide_urllib3(
    s: &ReplaySettings,
    history: &[AttemptRecord],
    rng: &mut dyn FnMut() -> f64,
) -> Decision {
    let mut c = Counters::new(s);
    for (i, rec) in history.iter().enumerate() {
        let last = i + 1 == history.len();
        // Retries so far once this one is counted: every earlier record was retried.
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match rec.error {
            AttemptError::None => {
                let Some(status) = rec.status else {
                    return stop(StopOutcome::Response { status: None });
                };
                let has_retry_after = rec.retry_after.as_ref().is_some_and(RetryAfter::present);
                let total_truthy = matches!(c.total, Some(v) if v != 0);
                let is_retry = s.method_retryable(&rec.method)
                    && (s.status_forcelist.contains(&status)
                        || (total_truthy
                            && s.respect_retry_after
                            && has_retry_after
                            && RETRY_AFTER_STATUS_CODES.contains(&status)));
                if !is_retry {
                    return stop(StopOutcome::Response {
                        status: Some(status),
                    });
                }
                dec(&mut c.total);
                dec(&mut c.status);
                if c.exhausted() {
                    return stop(if s.raise_on_status {
                        StopOutcome::MaxRetries {
                            exception: "requests.exceptions.RetryError",
                            reason: "urllib3.exceptions.ResponseError",
                            caused_by: format!(
                                "ResponseError('too many {status} error responses')"
                            ),
                        }
                    } else {
                        StopOutcome::Response {
                            status: Some(status),
                        }
                    });
                }
                if !last {
                    continue;
                }
                // Retry.sleep(response): Retry-After first, when respected and truthy.
                if s.respect_retry_after
                    && let Some(ra) = &rec.retry_after
                {
                    match ra.seconds_from(rec.ended_at) {
                        None => {
                            return stop(StopOutcome::Raise {
                                exception: "requests.exceptions.InvalidHeader",
                                cause: Some("urllib3.exceptions.InvalidHeader"),
                            });
                        }
                        Some(secs) => {
                            let secs = secs.min(s.retry_after_max);
                            if secs > 0.0 {
                                return retry(secs, SleepReason::RetryAfter);
                            }
                        }
                    }
                }
                return retry(urllib3_backoff(s, n, rng), SleepReason::Backoff(n));
            }
            e @ AttemptError::Connect(_) => {
                dec(&mut c.total);
                dec(&mut c.connect);
                if c.exhausted() {
                    return stop(max_retries(e));
                }
            }
            e @ AttemptError::Read(_) => {
                if s.read_disabled || !s.method_retryable(&rec.method) {
                    return stop(bare(e));
                }
                dec(&mut c.total);
                dec(&mut c.read);
                if c.exhausted() {
                    return stop(max_retries(e));
                }
            }
            e @ AttemptError::Other(_) => {
                dec(&mut c.total);
                dec(&mut c.other);
                if c.exhausted() {
                    return stop(max_retries(e));
                }
            }
            e @ AttemptError::Outside(_) => return stop(bare(e)),
        }
        if last {
            return retry(urllib3_backoff(s, n, rng), SleepReason::Backoff(n));
        }
    }
    unreachable!("history is not empty and the last record always decides")
}

/// One step of a policy with a single retry count: `None` = do not retry this record, else
/// the sleep before retry number `n` and its reason.
type SimpleStep =
    fn(&ReplaySettings, &AttemptRecord, u32, &mut dyn FnMut() -> f64) -> Option<(f64, SleepReason)>;

fn decide_simple(
    s: &ReplaySettings,
    history: &[AttemptRecord],
    rng: &mut dyn FnMut() -> f64,
    step: SimpleStep,
) -> Decision {
    let allowed = s.simple_retries();
    for (i, rec) in history.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let last = i + 1 == history.len();
        let wanted = n <= allowed && retryable_simple(s, rec);
        if !wanted {
            return stop(
                if s.policy == PolicyKind::Curl && rec.error != AttemptError::None {
                    StopOutcome::LastError
                } else {
                    requests_default_outcome(rec)
                },
            );
        }
        if last {
            let (sleep, reason) = step(s, rec, n, rng).unwrap_or((0.0, SleepReason::Backoff(n)));
            return retry(sleep, reason);
        }
    }
    unreachable!("history is not empty and the last record always decides")
}

fn retryable_simple(s: &ReplaySettings, rec: &AttemptRecord) -> bool {
    match s.policy {
        PolicyKind::Urllib3 => false,
        PolicyKind::Loop => rec.error.requests_connection_or_timeout(),
        PolicyKind::Curl => match rec.error {
            AttemptError::None => rec.status.is_some_and(|st| {
                CURL_TRANSIENT_STATUSES.contains(&st) || (s.curl_retry_all_errors && st >= 400)
            }),
            e => match e.curl_class() {
                CurlClass::Transient => true,
                CurlClass::Refused => s.curl_retry_connrefused || s.curl_retry_all_errors,
                CurlClass::Other => s.curl_retry_all_errors,
            },
        },
        PolicyKind::Fixed | PolicyKind::FullJitter => match rec.error {
            AttemptError::None => rec
                .status
                .is_some_and(|st| s.status_forcelist.contains(&st)),
            _ => true,
        },
    }
}

fn loop_step(
    s: &ReplaySettings,
    _rec: &AttemptRecord,
    n: u32,
    _rng: &mut dyn FnMut() -> f64,
) -> Option<(f64, SleepReason)> {
    Some((s.backoff_factor * pow2(n - 1), SleepReason::Backoff(n)))
}

fn fixed_step(
    s: &ReplaySettings,
    _rec: &AttemptRecord,
    n: u32,
    _rng: &mut dyn FnMut() -> f64,
) -> Option<(f64, SleepReason)> {
    Some((s.backoff_factor, SleepReason::Backoff(n)))
}

fn full_jitter_step(
    s: &ReplaySettings,
    _rec: &AttemptRecord,
    n: u32,
    rng: &mut dyn FnMut() -> f64,
) -> Option<(f64, SleepReason)> {
    let ceiling = s.backoff_max.min(s.backoff_factor * pow2(n - 1));
    Some((rng() * ceiling, SleepReason::Backoff(n)))
}

/// curl's base sleep before retry `n`: `--retry-delay` when set, else 1 s doubling to 600 s.
pub(crate) fn curl_base_sleep(s: &ReplaySettings, n: u32) -> f64 {
    if s.backoff_factor > 0.0 {
        s.backoff_factor
    } else {
        (CURL_RETRY_SLEEP_DEFAULT * pow2(n - 1)).min(CURL_RETRY_SLEEP_MAX)
    }
}

fn curl_step(
    s: &ReplaySettings,
    rec: &AttemptRecord,
    n: u32,
    _rng: &mut dyn FnMut() -> f64,
) -> Option<(f64, SleepReason)> {
    let base = curl_base_sleep(s, n);
    // Retry-After counts only for RETRY_HTTP (a transient status), and only when longer.
    let transient_status = rec.error == AttemptError::None
        && rec
            .status
            .is_some_and(|st| CURL_TRANSIENT_STATUSES.contains(&st));
    if transient_status
        && let Some(ra) = rec
            .retry_after
            .as_ref()
            .and_then(|r| r.seconds_from(rec.ended_at))
        && ra > base
    {
        return Some((ra, SleepReason::RetryAfter));
    }
    Some((base, SleepReason::Backoff(n)))
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn constant(v: f64) -> impl FnMut() -> f64 {
        move || v
    }

    fn run(s: &ReplaySettings, history: &[AttemptRecord], r: f64) -> Decision {
        decide(s, history, &mut constant(r))
    }

    /// Decisions after each prefix of `steps`, until the first stop.
    fn schedule(s: &ReplaySettings, steps: &[AttemptRecord], r: f64) -> Vec<Decision> {
        let mut out = Vec::new();
        for i in 1..=steps.len() {
            let d = run(s, &steps[..i], r);
            let done = matches!(d, Decision::Stop { .. });
            out.push(d);
            if done {
                break;
            }
        }
        out
    }

    fn sleeps(ds: &[Decision]) -> Vec<f64> {
        ds.iter()
            .filter_map(|d| match d {
                Decision::Retry { sleep, .. } => Some((sleep.as_secs_f64() * 1e6).round() / 1e6),
                _ => None,
            })
            .collect()
    }

    fn last_outcome(ds: &[Decision]) -> StopOutcome {
        match ds.last() {
            Some(Decision::Stop { outcome }) => outcome.clone(),
            other => panic!("no stop: {other:?}"),
        }
    }

    const CONNECT: AttemptError = AttemptError::Connect(ConnectFault::Refused);
    const READ: AttemptError = AttemptError::Read(ReadFault::Timeout);
    const SSL: AttemptError = AttemptError::Other(OtherFault::Ssl);

    fn fails(e: AttemptError, n: usize, method: &str) -> Vec<AttemptRecord> {
        vec![AttemptRecord::failed(e, method); n]
    }

    fn u3(f: impl FnOnce(&mut ReplaySettings)) -> ReplaySettings {
        let mut s = ReplaySettings::urllib3_default();
        f(&mut s);
        s
    }

    #[test]
    fn requests_default_retries_nothing() {
        let s = ReplaySettings::default();
        // connect: total 0 -> -1, MaxRetryError after zero retries.
        let d = run(&s, &fails(CONNECT, 1, "GET"), 0.0);
        assert_eq!(
            d,
            stop(StopOutcome::MaxRetries {
                exception: "requests.exceptions.ConnectionError",
                reason: "urllib3.exceptions.NewConnectionError",
                caused_by: "NewConnectionError(…)".into(),
            })
        );
        // read=False: re-raised bare.
        let d = run(&s, &fails(READ, 1, "GET"), 0.0);
        assert_eq!(
            d,
            stop(StopOutcome::Raise {
                exception: "requests.exceptions.ReadTimeout",
                cause: Some("urllib3.exceptions.ReadTimeoutError"),
            })
        );
        let d = run(&s, &[AttemptRecord::response(503, "GET")], 0.0);
        assert_eq!(d, stop(StopOutcome::Response { status: Some(503) }));
        // Retry-After on a 503 with total=0: total is falsy, so no retry.
        let d = run(
            &s,
            &[AttemptRecord::response(503, "GET").with_retry_after("1")],
            0.0,
        );
        assert_eq!(d, stop(StopOutcome::Response { status: Some(503) }));
    }

    #[test]
    fn urllib3_backoff_schedule() {
        // (factor, max, jitter, rng, expected sleeps for 6 retries)
        let table: &[(f64, f64, f64, f64, [f64; 6])] = &[
            (0.0, 120.0, 0.0, 0.5, [0.0; 6]),
            (0.5, 120.0, 0.0, 0.5, [0.0, 1.0, 2.0, 4.0, 8.0, 16.0]),
            (1.0, 120.0, 0.0, 0.5, [0.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
            (1.0, 5.0, 0.0, 0.5, [0.0, 2.0, 4.0, 5.0, 5.0, 5.0]),
            // jitter only from the second retry, added before the cap
            (1.0, 120.0, 2.0, 0.25, [0.0, 2.5, 4.5, 8.5, 16.5, 32.5]),
            (1.0, 4.0, 2.0, 0.75, [0.0, 3.5, 4.0, 4.0, 4.0, 4.0]),
            // jitter alone, factor 0
            (0.0, 120.0, 3.0, 0.5, [0.0, 1.5, 1.5, 1.5, 1.5, 1.5]),
        ];
        for (factor, max, jitter, r, want) in table {
            let s = u3(|s| {
                s.backoff_factor = *factor;
                s.backoff_max = *max;
                s.backoff_jitter = *jitter;
            });
            let ds = schedule(&s, &fails(CONNECT, 6, "GET"), *r);
            assert_eq!(
                sleeps(&ds),
                want.to_vec(),
                "factor {factor} max {max} jitter {jitter}"
            );
            let reasons: Vec<_> = ds
                .iter()
                .map(|d| match d {
                    Decision::Retry { reason, .. } => *reason,
                    _ => panic!(),
                })
                .collect();
            assert_eq!(
                reasons,
                (1..=6).map(SleepReason::Backoff).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn urllib3_rng_only_drawn_when_jitter_applies() {
        let s = u3(|s| s.backoff_factor = 1.0);
        let mut calls = 0;
        let mut rng = || {
            calls += 1;
            0.5
        };
        decide(&s, &fails(CONNECT, 3, "GET"), &mut rng);
        assert_eq!(calls, 0);
        let s = u3(|s| s.backoff_jitter = 1.0);
        let mut calls = 0;
        let mut rng = || {
            calls += 1;
            0.5
        };
        decide(&s, &fails(CONNECT, 1, "GET"), &mut rng);
        decide(&s, &fails(CONNECT, 2, "GET"), &mut rng);
        assert_eq!(calls, 1, "no jitter on the first retry");
    }

    #[test]
    fn urllib3_counters() {
        // connect=2: third connect error exhausts even with total 10.
        let s = u3(|s| s.connect = Some(2));
        let ds = schedule(&s, &fails(CONNECT, 5, "GET"), 0.0);
        assert_eq!(ds.len(), 3);
        assert_eq!(
            last_outcome(&ds).exception(),
            Some("requests.exceptions.ConnectionError")
        );
        // connect=0 with total None: the first connect error is final.
        let s = u3(|s| {
            s.total = None;
            s.connect = Some(0);
        });
        assert_eq!(schedule(&s, &fails(CONNECT, 3, "GET"), 0.0).len(), 1);
        // read counter separate from connect
        let s = u3(|s| {
            s.connect = Some(1);
            s.read = Some(1);
        });
        let h = vec![
            AttemptRecord::failed(CONNECT, "GET"),
            AttemptRecord::failed(READ, "GET"),
            AttemptRecord::failed(READ, "GET"),
        ];
        let ds = schedule(&s, &h, 0.0);
        assert_eq!(ds.len(), 3);
        // exhausted read retries: wrapped, and requests says ConnectionError, not ReadTimeout.
        assert_eq!(
            last_outcome(&ds),
            StopOutcome::MaxRetries {
                exception: "requests.exceptions.ConnectionError",
                reason: "urllib3.exceptions.ReadTimeoutError",
                caused_by: "ReadTimeoutError(…)".into(),
            }
        );
        // total bounds everything
        let s = u3(|s| s.total = Some(2));
        let h = vec![
            AttemptRecord::failed(CONNECT, "GET"),
            AttemptRecord::failed(SSL, "GET"),
            AttemptRecord::failed(READ, "GET"),
        ];
        let ds = schedule(&s, &h, 0.0);
        assert_eq!(ds.len(), 3);
        assert_eq!(
            last_outcome(&ds).exception(),
            Some("requests.exceptions.ConnectionError")
        );
        // other counter for SSL errors
        let s = u3(|s| s.other = Some(1));
        let ds = schedule(&s, &fails(SSL, 3, "GET"), 0.0);
        assert_eq!(ds.len(), 2);
        assert_eq!(
            last_outcome(&ds).exception(),
            Some("requests.exceptions.SSLError")
        );
        // connect timeout: ConnectTimeout; proxied: ProxyError
        let s = u3(|s| s.total = Some(0));
        let d = run(
            &s,
            &fails(AttemptError::Connect(ConnectFault::Timeout), 1, "GET"),
            0.0,
        );
        assert!(
            matches!(d, Decision::Stop { outcome } if outcome.exception() == Some("requests.exceptions.ConnectTimeout"))
        );
        let d = run(
            &s,
            &fails(AttemptError::Connect(ConnectFault::ProxyTimeout), 1, "GET"),
            0.0,
        );
        assert!(
            matches!(d, Decision::Stop { outcome } if outcome.exception() == Some("requests.exceptions.ProxyError"))
        );
    }

    #[test]
    fn non_idempotent_read_is_not_retried_but_connect_is() {
        let s = ReplaySettings::urllib3_default();
        let d = run(&s, &fails(READ, 1, "POST"), 0.0);
        assert_eq!(
            d,
            stop(StopOutcome::Raise {
                exception: "requests.exceptions.ReadTimeout",
                cause: Some("urllib3.exceptions.ReadTimeoutError"),
            })
        );
        let d = run(
            &s,
            &fails(AttemptError::Read(ReadFault::Protocol), 1, "post"),
            0.0,
        );
        assert!(
            matches!(d, Decision::Stop { outcome } if outcome.exception() == Some("requests.exceptions.ConnectionError"))
        );
        assert!(matches!(
            run(&s, &fails(CONNECT, 1, "POST"), 0.0),
            Decision::Retry { .. }
        ));
        assert!(matches!(
            run(&s, &fails(SSL, 1, "POST"), 0.0),
            Decision::Retry { .. }
        ));
        // allowed_methods empty = every method; lowercase entries never match.
        let s = u3(|s| s.allowed_methods.clear());
        assert!(matches!(
            run(&s, &fails(READ, 1, "POST"), 0.0),
            Decision::Retry { .. }
        ));
        let s = u3(|s| s.allowed_methods = vec!["get".into()]);
        assert!(matches!(
            run(&s, &fails(READ, 1, "GET"), 0.0),
            Decision::Stop { .. }
        ));
    }

    #[test]
    fn status_retries() {
        let s = u3(|s| {
            s.status_forcelist = vec![500, 503];
            s.status = Some(2);
            s.backoff_factor = 1.0;
        });
        let h = fails(AttemptError::None, 0, "GET")
            .into_iter()
            .chain((0..4).map(|_| AttemptRecord::response(503, "GET")))
            .collect::<Vec<_>>();
        let ds = schedule(&s, &h, 0.0);
        assert_eq!(sleeps(&ds), vec![0.0, 2.0]);
        assert_eq!(
            last_outcome(&ds),
            StopOutcome::MaxRetries {
                exception: "requests.exceptions.RetryError",
                reason: "urllib3.exceptions.ResponseError",
                caused_by: "ResponseError('too many 503 error responses')".into(),
            }
        );
        assert!(last_outcome(&ds)
            .message("https://api.test/v1?x=1")
            .ends_with("HTTPSConnectionPool(host='api.test', port=443): Max retries exceeded with url: /v1?x=1 (Caused by ResponseError('too many 503 error responses'))"));
        // raise_on_status=False: the last response comes back.
        let s2 = ReplaySettings {
            raise_on_status: false,
            ..s.clone()
        };
        assert_eq!(
            last_outcome(&schedule(&s2, &h, 0.0)),
            StopOutcome::Response { status: Some(503) }
        );
        // a status outside the forcelist is success at once; POST is never status-retried.
        assert_eq!(
            run(&s, &[AttemptRecord::response(502, "GET")], 0.0),
            stop(StopOutcome::Response { status: Some(502) })
        );
        assert_eq!(
            run(&s, &[AttemptRecord::response(503, "POST")], 0.0),
            stop(StopOutcome::Response { status: Some(503) })
        );
    }

    #[test]
    fn retry_after_rules() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let at = |r: AttemptRecord| AttemptRecord { ended_at: now, ..r };
        let s = u3(|s| s.backoff_factor = 10.0);
        // 429 with Retry-After and no forcelist: retried via RETRY_AFTER_STATUS_CODES.
        let h = [at(AttemptRecord::response(429, "GET").with_retry_after("7"))];
        assert_eq!(run(&s, &h, 0.0), retry(7.0, SleepReason::RetryAfter));
        // 500 with Retry-After but not in forcelist: not retried.
        let h = [at(AttemptRecord::response(500, "GET").with_retry_after("7"))];
        assert!(matches!(run(&s, &h, 0.0), Decision::Stop { .. }));
        // 500 in forcelist: Retry-After honoured for any retried status.
        let s5 = u3(|s| s.status_forcelist = vec![500]);
        assert_eq!(run(&s5, &h, 0.0), retry(7.0, SleepReason::RetryAfter));
        // not respected: 429 not retried without forcelist; with forcelist, backoff is used.
        let sn = u3(|s| {
            s.respect_retry_after = false;
            s.status_forcelist = vec![500];
        });
        assert_eq!(run(&sn, &h, 0.0), retry(0.0, SleepReason::Backoff(1)));
        // HTTP date, 90 s ahead of the moment the response ended.
        let date = "Tue, 14 Nov 2023 22:14:50 GMT"; // 1_700_000_090
        let h = [at(
            AttemptRecord::response(503, "GET").with_retry_after(date)
        )];
        assert_eq!(run(&s, &h, 0.0), retry(90.0, SleepReason::RetryAfter));
        // capped at retry_after_max
        let sc = u3(|s| s.retry_after_max = 30.0);
        assert_eq!(run(&sc, &h, 0.0), retry(30.0, SleepReason::RetryAfter));
        // a past date and "0" are 0 s: fall back to the backoff (0 for the first retry).
        let past =
            [at(AttemptRecord::response(503, "GET")
                .with_retry_after("Tue, 14 Nov 2023 22:00:00 GMT"))];
        assert_eq!(run(&s, &past, 0.0), retry(0.0, SleepReason::Backoff(1)));
        // invalid value: InvalidHeader, even an empty one with a forcelist.
        let bad = [at(
            AttemptRecord::response(503, "GET").with_retry_after("soon")
        )];
        assert_eq!(
            run(&s, &bad, 0.0),
            stop(StopOutcome::Raise {
                exception: "requests.exceptions.InvalidHeader",
                cause: Some("urllib3.exceptions.InvalidHeader"),
            })
        );
        let empty = [at(AttemptRecord::response(503, "GET").with_retry_after(""))];
        assert_eq!(
            run(&s, &empty, 0.0),
            stop(StopOutcome::Response { status: Some(503) }),
            "empty Retry-After is not present for the 413/429/503 rule"
        );
        let sf = u3(|s| s.status_forcelist = vec![503]);
        assert!(matches!(
            run(&sf, &empty, 0.0),
            Decision::Stop {
                outcome: StopOutcome::Raise {
                    exception: "requests.exceptions.InvalidHeader",
                    ..
                }
            }
        ));
        // total=None: the Retry-After rule needs a truthy total.
        let st = u3(|s| {
            s.total = None;
            s.status = Some(3);
        });
        let h = [at(AttemptRecord::response(503, "GET").with_retry_after("1"))];
        assert!(matches!(run(&st, &h, 0.0), Decision::Stop { .. }));
    }

    #[test]
    fn loop_policy() {
        let s = ReplaySettings {
            policy: PolicyKind::Loop,
            total: Some(3),
            backoff_factor: 1.0,
            backoff_jitter: 5.0, // ignored
            ..ReplaySettings::default()
        };
        let ds = schedule(&s, &fails(CONNECT, 5, "POST"), 0.9);
        assert_eq!(sleeps(&ds), vec![1.0, 2.0, 4.0]);
        assert_eq!(
            last_outcome(&ds).exception(),
            Some("requests.exceptions.ConnectionError")
        );
        // reads are retried too, on any method; ReadTimeout escapes bare at the end.
        let ds = schedule(&s, &fails(READ, 5, "POST"), 0.0);
        assert_eq!(sleeps(&ds), vec![1.0, 2.0, 4.0]);
        assert_eq!(
            last_outcome(&ds).exception(),
            Some("requests.exceptions.ReadTimeout")
        );
        // a status is never retried, nor a ChunkedEncodingError; a body timeout is.
        assert_eq!(
            run(&s, &[AttemptRecord::response(503, "GET")], 0.0),
            stop(StopOutcome::Response { status: Some(503) })
        );
        let chunk = AttemptError::Outside(OutsideFault::ChunkedEncoding);
        assert!(matches!(
            run(&s, &fails(chunk, 1, "GET"), 0.0),
            Decision::Stop { .. }
        ));
        let body = AttemptError::Outside(OutsideFault::BodyTimeout);
        assert!(matches!(
            run(&s, &fails(body, 1, "GET"), 0.0),
            Decision::Retry { .. }
        ));
        // total None: 3 retries
        let s = ReplaySettings { total: None, ..s };
        assert_eq!(schedule(&s, &fails(SSL, 9, "GET"), 0.0).len(), 4);
    }

    #[test]
    fn fixed_and_full_jitter_policies() {
        let s = ReplaySettings {
            policy: PolicyKind::Fixed,
            total: Some(4),
            backoff_factor: 2.5,
            status_forcelist: vec![503],
            ..ReplaySettings::default()
        };
        let mut h = fails(READ, 2, "POST");
        h.extend((0..4).map(|_| AttemptRecord::response(503, "POST")));
        let ds = schedule(&s, &h, 0.3);
        assert_eq!(sleeps(&ds), vec![2.5; 4]);
        assert_eq!(
            last_outcome(&ds),
            StopOutcome::Response { status: Some(503) }
        );
        let s = ReplaySettings {
            policy: PolicyKind::FullJitter,
            total: Some(6),
            backoff_factor: 1.0,
            backoff_max: 10.0,
            ..s
        };
        for r in [0.0, 0.5, 0.999] {
            let ds = schedule(&s, &fails(CONNECT, 8, "GET"), r);
            let want: Vec<f64> = [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
                .iter()
                .map(|c| ((r * c) * 1e6f64).round() / 1e6)
                .collect();
            assert_eq!(sleeps(&ds), want, "r = {r}");
        }
        // a status not in the forcelist ends the run
        assert_eq!(
            run(&s, &[AttemptRecord::response(404, "GET")], 0.5),
            stop(StopOutcome::Response { status: Some(404) })
        );
    }

    #[test]
    fn curl_policy() {
        let s = ReplaySettings {
            policy: PolicyKind::Curl,
            total: Some(12),
            ..ReplaySettings::default()
        };
        let timeout = AttemptError::Connect(ConnectFault::Timeout);
        let ds = schedule(&s, &fails(timeout, 13, "GET"), 0.0);
        assert_eq!(
            sleeps(&ds),
            vec![
                1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 600.0, 600.0
            ]
        );
        assert_eq!(last_outcome(&ds), StopOutcome::LastError);
        // DNS is transient for curl; refused only with --retry-connrefused; TLS only with all-errors.
        let dns = AttemptError::Connect(ConnectFault::NameResolution);
        assert!(matches!(
            run(&s, &fails(dns, 1, "GET"), 0.0),
            Decision::Retry { .. }
        ));
        assert_eq!(
            run(&s, &fails(CONNECT, 1, "GET"), 0.0),
            stop(StopOutcome::LastError)
        );
        let sr = ReplaySettings {
            curl_retry_connrefused: true,
            ..s.clone()
        };
        assert!(matches!(
            run(&sr, &fails(CONNECT, 1, "GET"), 0.0),
            Decision::Retry { .. }
        ));
        assert!(matches!(
            run(&sr, &fails(SSL, 1, "GET"), 0.0),
            Decision::Stop { .. }
        ));
        let sa = ReplaySettings {
            curl_retry_all_errors: true,
            ..s.clone()
        };
        assert!(matches!(
            run(&sa, &fails(SSL, 1, "GET"), 0.0),
            Decision::Retry { .. }
        ));
        assert!(matches!(
            run(&sa, &[AttemptRecord::response(404, "GET")], 0.0),
            Decision::Retry { .. }
        ));
        // transient statuses, any method; Retry-After only when longer than curl's own sleep.
        assert!(matches!(
            run(&s, &[AttemptRecord::response(503, "POST")], 0.0),
            Decision::Retry { .. }
        ));
        assert_eq!(
            run(&s, &[AttemptRecord::response(404, "GET")], 0.0),
            stop(StopOutcome::Response { status: Some(404) })
        );
        let h = [AttemptRecord::response(429, "GET").with_retry_after("30")];
        assert_eq!(run(&s, &h, 0.0), retry(30.0, SleepReason::RetryAfter));
        let mut h = fails(timeout, 5, "GET");
        h.push(AttemptRecord::response(429, "GET").with_retry_after("3"));
        assert_eq!(run(&s, &h, 0.0), retry(32.0, SleepReason::Backoff(6)));
        // --retry-delay
        let sd = ReplaySettings {
            backoff_factor: 5.0,
            ..s
        };
        assert_eq!(
            sleeps(&schedule(&sd, &fails(timeout, 4, "GET"), 0.0)),
            vec![5.0; 4]
        );
    }

    #[test]
    fn empty_history_and_inconsistent_history() {
        let s = ReplaySettings::urllib3_default();
        assert_eq!(run(&s, &[], 0.0), retry(0.0, SleepReason::Backoff(0)));
        // an Outside error in the middle already ended the run
        let h = vec![
            AttemptRecord::failed(AttemptError::Outside(OutsideFault::InvalidUrl), "GET"),
            AttemptRecord::failed(CONNECT, "GET"),
        ];
        assert_eq!(
            run(&s, &h, 0.0),
            stop(StopOutcome::Raise {
                exception: "requests.exceptions.InvalidURL",
                cause: None,
            })
        );
    }
}
