//! From a probe's outcome (or a replay's attempts) to the report model. Secrets are redacted
//! here, while the model is built, so no renderer can print one. Engine types become report
//! types through `From` impls; each stage has its own small builder.

use std::time::Duration;

use super::model::*;
use crate::engine::certs::CertSummary;
use crate::engine::dns::{DnsAnswer, DnsRecord, DnsSource, QueryResult, QueryStatus};
use crate::engine::http::{HttpError, HttpExchange, RequestHead, ResponseHead};
use crate::engine::proxy::{ProxyError, ProxyExchange, ProxyInfo, socks_reply_text};
use crate::engine::proxy_select::{ProxyChoice, ProxyUrl};
use crate::engine::settings::{CaSource, ProbeSettings, ResolveOverride};
use crate::engine::tcp::{ConnectAttempt, TcpError, TcpSummary};
use crate::engine::tls::{TlsError, TlsInfo};
use crate::engine::verdict::{self, Kind, Verdict};
use crate::engine::{AddressProbe, ProbeOutcome, StageResult, redirect::RedirectHop};
use crate::redact;

/// Body bytes shown as text in the report (after secrets are masked).
pub(crate) const PREVIEW_BYTES: usize = 200;
/// Body bytes kept for the preview before masking: a secret the preview's end would cut in
/// two must still be found whole.
const PREVIEW_SLACK: usize = 4096;

/// Milliseconds, to the microsecond.
pub(super) fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

fn headers(list: &[(String, String)]) -> Vec<Header> {
    redact::headers(list)
        .into_iter()
        .map(|(name, value)| Header { name, value })
        .collect()
}

pub fn build(outcome: &ProbeOutcome) -> Report {
    super::mask::mask_secrets(build_unmasked(outcome), outcome)
}

fn build_unmasked(outcome: &ProbeOutcome) -> Report {
    let verdict = verdict::judge(outcome);
    let s = &outcome.settings;
    Report {
        netpeel_version: env!("CARGO_PKG_VERSION").into(),
        url: redact::url(&s.url),
        final_url: match &outcome.target {
            Ok(t) => redact::url(&t.display_url()),
            Err(e) => redact::url(&e.input),
        },
        redirects: outcome.redirects.iter().map(RedirectReport::from).collect(),
        addresses: outcome.addresses.iter().map(AddressReport::from).collect(),
        attempts: Vec::new(),
        replay: None,
        reuse: None,
        explained: None,
        settings: SettingsReport::from(s),
        stages: Stage::ALL
            .iter()
            .map(|stage| stage_report(*stage, outcome, &verdict))
            .collect(),
        verdict: VerdictReport::from(&verdict),
        total_ms: ms(outcome.total),
    }
}

impl From<&ProbeSettings> for SettingsReport {
    fn from(s: &ProbeSettings) -> Self {
        SettingsReport {
            method: s.method.clone(),
            headers: headers(&s.headers),
            connect_timeout_s: s.connect_timeout.as_secs_f64(),
            read_timeout_s: s.read_timeout.as_secs_f64(),
            dns_timeout_s: s.dns_timeout.as_secs_f64(),
            max_time_s: s.max_time.map(|d| d.as_secs_f64()),
            dns_server: s.dns_server.map(|a| a.to_string()),
            resolve: s.resolve.iter().map(ResolveOverride::curl_form).collect(),
            ip_family: s.family,
            ca_source: match &s.ca.source {
                CaSource::BuiltIn => "built-in Mozilla roots (webpki-roots)".into(),
                CaSource::Bundle { from, .. } => from.clone(),
            },
            ca_path: match &s.ca.source {
                CaSource::BuiltIn => None,
                CaSource::Bundle { path, .. } => Some(path.display().to_string()),
            },
            insecure: s.insecure,
            max_body_bytes: s.max_body_bytes,
            proxy: s.proxy.proxy.as_ref().map(|p| p.display.clone()),
            proxy_source: s.proxy.source.as_ref().map(ToString::to_string),
            proxy_reason: s.proxy.reason.clone(),
        }
    }
}

