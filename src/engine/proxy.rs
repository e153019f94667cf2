//! The proxy stage: what happens between the TCP connection to the proxy and the target.
//! - https target through an http:// proxy: the CONNECT exchange, then TLS inside the tunnel.
//! - http target through an http:// proxy: nothing here; the request goes in absolute form.
//! - socks5:// (the target resolved here, locally) and socks5h:// (resolved by the proxy):
//!   the SOCKS5 greeting, optional username/password, and the CONNECT reply.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::clock::{Clock, TimeoutSetting};
use super::conn::Conn;
use super::proxy_select::{ProxyChoice, ProxyScheme, ProxyUrl, choose};
use super::settings::{ProbeSettings, ProxyInputs};
use super::stage::{StageDetail, StageError};
use super::target::{Target, TargetHost};
use super::tls::{TlsError, TlsFailure, TlsInfo};

/// What the proxy exchange looked like.
#[derive(Clone, Debug)]
pub enum ProxyExchange {
    /// CONNECT host:port and the proxy's answer.
    Connect {
        request: Vec<String>,
        status: u16,
        reason: String,
        headers: Vec<(String, String)>,
    },
    /// An http:// target: the request itself goes to the proxy in absolute form.
    Forward,
    Socks {
        /// "none" or "username/password".
        method: String,
        /// How the target was named to the proxy: "domain", "ipv4" or "ipv6".
        address_type: String,
        target: String,
        reply: u8,
        /// socks5:// resolves the target here first.
        resolved_locally: Vec<IpAddr>,
    },
}

#[derive(Clone, Debug)]
pub struct ProxyInfo {
    pub endpoint: ProxyUrl,
    pub exchange: ProxyExchange,
    /// The TLS handshake with an https:// proxy, before the exchange.
    pub tls: Option<Box<TlsInfo>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyFailure {
    /// 407 from the proxy.
    AuthRequired,
    /// Another non-2xx answer to CONNECT (403, 502, 503 …).
    Refused,
    /// The proxy closed before answering (or right after opening the tunnel).
    Closed,
    /// No answer within the connect timeout.
    Timeout,
    /// The answer is not HTTP / not SOCKS5.
    Garbage,
    /// SOCKS5: no acceptable authentication method, or the credentials were rejected.
    SocksAuth,
    /// SOCKS5: the proxy's CONNECT reply was an error code.
    SocksReply,
    /// socks5:// could not resolve the target locally.
    SocksLocalDns,
    /// https:// proxy: the proxy answered the ClientHello in plain text (an http:// proxy).
    NotTls,
    /// https:// proxy: another TLS failure with the proxy (its certificate, an alert, …).
    Tls,
    Other,
}

#[derive(Clone, Debug)]
pub struct ProxyError {
    pub failure: ProxyFailure,
    pub endpoint: ProxyUrl,
    pub exchange: Option<ProxyExchange>,
    /// The scheme the proxy asked for in Proxy-Authenticate (407).
    pub auth_scheme: Option<String>,
    /// The first line of the proxy's error body.
    pub body_line: Option<String>,
    pub socks_reply: Option<u8>,
    pub elapsed: Duration,
    pub timeout: Option<(Duration, TimeoutSetting)>,
    pub message: String,
    /// https:// proxy: the failed TLS handshake with the proxy.
    pub tls: Option<Box<TlsError>>,
    /// https:// proxy: the TLS handshake that worked before the exchange failed.
    pub tls_done: Option<Box<TlsInfo>>,
}

impl StageDetail for ProxyInfo {
    fn summary(&self) -> String {
        match &self.exchange {
            ProxyExchange::Connect { status, reason, .. } => {
                format!("CONNECT via {}: {status} {reason}", self.endpoint.display)
            }
            ProxyExchange::Forward => format!("forwarding through {}", self.endpoint.display),
            ProxyExchange::Socks { target, .. } => {
                format!("SOCKS5 tunnel to {target} via {}", self.endpoint.display)
            }
        }
    }
}

impl StageError for ProxyError {
    fn message(&self) -> &str {
        &self.message
    }

