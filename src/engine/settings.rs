//! What one probe is asked to do. Built by the CLI (or a test), read by every stage.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::client_cert::ClientCert;
use super::proxy_select::ProxyChoice;
use super::trust::{StoreProblem, TrustStore};

/// Which address families the probe may use (`-4` / `-6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpFamily {
    #[default]
    Any,
    #[serde(rename = "ipv4")]
    V4,
    #[serde(rename = "ipv6")]
    V6,
}

impl IpFamily {
    /// The name as reports write it.
    pub fn name(self) -> &'static str {
        match self {
            IpFamily::Any => "any",
            IpFamily::V4 => "ipv4",
            IpFamily::V6 => "ipv6",
        }
    }

    pub fn allows(self, ip: &IpAddr) -> bool {
        match self {
            IpFamily::Any => true,
            IpFamily::V4 => ip.is_ipv4(),
            IpFamily::V6 => ip.is_ipv6(),
        }
    }
}

/// The inputs of the proxy choice (see `proxy_select`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProxyInputs {
    pub flag_proxy: Option<String>,
    pub flag_noproxy: Option<String>,
    /// Only the variables that matter (`*_proxy`, `no_proxy`, `REQUEST_METHOD`), in order.
    pub env: Vec<(String, String)>,
}

/// `--resolve HOST:PORT:ADDR[,ADDR…]` with curl's meaning: this host on this port goes to these
/// addresses without asking DNS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveOverride {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

impl ResolveOverride {
    /// As curl's flag takes it: `host:port:addr,addr`.
    pub fn curl_form(&self) -> String {
        let addrs: Vec<String> = self.addrs.iter().map(ToString::to_string).collect();
        format!("{}:{}:{}", self.host, self.port, addrs.join(","))
    }
}

/// Where the trust anchors come from, so the report can say why a CA was (not) trusted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum CaSource {
    /// Mozilla's roots compiled in (webpki-roots); what requests gets from certifi.
    BuiltIn,
    /// A PEM bundle from `--cacert` or one of the environment variables requests/curl read.
    Bundle { path: PathBuf, from: String },
}

/// A loaded CA bundle: the DER certificates plus where they came from.
#[derive(Clone, Debug)]
pub struct CaBundle {
    pub source: CaSource,
    pub certs: Vec<rustls_pki_types::CertificateDer<'static>>,
}

/// requests' CA bundle variable names a file it cannot use: requests fails on it (its own
/// verdict), whatever the server sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaProblem {
    /// `REQUESTS_CA_BUNDLE` or `CURL_CA_BUNDLE`.
    pub variable: String,
    pub path: PathBuf,
    pub problem: StoreProblem,
    /// What reading it found, in words.
    pub detail: String,
}

#[derive(Clone, Debug)]
pub struct ProbeSettings {
    pub url: String,
    pub method: String,
    /// Extra request headers, in order. Values may be secrets: reports redact them.
    pub headers: Vec<(String, String)>,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub dns_timeout: Duration,
    /// Optional deadline for the whole probe (curl's `--max-time`).
    pub max_time: Option<Duration>,
    /// `--dns IP[:PORT]`: ask this server instead of the system resolvers.
    pub dns_server: Option<SocketAddr>,
    pub resolve: Vec<ResolveOverride>,
    pub family: IpFamily,
    pub ca: CaBundle,
    pub insecure: bool,
    /// `--cert`/`--key`: the client certificate for mutual TLS (requests' `cert=`).
    pub client_cert: Option<ClientCert>,
    /// `--proxy-cacert`: trust for an https:// proxy's certificate; None: the same as `ca`
    /// (requests' `verify` applies to the proxy too).
    pub proxy_ca: Option<CaBundle>,
    /// `--proxy-insecure`: do not verify an https:// proxy's certificate.
    pub proxy_insecure: bool,
    /// How many body bytes are kept in memory; the rest is counted, not stored.
    pub max_body_bytes: usize,
    /// /etc/hosts, consulted first as getaddrinfo does.
    pub hosts_file: PathBuf,
    /// /etc/resolv.conf, for the system resolvers.
    pub resolv_conf: PathBuf,
    /// The proxy, chosen as requests chooses it (flags, then the environment), for the URL.
    pub proxy: ProxyChoice,
    /// What the choice is made from, kept so each redirect hop chooses again (NO_PROXY may
    /// differ by host): `--proxy`, `--noproxy`, and the proxy-related environment variables.
    pub proxy_inputs: ProxyInputs,
    /// Follow redirects as requests does (`--no-follow` turns it off).
    pub follow_redirects: bool,
    /// Send the URL's `user:password@` as Basic auth. True for the URL the user gave; false on
    /// a redirect hop, where requests ignores a Location's userinfo (`rebuild_auth` only looks
    /// at netrc) and only carries the Authorization already sent.
    pub url_credentials: bool,
    /// requests' limit is 30 (`--max-redirects`).
    pub max_redirects: usize,
    /// Offer h2 in ALPN (`--http2`); requests speaks HTTP/1.1 only.
    pub http2: bool,
    /// Probe every resolved address on its own as well (`--all-addresses`).
    pub all_addresses: bool,
    /// Things the caller noticed about the environment that the verdict should repeat (e.g.
    /// which CA variables curl would read instead).
    pub notes: Vec<String>,
    /// Notes about requests' store (certifi could not be asked or read): said only when the
    /// probe's last hop is https, since a plain http answer verified nothing.
    pub trust_notes: Vec<String>,
    /// Notes said only when the probe's last hop is plain http (a CA variable requests would
    /// trip on only once a redirect led to https: when one does, the verdict says it).
    pub plain_http_notes: Vec<String>,
    /// The stores of each client (requests, curl, the OS, Mozilla), loaded by the caller; the
    /// target's chain is checked against each. Empty: no trust matrix.
    pub trust_stores: Vec<TrustStore>,
    /// requests' CA bundle variable points at a missing or empty file.
    pub ca_problem: Option<CaProblem>,
    /// `--fetch-intermediate`: fetch a missing intermediate from its AIA URL and check again.
    pub fetch_intermediate: bool,
    /// Stop once the TLS handshake is judged: no request is sent. `--export python` uses it to
    /// learn whether the chain needs a trust fix without side effects on the server.
    pub stop_after_tls: bool,
}

impl ProbeSettings {
    /// Settings with the defaults the CLI uses; tests start from here.
    pub fn new(url: impl Into<String>) -> Self {
        ProbeSettings {
            url: url.into(),
            method: "GET".into(),
            headers: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            dns_timeout: Duration::from_secs(5),
            max_time: None,
            dns_server: None,
            resolve: Vec::new(),
            family: IpFamily::Any,
            ca: CaBundle {
                source: CaSource::BuiltIn,
                certs: Vec::new(),
            },
            insecure: false,
            client_cert: None,
            proxy_ca: None,
            proxy_insecure: false,
            max_body_bytes: 1024 * 1024,
            hosts_file: PathBuf::from("/etc/hosts"),
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            proxy: ProxyChoice::default(),
            proxy_inputs: ProxyInputs::default(),
            follow_redirects: true,
            url_credentials: true,
            max_redirects: 30,
            http2: false,
            all_addresses: false,
            notes: Vec::new(),
            trust_notes: Vec::new(),
            plain_http_notes: Vec::new(),
            trust_stores: Vec::new(),
            ca_problem: None,
            fetch_intermediate: false,
            stop_after_tls: false,
        }
    }
}