/// The report of a replay: the last attempt's report, every attempt, and the replay summary.
/// None only for a replay without attempts, which the runner never returns.
pub fn build_replay(run: &crate::replay::run::ReplayRun) -> Option<Report> {
    use crate::replay::policy::SleepReason;
    let last = run.attempts.last()?;
    let mut report = build(&last.outcome);
    report.attempts = run
        .attempts
        .iter()
        .map(|a| {
            let r = build(&a.outcome);
            AttemptReport {
                attempt: a.number,
                elapsed_ms: ms(a.record.elapsed),
                stages: r.stages,
                verdict: r.verdict,
                status: a.record.status,
                sleep_after_s: a.sleep_after.map(|(d, _)| d.as_secs_f64()),
                sleep_reason: a.sleep_after.map(|(_, why)| match why {
                    SleepReason::Backoff(n) => format!("backoff {n}"),
                    SleepReason::RetryAfter => "retry-after".to_string(),
                }),
            }
        })
        .collect();
    report.replay = Some(replay_report(run, &last.outcome.settings.url));
    whole_run_verdict(&mut report.verdict, run);
    Some(report)
}

/// The words that mark the note of [`whole_run_verdict`]: the dashboard leaves that note out
/// of the verdict panel while the replay's timeline shows the same result right under it.
pub(crate) const WHOLE_RUN_NOTE: &str = " the whole run raises ";

/// The top-level verdict of a replay says what the whole run raises in requests (the
/// per-attempt verdicts keep their single-request meaning): `RetryError` when status retries
/// run out, `ConnectionError` wrapping `MaxRetryError` when the connection retries do, the
/// error as it is when it was not retried.
fn whole_run_verdict(verdict: &mut VerdictReport, run: &crate::replay::run::ReplayRun) {
    use crate::replay::policy::StopOutcome;
    let (exception, cause) = match &run.stop {
        StopOutcome::MaxRetries { exception, .. } => {
            (*exception, Some("urllib3.exceptions.MaxRetryError"))
        }
        StopOutcome::Raise { exception, cause } => (*exception, cause.filter(|c| c != exception)),
        _ => return,
    };
    if verdict.requests_exception.as_deref() == Some(exception)
        && verdict.urllib3_cause.as_deref() == cause
    {
        return;
    }
    let attempts = run.attempts.len();
    let wrapping = cause.map(|c| format!(" (from {c})")).unwrap_or_default();
    verdict.notes.insert(
        0,
        format!(
            "After {attempts} attempt{}{WHOLE_RUN_NOTE}{exception}{wrapping}; the last attempt alone would raise {}.",
            if attempts == 1 { "" } else { "s" },
            verdict.requests_exception.as_deref().unwrap_or("nothing"),
        ),
    );
    verdict.requests_exception = Some(exception.to_string());
    verdict.urllib3_cause = cause.map(str::to_string);
}

fn replay_report(run: &crate::replay::run::ReplayRun, url: &str) -> ReplayReport {
    let s = &run.settings;
    use crate::replay::budget::{UrlStages, worst_case_for};
    let budget = run.attempts.first().map_or_else(
        || worst_case_for(s, UrlStages::of(url)),
        |a| worst_case_for(s, UrlStages::of_probe(&a.outcome.settings)),
    );
    let history: Vec<_> = run
        .attempts
        .iter()
        .map(|a| crate::replay::whatif::times(&a.outcome))
        .collect();
    ReplayReport {
        policy: s.policy.name().into(),
        formula: s.policy.formula().into(),
        retries: s.total,
        connect_retries: s.connect,
        read_retries: s.read,
        status_retries: s.status,
        backoff_factor: s.backoff_factor,
        backoff_max: s.backoff_max,
        backoff_jitter: s.backoff_jitter,
        status_forcelist: s.status_forcelist.clone(),
        allowed_methods: s.allowed_methods.clone(),
        respect_retry_after: s.respect_retry_after,
        max_attempts: (!budget.unbounded).then_some(budget.max_attempts),
        worst_case_s: (!budget.unbounded).then_some(budget.worst_total.as_secs_f64()),
        budget: budget.breakdown,
        result: redact::url(&run.stop.message(url)),
        requests_exception: run.stop.exception().map(str::to_string),
        total_ms: ms(run.total),
        what_if: crate::replay::whatif::what_if(&history)
            .iter()
            .map(|w| w.sentence())
            .collect(),
    }
}

