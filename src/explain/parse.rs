//! Reading a pasted error: pure functions from text to [`ParsedError`], no network, no
//! terminal. The paste is hostile input: it is bounded by the caller ([`MAX_INPUT_BYTES`]), every
//! pattern here is a `regex` (linear time), and nothing found is trusted beyond its shape.
//!
//! Three steps:
//! 1. [`normalize`] undoes what logging did to the text: JSON escaping (a log field holding the
//!    traceback), timestamp prefixes on every line, and wrapping (hard at a terminal's width, or
//!    at spaces);
//! 2. the exception chain and the raised exception's message, from a traceback's exception lines
//!    or from a one-line `module.Name: message`, and for curl its `curl: (N) …` line;
//! 3. the facts in it: target, proxy, OS or SSL cause, status, timeouts, and the traceback frames
//!    that tell a stalled handshake from a stalled response (`do_handshake`) or a proxy's answer
//!    from the server's (`_tunnel`). `classify` maps the facts to a verdict `Kind`.

use std::sync::LazyLock;

use regex::Regex;

/// Most bytes of a paste that are read; the rest is dropped and the report says so.
pub(crate) const MAX_INPUT_BYTES: usize = 1024 * 1024;

pub(crate) use crate::report::model::Library;

/// Where the failed request went, as far as the text says. Values are as pasted (unmasked):
/// the probe needs them; the report masks them.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Target {
    pub(crate) url: Option<String>,
    pub(crate) scheme: Option<String>,
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
    /// Path and query.
    pub(crate) path: Option<String>,
}

/// The proxy the text names.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ProxyRef {
    pub(crate) url: Option<String>,
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
}

/// The operating system's (or OpenSSL's) own words at the bottom of the chain.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OsError {
    pub(crate) errno: Option<i64>,
    pub(crate) message: String,
}

/// Timeouts the text states, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Timeouts {
    pub(crate) connect: Option<f64>,
    pub(crate) read: Option<f64>,
    pub(crate) total: Option<f64>,
}

/// What the traceback's frames and the wording say beyond the exception names.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Clues {
    /// A frame in `_tunnel`: the failure was the proxy's answer to CONNECT.
    pub(crate) tunnel: bool,
    /// A frame in `do_handshake`: the failure was during the TLS handshake.
    pub(crate) handshake: bool,
    /// "Max retries exceeded": urllib3's words for any connection failure, retries or not.
    pub(crate) max_retries: bool,
    /// A SOCKS proxy (`SOCKSHTTPConnectionPool`, PySocks' errors).
    pub(crate) socks: bool,
    /// PySocks failed after the proxy answered (`GeneralProxyError: Socket error`), not while
    /// connecting to it: with a name failure, the target's name failed here (socks5://).
    pub(crate) socks_negotiating: bool,
    /// aiohttp's frames: in its connector (connecting), or in the response's `start` (waiting
    /// for the head). A bare `TimeoutError` (ClientTimeout(total=…)) says which only by these.
    pub(crate) aio_connecting: bool,
    pub(crate) aio_reading: bool,
    /// A frame in `putheader`: http.client encoding a header (as Latin-1) when it failed.
    pub(crate) putheader: bool,
}

/// Everything read from a paste.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ParsedError {
    pub(crate) library: Library,
    /// Exception names, the raised one first, then what caused it.
    pub(crate) chain: Vec<String>,
    /// The raised exception's message (for curl, its error line).
    pub(crate) message: String,
    pub(crate) target: Target,
    pub(crate) proxy: Option<ProxyRef>,
    pub(crate) os_error: Option<OsError>,
    pub(crate) status: Option<u16>,
    pub(crate) timeouts: Timeouts,
    pub(crate) curl_exit: Option<u8>,
    pub(crate) clues: Clues,
}

fn re(pattern: &str) -> Regex {
    // The patterns are constants of this file; a test compiles every one of them.
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad pattern {pattern}: {e}"))
}

macro_rules! pattern {
    ($name:ident, $re:literal) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| re($re));
    };
}

