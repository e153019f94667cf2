//! The plain report: a stage waterfall with times (httpstat-like), then each stage's detail,
//! then the verdict. Fits 80 columns; colour only when asked (a tty without NO_COLOR).

use super::model::{
    CertReport, ConnectReport, ConnectResult, DnsDetail, DnsQueryReport, DnsSourceKind, HttpDetail,
    ProxyDetail, Report, ResponseReport, ReuseGapReport, SocksReport, StageDetail, StageReport,
    StageStatus, TcpDetail, TlsDetail, Wire,
};
use super::words;
use crate::engine::settings::IpFamily;

const WIDTH: usize = 80;
const BAR: usize = 16;

#[derive(Clone, Copy)]
pub(crate) struct Style {
    pub(crate) color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub(crate) fn red(self, t: &str) -> String {
        self.paint("1;31", t)
    }
    pub(crate) fn green(self, t: &str) -> String {
        self.paint("32", t)
    }
    pub(crate) fn yellow(self, t: &str) -> String {
        self.paint("33", t)
    }
    pub(crate) fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
    pub(crate) fn dim(self, t: &str) -> String {
        self.paint("2", t)
    }
}

pub(super) fn render(r: &Report, style: Style) -> String {
    let mut out = String::new();
    if let Some(x) = &r.explained {
        super::explain::then_block(&mut out, x, style);
    }
    let first = format!("netpeel {}  {} ", r.netpeel_version, r.settings.method);
    out.push_str(&style.bold(&wrap_with(&first, &r.url, WIDTH)));
    out.push('\n');
    out.push_str(&settings_line(r));
    out.push('\n');
    if r.settings.insecure {
        out.push_str(&style.red("  --insecure: certificate verification is OFF for this probe"));
        out.push('\n');
    }
    out.push('\n');
    redirects(&mut out, r);
    waterfall(&mut out, r, style);
    let proxied = words::uses_proxy(r);
    for stage in &r.stages {
        stage_detail(&mut out, stage, proxied, style);
    }
    addresses(&mut out, r, style);
    verdict(&mut out, r, style);
    replay(&mut out, r, style);
    reuse(&mut out, r, style);
    if let Some(x) = &r.explained {
        super::explain::comparison_block(&mut out, x, style);
    }
    out
}

fn secs(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s}s")
    }
}

fn settings_line(r: &Report) -> String {
    let s = &r.settings;
    let mut parts = vec![
        format!("connect {}", secs(s.connect_timeout_s)),
        format!("read {}", secs(s.read_timeout_s)),
        format!("dns {}", secs(s.dns_timeout_s)),
    ];
    if let Some(m) = s.max_time_s {
        parts.push(format!("max-time {}", secs(m)));
    }
    if let Some(d) = &s.dns_server {
        parts.push(format!("dns server {d}"));
    }
    if s.ip_family != IpFamily::Any {
        parts.push(s.ip_family.name().to_string());
    }
    match &s.ca_path {
        Some(p) => parts.push(format!("CA {p} ({})", s.ca_source)),
        None => parts.push("CA built-in roots".into()),
    }
    wrap_with("timeouts: ", &parts.join(", "), WIDTH)
}

fn redirects(out: &mut String, r: &Report) {
    if r.redirects.is_empty() {
        return;
    }
    out.push_str("REDIRECTS (the stages below are the last hop's)\n");
    for (i, h) in r.redirects.iter().enumerate() {
        let conn = if h.reused_connection {
            "same connection"
        } else {
            "new connection"
        };
        para(
            out,
            &format!("  {}. ", i + 1),
            &format!(
                "{} {} → {} {} ({}, {conn})",
                h.method,
                h.url,
                h.status,
                h.location,
                fmt_ms(h.elapsed_ms)
            ),
        );
    }
    para(out, "  last: ", &r.final_url);
    out.push('\n');
}