    fn timeout(&self) -> Option<(Duration, TimeoutSetting)> {
        self.timeout
    }
}

/// Choose the proxy for `url` from the settings' inputs, as requests would. The error is one
/// line (a proxy URL that cannot be used); the choice's notes are quirks worth repeating in the
/// report.
pub fn decide(url: &url::Url, inputs: &ProxyInputs) -> Result<ProxyChoice, String> {
    choose(
        url,
        inputs.flag_proxy.as_deref(),
        inputs.flag_noproxy.as_deref(),
        &inputs.env,
    )
}

/// SOCKS5 reply codes (RFC 1928 §6), in words.
pub fn socks_reply_text(code: u8) -> &'static str {
    match code {
        0 => "succeeded",
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown reply code",
    }
}

/// Run the proxy stage over the connection to the proxy. `Ok(None)` is never returned:
/// the caller only calls this when a proxy is set.
pub async fn establish(
    stream: &mut Conn,
    endpoint: &ProxyUrl,
    target: &Target,
    settings: &ProbeSettings,
    clock: &Clock,
) -> Result<ProxyInfo, ProxyError> {
    let started = Instant::now();
    // urllib3 sets up the tunnel inside connect(): the connect timeout bounds it.
    let limit = clock.limit(settings.connect_timeout, TimeoutSetting::Connect);
    let work = async {
        match endpoint.scheme {
            ProxyScheme::Http | ProxyScheme::Https => match target.scheme {
                super::target::Scheme::Https => connect_tunnel(stream, endpoint, target).await,
                super::target::Scheme::Http => Ok(ProxyExchange::Forward),
            },
            ProxyScheme::Socks5 | ProxyScheme::Socks5h => {
                socks5(stream, endpoint, target, settings, clock).await
            }
        }
    };
    match tokio::time::timeout(limit.duration, work).await {
        Ok(Ok(exchange)) => Ok(ProxyInfo {
            endpoint: endpoint.clone(),
            exchange,
            tls: None,
        }),
        Ok(Err(mut e)) => {
            e.elapsed = started.elapsed();
            e.endpoint = endpoint.clone();
            Err(e)
        }
        Err(_) => Err(ProxyError {
            failure: ProxyFailure::Timeout,
            endpoint: endpoint.clone(),
            exchange: None,
            auth_scheme: None,
            body_line: None,
            socks_reply: None,
            elapsed: started.elapsed(),
            timeout: Some((limit.reported, limit.setting)),
            message: format!("the proxy did not answer {}", limit.describe()),
            tls: None,
            tls_done: None,
        }),
    }
}

fn error(failure: ProxyFailure, endpoint: &ProxyUrl, message: String) -> ProxyError {
    ProxyError {
        failure,
        endpoint: endpoint.clone(),
        exchange: None,
        auth_scheme: None,
        body_line: None,
        socks_reply: None,
        elapsed: Duration::ZERO,
        timeout: None,
        message,
        tls: None,
        tls_done: None,
    }
}

/// TLS to an https:// proxy (urllib3 2 and curl speak it), before CONNECT or forwarding: the
/// proxy's certificate is verified against `--proxy-cacert`, else the same trust as the
/// target's (requests' `verify` covers both); `--proxy-insecure` (or `-k`, as in requests)
/// skips the check. For an http:// target requests does not check it at all
/// (`HTTPAdapter.cert_verify` sets CERT_NONE for non-https URLs), so neither does netpeel;
/// what verification found is kept for the verdict's note.
pub async fn secure_to_proxy(
    stream: Conn,
    endpoint: &ProxyUrl,
    target: &Target,
    settings: &ProbeSettings,
    clock: &Clock,
) -> Result<(Conn, TlsInfo), ProxyError> {
    let bare = endpoint.host.trim_start_matches('[').trim_end_matches(']');
    let host = match bare.parse::<IpAddr>() {
        Ok(ip) => TargetHost::Ip(ip),
        Err(_) => TargetHost::Name(bare.to_string()),
    };
    let mut proxy_settings = settings.clone();
    if let Some(ca) = &settings.proxy_ca {
        proxy_settings.ca = ca.clone();
    }
    proxy_settings.insecure = settings.insecure
        || settings.proxy_insecure
        || target.scheme == super::target::Scheme::Http;
    proxy_settings.http2 = false;
    proxy_settings.client_cert = None;
    // The trust matrix and requests' CA bundle problem are about the target.
    proxy_settings.trust_stores = Vec::new();
    proxy_settings.ca_problem = None;
    match super::tls::handshake(stream, &host, &proxy_settings, clock).await {
        Ok((tls, info)) => Ok((Conn::Tls(Box::new(tls)), info)),
        Err(e) => {
            let failure = if e.failure == TlsFailure::NotTls {
                ProxyFailure::NotTls
            } else {
                ProxyFailure::Tls
            };
            let mut err = error(failure, endpoint, e.message.clone());
            err.elapsed = e.elapsed;
            err.timeout = e.timeout;
            err.tls = Some(Box::new(e));
            Err(err)
        }
    }
}

