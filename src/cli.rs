//! The command line: flags → engine settings, run the probe, print the report, pick the exit
//! code. Bad input gets one line on stderr and a distinct exit code, never a panic.

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::engine::client_cert::ClientCert;
use crate::engine::events::Events;
use crate::engine::settings::{
    CaBundle, CaSource, IpFamily, ProbeSettings, ProxyInputs, ResolveOverride,
};
use crate::engine::verdict::{Kind, exit};
use crate::replay::export::ExportFormat;
use crate::replay::settings::{Field, PolicyKind, ReplaySettings};
use crate::report::{self, Format, Report};
use crate::stdio::{print_out, say};

/// Where the result goes: the dashboard, or a report printed in one format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    Dashboard,
    Print(Format),
}

/// What `--format` accepts: the report's formats, and OpenMetrics, which only a watch run
/// writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FormatArg {
    Text,
    Json,
    #[value(name = "openmetrics")]
    OpenMetrics,
}

/// Find out why a connection fails: DNS, TCP, TLS and HTTP, one layer at a time.
#[derive(Parser, Debug)]
#[command(
    name = "netpeel",
    version,
    about,
    max_term_width = 100,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The URL to probe (http:// or https://)
    #[arg(required_unless_present = "verdict_table")]
    pub url: Option<String>,

    /// Print the report in this format instead of opening the dashboard: text (the default
    /// whenever stdin or stdout is not a terminal), json (one document on stdout, schema:
    /// assets/report.schema.json) or, with --watch, openmetrics
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,

    /// The same as --format text
    #[arg(long, conflicts_with_all = ["json", "format"])]
    pub report: bool,

    /// The same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// HTTP method
    #[arg(
        short = 'X',
        long = "request",
        value_name = "METHOD",
        default_value = "GET"
    )]
    pub method: String,

    /// Extra request header, "Name: value" (repeatable; "Name:" removes a default header)
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,

    /// User-Agent to send instead of requests' python-requests/VERSION (an -H wins over it)
    #[arg(short = 'A', long = "user-agent", value_name = "NAME")]
    pub user_agent: Option<String>,

    /// Seconds allowed for each TCP connect, and for the TLS handshake (as requests does)
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    pub connect_timeout: Duration,

    /// Longest gap allowed between two reads, in seconds (requests' read timeout)
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_secs)]
    pub read_timeout: Duration,

    /// Seconds allowed for the DNS lookup
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_secs)]
    pub dns_timeout: Duration,

    /// Deadline for the whole probe, in seconds (curl's --max-time)
    #[arg(short = 'm', long, value_name = "SECS", value_parser = parse_secs)]
    pub max_time: Option<Duration>,

    /// Ask this DNS server instead of the system's (UDP, TCP fallback)
    #[arg(long = "dns", value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,

    /// Pin HOST:PORT to ADDR without DNS, as curl does (repeatable; ADDR may be a list)
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = parse_resolve)]
    pub resolve: Vec<ResolveOverride>,

    /// Use IPv4 addresses only
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 addresses only
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,

    /// Use this proxy (http://, socks5://, socks5h://) instead of the *_proxy variables;
    /// "" turns proxies off
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,

    /// Hosts that bypass the proxy, curl's meaning (comma list, "*" for all); replaces NO_PROXY
    #[arg(long, value_name = "LIST")]
    pub noproxy: Option<String>,

    /// Also probe every resolved address on its own and show a row per address
    #[arg(long)]
    pub all_addresses: bool,

    /// Offer HTTP/2 (h2) in ALPN, as curl and browsers do (requests speaks HTTP/1.1 only)
    #[arg(long)]
    pub http2: bool,

    /// Do not follow redirects (requests follows up to 30)
    #[arg(long)]
    pub no_follow: bool,

    /// Most redirects to follow before giving up, as requests' TooManyRedirects (at most 100)
    #[arg(long, value_name = "N", default_value = "30", value_parser = parse_max_redirects)]
    pub max_redirects: usize,

    /// Trust the CA certificates in this PEM file (or OpenSSL CA directory) instead of the
    /// built-in roots (else REQUESTS_CA_BUNDLE, then CURL_CA_BUNDLE, as requests reads them)
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,

    /// The Python whose certifi requests would use (default python3; asked once, within 3 s,
    /// when no CA bundle variable is set; for an http:// URL only when given)
    #[arg(long, value_name = "PATH")]
    pub python: Option<String>,

    /// When the server leaves out its intermediate certificate, fetch it from the leaf's AIA
    /// URL (same timeouts, at most 64 KiB) and check the chain again
    #[arg(long)]
    pub fetch_intermediate: bool,

    /// Connect even if the certificate does not verify (still reports what verification found)
    #[arg(short = 'k', long)]
    pub insecure: bool,

    /// Client certificate (PEM) for mutual TLS, as curl's --cert and requests' cert=; the key
    /// may be in the same file
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// Private key (PEM) of --cert, as curl's --key (requests' cert=(cert, key))
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// Trust these CAs (PEM) for an https:// proxy's certificate (else the same as the target's,
    /// as requests' verify= covers both)
    #[arg(long, value_name = "FILE")]
    pub proxy_cacert: Option<PathBuf>,

    /// Do not verify an https:// proxy's certificate (-k does it too, as in requests)
    #[arg(long)]
    pub proxy_insecure: bool,

    /// Body bytes kept in memory, at most 16 MiB (the rest is counted, not kept)
    #[arg(long, value_name = "BYTES", default_value = "1048576", value_parser = parse_max_body)]
    pub max_body: usize,

    /// No colour in the report (NO_COLOR is honoured too)
    #[arg(long)]
    pub no_color: bool,

    /// Plain ASCII, no box drawing or Unicode symbols, in the dashboard and the text report (for limited terminals)
    #[arg(long)]
    pub ascii: bool,

    /// Dashboard: do not print the final report to the screen on quit
    #[arg(long)]
    pub no_report_on_exit: bool,

    /// Print the verdict table (every failure kind and its equivalents) as Markdown and exit
    #[arg(long)]
    pub verdict_table: bool,

    /// Watch: probe again and again (fresh each time) and report the run: failures by layer,
    /// latency percentiles, addresses, timeline; Ctrl-C ends it and prints the summary
    #[arg(long, help_heading = "Watch")]
    pub watch: bool,

    /// Probes to run (default: until stopped)
    #[arg(short = 'c', long, value_name = "N", requires = "watch", value_parser = parse_count, help_heading = "Watch")]
    pub count: Option<u64>,

    /// Seconds from one probe's start to the next (0: back to back; never overlapping)
    #[arg(short = 'i', long, value_name = "SECS", default_value = "1", value_parser = parse_interval, requires = "watch", help_heading = "Watch")]
    pub interval: Duration,

    /// Serve the run's metrics (OpenMetrics) at http://ADDR/metrics while it runs
    #[arg(long, value_name = "ADDR", requires = "watch", help_heading = "Watch")]
    pub metrics_listen: Option<SocketAddr>,

    // The replay's counts, seconds and lists stay text here: `replay_settings` hands them to
    // `ReplaySettings::set_field`, the check the dashboard's editor uses too.
    /// Replay: retries in all, as urllib3's Retry(total=N); any retry flag runs the whole
    /// attempt sequence and reports every attempt
    #[arg(long, value_name = "N", help_heading = "Replay")]
    pub retries: Option<String>,

    /// Retries on connect errors (Retry(connect=N))
    #[arg(long, value_name = "N", help_heading = "Replay")]
    pub connect_retries: Option<String>,

    /// Retries on read errors (Retry(read=N))
    #[arg(long, value_name = "N", help_heading = "Replay")]
    pub read_retries: Option<String>,

    /// Retries on statuses in --status-forcelist (Retry(status=N))
    #[arg(long, value_name = "N", help_heading = "Replay")]
    pub status_retries: Option<String>,

    /// Backoff factor in seconds (Retry(backoff_factor=F))
    #[arg(long, value_name = "F", help_heading = "Replay")]
    pub backoff_factor: Option<String>,

    /// Longest backoff sleep in seconds (Retry(backoff_max=F), default 120)
    #[arg(long, value_name = "F", help_heading = "Replay")]
    pub backoff_max: Option<String>,

    /// Random extra sleep up to F seconds (Retry(backoff_jitter=F))
    #[arg(long, value_name = "F", help_heading = "Replay")]
    pub backoff_jitter: Option<String>,

    /// Statuses to retry, e.g. 502,503,504 (Retry(status_forcelist=…))
    #[arg(long, value_name = "LIST", help_heading = "Replay")]
    pub status_forcelist: Option<String>,

    /// Methods that may be retried after a read error or a status (default: idempotent ones)
    #[arg(long, value_name = "LIST", help_heading = "Replay")]
    pub allowed_methods: Option<String>,

    /// Retry policy: urllib3 (default), loop, curl, fixed, full-jitter
    #[arg(
        long,
        value_name = "NAME",
        value_enum,
        hide_possible_values = true,
        help_heading = "Replay"
    )]
    pub retry_policy: Option<PolicyKind>,

    /// Ignore Retry-After (Retry(respect_retry_after_header=False))
    #[arg(long, help_heading = "Replay")]
    pub no_retry_after: bool,

    /// Longest Retry-After honoured, in seconds (Retry(retry_after_max=S), default 21600 = 6 h)
    #[arg(long, value_name = "S", help_heading = "Replay")]
    pub retry_after_max: Option<String>,

    /// Print these settings as a Python requests snippet or a curl command line, and exit
    /// (with --reuse-after or --idle-sweep: measure first, then print the fix)
    #[arg(
        long,
        value_name = "python|curl",
        value_enum,
        hide_possible_values = true,
        help_heading = "Replay"
    )]
    pub export: Option<ExportFormat>,

    /// Reuse: request, keep the connection idle for each gap (seconds, comma list, each on its
    /// own connection), then request again on it as a requests.Session would
    #[arg(long, value_name = "GAPS", value_parser = crate::reuse::parse_gaps, help_heading = "Reuse")]
    pub reuse_after: Option<crate::reuse::Gaps>,

    /// Reuse: find after how long idle (up to MAX seconds) the far end closes a connection or
    /// stops answering on it
    #[arg(long, value_name = "MAX", value_parser = crate::reuse::parse_sweep_max, help_heading = "Reuse")]
    pub idle_sweep: Option<Duration>,
}

