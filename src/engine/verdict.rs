//! The verdict table: every way a probe can end, mapped to the layer that failed, a closed set
//! of kinds, a sentence, a hint, and what Python `requests` (with its urllib3 cause) and curl
//! would have done in the same place.
//!
//! The requests/urllib3 columns are what the real libraries raise against real servers, not what
//! their docs imply (a DNS failure is a plain `ConnectionError`; a stalled TLS handshake is a
//! `ReadTimeout` bounded by the connect timeout; a body read timeout surfaces as
//! `ConnectionError`). `tests/suite/differential.rs` runs real requests against the same test
//! servers and checks this table scenario by scenario.

use super::clock::TimeoutSetting;
use super::dns::{DnsError, DnsFailure, DnsSource};
use super::http::{HttpError, HttpFailure};
use super::redirect::TooManyRedirects;
use super::target::{Scheme, UrlError, UrlProblem};
use super::tcp::{TcpError, TcpFailure};
use super::tls::{TlsError, TlsFailure};
use super::{AddressProbe, ProbeOutcome, Stage, StageResult, fmt_duration};

/// Declares the closed set of kinds once, so `Kind::ALL` can never miss one.
macro_rules! kinds {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// Every failure netpeel can name. Serialized as the snake_case name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum Kind { $(#[serde(rename = $name)] $variant),* }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Kind::$variant => $name),* }
            }
        }

        impl std::fmt::Display for Kind {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

kinds! {
    MissingScheme => "missing_scheme",
    UnsupportedScheme => "unsupported_scheme",
    MissingHost => "missing_host",
    InvalidPort => "invalid_port",
    InvalidHost => "invalid_host",
    InvalidHostLabel => "invalid_host_label",
    InvalidUrl => "invalid_url",
    InvalidHeader => "invalid_header",
    HeaderNotLatin1 => "header_not_latin1",
    UnsendableHeader => "unsendable_header",
    UrlTooLong => "url_too_long",
    Nxdomain => "nxdomain",
    Nodata => "nodata",
    Servfail => "servfail",
    DnsRefused => "dns_refused",
    DnsTimeout => "dns_timeout",
    NoNameserver => "no_nameserver",
    DnsOther => "dns_other",
    ConnectionRefused => "connection_refused",
    ConnectTimeout => "connect_timeout",
    HostUnreachable => "host_unreachable",
    NetworkUnreachable => "network_unreachable",
    AddressNotAvailable => "address_not_available",
    ConnectReset => "connect_reset",
    TcpOther => "tcp_other",
    CertExpired => "cert_expired",
    CertNotYetValid => "cert_not_yet_valid",
    CertNameMismatch => "cert_name_mismatch",
    CertSelfSigned => "cert_self_signed",
    CertUnknownIssuer => "cert_unknown_issuer",
    CertCaAsEndEntity => "cert_ca_as_end_entity",
    CertInvalid => "cert_invalid",
    NotTls => "not_tls",
    TlsMessageTooLarge => "tls_message_too_large",
    TlsCipherUnsupported => "tls_cipher_unsupported",
    TlsHandshakeTimeout => "tls_handshake_timeout",
    TlsClosed => "tls_closed",
    TlsReset => "tls_reset",
    TlsAlert => "tls_alert",
    ClientCertRequired => "client_cert_required",
    ClientCertRejected => "client_cert_rejected",
    CaBundleMissing => "ca_bundle_missing",
    CaBundleEmpty => "ca_bundle_empty",
    TlsOther => "tls_other",
    ReadTimeout => "read_timeout",
    RemoteDisconnected => "remote_disconnected",
    ConnectionReset => "connection_reset",
    NotHttp => "not_http",
    BadResponseHead => "bad_response_head",
    ConflictingContentLength => "conflicting_content_length",
    InvalidChunk => "invalid_chunk",
    ContentDecodingError => "content_decoding_error",
    IncompleteBody => "incomplete_body",
    BodyReset => "body_reset",
    BodyReadTimeout => "body_read_timeout",
    HttpClientError => "http_client_error",
    HttpServerError => "http_server_error",
    TooManyRedirects => "too_many_redirects",
    H2GoAway => "h2_goaway",
    H2StreamReset => "h2_stream_reset",
    H2ProtocolError => "h2_protocol_error",
    HttpOther => "http_other",
    ReuseRemoteDisconnected => "reuse_remote_disconnected",
    ReuseConnectionReset => "reuse_connection_reset",
    ReuseSilentDrop => "reuse_silent_drop",
    ProxyDnsFailure => "proxy_dns_failure",
    ProxyConnectionRefused => "proxy_connection_refused",
    ProxyConnectTimeout => "proxy_connect_timeout",
    ProxyUnreachable => "proxy_unreachable",
    ProxyAuthRequired => "proxy_auth_required",
    ProxyForwardAuthRequired => "proxy_forward_auth_required",
    ProxyDenied => "proxy_denied",
    ProxyClosed => "proxy_closed",
    ProxyTimeout => "proxy_timeout",
    ProxyNotHttp => "proxy_not_http",
    ProxyTunnelClosed => "proxy_tunnel_closed",
    ProxyNotTls => "proxy_not_tls",
    ProxyTlsFailed => "proxy_tls_failed",
    SocksUnreachable => "socks_unreachable",
    SocksAuthFailed => "socks_auth_failed",
    SocksReplyError => "socks_reply_error",
    SocksLocalDns => "socks_local_dns",
    SocksTimeout => "socks_timeout",
    SocksOther => "socks_other",
    TotalTimeout => "total_timeout",
}

/// One row of the table: what is static about a kind.
#[derive(Clone, Copy, Debug)]
pub struct KindInfo {
    /// None for `total_timeout`, which happens in whichever stage was running.
    pub layer: Option<Stage>,
    /// What the kind means, for the README table.
    pub meaning: &'static str,
    pub requests_exception: Option<&'static str>,
    pub urllib3_cause: Option<&'static str>,
    pub governing_timeout: Option<TimeoutSetting>,
    /// curl's exit code in the same situation (with `--fail` for HTTP statuses).
    pub curl_exit: Option<u8>,
    pub hint: &'static str,
}

const CONN_ERR: &str = "requests.exceptions.ConnectionError";
const NEW_CONN: &str = "urllib3.exceptions.NewConnectionError";
const NAME_RES: &str = "urllib3.exceptions.NameResolutionError";
const SSL_ERR: &str = "requests.exceptions.SSLError";
const U3_SSL: &str = "urllib3.exceptions.SSLError";
const PROTO: &str = "urllib3.exceptions.ProtocolError";
const INVALID_URL: &str = "requests.exceptions.InvalidURL";
const PROXY_ERR: &str = "requests.exceptions.ProxyError";
const U3_PROXY: &str = "urllib3.exceptions.ProxyError";

const fn row(
    layer: Stage,
    meaning: &'static str,
    requests_exception: &'static str,
    urllib3_cause: Option<&'static str>,
    governing_timeout: Option<TimeoutSetting>,
    curl_exit: Option<u8>,
    hint: &'static str,
) -> KindInfo {
    KindInfo {
        layer: Some(layer),
        meaning,
        requests_exception: Some(requests_exception),
        urllib3_cause,
        governing_timeout,
        curl_exit,
        hint,
    }
}

impl Kind {
    /// The table. A `match`, so adding a kind without its row does not compile.
    #[expect(
        clippy::too_many_lines,
        reason = "the verdict table: one arm per kind, read as a table"
    )]
    pub fn info(self) -> KindInfo {
        use Kind::*;
        use Stage as L;
        use TimeoutSetting as T;
        match self {
            MissingScheme => row(
                L::Url,
                "the URL has no scheme",
                "requests.exceptions.MissingSchema",
                None,
                None,
                None,
                "Write the scheme: https://host/path (curl would guess http://).",
            ),
            UnsupportedScheme => row(
                L::Url,
                "the scheme is not http or https",
                "requests.exceptions.InvalidSchema",
                None,
                None,
                Some(1),
                "Use http:// or https://; a bare host:port needs a scheme in front.",
            ),
            MissingHost => row(
                L::Url,
                "the URL has no host",
                INVALID_URL,
                None,
                None,
                Some(3),
                "Put a host name or address after the scheme: https://host/path.",
            ),
            InvalidPort => row(
                L::Url,
                "the port is not a number from 1 to 65535",
                INVALID_URL,
                Some("urllib3.exceptions.LocationParseError"),
                None,
                Some(3),
                "Fix the port number in the URL.",
            ),
            InvalidHost => row(
                L::Url,
                "the host has characters no DNS name can have (a space, …)",
                CONN_ERR,
                Some(NAME_RES),
                None,
                Some(3),
                "Remove the stray characters from the host. requests percent-encodes them and asks DNS, which fails.",
            ),
            InvalidHostLabel => row(
                L::Url,
                "a label of the host name is empty (a..b) or longer than 63 characters",
                "urllib3.exceptions.LocationParseError",
                None,
                None,
                Some(6),
                "Fix the host name. requests lets urllib3's LocationParseError escape unwrapped here: `except requests.RequestException` does not catch it.",
            ),
            InvalidUrl => row(
                L::Url,
                "the URL cannot be parsed",
                INVALID_URL,
                Some("urllib3.exceptions.LocationParseError"),
                None,
                Some(3),
                "Check the URL for stray characters, unbalanced [ ] around IPv6 addresses, or spaces.",
            ),
            InvalidHeader => KindInfo {
                layer: Some(L::Url),
                meaning: "a request header value has a line break (CR or LF)",
                requests_exception: Some("requests.exceptions.InvalidHeader"),
                urllib3_cause: None,
                governing_timeout: None,
                // curl sends the value as is: the line break splits it into two headers.
                curl_exit: None,
                hint: "Remove the line break from the header value. requests refuses it before connecting; curl sends it raw, which splits it into two headers on the wire.",
            },
            HeaderNotLatin1 => KindInfo {
                layer: Some(L::Url),
                meaning: "a request header value has a character outside Latin-1 (past U+00FF)",
                requests_exception: Some("UnicodeEncodeError"),
                urllib3_cause: None,
                governing_timeout: None,
                // curl sends the UTF-8 bytes as they are.
                curl_exit: None,
                hint: "http.client encodes header values as Latin-1, so requests raises Python's own UnicodeEncodeError before connecting (`except requests.RequestException` does not catch it); curl sends the UTF-8 bytes. Encode the value yourself (percent-encoding, RFC 8187's UTF-8'' form, or base64), or pass bytes.",
            },
            UnsendableHeader => KindInfo {
                layer: Some(L::Url),
                meaning: "a request header value has a control character that netpeel cannot send (requests and curl send it)",
                requests_exception: None,
                urllib3_cause: None,
                governing_timeout: None,
                curl_exit: None,
                hint: "requests and curl send the byte as is and the server decides (often 400 Bad Request); netpeel's HTTP library refuses to. Remove the character to probe the rest.",
            },
            UrlTooLong => KindInfo {
                layer: Some(L::Url),
                meaning: "the path and query are longer than netpeel can send (65,534 bytes; requests and curl send them)",
                requests_exception: None,
                urllib3_cause: None,
                governing_timeout: None,
                curl_exit: None,
                hint: "requests and curl send a URL this long, and most servers answer 414 URI Too Long (nginx and Python's http.server stop at 8 KiB and 64 KiB). Put the data in a POST body instead.",
            },
            Nxdomain => row(
                L::Dns,
                "the name does not exist (NXDOMAIN)",
                CONN_ERR,
                Some(NAME_RES),
                None,
                Some(6),
                "Check the spelling and the domain; an internal name may need the VPN or the right search domain in /etc/resolv.conf.",
            ),
            Nodata => row(
                L::Dns,
                "the name exists but has no address of the wanted family (NODATA)",
                CONN_ERR,
                Some(NAME_RES),
                None,
                Some(6),
                "The name has no A/AAAA record for the family you asked for: drop -4/-6, or add the record.",
            ),
            Servfail => row(
                L::Dns,
                "the DNS server failed to answer (SERVFAIL)",
                CONN_ERR,
                Some(NAME_RES),
                None,
                Some(6),
                "The resolver could not get an answer (broken delegation, DNSSEC failure, upstream down): try another server with --dns, or retry later.",
            ),
            DnsRefused => row(
                L::Dns,
                "the DNS server refused the query (REFUSED)",
                CONN_ERR,
                Some(NAME_RES),
                None,
                Some(6),
                "That server will not resolve for you (not a recursive resolver, or an ACL): use the resolver your network provides.",
            ),
            DnsTimeout => row(
                L::Dns,
                "no DNS answer within the DNS timeout",
                CONN_ERR,
                Some(NAME_RES),
                Some(T::Dns),
                Some(6),
                "The DNS server did not answer: check that it is reachable (UDP and TCP port 53). requests has no DNS timeout: its connect timeout does not cover getaddrinfo.",
            ),
            NoNameserver => row(
                L::Dns,
                "no DNS server could be used (none configured, or unreachable)",
                CONN_ERR,
                Some(NAME_RES),
                None,
                Some(6),
                "Check /etc/resolv.conf has a reachable nameserver, or pass --dns IP.",
            ),
            DnsOther => row(
                L::Dns,
                "DNS failed in another way",
                CONN_ERR,
                Some(NAME_RES),
                None,
                Some(6),
                "Look at the per-query results above; try another server with --dns.",
            ),
            ConnectionRefused => row(
                L::Tcp,
                "the host answered the SYN with RST: nothing listens on that port",
                CONN_ERR,
                Some(NEW_CONN),
                None,
                Some(7),
                "The service is down or listens on another port or address (127.0.0.1 vs 0.0.0.0); check the port and that the process runs.",
            ),
            ConnectTimeout => row(
                L::Tcp,
                "no answer to the SYN within the connect timeout",
                "requests.exceptions.ConnectTimeout",
                Some("urllib3.exceptions.ConnectTimeoutError"),
                Some(T::Connect),
                Some(28),
                "Packets are dropped on the way (firewall, security group, wrong address, or a full accept queue): check the route and filters; a longer --connect-timeout only helps an overloaded server.",
            ),
            HostUnreachable => row(
                L::Tcp,
                "the host is unreachable (ICMP host unreachable / no ARP answer)",
                CONN_ERR,
                Some(NEW_CONN),
                None,
                Some(7),
                "The address is not reachable from here: check it is the right address and that the host is up.",
            ),
            NetworkUnreachable => row(
                L::Tcp,
                "no route to the network",
                CONN_ERR,
                Some(NEW_CONN),
                None,
                Some(7),
                "This machine has no route there (e.g. IPv6 without IPv6 connectivity): try -4, or fix the routing.",
            ),
            AddressNotAvailable => row(
                L::Tcp,
                "the address cannot be used from this machine (EADDRNOTAVAIL)",
                CONN_ERR,
                Some(NEW_CONN),
                None,
                Some(7),
                "Usually an IPv6 address without a usable source address, or local ports exhausted: try -4.",
            ),
            ConnectReset => row(
                L::Tcp,
                "the connection was reset while connecting",
                CONN_ERR,
                Some(NEW_CONN),
                None,
                Some(7),
                "Something on the path resets connections (firewall, load balancer without backends).",
            ),
            TcpOther => row(
                L::Tcp,
                "TCP connect failed in another way",
                CONN_ERR,
                Some(NEW_CONN),
                None,
                Some(7),
                "See the OS error in the per-address table.",
            ),
            CertExpired => row(
                L::Tls,
                "the server's certificate has expired",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(60),
                "Renew the certificate on the server (and check the server's clock too).",
            ),
            CertNotYetValid => row(
                L::Tls,
                "the server's certificate is not valid yet",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(60),
                "Check this machine's clock, or the certificate's notBefore date.",
            ),
            CertNameMismatch => row(
                L::Tls,
                "the certificate is not valid for the host name in the URL",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(60),
                "Use a host name the certificate lists, or reissue it with this name in subjectAltName.",
            ),
            CertSelfSigned => row(
                L::Tls,
                "the certificate is self-signed and not trusted",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(60),
                "Trust it explicitly (--cacert / requests verify=path) or put a CA-signed certificate on the server.",
            ),
            CertUnknownIssuer => row(
                L::Tls,
                "the certificate's issuer is not in the trusted CA set (or an intermediate is missing)",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(60),
                "If it is a private CA, pass its bundle (--cacert, REQUESTS_CA_BUNDLE); otherwise the server must send its intermediate certificates.",
            ),
            CertCaAsEndEntity => row(
                L::Tls,
                "the server presents a CA certificate as its own",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(60),
                "Configure the server with a leaf certificate (CA:FALSE) issued for its name; or trust this very certificate (--cacert / REQUESTS_CA_BUNDLE), which OpenSSL (requests, curl) then accepts.",
            ),
            CertInvalid => row(
                L::Tls,
                "the certificate is invalid in another way (bad signature, purpose, encoding)",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(60),
                "Inspect the chain below; reissue the certificate.",
            ),
            NotTls => row(
                L::Tls,
                "the server did not speak TLS (often plain HTTP on the port)",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(35),
                "The port speaks plain text: use http:// or the TLS port.",
            ),
            TlsCipherUnsupported => KindInfo {
                layer: Some(L::Tls),
                meaning: "the server takes only cipher suites that requests and curl offer and netpeel's TLS library does not (CBC-SHA256, DHE)",
                requests_exception: None,
                urllib3_cause: None,
                governing_timeout: None,
                curl_exit: None,
                hint: "requests and curl (OpenSSL) get through TLS here and netpeel cannot test the rest. The server should also enable ECDHE with AES-GCM or ChaCha20 (TLS 1.2) or TLS 1.3.",
            },
            TlsMessageTooLarge => KindInfo {
                layer: Some(L::Tls),
                meaning: "a handshake message (the certificate chain) is over the 64 KiB netpeel's TLS library accepts; OpenSSL takes up to 100 KiB",
                requests_exception: None,
                urllib3_cause: None,
                governing_timeout: None,
                // OpenSSL's default max_cert_list is 100 KiB: below it curl goes on.
                curl_exit: None,
                hint: "netpeel cannot check this chain, but requests and curl (OpenSSL) accept one up to 100 KiB and fail above it (SSLError / curl 35: excessive message size). The server should send only its certificate and the intermediates: drop extra certificates from its chain file.",
            },
            TlsHandshakeTimeout => row(
                L::Tls,
                "the TLS handshake did not finish within the connect timeout",
                "requests.exceptions.ReadTimeout",
                Some("urllib3.exceptions.ReadTimeoutError"),
                Some(T::Connect),
                Some(28),
                "The server accepted TCP but never answered the ClientHello (overloaded TLS terminator, wrong port, middlebox). requests raises ReadTimeout here although its connect timeout is the one that runs out.",
            ),
            TlsClosed => row(
                L::Tls,
                "the server closed the connection (FIN) during the handshake",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(35),
                "The server dropped the handshake: it may not accept our SNI or protocol versions, or it is not a TLS port behind a proxy.",
            ),
            TlsReset => row(
                L::Tls,
                "the connection was reset (RST) during the handshake",
                CONN_ERR,
                Some(PROTO),
                None,
                Some(35),
                "Something reset the handshake (firewall or middlebox filtering on SNI, or a server that rejects the ClientHello). requests raises ConnectionError here, not SSLError.",
            ),
            TlsAlert => row(
                L::Tls,
                "the server refused the handshake with a TLS alert",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(35),
                "The alert names the reason (protocol version, cipher, ALPN, client certificate required).",
            ),
            ClientCertRequired => row(
                L::Tls,
                "the server requires a client certificate (mutual TLS) and none was sent; in TLS 1.3 its alert comes on the first read after the handshake (curl 56 then; in TLS 1.2 curl 98 for certificate_required, 35 for handshake_failure)",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(56),
                "Send the client certificate and its key: --cert client.pem --key client.key (requests: cert=('client.pem', 'client.key'); curl: --cert/--key). The TLS stage lists the CAs the server accepts client certificates from.",
            ),
            ClientCertRejected => row(
                L::Tls,
                "the server refused the client certificate that was sent (unknown CA, expired, wrong purpose); in TLS 1.3 its alert comes on the first read (curl 56 then, 35 in TLS 1.2)",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(56),
                "The alert names the reason: unknown_ca means --cert is not signed by a CA the server trusts for clients (the TLS stage lists the ones it accepts); certificate_expired means renew it. Check that --cert is the certificate meant for this server.",
            ),
            CaBundleMissing => row(
                L::Tls,
                "REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) names a CA bundle file that does not exist: requests raises before connecting (curl exits 77 when it is CURL_CA_BUNDLE)",
                "OSError",
                None,
                None,
                Some(77),
                "Point the variable at an existing PEM bundle (e.g. /etc/ssl/certs/ca-certificates.crt) or unset it to use certifi.",
            ),
            CaBundleEmpty => row(
                L::Tls,
                "REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) names a file without any PEM certificate (empty, or not PEM): requests raises at the handshake (curl exits 77 when it is CURL_CA_BUNDLE)",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(77),
                "Point the variable at a PEM bundle that holds the CA certificates, or unset it to use certifi.",
            ),
            TlsOther => row(
                L::Tls,
                "the TLS handshake failed in another way",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(35),
                "See the TLS error below.",
            ),
            ReadTimeout => row(
                L::Http,
                "no response within the read timeout after the request was sent",
                "requests.exceptions.ReadTimeout",
                Some("urllib3.exceptions.ReadTimeoutError"),
                Some(T::Read),
                Some(28),
                "The server is slow or stuck on this request: check its logs; raise --read-timeout only if slowness is expected.",
            ),
            RemoteDisconnected => row(
                L::Http,
                "the server closed the connection without sending a response",
                CONN_ERR,
                Some(PROTO),
                None,
                Some(52),
                "The server (or a proxy in front) dropped the request: crash, keep-alive race, or a request it rejects silently. Check its logs.",
            ),
            ConnectionReset => row(
                L::Http,
                "the connection was reset before the response",
                CONN_ERR,
                Some(PROTO),
                None,
                Some(56),
                "Something reset the connection after the request (server crash, load balancer, firewall). Check the server logs.",
            ),
            NotHttp => row(
                L::Http,
                "the reply is not HTTP (garbage status line)",
                CONN_ERR,
                Some(PROTO),
                None,
                Some(1),
                "Another protocol listens on this port (SSH, a database, TLS on an http:// URL?): check the port and scheme.",
            ),
            BadResponseHead => row(
                L::Http,
                "the reply starts like HTTP but its head cannot be parsed (too many or oversized headers, conflicting lengths)",
                CONN_ERR,
                Some(PROTO),
                None,
                None,
                "The server or a proxy in front of it sends a broken response head: look at the raw response (curl -v).",
            ),
            ConflictingContentLength => row(
                L::Http,
                "the response has Content-Length values that disagree (and no chunked encoding)",
                "requests.exceptions.InvalidHeader",
                Some("urllib3.exceptions.InvalidHeader"),
                None,
                // curl takes one of the values and goes on.
                None,
                "The server (or a proxy in front of it) sends two different body lengths: a response-splitting risk that requests refuses. Fix the server's headers; curl takes one of the values.",
            ),
            InvalidChunk => row(
                L::Http,
                "a chunk-size line of the chunked body is not a hex number",
                "requests.exceptions.ChunkedEncodingError",
                Some(PROTO),
                None,
                Some(56),
                "The server's chunked encoding is broken (often a proxy or a hand-written server writing the body wrong): look at the raw body with curl --raw.",
            ),
            ContentDecodingError => row(
                L::Http,
                "the body does not decode as its Content-Encoding (gzip, deflate) says",
                "requests.exceptions.ContentDecodingError",
                Some("urllib3.exceptions.DecodeError"),
                None,
                Some(61),
                "The server labels the body gzip or deflate but sends something else (often a double-compressed or plain body). requests raises this while reading .content; curl --compressed exits 61 (plain curl does not decode). stream=True with raw.read(decode_content=False) gets the bytes.",
            ),
            IncompleteBody => row(
                L::Http,
                "the connection closed before the whole body arrived",
                "requests.exceptions.ChunkedEncodingError",
                Some(PROTO),
                None,
                Some(18),
                "The server stopped sending mid-body (crash, proxy timeout, wrong Content-Length).",
            ),
            BodyReset => row(
                L::Http,
                "the connection was reset in the middle of the body",
                "requests.exceptions.ChunkedEncodingError",
                Some(PROTO),
                None,
                Some(56),
                "Something reset the connection while the body was flowing (server crash, proxy or firewall limits).",
            ),
            BodyReadTimeout => row(
                L::Http,
                "the body stalled for longer than the read timeout",
                CONN_ERR,
                Some("urllib3.exceptions.ReadTimeoutError"),
                Some(T::Read),
                Some(28),
                "The server stopped sending mid-body. requests raises ConnectionError (not ReadTimeout) when this happens while reading the body.",
            ),
            HttpClientError => row(
                L::Http,
                "the server answered with a 4xx status",
                "requests.exceptions.HTTPError",
                None,
                None,
                Some(22),
                "The request itself is refused (path, method, auth, headers): read the response body.",
            ),
            HttpServerError => row(
                L::Http,
                "the server answered with a 5xx status",
                "requests.exceptions.HTTPError",
                None,
                None,
                Some(22),
                "The server or a gateway in front of it failed: check its logs; 502/503/504 usually mean the backend behind a proxy.",
            ),
            TooManyRedirects => row(
                L::Http,
                "redirects did not end within the limit",
                "requests.exceptions.TooManyRedirects",
                None,
                None,
                Some(47),
                "The redirects loop: look at the Location chain.",
            ),
            H2GoAway => KindInfo {
                layer: Some(L::Http),
                meaning: "HTTP/2 (--http2): the server sent GOAWAY before answering",
                requests_exception: None,
                urllib3_cause: None,
                governing_timeout: None,
                curl_exit: Some(16),
                hint: "The server is shutting the connection down (restart, connection limit, idle policy); requests speaks HTTP/1.1 only and would not see this. Retry on a new connection.",
            },
            H2StreamReset => KindInfo {
                layer: Some(L::Http),
                meaning: "HTTP/2 (--http2): the server reset this stream with an error code",
                requests_exception: None,
                urllib3_cause: None,
                governing_timeout: None,
                curl_exit: Some(92),
                hint: "The code says why (REFUSED_STREAM: retry is safe; INTERNAL_ERROR, PROTOCOL_ERROR: a server bug). requests speaks HTTP/1.1 only and would not see this.",
            },
            H2ProtocolError => KindInfo {
                layer: Some(L::Http),
                meaning: "HTTP/2 (--http2): the server broke the protocol and netpeel ended the exchange (its own GOAWAY or RST_STREAM)",
                requests_exception: None,
                urllib3_cause: None,
                governing_timeout: None,
                curl_exit: Some(16),
                hint: "The server (or a proxy in front of it) sends invalid HTTP/2 frames: a bad frame, a flow-control violation, a header list that is too large. requests speaks HTTP/1.1 only and would not see this; try without --http2, and report the server's HTTP/2 bug.",
            },
            HttpOther => row(
                L::Http,
                "the HTTP exchange failed in another way",
                CONN_ERR,
                Some(PROTO),
                None,
                Some(56),
                "See the HTTP error below.",
            ),
            ReuseRemoteDisconnected => row(
                L::Http,
                "a connection reused after an idle gap was closed as the request went out (the keep-alive race)",
                CONN_ERR,
                Some(PROTO),
                None,
                None,
                "The far end closes idle keep-alive connections just when the client reuses them. Retry idempotent requests (urllib3 Retry(total=3, allowed_methods=...) on the HTTPAdapter), or keep connections idle for less than the server's keep-alive timeout. curl retries such a request on a new connection by itself.",
            ),
            ReuseConnectionReset => row(
                L::Http,
                "a connection reused after an idle gap was reset as the request went out",
                CONN_ERR,
                Some(PROTO),
                None,
                None,
                "The far end (or a load balancer) resets idle connections when they are reused. Retry idempotent requests (urllib3 Retry(total=3, allowed_methods=...)), or keep connections idle for less than its idle timeout. curl retries on a new connection by itself.",
            ),
            ReuseSilentDrop => row(
                L::Http,
                "a connection reused after an idle gap got no answer: the far end forgot it without FIN or RST",
                "requests.exceptions.ReadTimeout",
                Some("urllib3.exceptions.ReadTimeoutError"),
                Some(T::Read),
                Some(28),
                "A NAT, firewall or load balancer dropped the idle flow silently, so a Session waits for the whole read timeout. Turn TCP keepalive on below the idle time (socket_options with TCP_KEEPIDLE on an HTTPAdapter), or open new connections after shorter idle times.",
            ),
            ProxyDnsFailure => row(
                L::Proxy,
                "the proxy's own host name does not resolve",
                PROXY_ERR,
                Some(U3_PROXY),
                None,
                Some(5),
                "Check the proxy host in --proxy or the *_proxy variable (typos, a proxy name only valid on another network).",
            ),
            ProxyConnectionRefused => row(
                L::Proxy,
                "nothing listens on the proxy's address and port",
                PROXY_ERR,
                Some(U3_PROXY),
                None,
                Some(7),
                "The proxy is down or its port is wrong; check the proxy URL, or whether this network needs a proxy at all (NO_PROXY).",
            ),
            ProxyConnectTimeout => row(
                L::Proxy,
                "no answer from the proxy's address within the connect timeout",
                PROXY_ERR,
                Some(U3_PROXY),
                Some(T::Connect),
                Some(28),
                "The proxy cannot be reached from here (firewall, wrong network, VPN down).",
            ),
            ProxyUnreachable => row(
                L::Proxy,
                "the proxy's address cannot be reached (unreachable, reset)",
                PROXY_ERR,
                Some(U3_PROXY),
                None,
                Some(7),
                "Check the route to the proxy.",
            ),
            ProxyAuthRequired => row(
                L::Proxy,
                "the proxy wants credentials (407)",
                PROXY_ERR,
                Some(U3_PROXY),
                None,
                Some(56),
                "Put user:password in the proxy URL (http://user:pass@proxy:3128); the report shows which scheme the proxy asked for.",
            ),
            ProxyForwardAuthRequired => row(
                L::Proxy,
                "the proxy wants credentials (407) for the plain-http request it forwards: the 407 is the proxy's answer, not the server's",
                "requests.exceptions.HTTPError",
                None,
                None,
                Some(22),
                "Put user:password in the proxy URL (http://user:pass@proxy:3128): requests sends them as Proxy-Authorization with every plain-http request. requests returns the 407 as the response (HTTPError only from raise_for_status()); curl exits 22 with -f.",
            ),
            ProxyDenied => row(
                L::Proxy,
                "the proxy refused to open the tunnel (403, 502, 503 …)",
                PROXY_ERR,
                Some(U3_PROXY),
                None,
                Some(56),
                "The proxy's policy blocks this host/port, or it cannot reach the target: read its answer below; maybe the target belongs in NO_PROXY.",
            ),
            ProxyClosed => row(
                L::Proxy,
                "the proxy closed the connection without answering CONNECT",
                CONN_ERR,
                Some(PROTO),
                None,
                Some(56),
                "Is it really an HTTP proxy on that port? Check the proxy's logs. requests raises ConnectionError here: urllib3 sees the proxy connection as established before CONNECT.",
            ),
            ProxyTimeout => row(
                L::Proxy,
                "the proxy accepted the connection but did not answer CONNECT within the connect timeout",
                "requests.exceptions.ReadTimeout",
                Some("urllib3.exceptions.ReadTimeoutError"),
                Some(T::Connect),
                Some(28),
                "The proxy is overloaded or slow to reach the target; check the proxy. requests raises ReadTimeout here, bounded by the connect timeout.",
            ),
            ProxyNotHttp => row(
                L::Proxy,
                "the proxy's answer to CONNECT is not HTTP",
                CONN_ERR,
                Some(PROTO),
                None,
                Some(56),
                "The port is not an HTTP proxy (a SOCKS proxy? use socks5:// then).",
            ),
            ProxyNotTls => row(
                L::Proxy,
                "the proxy URL says https:// but the proxy answered the TLS handshake in plain HTTP: it is an http:// proxy",
                PROXY_ERR,
                Some(U3_PROXY),
                None,
                Some(35),
                "Write http:// in the proxy URL (https_proxy=http://proxy:3128, --proxy http://…): the scheme says how to talk to the proxy, not which URLs it carries; an http:// proxy still tunnels https:// URLs with CONNECT.",
            ),
            ProxyTlsFailed => row(
                L::Proxy,
                "the TLS handshake with the https:// proxy failed (its certificate, or an alert)",
                PROXY_ERR,
                Some(U3_PROXY),
                None,
                Some(35),
                "Trust the proxy's CA with --proxy-cacert (requests: verify= covers the proxy too) or fix the proxy's certificate; --proxy-insecure skips the check.",
            ),
            ProxyTunnelClosed => row(
                L::Proxy,
                "the proxy opened the tunnel, then the connection closed before the TLS handshake finished",
                SSL_ERR,
                Some(U3_SSL),
                None,
                Some(35),
                "The proxy (or a TLS-inspecting middlebox) cut the tunnel: check its policy for this host. requests reports it as an SSLError (EOF in the handshake).",
            ),
            SocksUnreachable => row(
                L::Proxy,
                "the SOCKS proxy itself cannot be reached (DNS or TCP)",
                CONN_ERR,
                Some(NEW_CONN),
                None,
                Some(97),
                "Check the SOCKS proxy's host and port.",
            ),
            SocksAuthFailed => row(
                L::Proxy,
                "the SOCKS proxy rejected the credentials or offered no usable method",
                CONN_ERR,
                Some(NEW_CONN),
                None,
                Some(97),
                "Check the user:password in the socks5:// URL.",
            ),
            SocksReplyError => row(
                L::Proxy,
                "the SOCKS proxy could not connect to the target (its reply code says why)",
                CONN_ERR,
                Some(NEW_CONN),
                None,
                Some(97),
                "Read the reply code: not allowed by ruleset, host or network unreachable, refused by the target.",
            ),
            SocksLocalDns => row(
                L::Proxy,
                "socks5:// resolves the target locally, and that failed",
                CONN_ERR,
                Some(NEW_CONN),
                None,
                Some(6),
                "Use socks5h:// to let the proxy resolve names it can see and you cannot.",
            ),
            SocksTimeout => row(
                L::Proxy,
                "the SOCKS exchange did not finish within the connect timeout",
                "requests.exceptions.ConnectTimeout",
                Some("urllib3.exceptions.ConnectTimeoutError"),
                Some(T::Connect),
                Some(28),
                "The SOCKS proxy or its way to the target is slow or blocked.",
            ),
            SocksOther => row(
                L::Proxy,
                "the SOCKS exchange failed in another way (closed, not SOCKS5)",
                CONN_ERR,
                Some(NEW_CONN),
                None,
                Some(97),
                "Check that the port speaks SOCKS5.",
            ),
            TotalTimeout => KindInfo {
                layer: None,
                meaning: "the --max-time deadline ran out (in whichever stage was running)",
                requests_exception: None,
                urllib3_cause: None,
                governing_timeout: Some(T::Total),
                curl_exit: Some(28),
                hint: "requests has no total deadline; raise --max-time, or look at which stage used the time.",
            },
        }
    }
}

