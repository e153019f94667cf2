//! The detail panel for the selected stage: DNS answers, the TCP table, the TLS chain, the HTTP
//! heads, from the attempt's report; while the probe runs, what the events said so far. A detail
//! the dashboard does not know (a stage added to the engine later) is shown field by field.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{Chrome, block, scrolled};
use crate::engine::Stage;
use crate::report::model::{
    ConnectResult, DnsDetail, DnsSourceKind, HttpDetail, QueryStatusReport, StageDetail,
    StageReport, StageStatus, TcpDetail, TlsDetail, UrlDetail,
};
use crate::tui::app::{App, AttemptState, Focus};
use crate::tui::fmt;
use crate::tui::theme::{Status, Theme};

/// Lines wrapped to the panel's width as they are added.
struct Out<'t> {
    lines: Vec<Line<'static>>,
    width: usize,
    theme: &'t Theme,
}

impl Out<'_> {
    /// `text` wrapped; continuation lines are indented under it.
    fn text(&mut self, indent: &str, text: &str, style: Style) {
        let text = self.theme.text(text).into_owned();
        let rest = format!("{indent}  ");
        for l in fmt::wrap(indent, &rest, &text, self.width) {
            self.lines.push(Line::from(Span::styled(l, style)));
        }
    }

    /// A dim label and its value, the value wrapped under itself.
    fn pair(&mut self, label: &str, value: &str, style: Style) {
        let value = self.theme.text(value).into_owned();
        let pad = " ".repeat(fmt::width(label));
        for (i, l) in fmt::wrap("", "", &value, self.width.saturating_sub(fmt::width(label)))
            .into_iter()
            .enumerate()
        {
            let head = if i == 0 {
                label.to_string()
            } else {
                pad.clone()
            };
            self.lines.push(Line::from(vec![
                Span::styled(head, self.theme.dim()),
                Span::styled(l, style),
            ]));
        }
    }

    /// One line cut to the width (tables, header lines: wrapping would break their shape).
    fn cut(&mut self, text: &str, style: Style) {
        let text = self.theme.text(text).into_owned();
        let text = fmt::truncate(&text, self.width, self.theme.ellipsis());
        self.lines.push(Line::from(Span::styled(text, style)));
    }

    fn heading(&mut self, text: &str) {
        self.cut(text, self.theme.bold());
    }
}

fn report_stage(app: &App, stage: Stage) -> Option<&StageReport> {
    app.shown_report()?.stages.iter().find(|s| s.stage == stage)
}

pub(crate) fn title(app: &App) -> String {
    let name = app
        .selected()
        .map(|s| app.stage_label(s))
        .unwrap_or_default();
    if app.expanded {
        format!("{name} detail (Enter: back)")
    } else {
        format!("{name} detail")
    }
}

pub(crate) fn lines(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let mut out = Out {
        lines: Vec::new(),
        width: width as usize,
        theme,
    };
    let Some(name) = app.selected() else {
        return out.lines;
    };
    if let Some(AttemptState::Crashed { message }) = app.shown().map(|a| &a.state) {
        out.text(
            "",
            &format!("The probe stopped without a result: {message}"),
            theme.bad(),
        );
        out.text("", "Press r to run it again.", theme.dim());
        return out.lines;
    }
    match report_stage(app, name) {
        Some(stage) => {
            finished(&mut out, stage);
            if let Some(report) = app.shown_report() {
                extras(&mut out, name, report);
            }
        }
        None => live(&mut out, app, name),
    }
    out.lines
}

