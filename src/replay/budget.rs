//! The worst case of a replay: how many attempts at most, and the longest the whole run can take.
//!
//! Assumptions (also spelled out in [`Budget::breakdown`]):
//! - One attempt at worst runs every stage to its timeout: DNS (`dns_timeout`), TCP connect
//!   (`connect_timeout`, which applies **per address** — urllib3 tries every address getaddrinfo
//!   returns, each with the full connect timeout; one address is assumed here), the TLS
//!   handshake (https is assumed; urllib3 bounds it with the connect timeout too), and one read
//!   gap (`read_timeout` bounds the gap between two reads, not the body; one gap is assumed,
//!   a body trickling in can take longer). `max_time`, when set, bounds the whole attempt.
//! - Sleeps are taken at their largest: jitter at its maximum, full jitter at its ceiling, and
//!   when `Retry-After` is respected, `retry_after_max` on every retry that can be a status
//!   retry (the earliest ones, where the backoff is smallest).
//! - urllib3: a retry needs the method in `allowed_methods` for read errors (and none with
//!   `read=False`) and for statuses (which need a forcelist, or a truthy `total` for the
//!   Retry-After rule). With `total=None` a category without its own limit makes the run
//!   unbounded (`other=None` alone is enough: TLS errors are retried forever).
//! - curl honours any `Retry-After` on a transient status without a cap (there is no
//!   `--retry-max-time` in the settings): that is not included.

use std::fmt::Write as _;
use std::time::Duration;

use super::policy::curl_base_sleep;
use super::settings::{PolicyKind, ReplaySettings};
use crate::engine::ProbeSettings;
use crate::engine::proxy_select::ProxyScheme;

/// The worst case of one settings set.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    /// Attempts including the first; `u32::MAX` when unbounded.
    pub max_attempts: u32,
    /// `Duration::MAX` when unbounded.
    pub worst_total: Duration,
    /// How the numbers were reached, one line per part, with the assumptions.
    pub breakdown: String,
    /// The policy can retry forever (urllib3 with `total=None` and an unlimited category).
    pub unbounded: bool,
    /// The longest one attempt can take, counting only the stages the URL has.
    pub per_attempt: Duration,
    /// The policy's sleeps at their largest, before retry 1, 2, …: the first few, for words.
    pub sleeps_s: Vec<f64>,
    /// How many sleeps a server's `Retry-After` can stretch to `retry_after_max` (urllib3 with
    /// Retry-After respected; 0 otherwise). `worst_total` includes the stretch.
    pub retry_after_sleeps: u64,
    pub retry_after_max_s: f64,
    /// The worst total when no server sends `Retry-After`.
    pub without_retry_after: Duration,
}

/// The stages an attempt at a URL goes through, of those a timeout bounds: an IP literal needs
/// no DNS, an `http://` URL no TLS handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UrlStages {
    pub dns: bool,
    pub tls: bool,
}

impl UrlStages {
    /// Every stage: what is assumed when the URL is not known.
    pub const ALL: UrlStages = UrlStages {
        dns: true,
        tls: true,
    };

    /// The stages of a probe with these settings. Through a proxy, DNS looks up the proxy's
    /// name (and the target's too with socks5, which resolves it locally), and a TLS handshake
    /// is made when the target or the proxy is https.
    pub fn of_probe(s: &ProbeSettings) -> UrlStages {
        let target = UrlStages::of(&s.url);
        let Some(p) = s.proxy.proxy.as_ref() else {
            return target;
        };
        let proxy_is_address = p.host.parse::<std::net::IpAddr>().is_ok();
        UrlStages {
            dns: !proxy_is_address || (p.scheme == ProxyScheme::Socks5 && target.dns),
            tls: target.tls || p.scheme == ProxyScheme::Https,
        }
    }

    /// The stages of `url`; every stage when it does not parse (the probe then says why).
    pub fn of(url: &str) -> UrlStages {
        let Ok(u) = url::Url::parse(url) else {
            return UrlStages::ALL;
        };
        let literal = matches!(u.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)));
        UrlStages {
            dns: !literal,
            tls: u.scheme() != "http",
        }
    }
}