/// netpeel's own exit codes, one per layer (plus status and redirects). Documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const INTERNAL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const URL: u8 = 3;
    pub const DNS: u8 = 4;
    pub const TCP: u8 = 5;
    pub const PROXY: u8 = 6;
    pub const TLS: u8 = 7;
    pub const HTTP: u8 = 8;
    pub const HTTP_STATUS: u8 = 9;
    pub const TOO_MANY_REDIRECTS: u8 = 10;
    pub const INTERRUPTED: u8 = 130;
}

pub fn exit_code(layer: Stage, kind: Kind) -> u8 {
    match (layer, kind) {
        (_, Kind::HttpClientError | Kind::HttpServerError) => exit::HTTP_STATUS,
        (_, Kind::TooManyRedirects) => exit::TOO_MANY_REDIRECTS,
        (Stage::Url, _) => exit::URL,
        (Stage::Dns, _) => exit::DNS,
        (Stage::Tcp, _) => exit::TCP,
        (Stage::Proxy, _) => exit::PROXY,
        (Stage::Tls, _) => exit::TLS,
        (Stage::Http, _) => exit::HTTP,
    }
}

/// The verdict on one probe.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub layer: Option<Stage>,
    pub kind: Option<Kind>,
    pub summary: String,
    pub hint: Option<String>,
    pub requests_exception: Option<String>,
    pub urllib3_cause: Option<String>,
    pub governing_timeout: Option<TimeoutSetting>,
    pub curl_exit: Option<u8>,
    pub exit_code: u8,
    /// Things worth saying even on success (`--insecure` found a bad certificate, …).
    pub notes: Vec<String>,
}