pattern!(
    TIMESTAMP,
    r"^\s*\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?\s*(?:(?:CRITICAL|FATAL|ERROR|ERR|WARNING|WARN|INFO|DEBUG|TRACE)\b:?\s*)?(?:\[[^\]\n]{0,80}\]\s?)?"
);
pattern!(
    EXC_LINE,
    r"^((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)(?::\s(.*)|:?$)"
);
pattern!(
    LIB_EXC,
    r"\b((?:requests|urllib3|httpx|httpcore|aiohttp)(?:\.\w+)*\.[A-Z]\w*)(?::\s|$)"
);
pattern!(
    AIOHTTP_BARE,
    r"\b(Client(?:Connector(?:Certificate|SSL|DNS)?|Proxy(?:Connection)?|Http(?:Proxy)?|OS|Response|SSL|Payload|Connection)?Error|Server(?:Disconnected|Timeout|Fingerprint)Error|ClientConnectionResetError|ConnectionTimeoutError|SocketTimeoutError)\b:?\s"
);
pattern!(
    NESTED_NAME,
    r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception|Disconnected|StatusLine|Read|Length|Timeout|TooLong))\("
);
pattern!(CURL_LINE, r"(?m)^.*?curl: \((\d{1,3})\) (.*)$");
pattern!(CURL_CMD, r"(?m)^.*?\bcurl\s+(.*)$");
pattern!(
    POOL,
    r"(SOCKS)?HTTP(S)?ConnectionPool\(host='([^']*)', port=(\d+)\)"
);
pattern!(
    CONN_OBJ,
    r"(SOCKS)?HTTP(S)?Connection\(host='([^']*)', port=(\d+)\)"
);
pattern!(
    RETRY_URL,
    r"Max retries exceeded with url: (.*?) \(Caused by "
);
pattern!(FOR_URL, r"for url:? '?([a-zA-Z][a-zA-Z0-9+.-]*://[^\s']+)");
pattern!(
    QUOTED_URL,
    r"(?:Invalid URL|adapters were found for|url=(?:URL\()?) ?'([^'\s]+)'"
);
pattern!(PARSE_URL, r"Failed to parse: '?([^\s']+)");
pattern!(ANY_URL, r"\b(https?://[^\s'\x22<>()\[\]]+)");
pattern!(
    AIO_HOST,
    r"(?:Cannot connect to host|Connection timeout to host) (\[[^\]]+\]|[^\s:\[]+):(\d+)(?: ssl:(\S+))?"
);
pattern!(
    CURL_HOST_PORT,
    r"(?:Failed to connect to|connect to) (\S+) port (\d+)"
);
pattern!(CURL_RESOLVE, r"Could not resolve (host|proxy): (\S+)");
pattern!(CURL_NAME, r"target host name '([^']+)'");
pattern!(ERRNO, r"\[(?:Errno|WinError) (-?\d+)\] ([^'\x22\]\)]+)");
pattern!(
    ERRNO_TUPLE,
    r"(\w+Error)\((-?\d+), ['\x22]([^'\x22]+)['\x22]\)"
);
pattern!(
    SSL_TEXT,
    r"(\[SSL(?:: [A-Z0-9_]+)?\] [^'\x22()]*?)\s*(?:\(_ssl\.c:\d+\)|['\x22)]|$)"
);
pattern!(
    CURL_SSL,
    r"(SSL certificate problem: [^\n]+|SSL: [^\n]+|OpenSSL/[\d.]+: [^\n]+)"
);
pattern!(REMOTE_DISCONNECTED, r"RemoteDisconnected\('([^']*)'\)");
pattern!(CONNECT_TIMEOUT, r"connect timeout=([\d.]+)");
pattern!(READ_TIMEOUT, r"read timeout=([\d.]+)");
pattern!(
    STATUS,
    r"\b([1-5]\d\d) (?:Client|Server) Error\b|too many (\d{3}) error responses|returned error: (\d{3})|\b([1-5]\d\d), message=|HTTP/[\d.]+ ([1-5]\d\d) |Server error '(\d{3})|Client error '(\d{3})|Tunnel connection failed: (\d{3})|response (\d{3})\b"
);
pattern!(
    SOCKS_PROXY,
    r"Error connecting to SOCKS\d? proxy (\[[^\]]+\]|[^\s:]+):(\d+)"
);
pattern!(
    PROXY_URL_IN_TEXT,
    r"(?:proxy|Proxy|PROXY)[^\n]{0,40}?\b((?:https?|socks5h?|socks4a?)://[^\s'\x22<>()]+)"
);

/// Undo what logging did to the text (JSON escaping, timestamp prefixes, wrapping).
pub(crate) fn normalize(text: &str) -> String {
    normalize_as(text, Wrap::Detect)
}

/// How hard wrapping is undone: where the text shows it, at its longest lines regardless (a
/// cut the text does not show), or not at all (a word wrap that looks like a cut).
#[derive(Clone, Copy, PartialEq)]
enum Wrap {
    Detect,
    AtLongestLines,
    Never,
}

fn normalize_as(text: &str, wrap: Wrap) -> String {
    let text = text.replace("\r\n", "\n");
    let text = unjson(&text);
    let stripped: Vec<&str> = text
        .lines()
        .map(|l| match TIMESTAMP.find(l) {
            Some(m) if m.start() == 0 && m.end() > 0 => &l[m.end()..],
            _ => l,
        })
        .collect();
    unwrap_hard(&stripped, wrap)
}

/// A log whose lines are JSON (a record per line, or one document) holds the text in string
/// fields: keep every string, one per line. Text with escaped line breaks but no JSON around
/// them (a field copied alone) is unescaped.
fn unjson(text: &str) -> String {
    let mut out = Vec::new();
    let mut any_json = false;
    for line in text.lines() {
        let t = line.trim();
        let json = (t.starts_with('{') || t.starts_with('"') || t.starts_with('['))
            .then(|| serde_json::from_str::<serde_json::Value>(t).ok())
            .flatten();
        match json {
            Some(v) if !v.is_number() => {
                any_json = true;
                collect_strings(&v, &mut out);
            }
            _ => out.push(line.to_string()),
        }
    }
    let joined = out.join("\n");
    let escaped_breaks = joined.matches("\\n").count();
    if !any_json && escaped_breaks >= 2 && escaped_breaks > joined.matches('\n').count() {
        return unescape(&joined);
    }
    joined
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        serde_json::Value::Object(map) => map.values().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

/// JSON's (and Python repr's) backslash escapes for line breaks, tabs and quotes.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => {}
            Some(q @ ('"' | '\'' | '\\' | '/')) => out.push(q),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Terminal widths a copy from a terminal is cut at.
const TERMINAL_WIDTHS: &[usize] = &[80, 100, 120, 132, 160, 200, 240];

/// Narrowest width a hard-wrapped paste is taken to be cut at.
const MIN_WRAP_WIDTH: usize = 40;

/// Lines cut at a terminal's or a logger's width: when the longest lines are all exactly a
/// terminal's width, or several lines are exactly as long as the longest (a cut at 57, 64 or
/// 72 columns), each of them goes on with the next one, without a space (the cut falls inside
/// a word as often as not). A traceback's own longest line is rarely repeated to the column.
/// [`Wrap::AtLongestLines`] joins them whatever their count: a one-line error cut once.
fn unwrap_hard(lines: &[&str], wrap: Wrap) -> String {
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let full = lines.iter().filter(|l| l.chars().count() == width).count();
    let many = full >= 2 && full * 4 >= lines.len();
    // Every line as long as the longest: the paste's length was a multiple of the width.
    let wrapped = width >= MIN_WRAP_WIDTH
        && (lines.len() > full || full >= 2)
        && wrap != Wrap::Never
        && (TERMINAL_WIDTHS.contains(&width) || many || wrap == Wrap::AtLongestLines);
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        let goes_on = wrapped
            && line.chars().count() == width
            && lines
                .get(i + 1)
                .is_some_and(|next| !starts_traceback_line(next));
        if !goes_on {
            out.push('\n');
        }
    }
    out
}