/// While the probe runs: the stage's state and, for TCP, each address tried so far.
fn live(out: &mut Out, app: &App, name: Stage) {
    let theme = out.theme;
    let Some(stage) = app.live.iter().find(|s| s.stage == name) else {
        return;
    };
    match stage.status {
        Status::Waiting => out.text("", "waiting for the earlier stages", theme.dim()),
        Status::Running => {
            let since = stage
                .started
                .map(|t| fmt::counter(app.now.saturating_duration_since(t)))
                .unwrap_or_default();
            let bound = match name {
                Stage::Dns => Some(("the DNS timeout", app.header.timeouts.dns)),
                Stage::Tcp => Some((
                    "the connect timeout, per address",
                    app.header.timeouts.connect,
                )),
                // requests bounds the handshake with the connect timeout too.
                Stage::Tls => Some(("the connect timeout", app.header.timeouts.connect)),
                Stage::Http => Some(("the read timeout, between reads", app.header.timeouts.read)),
                Stage::Url | Stage::Proxy => None,
            };
            let bound = bound
                .map(|(what, d)| format!(" (bounded by {what}, {})", fmt::secs(d)))
                .unwrap_or_default();
            out.text("", &format!("running for {since}{bound}"), theme.running());
        }
        s => out.text(
            "",
            &format!("{}: {}", Theme::word(s), stage.summary),
            theme.status_style(s),
        ),
    }
    if name == Stage::Tcp && !app.live_connects.is_empty() {
        out.heading("addresses tried in order, as urllib3 does");
        for c in &app.live_connects {
            let (word, style) = if c.ok {
                ("connected", theme.ok())
            } else {
                ("failed", theme.bad())
            };
            out.cut(
                &format!("  {:<40} {:>9}  {word}", c.addr, fmt::duration(c.elapsed)),
                style,
            );
            if !c.ok {
                out.text("      ", &c.detail, theme.dim());
            }
        }
    }
}

fn finished(out: &mut Out, stage: &StageReport) {
    let theme = out.theme;
    let Some(detail) = &stage.detail else {
        match stage.status {
            StageStatus::NotRun => out.text("", "not run: an earlier stage failed", theme.dim()),
            StageStatus::Skipped => {
                out.text("", &format!("skipped: {}", stage.summary), theme.warn())
            }
            _ => out.text("", &stage.summary, Style::new()),
        }
        return;
    };
    // The report will gain variants (a proxy's CONNECT exchange, …): until one gets its own
    // view it is shown by the fallback, so a new stage never needs a change here to appear.
    #[allow(unreachable_patterns)]
    match detail {
        StageDetail::Url(u) => url(out, u),
        StageDetail::Dns(d) => dns(out, d),
        StageDetail::Tcp(t) => tcp(out, t),
        StageDetail::Tls(t) => tls(out, t),
        StageDetail::Http(h) => http(out, h),
        StageDetail::Proxy(p) => proxy(out, stage, p),
        other => generic(out, stage, other),
    }
}

fn url(out: &mut Out, u: &UrlDetail) {
    let theme = out.theme;
    let mut parts = Vec::new();
    if let Some(s) = &u.scheme {
        parts.push(format!("scheme {s}"));
    }
    if let Some(h) = &u.host {
        parts.push(format!("host {h}"));
    }
    if let Some(p) = u.port {
        parts.push(format!("port {p}"));
    }
    if let Some(t) = &u.request_target {
        parts.push(format!("target {t}"));
    }
    if !parts.is_empty() {
        out.text("", &parts.join(theme.sep()), Style::new());
    }
    if let Some(e) = &u.error {
        out.pair("error  ", e, theme.bad());
    }
}

