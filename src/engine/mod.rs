//! The probe engine: URL → DNS → TCP → TLS → HTTP, each stage timed on its own and returning a
//! result that keeps its detail. It knows nothing of terminals: progress goes out as
//! [`events::ProbeEvent`]s and the caller gets a [`ProbeOutcome`].

pub mod addresses;
pub mod certs;
pub mod clock;
pub mod dns;
pub mod events;
pub mod http;
pub mod proxy;
pub mod proxy_select;
mod readwatch;
pub mod redirect;
pub mod settings;
pub mod target;
pub mod tcp;
pub mod tls;
pub mod verdict;
mod verifier;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use clock::Clock;
use events::{Events, ProbeEvent};
pub use settings::ProbeSettings;
use target::{Scheme, Target, TargetHost, UrlError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Url,
    Dns,
    Tcp,
    Proxy,
    Tls,
    Http,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Url,
        Stage::Dns,
        Stage::Tcp,
        Stage::Proxy,
        Stage::Tls,
        Stage::Http,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Url => "url",
            Stage::Dns => "dns",
            Stage::Tcp => "tcp",
            Stage::Proxy => "proxy",
            Stage::Tls => "tls",
            Stage::Http => "http",
        }
    }
}

/// How one stage ended. `Skipped` may still carry detail (an IP literal's address).
#[derive(Clone, Debug)]
pub enum StageResult<T, E> {
    NotRun,
    Skipped { reason: String, detail: Option<T> },
    Ok { detail: T, elapsed: Duration },
    Failed { error: E, elapsed: Duration },
}

