//! One hop's stages, in order: resolve → connect (direct, or to a proxy) → tunnel (CONNECT,
//! SOCKS5, or nothing) → TLS → HTTP. Each step is one call of the stage runner
//! ([`super::stage`]); a step that fails ends the hop. A hop to the origin an earlier hop left a
//! connection open to reuses it instead, as requests' pool does.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::clock::Clock;
use super::conn::Conn;
use super::events::{Events, ProbeEvent};
use super::http::{HttpConn, HttpError, HttpExchange, HttpFailure, RequestHead};
use super::proxy::{ProxyError, ProxyExchange, ProxyInfo};
use super::proxy_select::{ProxyScheme, ProxyUrl};
use super::settings::ProbeSettings;
use super::stage::{self, Stage, StageResult};
use super::target::{Scheme, Target, TargetHost};
use super::{ConnectionStages, ProbeOutcome, dns, http, proxy, tcp, tls};

/// What every stage of a hop reads: the settings, the deadline, where progress goes.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub settings: &'a ProbeSettings,
    pub clock: &'a Clock,
    pub events: &'a Events,
}

/// The scheme, host and port a connection was opened to: requests pools by origin.
type Origin = (Scheme, String, u16);

fn origin(target: &Target) -> Origin {
    (target.scheme, target.host.to_string(), target.port)
}

/// A connection kept open for the next hop, with the stages that opened it (a hop that reuses
/// it still shows what they found).
pub(crate) struct Pooled {
    origin: Origin,
    /// The proxy it goes through (masked display form), if any.
    proxy: Option<String>,
    conn: HttpConn,
    opened_at_hop: usize,
    stages: ConnectionStages,
}

/// Where the socket goes: to the proxy when one is in use (the target is then named to the
/// proxy, so DNS and TCP are about the proxy), else to the target.
struct Route<'a> {
    host: TargetHost,
    port: u16,
    proxy: Option<&'a ProxyUrl>,
}

