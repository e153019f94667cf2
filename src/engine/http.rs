//! Stage 5: one HTTP/1.1 exchange over the connection the earlier stages built (hyper's
//! `client::conn`), timed from the request to the first byte and through the body, with
//! requests' read-timeout meaning: the longest allowed gap between two reads.

use std::io;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};

use super::clock::{Clock, Limit, TimeoutSetting};
use super::decode::{BodyDecoder, Decoded};
use super::head_limits::HeadLimit;
use super::proxy_select::ProxyUrl;
use super::readwatch::{ReadWatch, Watched};
use super::settings::ProbeSettings;
use super::stage::{StageDetail, StageError};
use super::target::Target;

/// Anything the exchange can run over: a plain TCP stream or a TLS stream.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Transport for T {}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    /// The whole URL (no userinfo or fragment): HTTP/2 sends it as :scheme/:authority/:path.
    pub url: String,
    pub version: String,
    /// As sent, secrets included: redaction is the report's job.
    pub headers: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct BodyStats {
    pub bytes: u64,
    /// The first `max_body_bytes` bytes; the rest is only counted.
    pub kept: Vec<u8>,
    pub transfer: Duration,
    /// The body decoded as requests decodes it, when the response has a Content-Encoding it
    /// decodes (gzip, deflate).
    pub decoded: Option<Decoded>,
}

/// What requests' `raise_for_status` raises for: 400 to 599 only (curl --fail: 400 and up).
pub fn is_error_status(status: u16) -> bool {
    (400..600).contains(&status)
}

#[derive(Clone, Debug)]
pub struct HttpExchange {
    pub request: RequestHead,
    pub response: ResponseHead,
    /// From sending the request to the response head.
    pub time_to_first_byte: Duration,
    pub body: BodyStats,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpFailure {
    /// No response head within the read timeout.
    ReadTimeout,
    /// Closed cleanly before any byte of a response (python's RemoteDisconnected).
    ClosedBeforeResponse,
    /// Reset before the response head.
    ResetBeforeResponse,
    /// The reply is not HTTP (garbage status line).
    NotHttp,
    /// The reply starts like HTTP but its head cannot be parsed (too many or too large headers,
    /// conflicting lengths).
    BadResponseHead,
    /// Closed before Content-Length bytes or the last chunk arrived.
    IncompleteBody,
    /// Reset in the middle of the body.
    ResetDuringBody,
    /// A gap longer than the read timeout in the middle of the body.
    BodyReadTimeout,
    /// HTTP/2: the server sent GOAWAY before answering this stream.
    H2GoAway,
    /// HTTP/2: the server reset the stream (RST_STREAM) with an error code.
    H2StreamReset,
    /// HTTP/2: the server broke the protocol, and netpeel's own HTTP/2 library sent the
    /// GOAWAY or RST_STREAM that ended the exchange.
    H2ProtocolError,
    /// Content-Length values that disagree (urllib3's InvalidHeader).
    ConflictingContentLength,
    /// A chunk-size line that is not a hex number (http.client's InvalidChunkLength).
    InvalidChunk,
    /// The server sent a TLS alert after the handshake seemed done (TLS 1.3 sends a refused
    /// client certificate this way, on the first read).
    TlsAlert(rustls::AlertDescription),
    Other,
}

#[derive(Clone, Debug)]
pub struct HttpError {
    pub failure: HttpFailure,
    pub request: RequestHead,
    pub response: Option<ResponseHead>,
    pub body_bytes: u64,
    pub content_length: Option<u64>,
    pub elapsed: Duration,
    pub timeout: Option<(Duration, TimeoutSetting)>,
    pub message: String,
}

impl HttpExchange {
    /// Why the body did not decode, when requests' `.content` would raise
    /// `ContentDecodingError` for it.
    pub fn decode_error(&self) -> Option<&str> {
        self.body.decoded.as_ref()?.error.as_deref()
    }
}

impl StageDetail for HttpExchange {
    fn summary(&self) -> String {
        format!("{} {}", self.response.status, self.response.reason)
    }