/// A line a traceback (or curl) starts on its own, never the rest of a cut one.
fn starts_traceback_line(line: &str) -> bool {
    line.trim().is_empty()
        || line.starts_with("curl: (")
        || line.starts_with("    ")
        || line.starts_with("  File \"")
        || line.starts_with("Traceback (")
        || line.starts_with("During handling")
        || line.starts_with("The above exception")
}

/// Read a paste. None when it holds no error netpeel recognises.
pub(crate) fn parse(text: &str) -> Option<ParsedError> {
    // A paste cut once at an unusual width does not show its wrapping, and one word-wrapped
    // may show lines as long as the longest by chance: besides the reading that undoes what
    // the text shows, it is read with its longest lines joined, and with no line joined.
    let detected = normalize(text);
    let joined = normalize_as(text, Wrap::AtLongestLines);
    let unjoined = normalize_as(text, Wrap::Never);
    let first = parse_normalized_text(&detected);
    if joined == detected && unjoined == detected {
        return first;
    }
    let second = (joined != detected)
        .then(|| parse_normalized_text(&joined))
        .flatten();
    let third = (unjoined != detected)
        .then(|| parse_normalized_text(&unjoined))
        .flatten();
    match (first, second) {
        (Some(first), Some(second)) if first.library == second.library => {
            Some(reconciled(first, second, third))
        }
        (None, Some(second)) => Some(second),
        (None, None) => third,
        (Some(first), _) if says_little(&first) => {
            Some(third.filter(|t| !says_little(t)).unwrap_or(first))
        }
        (first, _) => first,
    }
}

/// The reading that says most, with the facts the two hard-wrap readings give differently
/// left out: they depend on a line break nobody can tell (a cut, or the line's end). The
/// unjoined reading gives the kind only when both others say little (a word wrap taken for a
/// cut joins words: "verifyfailed").
fn reconciled(
    first: ParsedError,
    second: ParsedError,
    unjoined: Option<ParsedError>,
) -> ParsedError {
    if says_little(&first)
        && says_little(&second)
        && let Some(unjoined) = unjoined.filter(|u| !says_little(u))
    {
        return unjoined;
    }
    let joined_says_more = says_little(&first) && !says_little(&second);
    let joined_names_more = first.target.host.is_none() && second.target.host.is_some();
    let (mut kept, other) = if joined_says_more || joined_names_more {
        (second, first)
    } else {
        (first, second)
    };
    let (t, o) = (&mut kept.target, &other.target);
    only_if_agreed(&mut t.url, &o.url);
    only_if_agreed(&mut t.scheme, &o.scheme);
    only_if_agreed(&mut t.host, &o.host);
    only_if_agreed(&mut t.port, &o.port);
    only_if_agreed(&mut t.path, &o.path);
    only_if_agreed(&mut kept.proxy, &other.proxy);
    only_if_agreed(&mut kept.timeouts.connect, &other.timeouts.connect);
    only_if_agreed(&mut kept.timeouts.read, &other.timeouts.read);
    kept
}

/// A kind that says only "something else at this layer" (or none): a phrase a cut broke
/// ("[Co" / "nnect call failed") reads so, the right reading as what it is.
fn says_little(p: &ParsedError) -> bool {
    use crate::engine::verdict::Kind;
    super::classify::kind(p).is_none_or(|k| {
        matches!(
            k,
            Kind::TcpOther
                | Kind::TlsOther
                | Kind::HttpOther
                | Kind::SocksOther
                | Kind::DnsOther
                | Kind::CertInvalid
                | Kind::ProxyUnreachable
        )
    })
}

fn only_if_agreed<T: PartialEq>(kept: &mut Option<T>, other: &Option<T>) {
    if other.is_some() && kept.is_some() && kept != other {
        *kept = None;
    }
}

fn parse_normalized_text(norm: &str) -> Option<ParsedError> {
    // Separate tracebacks (a log with two failures): the last client error is read alone, so
    // that no fact of one (its URL, errno, timeout) is mixed into the other.
    if curl_error(norm).is_none()
        && let Some(parsed) = separate_tracebacks(norm)
            .into_iter()
            .rev()
            .find_map(parse_normalized)
    {
        return Some(parsed);
    }
    parse_normalized(norm)
}

/// The paste cut before each traceback that is not chained to the one above it (by "During
/// handling…" or "The above exception…"); empty when there is only one.
fn separate_tracebacks(norm: &str) -> Vec<&str> {
    let mut cuts = Vec::new();
    let mut previous = "";
    let mut offset = 0;
    for line in norm.split_inclusive('\n') {
        let chained =
            previous.starts_with("During handling") || previous.starts_with("The above exception");
        if line.starts_with("Traceback (") && !chained && offset > 0 {
            cuts.push(offset);
        }
        if !line.trim().is_empty() {
            previous = line.trim();
        }
        offset += line.len();
    }
    if cuts.is_empty() {
        return Vec::new();
    }
    let mut parts = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts {
        parts.push(&norm[start..cut]);
        start = cut;
    }
    parts.push(&norm[start..]);
    parts
}

