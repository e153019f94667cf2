//! Explain mode's part of the report: the pasted error as [`ExplainedReport`] (secrets masked)
//! and its text: the "then" block above the probe's report and "then vs now" below it.

use super::model::{
    Comparison, ComparisonReport, ExplainOnlyReport, ExplainTimeouts, ExplainedReport,
    OsErrorReport, Report,
};
use super::text::{Style, para};
use crate::explain::Explained;
use crate::explain::parse::{Library, ProxyRef, Target};
use crate::redact;

/// The URL to probe, as the paste gives it or rebuilt from scheme, host, port and path.
/// Unmasked: this is what is sent. None without a host.
pub(crate) fn probe_url(t: &Target) -> Option<String> {
    let host = t.host.as_deref().filter(|h| !h.is_empty())?;
    let scheme = t.scheme.as_deref().unwrap_or("https");
    if let Some(url) = &t.url {
        match url::Url::parse(url) {
            Ok(u) if u.host_str().is_some() => return Some(url.clone()),
            // A port out of range is the pasted failure itself: probing the URL as pasted
            // meets it again, where dropping the port would probe another service (port 80).
            Err(url::ParseError::InvalidPort) => return Some(url.clone()),
            _ => {}
        }
    }
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let port = t.port.map(|p| format!(":{p}")).unwrap_or_default();
    let path = t
        .path
        .as_deref()
        .filter(|p| p.starts_with('/'))
        .unwrap_or("/");
    Some(format!("{scheme}://{host}{port}{path}"))
}