pub(super) fn failed(layer: Stage, kind: Kind, summary: String, hint: Option<String>) -> Verdict {
    let info = kind.info();
    Verdict {
        layer: Some(layer),
        kind: Some(kind),
        summary,
        hint: Some(hint.unwrap_or_else(|| info.hint.to_string())),
        requests_exception: info.requests_exception.map(str::to_string),
        urllib3_cause: info.urllib3_cause.map(str::to_string),
        governing_timeout: info.governing_timeout,
        curl_exit: info.curl_exit,
        exit_code: exit_code(layer, kind),
        notes: Vec::new(),
    }
}

/// A timeout that was really the total deadline becomes `total_timeout` in that layer.
fn timed_out(
    layer: Stage,
    kind: Kind,
    setting: Option<TimeoutSetting>,
    summary: String,
) -> Verdict {
    if setting == Some(TimeoutSetting::Total) {
        failed(layer, Kind::TotalTimeout, summary, None)
    } else {
        failed(layer, kind, summary, None)
    }
}

/// Judge a finished probe: the first failed stage names the layer.
pub fn judge(outcome: &ProbeOutcome) -> Verdict {
    let network = judge_failure(outcome);
    // requests raises on a CA bundle that points nowhere before it connects (after the URL).
    let ca_missing = outcome
        .target
        .is_ok()
        .then(|| super::trust_judge::judge_ca_missing(outcome, network.as_ref()))
        .flatten();
    let mut verdict = ca_missing.or(network).unwrap_or_else(|| success(outcome));
    super::trust_judge::apply(&mut verdict, outcome);
    if let Some(note) = unverified_proxy_note(outcome) {
        // curl verifies the proxy's certificate whatever the URL's scheme.
        if verdict.kind.is_none() && !outcome.settings.proxy_insecure {
            verdict.curl_exit = Some(60);
        }
        verdict.notes.push(note);
    }
    // The failure (or success) is the last hop's; say how we got there.
    let hops = outcome.redirects.len();
    if hops > 0 && verdict.kind != Some(Kind::TooManyRedirects) {
        let s = if hops == 1 { "" } else { "s" };
        verdict.summary = format!("After {hops} redirect{s}: {}", verdict.summary);
    }
    verdict.notes.extend(notes(outcome));
    verdict
}