impl Budget {
    /// The budget in one line, the words the editor, the report and the command line share:
    /// "4 × 2.5 s attempts + sleeps 0 + 0.2 + 0.4 s = 10.6 s; a server's Retry-After can
    /// stretch each of the 3 sleeps to 6 h".
    pub fn summary(&self) -> String {
        if self.unbounded {
            return format!(
                "unbounded: this policy can retry forever ({} per attempt)",
                fmt_d(self.per_attempt)
            );
        }
        let attempts = self.max_attempts;
        let mut out = format!(
            "{attempts} × {} attempt{}",
            fmt_d(self.per_attempt),
            if attempts == 1 { "" } else { "s" }
        );
        let retries = u64::from(attempts.saturating_sub(1));
        if retries > 0 {
            let shown: Vec<String> = self.sleeps_s.iter().map(|v| trim_secs(*v)).collect();
            let more = if retries > self.sleeps_s.len() as u64 {
                " + …"
            } else {
                ""
            };
            let _ = write!(out, " + sleeps {}{more} s", shown.join(" + "));
        }
        let _ = write!(
            out,
            " = {}",
            long_secs(self.without_retry_after.as_secs_f64())
        );
        if self.retry_after_sleeps > 0 {
            let n = self.retry_after_sleeps;
            let _ = write!(
                out,
                "; a server's Retry-After can stretch {} to {}",
                if n == 1 {
                    "the sleep".to_string()
                } else {
                    format!("each of {n} sleeps")
                },
                long_secs(self.retry_after_max_s)
            );
        }
        out
    }
}

/// A number of seconds without its unit: "0.25", "2".
fn trim_secs(s: f64) -> String {
    let t = fmt_secs(s);
    t.trim_end_matches(" s").to_string()
}

/// Seconds, or minutes and hours once they read better so.
fn long_secs(s: f64) -> String {
    if s >= 3600.0 {
        format!("{} h", trim_secs((s / 360.0).round() / 10.0))
    } else if s >= 120.0 {
        format!("{} min", trim_secs((s / 6.0).round() / 10.0))
    } else {
        fmt_secs(s)
    }
}

/// Beyond this many retries every sleep is at its cap; the rest is counted in bulk.
const ITERATE: u64 = 64;

fn fmt_secs(s: f64) -> String {
    if s.is_infinite() {
        return "∞".into();
    }
    if (s - s.round()).abs() < 1e-9 {
        format!("{} s", s.round() as u64)
    } else {
        let t = format!("{s:.3}");
        format!("{} s", t.trim_end_matches('0').trim_end_matches('.'))
    }
}

fn fmt_d(d: Duration) -> String {
    fmt_secs(d.as_secs_f64())
}

/// Worst time of one attempt, and its explanation: only the stages `stages` has.
fn per_attempt(s: &ReplaySettings, stages: UrlStages) -> (Duration, String) {
    let mut raw = s.connect_timeout + s.read_timeout;
    let mut parts = Vec::new();
    if stages.dns {
        raw += s.dns_timeout;
        parts.push(format!("DNS {}", fmt_d(s.dns_timeout)));
    }
    parts.push(format!(
        "TCP connect {} per address (1 address assumed)",
        fmt_d(s.connect_timeout)
    ));
    if stages.tls {
        raw += s.connect_timeout;
        parts.push(format!(
            "TLS handshake {} (bounded by the connect timeout)",
            fmt_d(s.connect_timeout)
        ));
    }
    parts.push(format!(
        "read {} per read gap (one gap assumed)",
        fmt_d(s.read_timeout)
    ));
    let mut text = parts.join(" + ");
    if !stages.dns {
        text.push_str("; no DNS (an IP address)");
    }
    if !stages.tls {
        text.push_str("; no TLS (http://)");
    }
    let per = match s.max_time {
        Some(m) if m < raw => {
            let _ = write!(text, " = {}, cut to max_time {}", fmt_d(raw), fmt_d(m));
            m
        }
        Some(m) => {
            let _ = write!(text, " (max_time {} does not bind)", fmt_d(m));
            raw
        }
        None => raw,
    };
    (per, text)
}