/// Modes that do not start from a URL.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum Command {
    /// Explain a pasted error (a requests/urllib3, httpx or aiohttp traceback or log line, or
    /// curl's output), then probe the same URL and compare "then" with "now"
    Explain(ExplainArgs),
}

/// `netpeel explain [FILE]`.
#[derive(clap::Args, Debug)]
pub(crate) struct ExplainArgs {
    /// File holding the error (default: stdin); at most 1 MiB is read
    pub file: Option<PathBuf>,

    /// Only read the error: no probe, no network at all
    #[arg(long)]
    pub no_probe: bool,

    /// Probe this URL instead of the one the error names (for errors that name none)
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// text (default) or json (the report with an `explained` object; with --no-probe, the
    /// explanation alone)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// The same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// No colour
    #[arg(long)]
    pub no_color: bool,

    /// Probe through this proxy instead of the one the error names (else the *_proxy
    /// variables); "" turns proxies off
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,

    /// Connect timeout for the probe (default: the error's, else 10)
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub connect_timeout: Option<Duration>,

    /// Read timeout for the probe (default: the error's, else 30)
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub read_timeout: Option<Duration>,

    /// Deadline for the whole probe (default: curl's -m from the error, else none)
    #[arg(short = 'm', long, value_name = "SECS", value_parser = parse_secs)]
    pub max_time: Option<Duration>,

    /// Ask this DNS server instead of the system's
    #[arg(long = "dns", value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,

    /// Pin HOST:PORT to ADDR without DNS, as curl does (repeatable)
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = parse_resolve)]
    pub resolve: Vec<ResolveOverride>,

    /// Trust the CA certificates in this PEM file (else REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE)
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,

    /// Connect even if the certificate does not verify
    #[arg(short = 'k', long)]
    pub insecure: bool,
}

impl Args {
    /// The format asked for, by `--format` or one of its aliases.
    fn format(&self) -> Option<FormatArg> {
        self.format
            .or(self.report.then_some(FormatArg::Text))
            .or(self.json.then_some(FormatArg::Json))
    }

    /// The dashboard is for a person at a terminal (`interactive`: stdin and stdout both are
    /// one) who asked for no output format; anyone else gets the text report. The error is
    /// the one line to print.
    pub(crate) fn output(&self, interactive: bool) -> Result<Output, String> {
        match self.format() {
            Some(FormatArg::Text) => Ok(Output::Print(Format::Text)),
            Some(FormatArg::Json) => Ok(Output::Print(Format::Json)),
            Some(FormatArg::OpenMetrics) => {
                Err("--format openmetrics describes a run of probes: add --watch".into())
            }
            None if interactive => Ok(Output::Dashboard),
            None => Ok(Output::Print(Format::Text)),
        }
    }

    /// The watch run's settings; the error is the one line to print.
    fn watch_options(&self, interactive: bool) -> Result<crate::watch::WatchOptions, String> {
        use crate::watch::WatchOutput;
        if wants_replay(self) || self.export.is_some() {
            return Err(
                "replay flags (--retries, --backoff-factor, --export, …) cannot be combined with --watch: a watch run repeats single probes; replay one probe without --watch".into(),
            );
        }
        let output = match self.format() {
            Some(FormatArg::Json) => WatchOutput::Json,
            Some(FormatArg::OpenMetrics) => WatchOutput::OpenMetrics,
            None if interactive => WatchOutput::Dashboard {
                theme: crate::tui::Theme {
                    color: color_wanted(self),
                    ascii: self.ascii,
                },
                report_on_exit: !self.no_report_on_exit,
            },
            Some(FormatArg::Text) | None => WatchOutput::Text {
                color: capable_terminal() && color_wanted(self),
            },
        };
        Ok(crate::watch::WatchOptions {
            count: self.count,
            interval: self.interval,
            output,
            metrics_listen: self.metrics_listen,
        })
    }
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    crate::replay::settings::parse_timeout(s)
}