/// The first failure in stage order names the layer: the URL, the redirect limit, the proxy,
/// then DNS, TCP, TLS and HTTP, and last an error status on an otherwise good exchange.
fn judge_failure(o: &ProbeOutcome) -> Option<Verdict> {
    if let Err(e) = &o.target {
        return Some(judge_url(e));
    }
    if let Some(t) = &o.too_many_redirects {
        return Some(judge_too_many_redirects(o, t));
    }
    // The proxy goes first: with a proxy, DNS and TCP failures are about reaching it.
    judge_proxy(o)
        .or_else(|| o.connection.dns.error().map(|e| judge_dns(e, &o.settings)))
        .or_else(|| o.connection.tcp.error().map(judge_tcp))
        .or_else(|| o.connection.tls.error().map(judge_tls))
        .or_else(|| judge_late_alert(o))
        .or_else(|| o.http.error().map(|e| judge_http(o, e)))
        .or_else(|| judge_decoding(o))
        .or_else(|| judge_status(o))
}

/// A final response whose body does not decode: requests raises `ContentDecodingError` while
/// reading `.content`, before the caller could call `raise_for_status()`. (On a redirect it
/// reads the body undecoded and goes on, so only the final response counts.)
fn judge_decoding(o: &ProbeOutcome) -> Option<Verdict> {
    let x = o.http.detail()?;
    let error = x.decode_error()?;
    let summary = format!(
        "{} {} answered {} {}, but the body does not decode: {error}.",
        x.request.method, x.request.target, x.response.status, x.response.reason
    );
    Some(failed(
        Stage::Http,
        Kind::ContentDecodingError,
        summary,
        None,
    ))
}

