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

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::engine::verdict::{Kind, Layer};

/// urllib3's `Retry.DEFAULT_ALLOWED_METHODS`.
pub const DEFAULT_ALLOWED_METHODS: [&str; 6] = ["HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE"];
/// urllib3's `Retry.RETRY_AFTER_STATUS_CODES`.
pub const RETRY_AFTER_STATUS_CODES: [u16; 3] = [413, 429, 503];
/// urllib3's `Retry.DEFAULT_BACKOFF_MAX`, seconds.
pub const DEFAULT_BACKOFF_MAX: f64 = 120.0;
/// urllib3's `Retry.DEFAULT_RETRY_AFTER_MAX`, seconds (6 hours).
pub const DEFAULT_RETRY_AFTER_MAX: f64 = 21600.0;
/// `Retry()` with no arguments allows 10 retries in total.
pub const URLLIB3_DEFAULT_TOTAL: u32 = 10;
/// HTTP statuses `curl --retry` treats as transient (curl's `retrycheck`).
pub const CURL_TRANSIENT_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];
/// curl's first retry sleep without `--retry-delay`, seconds (then doubled each retry).
pub const CURL_RETRY_SLEEP_DEFAULT: f64 = 1.0;
/// curl's longest retry sleep without `--retry-delay`, seconds (10 minutes).
pub const CURL_RETRY_SLEEP_MAX: f64 = 600.0;
/// Retries for the loop, curl, fixed and full-jitter policies when `total` is `None`.
pub const SIMPLE_DEFAULT_RETRIES: u32 = 3;

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

/// A connect error: urllib3's `_is_connection_error` (a `ConnectTimeoutError`, which
/// `NewConnectionError` and `NameResolutionError` subclass, possibly inside a `ProxyError`).
/// The server cannot have seen the request, so any method is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectFault {
    /// `NameResolutionError` (getaddrinfo failed). curl: exit 6, transient.
    NameResolution,
    /// `NewConnectionError` with ECONNREFUSED. curl: exit 7, transient with `--retry-connrefused`.
    Refused,
    /// `NewConnectionError` otherwise (unreachable, reset while connecting, SOCKS failures).
    NewConnection,
    /// `ConnectTimeoutError` (requests: `ConnectTimeout`). curl: exit 28, transient.
    Timeout,
    /// `ProxyError` wrapping the proxy's `NameResolutionError`. curl: exit 5, transient.
    ProxyNameResolution,
    /// `ProxyError` wrapping `NewConnectionError` (ECONNREFUSED) for the proxy.
    ProxyRefused,
    /// `ProxyError` wrapping another `NewConnectionError` for the proxy.
    ProxyNewConnection,
    /// `ProxyError` wrapping `ConnectTimeoutError` for the proxy. curl: exit 28.
    ProxyTimeout,
}

/// A read error: urllib3's `_is_read_error`. The request may have been sent, so only
/// `allowed_methods` are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadFault {
    /// `ReadTimeoutError`: no response head in time, a stalled TLS handshake, a proxy that does
    /// not answer CONNECT. curl: exit 28, transient.
    Timeout,
    /// `ProtocolError`: closed/reset before the response, garbage status line, RST during the
    /// TLS handshake, a proxy that closes or answers garbage to CONNECT.
    Protocol,
}

/// Any other error urllib3 hands to `increment` (the `other` counter; any method retried).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OtherFault {
    /// urllib3 `SSLError` (requests: `SSLError`).
    Ssl,
    /// `ProxyError` wrapping an `OSError` ("Tunnel connection failed: 407"), requests: `ProxyError`.
    Proxy,
}

/// Raised where urllib3's `Retry` never sees it: before `urlopen` (URL errors, in requests'
/// `prepare`), after it returned (the body is read later, `preload_content=False`), or in
/// requests' redirect loop. urllib3 retries none of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutsideFault {
    MissingSchema,
    InvalidSchema,
    InvalidUrl,
    /// urllib3's `LocationParseError` escapes requests unwrapped.
    LocationParse,
    /// The body stalled: requests raises `ConnectionError` (a `ReadTimeoutError` inside).
    BodyTimeout,
    /// The body was cut short or reset: `ChunkedEncodingError`.
    ChunkedEncoding,
    TooManyRedirects,
}