    /// A 4xx/5xx arrived fine but is the layer failing in requests' eyes (raise_for_status).
    fn passed(&self) -> bool {
        !is_error_status(self.response.status) && self.decode_error().is_none()
    }
}

impl StageError for HttpError {
    fn message(&self) -> &str {
        &self.message
    }

    fn timeout(&self) -> Option<(Duration, TimeoutSetting)> {
        self.timeout
    }
}

/// The User-Agent `requests.get` sends (`requests.utils.default_user_agent()`); a WAF that
/// blocks python-requests must block the probe too. `-A`/`-H` override it.
pub const REQUESTS_USER_AGENT: &str = "python-requests/2.32.5";

/// What `requests.Session` sends by default, in its order (`requests.utils.default_headers`).
/// Accept-Encoding is urllib3's without the optional brotli/zstandard packages, which netpeel
/// does not model: with them requests also offers `br` and `zstd`.
const REQUESTS_DEFAULT_HEADERS: [(&str, &str); 4] = [
    ("User-Agent", REQUESTS_USER_AGENT),
    ("Accept-Encoding", "gzip, deflate"),
    ("Accept", "*/*"),
    ("Connection", "keep-alive"),
];

/// The request as requests would send it: Host first (http.client), then the session's default
/// headers with the user's values in their place, then the user's other headers, then the
/// credentials. A header given twice keeps its last value, and an empty value removes the
/// header, as a requests headers dict does (`{"Accept": None}`). Through an http proxy
/// (`forward_via`), the request target is the absolute URL and the proxy credentials go in
/// Proxy-Authorization.
pub fn build_request_head(
    target: &Target,
    settings: &ProbeSettings,
    forward_via: Option<&ProxyUrl>,
) -> RequestHead {
    let user = merged_user_headers(&settings.headers);
    let given = |name: &str| user.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
    let mut headers: Vec<(String, String)> = Vec::new();
    // http.client writes its own Host first; a given one goes in the dict's order, after
    // requests' defaults.
    if given("host").is_none() {
        headers.push(("Host".into(), target.host_header.clone()));
    }
    // Without an Accept-Encoding of the caller's, http.client's putrequest writes its own.
    if given("accept-encoding").is_some_and(|(_, v)| v.is_empty()) {
        headers.push(("Accept-Encoding".into(), "identity".into()));
    }
    for (name, value) in REQUESTS_DEFAULT_HEADERS {
        match given(name) {
            Some(own) => headers.push(own.clone()),
            None => headers.push((name.into(), value.into())),
        }
    }
    let defaults = |k: &str| {
        REQUESTS_DEFAULT_HEADERS
            .iter()
            .any(|(d, _)| k.eq_ignore_ascii_case(d))
    };
    headers.extend(user.iter().filter(|(k, _)| !defaults(k)).cloned());
    // requests' prepare_auth: the URL's credentials replace a given Authorization in place.
    if let Some((name, pass)) = target
        .credentials
        .as_ref()
        .filter(|_| settings.url_credentials)
    {
        let auth = ("Authorization".to_string(), basic_auth(name, pass));
        match headers
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            Some(slot) => *slot = auth,
            None => headers.push(auth),
        }
    }
    if let Some(auth) = forward_via.and_then(super::proxy::proxy_authorization) {
        // The proxy URL's credentials replace a Proxy-Authorization given with -H, as in
        // requests: one header, never two.
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("proxy-authorization"));
        headers.push(("Proxy-Authorization".into(), auth));
    }
    // An empty value removes the header (requests drops headers whose value is None).
    headers.retain(|(_, v)| !v.is_empty());
    // As they go on the wire: hyper writes HTTP/1 names title-cased ("accept" → "Accept");
    // requests would keep the user's case, which servers ignore.
    for (name, _) in &mut headers {
        *name = title_case(name);
    }
    let request_target = match forward_via {
        // The URL without userinfo or fragment, as requests writes it for a proxy.
        Some(_) => without_userinfo(target),
        None => target.request_target.clone(),
    };
    RequestHead {
        method: settings.method.clone(),
        url: without_userinfo(target),
        target: request_target,
        version: "HTTP/1.1".into(),
        headers,
    }
}

