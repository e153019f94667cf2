//! The differential test: the verdict table's requests/urllib3 columns checked against the REAL
//! Python `requests`, scenario by scenario.
//!
//! Every scenario starts its own loopback servers, then runs `netpeel --json` and
//! `tests/differential/requests_probe.py` (the oracle: one real `requests` call, see its README)
//! side by side against them with the same URL, timeouts, CA file and name pinning. The claim is
//! checked like this:
//!
//! - requests succeeded → netpeel's verdict is ok and names the same HTTP status;
//! - requests raised → `verdict.requests_exception` is the class requests raised,
//!   `verdict.urllib3_cause` (when set) appears in the exception chain requests produced, and a
//!   verdict without a urllib3 cause has none in requests' chain either.
//!
//! All scenarios run concurrently and every disagreement is collected, so one run shows them all.
//!
//! Network rule: servers listen on 127.0.0.1 only; URLs are IP literals, `localhost` pinned with
//! `--resolve`, or `*.test` names answered by a test DNS server. Both tools always get `--dns`
//! pointing at a test DNS server (NXDOMAIN for any name it does not know), so even a URL one of
//! them parses differently can never reach the machine's resolver.

use std::any::Any;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::dns::{DnsAnswer, DnsServer};
use testkit::http::{Behavior, HttpServer};
use testkit::proxy::{ProxyBehavior, ProxyServer};
use testkit::socks::{SocksOptions, SocksServer};
use testkit::tcp::{BlackholeListener, refused_addr};
use testkit::tls::certs::ClientCertKind;
use testkit::tls::{CertKind, ClientAuth, ClientCertFiles, TlsOptions, TlsServer};
use tokio::sync::Semaphore;

use crate::common;

/// The oracle script, found from the crate root so the test runs from any directory.
const ORACLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/differential/requests_probe.py"
);

/// Upper bound for one oracle run (its slowest case, DNS silence, takes about 4 s).
const ORACLE_BOUND: Duration = Duration::from_secs(30);

/// Connect and read timeout both tools get unless a scenario sets its own: short enough that a
/// scenario that unexpectedly stalls still ends quickly, far above anything loopback needs.
const DEFAULT_TIMEOUT: &str = "5";

/// Scenarios running at once: each starts a Python interpreter (~0.2 s of CPU to import
/// requests), and starving them all together would stretch the 1 s timeouts some scenarios
/// measure.
const PARALLEL: usize = 8;

/// The one name the DNS scenarios look up.
const DNS_NAME: &str = "app.test";