/// How one attempt ended, in urllib3's categories (the payload names the exception, which
/// decides what requests raises and what curl would retry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttemptError {
    /// A response arrived (any status; the status is in [`AttemptRecord::status`]).
    None,
    Connect(ConnectFault),
    Read(ReadFault),
    Other(OtherFault),
    /// Raised outside urllib3's retry loop: never retried by urllib3.
    Outside(OutsideFault),
}

/// Which of curl's retry classes an error falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CurlClass {
    /// Exit 28, 6 or 5: retried by plain `--retry`.
    Transient,
    /// Exit 7 with ECONNREFUSED: retried with `--retry-connrefused`.
    Refused,
    /// Anything else: retried only with `--retry-all-errors`.
    Other,
}

impl AttemptError {
    /// The urllib3 (or requests) exception class behind this error, fully qualified.
    pub fn urllib3_class(self) -> Option<&'static str> {
        use AttemptError as E;
        Some(match self {
            E::None => return None,
            E::Connect(ConnectFault::NameResolution) => "urllib3.exceptions.NameResolutionError",
            E::Connect(ConnectFault::Refused | ConnectFault::NewConnection) => {
                "urllib3.exceptions.NewConnectionError"
            }
            E::Connect(ConnectFault::Timeout) => "urllib3.exceptions.ConnectTimeoutError",
            E::Connect(_) | E::Other(OtherFault::Proxy) => "urllib3.exceptions.ProxyError",
            E::Read(ReadFault::Timeout) | E::Outside(OutsideFault::BodyTimeout) => {
                "urllib3.exceptions.ReadTimeoutError"
            }
            E::Read(ReadFault::Protocol) | E::Outside(OutsideFault::ChunkedEncoding) => {
                "urllib3.exceptions.ProtocolError"
            }
            E::Other(OtherFault::Ssl) => "urllib3.exceptions.SSLError",
            E::Outside(OutsideFault::LocationParse) => "urllib3.exceptions.LocationParseError",
            E::Outside(_) => return None,
        })
    }

    /// What requests raises when urllib3 gives up on this error with `MaxRetryError`
    /// (the `except MaxRetryError` branch of `HTTPAdapter.send`).
    fn requests_when_wrapped(self) -> &'static str {
        use AttemptError as E;
        match self {
            // ConnectTimeoutError but not NewConnectionError.
            E::Connect(ConnectFault::Timeout) => "requests.exceptions.ConnectTimeout",
            E::Connect(
                ConnectFault::ProxyNameResolution
                | ConnectFault::ProxyRefused
                | ConnectFault::ProxyNewConnection
                | ConnectFault::ProxyTimeout,
            )
            | E::Other(OtherFault::Proxy) => "requests.exceptions.ProxyError",
            E::Other(OtherFault::Ssl) => "requests.exceptions.SSLError",
            _ => "requests.exceptions.ConnectionError",
        }
    }

    /// What requests raises when the error escapes as it is (not wrapped).
    fn requests_when_bare(self) -> &'static str {
        use AttemptError as E;
        match self {
            E::Read(ReadFault::Timeout) => "requests.exceptions.ReadTimeout",
            E::Outside(OutsideFault::MissingSchema) => "requests.exceptions.MissingSchema",
            E::Outside(OutsideFault::InvalidSchema) => "requests.exceptions.InvalidSchema",
            E::Outside(OutsideFault::InvalidUrl) => "requests.exceptions.InvalidURL",
            E::Outside(OutsideFault::LocationParse) => "urllib3.exceptions.LocationParseError",
            E::Outside(OutsideFault::ChunkedEncoding) => "requests.exceptions.ChunkedEncodingError",
            E::Outside(OutsideFault::TooManyRedirects) => "requests.exceptions.TooManyRedirects",
            E::Other(OtherFault::Ssl) => "requests.exceptions.SSLError",
            E::Other(OtherFault::Proxy) => "requests.exceptions.ProxyError",
            _ => "requests.exceptions.ConnectionError",
        }
    }

    /// Is what a single requests call raises for this error a `ConnectionError` or `Timeout`
    /// (what the hand-written loop catches)?
    fn requests_connection_or_timeout(self) -> bool {
        match self {
            AttemptError::None => false,
            AttemptError::Connect(_) | AttemptError::Read(_) | AttemptError::Other(_) => true,
            AttemptError::Outside(f) => f == OutsideFault::BodyTimeout,
        }
    }

    fn curl_class(self) -> CurlClass {
        use AttemptError as E;
        match self {
            E::Connect(
                ConnectFault::NameResolution
                | ConnectFault::Timeout
                | ConnectFault::ProxyNameResolution
                | ConnectFault::ProxyTimeout,
            )
            | E::Read(ReadFault::Timeout)
            | E::Outside(OutsideFault::BodyTimeout) => CurlClass::Transient,
            E::Connect(ConnectFault::Refused | ConnectFault::ProxyRefused) => CurlClass::Refused,
            _ => CurlClass::Other,
        }
    }

    /// The Python repr shape used in "(Caused by …)"; the connection details are elided.
    fn caused_by(self) -> String {
        let class = self.urllib3_class().unwrap_or("Exception");
        let short = class.rsplit('.').next().unwrap_or(class);
        format!("{short}(…)")
    }
}