/// The user's headers as a requests dict holds them: one entry per name (case-insensitive), at
/// the place of its first occurrence, with its last value.
fn merged_user_headers(given: &[(String, String)]) -> Vec<(String, String)> {
    let mut merged: Vec<(String, String)> = Vec::new();
    for (name, value) in given {
        match merged
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some(slot) => *slot = (name.clone(), value.clone()),
            None => merged.push((name.clone(), value.clone())),
        }
    }
    merged
}

/// hyper's `title_case_headers`: lower case, then upper case at the start and after each `-`.
fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut after_dash = true;
    for c in name.chars() {
        out.push(if after_dash {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        after_dash = c == '-';
    }
    out
}

fn without_userinfo(target: &Target) -> String {
    let mut url = target.url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);
    url.to_string()
}

/// The request half of an HTTP/1.1 or HTTP/2 connection.
enum Sender {
    H1(http1::SendRequest<Empty<Bytes>>),
    H2(http2::SendRequest<Empty<Bytes>>),
}

type ResponseFuture<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<hyper::Response<hyper::body::Incoming>, hyper::Error>,
            > + Send
            + 'a,
    >,
>;

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }

    async fn ready(&mut self) -> Result<(), hyper::Error> {
        match self {
            Sender::H1(s) => s.ready().await,
            Sender::H2(s) => s.ready().await,
        }
    }

    fn send(&mut self, request: hyper::Request<Empty<Bytes>>) -> ResponseFuture<'_> {
        match self {
            Sender::H1(s) => Box::pin(s.send_request(request)),
            Sender::H2(s) => Box::pin(s.send_request(request)),
        }
    }
}

/// An open HTTP connection. Later requests to the same origin (redirect hops) reuse it, as
/// requests' connection pool does.
pub struct HttpConn {
    sender: Sender,
    // The connection task drives the socket; dropping the guard aborts it.
    _task: AbortOnDrop<Result<(), hyper::Error>>,
    watch: ReadWatch,
    /// The server said `Connection: close`, or the exchange failed.
    done: bool,
}

impl HttpConn {
    /// Whether another request can go over this connection now.
    pub async fn reusable(&mut self) -> bool {
        if self.done || self.sender.is_closed() {
            return false;
        }
        // A server that closed an idle connection shows up here, not as an error later.
        matches!(
            tokio::time::timeout(Duration::from_millis(100), self.sender.ready()).await,
            Ok(Ok(()))
        )
    }

    pub fn is_h2(&self) -> bool {
        matches!(self.sender, Sender::H2(_))
    }

    /// The server will not take another request here: it said `Connection: close` (or
    /// answered HTTP/1.0), or the exchange failed. requests does not reuse it either.
    pub(crate) fn will_close(&self) -> bool {
        self.done
    }

    /// The connection task has ended (the far end closed, or sent what no response explains).
    pub(crate) fn task_ended(&self) -> bool {
        self.sender.is_closed()
    }

    /// Bytes read since the last request went out.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.watch.bytes()
    }

    /// When and how the far end closed the connection, once a read has seen it.
    pub(crate) fn peer_closed(&self) -> Option<super::readwatch::PeerClose> {
        self.watch.closed()
    }
}

/// Start HTTP over the connection the earlier stages built: HTTP/2 when TLS negotiated `h2`,
/// else HTTP/1.1.
/// `reset`: the TCP stage already saw the server reset the connection (the socket's error was
/// read there, so the request's failure that follows is that reset, not a clean close).
pub async fn open(io: impl Transport, h2: bool, reset: bool) -> Result<HttpConn, String> {
    // Every read is watched: the read timeout is a gap between reads, as in requests.
    let watch = ReadWatch::new(!h2);
    if reset {
        watch.saw_error(io::ErrorKind::ConnectionReset);
    }
    let io = TokioIo::new(Watched::new(io, watch.clone()));
    let (sender, task) = if h2 {
        let (sender, conn) = http2::Builder::new(TokioExecutor::new())
            .handshake(io)
            .await
            .map_err(|e| e.to_string())?;
        (Sender::H2(sender), AbortOnDrop(tokio::spawn(conn)))
    } else {
        // Title-case header names on the wire ("User-Agent"), as requests sends them; skip
        // header lines hyper finds invalid instead of failing, since http.client accepts them.
        let (sender, conn) = http1::Builder::new()
            .title_case_headers(true)
            .ignore_invalid_headers_in_responses(true)
            .handshake(io)
            .await
            .map_err(|e| e.to_string())?;
        (Sender::H1(sender), AbortOnDrop(tokio::spawn(conn)))
    };
    Ok(HttpConn {
        sender,
        _task: task,
        watch,
        done: false,
    })
}

