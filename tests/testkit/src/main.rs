//! `testserver`: one misbehaving loopback server, for manual use and benchmarks.
//!
//! usage: testserver <scenario> [--ca-out PATH] [--seconds N (default 300)]
//!
//! Prints exactly one line `READY <addr>` on stdout once serving, writes the
//! test CA PEM to --ca-out for https-* and h2 scenarios, and exits after N seconds
//! (at most one hour, the library's server lifetime) or when killed.

use std::collections::HashMap;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use testkit::dns::{DnsAnswer, DnsServer};
use testkit::h2::{H2Behavior, H2Server};
use testkit::http::{Behavior, HttpServer};
use testkit::proxy::{ProxyBehavior, ProxyServer};
use testkit::socks::{SocksOptions, SocksServer};
use testkit::tcp::{BlackholeListener, refused_addr};
use testkit::tls::{CertKind, ClientAuth, TlsOptions, TlsServer};

const SCENARIOS: &str = "http-ok, https-ok, https-expired, https-not-yet-valid, \
    https-wrong-name, https-self-signed, https-unknown-ca, https-ca-leaf, http-404, http-503, \
    http-stall, http-close, http-reset, http-garbage, http-trickle-close, refused, blackhole, dns, \
    https-client-cert, proxy, proxy-407, proxy-https, socks5, h2, redirect-loop";

/// What the proxy scenarios add to the usage text.
const NOTES: &str = "https-client-cert requires a client certificate from the test client CA. \
    proxy-https is proxy behind TLS (test CA via --ca-out). proxy, proxy-407 (user:pass) and socks5 forward to loopback only; the \
    name ok.test reaches a built-in 200 server (e.g. curl -x http://ADDR http://ok.test/). \
    h2 serves ALPN h2 and http/1.1 (test CA via --ca-out). redirect-loop: / -> /x -> /y -> /x ...";

