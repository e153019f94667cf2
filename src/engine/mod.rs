//! The probe engine: URL → DNS → TCP → TLS → HTTP, each stage timed on its own and returning a
//! result that keeps its detail. It knows nothing of terminals: progress goes out as
//! [`events::ProbeEvent`]s and the caller gets a [`ProbeOutcome`].

mod addr_order;
pub mod addresses;
mod ca_leaf;
pub mod certs;
pub mod client_cert;
pub mod clock;
pub mod conn;
pub mod decode;
pub mod dns;
pub mod events;
mod head_limits;
pub mod http;
pub(crate) mod keepalive;
pub mod legacy_tls;
mod pipeline;
pub mod proxy;
pub mod proxy_select;
mod readwatch;
pub mod redirect;
pub mod settings;
pub mod stage;
pub mod target;
pub mod tcp;
pub mod tls;
pub mod trust;
mod trust_judge;
pub mod verdict;
mod verifier;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use clock::Clock;
use events::{Events, ProbeEvent};
use pipeline::{Ctx, Pooled};
pub use settings::ProbeSettings;
pub use stage::{Stage, StageResult, StageStatus};
use target::{Target, UrlError};
pub use tcp::TcpSummary;

/// The stages that build a connection (everything before HTTP), as one hop found them. A
/// pooled connection keeps them, so a later hop that reuses it can still show them.
#[derive(Clone, Debug, Default)]
pub struct ConnectionStages {
    pub dns: StageResult<dns::DnsAnswer, dns::DnsError>,
    pub tcp: StageResult<TcpSummary, tcp::TcpError>,
    pub proxy: StageResult<proxy::ProxyInfo, proxy::ProxyError>,
    pub tls: StageResult<tls::TlsInfo, tls::TlsError>,
}

/// One address's own probe, summed up.
#[derive(Clone, Debug)]
pub struct AddressProbe {
    pub address: IpAddr,
    pub tcp: Option<Duration>,
    pub tls: Option<Duration>,
    pub http: Option<Duration>,
    pub status: Option<u16>,
    /// None when this address worked.
    pub kind: Option<verdict::Kind>,
    pub summary: String,
}

#[derive(Clone, Debug)]
pub struct ProbeOutcome {
    pub settings: ProbeSettings,
    pub target: Result<Target, UrlError>,
    pub url_elapsed: Duration,
    pub connection: ConnectionStages,
    pub http: StageResult<http::HttpExchange, http::HttpError>,
    /// The redirects followed before this (final) hop, in order.
    pub redirects: Vec<redirect::RedirectHop>,
    /// Set when the redirects did not end within `max_redirects`.
    pub too_many_redirects: Option<redirect::TooManyRedirects>,
    /// `--all-addresses`: every resolved address probed on its own (last hop's host).
    pub addresses: Vec<AddressProbe>,
    pub total: Duration,
}

impl ProbeOutcome {
    /// An outcome whose URL stage has run and whose other stages have not yet.
    fn before_stages(
        settings: &ProbeSettings,
        target: Result<Target, UrlError>,
        url_elapsed: Duration,
    ) -> Self {
        ProbeOutcome {
            settings: settings.clone(),
            target,
            url_elapsed,
            connection: ConnectionStages::default(),
            http: StageResult::NotRun,
            redirects: Vec::new(),
            too_many_redirects: None,
            addresses: Vec::new(),
            total: Duration::ZERO,
        }
    }
}

