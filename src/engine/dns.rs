//! Stage 2: turn the host name into addresses the way getaddrinfo would (/etc/hosts first, then
//! the resolvers), but with every query visible: A and AAAA asked separately, each answer's
//! records, the CNAME chain, TTLs and which server was asked.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ProtocolConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};

use super::addr_order;
use super::clock::{Clock, TimeoutSetting};
use super::settings::{IpFamily, ProbeSettings};
use super::stage::{StageDetail, StageError};

/// Where the addresses came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsSource {
    /// The URL's host is an IP address: nothing to resolve.
    IpLiteral,
    /// Pinned by `--resolve HOST:PORT:ADDR` (the pin is for this port only).
    ResolveFlag {
        port: u16,
    },
    HostsFile(PathBuf),
    /// Asked these servers (`--dns`, or the system's resolv.conf).
    Servers {
        servers: Vec<SocketAddr>,
        from: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum QueryType {
    A,
    #[allow(clippy::upper_case_acronyms)]
    AAAA,
}

impl QueryType {
    fn record_type(self) -> RecordType {
        match self {
            QueryType::A => RecordType::A,
            QueryType::AAAA => RecordType::AAAA,
        }
    }
}

/// How one query (A or AAAA) ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryStatus {
    Answered,
    /// The name exists but has no record of this type.
    NoData,
    NxDomain,
    ServFail,
    Refused,
    /// Another response code, by name.
    OtherRcode(String),
    Timeout,
    /// Could not reach any server (e.g. TCP refused).
    Unreachable(String),
    Error(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsRecord {
    pub name: String,
    pub ttl: u32,
    pub record_type: String,
    pub data: String,
}

#[derive(Clone, Debug)]
pub struct QueryResult {
    pub query_type: QueryType,
    pub status: QueryStatus,
    /// Every record of the answer, CNAMEs included, in order.
    pub records: Vec<DnsRecord>,
    pub elapsed: Duration,
}

/// A successful resolution (or the addresses an IP literal / `--resolve` supplies).
#[derive(Clone, Debug)]
pub struct DnsAnswer {
    pub name: String,
    pub source: DnsSource,
    pub queries: Vec<QueryResult>,
    /// In the order they will be tried: getaddrinfo's (RFC 6724) for the hosts file and DNS,
    /// as given for `--resolve`.
    pub addresses: Vec<IpAddr>,
    pub cname_chain: Vec<String>,
    /// Why the order differs from the answer's, when it does.
    pub order_note: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsFailure {
    NxDomain,
    NoData,
    ServFail,
    Refused,
    Timeout,
    NoNameserver,
    Other,
}

#[derive(Clone, Debug)]
pub struct DnsError {
    pub failure: DnsFailure,
    pub name: String,
    pub source: DnsSource,
    pub queries: Vec<QueryResult>,
    pub elapsed: Duration,
    /// The timeout that ran out, for `Timeout`.
    pub timeout: Option<(Duration, TimeoutSetting)>,
    pub message: String,
}

impl StageDetail for DnsAnswer {
    fn summary(&self) -> String {
        format!("{} address(es)", self.addresses.len())
    }

    fn skip_reason(&self) -> Option<String> {
        match self.source {
            DnsSource::ResolveFlag { port } => {
                Some(format!("pinned by --resolve {}:{port}", self.name))
            }
            _ => None,
        }
    }
}

impl StageError for DnsError {
    fn message(&self) -> &str {
        &self.message
    }

    fn timeout(&self) -> Option<(Duration, TimeoutSetting)> {
        self.timeout
    }
}

/// Resolve `name` for `port`. IP literals are handled by the caller (they skip this stage).
pub async fn resolve(
    name: &str,
    port: u16,
    settings: &ProbeSettings,
    clock: &Clock,
) -> Result<DnsAnswer, DnsError> {
    let started = Instant::now();
    // The order getaddrinfo would follow, with curl's --resolve pins ahead of everything.
    if let Some(pinned) = pinned_by_resolve_flag(name, port, settings, started) {
        return pinned;
    }
    if let Some(answer) = from_hosts_file(name, port, settings) {
        return Ok(answer);
    }
    ask_servers(name, port, settings, clock, started).await
}

/// The `--resolve` pin for this host and port, if any, with -4/-6 applied.
fn pinned_by_resolve_flag(
    name: &str,
    port: u16,
    settings: &ProbeSettings,
    started: Instant,
) -> Option<Result<DnsAnswer, DnsError>> {
    let hit = settings.resolve.iter().find(|r| {
        r.port == port
            && r.host
                .eq_ignore_ascii_case(name.strip_suffix('.').unwrap_or(name))
    })?;
    let addresses = order(
        hit.addrs
            .iter()
            .copied()
            .filter(|a| settings.family.allows(a))
            .collect(),
    );
    if addresses.is_empty() {
        return Some(Err(DnsError {
            failure: DnsFailure::NoData,
            name: name.to_string(),
            source: DnsSource::ResolveFlag { port },
            queries: Vec::new(),
            elapsed: started.elapsed(),
            timeout: None,
            message: "--resolve gives no address of the family allowed by -4/-6".into(),
        }));
    }
    Some(Ok(DnsAnswer {
        name: name.to_string(),
        source: DnsSource::ResolveFlag { port },
        queries: Vec::new(),
        addresses,
        cname_chain: Vec::new(),
        order_note: None,
    }))
}

/// The hosts file's addresses for `name` of the allowed family, if it has any.
fn from_hosts_file(name: &str, port: u16, settings: &ProbeSettings) -> Option<DnsAnswer> {
    let addrs: Vec<IpAddr> = hosts_file_lookup(&settings.hosts_file, name)?
        .into_iter()
        .filter(|a| settings.family.allows(a))
        .collect();
    // Like glibc: a name found in /etc/hosts is answered from there alone.
    if addrs.is_empty() {
        return None;
    }
    let (addresses, order_note) = addr_order::sort(dedup(addrs), port);
    Some(DnsAnswer {
        name: name.to_string(),
        source: DnsSource::HostsFile(settings.hosts_file.clone()),
        queries: Vec::new(),
        addresses,
        cname_chain: Vec::new(),
        order_note,
    })
}

/// Ask the servers (`--dns` or resolv.conf) for each allowed family, concurrently.
async fn ask_servers(
    name: &str,
    port: u16,
    settings: &ProbeSettings,
    clock: &Clock,
    started: Instant,
) -> Result<DnsAnswer, DnsError> {
    let (resolver, source) = match build_resolver(settings) {
        Ok(r) => r,
        Err((source, message)) => {
            return Err(DnsError {
                failure: DnsFailure::NoNameserver,
                name: name.to_string(),
                source,
                queries: Vec::new(),
                elapsed: started.elapsed(),
                timeout: None,
                message,
            });
        }
    };

    let limit = clock.limit(settings.dns_timeout, TimeoutSetting::Dns);
    let queries = futures_join(
        wanted_queries(settings.family)
            .iter()
            .map(|qt| query(&resolver, name, *qt, limit.duration)),
    )
    .await;

    let (addresses, cname_chain) = addresses_and_cnames(&queries);
    let elapsed = started.elapsed();
    if !addresses.is_empty() {
        // The answer's order is the A records then the AAAA records, as both queries came.
        let (addresses, order_note) = addr_order::sort(dedup(addresses), port);
        return Ok(DnsAnswer {
            name: name.to_string(),
            source,
            queries,
            addresses,
            cname_chain,
            order_note,
        });
    }
    let failure = overall_failure(&queries);
    let message = describe_failure(failure, &queries);
    Err(DnsError {
        failure,
        name: name.to_string(),
        source,
        queries,
        elapsed,
        timeout: (failure == DnsFailure::Timeout).then_some((limit.reported, limit.setting)),
        message,
    })
}

/// The record types to ask for under -4/-6.
fn wanted_queries(family: IpFamily) -> Vec<QueryType> {
    match family {
        IpFamily::Any => vec![QueryType::A, QueryType::AAAA],
        IpFamily::V4 => vec![QueryType::A],
        IpFamily::V6 => vec![QueryType::AAAA],
    }
}

/// Every address in the answers, in answer order, and the CNAMEs met on the way (once each).
fn addresses_and_cnames(queries: &[QueryResult]) -> (Vec<IpAddr>, Vec<String>) {
    let mut addresses = Vec::new();
    let mut cname_chain = Vec::new();
    for q in queries {
        for r in &q.records {
            match r.record_type.as_str() {
                "A" | "AAAA" => {
                    if let Ok(ip) = r.data.parse::<IpAddr>() {
                        addresses.push(ip);
                    }
                }
                "CNAME" if !cname_chain.contains(&r.data) => cname_chain.push(r.data.clone()),
                _ => {}
            }
        }
    }
    (addresses, cname_chain)
}

/// urllib3 tries addresses in getaddrinfo order; we use IPv4 first, then IPv6, each in answer order.
/// `--resolve` pins in curl's order: IPv4 first, then IPv6, each as given.
fn order(addrs: Vec<IpAddr>) -> Vec<IpAddr> {
    let mut addrs = dedup(addrs);
    addrs.sort_by_key(|a| a.is_ipv6());
    addrs
}

fn dedup(mut addrs: Vec<IpAddr>) -> Vec<IpAddr> {
    let mut seen = Vec::new();
    addrs.retain(|a| {
        let new = !seen.contains(a);
        seen.push(*a);
        new
    });
    addrs
}

/// Runs the futures concurrently and returns their outputs in order.
async fn futures_join<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send,
{
    let futs: Vec<_> = futs.map(Box::pin).collect();
    let mut out = Vec::with_capacity(futs.len());
    // Two queries at most: join them pairwise without pulling in the futures crate.
    let mut iter = futs.into_iter();
    match (iter.next(), iter.next()) {
        (Some(a), Some(b)) => {
            let (x, y) = tokio::join!(a, b);
            out.push(x);
            out.push(y);
        }
        (Some(a), None) => out.push(a.await),
        _ => {}
    }
    out
}

/// Which failure the user should hear about when no family produced an address.
fn overall_failure(queries: &[QueryResult]) -> DnsFailure {
    let has = |f: &dyn Fn(&QueryStatus) -> bool| queries.iter().any(|q| f(&q.status));
    if has(&|s| *s == QueryStatus::NxDomain) {
        DnsFailure::NxDomain
    } else if has(&|s| *s == QueryStatus::ServFail) {
        DnsFailure::ServFail
    } else if has(&|s| *s == QueryStatus::Refused) {
        DnsFailure::Refused
    } else if has(&|s| *s == QueryStatus::Timeout) {
        DnsFailure::Timeout
    } else if has(&|s| matches!(s, QueryStatus::Unreachable(_))) {
        DnsFailure::NoNameserver
    } else if !queries.is_empty()
        && queries
            .iter()
            .all(|q| q.status == QueryStatus::NoData || q.status == QueryStatus::Answered)
    {
        DnsFailure::NoData
    } else {
        DnsFailure::Other
    }
}

fn describe_failure(failure: DnsFailure, queries: &[QueryResult]) -> String {
    let parts: Vec<String> = queries
        .iter()
        .map(|q| format!("{:?}: {}", q.query_type, status_text(&q.status)))
        .collect();
    let detail = parts.join(", ");
    match failure {
        DnsFailure::Other => format!("no address ({detail})"),
        _ => detail,
    }
}

pub fn status_text(s: &QueryStatus) -> String {
    match s {
        QueryStatus::Answered => "answered".into(),
        QueryStatus::NoData => "no records of this type (NODATA)".into(),
        QueryStatus::NxDomain => "NXDOMAIN".into(),
        QueryStatus::ServFail => "SERVFAIL".into(),
        QueryStatus::Refused => "REFUSED".into(),
        QueryStatus::OtherRcode(c) => c.clone(),
        QueryStatus::Timeout => "no answer (timeout)".into(),
        QueryStatus::Unreachable(m) => format!("server unreachable ({m})"),
        QueryStatus::Error(m) => m.clone(),
    }
}

async fn query(
    resolver: &TokioResolver,
    name: &str,
    qt: QueryType,
    limit: Duration,
) -> QueryResult {
    let started = Instant::now();
    // Relaxed: a label with `_` (a Docker Compose service name) fails the IDNA rules that
    // hickory applies to &str, but getaddrinfo and curl send it as it is.
    let name = match hickory_resolver::proto::rr::Name::from_str_relaxed(name) {
        Ok(n) => n,
        Err(e) => {
            return QueryResult {
                query_type: qt,
                status: QueryStatus::Error(e.to_string()),
                records: Vec::new(),
                elapsed: started.elapsed(),
            };
        }
    };
    let outcome = tokio::time::timeout(limit, resolver.lookup(name, qt.record_type())).await;
    let elapsed = started.elapsed();
    let (status, records) = match outcome {
        Err(_) => (QueryStatus::Timeout, Vec::new()),
        Ok(Ok(lookup)) => {
            let records: Vec<DnsRecord> = lookup
                .answers()
                .iter()
                .map(|r| DnsRecord {
                    name: r.name.to_string(),
                    ttl: r.ttl,
                    record_type: r.record_type().to_string(),
                    data: rdata_text(&r.data),
                })
                .collect();
            let has_address = records
                .iter()
                .any(|r| r.record_type == "A" || r.record_type == "AAAA");
            let status = if has_address {
                QueryStatus::Answered
            } else {
                QueryStatus::NoData
            };
            (status, records)
        }
        Ok(Err(e)) => (classify(&e), Vec::new()),
    };
    QueryResult {
        query_type: qt,
        status,
        records,
        elapsed,
    }
}

fn rdata_text(data: &RData) -> String {
    match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::CNAME(c) => c.0.to_string(),
        other => other.to_string(),
    }
}

/// Map hickory's error value (not its message) to what happened on the wire.
fn classify(e: &NetError) -> QueryStatus {
    match e {
        NetError::Dns(HickoryDnsError::NoRecordsFound(nr)) => match nr.response_code {
            ResponseCode::NXDomain => QueryStatus::NxDomain,
            ResponseCode::NoError => QueryStatus::NoData,
            ResponseCode::ServFail => QueryStatus::ServFail,
            ResponseCode::Refused => QueryStatus::Refused,
            other => QueryStatus::OtherRcode(other.to_string()),
        },
        NetError::Dns(HickoryDnsError::ResponseCode(code)) => match *code {
            ResponseCode::NXDomain => QueryStatus::NxDomain,
            ResponseCode::ServFail => QueryStatus::ServFail,
            ResponseCode::Refused => QueryStatus::Refused,
            other => QueryStatus::OtherRcode(other.to_string()),
        },
        NetError::Timeout => QueryStatus::Timeout,
        NetError::NoConnections => QueryStatus::Unreachable("no connection to any server".into()),
        NetError::Io(io) => QueryStatus::Unreachable(io.to_string()),
        other => QueryStatus::Error(other.to_string()),
    }
}

type BuildError = (DnsSource, String);

fn build_resolver(settings: &ProbeSettings) -> Result<(TokioResolver, DnsSource), BuildError> {
    let (config, mut opts, source) = match settings.dns_server {
        Some(server) => {
            let mut udp = ConnectionConfig::new(ProtocolConfig::Udp);
            udp.port = server.port();
            let mut tcp = ConnectionConfig::new(ProtocolConfig::Tcp);
            tcp.port = server.port();
            let ns = NameServerConfig::new(server.ip(), true, vec![udp, tcp]);
            (
                ResolverConfig::from_name_servers(vec![ns]),
                ResolverOpts::default(),
                DnsSource::Servers {
                    servers: vec![server],
                    from: "--dns".into(),
                },
            )
        }
        None => system_config(&settings.resolv_conf)?,
    };
    // Each query is bounded from outside by the DNS timeout; inside, two sends of half each, so
    // one lost UDP datagram does not look like a dead server.
    opts.timeout = (settings.dns_timeout / 2).max(Duration::from_millis(50));
    opts.attempts = 1;
    opts.cache_size = 0;
    opts.use_hosts_file = ResolveHosts::Never; // we read /etc/hosts ourselves, to show it
    opts.preserve_intermediates = true; // keep CNAMEs in the answer
    let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
    *builder.options_mut() = opts;
    let resolver = builder
        .build()
        .map_err(|e| (source.clone(), format!("cannot set up the resolver: {e}")))?;
    Ok((resolver, source))
}

fn system_config(path: &Path) -> Result<(ResolverConfig, ResolverOpts, DnsSource), BuildError> {
    let empty = DnsSource::Servers {
        servers: Vec::new(),
        from: path.display().to_string(),
    };
    let bytes = std::fs::read(path).map_err(|e| {
        (
            empty.clone(),
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let (config, opts) = hickory_resolver::system_conf::parse_resolv_conf(bytes).map_err(|e| {
        (
            empty.clone(),
            format!("no usable nameserver in {}: {e}", path.display()),
        )
    })?;
    let servers: Vec<SocketAddr> = config
        .name_servers()
        .iter()
        .map(|ns| SocketAddr::new(ns.ip, 53))
        .collect();
    let source = DnsSource::Servers {
        servers,
        from: path.display().to_string(),
    };
    Ok((config, opts, source))
}

/// The addresses /etc/hosts gives for `name`, or None when the name is not listed.
pub fn hosts_file_lookup(path: &Path, name: &str) -> Option<Vec<IpAddr>> {
    let text = std::fs::read_to_string(path).ok()?;
    lookup_in_hosts_text(&text, name)
}

fn lookup_in_hosts_text(text: &str, name: &str) -> Option<Vec<IpAddr>> {
    let wanted = name.trim_end_matches('.');
    let mut found = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let Some(addr) = fields.next().and_then(|a| a.parse::<IpAddr>().ok()) else {
            continue;
        };
        if fields.any(|h| h.eq_ignore_ascii_case(wanted)) && !found.contains(&addr) {
            found.push(addr);
        }
    }
    (!found.is_empty()).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_is_read_like_glibc() {
        let text = "127.0.0.1 localhost\n::1 localhost ip6-localhost # comment\n# 10.0.0.1 localhost\n10.1.1.1 Db.Internal db\nbogus line\n";
        assert_eq!(
            lookup_in_hosts_text(text, "localhost"),
            Some(vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
            ])
        );
        assert_eq!(
            lookup_in_hosts_text(text, "db.internal."),
            Some(vec![IpAddr::from([10, 1, 1, 1])])
        );
        assert_eq!(lookup_in_hosts_text(text, "nothere"), None);
    }

    #[test]
    fn ipv4_goes_first_and_duplicates_go() {
        let v6 = IpAddr::from(std::net::Ipv6Addr::LOCALHOST);
        let v4 = IpAddr::from([127, 0, 0, 1]);
        assert_eq!(order(vec![v6, v4, v6, v4]), vec![v4, v6]);
    }

    fn q(status: QueryStatus) -> QueryResult {
        QueryResult {
            query_type: QueryType::A,
            status,
            records: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn the_worst_query_names_the_failure() {
        assert_eq!(
            overall_failure(&[q(QueryStatus::NoData), q(QueryStatus::NoData)]),
            DnsFailure::NoData
        );
        assert_eq!(
            overall_failure(&[q(QueryStatus::NoData), q(QueryStatus::Timeout)]),
            DnsFailure::Timeout
        );
        assert_eq!(
            overall_failure(&[q(QueryStatus::NxDomain), q(QueryStatus::Timeout)]),
            DnsFailure::NxDomain
        );
        assert_eq!(
            overall_failure(&[q(QueryStatus::ServFail)]),
            DnsFailure::ServFail
        );
        assert_eq!(
            overall_failure(&[q(QueryStatus::Refused)]),
            DnsFailure::Refused
        );
        assert_eq!(
            overall_failure(&[q(QueryStatus::Unreachable("x".into()))]),
            DnsFailure::NoNameserver
        );
        assert_eq!(
            overall_failure(&[q(QueryStatus::Error("x".into()))]),
            DnsFailure::Other
        );
    }
}