fn addresses(out: &mut String, r: &Report, style: Style) {
    if r.addresses.is_empty() {
        return;
    }
    out.push('\n');
    out.push_str(&style.bold("EVERY ADDRESS"));
    out.push_str("  each probed on its own (--all-addresses)\n");
    out.push_str(&format!(
        "  {:<26} {:>9} {:>9} {:>9}  {}\n",
        "address", "tcp", "tls", "http", "result"
    ));
    let cell = |v: Option<f64>| v.map(fmt_ms).unwrap_or_else(|| "-".into());
    for a in &r.addresses {
        let result = match (&a.kind, a.status) {
            (Some(k), _) => style.red(k.name()),
            (None, Some(s)) => style.green(&s.to_string()),
            (None, None) => "ok".into(),
        };
        out.push_str(&format!(
            "  {:<26} {:>9} {:>9} {:>9}  {result}\n",
            truncate(&a.address, 26),
            cell(a.tcp_ms),
            cell(a.tls_ms),
            cell(a.http_ms)
        ));
    }
}

/// Long budgets read better in minutes or hours.
/// The replay's timeline: one row per attempt, the sleep after it, and how the run ended.
fn replay(out: &mut String, r: &Report, style: Style) {
    let Some(rp) = &r.replay else { return };
    out.push('\n');
    out.push_str(&style.bold(&format!("REPLAY  policy {}", rp.policy)));
    out.push('\n');
    para(out, "  ", &rp.formula);
    // The breakdown ends with the budget in one line, the words the dashboard and the
    // command line use too.
    // (Found by its label, not by line: a report escaped for the terminal shows its line
    // breaks as `\n`.)
    const LAST: &str = "worst total: ";
    let budget = rp.budget.rfind(LAST).map_or_else(
        || words::budget(rp.max_attempts, rp.worst_case_s),
        |at| rp.budget[at + LAST.len()..].to_string(),
    );
    para(out, "  budget: ", &budget);
    for a in &r.attempts {
        let what = match (&a.verdict.kind, a.status) {
            (Some(k), _) => style.red(k.name()),
            (None, Some(s)) => style.green(&s.to_string()),
            (None, None) => style.green("ok"),
        };
        let sleep = match (a.sleep_after_s, &a.sleep_reason) {
            (Some(s), Some(why)) => format!("  then sleep {} ({why})", fmt_ms(s * 1000.0)),
            _ => String::new(),
        };
        out.push_str(&truncate(
            &format!(
                "  #{:<3} {what:<24} {:>9}{sleep}",
                a.attempt,
                fmt_ms(a.elapsed_ms)
            ),
            WIDTH + if style.color { 11 } else { 0 },
        ));
        out.push('\n');
    }
    para(
        out,
        "  result: ",
        &format!(
            "after {} attempt(s), requests {}",
            r.attempts.len(),
            rp.result
        ),
    );
    for w in &rp.what_if {
        para(out, "  what if: ", w);
    }
}

/// Reuse mode: one row per gap (and per sweep try), then the summary.
fn reuse(out: &mut String, r: &Report, style: Style) {
    let Some(ru) = &r.reuse else { return };
    out.push('\n');
    out.push_str(
        &style.bold("REUSE  the connection kept idle, then reused as a requests.Session would"),
    );
    out.push('\n');
    let row = |out: &mut String, g: &ReuseGapReport| {
        let wire = match g.wire {
            Wire::Open | Wire::Fin | Wire::Rst => style.green(g.wire.name()),
            _ => style.red(g.wire.name()),
        };
        let pad = if style.color { 11 } else { 0 };
        para(
            out,
            &format!("  {:>8}  {wire:<w$}  ", secs(g.gap_s), w = 6 + pad),
            &g.summary,
        );
    };
    for g in &ru.gaps {
        row(out, g);
    }
    if let Some(sw) = &ru.sweep {
        out.push_str(&format!(
            "  idle sweep up to {}: {} round(s), {} tries\n",
            secs(sw.max_s),
            sw.rounds,
            sw.tries.len()
        ));
        for g in &sw.tries {
            row(out, g);
        }
    }
    para(out, "  result: ", &ru.summary);
}

/// A stage's name in the plain report: the dashboard's label in ASCII ("TCP -> proxy"), so
/// the columns are the same with `--ascii` and in a log.
fn label(stage: super::model::Stage, proxied: bool) -> String {
    super::ascii::spell(&words::stage_label(stage, proxied)).into_owned()
}