fn dns(out: &mut Out, d: &DnsDetail) {
    let theme = out.theme;
    let via = match d.source {
        DnsSourceKind::IpLiteral => format!("{} is an IP address: no DNS lookup", d.name),
        DnsSourceKind::HostsFile => format!(
            "{} via {} (getaddrinfo reads it first)",
            d.name,
            d.servers_from.as_deref().unwrap_or("/etc/hosts")
        ),
        DnsSourceKind::ResolveFlag => format!("{} pinned by --resolve", d.name),
        DnsSourceKind::Servers => {
            let servers = if d.servers.is_empty() {
                "none".to_string()
            } else {
                d.servers.join(", ")
            };
            let from = d
                .servers_from
                .as_deref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default();
            format!("{} via server {servers}{from}", d.name)
        }
    };
    out.text("", &via, Style::new());
    for q in &d.queries {
        let style = if q.status == QueryStatusReport::Answered {
            theme.ok()
        } else {
            theme.bad()
        };
        out.cut(
            &format!(
                "{:<5} {} in {}",
                q.query_type,
                q.status.name(),
                fmt::ms(q.elapsed_ms)
            ),
            style,
        );
        if let Some(e) = &q.error {
            out.text("      ", e, theme.dim());
        }
        for r in &q.records {
            out.cut(
                &format!(
                    "  {:<28} TTL {:>6}  {:<5} {}",
                    r.name, r.ttl, r.record_type, r.data
                ),
                Style::new(),
            );
        }
    }
    if !d.cname_chain.is_empty() {
        let mut chain = vec![d.name.clone()];
        chain.extend(d.cname_chain.iter().cloned());
        out.pair("CNAME chain  ", &chain.join(" → "), Style::new());
    }
    if !d.addresses.is_empty() {
        out.pair("addresses    ", &d.addresses.join(", "), Style::new());
    }
    if let Some(order) = &d.order {
        out.pair("order        ", order, Style::new());
    }
}

fn tcp(out: &mut Out, t: &TcpDetail) {
    let theme = out.theme;
    // The row that matters comes first on a short panel: no column header, and a heading
    // only when there is an order to tell.
    if t.attempts.len() > 1 {
        out.heading("addresses tried in order, as urllib3 does");
    }
    for a in &t.attempts {
        let style = if a.result == ConnectResult::Connected {
            theme.ok()
        } else {
            theme.bad()
        };
        out.cut(
            &format!(
                "  {:<40} {:>9}  {}",
                a.address,
                fmt::ms(a.elapsed_ms),
                a.result.name()
            ),
            style,
        );
        if let Some(e) = &a.error {
            out.text("      ", e, theme.dim());
        }
    }
    if let Some(peer) = &t.peer {
        let local = t.local.as_deref().unwrap_or("?");
        out.text(
            "",
            &format!("connected from {local} to {peer}"),
            Style::new(),
        );
    }
}

/// Which client's store trusts the chain, in one line, then why they disagree.
fn trust(out: &mut Out, t: &TlsDetail) {
    if t.trust.is_empty() {
        return;
    }
    let theme = out.theme;
    let line = crate::report::words::trust_line(&t.trust, theme.ascii);
    let style = if t.trust.iter().all(|r| r.verified) {
        theme.ok()
    } else if t.trust.iter().any(|r| r.verified) {
        theme.warn()
    } else {
        theme.bad()
    };
    out.pair("trust  ", &line, style);
    for c in &t.trust_causes {
        out.pair("cause  ", &c.sentence, theme.warn());
    }
    if let Some(f) = &t.intermediate_fetch {
        let what = match &f.error {
            Some(e) => format!("{}: {e}", f.url),
            None => format!(
                "{}: {}",
                f.url,
                crate::report::words::trust_line(&f.trust, theme.ascii)
            ),
        };
        out.pair("fetched intermediate  ", &what, Style::new());
    }
}