/// Most probes `--count` runs: a year of one a second; the statistics do not grow with it.
const MAX_WATCH_COUNT: usize = 100_000_000;

fn parse_count(s: &str) -> Result<u64, String> {
    match parse_bounded(s, MAX_WATCH_COUNT, "probes")? {
        0 => Err("--count must be at least 1".into()),
        n => Ok(n as u64),
    }
}

/// `--interval`: zero (back to back) or a duration as the timeouts take it.
fn parse_interval(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(0.0) => Ok(Duration::ZERO),
        _ => parse_secs(s),
    }
}

/// Most redirects `--max-redirects` allows: every hop is kept for the report, so memory and
/// time stay bounded whatever the server does (requests' default is 30, browsers' about 20).
const MAX_REDIRECTS: usize = 100;
/// Most body bytes `--max-body` keeps: only a short preview is ever shown.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

fn parse_bounded(s: &str, most: usize, unit: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of {unit}"))?;
    if n > most {
        return Err(format!("'{s}' is more than {most} {unit}"));
    }
    Ok(n)
}

fn parse_max_redirects(s: &str) -> Result<usize, String> {
    parse_bounded(s, MAX_REDIRECTS, "redirects")
}

fn parse_max_body(s: &str) -> Result<usize, String> {
    parse_bounded(s, MAX_BODY_BYTES, "bytes")
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    parse_ip(s)
        .map(|ip| SocketAddr::new(ip, 53))
        .ok_or_else(|| format!("'{s}' is not IP, IP:PORT or [IPv6]:PORT"))
}

/// A host as the URL parser would store it: IDNA (punycode), lower case, no trailing dot.
pub(crate) fn normalize_host(host: &str) -> Option<String> {
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    match url::Host::parse(trimmed).ok()? {
        url::Host::Domain(d) => Some(d.to_ascii_lowercase()),
        _ => None,
    }
}

fn parse_resolve(s: &str) -> Result<ResolveOverride, String> {
    let bad = || format!("'{s}' is not HOST:PORT:ADDR[,ADDR...]");
    let (host, rest) = s.split_once(':').ok_or_else(bad)?;
    let (port, addrs) = rest.split_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let addrs: Vec<IpAddr> = addrs
        .split(',')
        .map(|a| parse_ip(a.trim()).ok_or_else(bad))
        .collect::<Result<_, _>>()?;
    if host.is_empty() || port == 0 || addrs.is_empty() {
        return Err(bad());
    }
    let host = normalize_host(host).ok_or_else(bad)?;
    Ok(ResolveOverride { host, port, addrs })
}

fn parse_header(h: &str) -> Result<(String, String), String> {
    // The value may be a secret: an error quotes only the header name's characters at the
    // start (`X-Api-Key=SECRET` quotes `X-Api-Key`).
    let quoted_end = h
        .find(|c: char| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)))
        .unwrap_or(h.len());
    let quoted = &h[..quoted_end];
    let (name, value) = h
        .split_once(':')
        .ok_or_else(|| format!("header '{quoted}…' has no ':' (expected \"Name: value\")"))?;
    let name = name.trim();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return Err(format!("header name '{name}' is not a valid HTTP token"));
    }
    // A line break or another control character in the value is not a usage error: the URL
    // stage names what requests would do with it (`invalid_header`, `unsendable_header`).
    Ok((name.to_string(), value.trim().to_string()))
}

fn valid_method(m: &str) -> bool {
    !m.is_empty()
        && m.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Which CA bundle applies: the flag, then the variables requests reads, in its order.
/// (SSL_CERT_FILE is OpenSSL's: curl reads it, requests does not.)
fn choose_ca(
    flag: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<(PathBuf, String)> {
    if let Some(p) = flag {
        return Some((p.to_path_buf(), "--cacert".into()));
    }
    ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"]
        .iter()
        .find_map(|var| {
            env(var)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (PathBuf::from(v), var.to_string()))
        })
}

fn is_https(url: &str) -> bool {
    url.trim().to_ascii_lowercase().starts_with("https:")
}

/// Largest CA bundle read: the system's is about 200 KiB; `/dev/zero` must not fill memory.
const MAX_CA_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

/// The bundle's bytes: a regular file only (a FIFO or a device would block or never end), and
/// at most [`MAX_CA_BUNDLE_BYTES`].
pub(crate) fn read_ca_file(path: &Path, from: &str) -> Result<Vec<u8>, String> {
    read_pem_file(path, from, MAX_CA_BUNDLE_BYTES, "a CA bundle")
}

/// A client certificate with its chain and key is a few KiB.
const MAX_CLIENT_CERT_BYTES: u64 = 1024 * 1024;

/// A PEM file's bytes: a regular file only (a FIFO or a device would block or never end), and
/// at most `limit` bytes; `what` names what it should be in the error.
fn read_pem_file(path: &Path, from: &str, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let shown = path.display();
    let cannot = |e: std::io::Error| format!("{from} {shown}: cannot read it: {e}");
    // Opened once, without blocking (a FIFO would block the open itself), and the opened file
    // checked: the path could be swapped between a check of the path and the open.
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(format!("{from} {shown}: not a regular file"));
    }
    let too_big = || format!("{from} {shown}: larger than {limit} bytes, not {what}");
    if meta.len() > limit {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    // The size was checked, but the file may grow while it is read.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}

fn load_ca(path: &Path, from: &str) -> Result<CaBundle, String> {
    let bytes = read_ca_file(path, from)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{from} {}: not a PEM bundle: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{from} {}: contains no certificates",
            path.display()
        ));
    }
    Ok(CaBundle {
        source: CaSource::Bundle {
            path: path.to_path_buf(),
            from: from.to_string(),
        },
        certs,
    })
}