/// The servers a scenario runs against. `{port}` in the scenario's URL becomes the port of the
/// main server (or of the refused / black-hole address).
enum Server {
    /// Nothing listens: URL errors (`{port}` is a refused port, should a URL use it).
    None,
    Http(Behavior),
    /// TLS with this certificate (both tools trust the test CA via `--cacert`).
    Tls(CertKind, Behavior),
    /// TLS that requires a client certificate from the test client CA, answering 200;
    /// `true`: TLS 1.2 only (the refusal comes inside the handshake, not on the first read).
    MutualTls(bool),
    /// A port nothing listens on.
    Refused,
    /// A listener with a full accept queue: SYNs are dropped.
    Blackhole,
    /// `app.test` answered with this by the test DNS server; `{port}` is an HTTP server
    /// answering 200, reached if the name resolves.
    Dns(DnsAnswer),
    /// A server answering `302 Found` with `Location:` the URL of a second server that runs
    /// this behaviour (`None`: a refused port); `{port}` is the first one.
    RedirectTo(Option<Behavior>),
    /// Reads the request, answers these bytes, closes.
    Raw(&'static [u8]),
}

/// Aborts a helper server task when the scenario's servers are dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A proxy between both tools and the scenario's server, given to both with `--proxy`.
enum Proxy {
    /// An HTTP proxy with this behaviour.
    Http(ProxyBehavior),
    /// A SOCKS5 proxy; `true`: socks5h:// (the proxy resolves names).
    Socks(SocksOptions, bool),
    /// `http://` at a port nothing listens on.
    RefusedHttp,
    /// A "proxy" that reads the CONNECT head and answers these bytes, then closes.
    Raw(&'static [u8]),
    /// `http://proxy.corp.test:3128`, a name the test DNS server does not know.
    UnknownName,
    /// An https:// proxy (TLS with a test-CA certificate in front of this behaviour).
    Https(ProxyBehavior),
    /// An https:// proxy whose certificate is of this kind (forwarding, no auth).
    HttpsWithCert(CertKind),
    /// A plain HTTP proxy written as `https://` (it answers the ClientHello with 400).
    PlainAsHttps(ProxyBehavior),
}

struct Scenario {
    name: &'static str,
    server: Server,
    proxy: Option<Proxy>,
    /// URL template, `{port}` replaced by the server's port. A `localhost` URL is pinned to
    /// 127.0.0.1 with `--resolve` on both sides.
    url: &'static str,
    connect_timeout: &'static str,
    read_timeout: &'static str,
    /// netpeel's `--dns-timeout` (the oracle's DNS client has its own fixed 2 s x 2 tries).
    dns_timeout: Option<&'static str>,
    /// netpeel `-X`, oracle `--method`.
    method: Option<&'static str>,
    /// netpeel `-k`, oracle `--insecure`.
    insecure: bool,
    /// netpeel `-H`, oracle `--header`.
    header: Option<String>,
    /// netpeel cannot do this request although requests can (its own limits): the verdict
    /// claims no requests exception, and requests must indeed get an answer.
    netpeel_cannot: bool,
    /// A client certificate of this kind for both tools (netpeel `--cert/--key`, requests
    /// `cert=(cert, key)`).
    client_cert: Option<ClientCertKind>,
}

fn sc(name: &'static str, server: Server, url: &'static str) -> Scenario {
    Scenario {
        name,
        server,
        proxy: None,
        url,
        connect_timeout: DEFAULT_TIMEOUT,
        read_timeout: DEFAULT_TIMEOUT,
        dns_timeout: None,
        method: None,
        insecure: false,
        header: None,
        netpeel_cannot: false,
        client_cert: None,
    }
}

impl Scenario {
    fn proxy(mut self, p: Proxy) -> Self {
        self.proxy = Some(p);
        self
    }
    fn connect_timeout(mut self, secs: &'static str) -> Self {
        self.connect_timeout = secs;
        self
    }
    fn read_timeout(mut self, secs: &'static str) -> Self {
        self.read_timeout = secs;
        self
    }
    fn dns_timeout(mut self, secs: &'static str) -> Self {
        self.dns_timeout = Some(secs);
        self
    }
    fn method(mut self, m: &'static str) -> Self {
        self.method = Some(m);
        self
    }
    fn insecure(mut self) -> Self {
        self.insecure = true;
        self
    }
    fn header(mut self, h: &str) -> Self {
        self.header = Some(h.to_string());
        self
    }
    fn netpeel_cannot(mut self) -> Self {
        self.netpeel_cannot = true;
        self
    }
    fn client_cert(mut self, kind: ClientCertKind) -> Self {
        self.client_cert = Some(kind);
        self
    }
}

const HTTP: &str = "http://127.0.0.1:{port}/";
const HTTPS: &str = "https://localhost:{port}/";
const BY_NAME: &str = "http://app.test:{port}/";
/// Through a proxy the target is named to the proxy, which resolves only IP literals here.
const HTTPS_IP: &str = "https://127.0.0.1:{port}/";

fn respond(code: u16, headers: &[(&str, &str)], body: &str) -> Behavior {
    Behavior::Respond {
        code,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn records(chain: &[&str], a: Vec<Ipv4Addr>) -> DnsAnswer {
    DnsAnswer::Records {
        cname_chain: chain.iter().map(|s| s.to_string()).collect(),
        a,
        aaaa: Vec::new(),
        ttl: 60,
    }
}

fn scenarios() -> Vec<Scenario> {
    use Behavior as B;
    use CertKind as C;
    use Server as S;
    let ok = || B::ok("ok\n");
    let lo = Ipv4Addr::LOCALHOST;
    vec![
        // --- URL: rejected before any network (and what requests does with odd URLs) ---
        sc("url: no scheme", S::None, "app.test/x"),
        sc("url: unknown scheme", S::None, "htp://127.0.0.1/"),
        sc("url: ftp scheme", S::None, "ftp://127.0.0.1/"),
        sc("url: empty scheme", S::None, "://127.0.0.1/"),
        sc("url: no host", S::None, "http://"),
        sc("url: port out of range", S::None, "http://127.0.0.1:99999/"),
        sc("url: unbalanced IPv6 bracket", S::None, "http://[::1/"),
        // requests' URL parser says "No host supplied"; a WHATWG parser reads http://127.0.0.1/.
        sc(
            "url: one slash after scheme",
            S::Http(ok()),
            "http:/127.0.0.1:{port}/",
        ),
        // urllib3 reads port 0 as "no port" and connects to 127.0.0.1:80 (loopback only).
        sc("url: port 0", S::None, "http://127.0.0.1:0/"),
        // requests percent-encodes the space and looks the name up (at the test DNS server).
        sc("url: space in host", S::None, "http://exa mple.test/"),
        // urllib3's IDNA encoding rejects the empty label and requests lets it escape unwrapped.
        sc("url: empty label in host", S::None, "http://a..b.test/"),
        // --- DNS through the test server ---
        sc("dns: NXDOMAIN", S::Dns(DnsAnswer::NxDomain), BY_NAME),
        sc("dns: SERVFAIL", S::Dns(DnsAnswer::ServFail), BY_NAME),
        sc("dns: REFUSED", S::Dns(DnsAnswer::Refused), BY_NAME),
        sc("dns: NODATA", S::Dns(records(&[], vec![])), BY_NAME),
        sc(
            "dns: CNAME to no address",
            S::Dns(records(&["gone.test"], vec![])),
            BY_NAME,
        ),
        sc("dns: silence", S::Dns(DnsAnswer::Silent), BY_NAME).dns_timeout("1"),
        sc(
            "dns: CNAME chain to 127.0.0.1",
            S::Dns(records(&["mid.test", "www.target.test"], vec![lo])),
            BY_NAME,
        ),
        // --- TCP ---
        sc("tcp: refused", S::Refused, HTTP),
        sc("tcp: connect timeout", S::Blackhole, HTTP).connect_timeout("1"),
        // --- TLS ---
        sc("tls: 200 with a valid cert", S::Tls(C::Valid, ok()), HTTPS),
        sc(
            "tls: https to a plain HTTP port",
            S::Http(B::ReadThenBadRequest),
            HTTPS,
        ),
        sc(
            "tls: handshake stall",
            S::Tls(C::Valid, B::AcceptAndHold),
            HTTPS,
        )
        .connect_timeout("1"),
        sc(
            "tls: closed during handshake",
            S::Tls(C::Valid, B::ReadThenClose),
            HTTPS,
        ),
        sc(
            "tls: reset during handshake",
            S::Tls(C::Valid, B::ReadThenReset),
            HTTPS,
        ),
        sc("tls: expired cert", S::Tls(C::Expired, ok()), HTTPS),
        sc(
            "tls: not yet valid cert",
            S::Tls(C::NotYetValid, ok()),
            HTTPS,
        ),
        sc("tls: wrong name", S::Tls(C::WrongName, ok()), HTTPS),
        // No subjectAltName, CN localhost: Python's ssl ignores the CN (curl would accept it).
        sc(
            "tls: CN only, no subjectAltName",
            S::Tls(C::CnOnly, ok()),
            HTTPS,
        ),
        sc("tls: self-signed", S::Tls(C::SelfSigned, ok()), HTTPS),
        sc("tls: unknown CA", S::Tls(C::UnknownCa, ok()), HTTPS),
        sc(
            "tls: CA cert as server cert",
            S::Tls(C::CaAsEndEntity, ok()),
            HTTPS,
        ),
        sc("tls: expired cert with -k", S::Tls(C::Expired, ok()), HTTPS).insecure(),
        // --- mutual TLS: TLS 1.3 refuses on the first read, TLS 1.2 inside the handshake ---
        sc("mtls: no client cert (TLS 1.3)", S::MutualTls(false), HTTPS),
        sc("mtls: no client cert (TLS 1.2)", S::MutualTls(true), HTTPS),
        sc("mtls: valid client cert", S::MutualTls(false), HTTPS)
            .client_cert(ClientCertKind::Valid),
        sc(
            "mtls: client cert from an unknown CA (TLS 1.3)",
            S::MutualTls(false),
            HTTPS,
        )
        .client_cert(ClientCertKind::UnknownCa),
        sc(
            "mtls: expired client cert (TLS 1.2)",
            S::MutualTls(true),
            HTTPS,
        )
        .client_cert(ClientCertKind::Expired),
        sc(
            "tls: stall after handshake",
            S::Tls(C::Valid, B::StallBeforeResponse),
            HTTPS,
        )
        .read_timeout("1"),
        sc(
            "tls: reset mid-body",
            S::Tls(
                C::Valid,
                B::ResetMidBody {
                    content_length: 100,
                    sent: 10,
                },
            ),
            HTTPS,
        ),
        // --- HTTP ---
        sc("http: 200", S::Http(ok()), HTTP),
        sc("http: HEAD 200", S::Http(ok()), HTTP).method("HEAD"),
        sc("http: 404", S::Http(respond(404, &[], "not found\n")), HTTP),
        sc(
            "http: 503",
            S::Http(respond(503, &[("Retry-After", "1")], "unavailable\n")),
            HTTP,
        ),
        sc(
            "http: stall before response",
            S::Http(B::StallBeforeResponse),
            HTTP,
        )
        .read_timeout("1"),
        sc(
            "http: close before response",
            S::Http(B::CloseBeforeResponse),
            HTTP,
        ),
        sc(
            "http: reset before response",
            S::Http(B::ResetBeforeResponse),
            HTTP,
        ),
        sc("http: garbage reply", S::Http(B::Garbage), HTTP),
        sc(
            "http: Content-Length 100, 10 bytes, close",
            S::Http(B::TrickleThenClose {
                content_length: 100,
                sent: 10,
                interval: Duration::from_millis(100),
            }),
            HTTP,
        ),
        sc(
            "http: stall mid-body",
            S::Http(B::StallMidBody {
                content_length: 100,
                sent: 10,
            }),
            HTTP,
        )
        .read_timeout("1"),
        sc(
            "http: reset mid-body",
            S::Http(B::ResetMidBody {
                content_length: 100,
                sent: 10,
            }),
            HTTP,
        ),
        sc(
            "http: chunked without last chunk",
            S::Http(B::ChunkedThenClose),
            HTTP,
        ),
    ]
}

/// Through proxies: CONNECT, absolute-form forwarding, refusals, and SOCKS5.
fn proxy_scenarios() -> Vec<Scenario> {
    use CertKind as C;
    use Proxy as P;
    use Server as S;
    let fwd_behavior = || ProxyBehavior::Forward { require_auth: None };
    let fwd = || P::Http(fwd_behavior());
    let ok = || Behavior::ok("ok\n");
    let refuse = |status: u16| {
        P::Http(ProxyBehavior::Refuse {
            status,
            body: "denied by policy".into(),
        })
    };
    vec![
        sc("proxy: https via CONNECT", S::Tls(C::Valid, ok()), HTTPS_IP).proxy(fwd()),
        sc("proxy: http forwarded", S::Http(ok()), HTTP).proxy(fwd()),
        sc("proxy: 407 to CONNECT", S::Tls(C::Valid, ok()), HTTPS_IP).proxy(P::Http(
            ProxyBehavior::Forward {
                require_auth: Some(("u".into(), "p".into())),
            },
        )),
        sc("proxy: 407 to a forwarded request", S::Http(ok()), HTTP).proxy(P::Http(
            ProxyBehavior::Forward {
                require_auth: Some(("u".into(), "p".into())),
            },
        )),
        sc("proxy: 403 to CONNECT", S::Tls(C::Valid, ok()), HTTPS_IP).proxy(refuse(403)),
        sc("proxy: 502 to CONNECT", S::Tls(C::Valid, ok()), HTTPS_IP).proxy(refuse(502)),
        sc("proxy: stalls on CONNECT", S::Tls(C::Valid, ok()), HTTPS_IP)
            .proxy(P::Http(ProxyBehavior::Stall))
            .connect_timeout("1"),
        sc("proxy: closes the tunnel", S::Tls(C::Valid, ok()), HTTPS_IP)
            .proxy(P::Http(ProxyBehavior::CloseTunnel)),
        sc("proxy: refused", S::Tls(C::Valid, ok()), HTTPS_IP).proxy(P::RefusedHttp),
        sc(
            "proxy: closes without answering CONNECT",
            S::Tls(C::Valid, ok()),
            HTTPS_IP,
        )
        .proxy(P::Raw(b"")),
        sc(
            "proxy: answers CONNECT with garbage",
            S::Tls(C::Valid, ok()),
            HTTPS_IP,
        )
        .proxy(P::Raw(b"SSH-2.0-OpenSSH_9.6\r\n")),
        sc(
            "proxy: unknown proxy name",
            S::Tls(C::Valid, ok()),
            HTTPS_IP,
        )
        .proxy(P::UnknownName),
        sc(
            "proxy: expired cert through the tunnel",
            S::Tls(C::Expired, ok()),
            HTTPS_IP,
        )
        .proxy(fwd()),
        sc(
            "proxy: 503 from the target",
            S::Http(respond(503, &[], "x")),
            HTTP,
        )
        .proxy(fwd()),
        sc(
            "https proxy: https via CONNECT",
            S::Tls(C::Valid, ok()),
            HTTPS_IP,
        )
        .proxy(P::Https(fwd_behavior())),
        sc("https proxy: http forwarded", S::Http(ok()), HTTP).proxy(P::Https(fwd_behavior())),
        sc(
            "https proxy: 407 to CONNECT",
            S::Tls(C::Valid, ok()),
            HTTPS_IP,
        )
        .proxy(P::Https(ProxyBehavior::Forward {
            require_auth: Some(("u".into(), "p".into())),
        })),
        sc(
            "https proxy: its certificate from an unknown CA",
            S::Tls(C::Valid, ok()),
            HTTPS_IP,
        )
        .proxy(P::HttpsWithCert(C::UnknownCa)),
        sc(
            "https proxy: expired certificate, http target",
            S::Http(ok()),
            HTTP,
        )
        .proxy(P::HttpsWithCert(C::Expired)),
        sc(
            "https proxy: a plain proxy written https://",
            S::Tls(C::Valid, ok()),
            HTTPS_IP,
        )
        .proxy(P::PlainAsHttps(fwd_behavior())),
        sc(
            "https proxy: a plain proxy written https://, http target",
            S::Http(ok()),
            HTTP,
        )
        .proxy(P::PlainAsHttps(fwd_behavior())),
        sc("socks5h: ok", S::Http(ok()), HTTP).proxy(P::Socks(SocksOptions::default(), true)),
        sc("socks5: ok", S::Http(ok()), HTTP).proxy(P::Socks(SocksOptions::default(), false)),
        sc("socks5h: not allowed", S::Http(ok()), HTTP).proxy(P::Socks(
            SocksOptions {
                reply: Some(testkit::socks::reply::NOT_ALLOWED),
                ..SocksOptions::default()
            },
            true,
        )),
        sc("socks5h: refused by target", S::Refused, HTTP)
            .proxy(P::Socks(SocksOptions::default(), true)),
    ]
}

/// A 200 whose head has `lines` header lines in all (Content-Length and Connection included).
fn head_with_lines(lines: usize) -> Behavior {
    let fillers: Vec<(String, String)> = (0..lines - 2)
        .map(|i| (format!("X-Filler-{i}"), "v".to_string()))
        .collect();
    let mut headers: Vec<(&str, &str)> = vec![("Content-Length", "3"), ("Connection", "close")];
    headers.extend(fillers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    respond(200, &headers, "ok\n")
}

/// http.client's limits on what it reads, and requests that only netpeel cannot send: each
/// side of the line is checked against requests.
fn limit_scenarios() -> Vec<Scenario> {
    use Server as S;
    let ok = || Behavior::ok("ok\n");
    let long_value = "a".repeat(70_000);
    let long_status: &'static [u8] = format!(
        "HTTP/1.1 200 {}\r\nContent-Length: 0\r\n\r\n",
        "O".repeat(70_000)
    )
    .into_bytes()
    .leak();
    let long_path: &'static str =
        format!("http://127.0.0.1:{{port}}/{}", "p".repeat(65_600)).leak();
    vec![
        sc(
            "limits: 70 KB header line",
            S::Http(respond(200, &[("X-Big", &long_value)], "ok\n")),
            HTTP,
        ),
        sc(
            "limits: 99 header lines",
            S::Http(head_with_lines(99)),
            HTTP,
        ),
        sc(
            "limits: 100 header lines",
            S::Http(head_with_lines(100)),
            HTTP,
        ),
        sc("limits: 70 KB status line", S::Raw(long_status), HTTP),
        sc(
            "limits: 70 KB Location",
            S::Http(respond(302, &[("Location", &format!("/{long_value}"))], "")),
            HTTP,
        ),
        sc("limits: line break in a header", S::Http(ok()), HTTP).header("X-A: a\nb"),
        sc("limits: a snowman in a header", S::Http(ok()), HTTP).header("X-A: \u{2603}"),
        sc("limits: control byte in a header", S::Http(ok()), HTTP)
            .header("X-A: a\u{1}b")
            .netpeel_cannot(),
        sc("limits: 65,600-byte path", S::Http(ok()), long_path).netpeel_cannot(),
        sc(
            "limits: 80 KiB certificate chain",
            S::Tls(CertKind::OversizedChain, ok()),
            HTTPS,
        )
        .netpeel_cannot(),
    ]
}

/// A raw `200 OK` with these extra head lines and this body (Content-Length added).
fn raw_200(head: &str, body: &[u8]) -> &'static [u8] {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\n{head}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes.leak()
}

fn compressed(gzip: bool, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let level = flate2::Compression::default();
    if gzip {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
        e.write_all(data).expect("gzip into memory");
        e.finish().expect("gzip into memory")
    } else {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), level);
        e.write_all(data).expect("deflate into memory");
        e.finish().expect("deflate into memory")
    }
}

/// Bodies as requests reads them: content decoding, chunked framing, Content-Length rules.
fn body_scenarios() -> Vec<Scenario> {
    use Server as S;
    let raw = |head: &str, body: &[u8]| S::Raw(raw_200(head, body));
    let gzip = compressed(true, b"hello gzip\n");
    vec![
        sc("body: gzip", raw("Content-Encoding: gzip\r\n", &gzip), HTTP),
        sc(
            "body: raw deflate",
            raw("Content-Encoding: deflate\r\n", &compressed(false, b"raw\n")),
            HTTP,
        ),
        sc(
            "body: gzip label, plain body",
            raw("Content-Encoding: gzip\r\n", b"not gzip at all"),
            HTTP,
        ),
        sc(
            "body: 'identity, gzip' (urllib3 reads identity as deflate)",
            raw("Content-Encoding: identity, gzip\r\n", &gzip),
            HTTP,
        ),
        sc(
            "body: br is not decoded",
            raw("Content-Encoding: br\r\n", b"opaque"),
            HTTP,
        ),
        sc(
            "body: two Content-Lengths",
            S::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"),
            HTTP,
        ),
        sc(
            "body: the same Content-Length twice",
            S::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"),
            HTTP,
        ),
        sc(
            "body: bad chunk size",
            S::Raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
            HTTP,
        ),
    ]
}

/// Redirect chains: requests follows them, and so does netpeel.
fn redirect_scenarios() -> Vec<Scenario> {
    use Server as S;
    vec![
        sc(
            "http: redirect loop",
            S::Http(respond(302, &[("Location", "/")], "")),
            HTTP,
        ),
        sc(
            "http: redirect to a 200",
            S::RedirectTo(Some(Behavior::ok("ok\n"))),
            HTTP,
        ),
        sc(
            "http: redirect to a refused port",
            S::RedirectTo(None),
            HTTP,
        ),
    ]
}

/// A scenario's servers, kept alive until both tools are done.
struct Live {
    port: u16,
    cacert: Option<PathBuf>,
    dns: SocketAddr,
    _keep: Vec<Box<dyn Any + Send>>,
}

impl Server {
    async fn start(self) -> Live {
        // Every scenario gets a DNS server: the scenario's zone, or none (NXDOMAIN for all).
        let zone = match &self {
            Server::Dns(answer) => vec![(DNS_NAME, answer.clone())],
            _ => Vec::new(),
        };
        let dns_server = DnsServer::start(zone).await;
        let dns = dns_server.addr;
        let mut keep: Vec<Box<dyn Any + Send>> = vec![Box::new(dns_server)];
        let mut cacert = None;
        let port = match self {
            Server::None | Server::Refused => refused_addr().port(),
            Server::Http(b) => {
                let s = HttpServer::start(b).await;
                let port = s.addr.port();
                keep.push(Box::new(s));
                port
            }
            Server::Tls(kind, b) => {
                let s = TlsServer::start(kind, b).await;
                cacert = Some(s.ca_pem_path.clone());
                let port = s.addr.port();
                keep.push(Box::new(s));
                port
            }
            Server::MutualTls(tls12_only) => {
                let s = TlsServer::start_with(TlsOptions {
                    client_auth: ClientAuth::Required,
                    tls12_only,
                    ..TlsOptions::new(CertKind::Valid, Behavior::ok("ok\n"))
                })
                .await;
                cacert = Some(s.ca_pem_path.clone());
                let port = s.addr.port();
                keep.push(Box::new(s));
                port
            }
            Server::Blackhole => {
                // start() blocks for its ~300 ms probe: keep it off the runtime's workers.
                let bh = tokio::task::spawn_blocking(BlackholeListener::start)
                    .await
                    .expect("black hole listener");
                let port = bh.addr.port();
                keep.push(Box::new(bh));
                port
            }
            Server::Dns(_) => {
                let s = HttpServer::start(Behavior::ok("ok\n")).await;
                let port = s.addr.port();
                keep.push(Box::new(s));
                port
            }
            Server::RedirectTo(b) => {
                let target = match b {
                    None => format!("http://127.0.0.1:{}/", refused_addr().port()),
                    Some(b) => {
                        let s = HttpServer::start(b).await;
                        let url = s.url();
                        keep.push(Box::new(s));
                        url
                    }
                };
                let front = HttpServer::start(respond(302, &[("Location", &target)], "")).await;
                let port = front.addr.port();
                keep.push(Box::new(front));
                port
            }
            Server::Raw(reply) => {
                let (addr, task) = common::raw_server(reply, None).await;
                keep.push(Box::new(AbortOnDrop(task)));
                addr.port()
            }
        };
        Live {
            port,
            cacert,
            dns,
            _keep: keep,
        }
    }
}

/// What one scenario produced, for the report and the comparison.
struct Outcome {
    name: &'static str,
    netpeel_cannot: bool,
    url: String,
    oracle: Result<Value, String>,
    verdict: Value,
    netpeel_status: Option<u64>,
    elapsed: Duration,
}

async fn run(s: Scenario) -> Outcome {
    let live = s.server.start().await;
    let port = live.port.to_string();
    let url = s.url.replace("{port}", &port);
    let mut keep_proxy: Vec<Box<dyn Any + Send>> = Vec::new();
    let proxy_url = match s.proxy {
        None => None,
        Some(Proxy::Http(b)) => {
            let p = ProxyServer::start(b, HashMap::new()).await;
            let u = p.url();
            keep_proxy.push(Box::new(p));
            Some(u)
        }
        Some(Proxy::Socks(opts, remote_dns)) => {
            let p = SocksServer::start(opts).await;
            let u = p.url(remote_dns);
            keep_proxy.push(Box::new(p));
            Some(u)
        }
        Some(Proxy::RefusedHttp) => Some(format!("http://{}", refused_addr())),
        Some(Proxy::Raw(reply)) => {
            let (addr, task) = common::raw_server(reply, None).await;
            keep_proxy.push(Box::new(AbortOnDrop(task)));
            Some(format!("http://{addr}"))
        }
        Some(Proxy::UnknownName) => Some("http://proxy.corp.test:3128".to_string()),
        Some(Proxy::Https(b)) => {
            let p = ProxyServer::start_tls(b, HashMap::new()).await;
            let u = p.url();
            keep_proxy.push(Box::new(p));
            Some(u)
        }
        Some(Proxy::HttpsWithCert(kind)) => {
            let b = ProxyBehavior::Forward { require_auth: None };
            let p = ProxyServer::start_tls_with(kind, b, HashMap::new()).await;
            let u = p.url();
            keep_proxy.push(Box::new(p));
            Some(u)
        }
        Some(Proxy::PlainAsHttps(b)) => {
            let p = ProxyServer::start(b, HashMap::new()).await;
            let u = format!("https://{}", p.addr);
            keep_proxy.push(Box::new(p));
            Some(u)
        }
    };

    // Flags both tools spell the same way.
    let mut shared: Vec<String> = vec![
        "--connect-timeout".into(),
        s.connect_timeout.into(),
        "--read-timeout".into(),
        s.read_timeout.into(),
        "--dns".into(),
        live.dns.to_string(),
    ];
    // requests has one `verify`: a CA path or False. With `-k` the oracle must get False, so
    // neither tool gets the CA file (netpeel would ignore it anyway).
    if let Some(ca) = live.cacert.as_ref().filter(|_| !s.insecure) {
        shared.push("--cacert".into());
        shared.push(ca.to_str().expect("UTF-8 temp path").into());
    }
    if url.contains("://localhost:") {
        shared.push("--resolve".into());
        shared.push(format!("localhost:{port}:127.0.0.1"));
    }
    if let Some(p) = &proxy_url {
        shared.push("--proxy".into());
        shared.push(p.clone());
    }
    let client_files = s.client_cert.map(ClientCertFiles::write);
    if let Some(files) = &client_files {
        for (flag, path) in [("--cert", &files.cert), ("--key", &files.key)] {
            shared.push(flag.into());
            shared.push(path.to_str().expect("UTF-8 temp path").into());
        }
    }
    let mut netpeel_args = shared.clone();
    let mut oracle_args = shared;
    if let Some(secs) = s.dns_timeout {
        netpeel_args.extend(["--dns-timeout".into(), secs.into()]);
    }
    if let Some(m) = s.method {
        netpeel_args.extend(["-X".into(), m.into()]);
        oracle_args.extend(["--method".into(), m.into()]);
    }
    if s.insecure {
        netpeel_args.push("-k".into());
        oracle_args.push("--insecure".into());
    }
    if let Some(h) = &s.header {
        netpeel_args.extend(["-H".into(), h.clone()]);
        oracle_args.extend(["--header".into(), h.clone()]);
    }
    netpeel_args.push(url.clone());
    oracle_args.push(url.clone());

    let started = Instant::now();
    let netpeel_refs: Vec<&str> = netpeel_args.iter().map(String::as_str).collect();
    let ((doc, _code), oracle) =
        tokio::join!(common::probe(&netpeel_refs), requests_oracle(&oracle_args));
    let netpeel_status = doc["stages"]
        .as_array()
        .and_then(|a| a.iter().find(|st| st["stage"] == "http"))
        .and_then(|st| st["detail"]["response"]["status"].as_u64());
    Outcome {
        name: s.name,
        netpeel_cannot: s.netpeel_cannot,
        url,
        oracle,
        verdict: doc["verdict"].clone(),
        netpeel_status,
        elapsed: started.elapsed(),
    }
}

/// Runs the oracle; its JSON line, or why there is none.
pub async fn requests_oracle(args: &[String]) -> Result<Value, String> {
    let mut cmd = tokio::process::Command::new("python3");
    cmd.arg(ORACLE).args(args);
    // Same rule as for netpeel: the developer's CA bundle variables must not change a result.
    common::hermetic(&mut cmd);
    let out = common::output_within(&mut cmd, ORACLE_BOUND)
        .await
        .map_err(|e| format!("the oracle: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("the oracle exited with {}: {stderr}", out.status));
    }
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line)
        .map_err(|e| format!("oracle output is not JSON ({e}): {stdout}{stderr}"))
}

/// Every way netpeel's verdict disagrees with what requests did (empty: they agree).
fn disagreements(o: &Outcome) -> Vec<String> {
    let oracle = match &o.oracle {
        Ok(v) => v,
        Err(e) => return vec![format!("no answer from requests: {e}")],
    };
    let v = &o.verdict;
    let mut out = Vec::new();
    let claimed = v["requests_exception"].as_str();
    if o.netpeel_cannot {
        if v["ok"] == true || claimed.is_some() || oracle["outcome"] != "ok" {
            out.push(format!(
                "expected requests to get an answer where netpeel cannot go on: requests {}, netpeel {} claiming {}",
                oracle, v["kind"], claimed.unwrap_or("nothing")
            ));
        }
        return out;
    }
    if oracle["outcome"] == "ok" {
        if v["ok"] != true {
            out.push(format!(
                "requests succeeded (status {}), netpeel's verdict is {} ({}, claims {})",
                oracle["status"],
                v["kind"],
                v["summary"],
                claimed.unwrap_or("nothing")
            ));
        } else if oracle["status"].as_u64() != o.netpeel_status {
            out.push(format!(
                "both succeeded, but requests got status {} and netpeel {:?}",
                oracle["status"], o.netpeel_status
            ));
        }
        return out;
    }
    let raised = oracle["exception"].as_str().unwrap_or("?");
    let chain: Vec<&str> = oracle["chain"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if claimed != Some(raised) {
        out.push(format!(
            "requests raised {raised} (chain {}), netpeel claims {} (kind {})",
            chain.join(" > "),
            claimed.unwrap_or("no exception"),
            v["kind"]
        ));
    }
    match v["urllib3_cause"].as_str() {
        Some(cause) if !chain.contains(&cause) => out.push(format!(
            "netpeel's urllib3_cause {cause} is not in requests' chain {}",
            chain.join(" > ")
        )),
        Some(_) => {}
        None => {
            let urllib3: Vec<&str> = chain
                .iter()
                .copied()
                // The raised exception itself is not a cause (requests lets urllib3's
                // LocationParseError escape unwrapped for an empty host label).
                .filter(|c| c.starts_with("urllib3.") && *c != raised)
                .collect();
            if !urllib3.is_empty() && claimed == Some(raised) {
                out.push(format!(
                    "netpeel names no urllib3 cause, requests' chain has {}",
                    urllib3.join(" > ")
                ));
            }
        }
    }
    if let Some(status) = oracle["status"].as_u64()
        && o.netpeel_status != Some(status)
    {
        out.push(format!(
            "requests raised with status {status}, netpeel saw status {:?}",
            o.netpeel_status
        ));
    }
    out
}

/// `requests.exceptions.ConnectionError` → `ConnectionError`, for the summary table only.
fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// One line of the summary table.
fn summary_line(o: &Outcome, agree: bool) -> String {
    let requests = match &o.oracle {
        Ok(v) if v["outcome"] == "ok" => format!("ok {}", v["status"]),
        Ok(v) => {
            let chain: Vec<&str> = v["chain"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).map(short).collect())
                .unwrap_or_default();
            chain.join(" > ")
        }
        Err(_) => "(no answer)".into(),
    };
    let v = &o.verdict;
    let netpeel = if v["ok"] == true {
        format!(
            "ok {}",
            o.netpeel_status.map_or("?".into(), |s| s.to_string())
        )
    } else {
        format!(
            "{} {} / {}",
            v["kind"].as_str().unwrap_or("?"),
            short(v["requests_exception"].as_str().unwrap_or("-")),
            short(v["urllib3_cause"].as_str().unwrap_or("-"))
        )
    };
    format!(
        "{} {:<42} {:>5.1}s  requests: {requests}\n{:53}netpeel:  {netpeel}",
        if agree { "  agree   " } else { "  DISAGREE" },
        o.name,
        o.elapsed.as_secs_f64(),
        ""
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_agrees_with_the_verdict_table() {
    compare_with_requests(scenarios).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_agrees_on_redirects() {
    compare_with_requests(redirect_scenarios).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_agrees_on_bodies() {
    compare_with_requests(body_scenarios).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_agrees_on_local_limits() {
    compare_with_requests(limit_scenarios).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_agrees_through_proxies() {
    compare_with_requests(proxy_scenarios).await;
}

/// Run every scenario against both tools (a few at a time) and fail once, listing every
/// disagreement.
async fn compare_with_requests(make: fn() -> Vec<Scenario>) {
    if !crate::common::requests_available("differential") {
        return;
    }
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(PARALLEL));
    let mut set = tokio::task::JoinSet::new();
    for (i, s) in make().into_iter().enumerate() {
        let name = s.name;
        let permits = permits.clone();
        set.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            // A nested task, so a panic inside one scenario (netpeel printed no JSON, a server
            // failed to start) is reported under its name instead of ending the whole run.
            (i, name, tokio::spawn(run(s)).await)
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = set.join_next().await {
        results.push(joined.expect("scenario wrapper task"));
    }
    results.sort_by_key(|(i, _, _)| *i);

    let total = results.len();
    let mut table = String::new();
    let mut failures = String::new();
    let mut failed = 0;
    for (i, name, result) in results {
        let mut problems = match &result {
            Ok(o) => disagreements(o),
            Err(e) => vec![format!("the scenario itself failed: {e}")],
        };
        // Timeouts of a second race with a loaded 2-core machine (8 scenarios, two Python
        // interpreters each): a disagreement must happen again, alone, to count.
        let mut result = result;
        if !problems.is_empty()
            && let Some(again) = make().into_iter().nth(i)
        {
            result = tokio::spawn(run(again)).await;
            problems = match &result {
                Ok(o) => disagreements(o),
                Err(e) => vec![format!("the scenario itself failed: {e}")],
            };
        }
        match &result {
            Ok(o) => {
                let _ = writeln!(table, "{}", summary_line(o, problems.is_empty()));
            }
            Err(_) => {
                let _ = writeln!(table, "  ERROR     {name}");
            }
        }
        if !problems.is_empty() {
            failed += 1;
            let url = result.as_ref().map(|o| o.url.clone()).unwrap_or_default();
            let _ = writeln!(failures, "\n* {name}  ({url})");
            for p in problems {
                let _ = writeln!(failures, "    - {p}");
            }
        }
    }
    eprintln!(
        "differential: {total} scenarios in {:.1}s, {failed} disagreeing\n{table}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failed == 0,
        "{failed} of {total} scenarios: netpeel's verdict disagrees with real Python requests:\n{failures}"
    );
}

/// The request head, header by header in order, is the one requests sends (the User-Agent's
/// version aside), with the user's headers merged into requests' defaults the same way. Names
/// are compared without case: hyper title-cases them on the wire, requests keeps the user's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_sends_the_same_request_head() {
    if !crate::common::requests_available("differential") {
        return;
    }
    let cases: [&[&str]; 5] = [
        &[],
        &[
            "-H",
            "accept: application/json",
            "-H",
            "X-Trace: 1",
            "-H",
            "X-Trace: 2",
        ],
        &["-H", "Accept-Encoding:", "-H", "User-Agent: mine/1"],
        // http.client writes values in Latin-1: "é" is one byte, not UTF-8's two.
        &["-H", "X-Name: café"],
        // A given Host goes where the dict has it, after requests' defaults.
        &[
            "-H",
            "X-A: 1",
            "-H",
            "host: example.test",
            "-H",
            "Accept-Encoding:",
        ],
    ];
    for flags in cases {
        let ours = HttpServer::start(Behavior::ok("ok\n")).await;
        let theirs = HttpServer::start(Behavior::ok("ok\n")).await;
        let mut args: Vec<&str> = flags.to_vec();
        let url = ours.url();
        args.push(&url);
        let (doc, code) = common::probe(&args).await;
        assert_eq!(code, 0, "{doc:#}");
        let mut oracle: Vec<String> = flags
            .iter()
            .map(|f| {
                if *f == "-H" {
                    "--header".to_string()
                } else {
                    f.to_string()
                }
            })
            .collect();
        oracle.push(theirs.url());
        requests_oracle(&oracle)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let head = |server: &HttpServer| -> Vec<String> {
            let raw = server.requests().last().cloned().unwrap_or_default();
            raw.lines()
                .skip(1)
                .filter(|l| !l.is_empty())
                .map(|l| {
                    // Ports differ; the User-Agent's version may too.
                    let l = l.replace(&ours.addr.port().to_string(), "PORT");
                    let l = l.replace(&theirs.addr.port().to_string(), "PORT");
                    let l = match l.split_once(": ") {
                        Some((name, value)) => format!("{}: {value}", name.to_ascii_lowercase()),
                        None => l,
                    };
                    match l.split_once("python-requests/") {
                        Some((before, _)) => format!("{before}python-requests/VERSION"),
                        None => l,
                    }
                })
                .collect()
        };
        assert_eq!(head(&ours), head(&theirs), "flags {flags:?}");
    }
}