impl<'a> Route<'a> {
    fn to(target: &Target, settings: &'a ProbeSettings) -> Route<'a> {
        let Some(p) = settings.proxy.proxy.as_ref() else {
            return Route {
                host: target.host.clone(),
                port: target.port,
                proxy: None,
            };
        };
        let bare = p.host.trim_start_matches('[').trim_end_matches(']');
        let host = match bare.parse::<IpAddr>() {
            Ok(ip) => TargetHost::Ip(ip),
            Err(_) => TargetHost::Name(p.host.clone()),
        };
        Route {
            host,
            port: p.port,
            proxy: Some(p),
        }
    }
}

/// The stream TLS (or its absence) leaves for HTTP.
enum Secured {
    Plain(Conn),
    Tls {
        stream: Box<TlsStream<Conn>>,
        /// The server chose HTTP/2 in ALPN (only offered with --http2).
        h2: bool,
    },
}

/// Run the hop's stages into `outcome`; returns the connection when it may serve a later hop.
pub(crate) async fn run_stages(
    target: &Target,
    ctx: Ctx<'_>,
    outcome: &mut ProbeOutcome,
    pooled: Option<Pooled>,
    hop: usize,
) -> Option<Pooled> {
    if let Some(pooled) = reusable(pooled, target, ctx.settings).await {
        let reason = format!(
            "reused the connection opened for hop {}",
            pooled.opened_at_hop
        );
        return Some(reuse(pooled, target, ctx, outcome, &reason).await);
    }
    let route = Route::to(target, ctx.settings);
    let stages = &mut outcome.connection;
    let addresses = resolve(&route, ctx, stages).await?;
    let stream = connect(&route, &addresses, ctx, stages).await?;
    let stream = tunnel(stream, &route, target, ctx, stages).await?;
    let head = request_head(target, ctx.settings, &stages.proxy);
    let reset = stages.tcp.detail().is_some_and(|t| t.reset_after_handshake);
    let secured = secure(stream, target, ctx, stages).await?;
    if ctx.settings.stop_after_tls {
        return None;
    }
    let mut conn = match open_http(secured, &head, reset, ctx).await {
        Ok(conn) => conn,
        Err(failed) => {
            outcome.http = failed;
            return None;
        }
    };
    outcome.http = exchange(&mut conn, head, ctx).await;
    Some(Pooled {
        origin: origin(target),
        proxy: route.proxy.map(|p| p.display.clone()),
        conn,
        opened_at_hop: hop,
        stages: outcome.connection.clone(),
    })
}

/// The DNS stage for the route's host (skipped for an IP literal); the addresses to connect to.
async fn resolve(
    route: &Route<'_>,
    ctx: Ctx<'_>,
    stages: &mut ConnectionStages,
) -> Option<Vec<IpAddr>> {
    stages.dns = match &route.host {
        TargetHost::Ip(ip) => stage::skip(
            ctx.events,
            Stage::Dns,
            match route.proxy {
                Some(_) => "the proxy's host is an IP address".to_string(),
                None => "the host is an IP address".to_string(),
            },
            Some(dns::DnsAnswer {
                name: ip.to_string(),
                source: dns::DnsSource::IpLiteral,
                queries: Vec::new(),
                addresses: vec![*ip],
                cname_chain: Vec::new(),
                order_note: None,
            }),
        ),
        TargetHost::Name(name) => {
            let lookup = dns::resolve(name, route.port, ctx.settings, ctx.clock);
            stage::timed(ctx.events, Stage::Dns, lookup).await
        }
    };
    stages.dns.detail().map(|answer| answer.addresses.clone())
}

/// The TCP stage: the addresses one after another, as urllib3 tries them.
async fn connect(
    route: &Route<'_>,
    addresses: &[IpAddr],
    ctx: Ctx<'_>,
    stages: &mut ConnectionStages,
) -> Option<TcpStream> {
    let settings = ctx.settings;
    let allowed: Vec<IpAddr> = addresses
        .iter()
        .copied()
        .filter(|a| settings.family.allows(a))
        .collect();
    let attempt = async {
        if allowed.is_empty() {
            // Only an IP literal gets here (DNS already filters by family); curl -4/-6 fails too.
            return Err(family_excludes(route));
        }
        tcp::connect(
            &allowed,
            route.port,
            settings.connect_timeout,
            ctx.clock,
            ctx.events,
        )
        .await
    };
    let (stream, result) = stage::run(ctx.events, Stage::Tcp, attempt).await;
    stages.tcp = result;
    stream
}

fn family_excludes(route: &Route<'_>) -> tcp::TcpError {
    let started = Instant::now();
    tcp::TcpError {
        failure: tcp::TcpFailure::Other,
        addr: SocketAddr::new(IpAddr::from([0, 0, 0, 0]), route.port),
        attempts: Vec::new(),
        elapsed: started.elapsed(),
        timeout: None,
        detail: format!("-4/-6 excludes the address {}", route.host),
    }
}

/// The proxy stage: CONNECT or SOCKS5 over the socket to the proxy; skipped without one.
async fn tunnel(
    stream: TcpStream,
    route: &Route<'_>,
    target: &Target,
    ctx: Ctx<'_>,
    stages: &mut ConnectionStages,
) -> Option<Conn> {
    let mut stream = Conn::Tcp(stream);
    let Some(endpoint) = route.proxy else {
        let reason = ctx.settings.proxy.reason.clone();
        stages.proxy = stage::skip(ctx.events, Stage::Proxy, reason, None);
        return Some(stream);
    };
    let work = async {
        let mut tls = None;
        if endpoint.scheme == ProxyScheme::Https {
            let (secured, info) =
                proxy::secure_to_proxy(stream, endpoint, target, ctx.settings, ctx.clock).await?;
            stream = secured;
            tls = Some(Box::new(info));
        }
        match proxy::establish(&mut stream, endpoint, target, ctx.settings, ctx.clock).await {
            Ok(mut info) => {
                info.tls = tls;
                Ok((stream, info))
            }
            Err(mut e) => {
                e.tls_done = tls;
                Err(e)
            }
        }
    };
    let (stream, result) = stage::run(ctx.events, Stage::Proxy, work).await;
    stages.proxy = result;
    stream
}

/// The request as it goes out: to an http proxy that forwards it (an http:// target through
/// an http proxy), in absolute form with the proxy's credentials.
fn request_head(
    target: &Target,
    settings: &ProbeSettings,
    proxy_stage: &StageResult<ProxyInfo, ProxyError>,
) -> RequestHead {
    let forwarded = proxy_stage
        .detail()
        .is_some_and(|info| matches!(info.exchange, ProxyExchange::Forward));
    let forward_via = if forwarded {
        settings.proxy.proxy.as_ref()
    } else {
        None
    };
    http::build_request_head(target, settings, forward_via)
}

/// The TLS stage for https:// (skipped for http://).
async fn secure(
    stream: Conn,
    target: &Target,
    ctx: Ctx<'_>,
    stages: &mut ConnectionStages,
) -> Option<Secured> {
    if target.scheme == Scheme::Http {
        stages.tls = stage::skip(ctx.events, Stage::Tls, "http:// URL".to_string(), None);
        return Some(Secured::Plain(stream));
    }
    let handshake = tls::handshake(stream, &target.host, ctx.settings, ctx.clock);
    let (stream, mut result) = stage::run(ctx.events, Stage::Tls, handshake).await;
    if route_is_direct(ctx) {
        ask_about_legacy_suites(&mut result, ctx).await;
    }
    let h2 = result
        .detail()
        .is_some_and(|info| info.alpn.as_deref() == Some("h2"));
    stages.tls = result;
    stream.map(|stream| Secured::Tls {
        stream: Box::new(stream),
        h2,
    })
}

/// No proxy between netpeel and the server: a second connection reaches the same server.
fn route_is_direct(ctx: Ctx<'_>) -> bool {
    ctx.settings.proxy.proxy.is_none()
}

/// When the server refused rustls's ClientHello outright, ask (on fresh connections, bounded
/// by the connect timeout) whether it takes the suites requests or curl also offer.
async fn ask_about_legacy_suites(
    result: &mut StageResult<tls::TlsInfo, tls::TlsError>,
    ctx: Ctx<'_>,
) {
    let StageResult::Failed { error, .. } = result else {
        return;
    };
    if !error.refused_hello() {
        return;
    }
    let limit = ctx.clock.limit(
        ctx.settings.connect_timeout,
        crate::engine::clock::TimeoutSetting::Connect,
    );
    error.legacy =
        crate::engine::legacy_tls::probe(error.addr, error.sni.as_deref(), limit.duration).await;
}

/// Start HTTP/1.1 (or HTTP/2) over the stream; a failure here is the HTTP stage's.
async fn open_http(
    secured: Secured,
    head: &RequestHead,
    reset: bool,
    ctx: Ctx<'_>,
) -> Result<HttpConn, StageResult<HttpExchange, HttpError>> {
    let opened = match secured {
        Secured::Plain(stream) => http::open(stream, false, reset).await,
        Secured::Tls { stream, h2 } => http::open(*stream, h2, reset).await,
    };
    let message = match opened {
        Ok(conn) => return Ok(conn),
        Err(message) => message,
    };
    let error = HttpError {
        failure: HttpFailure::Other,
        request: head.clone(),
        response: None,
        body_bytes: 0,
        content_length: None,
        elapsed: std::time::Duration::ZERO,
        timeout: None,
        message,
    };
    Err(stage::timed(ctx.events, Stage::Http, async { Err(error) }).await)
}

/// The HTTP stage: one request and its response over an open connection. Callers that send
/// twice on one connection call it twice.
pub(crate) async fn exchange(
    conn: &mut HttpConn,
    head: RequestHead,
    ctx: Ctx<'_>,
) -> StageResult<HttpExchange, HttpError> {
    let work = http::exchange(conn, head, ctx.settings, ctx.clock);
    stage::timed(ctx.events, Stage::Http, work).await
}

/// The pooled connection, when it is to this hop's origin through the same proxy and the
/// server has not closed it.
async fn reusable(
    pooled: Option<Pooled>,
    target: &Target,
    settings: &ProbeSettings,
) -> Option<Pooled> {
    let mut pooled = pooled?;
    let proxy = settings.proxy.proxy.as_ref().map(|p| p.display.clone());
    let same_route = pooled.origin == origin(target) && pooled.proxy == proxy;
    (same_route && pooled.conn.reusable().await).then_some(pooled)
}

/// HTTP over the pooled connection; the other stages show what they found when it opened,
/// skipped for `reason`.
pub(super) async fn reuse(
    mut pooled: Pooled,
    target: &Target,
    ctx: Ctx<'_>,
    outcome: &mut ProbeOutcome,
    reason: &str,
) -> Pooled {
    for stage in [Stage::Dns, Stage::Tcp, Stage::Proxy, Stage::Tls] {
        ctx.events.emit(ProbeEvent::StageSkipped {
            stage,
            reason: reason.to_string(),
        });
    }
    let opened = &pooled.stages;
    outcome.connection = ConnectionStages {
        dns: opened.dns.reused(reason),
        tcp: opened.tcp.reused(reason),
        proxy: opened.proxy.reused(reason),
        tls: match target.scheme {
            Scheme::Http => StageResult::Skipped {
                reason: "http:// URL".into(),
                detail: None,
            },
            Scheme::Https => opened.tls.reused(reason),
        },
    };
    let head = request_head(target, ctx.settings, &opened.proxy);
    outcome.http = exchange(&mut pooled.conn, head, ctx).await;
    pooled
}

impl Pooled {
    /// The open HTTP connection, for checks on it (reuse mode's idle checks).
    pub(super) fn conn(&self) -> &HttpConn {
        &self.conn
    }
}