/// [`parse`] of text already normalised.
fn parse_normalized(norm: &str) -> Option<ParsedError> {
    // Word wrapping (and the hard unwrapping) leave line breaks inside messages: the facts are
    // looked for in the text as one line.
    let flat = norm.replace('\n', " ");
    let (library, chain, message) = match curl_error(norm) {
        Some(c) => c,
        None => python_error(norm, &flat)?,
    };
    let mut parsed = ParsedError {
        library,
        chain,
        message,
        target: Target::default(),
        proxy: None,
        os_error: None,
        status: None,
        timeouts: Timeouts::default(),
        curl_exit: None,
        clues: clues(&flat),
    };
    if library == Library::Curl {
        curl_facts(norm, &mut parsed);
    } else {
        python_facts(norm, &flat, &mut parsed);
    }
    parsed.os_error = os_error(&parsed.message).or_else(|| os_error(&flat));
    parsed.status = status(&parsed.message).or_else(|| status(&flat));
    Some(parsed)
}

fn clues(flat: &str) -> Clues {
    Clues {
        tunnel: flat.contains("in _tunnel") || flat.contains("Tunnel connection failed"),
        handshake: flat.contains("in do_handshake") || flat.contains("_ssl_wrap_socket"),
        max_retries: flat.contains("Max retries exceeded"),
        socks: flat.contains("SOCKSHTTP")
            || flat.contains("SOCKSConnection")
            || flat.contains("socks.")
            || flat.contains("SOCKS5"),
        socks_negotiating: flat.contains("GeneralProxyError: Socket error"),
        aio_connecting: flat.contains("in _create_direct_connection")
            || flat.contains("in _wrap_create_connection"),
        aio_reading: flat.contains("client_reqrep.py") && flat.contains(", in start"),
        putheader: flat.contains(", in putheader"),
    }
}

/// curl's `curl: (N) message` line; the message goes on over the lines a word wrap made, up
/// to a blank line or curl's own next line ("More details here: …").
fn curl_error(norm: &str) -> Option<(Library, Vec<String>, String)> {
    let caps = CURL_LINE.captures(norm)?;
    let exit = caps.get(1)?.as_str();
    let mut message = caps.get(2)?.as_str().trim().to_string();
    let after = caps.get(0).map_or("", |m| &norm[m.end()..]);
    for line in after.lines().skip(1).take(4) {
        let t = line.trim();
        if t.is_empty() || t.starts_with("More details") || t.contains("curl: (") {
            break;
        }
        message.push(' ');
        message.push_str(t);
    }
    Some((Library::Curl, vec![format!("curl exit {exit}")], message))
}

/// Python: the exception lines of a traceback (innermost first, so reversed), else a one-line
/// `module.Name: message`, else a message that is recognisably requests' or aiohttp's.
fn python_error(norm: &str, flat: &str) -> Option<(Library, Vec<String>, String)> {
    let lines: Vec<&str> = norm.lines().collect();
    let headers: Vec<(String, String)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let caps = EXC_LINE.captures(l)?;
            let name = caps.get(1)?.as_str();
            looks_like_exception(name).then(|| {
                let first = caps.get(2).map(|m| m.as_str()).unwrap_or("");
                (name.to_string(), message_lines(first, &lines[i + 1..]))
            })
        })
        .collect();
    let raised = headers
        .iter()
        .rev()
        .find(|(n, _)| library_of(n).is_some())
        .or(headers.last());
    let (outer, message) = match raised {
        Some((n, m)) => (n.clone(), m.clone()),
        None => one_line(flat)?,
    };
    // An error from no client netpeel knows (a bare socket.gaierror, an app's own exception)
    // is not attributed to one.
    let library = library_of(&outer).or_else(|| library_by_wording(flat))?;
    let mut chain: Vec<String> = if headers.len() > 1 {
        headers.iter().rev().map(|(n, _)| n.clone()).collect()
    } else {
        nested_chain(&outer, &message)
    };
    chain.dedup();
    // A traceback printed twice (a logger and the default hook) lists each name twice.
    let mut seen = std::collections::HashSet::new();
    chain.retain(|n| seen.insert(n.clone()));
    chain.truncate(16);
    Some((library, chain, message))
}

/// An exception's message with the lines a word-wrapping logger broke it into: the following
/// lines up to a blank line, a traceback's own lines, or the next exception line.
fn message_lines(first: &str, rest: &[&str]) -> String {
    let mut message = first.to_string();
    for line in rest.iter().take(64) {
        let t = line.trim();
        let ends = t.is_empty()
            || line.starts_with(' ')
            || t.starts_with("Traceback (")
            || t.starts_with("During handling")
            || t.starts_with("The above exception")
            || EXC_LINE
                .captures(line)
                .and_then(|c| c.get(1))
                .is_some_and(|n| looks_like_exception(n.as_str()));
        if ends || message.len() > 8192 {
            break;
        }
        message.push(' ');
        message.push_str(t);
    }
    message
}

/// A one-line error: the first `library.Name: message`, a bare aiohttp name, or (with no name)
/// a message in urllib3's words.
fn one_line(flat: &str) -> Option<(String, String)> {
    if let Some(caps) = LIB_EXC.captures(flat) {
        let name = caps.get(1)?;
        return Some((name.as_str().to_string(), rest_of(flat, name.end())));
    }
    if let Some(caps) = AIOHTTP_BARE.captures(flat) {
        let name = caps.get(1)?;
        return Some((name.as_str().to_string(), rest_of(flat, name.end())));
    }
    let urllib3_words = POOL.is_match(flat)
        || flat.contains("Connection aborted.")
        || flat.contains("Connection broken:")
        || flat.contains(MISSING_CA_BUNDLE);
    urllib3_words.then(|| (String::new(), flat.to_string()))
}