/// `Proxy-Authorization: Basic …` from the proxy URL's userinfo, as requests sends it.
pub fn proxy_authorization(endpoint: &ProxyUrl) -> Option<String> {
    endpoint
        .credentials()
        .map(|(user, pass)| super::http::basic_auth(user, pass))
}

fn authority(target: &Target) -> String {
    match &target.host {
        TargetHost::Ip(IpAddr::V6(ip)) => format!("[{ip}]:{}", target.port),
        host => format!("{host}:{}", target.port),
    }
}

async fn connect_tunnel(
    stream: &mut Conn,
    endpoint: &ProxyUrl,
    target: &Target,
) -> Result<ProxyExchange, ProxyError> {
    let authority = authority(target);
    let mut request = vec![
        format!("CONNECT {authority} HTTP/1.1"),
        format!("Host: {authority}"),
    ];
    let mut wire = request.join("\r\n");
    wire.push_str("\r\n");
    if let Some(auth) = proxy_authorization(endpoint) {
        wire.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
        // Kept for the report; the report redacts it.
        request.push(format!("Proxy-Authorization: {auth}"));
    }
    wire.push_str("\r\n");
    stream.write_all(wire.as_bytes()).await.map_err(|e| {
        error(
            ProxyFailure::Closed,
            endpoint,
            format!("cannot send CONNECT: {e}"),
        )
    })?;
    let head = read_head(stream)
        .await
        .map_err(|(failure, msg)| error(failure, endpoint, msg))?;
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status: Option<u16> = parts.next().and_then(|s| s.parse().ok());
    let reason = parts.next().unwrap_or("").to_string();
    let Some(status) = status.filter(|_| version.starts_with("HTTP/")) else {
        return Err(error(
            ProxyFailure::Garbage,
            endpoint,
            format!(
                "the proxy's answer to CONNECT is not HTTP: {:?}",
                truncate(status_line, 60)
            ),
        ));
    };
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let exchange = ProxyExchange::Connect {
        request,
        status,
        reason: reason.clone(),
        headers: headers.clone(),
    };
    if (200..300).contains(&status) {
        return Ok(exchange);
    }
    // A refusal: read a little of the body for its first line (bounded, best effort).
    let body_line = read_body_line(stream, &headers).await;
    let auth_scheme = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("proxy-authenticate"))
        .map(|(_, v)| v.split_whitespace().next().unwrap_or("").to_string());
    let failure = if status == 407 {
        ProxyFailure::AuthRequired
    } else {
        ProxyFailure::Refused
    };
    let mut e = error(
        failure,
        endpoint,
        format!("the proxy answered CONNECT with {status} {reason}"),
    );
    e.exchange = Some(exchange);
    e.auth_scheme = auth_scheme;
    e.body_line = body_line;
    Err(e)
}