fn tls(out: &mut Out, t: &TlsDetail) {
    let theme = out.theme;
    let sep = theme.sep();
    let sni = t.sni.clone().unwrap_or_else(|| "none (IP address)".into());
    let alpn = t
        .alpn
        .as_deref()
        .map(|a| format!("{sep}ALPN {a}"))
        .unwrap_or_default();
    out.text(
        "",
        &format!(
            "SNI {sni}{sep}ALPN offered {}{alpn}",
            t.alpn_offered.join(",")
        ),
        Style::new(),
    );
    if let (Some(v), Some(c)) = (&t.version, &t.cipher) {
        let kx = t
            .key_exchange
            .as_deref()
            .map(|k| format!("{sep}key exchange {k}"))
            .unwrap_or_default();
        out.text("", &format!("{v}{sep}{c}{kx}"), Style::new());
    }
    if t.insecure {
        match &t.verification_error {
            Some(e) => out.pair(
                "--insecure  ",
                &format!("verification would FAIL: {e}"),
                theme.bad(),
            ),
            None if t.verified => out.pair("--insecure  ", "verification would pass", theme.warn()),
            None => out.pair("--insecure  ", "verification did not run", theme.warn()),
        }
    } else if let Some(kind) = &t.verification_error_kind {
        // rustls's own sentence is in the JSON; the kind and the chain below say it better.
        out.pair("verification  ", &format!("FAILED ({kind})"), theme.bad());
    } else if t.verified {
        out.pair("verification  ", "ok", theme.ok());
    }
    trust(out, t);
    if let Some(a) = &t.alert {
        out.pair("alert  ", a, theme.bad());
    }
    client_cert(out, t);
    if let Some(e) = &t.error
        && t.verification_error_kind.is_none()
    {
        out.pair("error  ", e, theme.bad());
    }
    if !t.chain.is_empty() {
        out.heading("certificate chain as presented:");
    }
    // Validity right under the subject: on a 24-line terminal it is what must show first.
    for (i, c) in t.chain.iter().enumerate() {
        out.text(&format!("[{i}] "), &c.subject, theme.bold());
        let style = if c.days_left < 0 {
            theme.bad()
        } else {
            Style::new()
        };
        out.pair(
            "    valid   ",
            &crate::report::words::cert_validity(c),
            style,
        );
        if !c.names.is_empty() {
            out.pair("    SANs    ", &c.names.join(", "), Style::new());
        }
        out.pair("    issuer  ", &c.issuer, Style::new());
    }
}

fn http(out: &mut Out, h: &HttpDetail) {
    let theme = out.theme;
    let r = &h.request;
    out.cut(
        &format!("> {} {} {}", r.method, r.target, r.version),
        theme.bold(),
    );
    for hd in &r.headers {
        out.cut(&format!("> {}: {}", hd.name, hd.value), Style::new());
    }
    if let Some(resp) = &h.response {
        let style = if resp.status >= 400 {
            theme.bad()
        } else {
            theme.ok()
        };
        out.cut(
            &format!("< {} {} {}", resp.version, resp.status, resp.reason),
            style,
        );
        for hd in &resp.headers {
            out.cut(&format!("< {}: {}", hd.name, hd.value), Style::new());
        }
    }
    let timing = crate::report::words::http_timing(h);
    if !timing.is_empty() {
        out.text("", &timing.join(theme.sep()), Style::new());
    }
    if let Some(b) = &h.body
        && let Some(first) = b.preview.lines().find(|l| !l.trim().is_empty())
    {
        out.pair("body  ", first.trim(), theme.dim());
    }
    if let Some(e) = &h.error {
        out.pair("error  ", e, theme.bad());
    }
}

/// The proxy: which one and why, then the CONNECT exchange or the SOCKS5 reply.
/// Mutual TLS: whether the server asked for a client certificate, what went, what it accepts.
fn client_cert(out: &mut Out, t: &TlsDetail) {
    if !t.client_cert_requested {
        return;
    }
    let theme = out.theme;
    match &t.client_cert_sent {
        Some(subject) => out.pair(
            "client cert  ",
            &format!("asked for; sent {subject}"),
            Style::new(),
        ),
        None => out.pair(
            "client cert  ",
            "asked for; none sent (--cert)",
            theme.warn(),
        ),
    }
    if !t.client_cert_issuers.is_empty() {
        out.pair("accepts  ", &t.client_cert_issuers.join("; "), theme.dim());
    }
}

