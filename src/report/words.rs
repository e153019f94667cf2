//! Sentences the plain report and the dashboard share, so the two never disagree.

use super::model::VerdictReport;

/// "0.2 ms", "12 ms", "1.25 s".
pub fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

pub fn timeout_words(t: &str) -> &'static str {
    match t {
        "connect" => "the connect timeout (requests timeout=(connect, read)[0])",
        "read" => "the read timeout (requests timeout=(connect, read)[1])",
        "dns" => "the DNS timeout (requests has none)",
        _ => "the total deadline (--max-time)",
    }
}

/// "Python requests would raise …", or why it has no equivalent. None on success.
pub fn requests_sentence(v: &VerdictReport) -> Option<String> {
    if let Some(e) = &v.requests_exception {
        let cause = v
            .urllib3_cause
            .as_deref()
            .map(|c| format!(" (caused by {c})"))
            .unwrap_or_default();
        let governs = v
            .governing_timeout
            .as_deref()
            .map(|t| format!("; the governing timeout is {}", timeout_words(t)))
            .unwrap_or_default();
        return Some(format!("Python requests would raise {e}{cause}{governs}."));
    }
    match v.kind.as_deref() {
        None => None,
        Some("h2_goaway" | "h2_stream_reset") => {
            Some("Python requests speaks HTTP/1.1 only: it would not see this.".into())
        }
        Some(_) => Some("Python requests has no equivalent: it has no total deadline.".into()),
    }
}

/// "curl would exit …" (0 on success).
pub fn curl_sentence(v: &VerdictReport) -> Option<String> {
    match v.curl_exit {
        // curl only fails on an HTTP status with --fail.
        Some(22) => Some("curl --fail would exit 22 (plain curl exits 0).".into()),
        Some(c) => Some(format!("curl would exit {c}.")),
        None if v.kind.is_some() => Some("curl would not fail here.".into()),
        None => None,
    }
}