/// Read an HTTP head byte by byte: nothing past it may be consumed, it belongs to the tunnel.
async fn read_head(stream: &mut Conn) -> Result<Vec<u8>, (ProxyFailure, String)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 * 1024 {
            return Err((
                ProxyFailure::Garbage,
                "the proxy's answer head is over 64 KiB".into(),
            ));
        }
        match stream.read(&mut byte).await {
            Ok(0) if head.is_empty() => {
                return Err((
                    ProxyFailure::Closed,
                    "the proxy closed the connection without answering CONNECT".into(),
                ));
            }
            // Bytes that do not even start like HTTP: another protocol on that port.
            Ok(0) if !head.starts_with(b"HTTP/") => {
                return Err((
                    ProxyFailure::Garbage,
                    format!(
                        "the proxy's answer to CONNECT is not HTTP: {:?}",
                        truncate(&String::from_utf8_lossy(&head), 60)
                    ),
                ));
            }
            Ok(0) => {
                return Err((
                    ProxyFailure::Closed,
                    "the proxy closed the connection in the middle of its answer".into(),
                ));
            }
            Ok(_) => head.push(byte[0]),
            Err(e) => {
                return Err((
                    ProxyFailure::Closed,
                    format!("reading the proxy's answer failed: {e}"),
                ));
            }
        }
    }
    Ok(head)
}

async fn read_body_line(stream: &mut Conn, headers: &[(String, String)]) -> Option<String> {
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(512)
        .min(512);
    if len == 0 {
        return None;
    }
    let mut buf = vec![0u8; len];
    let n = tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| truncate(l, 120))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max).collect::<String>() + "…"
    }
}

async fn socks5(
    stream: &mut Conn,
    endpoint: &ProxyUrl,
    target: &Target,
    settings: &ProbeSettings,
    clock: &Clock,
) -> Result<ProxyExchange, ProxyError> {
    let (address_type, address, resolved_locally) =
        socks_address(endpoint, target, settings, clock).await?;
    let method = socks_negotiate_method(stream, endpoint).await?;
    let reply = socks_connect(stream, endpoint, &address, target.port).await?;
    let exchange = ProxyExchange::Socks {
        method: method.into(),
        address_type: address_type.into(),
        target: authority(target),
        reply: reply[1],
        resolved_locally,
    };
    if reply[1] != 0 {
        let mut e = error(
            ProxyFailure::SocksReply,
            endpoint,
            format!(
                "the SOCKS5 proxy replied {} ({})",
                reply[1],
                socks_reply_text(reply[1])
            ),
        );
        e.socks_reply = Some(reply[1]);
        e.exchange = Some(exchange);
        return Err(e);
    }
    socks_skip_bound_address(stream, endpoint, reply[3]).await?;
    Ok(exchange)
}

/// An I/O error in the SOCKS5 exchange: an early EOF means the proxy closed on us.
fn socks_io_error(endpoint: &ProxyUrl) -> impl Fn(std::io::Error) -> ProxyError + '_ {
    move |e| {
        let failure = if e.kind() == std::io::ErrorKind::UnexpectedEof {
            ProxyFailure::Closed
        } else {
            ProxyFailure::Other
        };
        error(failure, endpoint, format!("SOCKS5 exchange failed: {e}"))
    }
}

/// How the target is named to the proxy: its address type, the address bytes of the CONNECT
/// request, and the addresses resolved here (socks5:// only).
async fn socks_address(
    endpoint: &ProxyUrl,
    target: &Target,
    settings: &ProbeSettings,
    clock: &Clock,
) -> Result<(&'static str, Vec<u8>, Vec<IpAddr>), ProxyError> {
    // socks5:// resolves the target here (requests[socks] passes rdns=False); socks5h:// lets
    // the proxy do it.
    match (&target.host, endpoint.scheme) {
        (TargetHost::Ip(ip), _) => {
            let (address_type, address) = ip_address(*ip);
            Ok((address_type, address, Vec::new()))
        }
        (TargetHost::Name(name), ProxyScheme::Socks5h) => {
            let mut a = vec![3u8, name.len().min(255) as u8];
            a.extend_from_slice(&name.as_bytes()[..name.len().min(255)]);
            Ok(("domain", a, Vec::new()))
        }
        (TargetHost::Name(name), _) => {
            match super::dns::resolve(name, target.port, settings, clock).await {
                Ok(answer) if !answer.addresses.is_empty() => {
                    let (address_type, address) = ip_address(answer.addresses[0]);
                    Ok((address_type, address, answer.addresses.clone()))
                }
                Ok(_) => Err(error(
                    ProxyFailure::SocksLocalDns,
                    endpoint,
                    format!("{name} has no address"),
                )),
                Err(e) => Err(error(
                    ProxyFailure::SocksLocalDns,
                    endpoint,
                    format!(
                        "socks5:// resolves the target locally, and {name} failed: {}",
                        e.message
                    ),
                )),
            }
        }
    }
}

