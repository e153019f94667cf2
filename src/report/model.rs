//! The report's data model: what `--json` prints and what the text report reads. Its shape is
//! documented in README.md and checked against `assets/report.schema.json`.

use serde::{Deserialize, Serialize};

use crate::engine::certs::CertSummary;
use crate::engine::dns::{DnsAnswer, DnsSource, QueryStatus};
use crate::engine::settings::{CaSource, IpFamily};
use crate::engine::verdict::{self, Verdict};
use crate::engine::{ProbeOutcome, Stage, StageResult};
use crate::redact;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub netpeel_version: String,
    pub url: String,
    /// The URL of the last hop (the same as `url` without redirects).
    pub final_url: String,
    /// Redirects followed before the last hop, in order.
    pub redirects: Vec<RedirectReport>,
    /// `--all-addresses`: one row per resolved address, each probed on its own.
    pub addresses: Vec<AddressReport>,
    /// A replay (retry settings given): every attempt, oldest first; the stages and verdict
    /// above are the last attempt's. Empty without a replay.
    pub attempts: Vec<AttemptReport>,
    /// The replay's policy, budget and result; null without a replay.
    pub replay: Option<ReplayReport>,
    pub settings: SettingsReport,
    pub stages: Vec<StageReport>,
    pub verdict: VerdictReport,
    pub total_ms: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SettingsReport {
    pub method: String,
    pub headers: Vec<Header>,
    pub connect_timeout_s: f64,
    pub read_timeout_s: f64,
    pub dns_timeout_s: f64,
    pub max_time_s: Option<f64>,
    pub dns_server: Option<String>,
    pub resolve: Vec<String>,
    pub ip_family: String,
    pub ca_source: String,
    pub ca_path: Option<String>,
    pub insecure: bool,
    pub max_body_bytes: usize,
    /// The proxy in use (password masked), or null.
    pub proxy: Option<String>,
    /// The flag or variable that chose it.
    pub proxy_source: Option<String>,
    /// Why this proxy, or why none.
    pub proxy_reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RedirectReport {
    pub url: String,
    pub method: String,
    pub status: u16,
    pub location: String,
    pub next_url: String,
    pub elapsed_ms: f64,
    /// The hop went over the connection of an earlier hop (same origin).
    pub reused_connection: bool,
    pub downgrade: bool,
    pub auth_dropped: bool,
    pub stages: Vec<HopStageReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AttemptReport {
    pub attempt: usize,
    pub elapsed_ms: f64,
    pub stages: Vec<StageReport>,
    pub verdict: VerdictReport,
    /// The response status, when one arrived.
    pub status: Option<u16>,
    /// The sleep before the next attempt (null for the last).
    pub sleep_after_s: Option<f64>,
    /// "backoff N" or "retry-after" (null for the last).
    pub sleep_reason: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReplayReport {
    /// urllib3 | loop | curl | fixed | full-jitter
    pub policy: String,
    pub formula: String,
    /// The retry settings, as flags would spell them.
    pub retries: Option<u32>,
    pub connect_retries: Option<u32>,
    pub read_retries: Option<u32>,
    pub status_retries: Option<u32>,
    pub backoff_factor: f64,
    pub backoff_max: f64,
    pub backoff_jitter: f64,
    pub status_forcelist: Vec<u16>,
    pub allowed_methods: Vec<String>,
    pub respect_retry_after: bool,
    /// The worst case before running: most attempts (null: unbounded) and longest total time.
    pub max_attempts: Option<u32>,
    pub worst_case_s: Option<f64>,
    pub budget: String,
    /// How the run ended, in requests' words.
    pub result: String,
    /// What requests raises at the end (null: it returns the response).
    pub requests_exception: Option<String>,
    pub total_ms: f64,
    /// From the attempts' stage times: connect/read timeouts that would have failed some of them.
    pub what_if: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AddressReport {
    pub address: String,
    pub tcp_ms: Option<f64>,
    pub tls_ms: Option<f64>,
    pub http_ms: Option<f64>,
    pub status: Option<u16>,
    /// The failure kind for this address, null when it worked.
    pub kind: Option<String>,
    pub summary: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HopStageReport {
    pub stage: String,
    pub status: StageStatus,
    pub elapsed_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    Ok,
    Failed,
    Skipped,
    /// An earlier stage failed, so this one never ran.
    NotRun,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StageReport {
    pub stage: String,
    pub status: StageStatus,
    pub elapsed_ms: Option<f64>,
    /// One line for the waterfall.
    pub summary: String,
    pub detail: Option<StageDetail>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
/// Untagged: the `stage` field beside it says which one; `deny_unknown_fields` on each detail
/// keeps a read-back report from matching the wrong variant.
#[serde(untagged)]
pub enum StageDetail {
    Url(UrlDetail),
    Dns(DnsDetail),
    Tcp(TcpDetail),
    Proxy(ProxyDetail),
    Tls(TlsDetail),
    Http(HttpDetail),
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UrlDetail {
    pub scheme: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub request_target: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DnsDetail {
    pub name: String,
    /// ip_literal | resolve_flag | hosts_file | servers
    pub source: String,
    pub servers: Vec<String>,
    pub servers_from: Option<String>,
    pub queries: Vec<DnsQueryReport>,
    pub addresses: Vec<String>,
    pub cname_chain: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DnsQueryReport {
    #[serde(rename = "type")]
    pub query_type: String,
    /// answered | nodata | nxdomain | servfail | refused | timeout | unreachable | error | rcode name
    pub status: String,
    pub elapsed_ms: f64,
    pub records: Vec<DnsRecordReport>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DnsRecordReport {
    pub name: String,
    pub ttl: u32,
    #[serde(rename = "type")]
    pub record_type: String,
    pub data: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TcpDetail {
    pub attempts: Vec<ConnectAttemptReport>,
    pub peer: Option<String>,
    pub local: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ConnectAttemptReport {
    pub address: String,
    /// "connected" or a TCP kind (connection_refused, connect_timeout, …)
    pub result: String,
    pub elapsed_ms: f64,
    pub error: Option<String>,
    pub os_errno: Option<i32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProxyDetail {
    /// The proxy URL, password masked.
    pub proxy: String,
    /// http | https | socks5 | socks5h
    pub proxy_scheme: String,
    /// Which flag or variable chose it ("--proxy", "https_proxy", …).
    pub source: Option<String>,
    pub reason: String,
    /// connect | forward | socks5
    pub exchange: String,
    pub connect: Option<ConnectReport>,
    pub socks: Option<SocksReport>,
    /// The scheme in Proxy-Authenticate (407).
    pub auth_scheme: Option<String>,
    /// First line of the proxy's error body.
    pub body_line: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConnectReport {
    /// The CONNECT request lines as sent (credentials masked).
    pub request: Vec<String>,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<Header>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SocksReport {
    /// none | username/password
    pub method: String,
    /// domain | ipv4 | ipv6: how the target was named to the proxy
    pub address_type: String,
    pub target: String,
    pub reply: u8,
    pub reply_text: String,
    /// socks5:// resolves the target locally first.
    pub resolved_locally: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsDetail {
    pub server_name: Option<String>,
    pub sni: Option<String>,
    pub alpn_offered: Vec<String>,
    pub alpn: Option<String>,
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub key_exchange: Option<String>,
    pub chain: Vec<CertReport>,
    pub verified: bool,
    /// What verification found (a kind name), also under --insecure.
    pub verification_error_kind: Option<String>,
    pub verification_error: Option<String>,
    pub insecure: bool,
    pub alert: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CertReport {
    pub subject: String,
    pub issuer: String,
    pub names: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub serial: String,
    pub is_ca: bool,
    pub self_signed: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpDetail {
    pub request: RequestReport,
    pub response: Option<ResponseReport>,
    pub time_to_first_byte_ms: Option<f64>,
    pub body: Option<BodyReport>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RequestReport {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<Header>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ResponseReport {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<Header>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BodyReport {
    /// Bytes received (all of them, kept or not).
    pub bytes: u64,
    pub content_length: Option<u64>,
    pub transfer_ms: Option<f64>,
    /// The first bytes as text, for a glance at an error page.
    pub preview: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VerdictReport {
    pub ok: bool,
    pub layer: Option<String>,
    pub kind: Option<String>,
    pub summary: String,
    pub hint: Option<String>,
    pub requests_exception: Option<String>,
    pub urllib3_cause: Option<String>,
    pub governing_timeout: Option<String>,
    pub curl_exit: Option<u8>,
    pub exit_code: u8,
    pub notes: Vec<String>,
}

const PREVIEW_BYTES: usize = 200;

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

fn headers(list: &[(String, String)]) -> Vec<Header> {
    redact::headers(list)
        .into_iter()
        .map(|(name, value)| Header { name, value })
        .collect()
}

pub fn build(outcome: &ProbeOutcome) -> Report {
    let verdict = verdict::judge(outcome);
    let s = &outcome.settings;
    let settings = SettingsReport {
        method: s.method.clone(),
        headers: headers(&s.headers),
        connect_timeout_s: s.connect_timeout.as_secs_f64(),
        read_timeout_s: s.read_timeout.as_secs_f64(),
        dns_timeout_s: s.dns_timeout.as_secs_f64(),
        max_time_s: s.max_time.map(|d| d.as_secs_f64()),
        dns_server: s.dns_server.map(|a| a.to_string()),
        resolve: s
            .resolve
            .iter()
            .map(|r| {
                let addrs: Vec<String> = r.addrs.iter().map(|a| a.to_string()).collect();
                format!("{}:{}:{}", r.host, r.port, addrs.join(","))
            })
            .collect(),
        ip_family: match s.family {
            IpFamily::Any => "any",
            IpFamily::V4 => "ipv4",
            IpFamily::V6 => "ipv6",
        }
        .into(),
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
    };
    let stages = Stage::ALL
        .iter()
        .map(|stage| stage_report(*stage, outcome, &verdict))
        .collect();
    Report {
        netpeel_version: env!("CARGO_PKG_VERSION").into(),
        url: redact::url(&s.url),
        final_url: match &outcome.target {
            Ok(t) => t.display_url(),
            Err(e) => redact::url(&e.input),
        },
        redirects: outcome.redirects.iter().map(redirect_report).collect(),
        addresses: outcome
            .addresses
            .iter()
            .map(|a| AddressReport {
                address: a.address.to_string(),
                tcp_ms: a.tcp.map(ms),
                tls_ms: a.tls.map(ms),
                http_ms: a.http.map(ms),
                status: a.status,
                kind: a.kind.map(|k| k.name().to_string()),
                summary: redact::url(&a.summary),
            })
            .collect(),
        attempts: Vec::new(),
        replay: None,
        settings,
        stages,
        verdict: verdict_report(&verdict),
        total_ms: ms(outcome.total),
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
    let s = &run.settings;
    let budget = crate::replay::budget::worst_case(s);
    report.replay = Some(ReplayReport {
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
        result: redact::url(&run.stop.message(&last.outcome.settings.url)),
        requests_exception: run.stop.exception().map(str::to_string),
        total_ms: ms(run.total),
        what_if: {
            let history: Vec<_> = run
                .attempts
                .iter()
                .map(|a| crate::replay::whatif::times(&a.outcome))
                .collect();
            crate::replay::whatif::what_if(&history)
                .iter()
                .map(|w| w.sentence())
                .collect()
        },
    });
    Some(report)
}

fn redirect_report(h: &crate::engine::redirect::RedirectHop) -> RedirectReport {
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
                stage: st.stage.name().into(),
                status: match st.status {
                    "ok" => StageStatus::Ok,
                    "failed" => StageStatus::Failed,
                    "skipped" => StageStatus::Skipped,
                    _ => StageStatus::NotRun,
                },
                elapsed_ms: st.elapsed.map(ms),
            })
            .collect(),
    }
}

fn verdict_report(v: &Verdict) -> VerdictReport {
    VerdictReport {
        ok: v.kind.is_none(),
        layer: v.layer.map(|l| l.name().to_string()),
        kind: v.kind.map(|k| k.name().to_string()),
        summary: v.summary.clone(),
        hint: v.hint.clone(),
        requests_exception: v.requests_exception.clone(),
        urllib3_cause: v.urllib3_cause.clone(),
        governing_timeout: v.governing_timeout.map(|t| {
            serde_json::to_value(t)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        }),
        curl_exit: v.curl_exit,
        exit_code: v.exit_code,
        notes: v.notes.clone(),
    }
}

fn status_of<T, E>(r: &StageResult<T, E>) -> (StageStatus, Option<f64>) {
    match r {
        StageResult::NotRun => (StageStatus::NotRun, None),
        StageResult::Skipped { .. } => (StageStatus::Skipped, None),
        StageResult::Ok { elapsed, .. } => (StageStatus::Ok, Some(ms(*elapsed))),
        StageResult::Failed { elapsed, .. } => (StageStatus::Failed, Some(ms(*elapsed))),
    }
}

fn stage_report(stage: Stage, o: &ProbeOutcome, v: &Verdict) -> StageReport {
    let (status, elapsed_ms, summary, detail) = match stage {
        Stage::Url => match &o.target {
            Ok(t) => (
                StageStatus::Ok,
                Some(ms(o.url_elapsed)),
                format!("{} {}:{}", t.url.scheme(), t.host, t.port),
                Some(StageDetail::Url(UrlDetail {
                    scheme: Some(t.url.scheme().to_string()),
                    host: Some(t.host.to_string()),
                    port: Some(t.port),
                    request_target: Some(t.request_target.clone()),
                    error: None,
                })),
            ),
            Err(e) => (
                StageStatus::Failed,
                Some(ms(o.url_elapsed)),
                e.message.clone(),
                Some(StageDetail::Url(UrlDetail {
                    scheme: None,
                    host: None,
                    port: None,
                    request_target: None,
                    error: Some(redact::url(&e.message)),
                })),
            ),
        },
        Stage::Dns => {
            let (status, elapsed) = status_of(&o.dns);
            let (summary, detail) = match &o.dns {
                StageResult::NotRun => (String::new(), None),
                StageResult::Skipped { reason, detail } => (
                    reason.clone(),
                    detail.as_ref().map(|a| StageDetail::Dns(dns_detail(a))),
                ),
                StageResult::Ok { detail, .. } => (
                    dns_summary(detail),
                    Some(StageDetail::Dns(dns_detail(detail))),
                ),
                StageResult::Failed { error, .. } => {
                    let as_answer = DnsAnswer {
                        name: error.name.clone(),
                        source: error.source.clone(),
                        queries: error.queries.clone(),
                        addresses: Vec::new(),
                        cname_chain: Vec::new(),
                    };
                    (
                        error.message.clone(),
                        Some(StageDetail::Dns(dns_detail(&as_answer))),
                    )
                }
            };
            (status, elapsed, summary, detail)
        }
        Stage::Tcp => {
            let (status, elapsed) = status_of(&o.tcp);
            let tcp_detail = |d: &crate::engine::TcpSummary| {
                StageDetail::Tcp(TcpDetail {
                    attempts: d.attempts.iter().map(attempt_report).collect(),
                    peer: Some(d.peer.to_string()),
                    local: d.local.map(|l| l.to_string()),
                })
            };
            let (summary, detail) = match &o.tcp {
                StageResult::NotRun => (String::new(), None),
                // A reused connection: what the earlier hop's connect found.
                StageResult::Skipped { reason, detail } => {
                    (reason.clone(), detail.as_ref().map(tcp_detail))
                }
                StageResult::Ok { detail, .. } => (
                    format!("connected to {}", detail.peer),
                    Some(tcp_detail(detail)),
                ),
                StageResult::Failed { error, .. } => (
                    format!("{}: {}", error.addr, error.failure.describe()),
                    Some(StageDetail::Tcp(TcpDetail {
                        attempts: error.attempts.iter().map(attempt_report).collect(),
                        peer: None,
                        local: None,
                    })),
                ),
            };
            (status, elapsed, summary, detail)
        }
        Stage::Proxy => {
            let (status, elapsed) = status_of(&o.proxy);
            let decision = &o.settings.proxy;
            let (summary, detail) = match &o.proxy {
                StageResult::NotRun => (String::new(), None),
                StageResult::Skipped { reason, detail } => (
                    reason.clone(),
                    detail.as_ref().map(|p| {
                        StageDetail::Proxy(proxy_detail(
                            &p.endpoint,
                            decision,
                            Some(&p.exchange),
                            None,
                        ))
                    }),
                ),
                StageResult::Ok { detail: p, .. } => (
                    proxy_ok_summary(p),
                    Some(StageDetail::Proxy(proxy_detail(
                        &p.endpoint,
                        decision,
                        Some(&p.exchange),
                        None,
                    ))),
                ),
                StageResult::Failed { error: e, .. } => (
                    e.message.clone(),
                    Some(StageDetail::Proxy(proxy_detail(
                        &e.endpoint,
                        decision,
                        e.exchange.as_ref(),
                        Some(e),
                    ))),
                ),
            };
            (status, elapsed, summary, detail)
        }
        Stage::Tls => {
            let (status, elapsed) = status_of(&o.tls);
            let (summary, detail) = match &o.tls {
                StageResult::NotRun => (String::new(), None),
                StageResult::Skipped { reason, detail } => (
                    reason.clone(),
                    detail
                        .as_ref()
                        .map(|t| StageDetail::Tls(tls_ok_detail(t, o))),
                ),
                StageResult::Ok { detail: t, .. } => {
                    let mut summary = format!("{} {}", t.version, t.cipher);
                    if t.insecure {
                        summary.push_str(if t.verification.ok {
                            " (insecure)"
                        } else {
                            " (INSECURE: verification failed)"
                        });
                    }
                    (summary, Some(StageDetail::Tls(tls_ok_detail(t, o))))
                }
                StageResult::Failed { error: e, .. } => (
                    v.kind
                        .map(|k| k.info().meaning.to_string())
                        .unwrap_or_else(|| e.message.clone()),
                    Some(StageDetail::Tls(TlsDetail {
                        server_name: Some(e.server_name.clone()),
                        sni: e.sni.clone(),
                        alpn_offered: e.alpn_offered.clone(),
                        alpn: None,
                        version: None,
                        cipher: None,
                        key_exchange: None,
                        chain: e.chain.iter().map(cert_report).collect(),
                        verified: false,
                        verification_error_kind: e
                            .failure
                            .is_certificate()
                            .then(|| tls_kind_name(e.failure)),
                        verification_error: e.failure.is_certificate().then(|| e.message.clone()),
                        insecure: o.settings.insecure,
                        alert: e.alert.clone(),
                        error: Some(e.message.clone()),
                    })),
                ),
            };
            (status, elapsed, summary, detail)
        }
        Stage::Http => {
            let (mut status, elapsed) = status_of(&o.http);
            let (summary, detail) = match &o.http {
                StageResult::NotRun | StageResult::Skipped { .. } => (String::new(), None),
                StageResult::Ok { detail: x, .. } => {
                    // A 4xx/5xx is the HTTP layer failing in requests' eyes (raise_for_status),
                    // and so is the last of too many redirects.
                    if crate::engine::http::is_error_status(x.response.status)
                        || v.kind == Some(verdict::Kind::TooManyRedirects)
                    {
                        status = StageStatus::Failed;
                    }
                    (
                        format!(
                            "{} {}, {} body bytes",
                            x.response.status, x.response.reason, x.body.bytes
                        ),
                        Some(StageDetail::Http(HttpDetail {
                            request: request_report(&x.request),
                            response: Some(response_report(&x.response)),
                            time_to_first_byte_ms: Some(ms(x.time_to_first_byte)),
                            body: Some(BodyReport {
                                bytes: x.body.bytes,
                                content_length: content_length(&x.response.headers),
                                transfer_ms: Some(ms(x.body.transfer)),
                                preview: preview(&x.body.kept),
                            }),
                            error: None,
                        })),
                    )
                }
                StageResult::Failed { error: e, .. } => (
                    e.message.clone(),
                    Some(StageDetail::Http(HttpDetail {
                        request: request_report(&e.request),
                        response: e.response.as_ref().map(response_report),
                        time_to_first_byte_ms: None,
                        body: e.response.as_ref().map(|_| BodyReport {
                            bytes: e.body_bytes,
                            content_length: e.content_length,
                            transfer_ms: None,
                            preview: String::new(),
                        }),
                        error: Some(e.message.clone()),
                    })),
                ),
            };
            (status, elapsed, summary, detail)
        }
    };
    StageReport {
        stage: stage.name().to_string(),
        status,
        elapsed_ms,
        summary,
        detail,
    }
}

fn proxy_ok_summary(p: &crate::engine::proxy::ProxyInfo) -> String {
    use crate::engine::proxy::ProxyExchange as X;
    match &p.exchange {
        X::Connect { status, reason, .. } => format!("CONNECT answered {status} {reason}"),
        X::Forward => "requests go to the proxy in absolute form".into(),
        X::Socks { target, .. } => format!("SOCKS5 tunnel to {target}"),
    }
}

fn proxy_detail(
    endpoint: &crate::engine::proxy_select::ProxyUrl,
    decision: &crate::engine::proxy_select::ProxyChoice,
    exchange: Option<&crate::engine::proxy::ProxyExchange>,
    error: Option<&crate::engine::proxy::ProxyError>,
) -> ProxyDetail {
    use crate::engine::proxy::ProxyExchange as X;
    let (kind, connect, socks) = match exchange {
        Some(X::Connect {
            request,
            status,
            reason,
            headers: h,
        }) => (
            "connect",
            Some(ConnectReport {
                request: request
                    .iter()
                    .map(|line| match line.split_once(": ") {
                        Some((k, v)) => format!("{k}: {}", redact::header_value(k, v)),
                        None => line.clone(),
                    })
                    .collect(),
                status: *status,
                reason: reason.clone(),
                headers: headers(h),
            }),
            None,
        ),
        Some(X::Forward) => ("forward", None, None),
        Some(X::Socks {
            method,
            address_type,
            target,
            reply,
            resolved_locally,
        }) => (
            "socks5",
            None,
            Some(SocksReport {
                method: method.clone(),
                address_type: address_type.clone(),
                target: target.clone(),
                reply: *reply,
                reply_text: crate::engine::proxy::socks_reply_text(*reply).into(),
                resolved_locally: resolved_locally.iter().map(|a| a.to_string()).collect(),
            }),
        ),
        None if endpoint.scheme.is_socks() => ("socks5", None, None),
        None => ("connect", None, None),
    };
    ProxyDetail {
        proxy: endpoint.display.clone(),
        proxy_scheme: endpoint.scheme.as_str().into(),
        source: decision.source.as_ref().map(ToString::to_string),
        reason: decision.reason.clone(),
        exchange: kind.into(),
        connect,
        socks,
        auth_scheme: error.and_then(|e| e.auth_scheme.clone()),
        body_line: error.and_then(|e| e.body_line.clone()),
        error: error.map(|e| e.message.clone()),
    }
}

fn tls_ok_detail(t: &crate::engine::tls::TlsInfo, o: &ProbeOutcome) -> TlsDetail {
    TlsDetail {
        server_name: o.target.as_ref().ok().map(|t| t.host.to_string()),
        sni: t.sni.clone(),
        alpn_offered: t.alpn_offered.clone(),
        alpn: t.alpn.clone(),
        version: Some(t.version.clone()),
        cipher: Some(t.cipher.clone()),
        key_exchange: t.key_exchange.clone(),
        chain: t.chain.iter().map(cert_report).collect(),
        verified: t.verification.ok,
        verification_error_kind: t.verification.failure.map(tls_kind_name),
        verification_error: t.verification.message.clone(),
        insecure: t.insecure,
        alert: None,
        error: None,
    }
}

fn tls_kind_name(f: crate::engine::tls::TlsFailure) -> String {
    verdict::tls_kind(f).name().to_string()
}

fn content_length(h: &[(String, String)]) -> Option<u64> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
}

fn preview(body: &[u8]) -> String {
    let cut = &body[..body.len().min(PREVIEW_BYTES)];
    String::from_utf8_lossy(cut).into_owned()
}

fn request_report(r: &crate::engine::http::RequestHead) -> RequestReport {
    RequestReport {
        method: r.method.clone(),
        target: r.target.clone(),
        version: r.version.clone(),
        headers: headers(&r.headers),
    }
}

fn response_report(r: &crate::engine::http::ResponseHead) -> ResponseReport {
    ResponseReport {
        version: r.version.clone(),
        status: r.status,
        reason: r.reason.clone(),
        headers: headers(&r.headers),
    }
}

fn attempt_report(a: &crate::engine::tcp::ConnectAttempt) -> ConnectAttemptReport {
    use crate::engine::tcp::TcpFailure as F;
    ConnectAttemptReport {
        address: a.addr.to_string(),
        result: match a.failure {
            None => "connected",
            Some(F::Refused) => "connection_refused",
            Some(F::Timeout) => "connect_timeout",
            Some(F::HostUnreachable) => "host_unreachable",
            Some(F::NetworkUnreachable) => "network_unreachable",
            Some(F::AddressNotAvailable) => "address_not_available",
            Some(F::Reset) => "connect_reset",
            Some(F::Other) => "tcp_other",
        }
        .into(),
        elapsed_ms: ms(a.elapsed),
        error: a.failure.map(|_| a.detail.clone()),
        os_errno: a.os_error,
    }
}

fn cert_report(c: &CertSummary) -> CertReport {
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

fn dns_summary(a: &DnsAnswer) -> String {
    let addrs: Vec<String> = a.addresses.iter().map(|x| x.to_string()).collect();
    let mut s = addrs.join(", ");
    if let Some(last) = a.cname_chain.last() {
        s.push_str(&format!(" (CNAME → {last})"));
    }
    if let DnsSource::HostsFile(p) = &a.source {
        s.push_str(&format!(" from {}", p.display()));
    }
    s
}

fn dns_detail(a: &DnsAnswer) -> DnsDetail {
    let (source, servers, servers_from) = match &a.source {
        DnsSource::IpLiteral => ("ip_literal", Vec::new(), None),
        DnsSource::ResolveFlag => ("resolve_flag", Vec::new(), None),
        DnsSource::HostsFile(p) => ("hosts_file", Vec::new(), Some(p.display().to_string())),
        DnsSource::Servers { servers, from } => (
            "servers",
            servers.iter().map(|s| s.to_string()).collect(),
            Some(from.clone()),
        ),
    };
    DnsDetail {
        name: a.name.clone(),
        source: source.into(),
        servers,
        servers_from,
        queries: a
            .queries
            .iter()
            .map(|q| {
                let (status, error) = match &q.status {
                    QueryStatus::Answered => ("answered".to_string(), None),
                    QueryStatus::NoData => ("nodata".into(), None),
                    QueryStatus::NxDomain => ("nxdomain".into(), None),
                    QueryStatus::ServFail => ("servfail".into(), None),
                    QueryStatus::Refused => ("refused".into(), None),
                    QueryStatus::OtherRcode(c) => (c.to_ascii_lowercase(), None),
                    QueryStatus::Timeout => ("timeout".into(), None),
                    QueryStatus::Unreachable(m) => ("unreachable".into(), Some(m.clone())),
                    QueryStatus::Error(m) => ("error".into(), Some(m.clone())),
                };
                DnsQueryReport {
                    query_type: format!("{:?}", q.query_type),
                    status,
                    elapsed_ms: ms(q.elapsed),
                    records: q
                        .records
                        .iter()
                        .map(|r| DnsRecordReport {
                            name: r.name.clone(),
                            ttl: r.ttl,
                            record_type: r.record_type.clone(),
                            data: r.data.clone(),
                        })
                        .collect(),
                    error,
                }
            })
            .collect(),
        addresses: a.addresses.iter().map(|x| x.to_string()).collect(),
        cname_chain: a.cname_chain.clone(),
    }
}