/// The proxy as a URL netpeel's `--proxy` takes (http:// unless the paste says SOCKS).
pub(crate) fn proxy_url(p: &ProxyRef, socks: bool) -> Option<String> {
    if let Some(url) = &p.url {
        return Some(url.clone());
    }
    let host = p.host.as_deref()?;
    let scheme = if socks { "socks5h" } else { "http" };
    Some(match p.port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// Every secret the paste shows (credential query parameters): masked wherever it appears.
pub(crate) fn secrets(e: &Explained) -> Vec<String> {
    let t = &e.parsed.target;
    let mut found: Vec<String> = [t.url.as_deref(), t.path.as_deref()]
        .into_iter()
        .flatten()
        .flat_map(redact::query_secrets)
        .collect();
    for url in [
        t.url.as_deref(),
        e.parsed.proxy.as_ref().and_then(|p| p.url.as_deref()),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(pw) = redact::url_password(url) {
            found.push(pw.to_string());
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The explanation, every string masked; `comparison` is what the probe found (or why none).
pub(crate) fn build(e: &Explained, comparison: ComparisonReport) -> ExplainedReport {
    let p = &e.parsed;
    let secrets = secrets(e);
    let mask = |s: &str| redact::mask_echoes(&redact::url(s), &secrets);
    let requests_exception = match p.library {
        Library::Requests => p
            .chain
            .first()
            .filter(|n| n.starts_with("requests."))
            .cloned(),
        _ => None,
    }
    .or_else(|| e.kind.info().requests_exception.map(str::to_string));
    ExplainedReport {
        source_library: p.library,
        exception_chain: p.chain.iter().map(|n| mask(n)).collect(),
        layer: e.layer,
        kind: e.kind,
        requests_exception,
        url: probe_url(&p.target).map(|u| mask(&u)),
        scheme: p.target.scheme.clone(),
        host: p.target.host.clone(),
        port: p.target.port,
        path: p.target.path.as_deref().map(mask),
        proxy: p
            .proxy
            .as_ref()
            .and_then(|x| proxy_url(x, p.clues.socks))
            .map(|u| mask(&u)),
        os_error: p.os_error.as_ref().map(|o| OsErrorReport {
            errno: o.errno,
            message: mask(&o.message),
        }),
        status: p.status,
        curl_exit: p.curl_exit,
        timeouts_s: ExplainTimeouts {
            connect: p.timeouts.connect,
            read: p.timeouts.read,
            total: p.timeouts.total,
        },
        summary: mask(&crate::explain::causes::summary(e)),
        causes: crate::explain::causes::ranked(e),
        notes: crate::explain::causes::notes(e),
        input_truncated: e.truncated,
        comparison,
    }
}

/// The `--no-probe` document.
pub(crate) fn explain_only(explained: ExplainedReport) -> ExplainOnlyReport {
    ExplainOnlyReport {
        netpeel_version: env!("CARGO_PKG_VERSION").into(),
        explained,
    }
}

/// The explanation with every string escaped for a terminal (the paste is hostile too).
pub(crate) fn for_terminal(x: &ExplainedReport) -> ExplainedReport {
    let escaped = serde_json::to_value(x).and_then(|mut doc| {
        super::escape::map_value_strings(&mut doc, &|s: &str| {
            Some(super::escape::for_terminal(
                s.trim_end_matches(['\r', '\n']),
            ))
        });
        serde_json::from_value(doc)
    });
    // Escaping changes no shape; were it ever to fail, show the fixed sentences only.
    escaped.unwrap_or_else(|_| ExplainedReport {
        exception_chain: Vec::new(),
        url: None,
        host: None,
        path: None,
        proxy: None,
        os_error: None,
        summary: x.kind.info().meaning.to_string(),
        ..x.clone()
    })
}

/// "THEN": what the paste says, above the probe's report. `x` is escaped already.
pub(crate) fn then_block(out: &mut String, x: &ExplainedReport, style: Style) {
    out.push_str(&style.bold("THEN  what the pasted error says"));
    out.push('\n');
    let from = match x.exception_chain.first() {
        Some(raised) => format!("{} ({raised})", x.source_library.name()),
        None => x.source_library.name().to_string(),
    };
    para(out, "  from:     ", &from);
    if x.exception_chain.len() > 1 {
        para(out, "  chain:    ", &short_chain(&x.exception_chain));
    }
    let none = "not named in the text".to_string();
    para(out, "  target:   ", x.url.as_ref().unwrap_or(&none));
    if let Some(proxy) = &x.proxy {
        para(out, "  proxy:    ", proxy);
    }
    if let Some(os) = &x.os_error {
        let errno = os
            .errno
            .map(|n| format!("[errno {n}] "))
            .unwrap_or_default();
        para(out, "  cause:    ", &format!("{errno}{}", os.message));
    }
    let timeouts = timeouts_words(&x.timeouts_s);
    if !timeouts.is_empty() {
        para(out, "  timeouts: ", &timeouts);
    }
    let verdict = format!("{} / {}", x.layer.name(), x.kind.name());
    para(out, "  verdict:  ", &style.red(&verdict));
    para(out, "  ", &x.summary);
    out.push_str("  usual causes, most likely first:\n");
    for (i, cause) in x.causes.iter().enumerate() {
        para(out, &format!("  {:>2}. ", i + 1), cause);
    }
    for note in &x.notes {
        para(out, "  note: ", note);
    }
    out.push('\n');
}

pub(crate) fn short_chain(chain: &[String]) -> String {
    chain
        .iter()
        .map(|n| n.rsplit('.').next().unwrap_or(n))
        .collect::<Vec<_>>()
        .join(" > ")
}

pub(crate) fn timeouts_words(t: &ExplainTimeouts) -> String {
    [("connect", t.connect), ("read", t.read), ("total", t.total)]
        .iter()
        .filter_map(|(name, s)| s.map(|s| format!("{name} {s} s")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "THEN vs NOW", below the probe's report (or alone with `--no-probe`).
pub(crate) fn comparison_block(out: &mut String, x: &ExplainedReport, style: Style) {
    out.push('\n');
    out.push_str(&style.bold("THEN vs NOW"));
    out.push('\n');
    let c = &x.comparison;
    let label = match c.outcome {
        Comparison::NotProbed => style.yellow("not probed"),
        Comparison::Same => style.red("same failure"),
        Comparison::Different => style.yellow("different"),
        Comparison::Succeeded => style.green("succeeds now"),
    };
    para(
        out,
        "  then:  ",
        &format!("{} / {}", x.layer.name(), x.kind.name()),
    );
    para(out, "  now:   ", &label);
    para(out, "  ", &c.summary);
    for s in &c.suggestions {
        para(out, "  try:   ", s);
    }
}

/// The text of an explanation alone (`--no-probe`, or nothing to probe).
pub(crate) fn render_alone(x: &ExplainedReport, style: Style) -> String {
    let x = for_terminal(x);
    let mut out = String::new();
    then_block(&mut out, &x, style);
    comparison_block(&mut out, &x, style);
    // The block ends in a blank line before a report; alone, one line break is enough.
    out.replace("\n\n\nTHEN vs NOW", "\n\nTHEN vs NOW")
}

/// The probe's report carries the explanation: the text report shows it around the stages.
pub(crate) fn attach(mut report: Report, x: ExplainedReport, secrets: &[String]) -> Report {
    if !secrets.is_empty() {
        report = report.map_strings(&|s: &str| {
            secrets
                .iter()
                .any(|secret| s.contains(secret.as_str()))
                .then(|| redact::mask_echoes(s, secrets))
        });
    }
    report.explained = Some(x);
    report
}