/// Retries urllib3 can make at most (`None` = unbounded) and how many of them can be status
/// retries (`None` = all).
fn urllib3_retries(s: &ReplaySettings) -> (Option<u64>, Option<u64>, String) {
    let method_ok = s.method_retryable(&s.method);
    let read = if s.read_disabled || !method_ok {
        Some(0)
    } else {
        s.read.map(u64::from)
    };
    let status_possible = method_ok
        && (!s.status_forcelist.is_empty() || (s.respect_retry_after && s.total.unwrap_or(0) > 0));
    let status = if status_possible {
        s.status.map(u64::from)
    } else {
        Some(0)
    };
    let parts = [
        ("connect", s.connect.map(u64::from)),
        ("read", read),
        ("status", status),
        ("other", s.other.map(u64::from)),
    ];
    let sum = parts
        .iter()
        .try_fold(0u64, |acc, (_, v)| v.map(|v| acc.saturating_add(v)));
    let retries = match (s.total, sum) {
        (Some(t), Some(sum)) => Some(u64::from(t).min(sum)),
        (Some(t), None) => Some(u64::from(t)),
        (None, sum) => sum,
    };
    let lim = |v: Option<u64>| v.map_or("no limit".to_string(), |v| v.to_string());
    let mut why = format!(
        "total {}, connect {}, read {}{}, status {}{}, other {}",
        s.total.map_or("None".to_string(), |t| t.to_string()),
        lim(parts[0].1),
        lim(read),
        if s.read_disabled {
            " (read=False)"
        } else if !method_ok {
            " (method not in allowed_methods)"
        } else {
            ""
        },
        lim(status),
        if status_possible {
            ""
        } else {
            " (no forcelist / method not allowed)"
        },
        lim(parts[3].1),
    );
    if retries.is_none() {
        why.push_str("; total=None and a category without a limit: urllib3 retries forever");
    }
    let status_cap = status.map(|st| retries.map_or(st, |r| st.min(r)));
    (
        retries,
        if status_possible { status_cap } else { Some(0) },
        why,
    )
}

/// The sleep before retry `k` (1-based) at its largest, without Retry-After.
fn max_sleep(s: &ReplaySettings, k: u64) -> f64 {
    let n = u32::try_from(k).unwrap_or(u32::MAX);
    let exp = 2f64.powi(n.saturating_sub(1).min(2000) as i32);
    match s.policy {
        PolicyKind::Urllib3 => {
            if k <= 1 {
                0.0
            } else {
                let mut v = s.backoff_factor * exp;
                if s.backoff_jitter != 0.0 {
                    v += s.backoff_jitter;
                }
                v.min(s.backoff_max).max(0.0)
            }
        }
        PolicyKind::Loop => (s.backoff_factor * exp).max(0.0),
        PolicyKind::Fixed => s.backoff_factor.max(0.0),
        PolicyKind::FullJitter => s.backoff_max.min(s.backoff_factor * exp).max(0.0),
        PolicyKind::Curl => curl_base_sleep(s, n),
    }
}

/// Sum of the sleeps before retries 1..=retries, and the first few of them.
fn sleeps(s: &ReplaySettings, retries: u64) -> (f64, Vec<f64>) {
    let mut total = 0.0;
    let mut shown = Vec::new();
    for k in 1..=retries.min(ITERATE) {
        let v = max_sleep(s, k);
        total += v;
        if k <= 8 {
            shown.push(v);
        }
    }
    if retries > ITERATE {
        total += (retries - ITERATE) as f64 * max_sleep(s, ITERATE + 1);
    }
    (total, shown)
}

fn duration(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::MAX)
}

/// The retries a policy can make at most (`None`: unbounded), how many of them can be status
/// retries (`None`: all), and why.
fn retries(s: &ReplaySettings) -> (Option<u64>, Option<u64>, String) {
    match s.policy {
        PolicyKind::Urllib3 => urllib3_retries(s),
        _ => {
            let n = u64::from(s.simple_retries());
            (
                Some(n),
                Some(0),
                format!(
                    "{} retr{} ({})",
                    n,
                    if n == 1 { "y" } else { "ies" },
                    if s.total.is_some() {
                        "total"
                    } else {
                        "total=None: the default 3"
                    }
                ),
            )
        }
    }
}