/// `--cert` (and `--key`, else the key from the certificate's file, as curl reads it): PEM only,
/// the key unencrypted and matching the certificate. Checked here so a bad file is a usage
/// error before any network, not a TLS failure.
fn load_client_cert(cert: &Path, key: Option<&Path>) -> Result<ClientCert, String> {
    // requests raises OSError for a missing file, SSLError for a bad one; curl exits 58 for
    // both: netpeel refuses them before any network, as a usage error.
    let cert_bytes = read_pem_file(cert, "--cert", MAX_CLIENT_CERT_BYTES, "a certificate")?;
    let shown = cert.display();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--cert {shown}: not a PEM certificate: {e}"))?;
    if chain.is_empty() {
        return Err(format!(
            "--cert {shown}: contains no PEM certificate (netpeel reads PEM only, not DER or PKCS#12)"
        ));
    }
    let (key_path, key_bytes, from) = match key {
        Some(k) => (
            k,
            read_pem_file(k, "--key", MAX_CLIENT_CERT_BYTES, "a private key")?,
            "--key",
        ),
        None => (cert, cert_bytes.clone(), "--cert"),
    };
    let key_shown = key_path.display();
    if String::from_utf8_lossy(&key_bytes).contains("ENCRYPTED PRIVATE KEY") {
        return Err(format!(
            "{from} {key_shown}: the private key is encrypted; netpeel needs it unencrypted (openssl pkey -in KEY -out plain.key)"
        ));
    }
    let private_key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| match key {
        Some(_) => format!("--key {key_shown}: not a PEM private key: {e}"),
        None => {
            format!("--cert {key_shown}: has no PEM private key; give it with --key FILE ({e})")
        }
    })?;
    ClientCert::new(
        cert.to_path_buf(),
        key_path.to_path_buf(),
        chain,
        private_key,
    )
    .map_err(|e| {
        format!(
            "--cert {shown} with {from} {key_shown}: {e} (requests raises SSLError, curl exits 58)"
        )
    })
}

/// Build engine settings from parsed flags; the error is the one line to print.
pub(crate) fn settings_from(
    args: &Args,
    env: &dyn Fn(&str) -> Option<String>,
    proxy_env: Vec<(String, String)>,
) -> Result<ProbeSettings, String> {
    let url = args.url.clone().unwrap_or_default();
    let mut s = ProbeSettings::new(url);
    let method = args.method.trim().to_ascii_uppercase();
    if !valid_method(&method) {
        return Err(format!("'{}' is not a valid HTTP method", args.method));
    }
    s.method = method;
    // -A first, so that a User-Agent given with -H (the later value) wins, as in curl.
    s.headers = args
        .user_agent
        .iter()
        .map(|ua| Ok(("User-Agent".to_string(), ua.trim().to_string())))
        .chain(args.headers.iter().map(|h| parse_header(h)))
        .collect::<Result<_, String>>()?;
    s.connect_timeout = args.connect_timeout;
    s.read_timeout = args.read_timeout;
    s.dns_timeout = args.dns_timeout;
    s.max_time = args.max_time;
    s.dns_server = args.dns_server;
    s.resolve = args.resolve.clone();
    s.family = match (args.ipv4, args.ipv6) {
        (true, _) => IpFamily::V4,
        (_, true) => IpFamily::V6,
        _ => IpFamily::Any,
    };
    let chosen = choose_ca(args.cacert.as_deref(), env);
    // An http:// URL whose redirects are followed may lead to https: that hop verifies with
    // requests' store and carries the matrix, as a first https hop does.
    if is_https(&s.url) || !args.no_follow {
        let via_redirect = !is_https(&s.url);
        // Starting Python costs every plain http probe; it is asked for one only when given.
        let python = match (&args.python, via_redirect) {
            (Some(p), _) => Some(p.as_str()),
            (None, false) => Some("python3"),
            (None, true) => None,
        };
        match crate::trust_env::setup(args.cacert.as_deref(), chosen.clone(), python, env) {
            Ok(trust) => {
                // Once a redirect does lead to https the verdict itself is this problem.
                if let Some(p) = trust.ca_problem.as_ref().filter(|_| via_redirect) {
                    let problem = format!("{} {}: {}", p.variable, p.path.display(), p.detail);
                    s.plain_http_notes.push(fails_only_on_https(&problem));
                }
                s.ca = trust.ca;
                // requests reads the variables only when verify is True: -k (verify=False)
                // never opens the bundle, so a bundle pointing nowhere does not fail it.
                if !args.insecure {
                    s.ca_problem = trust.ca_problem;
                }
                s.trust_stores = trust.stores;
                s.trust_notes.extend(trust.notes);
            }
            // requests reads the bundle only for https: a stale REQUESTS_CA_BUNDLE does not
            // break an http:// request (a redirect to https would then fail in requests).
            Err(e) if via_redirect && chosen.as_ref().is_some_and(|(_, f)| f != "--cacert") => {
                s.notes.push(fails_only_on_https(&e));
            }
            Err(e) => return Err(e),
        }
    } else if let Some((path, from)) = &chosen {
        match load_ca(path, from) {
            Ok(ca) => s.ca = ca,
            Err(e) if from != "--cacert" => {
                s.notes.push(fails_only_on_https(&e));
            }
            Err(e) => return Err(e),
        }
    }
    s.fetch_intermediate = args.fetch_intermediate;
    s.insecure = args.insecure;
    if let Some(cert) = &args.cert {
        s.client_cert = Some(load_client_cert(cert, args.key.as_deref())?);
    }
    if let Some(path) = &args.proxy_cacert {
        s.proxy_ca = Some(load_ca(path, "--proxy-cacert")?);
    }
    s.proxy_insecure = args.proxy_insecure;
    s.max_body_bytes = args.max_body;
    s.follow_redirects = !args.no_follow;
    s.http2 = args.http2;
    s.all_addresses = args.all_addresses;
    s.max_redirects = args.max_redirects;
    s.proxy_inputs = ProxyInputs {
        flag_proxy: args.proxy.clone(),
        flag_noproxy: args.noproxy.clone(),
        env: proxy_env,
    };
    // A URL that does not parse fails in the url stage; it needs no proxy.
    if let Ok(url) = url::Url::parse(s.url.trim()) {
        let mut choice = crate::engine::proxy::decide(&url, &s.proxy_inputs)?;
        s.notes.append(&mut choice.notes);
        s.proxy = choice;
    }
    Ok(s)
}

/// Whether any replay flag was given: then the whole attempt sequence runs.
fn wants_replay(args: &Args) -> bool {
    args.retries.is_some()
        || args.connect_retries.is_some()
        || args.read_retries.is_some()
        || args.status_retries.is_some()
        || args.backoff_factor.is_some()
        || args.backoff_max.is_some()
        || args.backoff_jitter.is_some()
        || args.status_forcelist.is_some()
        || args.allowed_methods.is_some()
        || args.retry_policy.is_some()
        || args.no_retry_after
        || args.retry_after_max.is_some()
}