impl From<&AddressProbe> for AddressReport {
    fn from(a: &AddressProbe) -> Self {
        AddressReport {
            address: a.address.to_string(),
            tcp_ms: a.tcp.map(ms),
            tls_ms: a.tls.map(ms),
            http_ms: a.http.map(ms),
            status: a.status,
            kind: a.kind,
            summary: redact::url(&a.summary),
        }
    }
}

impl From<&RedirectHop> for RedirectReport {
    fn from(h: &RedirectHop) -> Self {
        RedirectReport {
            url: h.url.clone(),
            method: h.method.clone(),
            status: h.status,
            location: h.location.clone(),
            next_url: h.next_url.clone(),
            elapsed_ms: ms(h.elapsed),
            reused_connection: h.reused_connection,
            downgrade: h.downgrade,
            auth_dropped: h.auth_dropped,
            stages: h
                .stages
                .iter()
                .map(|st| HopStageReport {
                    stage: st.stage,
                    status: st.status,
                    elapsed_ms: st.elapsed.map(ms),
                })
                .collect(),
        }
    }
}

impl From<&Verdict> for VerdictReport {
    fn from(v: &Verdict) -> Self {
        VerdictReport {
            ok: v.kind.is_none(),
            layer: v.layer,
            kind: v.kind,
            summary: v.summary.clone(),
            hint: v.hint.clone(),
            requests_exception: v.requests_exception.clone(),
            urllib3_cause: v.urllib3_cause.clone(),
            governing_timeout: v.governing_timeout,
            curl_exit: v.curl_exit,
            exit_code: v.exit_code,
            notes: v.notes.clone(),
        }
    }
}

fn stage_report(stage: Stage, o: &ProbeOutcome, v: &Verdict) -> StageReport {
    let c = &o.connection;
    match stage {
        Stage::Url => url_report(o),
        Stage::Dns => row(stage, &c.dns, dns_ok, dns_failed),
        Stage::Tcp => row(stage, &c.tcp, tcp_ok, tcp_failed),
        Stage::Proxy => row(
            stage,
            &c.proxy,
            |p| proxy_ok(p, &o.settings.proxy),
            |e| proxy_failed(e, &o.settings),
        ),
        Stage::Tls => row(stage, &c.tls, |t| tls_ok(t, o), |e| tls_failed(e, o, v)),
        Stage::Http => http_report(o, v),
    }
}

/// The row of a stage: its status and time, and the summary and detail that `ok` (also used
/// for a skipped stage that kept its detail) or `failed` make of it.
fn row<T, E>(
    stage: Stage,
    result: &StageResult<T, E>,
    ok: impl Fn(&T) -> (String, StageDetail),
    failed: impl Fn(&E) -> (String, StageDetail),
) -> StageReport {
    let (summary, detail) = match result {
        StageResult::NotRun => (String::new(), None),
        StageResult::Skipped { reason, detail } => {
            (reason.clone(), detail.as_ref().map(|d| ok(d).1))
        }
        StageResult::Ok { detail, .. } => {
            let (summary, detail) = ok(detail);
            (summary, Some(detail))
        }
        StageResult::Failed { error, .. } => {
            let (summary, detail) = failed(error);
            (summary, Some(detail))
        }
    };
    StageReport {
        stage,
        status: result.status(),
        elapsed_ms: result.elapsed().map(ms),
        summary,
        detail,
    }
}