/// A `Retry-After` header value, parsed the way urllib3's `parse_retry_after` does.
#[derive(Clone, Debug, PartialEq)]
pub enum RetryAfter {
    /// Digits only (surrounding whitespace allowed): a number of seconds.
    Seconds(f64),
    /// An HTTP date (IMF-fixdate, RFC 850 or asctime; GMT/UT/UTC/Z or ±hhmm).
    Date(SystemTime),
    /// Neither: urllib3 raises `InvalidHeader` when it tries to sleep on it. An empty value is
    /// also kept here: it does not count as present for the 413/429/503 rule, but still raises.
    Invalid(String),
}

impl RetryAfter {
    pub fn parse(raw: &str) -> RetryAfter {
        let t = raw.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return RetryAfter::Seconds(t.parse::<f64>().unwrap_or(f64::MAX));
        }
        match parse_http_date(t) {
            Some(at) => RetryAfter::Date(at),
            None => RetryAfter::Invalid(raw.to_string()),
        }
    }

    /// `bool(response.headers.get("Retry-After"))`.
    fn present(&self) -> bool {
        !matches!(self, RetryAfter::Invalid(s) if s.is_empty())
    }

    /// Seconds to wait measured from `now`, negative dates clamped to 0; `None` when invalid.
    fn seconds_from(&self, now: SystemTime) -> Option<f64> {
        match self {
            RetryAfter::Seconds(s) => Some(s.max(0.0)),
            RetryAfter::Date(at) => Some(match at.duration_since(now) {
                Ok(d) => d.as_secs_f64(),
                Err(_) => 0.0,
            }),
            RetryAfter::Invalid(_) => None,
        }
    }
}

/// One finished attempt, as the replay runner saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord {
    pub error: AttemptError,
    pub method: String,
    /// The response status when a response arrived.
    pub status: Option<u16>,
    pub retry_after: Option<RetryAfter>,
    pub elapsed: Duration,
    /// Wall-clock time the attempt ended: the "now" an HTTP-date `Retry-After` is measured from
    /// (urllib3 subtracts `time.time()` right after the response), which keeps [`decide`] pure.
    pub ended_at: SystemTime,
}

impl AttemptRecord {
    /// An attempt that failed with `error` (elapsed 0, ended at the Unix epoch: set the fields
    /// when they matter).
    pub fn failed(error: AttemptError, method: &str) -> Self {
        AttemptRecord {
            error,
            method: method.to_string(),
            status: None,
            retry_after: None,
            elapsed: Duration::ZERO,
            ended_at: UNIX_EPOCH,
        }
    }

    /// An attempt that got a response with `status`.
    pub fn response(status: u16, method: &str) -> Self {
        AttemptRecord {
            status: Some(status),
            ..AttemptRecord::failed(AttemptError::None, method)
        }
    }

    /// The same record with a raw `Retry-After` header value.
    pub fn with_retry_after(mut self, raw: &str) -> Self {
        self.retry_after = Some(RetryAfter::parse(raw));
        self
    }
}

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