struct Args {
    scenario: String,
    ca_out: Option<PathBuf>,
    seconds: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut scenario, mut ca_out, mut seconds) = (None, None, 300u64);
    // Bounded by the number of arguments.
    while let Some(a) = it.next() {
        match a.as_str() {
            "--ca-out" => ca_out = Some(PathBuf::from(it.next().ok_or("--ca-out needs a path")?)),
            "--seconds" => {
                let v = it.next().ok_or("--seconds needs a number")?;
                seconds = v.parse().map_err(|_| format!("bad --seconds {v:?}"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s if scenario.is_none() => scenario = Some(s.to_string()),
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    let scenario = scenario.ok_or("missing scenario")?;
    let max = testkit::MAX_SERVER_LIFETIME.as_secs();
    Ok(Args {
        scenario,
        ca_out,
        seconds: seconds.min(max),
    })
}

/// Keeps whatever server a scenario started alive until main returns.
enum Running {
    Http(HttpServer),
    Tls(TlsServer),
    H2(H2Server),
    /// A proxy and the backend that `ok.test` resolves to.
    Proxy {
        proxy: ProxyServer,
        _backend: HttpServer,
    },
    Socks {
        socks: SocksServer,
        _backend: HttpServer,
    },
    Dns(DnsServer),
    Blackhole(BlackholeListener),
    Nothing(SocketAddr),
}

fn respond(code: u16, body: &str) -> Behavior {
    Behavior::Respond {
        code,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: body.as_bytes().to_vec(),
    }
}

async fn start(scenario: &str) -> Option<Running> {
    let tls =
        |k: CertKind| async move { Running::Tls(TlsServer::start(k, respond(200, "ok\n")).await) };
    let http = |b: Behavior| async move { Running::Http(HttpServer::start(b).await) };
    Some(match scenario {
        "http-ok" => http(respond(200, "ok\n")).await,
        "http-404" => http(respond(404, "not found\n")).await,
        "http-503" => {
            http(Behavior::Respond {
                code: 503,
                headers: vec![("Retry-After".into(), "1".into())],
                body: b"unavailable\n".to_vec(),
            })
            .await
        }
        "http-stall" => http(Behavior::StallBeforeResponse).await,
        "http-close" => http(Behavior::CloseBeforeResponse).await,
        "http-reset" => http(Behavior::ResetBeforeResponse).await,
        "http-garbage" => http(Behavior::Garbage).await,
        "http-trickle-close" => {
            http(Behavior::TrickleThenClose {
                content_length: 100,
                sent: 10,
                interval: Duration::from_millis(200),
            })
            .await
        }
        "https-ok" => tls(CertKind::Valid).await,
        "https-expired" => tls(CertKind::Expired).await,
        "https-not-yet-valid" => tls(CertKind::NotYetValid).await,
        "https-wrong-name" => tls(CertKind::WrongName).await,
        "https-self-signed" => tls(CertKind::SelfSigned).await,
        "https-unknown-ca" => tls(CertKind::UnknownCa).await,
        "https-ca-leaf" => tls(CertKind::CaAsEndEntity).await,
        "https-client-cert" => Running::Tls(
            TlsServer::start_with(TlsOptions {
                client_auth: ClientAuth::Required,
                ..TlsOptions::new(CertKind::Valid, respond(200, "ok\n"))
            })
            .await,
        ),
        "proxy-https" => {
            let backend = HttpServer::start(respond(200, "ok via proxy\n")).await;
            let b = ProxyBehavior::Forward { require_auth: None };
            Running::Proxy {
                proxy: ProxyServer::start_tls(b, ok_test(backend.addr)).await,
                _backend: backend,
            }
        }
        "refused" => Running::Nothing(refused_addr()),
        "blackhole" => Running::Blackhole(BlackholeListener::start()),
        "dns" => Running::Dns(DnsServer::start(dns_zone()).await),
        "proxy" | "proxy-407" => {
            let backend = HttpServer::start(respond(200, "ok via proxy\n")).await;
            let require_auth =
                (scenario == "proxy-407").then(|| ("user".to_string(), "pass".to_string()));
            let b = ProxyBehavior::Forward { require_auth };
            Running::Proxy {
                proxy: ProxyServer::start(b, ok_test(backend.addr)).await,
                _backend: backend,
            }
        }
        "socks5" => {
            let backend = HttpServer::start(respond(200, "ok via socks\n")).await;
            let opts = SocksOptions {
                resolve: ok_test(backend.addr),
                ..SocksOptions::default()
            };
            Running::Socks {
                socks: SocksServer::start(opts).await,
                _backend: backend,
            }
        }
        "h2" => {
            let b = H2Behavior::Respond {
                code: 200,
                body: "ok\n".into(),
            };
            Running::H2(H2Server::start(b).await)
        }
        "redirect-loop" => Running::Http(
            HttpServer::start_router(vec![
                ("/".into(), Behavior::redirect(302, "/x")),
                ("/x".into(), Behavior::redirect(302, "/y")),
                ("/y".into(), Behavior::redirect(302, "/x")),
            ])
            .await,
        ),
        _ => return None,
    })
}

/// The proxies' resolve map: `ok.test` (any port) is the built-in backend.
fn ok_test(backend: SocketAddr) -> HashMap<String, SocketAddr> {
    HashMap::from([("ok.test".to_string(), backend)])
}

fn dns_zone() -> Vec<(&'static str, DnsAnswer)> {
    let lo = Ipv4Addr::LOCALHOST;
    let records = |chain: &[&str], a: Vec<Ipv4Addr>, aaaa| DnsAnswer::Records {
        cname_chain: chain.iter().map(|s| s.to_string()).collect(),
        a,
        aaaa,
        ttl: 60,
    };
    vec![
        (
            "ok.test",
            records(&[], vec![lo], vec![std::net::Ipv6Addr::LOCALHOST]),
        ),
        ("nx.test", DnsAnswer::NxDomain),
        ("servfail.test", DnsAnswer::ServFail),
        ("refused.test", DnsAnswer::Refused),
        ("silent.test", DnsAnswer::Silent),
        ("v4only.test", records(&[], vec![lo], vec![])),
        (
            "alias.test",
            records(&["alias1.test", "target.test"], vec![lo], vec![]),
        ),
    ]
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("testserver: {e}");
            }
            eprintln!(
                "usage: testserver <scenario> [--ca-out PATH] [--seconds N (default 300)]\n\
                 scenarios: {SCENARIOS}\n{NOTES}"
            );
            return ExitCode::from(2);
        }
    };
    let Some(running) = start(&args.scenario).await else {
        eprintln!(
            "testserver: unknown scenario {:?}\nscenarios: {SCENARIOS}",
            args.scenario
        );
        return ExitCode::from(2);
    };
    let addr = match &running {
        Running::Http(s) => s.addr,
        Running::Tls(s) => s.addr,
        Running::H2(s) => s.addr,
        Running::Proxy { proxy, .. } => proxy.addr,
        Running::Socks { socks, .. } => socks.addr,
        Running::Dns(s) => s.addr,
        Running::Blackhole(s) => s.addr,
        Running::Nothing(a) => *a,
    };
    let ca_pem = match &running {
        Running::Tls(s) => Some(&s.ca_pem),
        Running::H2(s) => Some(&s.ca_pem),
        Running::Proxy { .. } if args.scenario == "proxy-https" => {
            Some(&testkit::tls::certs::test_ca().pem)
        }
        _ => None,
    };
    if let (Some(pem), Some(path)) = (ca_pem, &args.ca_out)
        && let Err(e) = std::fs::write(path, pem)
    {
        eprintln!("testserver: writing {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    let mut out = std::io::stdout().lock();
    if writeln!(out, "READY {addr}")
        .and_then(|_| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(out);
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    drop(running);
    ExitCode::SUCCESS
}