fn url_report(o: &ProbeOutcome) -> StageReport {
    let (status, summary, detail) = match &o.target {
        Ok(t) => (
            StageStatus::Ok,
            format!("{} {}:{}", t.url.scheme(), t.host, t.port),
            UrlDetail {
                scheme: Some(t.url.scheme().to_string()),
                host: Some(t.host.to_string()),
                port: Some(t.port),
                request_target: Some(redact::request_target(&t.request_target)),
                error: None,
            },
        ),
        Err(e) => (
            StageStatus::Failed,
            e.message.clone(),
            UrlDetail {
                scheme: None,
                host: None,
                port: None,
                request_target: None,
                error: Some(redact::url(&e.message)),
            },
        ),
    };
    StageReport {
        stage: Stage::Url,
        status,
        elapsed_ms: Some(ms(o.url_elapsed)),
        summary,
        detail: Some(StageDetail::Url(detail)),
    }
}

fn dns_ok(a: &DnsAnswer) -> (String, StageDetail) {
    let addrs: Vec<String> = a.addresses.iter().map(|x| x.to_string()).collect();
    let mut summary = addrs.join(", ");
    if let Some(last) = a.cname_chain.last() {
        summary.push_str(&format!(" (CNAME → {last})"));
    }
    if let DnsSource::HostsFile(p) = &a.source {
        summary.push_str(&format!(" from {}", p.display()));
    }
    (summary, StageDetail::Dns(DnsDetail::from(a)))
}

fn dns_failed(e: &crate::engine::dns::DnsError) -> (String, StageDetail) {
    let as_answer = DnsAnswer {
        name: e.name.clone(),
        source: e.source.clone(),
        queries: e.queries.clone(),
        addresses: Vec::new(),
        cname_chain: Vec::new(),
        order_note: None,
    };
    (
        e.message.clone(),
        StageDetail::Dns(DnsDetail::from(&as_answer)),
    )
}

impl From<&DnsAnswer> for DnsDetail {
    fn from(a: &DnsAnswer) -> Self {
        let (source, servers, servers_from) = match &a.source {
            DnsSource::IpLiteral => (DnsSourceKind::IpLiteral, Vec::new(), None),
            DnsSource::ResolveFlag { .. } => (DnsSourceKind::ResolveFlag, Vec::new(), None),
            DnsSource::HostsFile(p) => (
                DnsSourceKind::HostsFile,
                Vec::new(),
                Some(p.display().to_string()),
            ),
            DnsSource::Servers { servers, from } => (
                DnsSourceKind::Servers,
                servers.iter().map(|s| s.to_string()).collect(),
                Some(from.clone()),
            ),
        };
        DnsDetail {
            name: a.name.clone(),
            source,
            servers,
            servers_from,
            queries: a.queries.iter().map(DnsQueryReport::from).collect(),
            addresses: a.addresses.iter().map(|x| x.to_string()).collect(),
            cname_chain: a.cname_chain.clone(),
            order: a.order_note.clone(),
        }
    }
}

impl From<&QueryResult> for DnsQueryReport {
    fn from(q: &QueryResult) -> Self {
        let error = match &q.status {
            QueryStatus::Unreachable(m) | QueryStatus::Error(m) => Some(m.clone()),
            _ => None,
        };
        DnsQueryReport {
            query_type: format!("{:?}", q.query_type),
            status: QueryStatusReport::from(&q.status),
            elapsed_ms: ms(q.elapsed),
            records: q.records.iter().map(DnsRecordReport::from).collect(),
            error,
        }
    }
}

impl From<&QueryStatus> for QueryStatusReport {
    fn from(s: &QueryStatus) -> Self {
        match s {
            QueryStatus::Answered => QueryStatusReport::Answered,
            QueryStatus::NoData => QueryStatusReport::Nodata,
            QueryStatus::NxDomain => QueryStatusReport::Nxdomain,
            QueryStatus::ServFail => QueryStatusReport::Servfail,
            QueryStatus::Refused => QueryStatusReport::Refused,
            QueryStatus::OtherRcode(c) => QueryStatusReport::Rcode(c.to_ascii_lowercase()),
            QueryStatus::Timeout => QueryStatusReport::Timeout,
            QueryStatus::Unreachable(_) => QueryStatusReport::Unreachable,
            QueryStatus::Error(_) => QueryStatusReport::Error,
        }
    }
}