/// Replay settings from the flags, on top of the probe's timeouts and method. Without retry
/// flags: what plain requests does (no retries). Every value goes through the settings' own
/// check, so the command line refuses what the dashboard's editor refuses, in the same words.
pub(crate) fn replay_settings(
    args: &Args,
    probe: &ProbeSettings,
) -> Result<ReplaySettings, String> {
    let mut rs = if wants_replay(args) {
        // A Retry object on an HTTPAdapter: urllib3's defaults, then the flags.
        ReplaySettings::urllib3_default()
    } else {
        ReplaySettings::default()
    };
    rs = crate::replay::run::with_probe_timeouts(rs, probe);
    let typed = [
        (Field::Total, &args.retries),
        (Field::ConnectRetries, &args.connect_retries),
        (Field::ReadRetries, &args.read_retries),
        (Field::StatusRetries, &args.status_retries),
        (Field::BackoffFactor, &args.backoff_factor),
        (Field::BackoffMax, &args.backoff_max),
        (Field::BackoffJitter, &args.backoff_jitter),
        (Field::Forcelist, &args.status_forcelist),
        (Field::AllowedMethods, &args.allowed_methods),
        (Field::RetryAfterMax, &args.retry_after_max),
    ];
    for (field, text) in typed {
        if let Some(text) = text {
            rs.set_field(field, text).map_err(|e| e.to_string())?;
        }
    }
    if let Some(policy) = args.retry_policy {
        rs.policy = policy;
    }
    if args.no_retry_after {
        rs.respect_retry_after = false;
    }
    // The timeouts and the method came from the probe's flags, checked there; this holds the
    // whole to the same rules the editor keeps.
    rs.validate().map_err(|e| e.to_string())?;
    Ok(rs)
}

/// The verdict table as Markdown, generated from the code so the README cannot drift.
pub fn verdict_table_markdown() -> String {
    let mut out = String::from(
        "| kind | layer | meaning | requests raises | urllib3 cause | timeout | curl exit | netpeel exit |\n|---|---|---|---|---|---|---|---|\n",
    );
    for kind in Kind::ALL {
        let i = kind.info();
        let layer = i.layer.map(|l| l.name()).unwrap_or("any");
        let exit_code = i
            .layer
            .map(|l| crate::engine::verdict::exit_code(l, *kind).to_string())
            .unwrap_or_else(|| "by layer".into());
        let governing = i
            .governing_timeout
            .map(|t| t.flag().trim_start_matches("--").to_string())
            .unwrap_or_else(|| "-".into());
        out.push_str(&format!(
            "| `{}` | {layer} | {} | {} | {} | {governing} | {} | {exit_code} |\n",
            kind.name(),
            i.meaning,
            i.requests_exception
                .map(|e| format!("`{e}`"))
                .unwrap_or_else(|| "(none)".into()),
            i.urllib3_cause
                .map(|e| format!("`{e}`"))
                .unwrap_or_else(|| "-".into()),
            i.curl_exit
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into()),
        ));
    }
    out
}

/// `code`, or the internal-error code when the output could not be written.
fn written(ok: bool, code: i32) -> i32 {
    if ok { code } else { exit::INTERNAL as i32 }
}

fn usage_error(msg: &str) -> i32 {
    say(msg);
    exit::USAGE as i32
}

/// The single-threaded runtime both the report and the dashboard run on; None (after saying
/// why on stderr) when it cannot start.
pub(crate) fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => Some(r),
        Err(e) => {
            say(&format!("cannot start the async runtime: {e}"));
            None
        }
    }
}

/// Turn clap's multi-line error into one line.
fn one_line(err: &clap::Error) -> String {
    // clap's message is "error: …" plus detail lines, then a blank line and "Usage: …".
    let text = err.to_string();
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty() && !l.starts_with("Usage:"))
        .collect();
    let joined = message.join(" ");
    let joined = joined.trim_start_matches("error: ");
    let joined = if joined.is_empty() {
        "invalid arguments"
    } else {
        joined
    };
    format!("{joined} (see netpeel --help)")
}

pub fn main() -> i32 {
    std::panic::set_hook(Box::new(|info| {
        // A panic is a bug in netpeel; say so in one line, without a backtrace.
        say(&format!("internal error: {info} (please report this)"));
        std::process::exit(exit::INTERNAL as i32);
    }));
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    0
                }
                _ => usage_error(&one_line(&e)),
            };
        }
    };
    if let Some(Command::Explain(explain)) = &args.command {
        return explain_mode(explain);
    }
    if args.verdict_table {
        return written(print_out(&verdict_table_markdown()), 0);
    }
    let env = |k: &str| std::env::var(k).ok();
    let proxy_env = crate::engine::proxy_select::proxy_env(crate::engine::proxy_select::env_pairs(
        std::env::vars_os(),
    ));
    let settings = match settings_from(&args, &env, proxy_env) {
        Ok(s) => s,
        Err(msg) => return usage_error(&msg),
    };
    if args.reuse_after.is_some() || args.idle_sweep.is_some() {
        return reuse_mode(&args, &settings);
    }
    if args.watch {
        return watch_mode(&args, settings);
    }
    let replay = match replay_settings(&args, &settings) {
        Ok(r) => r,
        Err(msg) => return usage_error(&msg),
    };
    if let Some(format) = args.export {
        return export_mode(format, settings, &replay);
    }
    let interactive = interactive();
    let output = match args.output(interactive) {
        Ok(o) => o,
        Err(msg) => return usage_error(&msg),
    };
    let Some(runtime) = runtime() else {
        return exit::INTERNAL as i32;
    };
    match output {
        // On a terminal the dashboard runs the replay too (its timeline, editor and compare view).
        Output::Dashboard => {
            let opts = crate::tui::TuiOptions {
                color: color_wanted(&args),
                ascii: args.ascii,
                report_on_exit: !args.no_report_on_exit,
            };
            // `p` pastes an error: its probe keeps this command line's DNS, pins and CA.
            let flags = PasteProbeFlags {
                dns_server: args.dns_server,
                resolve: args.resolve.clone(),
                cacert: args.cacert.clone(),
                insecure: args.insecure,
            };
            let paste = crate::tui::PasteSetup {
                overrides: crate::explain::plan::Overrides::default(),
                settings_for: Box::new(move |p| plan_settings(p, &flags)),
                explained: None,
            };
            crate::tui::run(runtime, settings, replay, opts, paste)
        }
        Output::Print(format) => {
            let replaying = wants_replay(&args);
            let color = format == Format::Text && capable_terminal() && color_wanted(&args);
            let look = Look {
                color,
                ascii: args.ascii && format == Format::Text,
            };
            print_report(&runtime, settings, replay, replaying, format, look)
        }
    }
}