fn rest_of(flat: &str, end: usize) -> String {
    flat[end..]
        .trim_start_matches(':')
        .trim()
        .chars()
        .take(8192)
        .collect()
}

fn looks_like_exception(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    let known_bare = [
        "gaierror",
        "timeout",
        "herror",
        "RemoteDisconnected",
        "BadStatusLine",
        "IncompleteRead",
        "InvalidChunkLength",
        "TooManyRedirects",
        "MissingSchema",
        "InvalidSchema",
        "InvalidURL",
        "ConnectTimeout",
        "ReadTimeout",
        "RetryError",
        "LineTooLong",
    ];
    // A bare "Error" or "Exception" starts a wrapped line ("503 Server" / "Error: …"), not an
    // exception's.
    let bare_word = last == "Error" || last == "Exception";
    let named = !bare_word && (last.ends_with("Error") || last.ends_with("Exception"))
        || known_bare.contains(&last)
        || (name.contains('.') && library_of(name).is_some());
    named && last.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && name.len() <= 120
}

fn library_of(name: &str) -> Option<Library> {
    let first = name.split('.').next().unwrap_or("");
    match first {
        "requests" => Some(Library::Requests),
        "urllib3" => Some(Library::Urllib3),
        "httpx" | "httpcore" => Some(Library::Httpx),
        "aiohttp" => Some(Library::Aiohttp),
        _ if AIOHTTP_BARE.is_match(&format!("{name}: ")) && !name.contains('.') => {
            Some(Library::Aiohttp)
        }
        _ => None,
    }
}

/// requests' own OSError (adapters.py `cert_verify`) for a CA bundle that is not there: a
/// builtin exception, so only its words say it is requests'.
const MISSING_CA_BUNDLE: &str = "Could not find a suitable TLS CA certificate bundle";

fn library_by_wording(flat: &str) -> Option<Library> {
    if flat.contains("Cannot connect to host") || flat.contains("aiohttp") {
        Some(Library::Aiohttp)
    } else if flat.contains("httpx") || flat.contains("httpcore") {
        Some(Library::Httpx)
    } else if POOL.is_match(flat)
        || flat.contains("Connection aborted.")
        || flat.contains(MISSING_CA_BUNDLE)
        // A builtin exception raised under requests' frames (a header it could not encode).
        || flat.contains("/requests/sessions.py\"")
    {
        Some(Library::Requests)
    } else {
        None
    }
}

/// The chain of a one-line message: the raised name, then the constructors nested in its
/// message, with the urllib3 steps its wording implies.
fn nested_chain(outer: &str, message: &str) -> Vec<String> {
    let mut chain = Vec::new();
    if !outer.is_empty() {
        chain.push(outer.to_string());
    }
    if message.contains("Max retries exceeded") {
        chain.push("urllib3.exceptions.MaxRetryError".into());
    }
    if message.starts_with("('Connection aborted.'") || message.contains("Connection broken:") {
        chain.push("urllib3.exceptions.ProtocolError".into());
    }
    if message.contains("Read timed out.") {
        chain.push("urllib3.exceptions.ReadTimeoutError".into());
    }
    let caused_at = message.find("Caused by ").map(|i| i + "Caused by ".len());
    for caps in NESTED_NAME.captures_iter(message) {
        let Some(m) = caps.get(1) else { continue };
        let name = m.as_str();
        if name.starts_with("HTTP") && name.contains("Connection") {
            continue;
        }
        let urllib3_own = [
            "MaxRetryError",
            "NewConnectionError",
            "NameResolutionError",
            "ConnectTimeoutError",
            "ReadTimeoutError",
            "ProtocolError",
            "ResponseError",
            "LocationParseError",
            "DecodeError",
        ];
        let first_cause = Some(m.start()) == caused_at;
        if urllib3_own.contains(&name)
            || (first_cause && (name == "SSLError" || name == "ProxyError"))
        {
            chain.push(format!("urllib3.exceptions.{name}"));
        } else {
            chain.push(name.to_string());
        }
    }
    chain
}

/// Facts from requests/urllib3, httpx and aiohttp wording.
fn python_facts(norm: &str, flat: &str, p: &mut ParsedError) {
    let msg = p.message.clone();
    let both = [msg.as_str(), flat];
    if let Some(caps) = both.iter().find_map(|t| POOL.captures(t)) {
        let https = caps.get(2).is_some();
        p.target.scheme = Some(if https { "https" } else { "http" }.into());
        // A host with a space in it was cut by a wrap the text does not show: not named.
        p.target.host = caps
            .get(3)
            .map(|m| m.as_str().to_string())
            .filter(|h| !h.contains(char::is_whitespace));
        p.target.port = caps.get(4).and_then(|m| m.as_str().parse().ok());
    }
    let mut forward_proxy = None;
    if let Some(caps) = RETRY_URL.captures(flat) {
        // urllib3 quotes a space in a URL (%20): a space here is a wrap's, and the path unsure.
        let retried = caps
            .get(1)
            .map(|m| m.as_str().to_string())
            .filter(|path| !path.contains(char::is_whitespace));
        match retried {
            // An absolute URL: the request went to a forwarding proxy (http:// through
            // http_proxy), whose pool is the one named; the URL is the target.
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                let pool = std::mem::take(&mut p.target);
                forward_proxy = Some(ProxyRef {
                    url: None,
                    host: pool.host,
                    port: pool.port,
                });
                fill_from_url(&mut p.target, &url);
                forget_if_cut(norm, &url, &mut p.target);
            }
            path => p.target.path = path,
        }
    }
    let full_url = [&FOR_URL, &QUOTED_URL, &PARSE_URL]
        .iter()
        .find_map(|re| both.iter().find_map(|t| re.captures(t)))
        .and_then(|c| c.get(1).map(|m| m.as_str().to_string()));
    if let Some(url) = full_url {
        fill_from_url(&mut p.target, &url);
        forget_if_cut(norm, &url, &mut p.target);
    }
    if let Some(caps) = AIO_HOST.captures(flat) {
        aiohttp_target(&caps, &mut p.target);
        // "Cannot connect to host h:PORT ssl:…": a port that ends a line may be cut.
        if let (Some(all), Some(port)) = (caps.get(0), caps.get(2))
            && maybe_cut(norm, &flat[all.start()..port.end()])
        {
            p.target.host = None;
            p.target.port = None;
        }
    }
    if p.target.host.is_none()
        && p.target.url.is_none()
        && let Some(caps) = ANY_URL.captures(&msg)
        && let Some(m) = caps.get(1)
    {
        fill_from_url(&mut p.target, m.as_str());
        forget_if_cut(norm, m.as_str(), &mut p.target);
    }
    p.proxy = python_proxy(flat, p).or(forward_proxy);
    if aiohttp_proxy_failure(p) {
        // aiohttp's proxy errors name the proxy where its other errors name the server.
        let named = std::mem::take(&mut p.target);
        p.proxy = Some(ProxyRef {
            url: named.url,
            host: named.host,
            port: named.port,
        });
    }
    p.timeouts.connect = number(&CONNECT_TIMEOUT, flat);
    p.timeouts.read = number(&READ_TIMEOUT, flat);
}