fn waterfall(out: &mut String, r: &Report, style: Style) {
    let longest = r
        .stages
        .iter()
        .filter_map(|s| s.elapsed_ms)
        .fold(0.0_f64, f64::max)
        .max(0.001);
    let proxied = words::uses_proxy(r);
    // "TCP -> proxy" is wider than "PROXY": the name column fits the widest label.
    let name_w = r
        .stages
        .iter()
        .map(|s| label(s.stage, proxied).chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    for s in &r.stages {
        let status = match s.status {
            StageStatus::Ok => style.green("ok     "),
            StageStatus::Failed => style.red("FAILED "),
            StageStatus::Skipped => style.yellow("skipped"),
            StageStatus::NotRun => style.dim("-      "),
        };
        let time = s.elapsed_ms.map(fmt_ms).unwrap_or_default();
        let bar = s
            .elapsed_ms
            .map(|ms| {
                let n = ((ms / longest) * BAR as f64).ceil() as usize;
                "#".repeat(n.clamp(1, BAR))
            })
            .unwrap_or_default();
        let line = format!(
            "  {:<name_w$} {status} {:>8}  {:<BAR$}  ",
            label(s.stage, proxied),
            time,
            bar
        );
        let room = WIDTH.saturating_sub(2 + name_w + 1 + 7 + 1 + 8 + 2 + BAR + 2);
        let full = format!("{line}{}", truncate(&words::row_summary(r, s), room));
        out.push_str(full.trim_end());
        out.push('\n');
    }
    out.push_str(&format!(
        "  {:<name_w$} {:7} {:>8}\n",
        "ALL",
        "",
        fmt_ms(r.total_ms)
    ));
}

fn fmt_ms(ms: f64) -> String {
    words::fmt_ms(ms)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Word-wrap `text` to `width` columns; the first line starts with `first` (kept verbatim,
/// spaces included), the others are indented to line up under the text.
pub(crate) fn wrap_with(first: &str, text: &str, width: usize) -> String {
    let indent = " ".repeat(first.chars().count());
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    // Words longer than a line (URLs, paths) are cut into pieces so nothing passes `width`.
    let room = width.saturating_sub(indent.chars().count()).max(10);
    let words = text.split_whitespace().flat_map(|w| {
        let chars: Vec<char> = w.chars().collect();
        chars
            .chunks(room)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
    });
    for word in words {
        let word = word.as_str();
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, indent.clone()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines.join("\n")
}

pub(crate) fn para(out: &mut String, first: &str, text: &str) {
    out.push_str(&wrap_with(first, text, WIDTH));
    out.push('\n');
}

fn stage_detail(out: &mut String, s: &StageReport, proxied: bool, style: Style) {
    let Some(detail) = &s.detail else { return };
    let label = label(s.stage, proxied);
    match detail {
        StageDetail::Url(_) => {}
        StageDetail::Dns(d) => dns_detail(out, d, &label, style),
        StageDetail::Tcp(t) => tcp_detail(out, t, &label, style),
        StageDetail::Proxy(p) => proxy_detail(out, p, style),
        StageDetail::Tls(t) => tls_detail(out, t, style),
        StageDetail::Http(h) => http_detail(out, h, style),
    }
}

/// The DNS section: where the answer came from, each query with its records, the addresses.
fn dns_detail(out: &mut String, d: &DnsDetail, label: &str, style: Style) {
    // An IP literal was never looked up: the waterfall line says all there is.
    if d.source == DnsSourceKind::IpLiteral {
        return;
    }
    out.push('\n');
    out.push_str(&style.bold(label));
    out.push_str(&wrap_with(
        "  ",
        &format!("{} via {}", d.name, dns_source(d)),
        WIDTH.saturating_sub(3),
    ));
    out.push('\n');
    for q in &d.queries {
        dns_query(out, q);
    }
    if !d.addresses.is_empty() {
        para(out, "  addresses: ", &d.addresses.join(", "));
    }
    if let Some(order) = &d.order {
        para(out, "  order: ", order);
    }
}

/// Where the name was resolved: the hosts file, `--resolve`, or the servers asked.
fn dns_source(d: &DnsDetail) -> String {
    match d.source {
        DnsSourceKind::HostsFile => format!(
            "{} (getaddrinfo reads it first)",
            d.servers_from.clone().unwrap_or_default()
        ),
        DnsSourceKind::ResolveFlag => "--resolve".to_string(),
        _ => format!(
            "server {} ({})",
            if d.servers.is_empty() {
                "none".into()
            } else {
                d.servers.join(", ")
            },
            d.servers_from.clone().unwrap_or_default()
        ),
    }
}

/// One DNS query: its type, status and time, then its records dig-style.
fn dns_query(out: &mut String, q: &DnsQueryReport) {
    let err = q
        .error
        .as_deref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    para(
        out,
        "  ",
        &format!(
            "{:<4} {} in {}{err}",
            q.query_type,
            q.status.name(),
            fmt_ms(q.elapsed_ms)
        ),
    );
    for rec in &q.records {
        out.push_str(&truncate(
            &format!(
                "       {} {} {} {}",
                rec.name, rec.ttl, rec.record_type, rec.data
            ),
            WIDTH,
        ));
        out.push('\n');
    }
}

/// The TCP section: every address tried, in order, with its result.
fn tcp_detail(out: &mut String, t: &TcpDetail, label: &str, style: Style) {
    out.push('\n');
    out.push_str(&style.bold(label));
    out.push_str("  addresses tried in order, as urllib3 does\n");
    for a in &t.attempts {
        let result = if a.result == ConnectResult::Connected {
            style.green(a.result.name())
        } else {
            style.red(a.result.name())
        };
        out.push_str(&format!(
            "  {:<40} {:>10}  {result}\n",
            a.address,
            fmt_ms(a.elapsed_ms)
        ));
        if let Some(e) = &a.error {
            para(out, "      ", e);
        }
    }
}

/// The proxy section: which proxy and why, the CONNECT exchange or the SOCKS5 handshake,
/// and what the proxy said when it refused.
fn proxy_detail(out: &mut String, p: &ProxyDetail, style: Style) {
    out.push('\n');
    out.push_str(&style.bold("PROXY"));
    out.push('\n');
    let source = p
        .source
        .as_deref()
        .map(|s| format!(" (from {s})"))
        .unwrap_or_default();
    para(
        out,
        "  ",
        &format!("{} {}{source}", p.proxy_scheme, p.proxy),
    );
    if let Some(t) = &p.tls {
        proxy_tls(out, t, style);
    }
    if let Some(c) = &p.connect {
        proxy_connect(out, c, style);
    }
    if let Some(sx) = &p.socks {
        proxy_socks(out, sx);
    }
    if let Some(a) = &p.auth_scheme {
        para(out, "  the proxy asks for: ", a);
    }
    if let Some(b) = &p.body_line {
        para(out, "  proxy says: ", b);
    }
}

/// TLS to an https:// proxy: what was agreed, what verification found, the proxy's chain.
fn proxy_tls(out: &mut String, t: &TlsDetail, style: Style) {
    let agreed = match (&t.version, &t.cipher) {
        (Some(v), Some(c)) => format!("{v}, {c}"),
        _ => t.error.clone().unwrap_or_else(|| "failed".into()),
    };
    para(out, "  TLS to the proxy: ", &agreed);
    // Unchecked under -k / --proxy-insecure, and for http:// URLs, as requests does.
    let check = match (&t.verification_error, &t.verification_error_kind) {
        (Some(e), _) if t.insecure => style.red(&format!("not checked; it would FAIL: {e}")),
        _ if t.insecure => "not checked; it would verify".to_string(),
        (_, Some(kind)) => style.red(&format!("FAILED ({kind})")),
        _ => "verified".to_string(),
    };
    para(out, "  proxy certificate: ", &check);
    tls_chain(out, &t.chain, style);
}

/// The HTTP CONNECT request as sent and the proxy's answer, curl -v style.
fn proxy_connect(out: &mut String, c: &ConnectReport, style: Style) {
    for line in &c.request {
        out.push_str(&truncate(&format!("  > {line}"), WIDTH));
        out.push('\n');
    }
    let status = format!("  < {} {}", c.status, c.reason);
    out.push_str(&if (200..300).contains(&c.status) {
        style.green(&status)
    } else {
        style.red(&status)
    });
    out.push('\n');
    for h in &c.headers {
        out.push_str(&truncate(&format!("  < {}: {}", h.name, h.value), WIDTH));
        out.push('\n');
    }
}

/// The SOCKS5 handshake in one line, and the addresses resolved on this side (socks5://).
fn proxy_socks(out: &mut String, sx: &SocksReport) {
    para(
        out,
        "  ",
        &format!(
            "SOCKS5 auth {}, target {} sent as {}, reply {} ({})",
            sx.method, sx.target, sx.address_type, sx.reply, sx.reply_text
        ),
    );
    if !sx.resolved_locally.is_empty() {
        para(
            out,
            "  resolved here (socks5://): ",
            &sx.resolved_locally.join(", "),
        );
    }
}

/// The TLS section: what was offered and agreed, the verification outcome, the chain.
fn tls_detail(out: &mut String, t: &TlsDetail, style: Style) {
    out.push('\n');
    out.push_str(&style.bold("TLS"));
    let sni = t.sni.clone().unwrap_or_else(|| "none (IP address)".into());
    out.push_str(&format!(
        "  SNI {sni}, ALPN offered {}\n",
        t.alpn_offered.join(",")
    ));
    if let (Some(v), Some(c)) = (&t.version, &t.cipher) {
        para(
            out,
            "  ",
            &format!(
                "{v}, {c}, key exchange {}, ALPN {}",
                t.key_exchange.clone().unwrap_or_else(|| "?".into()),
                t.alpn.clone().unwrap_or_else(|| "none".into())
            ),
        );
    }
    if let Some(a) = &t.alert {
        para(out, "  ", &format!("alert from server: {a}"));
    }
    if t.client_cert_requested {
        let sent = t.client_cert_sent.as_deref().unwrap_or("none sent");
        let mut line = format!("the server asked for a client certificate: {sent}");
        if !t.client_cert_issuers.is_empty() {
            line.push_str(&format!(
                " (it accepts: {})",
                t.client_cert_issuers.join("; ")
            ));
        }
        para(out, "  ", &line);
    }
    tls_verification(out, t, style);
    tls_trust(out, t, style);
    tls_chain(out, &t.chain, style);
}

/// The trust matrix: each client's store and whether it verifies the chain, then the causes.
fn tls_trust(out: &mut String, t: &TlsDetail, style: Style) {
    if t.trust.is_empty() {
        return;
    }
    para(out, "  trust: ", &words::trust_line(&t.trust, false));
    for r in &t.trust {
        let mark = if r.verified {
            "ok".to_string()
        } else {
            style.red("FAILED")
        };
        let label = format!("    {:<14}", words::trust_client_label(&r.client));
        let mut line = format!("{mark} {}", r.store);
        if !r.store.contains(r.source.as_str()) {
            line.push_str(&format!(" [{}]", r.source));
        }
        para(out, &label, &line);
        if let Some(p) = &r.path
            && !r.store.contains(p.as_str())
        {
            para(out, "                  ", p);
        }
    }
    for c in &t.trust_causes {
        para(out, "  cause: ", &c.sentence);
    }
    if let Some(f) = &t.intermediate_fetch {
        let what = match &f.error {
            Some(e) => format!("{}: {e}", f.url),
            None => format!(
                "{} ({}): {}",
                f.url,
                f.format.as_deref().unwrap_or("?"),
                words::trust_line(&f.trust, false)
            ),
        };
        para(out, "  fetched intermediate: ", &what);
    }
}

/// Whether the certificate verified; under --insecure, whether it would have.
fn tls_verification(out: &mut String, t: &TlsDetail, style: Style) {
    if t.insecure {
        let what = match &t.verification_error {
            Some(e) => style.red(&format!("verification would FAIL: {e}")),
            None if t.verified => "verification would pass".to_string(),
            None => "verification did not run".to_string(),
        };
        para(out, "  --insecure: ", &what);
    } else if let Some(kind) = &t.verification_error_kind {
        // rustls's own sentence is in the JSON; here the kind, the chain says the rest.
        para(
            out,
            "  verification: ",
            &style.red(&format!("FAILED ({kind})")),
        );
    }
}

/// The certificate chain in the order the server sent it; expired ones in red.
fn tls_chain(out: &mut String, chain: &[CertReport], style: Style) {
    if !chain.is_empty() {
        out.push_str("  certificate chain as presented:\n");
    }
    for (i, c) in chain.iter().enumerate() {
        para(out, &format!("  [{i}] "), &c.subject);
        para(out, "      issuer ", &c.issuer);
        if !c.names.is_empty() {
            para(out, "      names  ", &c.names.join(", "));
        }
        let validity = words::cert_validity(c);
        let validity = if c.days_left < 0 {
            style.red(&validity)
        } else {
            validity
        };
        para(out, "      valid  ", &validity);
    }
}

/// The HTTP section: request and response heads curl -v style, timings, the body's first line.
fn http_detail(out: &mut String, h: &HttpDetail, style: Style) {
    out.push('\n');
    out.push_str(&style.bold("HTTP"));
    out.push('\n');
    http_request(out, h);
    if let Some(resp) = &h.response {
        http_response(out, resp, style);
    }
    let timing = words::http_timing(h);
    if !timing.is_empty() {
        para(out, "  ", &timing.join(", "));
    }
    if let Some(b) = &h.body
        && !b.preview.trim().is_empty()
    {
        // One line is enough to tell an error page from the expected content.
        let first = b
            .preview
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        out.push_str(&truncate(&format!("  body: {}", first.trim()), WIDTH));
        out.push('\n');
    }
}

/// The request line and headers as sent.
fn http_request(out: &mut String, h: &HttpDetail) {
    out.push_str(&truncate(
        &format!(
            "  > {} {} {}",
            h.request.method, h.request.target, h.request.version
        ),
        WIDTH,
    ));
    out.push('\n');
    for hd in &h.request.headers {
        out.push_str(&truncate(&format!("  > {}: {}", hd.name, hd.value), WIDTH));
        out.push('\n');
    }
}

/// The status line (red from 400 up) and the response headers.
fn http_response(out: &mut String, resp: &ResponseReport, style: Style) {
    let status = format!("  < {} {} {}", resp.version, resp.status, resp.reason);
    out.push_str(&if resp.status >= 400 {
        style.red(&status)
    } else {
        style.green(&status)
    });
    out.push('\n');
    for hd in &resp.headers {
        out.push_str(&truncate(&format!("  < {}: {}", hd.name, hd.value), WIDTH));
        out.push('\n');
    }
}

fn verdict(out: &mut String, r: &Report, style: Style) {
    let v = &r.verdict;
    out.push('\n');
    let head = match (&v.layer, &v.kind) {
        (Some(l), Some(k)) => style.red(&format!(
            "VERDICT: {} failed ({k})",
            l.name().to_uppercase()
        )),
        _ => style.green("VERDICT: ok"),
    };
    out.push_str(&head);
    out.push('\n');
    para(out, "  ", &v.summary);
    if let Some(r) = words::requests_sentence(v) {
        para(out, "  ", &r);
    }
    if let Some(c) = words::curl_sentence(v) {
        para(out, "  ", &c);
    }
    if let Some(h) = &v.hint {
        para(out, "  hint: ", h);
    }
    for n in &v.notes {
        para(out, "  note: ", n);
    }
    out.push_str(&format!("  exit code {}\n", v.exit_code));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_lines_within_width() {
        let text = "a ".repeat(100);
        let wrapped = wrap_with("  hint: ", &text, 20);
        assert!(wrapped.starts_with("  hint: a a"));
        for line in wrapped.lines() {
            assert!(line.chars().count() <= 20, "{line}");
            assert!(line.starts_with("  "), "{line}");
        }
        assert_eq!(wrap_with("", "short", 80), "short");
        let long = "x".repeat(200);
        for line in wrap_with("  url: ", &long, 40).lines() {
            assert!(line.chars().count() <= 40, "{line}");
        }
    }
}
