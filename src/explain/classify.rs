//! From what a paste says to netpeel's own verdict: one [`Kind`] of the verdict table (the one
//! list of failures; nothing here adds a parallel one). Checked in the order the layers fail:
//! a bad URL, then what only the proxy's or the server's answer can cause, then DNS, TLS, TCP
//! and HTTP. None when the text is an error netpeel does not know: it is not guessed at.

use super::parse::{Library, ParsedError};
use crate::engine::verdict::Kind;

/// The verdict kind the paste describes.
pub(crate) fn kind(p: &ParsedError) -> Option<Kind> {
    if p.library == Library::Curl {
        return curl_kind(p);
    }
    let f = Facts::of(p);
    ca_bundle_kind(&f)
        .or_else(|| url_kind(&f, p))
        .or_else(|| status_kind(&f, p))
        .or_else(|| body_kind(&f))
        .or_else(|| proxy_kind(&f, p))
        .or_else(|| socks_kind(&f, p))
        .or_else(|| dns_kind(&f, p))
        .or_else(|| tls_kind(&f, p))
        .or_else(|| aiohttp_total_timeout_kind(&f, p))
        .or_else(|| tcp_kind(&f, p))
        .or_else(|| http_kind(&f, p))
}

/// requests' CA bundle (`verify=`, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) names a missing file
/// (requests' own OSError, before any connection) or one without a certificate (OpenSSL's
/// X509 error when the context loads it).
fn ca_bundle_kind(f: &Facts) -> Option<Kind> {
    if f.has("could not find a suitable tls ca certificate bundle") {
        Some(Kind::CaBundleMissing)
    } else if f.any(&["no_certificate_or_crl_found", "no certificate or crl found"]) {
        Some(Kind::CaBundleEmpty)
    } else {
        None
    }
}

/// The words looked at: the message and the chain's names, lower case.
struct Facts {
    text: String,
    names: Vec<String>,
    errno: Option<i64>,
}

impl Facts {
    fn of(p: &ParsedError) -> Facts {
        Facts {
            text: format!("{} {}", p.message, p.chain.join(" ")).to_ascii_lowercase(),
            names: p
                .chain
                .iter()
                .map(|n| n.rsplit('.').next().unwrap_or(n).to_ascii_lowercase())
                .collect(),
            errno: p.os_error.as_ref().and_then(|e| e.errno),
        }
    }

    fn has(&self, word: &str) -> bool {
        self.text.contains(word)
    }

    fn any(&self, words: &[&str]) -> bool {
        words.iter().any(|w| self.text.contains(w))
    }