fn proxy(out: &mut Out, stage: &StageReport, p: &crate::report::model::ProxyDetail) {
    let theme = out.theme;
    let style = theme.status_style(Status::from(stage.status));
    out.text("", &stage.summary, style);
    let source = p
        .source
        .as_deref()
        .map(|s| format!(" (from {s})"))
        .unwrap_or_default();
    out.pair(
        "proxy  ",
        &format!("{} {}{source}", p.proxy_scheme, p.proxy),
        Style::new(),
    );
    out.pair("why  ", &p.reason, theme.dim());
    // https:// proxy: the TLS to the proxy itself, before CONNECT.
    if let Some(t) = &p.tls {
        out.heading("TLS to the proxy:");
        tls(out, t);
    }
    if let Some(c) = &p.connect {
        for line in &c.request {
            out.cut(&format!("> {line}"), Style::new());
        }
        let answer = if (200..300).contains(&c.status) {
            theme.ok()
        } else {
            theme.bad()
        };
        out.cut(&format!("< {} {}", c.status, c.reason), answer);
        for h in &c.headers {
            out.cut(&format!("< {}: {}", h.name, h.value), Style::new());
        }
    }
    if let Some(sx) = &p.socks {
        out.text(
            "",
            &format!(
                "SOCKS5 auth {}, target {} sent as {}, reply {} ({})",
                sx.method, sx.target, sx.address_type, sx.reply, sx.reply_text
            ),
            Style::new(),
        );
        if !sx.resolved_locally.is_empty() {
            out.pair(
                "resolved here  ",
                &sx.resolved_locally.join(", "),
                theme.dim(),
            );
        }
    }
    if let Some(a) = &p.auth_scheme {
        out.pair("asks for  ", a, theme.warn());
    }
    if let Some(b) = &p.body_line {
        out.pair("proxy says  ", b, theme.bad());
    }
}

/// What belongs to the whole probe but reads best beside a stage: the redirect hops under
/// HTTP, the per-address table (--all-addresses) under TCP.
fn extras(out: &mut Out, name: Stage, report: &crate::report::Report) {
    let theme = out.theme;
    if name == Stage::Http && !report.redirects.is_empty() {
        out.heading("redirects followed (this detail is the last hop's)");
        for (i, h) in report.redirects.iter().enumerate() {
            let conn = if h.reused_connection {
                "same connection"
            } else {
                "new connection"
            };
            out.text(
                "",
                &format!(
                    "{}. {} {} → {} {} ({}, {conn})",
                    i + 1,
                    h.method,
                    h.url,
                    h.status,
                    h.location,
                    fmt::ms(h.elapsed_ms)
                ),
                Style::new(),
            );
        }
    }
    if name == Stage::Tcp && !report.addresses.is_empty() {
        out.heading("every address, probed on its own");
        let cell = |v: Option<f64>| v.map(fmt::ms).unwrap_or_else(|| "-".into());
        for a in &report.addresses {
            let (result, style) = match (&a.kind, a.status) {
                (Some(k), _) => (k.name().to_string(), theme.bad()),
                (None, Some(st)) => (st.to_string(), theme.ok()),
                (None, None) => ("ok".into(), theme.ok()),
            };
            out.cut(
                &format!(
                    "  {:<24} tcp {:>8}  tls {:>8}  http {:>8}  {result}",
                    a.address,
                    cell(a.tcp_ms),
                    cell(a.tls_ms),
                    cell(a.http_ms)
                ),
                style,
            );
        }
    }
}

/// Any other detail: the stage's summary, then its fields as the JSON report names them.
fn generic(out: &mut Out, stage: &StageReport, detail: &StageDetail) {
    let theme = out.theme;
    if !stage.summary.is_empty() {
        out.text(
            "",
            &stage.summary,
            theme.status_style(Status::from(stage.status)),
        );
    }
    if let Ok(value) = serde_json::to_value(detail) {
        fields(out, &value, "");
    }
}

fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `{"name": …, "value": …}` (a header, as the report writes them) as "Name: value".
fn header_line(v: &serde_json::Value) -> Option<String> {
    let map = v.as_object()?;
    if map.len() != 2 {
        return None;
    }
    Some(format!(
        "{}: {}",
        map.get("name")?.as_str()?,
        map.get("value")?.as_str()?
    ))
}

