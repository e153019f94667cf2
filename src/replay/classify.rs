//! netpeel's verdict kinds in urllib3's categories: which [`AttemptError`] the same failure
//! would be when requests and urllib3 meet it, so a replay retries what urllib3 would.

use crate::engine::Stage;
use crate::engine::verdict::Kind;

use super::attempt::{AttemptError, ConnectFault, OtherFault, OutsideFault, ReadFault};

/// How urllib3's `Retry.increment` would see the same failure as a verdict's kind; `kind: None`
/// means the probe got a response. `layer` only matters for `total_timeout`.
pub fn classify(kind: Option<Kind>, layer: Option<Stage>) -> AttemptError {
    match kind {
        None => AttemptError::None,
        Some(kind) => classify_kind(kind, layer),
    }
}

/// [`classify`] on a failure. A `match` over every kind, so a new kind does not compile
/// until it is mapped.
pub fn classify_kind(kind: Kind, layer: Option<Stage>) -> AttemptError {
    use AttemptError as E;
    use ConnectFault as C;
    use Kind::*;
    use OtherFault as O;
    use OutsideFault as X;
    use ReadFault as R;
    match kind {
        // requests' prepare() raises these before urllib3 is involved.
        MissingScheme => E::Outside(X::MissingSchema),
        UnsupportedScheme => E::Outside(X::InvalidSchema),
        MissingHost | InvalidPort | InvalidUrl => E::Outside(X::InvalidUrl),
        InvalidHostLabel => E::Outside(X::LocationParse),
        // requests' check_header_validity, in prepare_headers.
        InvalidHeader => E::Outside(X::InvalidHeader),
        // http.client's putheader encodes the value: Python's own error, not retried.
        HeaderNotLatin1 => E::Outside(X::NotLatin1),
        UnsendableHeader | UrlTooLong | TlsMessageTooLarge | TlsCipherUnsupported => {
            E::Outside(X::NotSent)
        }
        // A host no DNS name can have still goes to getaddrinfo: NameResolutionError.
        InvalidHost => E::Connect(C::NameResolution),
        Nxdomain | Nodata | Servfail | DnsRefused | DnsTimeout | NoNameserver | DnsOther => {
            E::Connect(C::NameResolution)
        }
        ConnectionRefused => E::Connect(C::Refused),
        ConnectTimeout => E::Connect(C::Timeout),
        HostUnreachable | NetworkUnreachable | AddressNotAvailable | ConnectReset | TcpOther => {
            E::Connect(C::NewConnection)
        }
        // ssl.SSLError / CertificateError become urllib3 SSLError: neither connect nor read.
        CertExpired | CertNotYetValid | CertNameMismatch | CertSelfSigned | CertUnknownIssuer
        | CertCaAsEndEntity | CertInvalid | NotTls | TlsClosed | TlsAlert | TlsOther => {
            E::Other(O::Ssl)
        }
        // Also when the alert comes on the first read (TLS 1.3): urllib3 re-raises the
        // ssl.SSLError of the read as its SSLError.
        ClientCertRequired | ClientCertRejected => E::Other(O::Ssl),
        // HTTPAdapter.cert_verify raises OSError before urllib3 connects.
        CaBundleMissing => E::Outside(X::CaBundleMissing),
        // load_verify_locations fails inside urllib3's connect: an SSLError.
        CaBundleEmpty => E::Other(O::Ssl),
        // _validate_conn: socket timeout in the handshake -> ReadTimeoutError.
        TlsHandshakeTimeout => E::Read(R::Timeout),
        // ConnectionResetError (an OSError) -> ProtocolError("Connection aborted.").
        TlsReset => E::Read(R::Protocol),
        ReadTimeout | ReuseSilentDrop => E::Read(R::Timeout),
        RemoteDisconnected | ConnectionReset | NotHttp | BadResponseHead | HttpOther => {
            E::Read(R::Protocol)
        }
        // A stale pooled connection closed or reset under the request: a read error urllib3's
        // Retry(read=…) retries for idempotent methods.
        ReuseRemoteDisconnected | ReuseConnectionReset => E::Read(R::Protocol),
        // urllib3's _init_length raises InvalidHeader while urlopen builds the response:
        // an HTTPError that is no ProtocolError, so the retry loop does not retry it.
        ConflictingContentLength => E::Outside(X::ConflictingLength),
        // Chunks and decoding are read after urlopen returned (preload_content=False).
        InvalidChunk => E::Outside(X::ChunkedEncoding),
        ContentDecodingError => E::Outside(X::ContentDecoding),
        // The body is read after urlopen returned (preload_content=False).
        IncompleteBody | BodyReset => E::Outside(X::ChunkedEncoding),
        BodyReadTimeout => E::Outside(X::BodyTimeout),
        // A forwarding proxy's 407 is a response to urllib3, like the server's own statuses.
        HttpClientError | HttpServerError | ProxyForwardAuthRequired => E::None,
        TooManyRedirects => E::Outside(X::TooManyRedirects),
        // requests speaks HTTP/1.1 only; the nearest is the connection dropping before the
        // answer, a ProtocolError.
        H2GoAway | H2StreamReset | H2ProtocolError => E::Read(R::Protocol),
        ProxyDnsFailure => E::Connect(C::ProxyNameResolution),
        ProxyConnectionRefused => E::Connect(C::ProxyRefused),
        ProxyConnectTimeout => E::Connect(C::ProxyTimeout),
        ProxyUnreachable => E::Connect(C::ProxyNewConnection),
        // _tunnel() closes the connection before raising OSError("Tunnel connection failed"),
        // so has_connected_to_proxy is False again and urllib3 wraps it in ProxyError.
        ProxyAuthRequired | ProxyDenied => E::Other(O::Proxy),
        // urllib3 wraps any failure of the TLS connection to an https:// proxy in ProxyError.
        ProxyNotTls | ProxyTlsFailed => E::Other(O::Proxy),
        // No answer to CONNECT: the socket timeout surfaces as ReadTimeoutError.
        ProxyTimeout => E::Read(R::Timeout),
        // Observed with urllib3 2.7: the proxy connection is marked connected before CONNECT is
        // sent and nothing closes it, so RemoteDisconnected / BadStatusLine are not wrapped in
        // ProxyError but in ProtocolError (requests: ConnectionError, not ProxyError).
        ProxyClosed | ProxyNotHttp => E::Read(R::Protocol),
        // FIN inside the tunnel during the handshake: SSLEOFError -> urllib3 SSLError.
        ProxyTunnelClosed => E::Other(O::Ssl),
        // urllib3.contrib.socks raises NewConnectionError / ConnectTimeoutError itself.
        SocksUnreachable | SocksAuthFailed | SocksReplyError | SocksLocalDns | SocksOther => {
            E::Connect(C::NewConnection)
        }
        SocksTimeout => E::Connect(C::Timeout),
        // requests has no overall deadline: treat it as the running stage's own timeout firing.
        // Without a layer, assume the request may have been sent.
        TotalTimeout => match layer {
            Some(Stage::Dns) => E::Connect(C::NameResolution),
            Some(Stage::Tcp) => E::Connect(C::Timeout),
            Some(Stage::Proxy) => E::Connect(C::ProxyTimeout),
            Some(Stage::Url | Stage::Tls | Stage::Http) | None => E::Read(R::Timeout),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::attempt::AttemptRecord;
    use crate::replay::policy::requests_default_outcome;

    #[test]
    fn classify_every_kind_deliberately() {
        use AttemptError as E;
        // The single-call outcome must agree with the verdict table's requests column, except
        // where the table has no requests equivalent or where urllib3 2.7 was observed to differ.
        let known_differences: [&str; 0] = [];
        for kind in Kind::ALL {
            let info = kind.info();
            let e = classify(Some(*kind), info.layer);
            assert_eq!(e, classify_kind(*kind, info.layer), "{}", kind.name());
            let rec = AttemptRecord {
                status: (e == E::None).then_some(500),
                ..AttemptRecord::failed(e, "GET")
            };
            let got = requests_default_outcome(&rec);
            match (info.requests_exception, got.exception()) {
                (_, _) if known_differences.contains(&kind.name()) => {
                    assert_eq!(got.exception(), Some("requests.exceptions.ConnectionError"));
                }
                (Some("requests.exceptions.HTTPError"), None) => {}
                (Some(want), Some(have)) => assert_eq!(want, have, "{}", kind.name()),
                (None, _) => assert!(
                    matches!(
                        kind.name(),
                        "h2_goaway"
                            | "h2_stream_reset"
                            | "h2_protocol_error"
                            | "total_timeout"
                            | "unsendable_header"
                            | "url_too_long"
                            | "tls_message_too_large"
                            | "tls_cipher_unsupported"
                    ),
                    "{}",
                    kind.name()
                ),
                (want, have) => panic!("{}: table {want:?}, replay {have:?}", kind.name()),
            }
            // The urllib3 cause, where the table names one, is the class behind the category.
            if let (Some(want), Some(have)) = (info.urllib3_cause, e.urllib3_class())
                && !known_differences.contains(&kind.name())
                && !want.ends_with("LocationParseError")
            {
                assert_eq!(want, have, "{}", kind.name());
            }
        }
        assert_eq!(classify(None, None), E::None);
        assert_eq!(
            classify(Some(Kind::TotalTimeout), Some(Stage::Tcp)),
            E::Connect(ConnectFault::Timeout)
        );
        assert_eq!(
            classify(Some(Kind::TotalTimeout), Some(Stage::Dns)),
            E::Connect(ConnectFault::NameResolution)
        );
        assert_eq!(
            classify(Some(Kind::TotalTimeout), None),
            E::Read(ReadFault::Timeout)
        );
        // spot checks of the subtle ones
        assert_eq!(
            classify(Some(Kind::TlsHandshakeTimeout), Some(Stage::Tls)),
            E::Read(ReadFault::Timeout)
        );
        assert_eq!(
            classify(Some(Kind::TlsReset), Some(Stage::Tls)),
            E::Read(ReadFault::Protocol)
        );
        assert_eq!(
            classify(Some(Kind::CertExpired), Some(Stage::Tls)),
            E::Other(OtherFault::Ssl)
        );
        assert_eq!(
            classify(Some(Kind::Nxdomain), Some(Stage::Dns)),
            E::Connect(ConnectFault::NameResolution)
        );
        assert_eq!(
            classify(Some(Kind::ProxyAuthRequired), Some(Stage::Proxy)),
            E::Other(OtherFault::Proxy)
        );
        assert_eq!(
            classify(Some(Kind::HttpServerError), Some(Stage::Http)),
            E::None
        );
    }
}