fn judge_url(e: &UrlError) -> Verdict {
    let kind = url_kind(e.problem);
    let hint = e.suggestion.as_ref().map(|s| format!("Did you mean {s} ?"));
    let what = match kind {
        Kind::InvalidHeader | Kind::UnsendableHeader | Kind::HeaderNotLatin1 => {
            "Bad request header"
        }
        Kind::UrlTooLong => "URL too long for netpeel",
        _ => "Bad URL",
    };
    let mut v = failed(Stage::Url, kind, format!("{what}: {}.", e.message), hint);
    v.curl_exit = curl_exit_for_bad_url(kind, &e.input);
    v
}

fn url_kind(p: UrlProblem) -> Kind {
    match p {
        UrlProblem::MissingScheme => Kind::MissingScheme,
        UrlProblem::UnsupportedScheme => Kind::UnsupportedScheme,
        UrlProblem::MissingHost => Kind::MissingHost,
        UrlProblem::InvalidPort => Kind::InvalidPort,
        UrlProblem::InvalidHost => Kind::InvalidHost,
        UrlProblem::InvalidHostLabel => Kind::InvalidHostLabel,
        UrlProblem::Invalid => Kind::InvalidUrl,
        UrlProblem::InvalidHeader => Kind::InvalidHeader,
        UrlProblem::HeaderNotLatin1 => Kind::HeaderNotLatin1,
        UrlProblem::UnsendableHeader => Kind::UnsendableHeader,
        UrlProblem::UrlTooLong => Kind::UrlTooLong,
    }
}

fn judge_too_many_redirects(o: &ProbeOutcome, t: &TooManyRedirects) -> Verdict {
    let summary = if t.cycle.is_empty() {
        format!("The redirects did not end within {} hops.", t.limit)
    } else {
        format!(
            "The redirects loop ({} hops, limit {}): {}.",
            o.redirects.len(),
            t.limit,
            t.cycle.join(" → ")
        )
    };
    failed(Stage::Http, Kind::TooManyRedirects, summary, None)
}

fn judge_dns(e: &DnsError, settings: &super::settings::ProbeSettings) -> Verdict {
    let kind = dns_kind(e.failure);
    // Which servers were asked, so a wrong resolv.conf or --dns-server shows.
    let asked = match &e.source {
        DnsSource::Servers { servers, from } if !servers.is_empty() => {
            let list: Vec<String> = servers.iter().map(|s| s.to_string()).collect();
            format!(" (asked {} from {from})", list.join(", "))
        }
        DnsSource::Servers { from, .. } => format!(" ({from})"),
        _ => String::new(),
    };
    let what = match kind {
        Kind::Nxdomain => "the name does not exist (NXDOMAIN)".to_string(),
        Kind::Nodata => "the name exists but has no address record (NODATA)".to_string(),
        Kind::Servfail => "the server answered SERVFAIL".to_string(),
        Kind::DnsRefused => "the server REFUSED the query".to_string(),
        Kind::DnsTimeout => match e.timeout {
            Some((d, s)) => format!("no answer within {} ({})", fmt_duration(d), s.flag()),
            None => "no answer".to_string(),
        },
        _ => e.message.clone(),
    };
    let summary = format!(
        "DNS lookup of {} failed after {}: {what}{asked}.",
        e.name,
        fmt_duration(e.elapsed)
    );
    let mut v = timed_out(Stage::Dns, kind, e.timeout.map(|t| t.1), summary);
    // curl's --connect-timeout bounds name resolution too: the shorter one decides.
    if kind == Kind::DnsTimeout && settings.connect_timeout < settings.dns_timeout {
        v.curl_exit = Some(28);
        v.notes.push(format!(
            "curl would exit 28 (timeout), not 6: its --connect-timeout ({}) also bounds the name lookup and is the shorter.",
            fmt_duration(settings.connect_timeout)
        ));
    }
    v
}

fn dns_kind(f: DnsFailure) -> Kind {
    match f {
        DnsFailure::NxDomain => Kind::Nxdomain,
        DnsFailure::NoData => Kind::Nodata,
        DnsFailure::ServFail => Kind::Servfail,
        DnsFailure::Refused => Kind::DnsRefused,
        DnsFailure::Timeout => Kind::DnsTimeout,
        DnsFailure::NoNameserver => Kind::NoNameserver,
        DnsFailure::Other => Kind::DnsOther,
    }
}

fn judge_tcp(e: &TcpError) -> Verdict {
    let kind = tcp_kind(e.failure);
    let last = e.attempts.last().map(|a| a.elapsed).unwrap_or(e.elapsed);
    let mut summary = match kind {
        Kind::ConnectTimeout => format!("TCP connect to {} got {}.", e.addr, e.detail),
        _ if e.attempts.is_empty() => format!("No TCP connect was tried: {}.", e.detail),
        _ => format!(
            "TCP connect to {} {} after {}.",
            e.addr,
            e.failure.describe(),
            fmt_duration(last)
        ),
    };
    if e.attempts.len() > 1 {
        summary.push_str(&format!(
            " All {} addresses failed; requests reports the last one.",
            e.attempts.len()
        ));
    }
    timed_out(Stage::Tcp, kind, e.timeout.map(|t| t.1), summary)
}

fn judge_tls(e: &TlsError) -> Verdict {
    if let Some(v) = judge_legacy_suites(e) {
        return v;
    }
    let kind = tls_kind(e.failure);
    let summary = tls_summary(e);
    let mut v = timed_out(Stage::Tls, kind, e.timeout.map(|t| t.1), summary);
    if let Some(cn) = curl_accepts_by_common_name(e) {
        v.curl_exit = Some(0);
        v.notes.push(format!(
            "requests and curl disagree here: the certificate has no DNS name in subjectAltName and its CN ({cn}) matches {}. curl (OpenSSL) falls back to the CN and goes on (exit 0); requests (Python's ssl, since 3.7) and netpeel ignore the CN and fail. Reissue the certificate with the name in subjectAltName.",
            e.server_name
        ));
    }
    if matches!(kind, Kind::ClientCertRequired | Kind::ClientCertRejected) {
        // Inside the handshake (TLS 1.2) curl fails in its connect phase: 35, or 98
        // (CURLE_SSL_CLIENTCERT) when the alert is certificate_required (rustls sends it in
        // TLS 1.2 too; OpenSSL servers send handshake_failure there).
        v.curl_exit = Some(if e.alert.as_deref() == Some("certificate_required") {
            98
        } else {
            35
        });
    }
    v
}

/// A server that refused rustls's ClientHello but takes a suite requests or curl offers (see
/// `legacy_tls`): netpeel's own limit when requests would connect; a disagreement between the
/// two clients when only curl would.
fn judge_legacy_suites(e: &TlsError) -> Option<Verdict> {
    use super::legacy_tls::LegacyAnswer;
    let base = format!(
        "TLS handshake with {} ({}) failed after {}: the server refused netpeel's ClientHello ('{}')",
        e.addr,
        e.server_name,
        fmt_duration(e.elapsed),
        e.alert.as_deref().unwrap_or("alert")
    );
    match e.legacy.as_ref()? {
        LegacyAnswer::RequestsConnects { suite } => {
            let summary = format!(
                "{base}, but it takes {}, which requests (Python's ssl) and curl offer and netpeel's TLS library does not.",
                LegacyAnswer::suite_name(*suite)
            );
            Some(failed(
                Stage::Tls,
                Kind::TlsCipherUnsupported,
                summary,
                None,
            ))
        }
        LegacyAnswer::CurlOnly { suite } => {
            let summary = format!("{base}: it takes only older cipher suites.");
            let mut v = failed(Stage::Tls, Kind::TlsAlert, summary, None);
            v.curl_exit = None;
            v.notes.push(format!(
                "requests and curl disagree here: the server takes {}, which curl offers (OpenSSL's default list) and connects with; requests (Python's default ciphers drop RSA key exchange and SHA-1 suites since 3.10) and netpeel do not. The server should enable ECDHE with AES-GCM.",
                LegacyAnswer::suite_name(*suite)
            ));
            Some(v)
        }
        LegacyAnswer::Neither => None,
    }
}

/// The CN curl would accept the certificate by: a name mismatch on a certificate without any
/// DNS name in subjectAltName, for a host name (not an IP address: OpenSSL never matches an
/// address against the CN), where the CN matches the name as OpenSSL's X509_check_host does
/// (case-insensitively, a leading `*.` standing for one label).
fn curl_accepts_by_common_name(e: &TlsError) -> Option<String> {
    if e.failure != TlsFailure::CertNameMismatch || e.sni.is_none() {
        return None;
    }
    let leaf = e.chain.first()?;
    let cn = leaf.common_name.as_ref()?;
    (!leaf.has_dns_name && name_matches(cn, &e.server_name)).then(|| cn.clone())
}

/// `pattern` (a certificate name, maybe `*.example.com`) matches `host`.
fn name_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (
        pattern.trim_end_matches('.').to_ascii_lowercase(),
        host.trim_end_matches('.').to_ascii_lowercase(),
    );
    match pattern.strip_prefix("*.") {
        Some(rest) => host.split_once('.').is_some_and(|(label, parent)| {
            !label.is_empty() && parent == rest && rest.contains('.')
        }),
        None => pattern == host,
    }
}

/// A TLS alert on the first read after a handshake that seemed done: TLS 1.3 servers refuse a
/// missing or bad client certificate this way. requests (OpenSSL) raises SSLError for it; the
/// failure is the TLS layer's, not HTTP's.
fn judge_late_alert(o: &ProbeOutcome) -> Option<Verdict> {
    let HttpFailure::TlsAlert(alert) = o.http.error()?.failure else {
        return None;
    };
    let tls = o.connection.tls.detail()?;
    let name = super::tls::alert_name(alert);
    let failure = super::client_cert::alert_meaning(&tls.client_auth, alert)
        .unwrap_or(TlsFailure::AlertReceived);
    let peer = peer(o);
    let base = format!(
        "The TLS handshake with {peer} ({}) seemed done, but the server sent the alert '{name}' on the first read",
        tls.sni.as_deref().unwrap_or("no SNI")
    );
    let summary = match client_cert_sentence(failure, &tls.client_auth) {
        Some(sentence) => format!("{base}: {sentence}."),
        None => format!("{base}."),
    };
    Some(failed(Stage::Tls, tls_kind(failure), summary, None))
}