    fn named(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    fn timed_out(&self) -> bool {
        self.any(&["timed out", "timeout", "timeouterror"])
    }
}

fn url_kind(f: &Facts, p: &ParsedError) -> Option<Kind> {
    if f.named("missingschema") || f.has("no scheme supplied") {
        return Some(Kind::MissingScheme);
    }
    if f.named("invalidschema") || f.has("no connection adapters were found") {
        return Some(Kind::UnsupportedScheme);
    }
    if f.named("invalidurl") || f.named("locationparseerror") || f.has("failed to parse:") {
        if f.any(&["label empty or too long", "label too long"]) {
            return Some(Kind::InvalidHostLabel);
        }
        if f.has("no host supplied") {
            return Some(Kind::MissingHost);
        }
        let bad_port = f.any(&["port could not be cast", "invalid port"]) || port_out_of_range(f);
        return Some(if bad_port {
            Kind::InvalidPort
        } else {
            Kind::InvalidUrl
        });
    }
    // Python's own UnicodeEncodeError from http.client's putheader: only a traceback's frames
    // say it was a header (its one line names no request).
    if f.named("unicodeencodeerror") && f.has("'latin-1' codec") && p.clues.putheader {
        return Some(Kind::HeaderNotLatin1);
    }
    if f.named("invalidheader") {
        return Some(if f.has("content-length") {
            Kind::ConflictingContentLength
        } else {
            Kind::InvalidHeader
        });
    }
    f.named("toomanyredirects")
        .then_some(Kind::TooManyRedirects)
        .or_else(|| {
            f.has("exceeded 30 redirects")
                .then_some(Kind::TooManyRedirects)
        })
}

/// `Failed to parse: http://host:99999/`: a port past 65535 (or not a number).
fn port_out_of_range(f: &Facts) -> bool {
    let Some(at) = f.text.find("failed to parse: ") else {
        return false;
    };
    let url = &f.text[at + "failed to parse: ".len()..];
    let authority = url.split("://").nth(1).unwrap_or("").split('/').next();
    authority
        .and_then(|a| a.rsplit_once(':'))
        .is_some_and(|(_, port)| port.parse::<u16>().is_err())
}

fn status_kind(f: &Facts, p: &ParsedError) -> Option<Kind> {
    let tunnel = f.has("tunnel connection failed") || p.clues.tunnel;
    let by_status = f.named("httperror")
        || f.named("httpstatuserror")
        || f.named("clientresponseerror")
        || f.named("retryerror")
        || f.has("error responses");
    if tunnel || !by_status {
        return None;
    }
    match p.status? {
        // Only a proxy answers 407; through a tunnel it is caught above (ProxyError).
        407 => Some(Kind::ProxyForwardAuthRequired),
        400..=499 => Some(Kind::HttpClientError),
        500..=599 => Some(Kind::HttpServerError),
        _ => None,
    }
}

/// Failures while reading the body: requests' ChunkedEncodingError and ContentDecodingError.
fn body_kind(f: &Facts) -> Option<Kind> {
    if f.named("contentdecodingerror") || f.named("decodeerror") {
        return Some(Kind::ContentDecodingError);
    }
    let reading_body = f.named("chunkedencodingerror")
        || f.has("connection broken:")
        || f.named("clientpayloaderror")
        || f.has("incomplete message body");
    // requests turns a read timeout inside the body into a plain ConnectionError (a timeout
    // before the head is a ReadTimeout).
    let raised_connection_error = f.names.first().is_some_and(|n| n == "connectionerror");
    if raised_connection_error && f.has("read timed out") {
        return Some(Kind::BodyReadTimeout);
    }
    if !reading_body {
        return None;
    }
    Some(if f.has("invalidchunklength") || f.has("invalid chunk") {
        Kind::InvalidChunk
    } else if f.has("connection reset") || f.errno == Some(104) {
        Kind::BodyReset
    } else if f.timed_out() {
        Kind::BodyReadTimeout
    } else {
        Kind::IncompleteBody
    })
}

/// An HTTP proxy: urllib3's ProxyError ("Unable to connect to proxy"), or a traceback whose
/// frames show the failure in `_tunnel` (the CONNECT exchange).
fn proxy_kind(f: &Facts, p: &ParsedError) -> Option<Kind> {
    let proxy_error = f.has("unable to connect to proxy")
        || f.named("proxyerror")
        || f.has("tunnel connection failed")
        || f.named("clientproxyconnectionerror")
        || f.named("clienthttpproxyerror");
    if !(proxy_error || p.clues.tunnel) || p.clues.socks {
        return None;
    }
    if f.has("tunnel connection failed") || f.named("clienthttpproxyerror") {
        return Some(if p.status == Some(407) {
            Kind::ProxyAuthRequired
        } else {
            Kind::ProxyDenied
        });
    }
    let kind = if f.named("nameresolutionerror") || f.has("failed to resolve") {
        Kind::ProxyDnsFailure
    } else if f.named("connecttimeouterror") || f.has("connect timeout=") {
        Kind::ProxyConnectTimeout
    } else if f.errno == Some(111)
        || f.has("connection refused")
        // aiohttp's one line names no errno: "[Connect call failed ('h', p)]" is a refusal.
        || f.has("connect call failed")
    {
        Kind::ProxyConnectionRefused
    } else if f.named("remotedisconnected") {
        Kind::ProxyClosed
    } else if f.named("badstatusline") {
        Kind::ProxyNotHttp
    } else if f.has("read timed out") || f.timed_out() {
        Kind::ProxyTimeout
    } else if f.has("wrong_version_number") || f.has("wrong version number") {
        Kind::ProxyNotTls
    } else if f.has("[ssl") {
        Kind::ProxyTlsFailed
    } else {
        Kind::ProxyUnreachable
    };
    Some(kind)
}

/// A SOCKS proxy (PySocks' errors under urllib3's SOCKS connection).
fn socks_kind(f: &Facts, p: &ParsedError) -> Option<Kind> {
    // Through SOCKS, a read timeout or a status is the server's, after the tunnel worked.
    if !p.clues.socks || f.has("read timed out") {
        return None;
    }
    let kind = if f.named("connecttimeout") || f.named("connecttimeouterror") || f.timed_out() {
        Kind::SocksTimeout
    } else if let Some(kind) = socks_name_failure(f, p) {
        kind
    } else if f.any(&["authentication", "no acceptable methods"]) {
        Kind::SocksAuthFailed
    } else if f.has("0x0") || f.has("general socks server failure") {
        Kind::SocksReplyError
    } else if f.errno.is_some() && f.named("newconnectionerror") {
        Kind::SocksUnreachable
    } else {
        Kind::SocksOther
    };
    Some(kind)
}

/// A name that failed under a SOCKS connection: the target's, resolved here for socks5://
/// (PySocks fails after the proxy answered), or the proxy's own. Without the frames, a target
/// given as an address leaves only the proxy's name; a target name could be either.
fn socks_name_failure(f: &Facts, p: &ParsedError) -> Option<Kind> {
    let name_failed = f.named("gaierror")
        || f.any(&[
            "name or service not known",
            "temporary failure in name resolution",
            "no address associated with hostname",
            "nodename nor servname",
        ]);
    if !name_failed {
        return None;
    }
    let target_is_address = p.target.host.as_deref().is_some_and(|h| {
        h.trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok()
    });
    Some(if p.clues.socks_negotiating {
        Kind::SocksLocalDns
    } else if target_is_address {
        Kind::SocksUnreachable
    } else {
        Kind::SocksOther
    })
}

fn dns_kind(f: &Facts, p: &ParsedError) -> Option<Kind> {
    let dns = f.named("nameresolutionerror")
        || f.named("gaierror")
        || f.named("clientconnectordnserror")
        || f.any(&[
            "failed to resolve",
            "name or service not known",
            "nodename nor servname",
            "temporary failure in name resolution",
            "no address associated with hostname",
            "getaddrinfo failed",
        ]);
    if !dns {
        return None;
    }
    let errno = p.os_error.as_ref().and_then(|e| e.errno);
    Some(match errno {
        Some(-5) | Some(-9) => Kind::Nodata,
        Some(-2) | Some(8) | Some(11001) => Kind::Nxdomain,
        Some(-4) => Kind::Servfail,
        // EAI_AGAIN: the resolver got no answer in time, or a SERVFAIL; the probe tells which.
        Some(-3) => Kind::DnsOther,
        _ if f.has("name or service not known") || f.has("nodename nor servname") => Kind::Nxdomain,
        _ if f.has("no address associated") => Kind::Nodata,
        _ => Kind::DnsOther,
    })
}

fn tls_kind(f: &Facts, p: &ParsedError) -> Option<Kind> {
    let tls = f.has("[ssl")
        || f.named("sslerror")
        || f.named("sslcertverificationerror")
        || f.named("ssleoferror")
        || f.named("clientconnectorcertificateerror")
        || f.named("clientconnectorsslerror")
        || f.has("certificate verify failed");
    if !tls {
        // Without an SSL error, only the frames say the handshake was under way.
        return p.clues.handshake.then(|| handshake_kind(f)).flatten();
    }
    if f.has("certificate verify failed") || f.named("clientconnectorcertificateerror") {
        return Some(certificate_kind(f));
    }
    let kind = if f.any(&[
        "wrong_version_number",
        "wrong version number",
        "record layer failure",
        "record_layer_failure",
        "packet length too long",
    ]) {
        Kind::NotTls
    } else if f.any(&["certificate_required", "certificate required"]) {
        Kind::ClientCertRequired
    } else if f.any(&[
        "alert_bad_certificate",
        "alert bad certificate",
        "alert unknown ca",
    ]) {
        Kind::ClientCertRejected
    } else if f.has("alert") {
        Kind::TlsAlert
    } else if f.any(&[
        "eof occurred",
        "unexpected_eof",
        "ssleoferror",
        "sslzeroreturnerror",
    ]) {
        Kind::TlsClosed
    } else {
        Kind::TlsOther
    };
    Some(kind)
}

/// A reset or a stall with the traceback in `do_handshake`.
fn handshake_kind(f: &Facts) -> Option<Kind> {
    if f.has("connection reset") || f.errno == Some(104) {
        Some(Kind::TlsReset)
    } else if f.timed_out() {
        Some(Kind::TlsHandshakeTimeout)
    } else {
        None
    }
}

/// OpenSSL's verify reason, as Python and curl quote it.
fn certificate_kind(f: &Facts) -> Kind {
    if f.has("has expired") {
        Kind::CertExpired
    } else if f.has("not yet valid") {
        Kind::CertNotYetValid
    } else if f.any(&[
        "hostname mismatch",
        "ip address mismatch",
        "doesn't match",
        "not valid for",
        "no alternative certificate subject name",
    ]) {
        Kind::CertNameMismatch
    } else if f.has("in certificate chain") || f.has("unable to get") {
        Kind::CertUnknownIssuer
    } else if f.any(&["self-signed certificate", "self signed certificate"]) {
        Kind::CertSelfSigned
    } else if f.has("invalid ca certificate") {
        Kind::CertCaAsEndEntity
    } else {
        Kind::CertInvalid
    }
}

/// aiohttp's `ClientTimeout(total=…)` raises a bare `TimeoutError`: its frames say whether the
/// connector or the response's head was waited on; without them nothing is said.
fn aiohttp_total_timeout_kind(f: &Facts, p: &ParsedError) -> Option<Kind> {
    let bare_timeout = p.library == Library::Aiohttp
        && f.names.first().is_some_and(|n| n == "timeouterror")
        && p.message.trim().is_empty();
    if !bare_timeout {
        None
    } else if p.clues.aio_connecting {
        Some(Kind::ConnectTimeout)
    } else if p.clues.aio_reading {
        Some(Kind::ReadTimeout)
    } else {
        None
    }
}

fn tcp_kind(f: &Facts, p: &ParsedError) -> Option<Kind> {
    if f.named("connecttimeout")
        || f.named("connecttimeouterror")
        || f.named("connectiontimeouterror")
        || f.has("connect timeout=")
        || f.has("connection timeout to host")
    {
        return Some(Kind::ConnectTimeout);
    }
    let connecting = f.named("newconnectionerror")
        || f.has("failed to establish a new connection")
        || f.named("connecterror")
        || f.named("clientconnectorerror")
        || f.has("connect call failed")
        || f.has("cannot connect to host");
    if !connecting {
        return None;
    }
    let errno = p.os_error.as_ref().and_then(|e| e.errno);
    Some(match errno {
        Some(111) | Some(61) | Some(10061) => Kind::ConnectionRefused,
        Some(113) | Some(65) => Kind::HostUnreachable,
        Some(101) | Some(51) | Some(10051) => Kind::NetworkUnreachable,
        Some(99) | Some(49) => Kind::AddressNotAvailable,
        Some(104) | Some(54) => Kind::ConnectReset,
        Some(110) | Some(60) | Some(10060) => Kind::ConnectTimeout,
        _ if f.any(&[
            "connection refused",
            "connect call failed",
            "actively refused",
        ]) =>
        {
            Kind::ConnectionRefused
        }
        _ if f.has("no route to host") => Kind::HostUnreachable,
        _ if f.has("network is unreachable") => Kind::NetworkUnreachable,
        _ if f.timed_out() => Kind::ConnectTimeout,
        _ => Kind::TcpOther,
    })
}

fn http_kind(f: &Facts, p: &ParsedError) -> Option<Kind> {
    if f.named("readtimeout")
        || f.named("readtimeouterror")
        || f.has("read timed out")
        || f.named("servertimeouterror")
        || f.named("sockettimeouterror")
    {
        return Some(Kind::ReadTimeout);
    }
    if f.named("remotedisconnected")
        || f.named("serverdisconnectederror")
        || f.any(&["remote end closed connection", "server disconnected"])
    {
        return Some(Kind::RemoteDisconnected);
    }
    if f.named("badstatusline") {
        return Some(Kind::NotHttp);
    }
    if f.named("linetoolong") || f.has("got more than") {
        return Some(Kind::BadResponseHead);
    }
    let reset = f.has("connection reset") || p.os_error.as_ref().and_then(|e| e.errno) == Some(104);
    if reset {
        return Some(Kind::ConnectionReset);
    }
    let protocol =
        f.named("protocolerror") || f.named("remoteprotocolerror") || f.has("connection aborted");
    protocol.then_some(Kind::HttpOther)
}

/// curl: its exit code first, then the message's words.
fn curl_kind(p: &ParsedError) -> Option<Kind> {
    let msg = p.message.to_ascii_lowercase();
    let proxied = p.proxy.is_some();
    let kind = match p.curl_exit? {
        1 if msg.contains("unsupported") => Kind::UnsupportedScheme,
        3 => Kind::InvalidUrl,
        5 => Kind::ProxyDnsFailure,
        6 => Kind::Nxdomain,
        7 if proxied => Kind::ProxyConnectionRefused,
        7 if msg.contains("no route") => Kind::HostUnreachable,
        7 if msg.contains("network is unreachable") => Kind::NetworkUnreachable,
        7 => Kind::ConnectionRefused,
        28 if msg.contains("resolving") => Kind::DnsTimeout,
        28 if msg.contains("failed to connect") || msg.contains("connection timed out") => {
            if proxied {
                Kind::ProxyConnectTimeout
            } else {
                Kind::ConnectTimeout
            }
        }
        28 if msg.contains("ssl connection timeout") => Kind::TlsHandshakeTimeout,
        28 => Kind::ReadTimeout,
        22 => match p.status {
            Some(400..=499) => Kind::HttpClientError,
            _ => Kind::HttpServerError,
        },
        35 if msg.contains("wrong version number") => Kind::NotTls,
        35 if msg.contains("alert") => Kind::TlsAlert,
        35 => Kind::TlsOther,
        60 => certificate_kind(&Facts {
            text: format!("certificate verify failed {msg}"),
            names: Vec::new(),
            errno: None,
        }),
        47 => Kind::TooManyRedirects,
        52 => Kind::RemoteDisconnected,
        56 if msg.contains("407") => Kind::ProxyAuthRequired,
        56 if msg.contains("connect tunnel failed") => Kind::ProxyDenied,
        56 if msg.contains("reset") => Kind::ConnectionReset,
        56 => Kind::HttpOther,
        18 => Kind::IncompleteBody,
        61 => Kind::ContentDecodingError,
        97 => Kind::SocksOther,
        _ => return None,
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(text: &str) -> Option<Kind> {
        super::super::parse::parse(text).and_then(|p| kind(&p))
    }

    // Wordings of aiohttp 3.x beside the real ones in the corpus (aiohttp_*, made by aiohttp
    // 3.14): other hosts and ports than a loopback run can produce.
    #[test]
    fn aiohttp_wordings_map_to_their_kinds() {
        for (text, want) in [
            (
                "aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host api.internal:443 ssl:default [Connect call failed ('10.0.0.1', 443)]",
                Kind::ConnectionRefused,
            ),
            (
                "aiohttp.client_exceptions.ClientConnectorCertificateError: Cannot connect to host api.internal:443 ssl:True [SSLCertVerificationError: (1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)')]",
                Kind::CertExpired,
            ),
            (
                "aiohttp.client_exceptions.ServerDisconnectedError: Server disconnected",
                Kind::RemoteDisconnected,
            ),
            (
                "ClientConnectorError: Cannot connect to host db.internal:8080 ssl:default [Name or service not known]",
                Kind::Nxdomain,
            ),
        ] {
            assert_eq!(kind_of(text), Some(want), "{text}");
        }
    }

    #[test]
    fn curl_lines_alone_name_host_and_kind() {
        let p = super::super::parse::parse(
            "curl: (7) Failed to connect to api.internal port 8443 after 3 ms: Connection refused",
        )
        .expect("parsed");
        assert_eq!(kind(&p), Some(Kind::ConnectionRefused));
        assert_eq!(p.target.host.as_deref(), Some("api.internal"));
        assert_eq!(p.target.port, Some(8443));
        assert_eq!(
            kind_of("curl: (6) Could not resolve host: api.internal"),
            Some(Kind::Nxdomain)
        );
        assert_eq!(kind_of("curl: (99) something new"), None);
    }

    #[test]
    fn a_read_timeout_through_socks_is_the_servers() {
        let text = "requests.exceptions.ReadTimeout: SOCKSHTTPConnectionPool(host='h', port=80): Read timed out. (read timeout=5)";
        assert_eq!(kind_of(text), Some(Kind::ReadTimeout));
    }

    #[test]
    fn windows_and_macos_errnos_read_as_linux_ones() {
        let refused = "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='h', port=443): Max retries exceeded with url: / (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x1>: Failed to establish a new connection: [WinError 10061] No connection could be made because the target machine actively refused it'))";
        assert_eq!(kind_of(refused), Some(Kind::ConnectionRefused));
        let mac = "requests.exceptions.ConnectionError: HTTPConnectionPool(host='h', port=80): Max retries exceeded with url: / (Caused by NameResolutionError(\"<urllib3.connection.HTTPConnection object at 0x1>: Failed to resolve 'h' ([Errno 8] nodename nor servname provided, or not known)\"))";
        assert_eq!(kind_of(mac), Some(Kind::Nxdomain));
    }
}