/// One request and its response, read to the end, over `conn`.
pub async fn exchange(
    conn: &mut HttpConn,
    head: RequestHead,
    settings: &ProbeSettings,
    clock: &Clock,
) -> Result<HttpExchange, HttpError> {
    // Until the body is read to the end, the connection cannot carry another request.
    conn.done = true;
    let started = Instant::now();
    let fail =
        |fault: Fault, progress: Option<Progress>| fault.into_error(&head, started, progress);

    let request = build_request(&head, conn.is_h2())
        .map_err(|msg| fail(Fault::new(HttpFailure::Other, msg), None))?;
    let watch = conn.watch.clone();
    watch.reset_first_bytes();
    let sent_at = Instant::now();
    watch.touch();
    let response = await_response(&mut conn.sender, request, &watch, settings, clock)
        .await
        .map_err(|fault| fail(fault, None))?;
    let time_to_first_byte = sent_at.elapsed();
    let response_head = response_head(&response);
    let content_length = content_length(&response);

    let mut decoder = BodyDecoder::new(&content_encoding(&response_head), settings.max_body_bytes);
    let mut body = response.into_body();
    let body_started = Instant::now();
    let (bytes, kept) = match read_body(&mut body, &watch, settings, clock, &mut decoder).await {
        Ok(read) => read,
        Err((stop, bytes)) => {
            let fault = body_fault(stop, bytes, content_length);
            let progress = Progress {
                response: response_head,
                body_bytes: bytes,
                content_length,
            };
            return Err(fail(fault, Some(progress)));
        }
    };
    conn.done = closes_connection(&response_head);
    Ok(HttpExchange {
        request: head,
        response: response_head,
        time_to_first_byte,
        body: BodyStats {
            bytes,
            kept,
            transfer: body_started.elapsed(),
            decoded: decoder.map(BodyDecoder::finish),
        },
    })
}

/// Why an exchange failed, before the request and the elapsed time are attached.
struct Fault {
    failure: HttpFailure,
    message: String,
    timeout: Option<(Duration, TimeoutSetting)>,
}

/// How far the response had got when the body failed.
struct Progress {
    response: ResponseHead,
    body_bytes: u64,
    content_length: Option<u64>,
}

impl Fault {
    fn new(failure: HttpFailure, message: String) -> Self {
        Fault {
            failure,
            message,
            timeout: None,
        }
    }

    /// A read timeout: the report quotes the limit the user set.
    fn timed_out(failure: HttpFailure, message: String, limit: &Limit) -> Self {
        Fault {
            failure,
            message,
            timeout: Some((limit.reported, limit.setting)),
        }
    }

    fn into_error(
        self,
        request: &RequestHead,
        started: Instant,
        progress: Option<Progress>,
    ) -> HttpError {
        let (response, body_bytes, content_length) = match progress {
            Some(p) => (Some(p.response), p.body_bytes, p.content_length),
            None => (None, 0, None),
        };
        HttpError {
            failure: self.failure,
            request: request.clone(),
            response,
            body_bytes,
            content_length,
            elapsed: started.elapsed(),
            timeout: self.timeout,
            message: self.message,
        }
    }
}

