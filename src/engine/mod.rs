//! The probe engine: URL → DNS → TCP → TLS → HTTP, each stage timed on its own and returning a
//! result that keeps its detail. It knows nothing of terminals: progress goes out as
//! [`events::ProbeEvent`]s and the caller gets a [`ProbeOutcome`].

pub mod certs;
pub mod clock;
pub mod dns;
pub mod events;
pub mod http;
pub mod proxy;
mod readwatch;
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
    pub total: Duration,
}

/// Take the URL through every stage, stopping at the first that fails.
pub async fn probe(settings: ProbeSettings, events: Events) -> ProbeOutcome {
    let clock = Clock::start(settings.max_time);
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
        total: Duration::ZERO,
    };
    match &target {
        Ok(t) => finished(&events, Stage::Url, true, url_elapsed, t.display_url()),
        Err(e) => {
            finished(&events, Stage::Url, false, url_elapsed, e.message.clone());
            return done(outcome, &clock, &events);
        }
    }
    let Ok(target) = target else {
        return done(outcome, &clock, &events);
    };
    run_stages(&target, &settings, &clock, &events, &mut outcome).await;
    done(outcome, &clock, &events)
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
) {
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
                    return;
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
        return;
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
            return;
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
                    return;
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
    match target.scheme {
        Scheme::Http => {
            let reason = "http:// URL".to_string();
            skipped(events, Stage::Tls, &reason);
            outcome.tls = StageResult::Skipped {
                reason,
                detail: None,
            };
            run_http(stream, head, settings, clock, events, outcome).await;
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
                    outcome.tls = StageResult::Ok {
                        detail: info,
                        elapsed,
                    };
                    run_http(tls_stream, head, settings, clock, events, outcome).await;
                }
                Err(error) => {
                    let elapsed = t.elapsed();
                    finished(events, Stage::Tls, false, elapsed, error.message.clone());
                    outcome.tls = StageResult::Failed { error, elapsed };
                }
            }
        }
    }
}

async fn run_http(
    io: impl http::Transport,
    head: http::RequestHead,
    settings: &ProbeSettings,
    clock: &Clock,
    events: &Events,
    outcome: &mut ProbeOutcome,
) {
    events.emit(ProbeEvent::StageStarted { stage: Stage::Http });
    let t = Instant::now();
    match http::exchange(io, head, settings, clock).await {
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
