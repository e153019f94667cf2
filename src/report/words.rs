//! Sentences the plain report and the dashboard share, so the two never disagree.

use std::borrow::Cow;

use super::model::{CertReport, HttpDetail, Report, Stage, StageStatus, TrustRow, VerdictReport};
use crate::engine::clock::TimeoutSetting;
use crate::engine::verdict::Kind;

/// "0.2 ms", "12 ms", "1.25 s".
pub(crate) fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

pub(crate) fn timeout_words(t: TimeoutSetting) -> &'static str {
    match t {
        TimeoutSetting::Connect => "the connect timeout (requests timeout=(connect, read)[0])",
        TimeoutSetting::Read => "the read timeout (requests timeout=(connect, read)[1])",
        TimeoutSetting::Dns => "the DNS timeout (requests has none)",
        TimeoutSetting::Total => "the total deadline (--max-time)",
    }
}

/// "Python requests would raise …", or why it has no equivalent. None on success.
pub(crate) fn requests_sentence(v: &VerdictReport) -> Option<String> {
    if let Some(e) = &v.requests_exception {
        let cause = v
            .urllib3_cause
            .as_deref()
            .map(|c| format!(" (caused by {c})"))
            .unwrap_or_default();
        let governs = v
            .governing_timeout
            .map(|t| format!("; the governing timeout is {}", timeout_words(t)))
            .unwrap_or_default();
        return Some(format!("Python requests would raise {e}{cause}{governs}."));
    }
    match v.kind {
        None => None,
        Some(Kind::H2GoAway | Kind::H2StreamReset | Kind::H2ProtocolError) => {
            Some("Python requests speaks HTTP/1.1 only: it would not see this.".into())
        }
        Some(Kind::TlsCipherUnsupported) => Some(
            "Python requests (OpenSSL) offers that suite: it would get past TLS, and the server decides the rest."
                .into(),
        ),
        Some(Kind::TlsMessageTooLarge) => Some(
            "Python requests (OpenSSL) accepts a certificate chain up to 100 KiB, so it may verify this one; above that it raises SSLError (excessive message size)."
                .into(),
        ),
        Some(Kind::UnsendableHeader | Kind::UrlTooLong) => Some(
            "Python requests would send this request as it is; what it raises depends on the server's answer."
                .into(),
        ),
        Some(_) => Some("Python requests has no equivalent: it has no total deadline.".into()),
    }
}

/// "curl would exit …" (0 on success).
pub(crate) fn curl_sentence(v: &VerdictReport) -> Option<String> {
    match v.curl_exit {
        // curl only fails on an HTTP status with --fail.
        Some(22) => Some("curl --fail would exit 22 (plain curl exits 0).".into()),
        Some(c) => Some(format!("curl would exit {c}.")),
        None if matches!(
            v.kind,
            Some(
                Kind::InvalidHeader
                    | Kind::UnsendableHeader
                    | Kind::UrlTooLong
                    | Kind::HeaderNotLatin1
            )
        ) =>
        {
            Some("curl would send it as it is.".into())
        }
        None if v.kind == Some(Kind::TlsCipherUnsupported) => {
            Some("curl (OpenSSL) offers that suite too: it would go on.".into())
        }
        None if v.kind == Some(Kind::TlsAlert) => {
            Some("curl (OpenSSL's default list) would connect: see the note.".into())
        }
        None if v.kind == Some(Kind::TlsMessageTooLarge) => {
            Some("curl (OpenSSL) takes a chain up to 100 KiB: it may go on.".into())
        }
        None if v.kind.is_some() => Some("curl would not fail here.".into()),
        None => None,
    }
}

/// "first byte after 1.2 ms", "body 3 of 3 bytes in 0.1 ms": the HTTP exchange's times.
pub(crate) fn http_timing(h: &HttpDetail) -> Vec<String> {
    let mut timing = Vec::new();
    if let Some(t) = h.time_to_first_byte_ms {
        timing.push(format!("first byte after {}", fmt_ms(t)));
    }
    if let Some(b) = &h.body {
        // A HEAD response announces a length it never sends.
        let of = match b.content_length {
            Some(n) if h.request.method != "HEAD" => format!(" of {n}"),
            _ => String::new(),
        };
        let when = b
            .transfer_ms
            .map(|t| format!(" in {}", fmt_ms(t)))
            .unwrap_or_default();
        timing.push(format!("body {}{of} bytes{when}", b.bytes));
        if let Some(d) = &b.decoded {
            timing.push(match &d.error {
                Some(_) => format!("{} did not decode", d.content_encoding),
                None if d.capped => format!("{} decoding stopped at 64 MiB", d.content_encoding),
                None => format!("{} decoded to {} bytes", d.content_encoding, d.bytes),
            });
        }
    }
    timing
}

/// "2026-10-22T… → 2026-11-18T… (EXPIRED 3 days ago) [self-signed, CA]".
pub(crate) fn cert_validity(c: &CertReport) -> String {
    let left = if c.days_left < 0 {
        format!("EXPIRED {} days ago", -c.days_left)
    } else {
        format!("{} days left", c.days_left)
    };
    let flags: Vec<&str> = [(c.self_signed, "self-signed"), (c.is_ca, "CA")]
        .into_iter()
        .filter_map(|(on, word)| on.then_some(word))
        .collect();
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", flags.join(", "))
    };
    format!("{} → {} ({left}){flags}", c.not_before, c.not_after)
}