/// Send the request and wait for the response head, with the read timeout between reads.
async fn await_response(
    sender: &mut Sender,
    request: hyper::Request<Empty<Bytes>>,
    watch: &ReadWatch,
    settings: &ProbeSettings,
    clock: &Clock,
) -> Result<hyper::Response<hyper::body::Incoming>, Fault> {
    match watch
        .within_gap(sender.send(request), settings.read_timeout, clock)
        .await
    {
        Err(limit) => {
            // Some bytes but no complete head is a stall, not silence.
            let msg = if watch.bytes() == 0 {
                format!("no response {}", limit.describe())
            } else {
                format!(
                    "the response head stalled: nothing more {}",
                    limit.describe()
                )
            };
            Err(Fault::timed_out(HttpFailure::ReadTimeout, msg, &limit))
        }
        Ok(Err(e)) => {
            if let Some((failure, msg)) = h2_cause(&e) {
                return Err(Fault::new(failure, msg));
            }
            let failure = classify_before_response(&e, &watch.first_bytes(), watch.io_error());
            // http.client's words, not hyper's chain ("error reading …: …").
            let text = match io_cause(&e).and_then(head_limit) {
                Some(limit) => limit.to_string(),
                // hyper's "canceled" hides the socket's own error, which said reset.
                None if failure == HttpFailure::ResetBeforeResponse && io_cause(&e).is_none() => {
                    "the connection was reset (ECONNRESET) before any response".into()
                }
                None => error_text(&e),
            };
            Err(Fault::new(failure, text))
        }
        Ok(Ok(r)) => Ok(r),
    }
}

fn response_head(response: &hyper::Response<hyper::body::Incoming>) -> ResponseHead {
    // The reason phrase the server sent, not hyper's standard one.
    let reason = response
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
        .unwrap_or_else(|| {
            response
                .status()
                .canonical_reason()
                .unwrap_or("")
                .to_string()
        });
    ResponseHead {
        version: format!("{:?}", response.version()),
        status: response.status().as_u16(),
        reason,
        headers: response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    }
}

/// Every Content-Encoding value joined with ", ", as urllib3's header dict reads them.
fn content_encoding(head: &ResponseHead) -> String {
    let values: Vec<&str> = head
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("content-encoding"))
        .map(|(_, v)| v.as_str())
        .collect();
    values.join(", ")
}

/// The Content-Length the server announced, when it is a number.
fn content_length(response: &hyper::Response<hyper::body::Incoming>) -> Option<u64> {
    response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// Why the body stopped before its end.
enum BodyStop {
    Stalled(Limit),
    Failed(hyper::Error),
}

/// Read the body to its end with the read timeout between reads: the byte count and the first
/// `max_body_bytes` bytes, or why it stopped and how many bytes came before.
async fn read_body(
    body: &mut hyper::body::Incoming,
    watch: &ReadWatch,
    settings: &ProbeSettings,
    clock: &Clock,
    decoder: &mut Option<BodyDecoder>,
) -> Result<(u64, Vec<u8>), (BodyStop, u64)> {
    let mut bytes: u64 = 0;
    let mut kept = Vec::new();
    loop {
        match watch
            .within_gap(body.frame(), settings.read_timeout, clock)
            .await
        {
            Err(limit) => return Err((BodyStop::Stalled(limit), bytes)),
            Ok(None) => return Ok((bytes, kept)),
            Ok(Some(Err(e))) => return Err((BodyStop::Failed(e), bytes)),
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    if let Some(decoder) = decoder.as_mut() {
                        decoder.feed(data);
                    }
                    bytes += data.len() as u64;
                    let room = settings.max_body_bytes.saturating_sub(kept.len());
                    kept.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
        }
    }
}

fn body_fault(stop: BodyStop, bytes: u64, content_length: Option<u64>) -> Fault {
    let e = match stop {
        BodyStop::Stalled(limit) => {
            let msg = format!(
                "body stalled after {bytes} bytes: nothing more {}",
                limit.describe()
            );
            return Fault::timed_out(HttpFailure::BodyReadTimeout, msg, &limit);
        }
        BodyStop::Failed(e) => e,
    };
    if let Some((failure, msg)) = h2_cause(&e) {
        return Fault::new(failure, format!("{msg} after {bytes} body bytes"));
    }
    let failure = classify_during_body(&e);
    let msg = match failure {
        HttpFailure::IncompleteBody => match content_length {
            Some(n) => format!("connection closed after {bytes} of {n} body bytes"),
            None => format!("connection closed after {bytes} body bytes, before the last chunk"),
        },
        _ => format!("{} after {bytes} body bytes", error_text(&e)),
    };
    Fault::new(failure, msg)
}

/// Whether the server will not take another request on this connection.
fn closes_connection(response: &ResponseHead) -> bool {
    let close = response.headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("connection") && v.to_ascii_lowercase().contains("close")
    });
    close || response.version == "HTTP/1.0"
}