/// The client-certificate part of a summary, with the CAs the server said it accepts.
fn client_cert_sentence(
    failure: TlsFailure,
    auth: &super::client_cert::ClientAuth,
) -> Option<String> {
    let accepts = if auth.acceptable_issuers.is_empty() {
        String::new()
    } else {
        format!(
            " (it accepts certificates issued by: {})",
            auth.acceptable_issuers.join("; ")
        )
    };
    match (failure, &auth.sent) {
        (TlsFailure::ClientCertRequired, _) => Some(format!(
            "the server requires a client certificate and none was sent{accepts}"
        )),
        (TlsFailure::ClientCertRejected, Some(subject)) => Some(format!(
            "the server refused the client certificate '{subject}'{accepts}"
        )),
        _ => None,
    }
}

/// The address the connection went to, for sentences ("" when TCP did not connect).
fn peer(o: &ProbeOutcome) -> String {
    o.connection
        .tcp
        .detail()
        .map(|t| t.peer.to_string())
        .unwrap_or_default()
}

/// A failed exchange: no response, a broken one, or a body that did not arrive whole.
fn judge_http(o: &ProbeOutcome, e: &HttpError) -> Verdict {
    let kind = http_kind(e.failure);
    let peer = peer(o);
    let request = format!("{} {}", e.request.method, e.request.target);
    let summary = match kind {
        Kind::ReadTimeout => format!(
            "{peer} accepted {request} but sent no response: {}.",
            e.message
        ),
        Kind::RemoteDisconnected => {
            format!("{peer} closed the connection after {request} without sending a response.")
        }
        Kind::ConnectionReset => {
            format!("{peer} reset the connection after {request}, before any response.")
        }
        Kind::NotHttp => format!("{peer} answered {request} with something that is not HTTP."),
        _ => format!("{request} to {peer}: {}.", e.message),
    };
    timed_out(Stage::Http, kind, e.timeout.map(|t| t.1), summary)
}

/// Judge the second request of reuse mode, sent on a connection kept idle for `idle`: a
/// close, reset or silence before any response is the stale connection's, not the server's.
pub fn judge_reused(outcome: &ProbeOutcome, idle: std::time::Duration) -> Verdict {
    let verdict = judge(outcome);
    let stale = match verdict.kind {
        Some(Kind::RemoteDisconnected) => Kind::ReuseRemoteDisconnected,
        Some(Kind::ConnectionReset) => Kind::ReuseConnectionReset,
        Some(Kind::ReadTimeout) => Kind::ReuseSilentDrop,
        _ => return verdict,
    };
    let peer = peer(outcome);
    let idle = fmt_duration(idle);
    let summary = match stale {
        Kind::ReuseRemoteDisconnected => format!(
            "{peer} closed the connection kept idle for {idle} as the request went out, without a response."
        ),
        Kind::ReuseConnectionReset => format!(
            "{peer} reset the connection kept idle for {idle} as the request went out, before any response."
        ),
        _ => format!(
            "{peer} never answered on the connection kept idle for {idle} (no FIN, no RST): {}.",
            outcome
                .http
                .error()
                .map(|e| e.message.as_str())
                .unwrap_or("no response")
        ),
    };
    let mut stale_verdict = failed(Stage::Http, stale, summary, None);
    stale_verdict.notes = verdict.notes;
    stale_verdict
}

fn http_kind(f: HttpFailure) -> Kind {
    match f {
        HttpFailure::ReadTimeout => Kind::ReadTimeout,
        HttpFailure::ClosedBeforeResponse => Kind::RemoteDisconnected,
        HttpFailure::ResetBeforeResponse => Kind::ConnectionReset,
        HttpFailure::NotHttp => Kind::NotHttp,
        HttpFailure::BadResponseHead => Kind::BadResponseHead,
        HttpFailure::IncompleteBody => Kind::IncompleteBody,
        HttpFailure::ResetDuringBody => Kind::BodyReset,
        HttpFailure::BodyReadTimeout => Kind::BodyReadTimeout,
        HttpFailure::H2GoAway => Kind::H2GoAway,
        HttpFailure::H2StreamReset => Kind::H2StreamReset,
        HttpFailure::H2ProtocolError => Kind::H2ProtocolError,
        HttpFailure::ConflictingContentLength => Kind::ConflictingContentLength,
        HttpFailure::InvalidChunk => Kind::InvalidChunk,
        // Judged as a TLS failure before it gets here (see `judge_late_alert`).
        HttpFailure::TlsAlert(_) => Kind::TlsAlert,
        HttpFailure::Other => Kind::HttpOther,
    }
}

/// A complete exchange that ended in a 4xx or 5xx (requests raises `HTTPError` for it only
/// from `raise_for_status()`, curl only with `-f`).
fn judge_status(o: &ProbeOutcome) -> Option<Verdict> {
    let x = o.http.detail()?;
    if !super::http::is_error_status(x.response.status) {
        return None;
    }
    // A forwarding proxy answers 407 itself: the proxy layer failed, not the server.
    let forwarded = o.settings.proxy.proxy.is_some() && x.request.target.contains("://");
    let (stage, kind) = match x.response.status {
        407 if forwarded => (Stage::Proxy, Kind::ProxyForwardAuthRequired),
        s if s < 500 => (Stage::Http, Kind::HttpClientError),
        _ => (Stage::Http, Kind::HttpServerError),
    };
    let summary = format!(
        "{} {} answered {} {} (after {} to first byte).",
        x.request.method,
        o.target
            .as_ref()
            .map(|t| t.display_url())
            .unwrap_or_default(),
        x.response.status,
        x.response.reason,
        fmt_duration(x.time_to_first_byte)
    );
    Some(failed(stage, kind, summary, None))
}

/// curl parses URLs differently from requests: it guesses http:// when there is no scheme,
/// speaks many other schemes, and takes "http:///path" as host "path".
fn curl_exit_for_bad_url(kind: Kind, input: &str) -> Option<u8> {
    const CURL_SCHEMES: &[&str] = &[
        "dict", "file", "ftp", "ftps", "gopher", "gophers", "imap", "imaps", "ldap", "ldaps",
        "mqtt", "pop3", "pop3s", "rtsp", "scp", "sftp", "smb", "smbs", "smtp", "smtps", "telnet",
        "tftp", "ws", "wss",
    ];
    let scheme = input
        .trim()
        .split_once("://")
        .map(|(s, _)| s.to_ascii_lowercase());
    match kind {
        Kind::UnsupportedScheme if scheme.as_deref().is_some_and(|s| CURL_SCHEMES.contains(&s)) => {
            None
        }
        Kind::MissingHost if input.contains(":///") => None,
        // curl repairs "http:/host" as the url crate would.
        Kind::MissingHost if !input.contains("://") => None,
        Kind::UnsupportedScheme if input.trim().starts_with("://") => Some(3),
        _ => kind.info().curl_exit,
    }
}

/// Failures that belong to the proxy: reaching it (DNS, TCP, when a proxy is used), the
/// CONNECT or SOCKS exchange, and a tunnel that closes during the TLS handshake.
fn judge_proxy(o: &ProbeOutcome) -> Option<Verdict> {
    use super::proxy::ProxyFailure as F;
    let endpoint = o.settings.proxy.proxy.as_ref()?;
    let socks = endpoint.scheme.is_socks();
    let via = format!("the proxy {}", endpoint.display);
    if let Some(e) = o.connection.dns.error() {
        let kind = if socks {
            Kind::SocksUnreachable
        } else {
            Kind::ProxyDnsFailure
        };
        let summary = format!(
            "DNS lookup of the proxy host {} failed: {}.",
            e.name, e.message
        );
        return Some(timed_out(
            Stage::Proxy,
            kind,
            e.timeout.map(|t| t.1),
            summary,
        ));
    }
    if let Some(e) = o.connection.tcp.error() {
        let kind = match (socks, e.failure) {
            (true, TcpFailure::Timeout) => Kind::SocksTimeout,
            (true, _) => Kind::SocksUnreachable,
            (false, TcpFailure::Refused) => Kind::ProxyConnectionRefused,
            (false, TcpFailure::Timeout) => Kind::ProxyConnectTimeout,
            (false, _) => Kind::ProxyUnreachable,
        };
        let summary = format!("TCP connect to {via} at {}: {}.", e.addr, e.detail);
        return Some(timed_out(
            Stage::Proxy,
            kind,
            e.timeout.map(|t| t.1),
            summary,
        ));
    }
    if let Some(e) = o.connection.proxy.error() {
        let kind = match (socks, e.failure) {
            (_, F::SocksAuth) => Kind::SocksAuthFailed,
            (_, F::SocksReply) => Kind::SocksReplyError,
            (_, F::SocksLocalDns) => Kind::SocksLocalDns,
            (true, F::Timeout) => Kind::SocksTimeout,
            (true, _) => Kind::SocksOther,
            (false, F::AuthRequired) => Kind::ProxyAuthRequired,
            (false, F::Refused) => Kind::ProxyDenied,
            (false, F::Closed) => Kind::ProxyClosed,
            (false, F::Timeout) => Kind::ProxyTimeout,
            (false, F::Garbage) => Kind::ProxyNotHttp,
            (false, F::NotTls) => Kind::ProxyNotTls,
            (false, F::Tls) => Kind::ProxyTlsFailed,
            (false, F::Other) => Kind::ProxyClosed,
        };
        let mut summary = match (kind, &e.tls) {
            (Kind::ProxyNotTls, _) => format!(
                "{via} answered the TLS handshake in plain text: it speaks plain HTTP, yet the proxy URL says https://"
            ),
            (Kind::ProxyTlsFailed, Some(tls)) => format!(
                "TLS to {via} failed. {}",
                tls_summary(tls).trim_end_matches('.')
            ),
            _ => format!("{}: {}", via, e.message),
        };
        if let Some(scheme) = &e.auth_scheme {
            summary.push_str(&format!(" (it asks for {scheme} authentication)"));
        }
        if let Some(line) = &e.body_line {
            summary.push_str(&format!("; it says: {line}"));
        }
        summary.push('.');
        let mut v = timed_out(Stage::Proxy, kind, e.timeout.map(|t| t.1), summary);
        if let Some(tls) = e.tls.as_ref().filter(|t| t.failure.is_certificate()) {
            // curl's certificate failures are 60 for a proxy's certificate too.
            v.curl_exit = Some(60);
            v.hint = Some(format!(
                "{} {}",
                tls_kind(tls.failure).info().hint,
                kind.info().hint
            ));
        }
        // Credentials were sent and refused: a different fix than sending none.
        if kind == Kind::ProxyAuthRequired && endpoint.credentials().is_some() {
            v.hint = Some("The proxy rejected the credentials in the proxy URL: check the user and password (and that the proxy accepts Basic).".into());
        }
        return Some(v);
    }
    if let Some(e) = o.connection.tls.error()
        && !socks
        && matches!(
            e.failure,
            TlsFailure::ClosedDuringHandshake | TlsFailure::ResetDuringHandshake
        )
    {
        let summary = format!(
            "{via} opened the tunnel to {}, then the connection closed during the TLS handshake.",
            e.server_name
        );
        return Some(failed(Stage::Proxy, Kind::ProxyTunnelClosed, summary, None));
    }
    None
}