/// "3.5 min", "2.0 h": a replay's length.
pub(crate) fn long_secs(s: f64) -> String {
    if s >= 7200.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 120.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        fmt_ms(s * 1000.0)
    }
}

/// A replay's worst case in words; `None`s mean it is unbounded.
pub(crate) fn budget(max_attempts: Option<u32>, worst_case_s: Option<f64>) -> String {
    match (max_attempts, worst_case_s) {
        (Some(n), Some(s)) => format!("at most {n} attempts, {} in the worst case", long_secs(s)),
        _ => "unbounded: a category without a limit can retry forever".to_string(),
    }
}

/// The trust matrix in one line: "requests (certifi 2024.8.30) ✗ unknown issuer · curl
/// (system store) ✓ · Mozilla roots ✗ unknown issuer" (`ascii`: "ok" and "FAIL").
pub(crate) fn trust_line(rows: &[TrustRow], ascii: bool) -> String {
    rows.iter()
        .map(|r| {
            let (yes, no) = if ascii {
                ("ok", "FAIL")
            } else {
                ("✓", "✗")
            };
            let mark = if r.verified { yes } else { no };
            let why = r
                .error_kind
                .map(|k| format!(" {}", trust_error_words(k)))
                .unwrap_or_default();
            format!(
                "{}{} {mark}{why}",
                trust_client_label(&r.client),
                trust_store_short(r)
            )
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(crate) fn trust_client_label(client: &str) -> &str {
    match client {
        "os" => "OS store",
        "mozilla" => "Mozilla roots",
        other => other,
    }
}

/// " (certifi 2024.8.30)" for requests and curl; nothing for the OS and Mozilla rows, whose
/// label says it.
fn trust_store_short(r: &TrustRow) -> String {
    match r.client.as_str() {
        "requests" | "curl" => {
            let short = r.store.split(" (").next().unwrap_or(&r.store);
            format!(" ({short})")
        }
        _ => String::new(),
    }
}

/// Why a store said no, in two or three words.
pub(crate) fn trust_error_words(k: Kind) -> &'static str {
    match k {
        Kind::CertUnknownIssuer => "unknown issuer",
        Kind::CertSelfSigned => "self-signed",
        Kind::CertExpired => "expired",
        Kind::CertNotYetValid => "not yet valid",
        Kind::CertNameMismatch => "wrong name",
        Kind::CertCaAsEndEntity => "CA as leaf",
        Kind::CaBundleMissing => "file missing",
        Kind::CaBundleEmpty => "no certificate in file",
        _ => "invalid",
    }
}

/// "the server's certificate has expired (cert_expired)": a kind's meaning with its name,
/// once. A meaning that already names the kind ("… (NXDOMAIN)") does not repeat it.
pub(crate) fn kind_meaning(kind: Kind) -> String {
    let meaning = kind.info().meaning;
    let name = kind.name();
    if meaning
        .to_ascii_lowercase()
        .contains(&name.replace('_', " "))
    {
        meaning.to_string()
    } else {
        format!("{meaning} ({name})")
    }
}

/// Whether the last hop went through a proxy: then its DNS and TCP stages are the proxy's.
/// A hop without one skips the proxy stage with no detail; a reused proxied connection keeps
/// its detail; a stage not reached (an earlier failure) goes by the settings.
pub(crate) fn uses_proxy(r: &Report) -> bool {
    match r.stages.iter().find(|s| s.stage == Stage::Proxy) {
        Some(s) => match s.status {
            StageStatus::Skipped => s.detail.is_some(),
            StageStatus::NotRun => r.settings.proxy.is_some(),
            StageStatus::Ok | StageStatus::Failed => true,
        },
        None => false,
    }
}

/// A stage's one line in the rows: its summary, or for a proxy that DNS or TCP never reached
/// the proxy it was about (the JSON keeps a not-run stage's summary empty).
pub(crate) fn row_summary<'r>(r: &'r Report, s: &'r super::model::StageReport) -> Cow<'r, str> {
    match (s.stage, s.status, &r.settings.proxy) {
        (Stage::Proxy, StageStatus::NotRun, Some(proxy)) if s.summary.is_empty() => {
            Cow::Owned(format!("not reached: {proxy}"))
        }
        _ => Cow::Borrowed(&s.summary),
    }
}

/// A stage's name in the rows: with a proxy, "DNS (proxy)" and "TCP → proxy" say whose they
/// are (a refused proxy is otherwise read as a refused server).
pub(crate) fn stage_label(stage: Stage, proxied: bool) -> String {
    let name = stage.name().to_uppercase();
    match stage {
        Stage::Dns if proxied => format!("{name} (proxy)"),
        Stage::Tcp if proxied => format!("{name} → proxy"),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_is_named_once() {
        assert_eq!(
            kind_meaning(Kind::Nxdomain),
            "the name does not exist (NXDOMAIN)"
        );
        assert_eq!(
            kind_meaning(Kind::CertExpired),
            "the server's certificate has expired (cert_expired)"
        );
        // Every kind's line names it exactly once.
        for kind in Kind::ALL {
            let line = kind_meaning(*kind).to_ascii_lowercase();
            let name = kind.name().replace('_', " ");
            let named = line.matches(&name).count() + line.matches(kind.name()).count();
            assert!(named >= 1, "{line}");
            assert!(
                !line.contains(&format!("({name}) ({})", kind.name())),
                "{line}"
            );
        }
    }
}