/// Take the URL through every stage, stopping at the first that fails, and follow redirects
/// the way requests does; the outcome describes the last hop and lists the ones before it.
pub async fn probe(settings: ProbeSettings, events: Events) -> ProbeOutcome {
    let clock = Clock::start(settings.max_time);
    let mut hop_settings = settings.clone();
    let mut redirects: Vec<redirect::RedirectHop> = Vec::new();
    let mut pooled: Option<Pooled> = None;
    loop {
        let hop_started = Instant::now();
        let ctx = Ctx {
            settings: &hop_settings,
            clock: &clock,
            events: &events,
        };
        let (mut outcome, conn) = run_hop(ctx, pooled.take(), redirects.len()).await;
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
            if settings.fetch_intermediate {
                fetch_intermediate(&mut outcome, &hop_settings, &clock).await;
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
        pooled = conn;
    }
}

/// `--fetch-intermediate`: fetch the intermediate the server left out from its AIA URL,
/// through this engine with the probe's timeouts and proxy rules and a capped body, and check
/// every store again with it after the chain.
async fn fetch_intermediate(outcome: &mut ProbeOutcome, settings: &ProbeSettings, clock: &Clock) {
    // Under -k the handshake went on: the chain is the same, and so is the question.
    let found = match &mut outcome.connection.tls {
        StageResult::Failed { error, .. } => &mut error.trust,
        StageResult::Ok { detail, .. } => &mut detail.trust,
        _ => return,
    };
    let Some(url) = found.missing_intermediate_url().map(str::to_string) else {
        return;
    };
    let mut fetch = ProbeSettings::new(url.clone());
    fetch.connect_timeout = settings.connect_timeout;
    fetch.read_timeout = settings.read_timeout;
    fetch.dns_timeout = settings.dns_timeout;
    fetch.max_time = clock.remaining();
    fetch.dns_server = settings.dns_server;
    fetch.resolve = settings.resolve.clone();
    fetch.family = settings.family;
    fetch.hosts_file = settings.hosts_file.clone();
    fetch.resolv_conf = settings.resolv_conf.clone();
    fetch.ca = settings.ca.clone();
    fetch.max_body_bytes = trust::MAX_INTERMEDIATE_BYTES + 1;
    fetch.max_redirects = 5;
    fetch.proxy_inputs = settings.proxy_inputs.clone();
    if let Ok(parsed) = url::Url::parse(&url)
        && let Ok(choice) = proxy::decide(&parsed, &fetch.proxy_inputs)
    {
        fetch.proxy = choice;
    }
    let fetched = Box::pin(probe(fetch, Events::none())).await;
    let verdict = verdict::judge(&fetched);
    let result = match fetched.http.detail() {
        Some(x) if verdict.kind.is_none() => {
            trust::recheck_with_intermediate(&settings.trust_stores, found, &url, &x.body.kept)
        }
        _ => trust::IntermediateFetch {
            url,
            format: None,
            subject: None,
            checks: Vec::new(),
            error: Some(verdict.summary),
        },
    };
    found.intermediate = Some(result);
}

/// One hop: the URL, then the stages (or a pooled connection), then HTTP.
async fn run_hop(
    ctx: Ctx<'_>,
    pooled: Option<Pooled>,
    hop: usize,
) -> (ProbeOutcome, Option<Pooled>) {
    let (target, url_elapsed) = url_stage(ctx);
    let mut outcome = ProbeOutcome::before_stages(ctx.settings, target.clone(), url_elapsed);
    let Ok(target) = target else {
        return (outcome, None);
    };
    let conn = pipeline::run_stages(&target, ctx, &mut outcome, pooled, hop).await;
    (outcome, conn)
}

/// The URL stage: parse the URL as requests does. It has no error type of the runner's kind
/// because the outcome keeps the parse result itself (`ProbeOutcome::target`).
fn url_stage(ctx: Ctx<'_>) -> (Result<Target, UrlError>, Duration) {
    let started = Instant::now();
    ctx.events
        .emit(ProbeEvent::StageStarted { stage: Stage::Url });
    let target = target::parse_target(&ctx.settings.url)
        .and_then(|t| target::check_request(&t, &ctx.settings.headers).map(|()| t));
    let elapsed = started.elapsed();
    let (ok, summary) = match &target {
        Ok(t) => (true, t.display_url()),
        Err(e) => (false, e.message.clone()),
    };
    ctx.events.emit(ProbeEvent::StageFinished {
        stage: Stage::Url,
        ok,
        elapsed,
        summary,
    });
    (target, elapsed)
}

fn done(mut outcome: ProbeOutcome, clock: &Clock, events: &Events) -> ProbeOutcome {
    outcome.total = clock.elapsed();
    events.emit(ProbeEvent::Finished);
    outcome
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