/// Map a netpeel verdict kind (its snake_case name, as in `--verdict-table` and the JSON
/// report) to how urllib3's `Retry.increment` would see the same failure. `kind: None` means
/// the probe got a response. `layer` only matters for `total_timeout`. An unknown kind is
/// treated as a `ProtocolError` (the request may have been sent; only idempotent methods are
/// retried), the cautious choice.
pub fn classify(kind: Option<&str>, layer: Option<&str>) -> AttemptError {
    let Some(name) = kind else {
        return AttemptError::None;
    };
    let layer = layer.and_then(|l| Layer::ALL.into_iter().find(|x| x.name() == l));
    match Kind::ALL.iter().find(|k| k.name() == name) {
        Some(k) => classify_kind(*k, layer),
        None => AttemptError::Read(ReadFault::Protocol),
    }
}

/// [`classify`] on the typed kind. A `match` over every kind, so a new kind does not compile
/// until it is mapped.
pub fn classify_kind(kind: Kind, layer: Option<Layer>) -> AttemptError {
    use AttemptError as E;
    use ConnectFault as C;
    use Kind::*;
    use OtherFault as O;
    use OutsideFault as X;
    use ReadFault as R;
    match kind {
        // requests' prepare() raises these before urllib3 is involved.
        MissingScheme => E::Outside(X::MissingSchema),
        UnsupportedScheme => E::Outside(X::InvalidSchema),
        MissingHost | InvalidPort | InvalidUrl => E::Outside(X::InvalidUrl),
        InvalidHostLabel => E::Outside(X::LocationParse),
        // A host no DNS name can have still goes to getaddrinfo: NameResolutionError.
        InvalidHost => E::Connect(C::NameResolution),
        Nxdomain | Nodata | Servfail | DnsRefused | DnsTimeout | NoNameserver | DnsOther => {
            E::Connect(C::NameResolution)
        }
        ConnectionRefused => E::Connect(C::Refused),
        ConnectTimeout => E::Connect(C::Timeout),
        HostUnreachable | NetworkUnreachable | AddressNotAvailable | ConnectReset | TcpOther => {
            E::Connect(C::NewConnection)
        }
        // ssl.SSLError / CertificateError become urllib3 SSLError: neither connect nor read.
        CertExpired | CertNotYetValid | CertNameMismatch | CertSelfSigned | CertUnknownIssuer
        | CertCaAsEndEntity | CertInvalid | NotTls | TlsClosed | TlsAlert | TlsOther => {
            E::Other(O::Ssl)
        }
        // _validate_conn: socket timeout in the handshake -> ReadTimeoutError.
        TlsHandshakeTimeout => E::Read(R::Timeout),
        // ConnectionResetError (an OSError) -> ProtocolError("Connection aborted.").
        TlsReset => E::Read(R::Protocol),
        ReadTimeout => E::Read(R::Timeout),
        RemoteDisconnected | ConnectionReset | NotHttp | BadResponseHead | HttpOther => {
            E::Read(R::Protocol)
        }
        // The body is read after urlopen returned (preload_content=False).
        IncompleteBody | BodyReset => E::Outside(X::ChunkedEncoding),
        BodyReadTimeout => E::Outside(X::BodyTimeout),
        HttpClientError | HttpServerError => E::None,
        TooManyRedirects => E::Outside(X::TooManyRedirects),
        // requests speaks HTTP/1.1 only; the nearest is the connection dropping before the
        // answer, a ProtocolError.
        H2GoAway | H2StreamReset => E::Read(R::Protocol),
        ProxyDnsFailure => E::Connect(C::ProxyNameResolution),
        ProxyConnectionRefused => E::Connect(C::ProxyRefused),
        ProxyConnectTimeout => E::Connect(C::ProxyTimeout),
        ProxyUnreachable => E::Connect(C::ProxyNewConnection),
        // _tunnel() closes the connection before raising OSError("Tunnel connection failed"),
        // so has_connected_to_proxy is False again and urllib3 wraps it in ProxyError.
        ProxyAuthRequired | ProxyDenied => E::Other(O::Proxy),
        // No answer to CONNECT: the socket timeout surfaces as ReadTimeoutError.
        ProxyTimeout => E::Read(R::Timeout),
        // Observed with urllib3 2.7: the proxy connection is marked connected before CONNECT is
        // sent and nothing closes it, so RemoteDisconnected / BadStatusLine are not wrapped in
        // ProxyError but in ProtocolError (requests: ConnectionError, not ProxyError).
        ProxyClosed | ProxyNotHttp => E::Read(R::Protocol),
        // FIN inside the tunnel during the handshake: SSLEOFError -> urllib3 SSLError.
        ProxyTunnelClosed => E::Other(O::Ssl),
        // urllib3.contrib.socks raises NewConnectionError / ConnectTimeoutError itself.
        SocksUnreachable | SocksAuthFailed | SocksReplyError | SocksLocalDns | SocksOther => {
            E::Connect(C::NewConnection)
        }
        SocksTimeout => E::Connect(C::Timeout),
        // requests has no overall deadline: treat it as the running stage's own timeout firing.
        // Without a layer, assume the request may have been sent.
        TotalTimeout => match layer {
            Some(Layer::Dns) => E::Connect(C::NameResolution),
            Some(Layer::Tcp) => E::Connect(C::Timeout),
            Some(Layer::Proxy) => E::Connect(C::ProxyTimeout),
            Some(Layer::Url | Layer::Tls | Layer::Http) | None => E::Read(R::Timeout),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP dates (the subset of email.utils.parsedate_tz that HTTP servers send)

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month(s: &str) -> Option<u32> {
    let l = s.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| l.starts_with(m))
        .map(|i| i as u32 + 1)
}

fn hms(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.split(':');
    let h = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let sec = it.next().map_or(Some(0), |x| x.parse().ok())?;
    if it.next().is_some() || h > 23 || m > 59 || sec > 61 {
        return None;
    }
    Some((h, m, sec))
}

/// Offset east of UTC in seconds; unknown zone names are rejected.
fn zone(s: Option<&str>) -> Option<i64> {
    let Some(z) = s else { return Some(0) };
    match z.to_ascii_uppercase().as_str() {
        "GMT" | "UT" | "UTC" | "Z" => Some(0),
        _ => {
            let (sign, digits) = match z.as_bytes().first()? {
                b'+' => (1, &z[1..]),
                b'-' => (-1, &z[1..]),
                _ => return None,
            };
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let v: i64 = digits.parse().ok()?;
            Some(sign * ((v / 100) * 3600 + (v % 100) * 60))
        }
    }
}

fn year(y: &str) -> Option<i64> {
    let v: i64 = y.parse().ok()?;
    // email.utils: two-digit years > 68 are 19xx, else 20xx.
    Some(match (y.len(), v) {
        (1 | 2, v) if v > 68 => 1900 + v,
        (1 | 2, v) => 2000 + v,
        (_, v) => v,
    })
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, weekday optional), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    // Drop a leading weekday ("Sun," / "Sunday,").
    let rest = match s.split_once(',') {
        Some((wd, rest)) if wd.chars().all(|c| c.is_ascii_alphabetic()) => rest,
        _ => s,
    };
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let (y, mo, d, (h, mi, se), off) = match parts.as_slice() {
        // 06 Nov 1994 08:49:37 [GMT]
        [d, m, y, t, z @ ..] if d.bytes().all(|b| b.is_ascii_digit()) && z.len() <= 1 => (
            year(y)?,
            month(m)?,
            d.parse().ok()?,
            hms(t)?,
            zone(z.first().copied())?,
        ),
        // 06-Nov-94 08:49:37 GMT
        [dmy, t, z @ ..] if dmy.contains('-') && z.len() <= 1 => {
            let mut it = dmy.split('-');
            let d = it.next()?.parse().ok()?;
            let m = month(it.next()?)?;
            let y = year(it.next()?)?;
            (y, m, d, hms(t)?, zone(z.first().copied())?)
        }
        // Sun Nov  6 08:49:37 1994
        [wd, m, d, t, y] if wd.chars().all(|c| c.is_ascii_alphabetic()) => {
            (year(y)?, month(m)?, d.parse().ok()?, hms(t)?, 0)
        }
        _ => return None,
    };
    if !(1..=31).contains(&d) {
        return None;
    }
    let unix = days_from_civil(y, mo, d) * 86400
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(se)
        - off;
    let unix = u64::try_from(unix).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(unix))
}

