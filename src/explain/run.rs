//! Explain mode from the command line: read the paste (bounded), explain it, probe the same
//! URL unless `--no-probe`, set "then" beside "now", print, and pick the exit code.

use std::io::{IsTerminal, Read};
use std::path::Path;

use super::Explained;
use super::parse::MAX_INPUT_BYTES;
use crate::engine::ProbeSettings;
use crate::engine::events::Events;
use crate::engine::verdict::{Kind, exit};
use crate::report::explain as view;
use crate::report::model::{Comparison, ComparisonReport, Report};
use crate::report::{self, Format};
use crate::stdio::{print_out, say};

/// The paste: at most [`MAX_INPUT_BYTES`] of the file (or stdin), and whether it was cut.
pub(crate) fn read_input(path: Option<&Path>) -> Result<(String, bool), String> {
    let mut bytes = Vec::new();
    let limit = MAX_INPUT_BYTES as u64 + 1;
    let read = match path {
        Some(p) => open_paste(p)
            .and_then(|f| f.take(limit).read_to_end(&mut bytes))
            .map_err(|e| format!("{}: cannot read it: {e}", p.display())),
        None => {
            if std::io::stdin().is_terminal() {
                say("reading the error from stdin: paste it, then Ctrl-D (or give a file)");
            }
            std::io::stdin()
                .lock()
                .take(limit)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read stdin: {e}"))
        }
    };
    read?;
    let truncated = bytes.len() > MAX_INPUT_BYTES;
    bytes.truncate(MAX_INPUT_BYTES);
    // A paste is text; a stray invalid byte (or a character cut at the limit) is replaced.
    Ok((String::from_utf8_lossy(&bytes).into_owned(), truncated))
}

/// Open the paste without waiting for a writer: a FIFO nobody writes to would block the open
/// itself. Reads then block again, so a pipe that is being written (`<(pbpaste)`) is read whole;
/// one without a writer reads as empty.
fn open_paste(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;
        options.custom_flags(libc::O_NONBLOCK);
        let file = options.open(path)?;
        // SAFETY: fcntl on a descriptor this function owns, with integer arguments only.
        let fd = file.as_raw_fd();
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// How the result is printed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    pub(crate) format: Format,
    pub(crate) color: bool,
}

/// Print the explanation alone (`--no-probe`, or nothing to probe): exit 0, the paste was
/// explained.
pub(crate) fn print_alone(e: &Explained, why: &str, output: Output) -> i32 {
    let comparison = ComparisonReport {
        outcome: Comparison::NotProbed,
        summary: why.to_string(),
        suggestions: Vec::new(),
    };
    let x = view::build(e, comparison);
    let text = match output.format {
        Format::Text => view::render_alone(
            &x,
            crate::report::text::Style {
                color: output.color,
            },
        ),
        Format::Json => crate::report::json::render(&view::explain_only(x)),
    };
    if print_out(&text) {
        exit::OK as i32
    } else {
        exit::INTERNAL as i32
    }
}

/// Probe with `settings` (the paste's URL, proxy and timeouts), compare, print; the exit code
/// is the probe's, as for `netpeel URL`.
pub(crate) fn probe_and_compare(
    runtime: &tokio::runtime::Runtime,
    e: &Explained,
    settings: ProbeSettings,
    output: Output,
) -> i32 {
    let url = view::probe_url(&e.parsed.target).unwrap_or_else(|| settings.url.clone());
    let shown_url = crate::redact::mask_echoes(&crate::redact::url(&url), &view::secrets(e));
    let probe = crate::engine::probe(settings, Events::none());
    let Some(outcome) = runtime.block_on(crate::cli::until_interrupted(probe)) else {
        say("interrupted: no probe result; the explanation alone follows");
        print_alone(e, "interrupted before the probe ended", output);
        return exit::INTERRUPTED as i32;
    };
    let report = report::build(&outcome);
    let comparison = compare(e, &report, &shown_url);
    let secrets = view::secrets(e);
    let x = view::build(e, comparison);
    let report = view::attach(report, x, &secrets);
    if !print_out(&output.format.render(&report, output.color)) {
        return exit::INTERNAL as i32;
    }
    report.verdict.exit_code as i32
}

/// "Then" (the paste's kind) against "now" (the probe's verdict).
pub(crate) fn compare(e: &Explained, now: &Report, url: &str) -> ComparisonReport {
    let v = &now.verdict;
    let then = format!("{} / {}", e.layer.name(), e.kind.name());
    match (v.kind, v.layer) {
        (Some(kind), _) if kind == e.kind => ComparisonReport {
            outcome: Comparison::Same,
            summary: format!("Still failing the same way: {}", v.summary),
            suggestions: Vec::new(),
        },
        (Some(kind), layer) => {
            let layer = layer.map(|l| l.name()).unwrap_or("a");
            ComparisonReport {
                outcome: Comparison::Different,
                summary: format!(
                    "Then {then}; now it fails differently, at the {layer} layer ({}): {}",
                    kind.name(),
                    v.summary
                ),
                suggestions: different_suggestions(e, kind, url),
            }
        }
        (None, _) => ComparisonReport {
            outcome: Comparison::Succeeded,
            summary: format!(
                "The probe succeeds now, where the paste shows {then}: the failure does not happen every time, or it depends on where and how the request is made."
            ),
            suggestions: success_suggestions(e.kind, url),
        },
    }
}

fn different_suggestions(e: &Explained, now: Kind, url: &str) -> Vec<String> {
    // From a network failure to an HTTP status (or back): the path changed, or the failure
    // comes and goes.
    if e.layer != now.info().layer.unwrap_or(e.layer) {
        vec![format!(
            "netpeel --watch {url}   (probe again and again: how often each failure happens)"
        )]
    } else {
        Vec::new()
    }
}

/// When the probe succeeds: which mode can catch what the paste shows.
fn success_suggestions(then: Kind, url: &str) -> Vec<String> {
    let watch =
        format!("netpeel --watch {url}   (an intermittent failure: how often, in which layer)");
    match then {
        Kind::RemoteDisconnected
        | Kind::ConnectionReset
        | Kind::ReuseRemoteDisconnected
        | Kind::ReuseConnectionReset
        | Kind::ReuseSilentDrop => vec![
            format!("netpeel --reuse-after 5,30,120 {url}   (a pooled connection reused after sitting idle: the keep-alive race)"),
            format!("netpeel --idle-sweep 600 {url}   (after how long idle the far end drops a connection)"),
            watch,
        ],
        Kind::CertUnknownIssuer
        | Kind::CertSelfSigned
        | Kind::CertExpired
        | Kind::CertNotYetValid
        | Kind::CertNameMismatch
        | Kind::CertInvalid
        | Kind::CertCaAsEndEntity => vec![
            "The certificate verifies here: the failing client trusts other CAs. Check which bundle its Python uses (python -c 'import certifi; print(certifi.where())', REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) and whether a proxy intercepts TLS on its network.".to_string(),
            format!("netpeel --python /path/to/its/python {url}   (the trust matrix with that interpreter's certifi: which client trusts the chain, and why not)"),
            format!("netpeel --cacert BUNDLE {url}   (verify with the bundle the failing client uses)"),
        ],
        _ => vec![watch],
    }
}