/// Explain mode (`netpeel explain`): read and explain the paste, then probe what it names with
/// the usual flags' machinery (`settings_from`), the paste's proxy and timeouts filling in what
/// the flags leave open. The mode itself is in `crate::explain`. A file explained at a terminal
/// opens the dashboard with the "then" panel and the probe running.
fn explain_mode(ex: &ExplainArgs) -> i32 {
    use crate::explain::{self, plan, run};
    let (text, truncated) = match run::read_input(ex.file.as_deref()) {
        Ok(t) => t,
        Err(msg) => return usage_error(&msg),
    };
    let Some(explained) = explain::explain(&text, truncated) else {
        return usage_error(explain::UNRECOGNISED);
    };
    let format = ex
        .format
        .or(ex.json.then_some(Format::Json))
        .unwrap_or(Format::Text);
    let color = !ex.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let output = run::Output {
        format,
        color: format == Format::Text && std::io::stdout().is_terminal() && color,
    };
    if ex.no_probe {
        return run::print_alone(
            &explained,
            "Not probed (--no-probe): no network was touched.",
            output,
        );
    }
    let overrides = explain_overrides(ex);
    let Some(probe) = plan::plan(&explained, &overrides) else {
        return run::print_alone(
            &explained,
            "Not probed: the text names no host. Give the URL with --url to compare with now.",
            output,
        );
    };
    let flags = PasteProbeFlags {
        dns_server: ex.dns_server,
        resolve: ex.resolve.clone(),
        cacert: ex.cacert.clone(),
        insecure: ex.insecure,
    };
    let settings = match plan_settings(&probe, &flags) {
        Ok(s) => s,
        Err(msg) => return usage_error(&msg),
    };
    let Some(runtime) = runtime() else {
        return exit::INTERNAL as i32;
    };
    // A file explained by a person at a terminal: the dashboard, its "then" panel over the
    // probe. A paste read from stdin, or any output format, prints as before.
    let dashboard = ex.file.is_some() && ex.format.is_none() && !ex.json && interactive();
    if !dashboard {
        return run::probe_and_compare(&runtime, &explained, settings, output);
    }
    let opts = crate::tui::TuiOptions {
        color,
        ascii: false,
        report_on_exit: true,
    };
    let paste = crate::tui::PasteSetup {
        overrides,
        settings_for: Box::new(move |p| plan_settings(p, &flags)),
        explained: Some(explained),
    };
    let replay = crate::replay::run::with_probe_timeouts(ReplaySettings::default(), &settings);
    crate::tui::run(runtime, settings, replay, opts, paste)
}

/// `netpeel explain`'s flags that beat what the paste says.
fn explain_overrides(ex: &ExplainArgs) -> crate::explain::plan::Overrides {
    crate::explain::plan::Overrides {
        url: ex.url.clone(),
        proxy: ex.proxy.clone(),
        connect_timeout: ex.connect_timeout,
        read_timeout: ex.read_timeout,
        max_time: ex.max_time,
    }
}

/// The flags of the command line that carry over to the probe of a pasted error (the rest
/// comes from the paste: URL, proxy, timeouts).
#[derive(Clone, Debug, Default)]
struct PasteProbeFlags {
    dns_server: Option<SocketAddr>,
    resolve: Vec<ResolveOverride>,
    cacert: Option<PathBuf>,
    insecure: bool,
}

/// The probe's settings for `plan`: the command line's defaults, then what the paste says
/// (proxy, timeouts, with explain's own flags already on top), then `flags`. The environment
/// is read here (the `*_proxy` and CA variables), as for `netpeel URL`.
fn plan_settings(
    plan: &crate::explain::plan::ProbePlan,
    flags: &PasteProbeFlags,
) -> Result<ProbeSettings, String> {
    let mut args =
        Args::try_parse_from(["netpeel", plan.url.as_str()]).map_err(|e| one_line(&e))?;
    if let Some(t) = plan.connect_timeout {
        args.connect_timeout = t;
    }
    if let Some(t) = plan.read_timeout {
        args.read_timeout = t;
    }
    args.max_time = plan.max_time;
    args.proxy = plan.proxy.clone();
    args.dns_server = flags.dns_server;
    args.resolve = flags.resolve.clone();
    args.cacert = flags.cacert.clone();
    args.insecure = flags.insecure;
    let env = |k: &str| std::env::var(k).ok();
    let proxy_env = crate::engine::proxy_select::proxy_env(crate::engine::proxy_select::env_pairs(
        std::env::vars_os(),
    ));
    settings_from(&args, &env, proxy_env)
}

/// Watch mode (`--watch`): its flags checked here, the mode itself in `crate::watch`.
fn watch_mode(args: &Args, settings: ProbeSettings) -> i32 {
    let interactive = interactive();
    let opts = match args.watch_options(interactive) {
        Ok(o) => o,
        Err(msg) => return usage_error(&msg),
    };
    let Some(runtime) = runtime() else {
        return exit::INTERNAL as i32;
    };
    crate::watch::run(&runtime, settings, &opts)
}

/// Reuse mode (`--reuse-after`, `--idle-sweep`): its flags checked here, the mode itself in
/// `crate::reuse`.
fn reuse_mode(args: &Args, settings: &ProbeSettings) -> i32 {
    if args.http2 {
        return usage_error(
            "--reuse-after/--idle-sweep with --http2 is not supported yet (reuse mode probes requests' HTTP/1.1 pool)",
        );
    }
    if wants_replay(args) {
        return usage_error("--reuse-after/--idle-sweep cannot be combined with retry flags");
    }
    if args.watch {
        return usage_error(
            "--reuse-after/--idle-sweep cannot be combined with --watch: each is a mode of its own",
        );
    }
    let request = crate::reuse::ReuseRequest {
        gaps: args.reuse_after.clone().map(|g| g.0).unwrap_or_default(),
        sweep_max: args.idle_sweep,
    };
    let interactive = interactive();
    // `--export` prints the fix for a pipe or a file: no dashboard for it.
    let (format, dashboard) = match args.output(interactive) {
        Ok(Output::Print(format)) => (format, None),
        Ok(Output::Dashboard) if args.export.is_some() => (Format::Text, None),
        Ok(Output::Dashboard) => {
            let dashboard = crate::reuse::run::Dashboard {
                theme: crate::tui::Theme {
                    color: color_wanted(args),
                    ascii: args.ascii,
                },
                report_on_exit: !args.no_report_on_exit,
            };
            (Format::Text, Some(dashboard))
        }
        Err(msg) => return usage_error(&msg),
    };
    let output = crate::reuse::run::Output {
        format,
        color: format == Format::Text && capable_terminal() && color_wanted(args),
        export: args.export,
        dashboard,
    };
    let Some(runtime) = runtime() else {
        return exit::INTERNAL as i32;
    };
    crate::reuse::run::main(&runtime, settings, &request, &output)
}

/// A CA variable requests cannot use, for an http:// URL: requests opens it for https only.
fn fails_only_on_https(problem: &str) -> String {
    format!("{problem}; requests would fail only if a redirect led to https.")
}

