//! The report's data model: what `--json` prints and what every renderer and the dashboard
//! read. Its shape is documented in README.md and checked against `assets/report.schema.json`.
//! Closed sets (stages, statuses, kinds, sources, timeouts) are enums serialized as their
//! snake_case names, so readers match on variants, never on strings. `build.rs` fills it in.

use serde::{Deserialize, Serialize};

use crate::engine::clock::TimeoutSetting;
use crate::engine::settings::IpFamily;
use crate::engine::verdict::Kind;
pub use crate::engine::{Stage, StageStatus};
pub use crate::reuse::Wire;

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
    /// Reuse mode (`--reuse-after`, `--idle-sweep`): every gap and what a Session would do;
    /// the stages and verdict above are the worst gap's. Null in other modes.
    pub reuse: Option<ReuseReport>,
    /// Explain mode (`netpeel explain`): what the pasted error said ("then") and how it compares
    /// with this probe ("now"). Null in other modes.
    #[serde(default)]
    pub explained: Option<ExplainedReport>,
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
    pub ip_family: IpFamily,
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
pub struct ReuseReport {
    /// One per `--reuse-after` gap, in the order given.
    pub gaps: Vec<ReuseGapReport>,
    /// `--idle-sweep`: its bound and every try; null without a sweep.
    pub sweep: Option<SweepReport>,
    /// The idle time after which the far end closes or stops answering: the sweep's estimate,
    /// else the earliest close seen during a gap; null when nothing closed.
    pub idle_close_s: Option<f64>,
    /// How the far end gives up on an idle connection (null: it did not).
    pub close_kind: Option<Wire>,
    /// The `timeout=N` of the server's `Keep-Alive` header, when it sent one.
    pub keep_alive_header_s: Option<f64>,
    /// What was found and what a Session does about it, in words.
    pub summary: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReuseGapReport {
    pub gap_s: f64,
    pub wire: Wire,
    /// When the far end closed the idle connection (fin, rst), from the first response's end.
    pub closed_after_s: Option<f64>,
    /// What requests raises on the second request (null: nothing, it reconnects or succeeds).
    pub requests_exception: Option<String>,
    pub urllib3_cause: Option<String>,
    /// The verdict kind of the second request (of the first, when that failed).
    pub kind: Option<Kind>,
    pub summary: String,
    /// The first request's status, when it got one.
    pub first_status: Option<u16>,
    /// Null when the first request failed.
    pub second_request: Option<SecondRequestReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SecondRequestReport {
    /// Sent on the kept connection; false: urllib3 found it dropped and opened a new one.
    pub reused_connection: bool,
    pub status: Option<u16>,
    pub stages: Vec<StageReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SweepReport {
    pub max_s: f64,
    pub rounds: u32,
    /// Every try, round by round.
    pub tries: Vec<ReuseGapReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AddressReport {
    pub address: String,
    pub tcp_ms: Option<f64>,
    pub tls_ms: Option<f64>,
    pub http_ms: Option<f64>,
    pub status: Option<u16>,
    /// The failure kind for this address, null when it worked.
    pub kind: Option<Kind>,
    pub summary: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HopStageReport {
    pub stage: Stage,
    pub status: StageStatus,
    pub elapsed_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StageReport {
    pub stage: Stage,
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
    pub source: DnsSourceKind,
    pub servers: Vec<String>,
    pub servers_from: Option<String>,
    pub queries: Vec<DnsQueryReport>,
    pub addresses: Vec<String>,
    pub cname_chain: Vec<String>,
    /// Why `addresses` are in another order than the answer's (getaddrinfo's sort), or null.
    pub order: Option<String>,
}

/// Where the DNS answer came from.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DnsSourceKind {
    IpLiteral,
    ResolveFlag,
    HostsFile,
    Servers,
}

/// How one DNS query ended: a closed set, plus any other response code by its name.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum QueryStatusReport {
    Answered,
    Nodata,
    Nxdomain,
    Servfail,
    Refused,
    Timeout,
    Unreachable,
    Error,
    /// Another response code, lower case (e.g. "notimp").
    #[serde(untagged)]
    Rcode(String),
}

impl QueryStatusReport {
    /// The name as the JSON document writes it.
    pub fn name(&self) -> &str {
        match self {
            QueryStatusReport::Answered => "answered",
            QueryStatusReport::Nodata => "nodata",
            QueryStatusReport::Nxdomain => "nxdomain",
            QueryStatusReport::Servfail => "servfail",
            QueryStatusReport::Refused => "refused",
            QueryStatusReport::Timeout => "timeout",
            QueryStatusReport::Unreachable => "unreachable",
            QueryStatusReport::Error => "error",
            QueryStatusReport::Rcode(code) => code,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DnsQueryReport {
    #[serde(rename = "type")]
    pub query_type: String,
    pub status: QueryStatusReport,
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
    pub result: ConnectResult,
    pub elapsed_ms: f64,
    pub error: Option<String>,
    pub os_errno: Option<i32>,
}

/// How one connect attempt ended: "connected" or the TCP kind (connection_refused, …).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConnectResult {
    Connected,
    #[serde(untagged)]
    Failed(Kind),
}

impl ConnectResult {
    /// The name as the JSON document writes it.
    pub fn name(self) -> &'static str {
        match self {
            ConnectResult::Connected => "connected",
            ConnectResult::Failed(kind) => kind.name(),
        }
    }
}

/// How the request reaches the target through the proxy.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProxyExchangeKind {
    /// An HTTP CONNECT tunnel.
    Connect,
    /// An http:// request in absolute form to an http proxy.
    Forward,
    Socks5,
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
    pub exchange: ProxyExchangeKind,
    pub connect: Option<ConnectReport>,
    pub socks: Option<SocksReport>,
    /// The scheme in Proxy-Authenticate (407).
    pub auth_scheme: Option<String>,
    /// First line of the proxy's error body.
    pub body_line: Option<String>,
    pub error: Option<String>,
    /// https:// proxy: the TLS handshake with the proxy (its certificate, verification).
    pub tls: Option<Box<TlsDetail>>,
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
    /// What verification found, also under --insecure.
    pub verification_error_kind: Option<Kind>,
    pub verification_error: Option<String>,
    pub insecure: bool,
    pub alert: Option<String>,
    pub error: Option<String>,
    /// The server sent a CertificateRequest (mutual TLS).
    pub client_cert_requested: bool,
    /// The subject of the client certificate sent (`--cert`), if any.
    pub client_cert_sent: Option<String>,
    /// The CAs the server accepts client certificates from, as it listed them.
    pub client_cert_issuers: Vec<String>,
    /// The chain checked against each client's store (requests, curl, the OS, Mozilla); empty
    /// for http:// probes and an https:// proxy's handshake.
    pub trust: Vec<TrustRow>,
    /// Why the stores disagree or the chain is odd, each with the clients it breaks.
    pub trust_causes: Vec<TrustCauseReport>,
    /// `--fetch-intermediate`: the intermediate fetched from the AIA URL and the stores again.
    pub intermediate_fetch: Option<IntermediateFetchReport>,
}

/// One client's store and its verdict on the chain.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrustRow {
    /// `requests`, `curl`, `os` or `mozilla`.
    pub client: String,
    /// The store in words: "certifi 2024.8.30 (…)", "system store", "Mozilla roots (…)".
    pub store: String,
    /// What chose it: REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR,
    /// --cacert, certifi, system, built-in.
    pub source: String,
    pub path: Option<String>,
    pub verified: bool,
    /// Why not (a TLS kind, or ca_bundle_missing / ca_bundle_empty for an unusable file).
    pub error_kind: Option<Kind>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrustCauseReport {
    /// private_ca, tls_interception, missing_intermediate, wrong_order, extra_certs,
    /// expired_in_chain, old_certifi, bundle_lacks_root.
    pub cause: String,
    pub sentence: String,
    pub fix: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IntermediateFetchReport {
    pub url: String,
    /// `der` or `pem`; null when nothing usable came back.
    pub format: Option<String>,
    pub subject: Option<String>,
    /// The stores checked again with the fetched certificate after the chain.
    pub trust: Vec<TrustRow>,
    pub error: Option<String>,
}

/// A certificate as the report shows it. Kept apart from the engine's `CertSummary`, which it
/// mirrors today, because this one is the published schema: the engine's summary may grow
/// (raw DER for trust checks, extensions) without the JSON document changing.
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
    /// The first bytes as text, for a glance at an error page (decoded when the body was).
    pub preview: String,
    /// The body decoded as requests decodes it (gzip, deflate); null when it was not encoded.
    pub decoded: Option<DecodedReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DecodedReport {
    /// The Content-Encoding as urllib3 reads it (lower case, several joined with ", ").
    pub content_encoding: String,
    /// Bytes after decoding (up to where decoding stopped).
    pub bytes: u64,
    /// Why the body did not decode (requests raises ContentDecodingError), or null.
    pub error: Option<String>,
    /// Decoding stopped after 64 MiB (what a decompression bomb would cost requests is not
    /// spent here).
    pub capped: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VerdictReport {
    pub ok: bool,
    pub layer: Option<Stage>,
    pub kind: Option<Kind>,
    pub summary: String,
    pub hint: Option<String>,
    pub requests_exception: Option<String>,
    pub urllib3_cause: Option<String>,
    pub governing_timeout: Option<TimeoutSetting>,
    pub curl_exit: Option<u8>,
    pub exit_code: u8,
    pub notes: Vec<String>,
}

/// Explain mode: a pasted error read and placed in the verdict table. Values from the paste are
/// as it gave them, secrets masked (URL passwords, credential query parameters).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ExplainedReport {
    pub source_library: Library,
    /// Exception names, the raised one first, then its causes (for curl: its exit code).
    pub exception_chain: Vec<String>,
    pub layer: Stage,
    pub kind: Kind,
    /// What requests raises for this kind (the paste's own when it is requests'), else null.
    pub requests_exception: Option<String>,
    /// The URL the paste names, rebuilt from what it says; null when it names no host (the
    /// probe's own URL, `--url` included, is the report's `url`).
    pub url: Option<String>,
    pub scheme: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// Path and query.
    pub path: Option<String>,
    pub proxy: Option<String>,
    pub os_error: Option<OsErrorReport>,
    pub status: Option<u16>,
    pub curl_exit: Option<u8>,
    pub timeouts_s: ExplainTimeouts,
    /// What happened, in one sentence.
    pub summary: String,
    /// The usual causes, most likely first.
    pub causes: Vec<String>,
    pub notes: Vec<String>,
    pub input_truncated: bool,
    /// "Then" against "now": what the probe found.
    pub comparison: ComparisonReport,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OsErrorReport {
    pub errno: Option<i64>,
    pub message: String,
}

/// Timeouts the paste states, in seconds (null when it does not say).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ExplainTimeouts {
    pub connect: Option<f64>,
    pub read: Option<f64>,
    pub total: Option<f64>,
}

/// How the probe's verdict compares with the paste's.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// `--no-probe`, or the paste names no host to probe.
    NotProbed,
    /// The probe fails with the same kind.
    Same,
    /// The probe fails, in another way.
    Different,
    /// The probe succeeds now.
    Succeeded,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ComparisonReport {
    pub outcome: Comparison,
    pub summary: String,
    /// netpeel command lines that can catch what the probe could not.
    pub suggestions: Vec<String>,
}

/// The `--json` document of `netpeel explain --no-probe`: the explanation alone.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ExplainOnlyReport {
    pub netpeel_version: String,
    pub explained: ExplainedReport,
}

/// The client whose words the paste is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Library {
    Requests,
    Urllib3,
    Httpx,
    Aiohttp,
    Curl,
}

impl Library {
    pub fn name(self) -> &'static str {
        match self {
            Library::Requests => "requests",
            Library::Urllib3 => "urllib3",
            Library::Httpx => "httpx",
            Library::Aiohttp => "aiohttp",
            Library::Curl => "curl",
        }
    }
}