/// The kind of a failed TCP connect (to the target; a proxy's connect has kinds of its own).
pub fn tcp_kind(f: TcpFailure) -> Kind {
    match f {
        TcpFailure::Refused => Kind::ConnectionRefused,
        TcpFailure::Timeout => Kind::ConnectTimeout,
        TcpFailure::HostUnreachable => Kind::HostUnreachable,
        TcpFailure::NetworkUnreachable => Kind::NetworkUnreachable,
        TcpFailure::AddressNotAvailable => Kind::AddressNotAvailable,
        TcpFailure::Reset => Kind::ConnectReset,
        TcpFailure::Other => Kind::TcpOther,
    }
}

pub fn tls_kind(f: TlsFailure) -> Kind {
    match f {
        TlsFailure::CertExpired => Kind::CertExpired,
        TlsFailure::CertNotYetValid => Kind::CertNotYetValid,
        TlsFailure::CertNameMismatch => Kind::CertNameMismatch,
        TlsFailure::CertSelfSigned => Kind::CertSelfSigned,
        TlsFailure::CertUnknownIssuer => Kind::CertUnknownIssuer,
        TlsFailure::CertCaAsEndEntity => Kind::CertCaAsEndEntity,
        TlsFailure::CertInvalid => Kind::CertInvalid,
        TlsFailure::NotTls => Kind::NotTls,
        TlsFailure::MessageTooLarge => Kind::TlsMessageTooLarge,
        TlsFailure::HandshakeTimeout => Kind::TlsHandshakeTimeout,
        TlsFailure::ClosedDuringHandshake => Kind::TlsClosed,
        TlsFailure::ResetDuringHandshake => Kind::TlsReset,
        TlsFailure::AlertReceived => Kind::TlsAlert,
        TlsFailure::ClientCertRequired => Kind::ClientCertRequired,
        TlsFailure::ClientCertRejected => Kind::ClientCertRejected,
        TlsFailure::CaBundleMissing => Kind::CaBundleMissing,
        TlsFailure::CaBundleEmpty => Kind::CaBundleEmpty,
        TlsFailure::Other => Kind::TlsOther,
    }
}

/// One sentence about a certificate problem, naming dates and names from the chain.
pub fn cert_sentence(
    failure: TlsFailure,
    server_name: &str,
    chain: &[super::certs::CertSummary],
) -> Option<String> {
    let leaf = chain.first()?;
    Some(match failure {
        // A whole day left: the server's own certificate is not the expired one; a CA above it
        // is (an intermediate sent, or the store's CA that OpenSSL checks too).
        TlsFailure::CertExpired if leaf.days_left > 0 => match chain
            .iter()
            .skip(1)
            .find(|c| c.days_left < 0 || c.not_after.is_empty())
        {
            Some(ca) if !ca.not_after.is_empty() => format!(
                "the CA certificate '{}' in the chain expired on {} (the certificate for {server_name} is valid until {})",
                ca.subject, ca.not_after, leaf.not_after
            ),
            _ => format!(
                "a CA certificate the chain leads to has expired (the certificate for {server_name} itself is valid until {})",
                leaf.not_after
            ),
        },
        TlsFailure::CertExpired => format!(
            "the certificate for {server_name} expired on {} ({} days ago)",
            leaf.not_after, -leaf.days_left
        ),
        TlsFailure::CertNotYetValid => format!(
            "the certificate for {server_name} is not valid before {}",
            leaf.not_before
        ),
        TlsFailure::CertNameMismatch => format!(
            "the certificate is for {}, not {server_name}",
            if leaf.names.is_empty() {
                leaf.subject.clone()
            } else {
                leaf.names.join(", ")
            }
        ),
        TlsFailure::CertSelfSigned => format!("the certificate ({}) is self-signed", leaf.subject),
        TlsFailure::CertUnknownIssuer => format!(
            "the certificate was issued by '{}', which is not a trusted CA",
            leaf.issuer
        ),
        TlsFailure::CertCaAsEndEntity => format!(
            "the server presented a CA certificate ({}) as its own",
            leaf.subject
        ),
        _ => return None,
    })
}

fn tls_summary(e: &super::tls::TlsError) -> String {
    let base = format!(
        "TLS handshake with {} ({}) failed after {}",
        e.addr,
        e.server_name,
        fmt_duration(e.elapsed)
    );
    if let Some(sentence) = cert_sentence(e.failure, &e.server_name, &e.chain) {
        let trust = match &e.ca_source {
            super::settings::CaSource::BuiltIn => String::new(),
            super::settings::CaSource::Bundle { path, from } => {
                if e.failure == TlsFailure::CertUnknownIssuer
                    || e.failure == TlsFailure::CertSelfSigned
                {
                    format!(" (trusted CAs: {} from {from})", path.display())
                } else {
                    String::new()
                }
            }
        };
        return format!("{base}: {sentence}{trust}.");
    }
    match e.failure {
        TlsFailure::NotTls => format!(
            "{base}: the server answered with something that is not TLS (plain HTTP on this port?)."
        ),
        TlsFailure::CaBundleEmpty | TlsFailure::CaBundleMissing => format!(
            "{base}: requests cannot use its CA bundle ({}), so loading it raises SSLError ('[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found') at the handshake.",
            e.message
        ),
        TlsFailure::MessageTooLarge => format!(
            "{base}: the server sent a handshake message (in practice its certificate chain) over the 64 KiB netpeel's TLS library accepts."
        ),
        TlsFailure::AlertReceived => format!(
            "{base}: the server sent the alert '{}'.",
            e.alert.as_deref().unwrap_or("unknown")
        ),
        TlsFailure::ClientCertRequired | TlsFailure::ClientCertRejected => {
            let how = match &e.alert {
                Some(alert) => format!("the server sent the alert '{alert}'"),
                None => e.message.clone(),
            };
            format!(
                "{base}: {how}: {}.",
                client_cert_sentence(e.failure, &e.client_auth).unwrap_or_default()
            )
        }
        _ => format!("{base}: {}.", e.message),
    }
}

fn success(o: &ProbeOutcome) -> Verdict {
    let summary = match (&o.target, o.http.detail()) {
        (Ok(t), Some(x)) => format!(
            "{} {} answered {} {} in {} ({} body bytes).",
            x.request.method,
            t.display_url(),
            x.response.status,
            x.response.reason,
            fmt_duration(o.total),
            x.body.bytes
        ),
        _ => "The probe finished.".to_string(),
    };
    Verdict {
        layer: None,
        kind: None,
        summary,
        hint: None,
        requests_exception: None,
        urllib3_cause: None,
        governing_timeout: None,
        curl_exit: Some(0),
        exit_code: exit::OK,
        notes: Vec::new(),
    }
}

/// An https:// proxy whose certificate did not verify, when the probe went on without checking
/// it (an http:// URL, as requests does, or --proxy-insecure / -k).
fn unverified_proxy_note(o: &ProbeOutcome) -> Option<String> {
    let tls = o.connection.proxy.detail()?.tls.as_ref()?;
    let failure = tls.verification.failure?;
    let proxy = o.settings.proxy.proxy.as_ref()?;
    let host = proxy.host.trim_start_matches('[').trim_end_matches(']');
    let sentence = cert_sentence(failure, host, &tls.chain)
        .or_else(|| tls.verification.message.clone())
        .unwrap_or_default();
    let why = if o.settings.insecure || o.settings.proxy_insecure {
        "-k / --proxy-insecure skipped the check"
    } else {
        "requests does not check an https:// proxy's certificate for http:// URLs (HTTPAdapter.cert_verify sets CERT_NONE), and neither did netpeel; curl checks it and exits 60"
    };
    Some(format!(
        "The proxy {}'s certificate does not verify ({}: {sentence}): {why}.",
        proxy.display,
        tls_kind(failure).name()
    ))
}

/// When a name has both IPv4 and IPv6 addresses, the order and pace of connection attempts
/// differs between requests (sequential) and happy-eyeballs clients: say what that costs.
fn happy_eyeballs_note(o: &ProbeOutcome) -> Option<String> {
    if o.settings.proxy.proxy.is_some() {
        return None;
    }
    let addrs = &o.connection.dns.detail()?.addresses;
    let v4 = addrs.iter().filter(|a| a.is_ipv4()).count();
    let v6 = addrs.len() - v4;
    if v4 == 0 || v6 == 0 {
        return None;
    }
    let timeout = fmt_duration(o.settings.connect_timeout);
    Some(format!(
        "Both families resolve ({v4} IPv4, {v6} IPv6). requests, like netpeel, tries the addresses one after another in getaddrinfo's order (IPv6 first only when this host has an IPv6 route), each with the full connect timeout: a black-holed first family costs up to {timeout} per address before the other is tried. curl and browsers (happy eyeballs) start the other family after about 200 ms."
    ))
}