/// `--export FORMAT`: the settings as code. A Python export of an https URL first checks the
/// server's certificate (DNS, TCP, proxy and TLS only: no request is sent), so a chain that only
/// the OS store trusts (a private CA, TLS interception) exports with that store as `verify=`.
fn export_mode(format: ExportFormat, settings: ProbeSettings, replay: &ReplaySettings) -> i32 {
    let request = crate::replay::export_request::ExportRequest::from_settings(&settings);
    let wants_check = format == ExportFormat::Python
        && !settings.insecure
        && !matches!(&settings.ca.source,
            crate::engine::settings::CaSource::Bundle { from, .. } if from == "--cacert")
        && settings.url.to_ascii_lowercase().starts_with("https://");
    if !wants_check {
        return written(print_out(&format.render(replay, &request)), 0);
    }
    let Some(runtime) = runtime() else {
        return exit::INTERNAL as i32;
    };
    let origin = crate::redact::url(&settings.url);
    let mut check = settings;
    check.stop_after_tls = true;
    check.follow_redirects = false;
    check.all_addresses = false;
    say(&format!(
        "checking the certificate of {origin} for the export (no request is sent; Ctrl-C skips it)"
    ));
    let probe = crate::engine::probe(check, crate::engine::events::Events::none());
    let Some(outcome) = runtime.block_on(until_interrupted(probe)) else {
        say("interrupted before the certificate check ended: the export has no trust fix");
        return written(
            print_out(&format.render(replay, &request)),
            exit::INTERRUPTED as i32,
        );
    };
    let report = crate::report::build(&outcome);
    let request = request.with_trust_fix(Some(&report));
    say(&export_check_line(&report, request.trust_fix.as_deref()));
    written(print_out(&format.render(replay, &request)), 0)
}

/// What the export's certificate check found, for stderr.
fn export_check_line(report: &crate::report::Report, fix: Option<&std::path::Path>) -> String {
    use crate::engine::stage::{Stage, StageStatus};
    let tls = report.stages.iter().find(|s| s.stage == Stage::Tls);
    match (tls.map(|s| s.status), fix) {
        (_, Some(path)) => format!(
            "only the OS store (or curl's) trusts the chain (a private CA or TLS interception): the export verifies with {}",
            path.display()
        ),
        (Some(StageStatus::Ok), None) => {
            "requests' store verifies the chain: no trust fix needed".into()
        }
        (_, None) => {
            use crate::report::model::StageDetail;
            let kind = report.verdict.kind.map_or("unknown", |k| k.name());
            // A handshake that timed out or was refused has no chain: no store was asked.
            let rows = match tls.and_then(|s| s.detail.as_ref()) {
                Some(StageDetail::Tls(t)) => t.trust.as_slice(),
                _ => &[],
            };
            let what = if rows.is_empty() {
                "the certificate could not be checked"
            } else if rows.iter().all(|row| !row.verified) {
                "no store netpeel knows verifies the chain"
            } else {
                "requests' store does not verify the chain"
            };
            format!("{what} ({kind}): the export has no trust fix")
        }
    }
}

/// stdout is a terminal that can take escape sequences: colour, and the dashboard when stdin
/// is one too. Not TERM=dumb, nor a TERM the terminfo database does not know.
fn capable_terminal() -> bool {
    std::io::stdout().is_terminal() && crate::tui::terminal_usable()
}

/// A person at a terminal the dashboard can drive.
fn interactive() -> bool {
    capable_terminal() && std::io::stdin().is_terminal()
}