/// How much longer `n` status retries can sleep when each honours a `Retry-After` up to the cap.
fn retry_after_extra(s: &ReplaySettings, n: u64) -> f64 {
    let mut extra = 0.0;
    for k in 1..=n.min(ITERATE) {
        extra += (s.retry_after_max - max_sleep(s, k)).max(0.0);
    }
    if n > ITERATE {
        extra += (n - ITERATE) as f64 * (s.retry_after_max - max_sleep(s, ITERATE + 1)).max(0.0);
    }
    extra
}

/// [`worst_case_for`] a URL of unknown shape: every stage counted.
pub fn worst_case(s: &ReplaySettings) -> Budget {
    worst_case_for(s, UrlStages::ALL)
}

/// Maximum attempts and the longest the whole replay can take at a URL with `stages` (see the
/// module docs for the assumptions).
pub fn worst_case_for(s: &ReplaySettings, stages: UrlStages) -> Budget {
    let (per, per_text) = per_attempt(s, stages);
    let (retries, status_retries, why) = retries(s);
    let mut b = String::new();
    let _ = writeln!(b, "policy {}: {}", s.policy.name(), s.policy.formula());
    let Some(retries) = retries else {
        let _ = writeln!(b, "attempts: unbounded ({why})");
        let _ = writeln!(b, "per attempt ≤ {}: {per_text}", fmt_d(per));
        let _ = write!(b, "worst total: unbounded");
        return Budget {
            max_attempts: u32::MAX,
            worst_total: Duration::MAX,
            breakdown: b,
            unbounded: true,
            per_attempt: per,
            sleeps_s: Vec::new(),
            retry_after_sleeps: 0,
            retry_after_max_s: s.retry_after_max,
            without_retry_after: Duration::MAX,
        };
    };
    let attempts = retries.saturating_add(1);
    let max_attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    let (sleep_total, sleeps_s) = sleeps(s, retries);
    let _ = writeln!(b, "attempts ≤ {attempts}: 1 + {why}");
    let _ = writeln!(b, "per attempt ≤ {}: {per_text}", fmt_d(per));
    if retries == 0 {
        let _ = writeln!(b, "sleeps: none");
    } else {
        let jitter = match s.policy {
            PolicyKind::Urllib3 if s.backoff_jitter != 0.0 => ", jitter at its maximum",
            PolicyKind::FullJitter => ", each at its ceiling",
            _ => "",
        };
        let list: Vec<String> = sleeps_s.iter().map(|v| fmt_secs(*v)).collect();
        let more = if retries > 8 { " + …" } else { "" };
        let _ = writeln!(
            b,
            "sleeps ≤ {}: {}{more}{jitter}",
            fmt_secs(sleep_total),
            list.join(" + ")
        );
    }
    let mut retry_after_sleeps = 0;
    let mut extra = 0.0;
    if s.policy == PolicyKind::Urllib3 && s.respect_retry_after {
        let n = status_retries.map_or(retries, |st| st.min(retries));
        if n > 0 {
            extra = retry_after_extra(s, n);
            retry_after_sleeps = n;
            let _ = writeln!(
                b,
                "Retry-After: up to retry_after_max {} instead of the backoff on up to {n} status \
                 retr{} (+{})",
                fmt_secs(s.retry_after_max),
                if n == 1 { "y" } else { "ies" },
                fmt_secs(extra)
            );
        }
    }
    if s.policy == PolicyKind::Curl && retries > 0 {
        let _ = writeln!(
            b,
            "Retry-After on 408/429/500/502/503/504: curl waits as long as the server says, no \
             cap (not included)"
        );
    }
    let without = per.as_secs_f64() * attempts as f64 + sleep_total;
    let mut budget = Budget {
        max_attempts,
        worst_total: duration(without + extra),
        breakdown: String::new(),
        unbounded: false,
        per_attempt: per,
        sleeps_s,
        retry_after_sleeps,
        retry_after_max_s: s.retry_after_max,
        without_retry_after: duration(without),
    };
    let _ = write!(b, "worst total: {}", budget.summary());
    budget.breakdown = b;
    budget
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(b: &Budget) -> f64 {
        (b.worst_total.as_secs_f64() * 1e6).round() / 1e6
    }

    #[test]
    fn requests_default_is_one_attempt() {
        let b = worst_case(&ReplaySettings::default());
        assert_eq!(b.max_attempts, 1);
        // 5 + 10 + 10 + 30
        assert_eq!(secs(&b), 55.0);
        assert!(b.breakdown.contains("per address"), "{}", b.breakdown);
        assert!(b.breakdown.contains("sleeps: none"), "{}", b.breakdown);
        assert!(!b.unbounded);
    }

    #[test]
    fn only_the_stages_the_url_has_are_counted_and_retry_after_is_said_apart() {
        let s = ReplaySettings {
            total: Some(3),
            backoff_factor: 0.5,
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_millis(1500),
            status_forcelist: vec![503],
            ..ReplaySettings::urllib3_default()
        };
        let ip_http = UrlStages::of("http://127.0.0.1:8080/x");
        assert_eq!(
            ip_http,
            UrlStages {
                dns: false,
                tls: false
            }
        );
        let b = worst_case_for(&s, ip_http);
        assert_eq!(b.per_attempt, Duration::from_millis(2500));
        assert_eq!(
            b.summary(),
            "4 × 2.5 s attempts + sleeps 0 + 1 + 2 s = 13 s; a server's Retry-After can \
             stretch each of 3 sleeps to 6 h"
        );
        assert!(
            b.breakdown.contains("no DNS (an IP address)"),
            "{}",
            b.breakdown
        );
        assert!(b.breakdown.ends_with(&b.summary()), "{}", b.breakdown);
        // The true worst keeps the stretch: 13 s + 3 sleeps at 6 h less their backoff.
        assert_eq!(secs(&b), 13.0 + 3.0 * 21600.0 - 3.0);
        assert_eq!(b.without_retry_after, Duration::from_secs(13));
        // A name over https: DNS and the TLS handshake too.
        let named = UrlStages::of("https://api.internal.test/");
        assert_eq!(named, UrlStages::ALL);
        assert_eq!(
            worst_case_for(&s, named).per_attempt,
            Duration::from_millis(5000 + 1000 + 1000 + 1500)
        );
        assert!(!UrlStages::of("https://[::1]:8443/").dns);
        // Through a proxy: DNS is the proxy's name, TLS the target's or the proxy's.
        let mut probe = ProbeSettings::new("http://127.0.0.1:8080/");
        probe.proxy.proxy = Some(crate::engine::proxy_select::ProxyUrl {
            scheme: ProxyScheme::Https,
            host: "proxy.internal.test".into(),
            port: 3128,
            username: None,
            password: None,
            display: "https://proxy.internal.test:3128".into(),
        });
        assert_eq!(UrlStages::of_probe(&probe), UrlStages::ALL);
        if let Some(p) = probe.proxy.proxy.as_mut() {
            p.scheme = ProxyScheme::Http;
            p.host = "127.0.0.1".into();
        }
        assert_eq!(UrlStages::of_probe(&probe), ip_http);
        assert_eq!(UrlStages::of("not a url"), UrlStages::ALL);
        // Without Retry-After nothing is stretched.
        let s = ReplaySettings {
            respect_retry_after: false,
            ..s
        };
        let b = worst_case_for(&s, ip_http);
        assert_eq!(
            b.summary(),
            "4 × 2.5 s attempts + sleeps 0 + 1 + 2 s = 13 s"
        );
    }

    #[test]
    fn max_time_bounds_each_attempt() {
        let s = ReplaySettings {
            max_time: Some(Duration::from_secs(20)),
            ..ReplaySettings::default()
        };
        let b = worst_case(&s);
        assert_eq!(secs(&b), 20.0);
        assert!(
            b.breakdown.contains("cut to max_time 20 s"),
            "{}",
            b.breakdown
        );
    }

    #[test]
    fn urllib3_backoff_with_jitter_and_cap() {
        let s = ReplaySettings {
            total: Some(5),
            backoff_factor: 1.0,
            backoff_jitter: 1.0,
            backoff_max: 6.0,
            max_time: Some(Duration::from_secs(10)),
            ..ReplaySettings::urllib3_default()
        };
        let b = worst_case(&s);
        assert_eq!(b.max_attempts, 6);
        // sleeps: 0, min(6, 2+1)=3, min(6, 4+1)=5, 6, 6 = 20; attempts 6 × 10 = 60.
        // Retry-After is respected but there is no forcelist and total > 0: the
        // 413/429/503 rule can retry statuses, so retry_after_max counts on 5 retries.
        let ra = (21600.0 - 0.0) + (21600.0 - 3.0) + (21600.0 - 5.0) + 2.0 * (21600.0 - 6.0);
        assert_eq!(secs(&b), 60.0 + 20.0 + ra);
        let s = ReplaySettings {
            respect_retry_after: false,
            ..s
        };
        let b = worst_case(&s);
        assert_eq!(secs(&b), 80.0);
        assert!(
            b.breakdown.contains("0 s + 3 s + 5 s + 6 s + 6 s"),
            "{}",
            b.breakdown
        );
    }

    #[test]
    fn urllib3_counts() {
        // read errors not retried for POST; connect 2 + status 1 (forcelist) + other 0
        let s = ReplaySettings {
            total: Some(10),
            connect: Some(2),
            read: Some(5),
            status: Some(1),
            other: Some(0),
            status_forcelist: vec![503],
            method: "POST".into(),
            allowed_methods: vec!["GET".into()],
            respect_retry_after: false,
            ..ReplaySettings::urllib3_default()
        };
        assert_eq!(
            worst_case(&s).max_attempts,
            3,
            "POST: status not allowed either"
        );
        let s = ReplaySettings {
            method: "GET".into(),
            ..s
        };
        assert_eq!(worst_case(&s).max_attempts, 9);
        let s = ReplaySettings {
            total: Some(4),
            ..s
        };
        assert_eq!(worst_case(&s).max_attempts, 5);
        // total=None with other unlimited: forever
        let s = ReplaySettings {
            total: None,
            other: None,
            ..s
        };
        let b = worst_case(&s);
        assert!(b.unbounded);
        assert_eq!(b.max_attempts, u32::MAX);
        assert_eq!(b.worst_total, Duration::MAX);
        assert!(b.breakdown.contains("retries forever"), "{}", b.breakdown);
        // total=None with every category limited is bounded
        let s = ReplaySettings {
            other: Some(1),
            ..s
        };
        assert_eq!(worst_case(&s).max_attempts, 1 + 2 + 5 + 1 + 1);
    }

    #[test]
    fn simple_policies() {
        let base = ReplaySettings {
            total: Some(3),
            backoff_factor: 2.0,
            backoff_max: 5.0,
            max_time: Some(Duration::from_secs(1)),
            ..ReplaySettings::default()
        };
        let case = |p: PolicyKind| {
            worst_case(&ReplaySettings {
                policy: p,
                ..base.clone()
            })
        };
        // 4 attempts × 1 s + sleeps
        assert_eq!(secs(&case(PolicyKind::Loop)), 4.0 + 2.0 + 4.0 + 8.0);
        assert_eq!(secs(&case(PolicyKind::Fixed)), 4.0 + 6.0);
        assert_eq!(secs(&case(PolicyKind::FullJitter)), 4.0 + 2.0 + 4.0 + 5.0);
        // --retry-delay 2
        assert_eq!(secs(&case(PolicyKind::Curl)), 4.0 + 6.0);
        let curl = worst_case(&ReplaySettings {
            policy: PolicyKind::Curl,
            backoff_factor: 0.0,
            total: None,
            ..base.clone()
        });
        assert_eq!(curl.max_attempts, 4);
        assert_eq!(secs(&curl), 4.0 + 1.0 + 2.0 + 4.0);
        assert!(curl.breakdown.contains("no cap"), "{}", curl.breakdown);
        for p in PolicyKind::ALL {
            assert_eq!(case(p).max_attempts, 4, "{}", p.name());
        }
    }

    #[test]
    fn many_retries_are_counted_in_bulk() {
        let s = ReplaySettings {
            total: Some(1000),
            backoff_factor: 1.0,
            respect_retry_after: false,
            max_time: Some(Duration::ZERO),
            ..ReplaySettings::urllib3_default()
        };
        let b = worst_case(&s);
        assert_eq!(b.max_attempts, 1001);
        // 0, 2, 4, 8, 16, 32, 64, then 993 × 120
        assert_eq!(secs(&b), 126.0 + 993.0 * 120.0);
    }
}