/// `ClientProxyConnectionError: Cannot connect to host PROXY:PORT …` and
/// `ClientHttpProxyError: 407, message=…, url='PROXY'`.
fn aiohttp_proxy_failure(p: &ParsedError) -> bool {
    p.library == Library::Aiohttp
        && p.chain.iter().any(|n| {
            n.ends_with("ClientProxyConnectionError") || n.ends_with("ClientHttpProxyError")
        })
}

/// `found` (a URL, or `host:port`) ends a line long enough to be cut at, and the next line goes
/// on without a space: a wrap the text does not show may have cut it there.
fn maybe_cut(norm: &str, found: &str) -> bool {
    !found.is_empty()
        && norm
            .match_indices(found)
            .take(16)
            .any(|(at, _)| cut_at_line_end(norm, at + found.len()))
}

fn cut_at_line_end(norm: &str, end: usize) -> bool {
    if norm.as_bytes().get(end) != Some(&b'\n') {
        return false;
    }
    let line_start = norm[..end].rfind('\n').map_or(0, |i| i + 1);
    let next = norm[end + 1..].lines().next().unwrap_or("");
    let continues_a_url = next
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || "/.-_~%?&=#:".contains(c));
    norm[line_start..end].chars().count() >= MIN_WRAP_WIDTH
        && continues_a_url
        && !starts_traceback_line(next)
}

/// A URL that may be cut (see [`maybe_cut`]) gives no path; cut before its path, no host or
/// port either: less is said, nothing wrong.
fn forget_if_cut(norm: &str, url: &str, t: &mut Target) {
    if !maybe_cut(norm, url) {
        return;
    }
    t.url = None;
    t.path = None;
    let authority_whole = url
        .split_once("://")
        .is_some_and(|(_, rest)| rest.contains('/'));
    if !authority_whole {
        t.host = None;
        t.port = None;
    }
}

fn aiohttp_target(caps: &regex::Captures<'_>, t: &mut Target) {
    t.host = caps
        .get(1)
        .map(|m| m.as_str().trim_matches(['[', ']']).to_string());
    t.port = caps.get(2).and_then(|m| m.as_str().parse().ok());
    let ssl = caps.get(3).map(|m| m.as_str()).unwrap_or("");
    // "ssl:default" is printed for http:// URLs too (aiohttp's default SSL setting, used only
    // for https): then only a default port tells the scheme. "ssl:True" or a context is TLS.
    let scheme = match ssl {
        "False" | "None" => Some("http"),
        "True" => Some("https"),
        _ if ssl.starts_with("<ssl.") || ssl.starts_with("SSLContext") => Some("https"),
        // "default", or a word a wrap cut: only a default port tells.
        _ => match t.port {
            Some(80) => Some("http"),
            Some(443) => Some("https"),
            _ => None,
        },
    };
    if t.scheme.is_none() {
        t.scheme = scheme.map(str::to_string);
    }
}

/// The proxy: urllib3 names its host in the connection that failed (`ProxyError('Unable to
/// connect to proxy', NewConnectionError("HTTPSConnection(host=…, port=…)…"))`, or the SOCKS
/// connection); otherwise a proxy URL quoted near the word "proxy".
fn python_proxy(flat: &str, p: &ParsedError) -> Option<ProxyRef> {
    if flat.contains("Unable to connect to proxy") || p.clues.socks {
        let from_conn = CONN_OBJ.captures_iter(flat).find_map(|c| {
            let host = c.get(3)?.as_str().to_string();
            let port: u16 = c.get(4)?.as_str().parse().ok()?;
            // The target's own connection names the target; the proxy's differs.
            let is_target = Some(&host) == p.target.host.as_ref() && Some(port) == p.target.port;
            (!is_target).then_some(ProxyRef {
                url: None,
                host: Some(host),
                port: Some(port),
            })
        });
        if from_conn.is_some() {
            return from_conn;
        }
    }
    if let Some(c) = SOCKS_PROXY.captures(flat) {
        return Some(ProxyRef {
            url: None,
            host: c
                .get(1)
                .map(|m| m.as_str().trim_matches(['[', ']']).to_string()),
            port: c.get(2).and_then(|m| m.as_str().parse().ok()),
        });
    }
    // urllib3 links its documentation after "proxy" ("…change your proxy URL to be HTTP. See:
    // https://urllib3.readthedocs.io/…"): no proxy of the user's.
    let url = PROXY_URL_IN_TEXT
        .captures_iter(flat)
        .filter_map(|c| c.get(1).map(|m| m.as_str().to_string()))
        .find(|u| !u.contains("urllib3.readthedocs.io"))?;
    let proxy = proxy_from_url(&url);
    // "407 … Proxy Authentication Required for url: http://target/": the URL near the word
    // is the target's own.
    let is_target =
        proxy.host.is_some() && proxy.host == p.target.host && proxy.port == p.target.port;
    (!is_target).then_some(proxy)
}