/// Colour unless `--no-color` or a non-empty NO_COLOR says otherwise.
fn color_wanted(args: &Args) -> bool {
    !args.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// How the printed text report looks: colour, and `--ascii` for terminals without Unicode.
#[derive(Clone, Copy)]
struct Look {
    color: bool,
    ascii: bool,
}

/// Run the probe (or the replay), print its report, and return the exit code.
fn print_report(
    runtime: &tokio::runtime::Runtime,
    settings: ProbeSettings,
    replay: ReplaySettings,
    replaying: bool,
    format: Format,
    look: Look,
) -> i32 {
    let ran = if replaying {
        announce_budget(&replay, &settings);
        run_replay(runtime, &settings, &replay)
    } else {
        let probe = crate::engine::probe(settings, Events::none());
        runtime
            .block_on(until_interrupted(probe))
            .map(|outcome| (report::build(&outcome), false))
            .ok_or(exit::INTERRUPTED as i32)
    };
    let (report, interrupted) = match ran {
        Ok(r) => r,
        Err(code) => {
            let why = if code == exit::INTERRUPTED as i32 {
                "interrupted"
            } else {
                "internal error: a replay without attempts"
            };
            say(why);
            return code;
        }
    };
    let text = format.render(&report, look.color);
    let text = match look.ascii {
        true => crate::report::ascii::spell(&text).into_owned(),
        false => text,
    };
    if !print_out(&text) {
        return exit::INTERNAL as i32;
    }
    if interrupted {
        say("interrupted");
        return exit::INTERRUPTED as i32;
    }
    report.verdict.exit_code as i32
}

/// A replay that may run long says so before it starts (nothing else is printed until it
/// ends), on stderr so the report stays clean.
fn announce_budget(replay: &ReplaySettings, settings: &ProbeSettings) {
    /// Shorter worst cases start without a word.
    const LONG_S: f64 = 10.0;
    use crate::replay::budget::{UrlStages, worst_case_for};
    let b = worst_case_for(replay, UrlStages::of_probe(settings));
    if !b.unbounded && b.worst_total.as_secs_f64() <= LONG_S {
        return;
    }
    say(&format!(
        "replay: {}; Ctrl-C stops it and reports the attempts made",
        b.summary()
    ));
}

/// Run the replay; the report and whether Ctrl-C cut it short, or the exit code when there is
/// nothing to report. The attempts made so far are kept, so Ctrl-C in a long Retry-After wait
/// still reports them.
fn run_replay(
    runtime: &tokio::runtime::Runtime,
    settings: &ProbeSettings,
    replay: &ReplaySettings,
) -> Result<(Report, bool), i32> {
    let done = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = done.clone();
    let started = std::time::Instant::now();
    let run = crate::replay::run::run(settings, replay, Events::none(), move |a| {
        if let Ok(mut list) = sink.lock() {
            list.push(a.clone());
        }
    });
    let (run, interrupted) = match runtime.block_on(until_interrupted(run)) {
        Some(run) => (run, false),
        None => {
            let attempts = done.lock().map(|l| l.clone()).unwrap_or_default();
            let cut_short =
                crate::replay::run::ReplayRun::interrupted(replay, attempts, started.elapsed())
                    .ok_or(exit::INTERRUPTED as i32)?;
            (cut_short, true)
        }
    };
    report::build_replay(&run)
        .map(|r| (r, interrupted))
        .ok_or(exit::INTERNAL as i32)
}

/// Run `work`; None when Ctrl-C, SIGTERM or SIGHUP (the SSH session went away) arrived first.
pub(crate) async fn until_interrupted<F: std::future::Future>(work: F) -> Option<F::Output> {
    tokio::select! {
        outcome = work => Some(outcome),
        _ = stop_signal() => None,
    }
}

/// The first of Ctrl-C (SIGINT), SIGTERM and SIGHUP.
pub(crate) async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let wait_for = |kind: SignalKind| {
            let mut stream = signal(kind).ok();
            async move {
                match stream.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    // A signal that cannot be watched never arrives.
                    None => std::future::pending::<()>().await,
                }
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = wait_for(SignalKind::terminate()) => {}
            _ = wait_for(SignalKind::hangup()) => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_accept_fractions_and_refuse_nonsense() {
        assert_eq!(parse_secs("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_secs("10"), Ok(Duration::from_secs(10)));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("abc").is_err());
        assert!(parse_secs("NaN").is_err());
        assert!(parse_secs("inf").is_err());
        assert!(parse_secs("4.9e-324").is_err());
        assert!(parse_secs("0.0009").is_err());
        assert_eq!(parse_secs("0.001"), Ok(Duration::from_millis(1)));
    }

    #[test]
    fn redirects_and_kept_body_bytes_are_capped() {
        assert_eq!(parse_max_redirects("30"), Ok(30));
        assert_eq!(parse_max_redirects("100"), Ok(100));
        assert!(parse_max_redirects("101").is_err());
        assert!(parse_max_redirects("18446744073709551616").is_err());
        assert_eq!(parse_max_body("0"), Ok(0));
        assert_eq!(parse_max_body("16777216"), Ok(16 * 1024 * 1024));
        assert!(parse_max_body("18446744073709551615").is_err());
        assert!(parse_max_body("-1").is_err());
    }

    #[test]
    fn resolve_takes_curls_form() {
        let r = parse_resolve("API.internal:8443:127.0.0.2,[::1]").ok();
        assert_eq!(
            r,
            Some(ResolveOverride {
                host: "api.internal".into(),
                port: 8443,
                addrs: vec![
                    IpAddr::from([127, 0, 0, 2]),
                    IpAddr::from([0, 0, 0, 0, 0, 0, 0, 1])
                ],
            })
        );
        assert!(parse_resolve("host:443").is_err());
        let idna = parse_resolve("Bücher.test.:80:127.0.0.1")
            .ok()
            .map(|r| r.host);
        assert_eq!(idna.as_deref(), Some("xn--bcher-kva.test"));
        assert!(parse_resolve("host:x:127.0.0.1").is_err());
        assert!(parse_resolve("host:443:not-an-ip").is_err());
    }

    #[test]
    fn dns_server_defaults_to_port_53() {
        assert_eq!(
            parse_dns_server("127.0.0.1"),
            Ok(SocketAddr::from(([127, 0, 0, 1], 53)))
        );
        assert_eq!(
            parse_dns_server("127.0.0.1:5353"),
            Ok(SocketAddr::from(([127, 0, 0, 1], 5353)))
        );
        assert!(parse_dns_server("[::1]:5353").is_ok());
        assert!(parse_dns_server("dns.test").is_err());
    }

    #[test]
    fn headers_are_validated() {
        assert_eq!(parse_header("X-A:  b "), Ok(("X-A".into(), "b".into())));
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
        assert!(parse_header(": x").is_err());
        let typo = parse_header("X-Api-Key=SECRETTOKEN123")
            .err()
            .unwrap_or_default();
        assert!(!typo.contains("SECRET"), "{typo}");
        assert!(typo.contains("X-Api-Key"), "{typo}");
    }

    #[test]
    fn ca_bundle_comes_from_flag_then_requests_then_curl_variables() {
        let env = |k: &str| match k {
            "CURL_CA_BUNDLE" => Some("/curl.pem".to_string()),
            "SSL_CERT_FILE" => Some("/ssl.pem".to_string()),
            _ => None,
        };
        assert_eq!(
            choose_ca(None, &env),
            Some((PathBuf::from("/curl.pem"), "CURL_CA_BUNDLE".into()))
        );
        assert_eq!(
            choose_ca(Some(Path::new("/flag.pem")), &env),
            Some((PathBuf::from("/flag.pem"), "--cacert".into()))
        );
        assert_eq!(choose_ca(None, &|_| None), None);
    }

    /// The replay settings the command line would build from `flags`, or its one-line error.
    fn replay_from_flags(flags: &[&str]) -> Result<ReplaySettings, String> {
        let url = "http://127.0.0.1/";
        let argv = std::iter::once("netpeel").chain(flags.iter().copied());
        let args = Args::try_parse_from(argv.chain([url])).map_err(|e| one_line(&e))?;
        let probe = settings_from(&args, &|_| None, Vec::new())?;
        replay_settings(&args, &probe)
    }

    #[test]
    fn replay_flags_are_refused_as_the_dashboard_refuses_them() {
        for (field, text) in [
            (Field::Total, "101"),
            (Field::ConnectRetries, "1e19"),
            (Field::ReadRetries, "99999999999999999999"),
            (Field::StatusRetries, "x"),
            (Field::BackoffFactor, "1e300"),
            (Field::BackoffMax, "inf"),
            (Field::BackoffJitter, "NaN"),
            (Field::Forcelist, "503,50x"),
            (Field::AllowedMethods, "GET,G T"),
        ] {
            let editor = ReplaySettings::urllib3_default().set_field(field, text);
            let cli = replay_from_flags(&[field.flag(), text]);
            assert_eq!(cli.err(), editor.err().map(|e| e.to_string()), "{text}");
        }
        assert_eq!(
            replay_from_flags(&["--retries", "101"]).err().as_deref(),
            Some("--retries is at most 100")
        );
    }

    #[test]
    fn timeouts_have_the_dashboards_caps() {
        for text in [
            "0.25", "10", "86400", "86400.5", "1e19", "0", "abc", "NaN", "inf", "1e-300",
        ] {
            let mut edited = ReplaySettings::default();
            let editor = edited.set_field(Field::ReadTimeout, text);
            let cli = replay_from_flags(&["--read-timeout", text]);
            assert_eq!(cli.is_ok(), editor.is_ok(), "{text}: {cli:?} {editor:?}");
            if let Ok(rs) = cli {
                assert_eq!(rs.read_timeout, edited.read_timeout, "{text}");
            }
        }
    }

    #[test]
    fn policy_and_export_take_their_names() {
        for policy in PolicyKind::ALL {
            let rs = replay_from_flags(&["--retry-policy", policy.name()]);
            assert_eq!(rs.map(|r| r.policy), Ok(policy));
        }
        let refused = replay_from_flags(&["--retry-policy", "forever"]).err();
        assert!(
            refused.as_deref().is_some_and(|e| e.contains("'forever'")
                && e.contains("full-jitter")
                && !e.contains('\n')),
            "{refused:?}"
        );
        for (name, format) in [
            ("python", ExportFormat::Python),
            ("curl", ExportFormat::Curl),
        ] {
            let args = Args::try_parse_from(["netpeel", "--export", name, "http://h/"]);
            assert_eq!(args.ok().and_then(|a| a.export), Some(format));
        }
        assert!(Args::try_parse_from(["netpeel", "--export", "ruby", "http://h/"]).is_err());
    }
}
