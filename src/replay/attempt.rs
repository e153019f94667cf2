//! How one attempt ended, in urllib3's categories: the error (connect, read, other, or raised
//! outside urllib3's retry loop), the response status and its `Retry-After`. The categories
//! decide what a policy retries and what requests raises; see [`super::policy`] for the rules.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::http_date::parse_http_date;

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
    /// A line break in a header value: requests raises `InvalidHeader` before connecting.
    InvalidHeader,
    /// A header value past Latin-1: Python's `UnicodeEncodeError`, unwrapped.
    NotLatin1,
    /// REQUESTS_CA_BUNDLE names a missing file: the adapter's `OSError`, before urllib3.
    CaBundleMissing,
    /// Content-Length values that disagree: urllib3's `InvalidHeader`, raised by requests as
    /// its own `InvalidHeader`.
    ConflictingLength,
    /// The body does not decode: `ContentDecodingError`.
    ContentDecoding,
    /// A request netpeel cannot complete although requests would (a control character in a
    /// header value, a path past 64 KiB, a certificate chain past 64 KiB): what requests raises
    /// depends on the server, unknown here.
    NotSent,
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
pub(super) enum CurlClass {
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
            E::Outside(OutsideFault::ConflictingLength) => "urllib3.exceptions.InvalidHeader",
            E::Outside(OutsideFault::ContentDecoding) => "urllib3.exceptions.DecodeError",
            E::Outside(_) => return None,
        })
    }

    /// What requests raises when urllib3 gives up on this error with `MaxRetryError`
    /// (the `except MaxRetryError` branch of `HTTPAdapter.send`).
    pub(super) fn requests_when_wrapped(self) -> &'static str {
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
    pub(super) fn requests_when_bare(self) -> &'static str {
        use AttemptError as E;
        match self {
            E::Read(ReadFault::Timeout) => "requests.exceptions.ReadTimeout",
            E::Outside(OutsideFault::MissingSchema) => "requests.exceptions.MissingSchema",
            E::Outside(OutsideFault::InvalidSchema) => "requests.exceptions.InvalidSchema",
            E::Outside(OutsideFault::InvalidUrl) => "requests.exceptions.InvalidURL",
            E::Outside(OutsideFault::LocationParse) => "urllib3.exceptions.LocationParseError",
            E::Outside(OutsideFault::ChunkedEncoding) => "requests.exceptions.ChunkedEncodingError",
            E::Outside(OutsideFault::TooManyRedirects) => "requests.exceptions.TooManyRedirects",
            E::Outside(OutsideFault::InvalidHeader | OutsideFault::ConflictingLength) => {
                "requests.exceptions.InvalidHeader"
            }
            E::Outside(OutsideFault::ContentDecoding) => "requests.exceptions.ContentDecodingError",
            E::Outside(OutsideFault::NotLatin1) => "UnicodeEncodeError",
            E::Outside(OutsideFault::CaBundleMissing) => "OSError",
            E::Outside(OutsideFault::NotSent) => {
                "(not tested: netpeel cannot complete this request)"
            }
            E::Other(OtherFault::Ssl) => "requests.exceptions.SSLError",
            E::Other(OtherFault::Proxy) => "requests.exceptions.ProxyError",
            _ => "requests.exceptions.ConnectionError",
        }
    }

    /// Is what a single requests call raises for this error a `ConnectionError` or `Timeout`
    /// (what the hand-written loop catches)?
    pub(super) fn requests_connection_or_timeout(self) -> bool {
        match self {
            AttemptError::None => false,
            AttemptError::Connect(_) | AttemptError::Read(_) | AttemptError::Other(_) => true,
            AttemptError::Outside(f) => f == OutsideFault::BodyTimeout,
        }
    }

    pub(super) fn curl_class(self) -> CurlClass {
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
    pub(super) fn caused_by(self) -> String {
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
    pub(super) fn present(&self) -> bool {
        !matches!(self, RetryAfter::Invalid(s) if s.is_empty())
    }

    /// Seconds to wait measured from `now`, negative dates clamped to 0; `None` when invalid.
    pub(super) fn seconds_from(&self, now: SystemTime) -> Option<f64> {
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
    /// (urllib3 subtracts `time.time()` right after the response), which keeps
    /// [`super::policy::decide`] pure.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