#[cfg(test)]
mod tests {
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
    fn retry_after_parsing() {
        let t = |s: &str| match RetryAfter::parse(s) {
            RetryAfter::Date(d) => d.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(RetryAfter::parse(" 120 "), RetryAfter::Seconds(120.0));
        assert!(matches!(RetryAfter::parse("2.5"), RetryAfter::Invalid(_)));
        assert!(matches!(RetryAfter::parse("-1"), RetryAfter::Invalid(_)));
        assert_eq!(t("Wed, 21 Oct 2015 07:28:00 GMT"), 1445412480);
        assert_eq!(t("Wednesday, 21-Oct-15 07:28:00 GMT"), 1445412480);
        assert_eq!(t("Wed Oct 21 07:28:00 2015"), 1445412480);
        assert_eq!(t("21 Oct 2015 07:28:00 GMT"), 1445412480);
        assert_eq!(t("Wed, 21 Oct 2015 07:28:00 +0200"), 1445405280);
        assert!(matches!(
            RetryAfter::parse("Wed, 32 Oct 2015 07:28:00 GMT"),
            RetryAfter::Invalid(_)
        ));
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

    #[test]
    fn classify_every_kind_deliberately() {
        use AttemptError as E;
        // The single-call outcome must agree with the verdict table's requests column, except
        // where the table has no requests equivalent or where urllib3 2.7 was observed to differ.
        let known_differences: [&str; 0] = [];
        for kind in Kind::ALL {
            let info = kind.info();
            let e = classify(Some(kind.name()), info.layer.map(Layer::name));
            assert_eq!(e, classify_kind(*kind, info.layer), "{}", kind.name());
            let rec = AttemptRecord {
                status: (e == E::None).then_some(500),
                ..AttemptRecord::failed(e, "GET")
            };
            let got = requests_default_outcome(&rec);
            match (info.requests_exception, got.exception()) {
                (_, _) if known_differences.contains(&kind.name()) => {
                    assert_eq!(got.exception(), Some("requests.exceptions.ConnectionError"));
                }
                (Some("requests.exceptions.HTTPError"), None) => {}
                (Some(want), Some(have)) => assert_eq!(want, have, "{}", kind.name()),
                (None, _) => assert!(
                    matches!(
                        kind.name(),
                        "h2_goaway" | "h2_stream_reset" | "total_timeout"
                    ),
                    "{}",
                    kind.name()
                ),
                (want, have) => panic!("{}: table {want:?}, replay {have:?}", kind.name()),
            }
            // The urllib3 cause, where the table names one, is the class behind the category.
            if let (Some(want), Some(have)) = (info.urllib3_cause, e.urllib3_class())
                && !known_differences.contains(&kind.name())
                && !want.ends_with("LocationParseError")
            {
                assert_eq!(want, have, "{}", kind.name());
            }
        }
        assert_eq!(classify(None, None), E::None);
        assert_eq!(
            classify(Some("no_such_kind"), None),
            E::Read(ReadFault::Protocol)
        );
        assert_eq!(
            classify(Some("total_timeout"), Some("tcp")),
            E::Connect(ConnectFault::Timeout)
        );
        assert_eq!(
            classify(Some("total_timeout"), Some("dns")),
            E::Connect(ConnectFault::NameResolution)
        );
        assert_eq!(
            classify(Some("total_timeout"), None),
            E::Read(ReadFault::Timeout)
        );
        // spot checks of the subtle ones
        assert_eq!(
            classify(Some("tls_handshake_timeout"), Some("tls")),
            E::Read(ReadFault::Timeout)
        );
        assert_eq!(
            classify(Some("tls_reset"), Some("tls")),
            E::Read(ReadFault::Protocol)
        );
        assert_eq!(
            classify(Some("cert_expired"), Some("tls")),
            E::Other(OtherFault::Ssl)
        );
        assert_eq!(
            classify(Some("nxdomain"), Some("dns")),
            E::Connect(ConnectFault::NameResolution)
        );
        assert_eq!(
            classify(Some("proxy_auth_required"), Some("proxy")),
            E::Other(OtherFault::Proxy)
        );
        assert_eq!(classify(Some("http_server_error"), Some("http")), E::None);
    }

    #[test]
    fn policy_names_and_formulas() {
        for p in PolicyKind::ALL {
            assert_eq!(PolicyKind::from_name(p.name()), Some(p));
            assert!(p.formula().starts_with("sleep = "), "{}", p.name());
        }
    }
}
