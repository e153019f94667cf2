//! What a pasted error means, in plain words: one sentence for what happened, then the usual
//! causes, most likely first. The verdict table's hint for the kind is always among them; the
//! sentences here add what the paste itself tells (a loopback address, a proxy, a timeout).

use super::Explained;
use crate::engine::verdict::Kind;

/// "the client could not …", with the target named as the paste names it.
pub(crate) fn summary(e: &Explained) -> String {
    let p = &e.parsed;
    let who = match p.library {
        super::parse::Library::Curl => "curl".to_string(),
        lib => format!("Python {}", lib.name()),
    };
    let target = match (&p.target.host, p.target.port) {
        (Some(h), Some(port)) => format!(" {}", host_port(h, port)),
        (Some(h), None) => format!(" {h}"),
        _ => String::new(),
    };
    let proxy = p
        .proxy
        .as_ref()
        .and_then(|x| {
            Some(format!(
                " (through the proxy {})",
                host_port(x.host.as_ref()?, x.port?)
            ))
        })
        .unwrap_or_default();
    let to = if target.is_empty() {
        String::new()
    } else {
        format!(", reaching{target}")
    };
    format!(
        "{who} failed at the {} layer{to}{proxy}: {}.",
        e.layer.name(),
        e.kind.info().meaning
    )
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The usual causes, most likely first.
pub(crate) fn ranked(e: &Explained) -> Vec<String> {
    let mut out: Vec<String> = specific(e);
    let hint = e.kind.info().hint.to_string();
    if !out.contains(&hint) {
        out.push(hint);
    }
    out
}

/// Notes on the paste's wording (not causes): "Max retries exceeded", a cut input.
pub(crate) fn notes(e: &Explained) -> Vec<String> {
    let mut notes = Vec::new();
    if e.parsed.clues.max_retries {
        notes.push("\"Max retries exceeded\" does not mean requests retried: urllib3 words every failed connection that way, even with no retries configured. The cause is in \"Caused by\".".to_string());
    }
    if e.truncated {
        notes.push(format!(
            "The input was longer than {} bytes: only its start was read.",
            super::parse::MAX_INPUT_BYTES
        ));
    }
    notes
}

fn is_loopback(host: Option<&str>) -> bool {
    host.is_some_and(|h| h == "localhost" || h.starts_with("127.") || h == "::1")
}

/// A name that failed under SOCKS whose text does not say whose (its one line): both.
fn socks_name_causes(e: &Explained) -> Option<Vec<String>> {
    let message = &e.parsed.os_error.as_ref()?.message;
    let name_failed = [
        "name or service not known",
        "name resolution",
        "no address associated",
    ]
    .iter()
    .any(|w| message.to_ascii_lowercase().contains(w));
    (e.kind == Kind::SocksOther && name_failed).then(|| vec![
        "A name did not resolve: the target's, resolved here for socks5:// (socks5h:// lets the proxy resolve it), or the SOCKS proxy's own; the traceback's PySocks frames tell which (GeneralProxyError: the target's).".to_string(),
    ])
}

fn specific(e: &Explained) -> Vec<String> {
    if let Some(causes) = socks_name_causes(e) {
        return causes;
    }
    let p = &e.parsed;
    let host = p.target.host.as_deref();
    let s = |t: &str| t.to_string();
    match e.kind {
        Kind::ConnectionRefused => {
            let mut v = vec![
                e.kind.info().hint.to_string(),
                s(
                    "A firewall rejects the connection (REJECT with a TCP reset) instead of dropping it.",
                ),
            ];
            if is_loopback(host) {
                v.insert(0, s("Refused on a loopback address from inside a container usually means the service runs on the host or in another container: use the service name or host.docker.internal instead of localhost."));
            }
            v
        }
        Kind::ConnectTimeout => vec![
            s("A firewall or security group drops the packets (no answer at all, not a refusal)."),
            s(
                "The address is wrong or not routed from here (a private address from outside its network, a stale DNS answer).",
            ),
            s("The server is overloaded and its accept queue is full."),
        ],
        Kind::Nxdomain | Kind::Nodata | Kind::DnsOther | Kind::Servfail | Kind::DnsTimeout => vec![
            s(
                "The name is misspelled, or exists only on an internal network (VPN, cluster DNS, a search domain in /etc/resolv.conf).",
            ),
            s(
                "The resolver this machine or container uses is down or unreachable (\"Temporary failure\" is this, or a SERVFAIL).",
            ),
        ],
        Kind::CertUnknownIssuer | Kind::CertSelfSigned => vec![
            s(
                "A proxy or firewall intercepts TLS (corporate inspection) and signs with its own CA: give requests that CA (REQUESTS_CA_BUNDLE, verify=).",
            ),
            s("The server sends its certificate without the intermediate: fix the server's chain."),
            s(
                "The CA bundle requests uses (certifi, or REQUESTS_CA_BUNDLE) lacks your private CA, while curl and browsers use the system store.",
            ),
        ],
        Kind::CertExpired | Kind::CertNotYetValid => vec![
            s(
                "The server's certificate (or an intermediate) is out of its validity period: renew it.",
            ),
            s("This machine's clock is wrong (containers and VMs after a suspend)."),
        ],
        Kind::CertNameMismatch => vec![
            s(
                "The URL uses a name (or an IP address) the certificate does not list: use the name it was issued for.",
            ),
            s("A load balancer or shared host serves the default certificate (no SNI match)."),
        ],
        Kind::NotTls => vec![s(
            "The URL says https:// but the port speaks plain HTTP: use http://, or the TLS port.",
        )],
        Kind::ReadTimeout | Kind::TlsHandshakeTimeout => vec![
            s(
                "The server accepted the connection but did not answer within the read timeout: it is slow or stuck (a long query, a full worker pool).",
            ),
            s(
                "Something in between holds the connection open without passing data (a stalled proxy, a NAT that forgot the flow).",
            ),
        ],
        Kind::RemoteDisconnected | Kind::ConnectionReset => vec![
            s(
                "A pooled keep-alive connection was closed by the server or a load balancer while idle, and requests reused it: try netpeel --reuse-after or --idle-sweep.",
            ),
            s(
                "The server crashed or restarted while handling the request, or refused it at the TLS/HTTP level (wrong protocol on the port).",
            ),
        ],
        Kind::HttpServerError => vec![
            s(
                "The server (or a gateway in front of it) failed or is overloaded; 502/503/504 are often a proxy with no healthy backend.",
            ),
            s(
                "Retries with backoff help only if the failure is temporary: netpeel --watch shows how often it happens.",
            ),
        ],
        Kind::ProxyConnectionRefused | Kind::ProxyConnectTimeout | Kind::ProxyDnsFailure => vec![
            s(
                "The proxy in HTTP(S)_PROXY / proxies= is wrong or down; requests reads the *_proxy variables unless trust_env=False.",
            ),
            s("The target should bypass the proxy: add it to NO_PROXY."),
        ],
        Kind::ProxyAuthRequired | Kind::ProxyForwardAuthRequired => vec![s(
            "The proxy wants credentials: put them in the proxy URL (http://user:pass@proxy:port) or ask for access.",
        )],
        _ => Vec::new(),
    }
}