impl From<&DnsRecord> for DnsRecordReport {
    fn from(r: &DnsRecord) -> Self {
        DnsRecordReport {
            name: r.name.clone(),
            ttl: r.ttl,
            record_type: r.record_type.clone(),
            data: r.data.clone(),
        }
    }
}

fn tcp_ok(d: &TcpSummary) -> (String, StageDetail) {
    (
        format!("connected to {}", d.peer),
        StageDetail::Tcp(TcpDetail::from(d)),
    )
}

fn tcp_failed(e: &TcpError) -> (String, StageDetail) {
    let detail = TcpDetail {
        attempts: e.attempts.iter().map(ConnectAttemptReport::from).collect(),
        peer: None,
        local: None,
    };
    (
        format!("{}: {}", e.addr, e.failure.describe()),
        StageDetail::Tcp(detail),
    )
}

impl From<&TcpSummary> for TcpDetail {
    fn from(d: &TcpSummary) -> Self {
        TcpDetail {
            attempts: d.attempts.iter().map(ConnectAttemptReport::from).collect(),
            peer: Some(d.peer.to_string()),
            local: d.local.map(|l| l.to_string()),
        }
    }
}

impl From<&ConnectAttempt> for ConnectAttemptReport {
    fn from(a: &ConnectAttempt) -> Self {
        ConnectAttemptReport {
            address: a.addr.to_string(),
            result: match a.failure {
                None => ConnectResult::Connected,
                Some(f) => ConnectResult::Failed(verdict::tcp_kind(f)),
            },
            elapsed_ms: ms(a.elapsed),
            error: a.failure.map(|_| a.detail.clone()),
            os_errno: a.os_error,
        }
    }
}

fn proxy_ok(p: &ProxyInfo, decision: &ProxyChoice) -> (String, StageDetail) {
    let summary = match &p.exchange {
        ProxyExchange::Connect { status, reason, .. } => {
            format!("CONNECT answered {status} {reason}")
        }
        ProxyExchange::Forward => "requests go to the proxy in absolute form".into(),
        ProxyExchange::Socks { target, .. } => format!("SOCKS5 tunnel to {target}"),
    };
    let mut detail = proxy_detail(&p.endpoint, decision, Some(&p.exchange), None);
    detail.tls = p.tls.as_ref().map(|t| {
        let host = p
            .endpoint
            .host
            .trim_start_matches('[')
            .trim_end_matches(']');
        Box::new(tls_info_detail(t, Some(host.to_string())))
    });
    (summary, StageDetail::Proxy(detail))
}

fn proxy_failed(e: &ProxyError, settings: &ProbeSettings) -> (String, StageDetail) {
    let mut detail = proxy_detail(&e.endpoint, &settings.proxy, e.exchange.as_ref(), Some(e));
    let insecure = settings.insecure || settings.proxy_insecure;
    let host = e
        .endpoint
        .host
        .trim_start_matches('[')
        .trim_end_matches(']');
    detail.tls = match (&e.tls, &e.tls_done) {
        (Some(failed), _) => Some(Box::new(tls_error_detail(failed, insecure))),
        (None, Some(done)) => Some(Box::new(tls_info_detail(done, Some(host.to_string())))),
        (None, None) => None,
    };
    (e.message.clone(), StageDetail::Proxy(detail))
}

