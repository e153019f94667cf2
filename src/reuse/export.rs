//! The fix for what reuse mode measured, ready to paste: a Python `requests` snippet (an
//! `HTTPAdapter` subclass whose pooled sockets send TCP keepalive probes before the far end's
//! idle time runs out, and a `Retry` for the race), or a curl command line
//! (`--keepalive-time`). What needs no fix says so in a comment; the snippet still runs.
//!
//! Secrets: no headers are exported, and the URL's password is masked.

use std::fmt::Write as _;

use super::Wire;
use super::run::ReuseRun;
use crate::replay::export::{ExportFormat, num, py_str, sh};
use crate::report::Report;

/// What the measurement asks of the client.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Fix {
    /// TCP keepalive: seconds idle before the first probe, and between probes.
    keepalive: Option<(u64, u64)>,
    /// Retry idempotent requests once the reused connection is closed under them.
    retry: bool,
}

/// The keepalive timers for a far end that forgets a flow after `idle_s`: the first probe at
/// half of it, the next ones every quarter, so one always lands well before it forgets.
fn keepalive_for(idle_s: f64) -> (u64, u64) {
    let idle = (idle_s / 2.0).floor().max(1.0) as u64;
    let interval = (idle_s / 4.0).floor().max(1.0) as u64;
    (idle, interval)
}

/// The idle time to stay below: the estimate, else the shortest gap that failed.
fn idle_limit(run: &ReuseRun, report: &Report) -> Option<f64> {
    let reuse = report.reuse.as_ref()?;
    reuse.idle_close_s.or_else(|| {
        run.gaps
            .iter()
            .filter(|g| g.wire.fails())
            .map(|g| g.gap.as_secs_f64())
            .reduce(f64::min)
    })
}

fn fix_for(run: &ReuseRun, report: &Report) -> Fix {
    let kind = report.reuse.as_ref().and_then(|r| r.close_kind);
    match (kind, idle_limit(run, report)) {
        (Some(Wire::Silent), Some(idle)) => Fix {
            keepalive: Some(keepalive_for(idle)),
            retry: false,
        },
        (Some(Wire::Race), _) => Fix {
            keepalive: None,
            retry: true,
        },
        _ => Fix {
            keepalive: None,
            retry: false,
        },
    }
}

/// The fix in `format`.
pub(crate) fn render(format: ExportFormat, run: &ReuseRun, report: &Report) -> String {
    let fix = fix_for(run, report);
    let summary = report
        .reuse
        .as_ref()
        .map(|r| r.summary.as_str())
        .unwrap_or_default();
    let url = crate::redact::url(&run.settings.url);
    match format {
        ExportFormat::Python => python(fix, run, summary, &url),
        ExportFormat::Curl => curl(fix, run, summary, &url),
    }
}

/// Every line of `text` as a comment.
fn commented(text: &str) -> String {
    let mut out = String::new();
    for line in crate::report::wrap_with("", text, 76).lines() {
        let _ = writeln!(out, "# {line}");
    }
    out
}

const KEEPALIVE_ADAPTER: &str = r#"class KeepAliveAdapter(HTTPAdapter):
    """Pooled sockets send TCP keepalive probes, so an idle connection is never
    forgotten silently by a NAT, firewall or load balancer on the way."""

    def init_poolmanager(self, *args, **kwargs):
        options = list(HTTPConnection.default_socket_options)
        options.append((socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1))
        # Linux names it TCP_KEEPIDLE, macOS TCP_KEEPALIVE.
        idle = getattr(socket, "TCP_KEEPIDLE", getattr(socket, "TCP_KEEPALIVE", None))
        if idle is not None:
            options.append((socket.IPPROTO_TCP, idle, KEEPALIVE_IDLE))
        if hasattr(socket, "TCP_KEEPINTVL"):
            options.append((socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL))
        if hasattr(socket, "TCP_KEEPCNT"):
            options.append((socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3))
        kwargs["socket_options"] = options
        super().init_poolmanager(*args, **kwargs)

"#;

/// A `requests` script: the adapter (with keepalive and/or Retry as measured), one request.
fn python(fix: Fix, run: &ReuseRun, summary: &str, url: &str) -> String {
    let mut out = commented(&format!("netpeel reuse: {summary}"));
    out.push_str("import socket\n\nimport requests\nfrom requests.adapters import HTTPAdapter\n");
    out.push_str(
        "from urllib3.connection import HTTPConnection\nfrom urllib3.util.retry import Retry\n\n",
    );
    let adapter = match fix.keepalive {
        Some((idle, interval)) => {
            let _ = writeln!(
                out,
                "KEEPALIVE_IDLE = {idle}  # seconds idle before the first probe: below the measured idle time"
            );
            let _ = writeln!(
                out,
                "KEEPALIVE_INTERVAL = {interval}  # seconds between probes\n\n"
            );
            out.push_str(KEEPALIVE_ADAPTER);
            "KeepAliveAdapter"
        }
        None => {
            out.push_str(
                "# No keepalive needed: the far end does not drop idle connections silently.\n",
            );
            "HTTPAdapter"
        }
    };
    let retry = if fix.retry {
        out.push_str(
            "\n# The race: retry idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) when a\n# reused connection is closed under them (RemoteDisconnected, ConnectionResetError).",
        );
        "Retry(total=3, backoff_factor=0.1)"
    } else {
        out.push_str("\n# requests' default retries: the measurement asks for none.");
        "Retry(total=0, read=False)"
    };
    let _ = writeln!(
        out,
        "\nsession = requests.Session()\nadapter = {adapter}(max_retries={retry})"
    );
    out.push_str("session.mount(\"http://\", adapter)\nsession.mount(\"https://\", adapter)\n");
    let s = &run.settings;
    let _ = writeln!(
        out,
        "r = session.request({}, {}, timeout=({}, {}))",
        py_str(&s.method),
        py_str(url),
        num(s.connect_timeout.as_secs_f64()),
        num(s.read_timeout.as_secs_f64())
    );
    out.push_str("print(r.status_code, r.reason)\n");
    out
}

/// The nearest curl command line: `--keepalive-time` below the idle time (curl reuses
/// connections only within one invocation, and retries a dead reused one by itself).
fn curl(fix: Fix, run: &ReuseRun, summary: &str, url: &str) -> String {
    let mut out = commented(&format!("netpeel reuse: {summary}"));
    let s = &run.settings;
    let mut words = vec![
        "curl".to_string(),
        "--silent".into(),
        "--show-error".into(),
        format!("--connect-timeout {}", num(s.connect_timeout.as_secs_f64())),
    ];
    match fix.keepalive {
        Some((idle, _)) => words.push(format!("--keepalive-time {idle}")),
        None => out.push_str(
            "# No keepalive needed: the far end does not drop idle connections silently.\n",
        ),
    }
    if fix.retry {
        out.push_str("# The race: curl retries a request whose reused connection died on a new one by\n# itself; --retry covers the rest.\n");
        words.push("--retry 3".into());
    }
    match s.method.as_str() {
        "GET" => {}
        "HEAD" => words.push("--head".into()),
        m => words.push(format!("-X {}", sh(m))),
    }
    words.push(sh(url));
    out.push_str(&words.join(" "));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_probes_start_well_below_the_idle_time() {
        assert_eq!(keepalive_for(350.0), (175, 87));
        assert_eq!(keepalive_for(60.0), (30, 15));
        // A very short idle time still gets whole seconds of at least 1.
        assert_eq!(keepalive_for(1.5), (1, 1));
    }
}