fn fields(out: &mut Out, value: &serde_json::Value, indent: &str) {
    let Some(map) = value.as_object() else {
        if let Some(s) = scalar(value) {
            out.text(indent, &s, Style::new());
        }
        return;
    };
    let deeper = format!("{indent}  ");
    for (k, v) in map {
        match v {
            serde_json::Value::Null => {}
            serde_json::Value::Array(items) if items.is_empty() => {}
            serde_json::Value::Array(items) => {
                out.cut(&format!("{indent}{k}:"), out.theme.dim());
                for item in items {
                    match (scalar(item), header_line(item)) {
                        (Some(s), _) | (None, Some(s)) => out.text(&deeper, &s, Style::new()),
                        (None, None) => fields(out, item, &deeper),
                    }
                }
            }
            serde_json::Value::Object(_) => {
                out.cut(&format!("{indent}{k}:"), out.theme.dim());
                fields(out, v, &deeper);
            }
            other => {
                let s = scalar(other).unwrap_or_default();
                out.pair(&format!("{indent}{k}: "), &s, Style::new());
            }
        }
    }
}

pub(crate) fn render(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    theme: &Theme,
    chrome: Chrome,
) -> u16 {
    let b = block(&title(app), app.focus == Focus::Detail, chrome, theme);
    let width = chrome.inner_width(area.width);
    scrolled(
        frame,
        area,
        b,
        lines(app, theme, width),
        app.scroll.detail,
        theme,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::line_texts as text;

    #[test]
    fn the_tls_detail_shows_the_trust_matrix_and_its_causes() {
        let row = |client: &str, store: &str, verified: bool| {
            serde_json::json!({
                "client": client, "store": store, "source": "system", "path": null,
                "verified": verified,
                "error_kind": if verified { None } else { Some("cert_unknown_issuer") },
            })
        };
        let detail: TlsDetail = serde_json::from_value(serde_json::json!({
            "alpn_offered": ["http/1.1"], "chain": [], "verified": false, "insecure": false,
            "client_cert_requested": false, "client_cert_issuers": [],
            "trust": [
                row("requests", "certifi 2024.8.30 (Python 3.11.7)", false),
                row("curl", "system store", true),
                row("mozilla", "Mozilla roots (webpki-roots, 120 roots)", false),
            ],
            "trust_causes": [{"cause": "private_ca", "sentence": "a private CA: 'CN=Corp'.", "fix": null}],
        }))
        .expect("a TLS detail");
        for (ascii, expected) in [
            (
                false,
                "trust  requests (certifi 2024.8.30) ✗ unknown issuer · curl (system store) ✓ · Mozilla roots ✗ unknown issuer",
            ),
            (
                true,
                "trust  requests (certifi 2024.8.30) FAIL unknown issuer * curl (system store) ok * Mozilla roots FAIL unknown issuer",
            ),
        ] {
            let theme = Theme {
                color: false,
                ascii,
            };
            let mut out = Out {
                lines: Vec::new(),
                width: 400,
                theme: &theme,
            };
            trust(&mut out, &detail);
            let shown = text(&out.lines);
            assert_eq!(
                shown.first().map(String::as_str),
                Some(expected),
                "{shown:?}"
            );
            assert!(
                shown.iter().any(|l| l.contains("a private CA")),
                "{shown:?}"
            );
        }
    }

    #[test]
    fn an_unknown_detail_is_shown_field_by_field() {
        // The shape of a detail the dashboard has no view for (a proxy's CONNECT exchange).
        let value = serde_json::json!({
            "proxy": "http://127.0.0.1:3128",
            "error": null,
            "connect": {
                "request": ["CONNECT example.test:443 HTTP/1.1"],
                "status": 407,
                "headers": [{"name": "Proxy-Authenticate", "value": "Basic"}],
            },
            "empty": [],
        });
        let theme = Theme {
            color: false,
            ascii: false,
        };
        let mut out = Out {
            lines: Vec::new(),
            width: 60,
            theme: &theme,
        };
        fields(&mut out, &value, "");
        assert_eq!(
            text(&out.lines),
            [
                "connect:",
                "  headers:",
                "    Proxy-Authenticate: Basic",
                "  request:",
                "    CONNECT example.test:443 HTTP/1.1",
                "  status: 407",
                "proxy: http://127.0.0.1:3128",
            ]
        );
    }
}