fn proxy_detail(
    endpoint: &ProxyUrl,
    decision: &ProxyChoice,
    exchange: Option<&ProxyExchange>,
    error: Option<&ProxyError>,
) -> ProxyDetail {
    let (kind, connect, socks) = match exchange {
        Some(ProxyExchange::Connect {
            request,
            status,
            reason,
            headers: h,
        }) => {
            let request = request
                .iter()
                .map(|line| match line.split_once(": ") {
                    Some((k, v)) => format!("{k}: {}", redact::header_value(k, v)),
                    None => line.clone(),
                })
                .collect();
            let connect = ConnectReport {
                request,
                status: *status,
                reason: reason.clone(),
                headers: headers(h),
            };
            (ProxyExchangeKind::Connect, Some(connect), None)
        }
        Some(ProxyExchange::Forward) => (ProxyExchangeKind::Forward, None, None),
        Some(socks @ ProxyExchange::Socks { .. }) => (
            ProxyExchangeKind::Socks5,
            None,
            SocksReport::from_exchange(socks),
        ),
        None if endpoint.scheme.is_socks() => (ProxyExchangeKind::Socks5, None, None),
        None => (ProxyExchangeKind::Connect, None, None),
    };
    ProxyDetail {
        proxy: endpoint.display.clone(),
        proxy_scheme: endpoint.scheme.as_str().into(),
        source: decision.source.as_ref().map(ToString::to_string),
        reason: decision.reason.clone(),
        exchange: kind,
        connect,
        socks,
        auth_scheme: error.and_then(|e| e.auth_scheme.clone()),
        body_line: error.and_then(|e| e.body_line.clone()),
        error: error.map(|e| e.message.clone()),
        tls: None,
    }
}

impl SocksReport {
    /// The SOCKS5 exchange's report; None for an exchange of another kind.
    fn from_exchange(exchange: &ProxyExchange) -> Option<Self> {
        let ProxyExchange::Socks {
            method,
            address_type,
            target,
            reply,
            resolved_locally,
        } = exchange
        else {
            return None;
        };
        Some(SocksReport {
            method: method.clone(),
            address_type: address_type.clone(),
            target: target.clone(),
            reply: *reply,
            reply_text: socks_reply_text(*reply).into(),
            resolved_locally: resolved_locally.iter().map(|a| a.to_string()).collect(),
        })
    }
}

fn tls_ok(t: &TlsInfo, o: &ProbeOutcome) -> (String, StageDetail) {
    let mut summary = format!("{} {}", t.version, t.cipher);
    if t.insecure {
        summary.push_str(if t.verification.ok {
            " (insecure)"
        } else {
            " (INSECURE: verification failed)"
        });
    }
    let server_name = o.target.as_ref().ok().map(|t| t.host.to_string());
    let detail = tls_info_detail(t, server_name);
    (summary, StageDetail::Tls(detail))
}

fn tls_failed(e: &TlsError, o: &ProbeOutcome, v: &Verdict) -> (String, StageDetail) {
    let summary = v
        .kind
        .map(|k| k.info().meaning.to_string())
        .unwrap_or_else(|| e.message.clone());
    let detail = tls_error_detail(e, o.settings.insecure);
    (summary, StageDetail::Tls(detail))
}

/// A finished handshake (with the target, or with an https:// proxy) as the report shows it.
fn tls_info_detail(t: &TlsInfo, server_name: Option<String>) -> TlsDetail {
    TlsDetail {
        server_name,
        sni: t.sni.clone(),
        alpn_offered: t.alpn_offered.clone(),
        alpn: t.alpn.clone(),
        version: Some(t.version.clone()),
        cipher: Some(t.cipher.clone()),
        key_exchange: t.key_exchange.clone(),
        chain: t.chain.iter().map(CertReport::from).collect(),
        verified: t.verification.ok,
        verification_error_kind: t.verification.failure.map(verdict::tls_kind),
        verification_error: t.verification.message.clone(),
        insecure: t.insecure,
        alert: None,
        error: None,
        client_cert_requested: t.client_auth.requested,
        client_cert_sent: t.client_auth.sent.clone(),
        client_cert_issuers: t.client_auth.acceptable_issuers.clone(),
        trust: super::trust::rows(&t.trust.checks),
        trust_causes: super::trust::causes(&t.trust),
        intermediate_fetch: super::trust::fetch(&t.trust),
    }
}