fn notes(o: &ProbeOutcome) -> Vec<String> {
    let mut notes = Vec::new();
    if let Ok(t) = &o.target {
        notes.extend(t.notes.iter().cloned());
    }
    notes.extend(o.settings.notes.iter().cloned());
    let https_hop = o.target.as_ref().is_ok_and(|t| t.scheme == Scheme::Https);
    let hop_notes = if https_hop {
        &o.settings.trust_notes
    } else {
        &o.settings.plain_http_notes
    };
    notes.extend(hop_notes.iter().cloned());
    if let StageResult::Ok { detail: tls, .. } = &o.connection.tls
        && tls.insecure
    {
        match (&tls.verification.failure, &tls.verification.message) {
            (Some(f), msg) => {
                let server = o
                    .target
                    .as_ref()
                    .map(|t| t.host.to_string())
                    .unwrap_or_default();
                let sentence = cert_sentence(*f, &server, &tls.chain)
                    .or_else(|| msg.clone())
                    .unwrap_or_default();
                notes.push(format!(
                    "--insecure: certificate verification was skipped; without it the handshake fails with {} ({sentence}).",
                    tls_kind(*f).name()
                ));
            }
            (None, _) => notes.push(
                "--insecure: certificate verification was skipped; the certificate would have verified anyway.".into(),
            ),
        }
    }
    if o.connection
        .tcp
        .detail()
        .is_some_and(|t| t.reset_after_handshake)
    {
        notes.push(
            "The server accepted the TCP connection and reset it at once, before the request: a crashing or overloaded backend, or a load balancer or firewall that resets. The handshake completed, so this is the request failing; requests usually says the same (ProtocolError), but when the reset lands before its connect returns it raises NewConnectionError instead, and curl exits 7 then (56 otherwise).".into(),
        );
    }
    if let Some(n) = disagreement(&o.addresses) {
        notes.push(n);
    }
    if let Some(n) = addresses_left_out(o) {
        notes.push(n);
    }
    if let Some(n) = happy_eyeballs_note(o) {
        notes.push(n);
    }
    for (i, hop) in o.redirects.iter().enumerate() {
        if hop.downgrade {
            notes.push(format!(
                "Hop {} redirects from https to http ({}): the rest travels unencrypted.",
                i + 1,
                hop.next_url
            ));
        }
        if hop.auth_dropped {
            notes.push(format!(
                "Hop {} goes to another host, port or scheme: Authorization was not sent on, as requests drops it.",
                i + 1
            ));
        }
    }
    if !o.settings.follow_redirects
        && let Some(x) = o.http.detail()
        && (300..400).contains(&x.response.status)
        && let Some((_, loc)) = x
            .response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("location"))
    {
        notes.push(format!(
            "The server redirects to {loc}; requests and curl -L would follow it (--no-follow stopped here)."
        ));
    }
    if let Some(x) = o.http.detail()
        && x.response.status >= 600
    {
        notes.push(format!(
            "Status {} is outside 100-599: requests' raise_for_status lets it pass, curl --fail would exit 22.",
            x.response.status
        ));
    }
    if let StageResult::Failed { error, .. } = &o.connection.dns
        && error.failure == DnsFailure::Timeout
    {
        notes.push("requests has no DNS timeout: getaddrinfo blocks until the system resolver gives up (often 5 s × attempts × servers).".into());
    }
    notes
}

/// A note when DNS gave more addresses than `--all-addresses` probes on its own.
fn addresses_left_out(o: &ProbeOutcome) -> Option<String> {
    let resolved = o.connection.dns.detail()?.addresses.len();
    let probed = o.addresses.len();
    (probed > 0 && resolved > probed).then(|| {
        format!(
            "The name resolved to {resolved} addresses; the first {probed} were probed on their own, {} were left out.",
            resolved - probed
        )
    })
}

/// A note when the addresses disagree: some work, some do not.
fn disagreement(rows: &[AddressProbe]) -> Option<String> {
    let failing: Vec<&AddressProbe> = rows.iter().filter(|r| r.kind.is_some()).collect();
    if failing.is_empty() || failing.len() == rows.len() {
        return None;
    }
    let list: Vec<String> = failing
        .iter()
        .map(|r| {
            format!(
                "{} ({})",
                r.address,
                r.kind.map(|k| k.name()).unwrap_or("?")
            )
        })
        .collect();
    Some(format!(
        "{} of {} addresses fail: {}. Behind round-robin DNS this looks like an intermittent failure; requests tries addresses in order and stops at the first that connects.",
        failing.len(),
        rows.len(),
        list.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_kind_has_a_unique_snake_case_name() {
        let mut seen = HashSet::new();
        for kind in Kind::ALL {
            let name = kind.name();
            assert!(seen.insert(name), "duplicate kind name {name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name} is not snake_case"
            );
        }
    }

    /// A CA that expired under a valid leaf (a store CA OpenSSL checks, or an intermediate):
    /// the sentence names the CA, not a leaf "expired -29 days ago".
    #[test]
    fn an_expired_ca_above_a_valid_leaf_is_named_as_the_expired_one() {
        let cert = |subject: &str, not_after: &str, days_left| crate::engine::certs::CertSummary {
            subject: subject.into(),
            issuer: String::new(),
            names: vec!["localhost".into()],
            has_dns_name: true,
            common_name: None,
            not_before: "2020-01-01T00:00:00Z".into(),
            not_after: not_after.into(),
            days_left,
            serial: String::new(),
            is_ca: true,
            self_signed: false,
        };
        let leaf = cert("CN=localhost", "2030-01-01T00:00:00Z", 29);
        let alone = cert_sentence(
            TlsFailure::CertExpired,
            "localhost",
            std::slice::from_ref(&leaf),
        )
        .expect("sentence");
        assert!(
            alone.starts_with("a CA certificate the chain leads to has expired"),
            "{alone}"
        );
        let inter = cert("CN=inter", "2021-01-01T00:00:00Z", -300);
        let named =
            cert_sentence(TlsFailure::CertExpired, "localhost", &[leaf, inter]).expect("sentence");
        assert!(
            named.contains("'CN=inter' in the chain expired on 2021-01-01"),
            "{named}"
        );
        let expired = cert("CN=localhost", "2021-01-01T00:00:00Z", -3);
        let own = cert_sentence(TlsFailure::CertExpired, "localhost", &[expired]).expect("x");
        assert!(
            own.ends_with("expired on 2021-01-01T00:00:00Z (3 days ago)"),
            "{own}"
        );
    }

    #[test]
    fn common_names_match_as_openssl_matches_them() {
        assert!(name_matches("LocalHost", "localhost"));
        assert!(name_matches("*.example.test", "api.example.test"));
        assert!(!name_matches("*.example.test", "a.b.example.test"));
        assert!(!name_matches("*.example.test", "example.test"));
        assert!(!name_matches("*.test", "a.test"));
        assert!(!name_matches("other.test", "localhost"));
    }

    #[test]
    fn every_row_is_complete() {
        for kind in Kind::ALL {
            let info = kind.info();
            assert!(
                !info.meaning.is_empty() && !info.hint.is_empty(),
                "{kind:?} lacks words"
            );
            if let Some(e) = info.requests_exception {
                // One place where requests lets a urllib3 exception escape unwrapped.
                // And one where Python's own UnicodeEncodeError escapes before urllib3, and
                // one where HTTPAdapter.cert_verify raises a bare OSError.
                let unwrapped = (*kind == Kind::InvalidHostLabel
                    && e.starts_with("urllib3.exceptions."))
                    || (*kind == Kind::HeaderNotLatin1 && e == "UnicodeEncodeError")
                    || (*kind == Kind::CaBundleMissing && e == "OSError");
                assert!(
                    e.starts_with("requests.exceptions.") || unwrapped,
                    "{kind:?}: {e}"
                );
            }
            if let Some(c) = info.urllib3_cause {
                assert!(c.starts_with("urllib3.exceptions."), "{kind:?}: {c}");
            }
            // No requests equivalent: the total deadline, HTTP/2 (requests speaks HTTP/1.1),
            // and what only netpeel cannot do (requests goes on and the server decides).
            let no_requests = matches!(
                kind,
                Kind::TotalTimeout
                    | Kind::H2GoAway
                    | Kind::H2StreamReset
                    | Kind::H2ProtocolError
                    | Kind::UnsendableHeader
                    | Kind::UrlTooLong
                    | Kind::TlsMessageTooLarge
                    | Kind::TlsCipherUnsupported
            );
            assert_eq!(info.requests_exception.is_none(), no_requests, "{kind:?}");
            // Only the total deadline floats across layers.
            assert_eq!(info.layer.is_none(), *kind == Kind::TotalTimeout);
        }
    }

    #[test]
    fn timeouts_name_the_setting_that_governs() {
        assert_eq!(
            Kind::ConnectTimeout.info().governing_timeout,
            Some(TimeoutSetting::Connect)
        );
        // requests bounds the TLS handshake with the connect timeout but raises ReadTimeout.
        assert_eq!(
            Kind::TlsHandshakeTimeout.info().governing_timeout,
            Some(TimeoutSetting::Connect)
        );
        assert_eq!(
            Kind::TlsHandshakeTimeout.info().requests_exception,
            Some("requests.exceptions.ReadTimeout")
        );
        assert_eq!(
            Kind::ReadTimeout.info().governing_timeout,
            Some(TimeoutSetting::Read)
        );
        assert_eq!(
            Kind::BodyReadTimeout.info().requests_exception,
            Some(CONN_ERR)
        );
        assert_eq!(Kind::DnsTimeout.info().requests_exception, Some(CONN_ERR));
    }

    #[test]
    fn exit_codes_are_distinct_per_layer() {
        let codes: HashSet<u8> = Stage::ALL
            .iter()
            .map(|l| exit_code(*l, Kind::TotalTimeout))
            .chain([
                exit_code(Stage::Http, Kind::HttpServerError),
                exit_code(Stage::Http, Kind::TooManyRedirects),
            ])
            .collect();
        assert_eq!(codes.len(), 8);
        assert!(!codes.contains(&exit::OK) && !codes.contains(&exit::USAGE));
    }
}