fn proxy_from_url(url: &str) -> ProxyRef {
    let parsed = url::Url::parse(url).ok();
    ProxyRef {
        url: Some(url.to_string()),
        host: parsed
            .as_ref()
            .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string())),
        port: parsed.as_ref().and_then(|u| u.port_or_known_default()),
    }
}

/// Scheme, host, port and path from a URL as pasted; a URL that does not parse (a bad port)
/// still gives its scheme and host.
fn fill_from_url(t: &mut Target, raw: &str) {
    let raw = raw.trim_end_matches(['.', ',', ';', ')', '?']);
    t.url = Some(raw.to_string());
    // `http:///path` has no host, though the URL parser reads "path" as one.
    let hostless = raw
        .split_once("://")
        .is_some_and(|(_, rest)| rest.starts_with('/'));
    match url::Url::parse(raw) {
        Ok(u) if u.host().is_some() && !hostless => {
            t.scheme = Some(u.scheme().to_string());
            t.host = u.host_str().map(|h| h.trim_matches(['[', ']']).to_string());
            // A port only for what netpeel probes: ftp's 21 is no target.
            t.port = match u.scheme() {
                "http" | "https" => u.port_or_known_default(),
                _ => u.port(),
            };
            let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
            t.path = Some(format!("{}{query}", u.path()));
        }
        _ => {
            let Some((scheme, rest)) = raw.split_once("://") else {
                return;
            };
            t.scheme = Some(scheme.to_ascii_lowercase());
            let (authority, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            let host_port = authority.rsplit('@').next().unwrap_or(authority);
            let host = host_port.rsplit_once(':').map_or(host_port, |(h, _)| h);
            // Only a host the URL parser takes (a bad port is why the URL did not parse).
            if !host.is_empty() && url::Host::parse(host).is_ok() {
                t.host = Some(host.to_string());
                t.path = Some(path.to_string());
            }
        }
    }
}

fn number(re: &Regex, text: &str) -> Option<f64> {
    re.captures(text)?
        .get(1)?
        .as_str()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
}

/// curl: the command line above the error (when pasted) gives the URL, the proxy and the
/// timeouts; the error line gives host and port for connect failures.
fn curl_facts(norm: &str, p: &mut ParsedError) {
    p.curl_exit = CURL_LINE
        .captures(norm)
        .and_then(|c| c.get(1)?.as_str().parse().ok());
    if let Some(args) = curl_command_line(norm) {
        curl_command(&args, p);
    }
    let msg = p.message.clone();
    if let Some(c) = CURL_HOST_PORT.captures(&msg) {
        let host = c
            .get(1)
            .map(|m| m.as_str().trim_matches(['[', ']']).to_string());
        let port = c.get(2).and_then(|m| m.as_str().parse().ok());
        match &mut p.proxy {
            // With a proxy, curl's "Failed to connect" names the proxy.
            Some(proxy) => {
                proxy.host = host;
                proxy.port = port;
            }
            None => {
                p.target.host = host;
                p.target.port = port;
            }
        }
    }
    if let Some(c) = CURL_RESOLVE.captures(&msg)
        && c.get(1).is_some_and(|m| m.as_str() == "host")
    {
        p.target.host = c.get(2).map(|m| m.as_str().to_string());
    }
    if let Some(c) = CURL_NAME.captures(&msg) {
        p.target.host = c.get(1).map(|m| m.as_str().to_string());
    }
}

/// The pasted curl command's arguments, with the lines a word wrap moved below it (up to curl's
/// error line).
fn curl_command_line(norm: &str) -> Option<String> {
    let mut lines = norm.lines();
    let mut args = lines.by_ref().find_map(|line| {
        let args = CURL_CMD.captures(line)?.get(1)?.as_str();
        (!args.starts_with('(')).then(|| args.to_string())
    })?;
    for line in lines.take(8) {
        if line.contains("curl: (") || line.trim().is_empty() {
            break;
        }
        args.push(' ');
        args.push_str(line.trim());
    }
    Some(args)
}

/// The flags of a pasted curl command that matter here. Quotes are dropped; no shell expansion.
fn curl_command(args: &str, p: &mut ParsedError) {
    let words: Vec<String> = args
        .split_whitespace()
        .map(|w| w.trim_matches(['\'', '"']).to_string())
        .collect();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        let secs = || {
            next.and_then(|n| n.parse::<f64>().ok())
                .filter(|n| n.is_finite())
        };
        match w {
            "-x" | "--proxy" => {
                p.proxy = next.map(|u| {
                    let with_scheme = if u.contains("://") {
                        u.to_string()
                    } else {
                        format!("http://{u}")
                    };
                    proxy_from_url(&with_scheme)
                });
                i += 1;
            }
            "--connect-timeout" => {
                p.timeouts.connect = secs();
                i += 1;
            }
            "-m" | "--max-time" => {
                p.timeouts.total = secs();
                i += 1;
            }
            _ if w.contains("://") && p.target.url.is_none() => fill_from_url(&mut p.target, w),
            _ => {}
        }
        i += 1;
    }
}