/// A failed handshake (with the target, or with an https:// proxy) as the report shows it.
fn tls_error_detail(e: &TlsError, insecure: bool) -> TlsDetail {
    let certificate = e.failure.is_certificate();
    TlsDetail {
        server_name: Some(e.server_name.clone()),
        sni: e.sni.clone(),
        alpn_offered: e.alpn_offered.clone(),
        alpn: None,
        version: None,
        cipher: None,
        key_exchange: None,
        chain: e.chain.iter().map(CertReport::from).collect(),
        verified: false,
        verification_error_kind: certificate.then(|| verdict::tls_kind(e.failure)),
        verification_error: certificate.then(|| e.message.clone()),
        insecure,
        alert: e.alert.clone(),
        error: Some(e.message.clone()),
        client_cert_requested: e.client_auth.requested,
        client_cert_sent: e.client_auth.sent.clone(),
        client_cert_issuers: e.client_auth.acceptable_issuers.clone(),
        trust: super::trust::rows(&e.trust.checks),
        trust_causes: super::trust::causes(&e.trust),
        intermediate_fetch: super::trust::fetch(&e.trust),
    }
}

impl From<&CertSummary> for CertReport {
    fn from(c: &CertSummary) -> Self {
        CertReport {
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            names: c.names.clone(),
            not_before: c.not_before.clone(),
            not_after: c.not_after.clone(),
            days_left: c.days_left,
            serial: c.serial.clone(),
            is_ca: c.is_ca,
            self_signed: c.self_signed,
        }
    }
}

fn http_report(o: &ProbeOutcome, v: &Verdict) -> StageReport {
    let mut report = row(Stage::Http, &o.http, http_ok, http_failed);
    if matches!(o.http, StageResult::Skipped { .. }) {
        // A skipped HTTP stage has nothing to show (no request went out).
        report.summary = String::new();
        report.detail = None;
    }
    // A 4xx/5xx is the HTTP layer failing in requests' eyes (raise_for_status), and so is the
    // last of too many redirects.
    if let Some(x) = o.http.detail()
        && (crate::engine::http::is_error_status(x.response.status)
            || v.kind == Some(Kind::TooManyRedirects))
    {
        report.status = StageStatus::Failed;
    }
    report
}

fn http_ok(x: &HttpExchange) -> (String, StageDetail) {
    let summary = format!(
        "{} {}, {} body bytes",
        x.response.status, x.response.reason, x.body.bytes
    );
    let detail = HttpDetail {
        request: RequestReport::from(&x.request),
        response: Some(ResponseReport::from(&x.response)),
        time_to_first_byte_ms: Some(ms(x.time_to_first_byte)),
        body: Some(BodyReport {
            bytes: x.body.bytes,
            content_length: content_length(&x.response.headers),
            transfer_ms: Some(ms(x.body.transfer)),
            preview: preview(x.body.decoded.as_ref().map_or(&x.body.kept, |d| &d.kept)),
            decoded: x.body.decoded.as_ref().map(|d| DecodedReport {
                content_encoding: d.encoding.clone(),
                bytes: d.bytes,
                error: d.error.clone(),
                capped: d.capped,
            }),
        }),
        error: None,
    };
    (summary, StageDetail::Http(detail))
}

fn http_failed(e: &HttpError) -> (String, StageDetail) {
    let detail = HttpDetail {
        request: RequestReport::from(&e.request),
        response: e.response.as_ref().map(ResponseReport::from),
        time_to_first_byte_ms: None,
        body: e.response.as_ref().map(|_| BodyReport {
            bytes: e.body_bytes,
            content_length: e.content_length,
            transfer_ms: None,
            preview: String::new(),
            decoded: None,
        }),
        error: Some(e.message.clone()),
    };
    (e.message.clone(), StageDetail::Http(detail))
}

fn content_length(h: &[(String, String)]) -> Option<u64> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
}

fn preview(body: &[u8]) -> String {
    let cut = &body[..body.len().min(PREVIEW_BYTES + PREVIEW_SLACK)];
    String::from_utf8_lossy(cut).into_owned()
}

impl From<&RequestHead> for RequestReport {
    fn from(r: &RequestHead) -> Self {
        RequestReport {
            method: r.method.clone(),
            target: r.target.clone(),
            version: r.version.clone(),
            headers: headers(&r.headers),
        }
    }
}

impl From<&ResponseHead> for ResponseReport {
    fn from(r: &ResponseHead) -> Self {
        ResponseReport {
            version: r.version.clone(),
            status: r.status,
            reason: r.reason.clone(),
            headers: headers(&r.headers),
        }
    }
}