pub(crate) struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Headers an HTTP/1.1 request carries that HTTP/2 does not allow (RFC 9113 8.2.2).
const H2_FORBIDDEN: [&str; 6] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

fn build_request(head: &RequestHead, h2: bool) -> Result<hyper::Request<Empty<Bytes>>, String> {
    // HTTP/2 carries the authority in the request URI (:authority), not in a Host header.
    let uri = if h2 {
        head.url.as_str()
    } else {
        head.target.as_str()
    };
    let mut builder = hyper::Request::builder()
        .method(head.method.as_str())
        .uri(uri);
    if h2 {
        builder = builder.version(http::Version::HTTP_2);
    }
    for (k, v) in &head.headers {
        // HTTP/2 has no Host header (:authority) and forbids connection-specific headers.
        if h2 && H2_FORBIDDEN.iter().any(|f| k.eq_ignore_ascii_case(f)) {
            continue;
        }
        builder = builder.header(k.as_str(), latin1(v));
    }
    builder
        .body(Empty::new())
        .map_err(|e| format!("cannot build the request: {e}"))
}

/// `Basic …` as requests' `_basic_auth_str` writes it: user and password in Latin-1.
pub(crate) fn basic_auth(user: &str, pass: &str) -> String {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(latin1(&format!("{user}:{pass}")));
    format!("Basic {token}")
}

/// A header value as http.client encodes it: Latin-1, one byte per character ("é" is 0xE9,
/// not UTF-8's C3 A9). A value past Latin-1 (requests raises UnicodeEncodeError) goes as UTF-8.
fn latin1(value: &str) -> Vec<u8> {
    let bytes: Option<Vec<u8>> = value
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect();
    bytes.unwrap_or_else(|| value.as_bytes().to_vec())
}

/// The HTTP/2 error in a hyper error's source chain: GOAWAY or a stream reset, with its code.
fn h2_cause(e: &hyper::Error) -> Option<(HttpFailure, String)> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<h2::Error>() {
            let reason = h
                .reason()
                .map(|r| format!("{r:?}"))
                .unwrap_or_else(|| "no code".into());
            // Sent by our own h2 library about the server's frames, not by the server.
            if h.is_library() {
                let frame = if h.is_go_away() {
                    "GOAWAY"
                } else {
                    "RST_STREAM"
                };
                return Some((
                    HttpFailure::H2ProtocolError,
                    format!(
                        "the server broke HTTP/2 and netpeel's HTTP/2 library sent {frame} ({reason}) itself"
                    ),
                ));
            }
            if h.is_go_away() {
                return Some((
                    HttpFailure::H2GoAway,
                    format!("the server sent GOAWAY ({reason})"),
                ));
            }
            if h.is_reset() {
                return Some((
                    HttpFailure::H2StreamReset,
                    format!("the server reset the stream ({reason})"),
                ));
            }
            return Some((HttpFailure::Other, format!("HTTP/2 error: {h}")));
        }
        source = s.source();
    }
    None
}

/// The innermost io::Error in a hyper error's source chain, if any.
fn io_cause(e: &hyper::Error) -> Option<&io::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return Some(io);
        }
        source = s.source();
    }
    None
}

fn classify_before_response(
    e: &hyper::Error,
    first_bytes: &[u8],
    socket_error: Option<io::ErrorKind>,
) -> HttpFailure {
    if e.is_parse() {
        // A reply that starts like HTTP but cannot be parsed is a bad head, not another protocol.
        return if first_bytes.starts_with(b"HTTP/") {
            HttpFailure::BadResponseHead
        } else {
            HttpFailure::NotHttp
        };
    }
    if let Some(io) = io_cause(e) {
        match head_limit(io) {
            Some(HeadLimit::ConflictingContentLength(_)) => {
                return HttpFailure::ConflictingContentLength;
            }
            Some(_) => return HttpFailure::BadResponseHead,
            None => {}
        }
        if let Some(alert) = tls_alert(io) {
            return HttpFailure::TlsAlert(alert);
        }
        return match io.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => HttpFailure::ResetBeforeResponse,
            io::ErrorKind::UnexpectedEof => HttpFailure::ClosedBeforeResponse,
            _ => HttpFailure::Other,
        };
    }
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
        // The connection task saw the socket fail; the request only hears "canceled".
        return match socket_error {
            Some(
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe,
            ) => HttpFailure::ResetBeforeResponse,
            _ => HttpFailure::ClosedBeforeResponse,
        };
    }
    HttpFailure::Other
}