/// The bottom of the chain in the operating system's or OpenSSL's words.
fn os_error(text: &str) -> Option<OsError> {
    if let Some(c) = ERRNO.captures(text) {
        return Some(OsError {
            errno: c.get(1)?.as_str().parse().ok(),
            message: c.get(2)?.as_str().trim().to_string(),
        });
    }
    if let Some(c) = SSL_TEXT.captures(text) {
        return Some(OsError {
            errno: None,
            message: c.get(1)?.as_str().trim().to_string(),
        });
    }
    if let Some(c) = CURL_SSL.captures(text) {
        return Some(OsError {
            errno: None,
            message: c.get(1)?.as_str().trim().to_string(),
        });
    }
    if let Some(c) = ERRNO_TUPLE.captures(text) {
        return Some(OsError {
            errno: c.get(2)?.as_str().parse().ok(),
            message: c.get(3)?.as_str().to_string(),
        });
    }
    REMOTE_DISCONNECTED.captures(text).and_then(|c| {
        Some(OsError {
            errno: None,
            message: c.get(1)?.as_str().to_string(),
        })
    })
}

fn status(text: &str) -> Option<u16> {
    let caps = STATUS.captures(text)?;
    caps.iter()
        .skip(1)
        .flatten()
        .find_map(|m| m.as_str().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for p in [
            &TIMESTAMP,
            &EXC_LINE,
            &LIB_EXC,
            &AIOHTTP_BARE,
            &NESTED_NAME,
            &CURL_LINE,
            &CURL_CMD,
            &POOL,
            &CONN_OBJ,
            &RETRY_URL,
            &FOR_URL,
            &QUOTED_URL,
            &PARSE_URL,
            &ANY_URL,
            &AIO_HOST,
            &CURL_HOST_PORT,
            &CURL_RESOLVE,
            &CURL_NAME,
            &ERRNO,
            &ERRNO_TUPLE,
            &SSL_TEXT,
            &CURL_SSL,
            &REMOTE_DISCONNECTED,
            &CONNECT_TIMEOUT,
            &READ_TIMEOUT,
            &STATUS,
            &PROXY_URL_IN_TEXT,
            &SOCKS_PROXY,
        ] {
            LazyLock::force(p);
        }
    }

    #[test]
    fn json_fields_timestamps_and_hard_wrapping_are_undone() {
        let json = r#"{"level":"error","exc":"line one\nrequests.exceptions.ReadTimeout: x"}"#;
        assert!(normalize(json).contains("\nrequests.exceptions.ReadTimeout: x"));
        let stamped = "2026-11-25 22:40:01,123 ERROR [app] Traceback\n2026-11-25T22:40:01Z a b";
        assert_eq!(normalize(stamped), "Traceback\na b\n");
        let long = "x".repeat(100);
        let cut = format!("{}\n{}\nnext", &long[..80], &long[80..]);
        assert_eq!(normalize(&cut), format!("{long}\nnext\n"));
        // An escaped field copied alone.
        let field = r#"Traceback (most recent call last):\n  File \"a.py\"\nValueError: x"#;
        assert!(normalize(field).contains("\nValueError: x"));
    }

    #[test]
    fn httpx_and_aiohttp_wordings_are_read() {
        let aio = "aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host api.internal:8443 ssl:default [Connect call failed ('10.0.0.1', 8443)]";
        let p = parse(aio).expect("parsed");
        assert_eq!(p.library, Library::Aiohttp);
        assert_eq!(p.target.host.as_deref(), Some("api.internal"));
        assert_eq!(p.target.port, Some(8443));
        // aiohttp prints "ssl:default" for http:// URLs too (the corpus's aiohttp_refused):
        // only a default port tells the scheme.
        assert_eq!(p.target.scheme, None);
        let tls = aio.replace("ssl:default", "ssl:True");
        let p = parse(&tls).expect("parsed");
        assert_eq!(p.target.scheme.as_deref(), Some("https"));
        let httpx = "httpx.ConnectError: [Errno 111] Connection refused";
        let p = parse(httpx).expect("parsed");
        assert_eq!(p.library, Library::Httpx);
        assert_eq!(p.os_error.map(|e| e.errno), Some(Some(111)));
    }

    /// A cut no width shows (a longer line above it): the URL's path, or the host and port
    /// a cut may have shortened, are left out rather than read short.
    #[test]
    fn a_cut_the_text_does_not_show_says_less_not_something_else() {
        let above = format!("INFO {}\n", "x".repeat(150));
        let url_cut = format!(
            "{above}requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: http://127.0.0.1:8080/v1/it\nems\n"
        );
        let p = parse(&url_cut).expect("parsed");
        assert_eq!(p.target.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(p.target.port, Some(8080));
        assert_eq!(p.target.path, None);
        assert_eq!(p.target.url, None);
        let port_cut = format!(
            "{above}aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host 127.0.0.1:80\n80 ssl:default [Connect call failed ('127.0.0.1', 8080)]\n"
        );
        let p = parse(&port_cut).expect("parsed");
        assert_eq!((p.target.host, p.target.port), (None, None));
        let host_cut = format!(
            "{above}requests.exceptions.ConnectionError: HTTPConnectionPool(host='api.inter\nnal', port=80): Max retries exceeded with url: /v1/it\nems (Caused by NewConnectionError(\"x: Failed to establish a new connection: [Errno 111] Connection refused\"))\n"
        );
        let p = parse(&host_cut).expect("parsed");
        assert_eq!((p.target.host, p.target.path), (None, None));
    }

    #[test]
    fn text_without_an_error_is_not_guessed_at() {
        assert!(parse("hello world\nall is fine").is_none());
        assert!(parse("").is_none());
        assert!(parse("ValueError: bad value").is_none());
        assert!(parse("socket.gaierror: [Errno -2] Name or service not known").is_none());
    }
}