/// The greeting and the proxy's choice of method, authenticating when it asks to.
async fn socks_negotiate_method(
    stream: &mut Conn,
    endpoint: &ProxyUrl,
) -> Result<&'static str, ProxyError> {
    let io_err = socks_io_error(endpoint);
    // Offer username/password only when the proxy URL has credentials.
    let with_auth = endpoint.credentials().is_some();
    let greeting: &[u8] = if with_auth { &[5, 2, 0, 2] } else { &[5, 1, 0] };
    stream.write_all(greeting).await.map_err(&io_err)?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).await.map_err(&io_err)?;
    if choice[0] != 5 {
        return Err(error(
            ProxyFailure::Garbage,
            endpoint,
            "the proxy does not speak SOCKS5".into(),
        ));
    }
    match choice[1] {
        0 => Ok("none"),
        2 if with_auth => {
            socks_authenticate(stream, endpoint).await?;
            Ok("username/password")
        }
        0xFF => Err(error(
            ProxyFailure::SocksAuth,
            endpoint,
            "the SOCKS5 proxy accepts none of the offered authentication methods".into(),
        )),
        other => Err(error(
            ProxyFailure::Garbage,
            endpoint,
            format!("the SOCKS5 proxy chose an unknown method {other}"),
        )),
    }
}

/// Username/password authentication (RFC 1929); each field is at most 255 bytes.
async fn socks_authenticate(stream: &mut Conn, endpoint: &ProxyUrl) -> Result<(), ProxyError> {
    let io_err = socks_io_error(endpoint);
    let (user, pass) = endpoint.credentials().unwrap_or_default();
    let mut auth = vec![1u8, user.len().min(255) as u8];
    auth.extend_from_slice(&user.as_bytes()[..user.len().min(255)]);
    auth.push(pass.len().min(255) as u8);
    auth.extend_from_slice(&pass.as_bytes()[..pass.len().min(255)]);
    stream.write_all(&auth).await.map_err(&io_err)?;
    let mut status = [0u8; 2];
    stream.read_exact(&mut status).await.map_err(&io_err)?;
    if status[1] != 0 {
        return Err(error(
            ProxyFailure::SocksAuth,
            endpoint,
            "the SOCKS5 proxy rejected the username/password".into(),
        ));
    }
    Ok(())
}

/// Send CONNECT for the target and read the first four bytes of the reply (version, reply
/// code, reserved, bound address type).
async fn socks_connect(
    stream: &mut Conn,
    endpoint: &ProxyUrl,
    address: &[u8],
    port: u16,
) -> Result<[u8; 4], ProxyError> {
    let io_err = socks_io_error(endpoint);
    let mut request = vec![5u8, 1, 0];
    request.extend_from_slice(address);
    request.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&request).await.map_err(&io_err)?;
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply).await.map_err(&io_err)?;
    Ok(reply)
}

/// Skip the bound address the proxy reports: what follows belongs to the tunnel.
async fn socks_skip_bound_address(
    stream: &mut Conn,
    endpoint: &ProxyUrl,
    address_type: u8,
) -> Result<(), ProxyError> {
    let io_err = socks_io_error(endpoint);
    let skip = match address_type {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).await.map_err(&io_err)?;
            len[0] as usize + 2
        }
        _ => {
            return Err(error(
                ProxyFailure::Garbage,
                endpoint,
                "bad address type in the SOCKS5 reply".into(),
            ));
        }
    };
    let mut rest = vec![0u8; skip];
    stream.read_exact(&mut rest).await.map_err(&io_err)?;
    Ok(())
}

fn ip_address(ip: IpAddr) -> (&'static str, Vec<u8>) {
    match ip {
        IpAddr::V4(v4) => {
            let mut a = vec![1u8];
            a.extend_from_slice(&v4.octets());
            ("ipv4", a)
        }
        IpAddr::V6(v6) => {
            let mut a = vec![4u8];
            a.extend_from_slice(&v6.octets());
            ("ipv6", a)
        }
    }
}