impl<T, E> StageResult<T, E> {
    pub fn detail(&self) -> Option<&T> {
        match self {
            StageResult::Ok { detail, .. } => Some(detail),
            StageResult::Skipped { detail, .. } => detail.as_ref(),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<&E> {
        match self {
            StageResult::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    pub fn elapsed(&self) -> Option<Duration> {
        match self {
            StageResult::Ok { elapsed, .. } | StageResult::Failed { elapsed, .. } => Some(*elapsed),
            _ => None,
        }
    }
}

/// The TCP stage's result without the socket (which moves on to TLS/HTTP).
#[derive(Clone, Debug)]
pub struct TcpSummary {
    pub attempts: Vec<tcp::ConnectAttempt>,
    pub local: Option<SocketAddr>,
    pub peer: SocketAddr,
}

#[derive(Clone, Debug)]
pub struct ProbeOutcome {
    pub settings: ProbeSettings,
    pub target: Result<Target, UrlError>,
    pub url_elapsed: Duration,
    pub dns: StageResult<dns::DnsAnswer, dns::DnsError>,
    pub tcp: StageResult<TcpSummary, tcp::TcpError>,
    pub proxy: StageResult<proxy::ProxyInfo, proxy::ProxyError>,
    pub tls: StageResult<tls::TlsInfo, tls::TlsError>,
    pub http: StageResult<http::HttpExchange, http::HttpError>,
    /// The redirects followed before this (final) hop, in order.
    pub redirects: Vec<redirect::RedirectHop>,
    /// Set when the redirects did not end within `max_redirects`.
    pub too_many_redirects: Option<redirect::TooManyRedirects>,
    /// `--all-addresses`: every resolved address probed on its own (last hop's host).
    pub addresses: Vec<addresses::AddressProbe>,
    pub total: Duration,
}

/// Take the URL through every stage, stopping at the first that fails, and follow redirects
/// the way requests does; the outcome describes the last hop and lists the ones before it.
pub async fn probe(settings: ProbeSettings, events: Events) -> ProbeOutcome {
    let clock = Clock::start(settings.max_time);
    let mut hop_settings = settings.clone();
    let mut redirects: Vec<redirect::RedirectHop> = Vec::new();
    let mut reuse: Option<Reusable> = None;
    loop {
        let hop_started = Instant::now();
        let (mut outcome, conn) = run_hop(
            &hop_settings,
            &clock,
            &events,
            reuse.take(),
            redirects.len(),
        )
        .await;
        outcome.settings = settings.clone();
        let next = if settings.follow_redirects {
            redirect::next_hop(&outcome, &hop_settings)
        } else {
            None
        };
        let Some(next) = next else {
            outcome.redirects = redirects;
            if settings.all_addresses {
                outcome.addresses =
                    addresses::probe_each(&outcome, &hop_settings, clock.remaining()).await;
            }
            return done(outcome, &clock, &events);
        };
        if redirects.len() >= settings.max_redirects {
            let current = outcome
                .target
                .as_ref()
                .map(|t| t.display_url())
                .unwrap_or_default();
            outcome.too_many_redirects = Some(redirect::too_many(
                &redirects,
                &current,
                &next,
                settings.max_redirects,
            ));
            outcome.redirects = redirects;
            return done(outcome, &clock, &events);
        }
        events.emit(ProbeEvent::Redirected {
            status: next.status,
            location: next.location.clone(),
        });
        redirects.push(redirect::hop_record(&outcome, &next, hop_started.elapsed()));
        hop_settings = next.settings;
        reuse = conn;
    }
}

/// One hop: the URL, then every stage (or a reused connection), then HTTP.
async fn run_hop(
    settings: &ProbeSettings,
    clock: &Clock,
    events: &Events,
    reuse: Option<Reusable>,
    hop: usize,
) -> (ProbeOutcome, Option<Reusable>) {
    let t0 = Instant::now();
    events.emit(ProbeEvent::StageStarted { stage: Stage::Url });
    let target = target::parse_target(&settings.url);
    let url_elapsed = t0.elapsed();
    let mut outcome = ProbeOutcome {
        settings: settings.clone(),
        target: target.clone(),
        url_elapsed,
        dns: StageResult::NotRun,
        tcp: StageResult::NotRun,
        proxy: StageResult::NotRun,
        tls: StageResult::NotRun,
        http: StageResult::NotRun,
        redirects: Vec::new(),
        too_many_redirects: None,
        addresses: Vec::new(),
        total: Duration::ZERO,
    };
    let target = match target {
        Ok(t) => {
            finished(events, Stage::Url, true, url_elapsed, t.display_url());
            t
        }
        Err(e) => {
            finished(events, Stage::Url, false, url_elapsed, e.message.clone());
            return (outcome, None);
        }
    };
    let conn = run_stages(&target, settings, clock, events, &mut outcome, reuse, hop).await;
    (outcome, conn)
}

/// A connection kept for the next hop, with the stage results that opened it.
struct Reusable {
    origin: (Scheme, String, u16),
    proxy: Option<String>,
    conn: http::HttpConn,
    opened_at_hop: usize,
    dns: StageResult<dns::DnsAnswer, dns::DnsError>,
    tcp: StageResult<TcpSummary, tcp::TcpError>,
    proxy_stage: StageResult<proxy::ProxyInfo, proxy::ProxyError>,
    tls: StageResult<tls::TlsInfo, tls::TlsError>,
}

fn origin(target: &Target) -> (Scheme, String, u16) {
    (target.scheme, target.host.to_string(), target.port)
}

/// A stage that did not run because the connection was reused: keep what it found then.
fn reused<T: Clone, E>(r: &StageResult<T, E>, reason: &str) -> StageResult<T, E> {
    StageResult::Skipped {
        reason: reason.to_string(),
        detail: r.detail().cloned(),
    }
}

fn done(mut outcome: ProbeOutcome, clock: &Clock, events: &Events) -> ProbeOutcome {
    outcome.total = clock.elapsed();
    events.emit(ProbeEvent::Finished);
    outcome
}

fn finished(events: &Events, stage: Stage, ok: bool, elapsed: Duration, summary: String) {
    events.emit(ProbeEvent::StageFinished {
        stage,
        ok,
        elapsed,
        summary,
    });
}

fn skipped(events: &Events, stage: Stage, reason: &str) {
    events.emit(ProbeEvent::StageSkipped {
        stage,
        reason: reason.to_string(),
    });
}

async fn run_stages(
    target: &Target,
    settings: &ProbeSettings,
    clock: &Clock,
    events: &Events,
    outcome: &mut ProbeOutcome,
    reuse: Option<Reusable>,
    hop: usize,
) -> Option<Reusable> {
    let proxy_display = settings.proxy.proxy.as_ref().map(|p| p.display.clone());
    if let Some(mut r) = reuse
        && r.origin == origin(target)
        && r.proxy == proxy_display
        && r.conn.reusable().await
    {
        let reason = format!("reused the connection opened for hop {}", r.opened_at_hop);
        for stage in [Stage::Dns, Stage::Tcp, Stage::Proxy, Stage::Tls] {
            skipped(events, stage, &reason);
        }
        outcome.dns = reused(&r.dns, &reason);
        outcome.tcp = reused(&r.tcp, &reason);
        outcome.proxy = reused(&r.proxy_stage, &reason);
        outcome.tls = match target.scheme {
            Scheme::Http => StageResult::Skipped {
                reason: "http:// URL".into(),
                detail: None,
            },
            Scheme::Https => reused(&r.tls, &reason),
        };
        let forward = matches!(
            r.proxy_stage.detail().map(|p| &p.exchange),
            Some(proxy::ProxyExchange::Forward)
        );
        let head = http::build_request_head(
            target,
            settings,
            forward.then_some(()).and(settings.proxy.proxy.as_ref()),
        );
        run_http(&mut r.conn, head, settings, clock, events, outcome).await;
        return Some(r);
    }
    // With a proxy, DNS and TCP are about the proxy: the target is named to it.
    let proxy = settings.proxy.proxy.as_ref();
    let (connect_host, connect_port) = match proxy {
        Some(p) => (
            match p
                .host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
            {
                Ok(ip) => TargetHost::Ip(ip),
                Err(_) => TargetHost::Name(p.host.clone()),
            },
            p.port,
        ),
        None => (target.host.clone(), target.port),
    };

    // DNS
    let addresses: Vec<IpAddr> = match &connect_host {
        TargetHost::Ip(ip) => {
            let reason = "the host is an IP address".to_string();
            skipped(events, Stage::Dns, &reason);
            outcome.dns = StageResult::Skipped {
                reason,
                detail: Some(dns::DnsAnswer {
                    name: ip.to_string(),
                    source: dns::DnsSource::IpLiteral,
                    queries: Vec::new(),
                    addresses: vec![*ip],
                    cname_chain: Vec::new(),
                }),
            };
            vec![*ip]
        }
        TargetHost::Name(name) => {
            events.emit(ProbeEvent::StageStarted { stage: Stage::Dns });
            let t = Instant::now();
            match dns::resolve(name, connect_port, settings, clock).await {
                Ok(answer) if answer.source == dns::DnsSource::ResolveFlag => {
                    let reason = format!("pinned by --resolve {name}:{connect_port}");
                    skipped(events, Stage::Dns, &reason);
                    let addrs = answer.addresses.clone();
                    outcome.dns = StageResult::Skipped {
                        reason,
                        detail: Some(answer),
                    };
                    addrs
                }
                Ok(answer) => {
                    let elapsed = t.elapsed();
                    finished(
                        events,
                        Stage::Dns,
                        true,
                        elapsed,
                        format!("{} address(es)", answer.addresses.len()),
                    );
                    let addrs = answer.addresses.clone();
                    outcome.dns = StageResult::Ok {
                        detail: answer,
                        elapsed,
                    };
                    addrs
                }
                Err(error) => {
                    let elapsed = t.elapsed();
                    finished(events, Stage::Dns, false, elapsed, error.message.clone());
                    outcome.dns = StageResult::Failed { error, elapsed };
                    return None;
                }
            }
        }
    };

    // TCP
    events.emit(ProbeEvent::StageStarted { stage: Stage::Tcp });
    let t = Instant::now();
    let addresses: Vec<IpAddr> = addresses
        .into_iter()
        .filter(|a| settings.family.allows(a))
        .collect();
    if addresses.is_empty() {
        // Only an IP literal can get here (DNS already filters by family); curl -4/-6 fails too.
        let error = tcp::TcpError {
            failure: tcp::TcpFailure::Other,
            addr: SocketAddr::new(IpAddr::from([0, 0, 0, 0]), connect_port),
            attempts: Vec::new(),
            elapsed: t.elapsed(),
            timeout: None,
            detail: format!("-4/-6 excludes the address {connect_host}"),
        };
        finished(
            events,
            Stage::Tcp,
            false,
            error.elapsed,
            error.detail.clone(),
        );
        outcome.tcp = StageResult::Failed {
            elapsed: error.elapsed,
            error,
        };
        return None;
    }
    let connected = match tcp::connect(
        &addresses,
        connect_port,
        settings.connect_timeout,
        clock,
        events,
    )
    .await
    {
        Ok(c) => c,
        Err(error) => {
            let elapsed = t.elapsed();
            finished(events, Stage::Tcp, false, elapsed, error.detail.clone());
            outcome.tcp = StageResult::Failed { error, elapsed };
            return None;
        }
    };
    let elapsed = t.elapsed();
    finished(
        events,
        Stage::Tcp,
        true,
        elapsed,
        format!("connected to {}", connected.peer),
    );
    outcome.tcp = StageResult::Ok {
        detail: TcpSummary {
            attempts: connected.attempts,
            local: connected.local,
            peer: connected.peer,
        },
        elapsed,
    };
    let mut stream = connected.stream;

    // Proxy: CONNECT or SOCKS5 over the connection to the proxy (skipped without one).
    match proxy {
        None => {
            let reason = settings.proxy.reason.clone();
            skipped(events, Stage::Proxy, &reason);
            outcome.proxy = StageResult::Skipped {
                reason,
                detail: None,
            };
        }
        Some(endpoint) => {
            events.emit(ProbeEvent::StageStarted {
                stage: Stage::Proxy,
            });
            let t = Instant::now();
            match proxy::establish(&mut stream, endpoint, target, settings, clock).await {
                Ok(info) => {
                    let elapsed = t.elapsed();
                    finished(events, Stage::Proxy, true, elapsed, proxy_summary(&info));
                    outcome.proxy = StageResult::Ok {
                        detail: info,
                        elapsed,
                    };
                }
                Err(error) => {
                    let elapsed = t.elapsed();
                    finished(events, Stage::Proxy, false, elapsed, error.message.clone());
                    outcome.proxy = StageResult::Failed { error, elapsed };
                    return None;
                }
            }
        }
    }
    // An http:// target through an http proxy: the request goes to the proxy in absolute form.
    let forward = matches!(
        outcome.proxy.detail().map(|p| &p.exchange),
        Some(proxy::ProxyExchange::Forward)
    );
    let head = http::build_request_head(target, settings, forward.then_some(()).and(proxy));

    // TLS, then HTTP over whichever stream we have.
    let opened = match target.scheme {
        Scheme::Http => {
            let reason = "http:// URL".to_string();
            skipped(events, Stage::Tls, &reason);
            outcome.tls = StageResult::Skipped {
                reason,
                detail: None,
            };
            http::open(stream, false).await
        }
        Scheme::Https => {
            events.emit(ProbeEvent::StageStarted { stage: Stage::Tls });
            let t = Instant::now();
            match tls::handshake(stream, &target.host, settings, clock).await {
                Ok((tls_stream, info)) => {
                    let elapsed = t.elapsed();
                    finished(
                        events,
                        Stage::Tls,
                        true,
                        elapsed,
                        format!("{} {}", info.version, info.cipher),
                    );
                    // HTTP/2 only when offered (--http2) and chosen by the server.
                    let h2 = info.alpn.as_deref() == Some("h2");
                    outcome.tls = StageResult::Ok {
                        detail: info,
                        elapsed,
                    };
                    http::open(tls_stream, h2).await
                }
                Err(error) => {
                    let elapsed = t.elapsed();
                    finished(events, Stage::Tls, false, elapsed, error.message.clone());
                    outcome.tls = StageResult::Failed { error, elapsed };
                    return None;
                }
            }
        }
    };
    let mut conn = match opened {
        Ok(c) => c,
        Err(message) => {
            let error = http::HttpError {
                failure: http::HttpFailure::Other,
                request: head,
                response: None,
                body_bytes: 0,
                content_length: None,
                elapsed: Duration::ZERO,
                timeout: None,
                message,
            };
            finished(
                events,
                Stage::Http,
                false,
                Duration::ZERO,
                error.message.clone(),
            );
            outcome.http = StageResult::Failed {
                error,
                elapsed: Duration::ZERO,
            };
            return None;
        }
    };
    run_http(&mut conn, head, settings, clock, events, outcome).await;
    Some(Reusable {
        origin: origin(target),
        proxy: proxy_display,
        conn,
        opened_at_hop: hop,
        dns: outcome.dns.clone(),
        tcp: outcome.tcp.clone(),
        proxy_stage: outcome.proxy.clone(),
        tls: outcome.tls.clone(),
    })
}

async fn run_http(
    conn: &mut http::HttpConn,
    head: http::RequestHead,
    settings: &ProbeSettings,
    clock: &Clock,
    events: &Events,
    outcome: &mut ProbeOutcome,
) {
    events.emit(ProbeEvent::StageStarted { stage: Stage::Http });
    let t = Instant::now();
    match http::exchange(conn, head, settings, clock).await {
        Ok(exchange) => {
            let elapsed = t.elapsed();
            finished(
                events,
                Stage::Http,
                !http::is_error_status(exchange.response.status),
                elapsed,
                format!("{} {}", exchange.response.status, exchange.response.reason),
            );
            outcome.http = StageResult::Ok {
                detail: exchange,
                elapsed,
            };
        }
        Err(error) => {
            let elapsed = t.elapsed();
            finished(events, Stage::Http, false, elapsed, error.message.clone());
            outcome.http = StageResult::Failed { error, elapsed };
        }
    }
}

fn proxy_summary(info: &proxy::ProxyInfo) -> String {
    match &info.exchange {
        proxy::ProxyExchange::Connect { status, reason, .. } => {
            format!("CONNECT via {}: {status} {reason}", info.endpoint.display)
        }
        proxy::ProxyExchange::Forward => format!("forwarding through {}", info.endpoint.display),
        proxy::ProxyExchange::Socks { target, .. } => {
            format!("SOCKS5 tunnel to {target} via {}", info.endpoint.display)
        }
    }
}

/// "1.5 s", "250 ms": how timeouts read in sentences.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        let s = d.as_secs_f64();
        if (s - s.round()).abs() < 0.0005 {
            format!("{} s", s.round() as u64)
        } else {
            format!("{s:.2} s").replace(".00 s", " s")
        }
    } else {
        format!("{} ms", ms.round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(fmt_duration(Duration::from_secs(10)), "10 s");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.50 s");
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250 ms");
    }
}