fn classify_during_body(e: &hyper::Error) -> HttpFailure {
    if let Some(io) = io_cause(e) {
        // hyper's chunked decoder says "Invalid chunk size line: …" (an io::Error, no type).
        if matches!(
            io.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
        ) && io.to_string().to_ascii_lowercase().contains("chunk size")
        {
            return HttpFailure::InvalidChunk;
        }
        return match io.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => HttpFailure::ResetDuringBody,
            io::ErrorKind::UnexpectedEof => HttpFailure::IncompleteBody,
            _ => HttpFailure::Other,
        };
    }
    if e.is_incomplete_message() {
        return HttpFailure::IncompleteBody;
    }
    if e.is_parse() {
        return HttpFailure::NotHttp;
    }
    HttpFailure::Other
}

/// The TLS alert a read received, if that is why it failed.
fn tls_alert(io: &io::Error) -> Option<rustls::AlertDescription> {
    match io.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(alert) => Some(*alert),
        _ => None,
    }
}

/// The http.client limit a read broke, if that is why it failed.
fn head_limit(io: &io::Error) -> Option<HeadLimit> {
    io.get_ref()?.downcast_ref::<HeadLimit>().copied()
}

/// hyper's Display is terse ("error reading a body from connection"); add the cause.
fn error_text(e: &hyper::Error) -> String {
    let mut text = e.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    let mut depth = 0;
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
        depth += 1;
        if depth > 4 {
            break;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::proxy_select::ProxyScheme;

    #[test]
    fn proxy_url_credentials_replace_a_given_proxy_authorization() {
        let target = super::super::target::parse_target("http://127.0.0.1:1/")
            .unwrap_or_else(|e| panic!("{e:?}"));
        let mut settings = ProbeSettings::new("http://127.0.0.1:1/");
        settings.headers = vec![("proxy-authorization".into(), "Basic XX".into())];
        let proxy = ProxyUrl {
            scheme: ProxyScheme::Http,
            host: "127.0.0.1".into(),
            port: 3128,
            username: Some("u".into()),
            password: Some("p".into()),
            display: "http://u:***@127.0.0.1:3128".into(),
        };
        let head = build_request_head(&target, &settings, Some(&proxy));
        let sent: Vec<&str> = head
            .headers
            .iter()
            .filter(|(k, _)| k == "Proxy-Authorization")
            .map(|(_, v)| v.as_str())
            .collect();
        // base64("u:p")
        assert_eq!(sent, ["Basic dTpw"]);
        assert_eq!(latin1("café"), b"caf\xe9");
        // base64(b"us\xe9r:p\xe9"), as requests sends it
        assert_eq!(basic_auth("usér", "pé"), "Basic dXPpcjpw6Q==");
        assert_eq!(latin1("\u{2603}"), "\u{2603}".as_bytes());
    }

    #[test]
    fn url_credentials_replace_a_given_authorization_in_place() {
        let url = "http://u:p@127.0.0.1:1/";
        let target = super::super::target::parse_target(url).unwrap_or_else(|e| panic!("{e:?}"));
        let mut settings = ProbeSettings::new(url);
        settings.headers = vec![
            ("Authorization".into(), "Bearer tok".into()),
            ("X-A".into(), "1".into()),
        ];
        let head = build_request_head(&target, &settings, None);
        let names: Vec<&str> = head.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names[names.len() - 2..], ["Authorization", "X-A"]);
        let auth: Vec<&str> = head
            .headers
            .iter()
            .filter(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(auth, ["Basic dTpw"]);
    }
}
