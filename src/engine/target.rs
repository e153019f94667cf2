//! Stage 1: parse and validate the URL the way requests would refuse it, before any network.

use std::fmt;
use std::net::IpAddr;

use url::Url;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// The host part: a name goes through DNS, an IP literal does not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetHost {
    Name(String),
    Ip(IpAddr),
}

impl fmt::Display for TargetHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetHost::Name(n) => f.write_str(n),
            TargetHost::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            TargetHost::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A URL that passed validation, split into what each stage needs.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: Url,
    pub scheme: Scheme,
    pub host: TargetHost,
    pub port: u16,
    /// Origin-form request target: path plus query, never the fragment.
    pub request_target: String,
    /// What goes in the `Host` header (port only when not the scheme's default).
    pub host_header: String,
    /// user:password from the URL, sent as Basic auth as requests does.
    pub credentials: Option<(String, String)>,
    /// Quirks of the URL worth telling the user (e.g. port 0).
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlProblem {
    MissingScheme,
    UnsupportedScheme,
    MissingHost,
    InvalidPort,
    /// Characters no DNS name can have (a space, …).
    InvalidHost,
    /// An empty label ("a..b") or one longer than 63 bytes.
    InvalidHostLabel,
    Invalid,
    /// A request header value with a line break: requests raises InvalidHeader.
    InvalidHeader,
    /// A request header value with a character past U+00FF: http.client's Latin-1 encoding
    /// raises UnicodeEncodeError.
    HeaderNotLatin1,
    /// A request header value with another control character: requests and curl send it,
    /// netpeel's HTTP library cannot.
    UnsendableHeader,
    /// A request target longer than netpeel's HTTP library can send.
    UrlTooLong,
}

#[derive(Clone, Debug)]
pub struct UrlError {
    pub problem: UrlProblem,
    pub input: String,
    /// One line saying what is wrong with it.
    pub message: String,
    /// A corrected URL when we can guess one ("did you mean …").
    pub suggestion: Option<String>,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn err(problem: UrlProblem, input: &str, message: String, suggestion: Option<String>) -> UrlError {
    UrlError {
        problem,
        input: input.to_string(),
        message,
        suggestion,
    }
}

impl Target {
    /// The URL as it may be shown anywhere: a password in it is masked.
    pub fn display_url(&self) -> String {
        let mut shown = self.url.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        shown.to_string()
    }
}

pub fn parse_target(input: &str) -> Result<Target, UrlError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(err(
            UrlProblem::MissingScheme,
            input,
            "the URL is empty".into(),
            None,
        ));
    }
    let typed = Typed {
        input,
        trimmed,
        // Messages quote the URL; a password in it must not reach any output.
        shown: crate::redact::url(trimmed),
    };
    typed.refuse_what_the_url_crate_repairs()?;
    let url = typed.parse()?;
    let scheme = typed.scheme(&url)?;
    let host = typed.host(&url)?;
    let (port, port_note) = port(&url, scheme);
    let host_header = if port != scheme.default_port() {
        format!("{host}:{port}")
    } else {
        host.to_string()
    };
    Ok(Target {
        request_target: request_target(&url),
        credentials: credentials(&url),
        url,
        scheme,
        host,
        port,
        host_header,
        notes: port_note.into_iter().collect(),
    })
}

/// The URL as the user typed it, trimmed, and as messages may quote it.
struct Typed<'a> {
    input: &'a str,
    trimmed: &'a str,
    /// `trimmed` with any password masked.
    shown: String,
}

impl Typed<'_> {
    fn error(&self, problem: UrlProblem, message: String, suggestion: Option<String>) -> UrlError {
        err(problem, self.input, message, suggestion)
    }

    fn no_host(&self) -> UrlError {
        let shown = &self.shown;
        self.error(
            UrlProblem::MissingHost,
            format!("no host in URL '{shown}'"),
            None,
        )
    }

    /// Forms the url crate would accept (or repair) but requests refuses.
    fn refuse_what_the_url_crate_repairs(&self) -> Result<(), UrlError> {
        let (trimmed, shown) = (self.trimmed, &self.shown);
        if let Some(rest) = trimmed.strip_prefix("://") {
            return Err(self.error(
                UrlProblem::UnsupportedScheme,
                format!("empty scheme in URL '{shown}'"),
                Some(crate::redact::url(&format!("https://{rest}"))),
            ));
        }
        // "http:/host" and "http:host": the url crate repairs them, requests refuses them
        // ("No host supplied").
        let lower = trimmed.to_ascii_lowercase();
        if (lower.starts_with("http:") && !lower.starts_with("http://"))
            || (lower.starts_with("https:") && !lower.starts_with("https://"))
        {
            return Err(self.error(
                UrlProblem::MissingHost,
                format!("no host in URL '{shown}' (the scheme needs two slashes)"),
                None,
            ));
        }
        // "http:///path": the url crate would quietly take "path" as the host; requests refuses it.
        if let Some((scheme, rest)) = trimmed.split_once("://")
            && (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
            && (rest.is_empty()
                || rest.starts_with('/')
                || rest.starts_with('?')
                || rest.starts_with('#'))
        {
            return Err(self.no_host());
        }
        Ok(())
    }

    /// Parse with the url crate, each of its errors told as the URL problem it is.
    fn parse(&self) -> Result<Url, UrlError> {
        let shown = &self.shown;
        let e = match Url::parse(self.trimmed) {
            Ok(url) => return Ok(url),
            Err(e) => e,
        };
        Err(match e {
            url::ParseError::RelativeUrlWithoutBase => self.error(
                UrlProblem::MissingScheme,
                format!("no scheme in URL '{shown}' (http:// or https://)"),
                Some(format!("https://{shown}")),
            ),
            url::ParseError::EmptyHost => self.no_host(),
            url::ParseError::InvalidPort => self.error(
                UrlProblem::InvalidPort,
                format!("invalid port in URL '{shown}' (must be 1-65535)"),
                None,
            ),
            url::ParseError::InvalidDomainCharacter | url::ParseError::IdnaError => self.error(
                UrlProblem::InvalidHost,
                format!("the host in URL '{shown}' has characters no DNS name can have"),
                None,
            ),
            e => self.error(
                UrlProblem::Invalid,
                format!("invalid URL '{shown}': {e}"),
                None,
            ),
        })
    }

    fn scheme(&self, url: &Url) -> Result<Scheme, UrlError> {
        let shown = &self.shown;
        match url.scheme() {
            "http" => Ok(Scheme::Http),
            "https" => Ok(Scheme::Https),
            other => {
                // "localhost:8080" parses with scheme "localhost": the user forgot the scheme.
                let forgot_scheme = !self.trimmed.contains("://")
                    && self.trimmed[other.len() + 1..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_digit());
                let suggestion = forgot_scheme.then(|| format!("http://{shown}"));
                Err(self.error(
                    UrlProblem::UnsupportedScheme,
                    format!(
                        "unsupported scheme '{other}' in URL '{shown}' (netpeel speaks http and https)"
                    ),
                    suggestion,
                ))
            }
        }
    }

    /// The host, with a name's labels checked as DNS will need them.
    fn host(&self, url: &Url) -> Result<TargetHost, UrlError> {
        let host = match url.host() {
            Some(url::Host::Domain(d)) => TargetHost::Name(d.to_string()),
            Some(url::Host::Ipv4(ip)) => TargetHost::Ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => TargetHost::Ip(IpAddr::V6(ip)),
            None => return Err(self.no_host()),
        };
        if let TargetHost::Name(name) = &host {
            let labels = name.strip_suffix('.').unwrap_or(name);
            if labels.split('.').any(|l| l.is_empty() || l.len() > 63) {
                return Err(self.error(
                    UrlProblem::InvalidHostLabel,
                    format!(
                        "the host '{name}' has an empty label or one longer than 63 characters"
                    ),
                    None,
                ));
            }
        }
        Ok(host)
    }
}

/// The port to connect to, and a note when the URL's port needed explaining.
fn port(url: &Url, scheme: Scheme) -> (u16, Option<String>) {
    // urllib3 reads port 0 as "no port" and connects to the scheme's default; do the same, and say so.
    match url.port() {
        Some(0) => (
            scheme.default_port(),
            Some(format!(
                "Port 0 in the URL: urllib3 treats it as no port and connects to port {}, as netpeel did; curl would try port 0 and fail (exit 7).",
                scheme.default_port()
            )),
        ),
        Some(p) => (p, None),
        None => (scheme.default_port(), None),
    }
}

/// Origin form: path plus query, never the fragment.
fn request_target(url: &Url) -> String {
    let mut request_target = url.path().to_string();
    if let Some(q) = url.query() {
        request_target.push('?');
        request_target.push_str(q);
    }
    request_target
}

/// user:password from the URL, decoded, when the URL has either.
fn credentials(url: &Url) -> Option<(String, String)> {
    (!url.username().is_empty() || url.password().is_some()).then(|| {
        (
            percent_decode(url.username()),
            percent_decode(url.password().unwrap_or("")),
        )
    })
}

/// Userinfo arrives percent-encoded; requests unquotes it before building Basic auth.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The longest request target netpeel's HTTP library (the `http` crate's `Uri`) can hold.
pub const MAX_REQUEST_TARGET: usize = u16::MAX as usize - 1;

/// What requests does with the header values, in its order: requests' own check refuses a
/// line break (`InvalidHeader`), then http.client's Latin-1 encoding refuses a character past
/// U+00FF (`UnicodeEncodeError`); another control character goes out as it is, which netpeel's
/// HTTP library cannot do.
fn header_problem(headers: &[(String, String)]) -> Option<(UrlProblem, String)> {
    if let Some((name, _)) = headers.iter().find(|(_, v)| v.contains(['\r', '\n'])) {
        let message = format!("the value of header '{name}' has a line break");
        return Some((UrlProblem::InvalidHeader, message));
    }
    for (name, value) in headers {
        if let Some(c) = value.chars().find(|c| u32::from(*c) > 0xff) {
            let message = format!(
                "the value of header '{name}' has U+{:04X}, outside Latin-1",
                u32::from(c)
            );
            return Some((UrlProblem::HeaderNotLatin1, message));
        }
    }
    headers.iter().find_map(|(name, value)| {
        let bad = value
            .bytes()
            .find(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)?;
        let message =
            format!("the value of header '{name}' has the control character \\x{bad:02x}");
        Some((UrlProblem::UnsendableHeader, message))
    })
}

/// Refuse, before any network, a request that requests would refuse (a line break in a header
/// value) or that netpeel cannot send although requests would (another control character, a
/// target past [`MAX_REQUEST_TARGET`]). Messages name the header, never its value: it may be a
/// secret.
pub fn check_request(target: &Target, headers: &[(String, String)]) -> Result<(), UrlError> {
    if let Some((problem, message)) = header_problem(headers) {
        return Err(err(problem, target.url.as_str(), message, None));
    }
    let length = target.request_target.len();
    if length > MAX_REQUEST_TARGET {
        let message = format!(
            "the path and query are {length} bytes long, more than the {MAX_REQUEST_TARGET} netpeel can send"
        );
        return Err(err(
            UrlProblem::UrlTooLong,
            target.url.as_str(),
            message,
            None,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(input: &str) -> UrlProblem {
        match parse_target(input) {
            Ok(t) => panic!("{input} parsed as {t:?}"),
            Err(e) => e.problem,
        }
    }

    #[test]
    fn refuses_what_requests_refuses() {
        assert_eq!(problem("corp.test/x"), UrlProblem::MissingScheme);
        assert_eq!(problem(""), UrlProblem::MissingScheme);
        assert_eq!(problem("ftp://127.0.0.1/"), UrlProblem::UnsupportedScheme);
        assert_eq!(problem("htp://127.0.0.1/"), UrlProblem::UnsupportedScheme);
        assert_eq!(problem("http://"), UrlProblem::MissingHost);
        assert_eq!(problem("http:///path"), UrlProblem::MissingHost);
        assert_eq!(problem("http://127.0.0.1:99999/"), UrlProblem::InvalidPort);
        assert_eq!(problem("://127.0.0.1/"), UrlProblem::UnsupportedScheme);
        assert_eq!(problem("http:/127.0.0.1/"), UrlProblem::MissingHost);
        assert_eq!(problem("https:127.0.0.1/"), UrlProblem::MissingHost);
        assert_eq!(problem("http://exa mple.test/"), UrlProblem::InvalidHost);
        assert_eq!(problem("http://a..b.test/"), UrlProblem::InvalidHostLabel);
        let long = format!("http://{}.test/", "a".repeat(64));
        assert_eq!(problem(&long), UrlProblem::InvalidHostLabel);
        assert_eq!(problem("http://[::1/"), UrlProblem::Invalid);
    }

    #[test]
    fn port_zero_means_the_default_port_as_in_urllib3() {
        let t = parse_target("http://127.0.0.1:0/x").ok();
        assert_eq!(t.as_ref().map(|t| t.port), Some(80));
        assert_eq!(
            t.as_ref().map(|t| t.host_header.as_str()),
            Some("127.0.0.1")
        );
        assert_eq!(t.map(|t| t.notes.len()), Some(1));
        assert!(
            parse_target("http://corp.test./").is_ok(),
            "a trailing dot is fine"
        );
    }

    #[test]
    fn forgotten_scheme_gets_a_suggestion() {
        let e = parse_target("localhost:8080/health")
            .err()
            .map(|e| e.suggestion);
        assert_eq!(e, Some(Some("http://localhost:8080/health".into())));
    }

    #[test]
    fn splits_a_good_url() {
        let t = parse_target("https://user:p%40ss@Corp.test:8443/a/b?x=1#frag").ok();
        let t = t.as_ref();
        assert_eq!(t.map(|t| t.port), Some(8443));
        assert_eq!(t.map(|t| t.host.to_string()), Some("corp.test".into()));
        assert_eq!(t.map(|t| t.request_target.as_str()), Some("/a/b?x=1"));
        assert_eq!(t.map(|t| t.host_header.as_str()), Some("corp.test:8443"));
        assert_eq!(
            t.and_then(|t| t.credentials.clone()),
            Some(("user".into(), "p@ss".into()))
        );
        let v6 = parse_target("http://[::1]/").ok();
        assert_eq!(v6.map(|t| t.host_header), Some("[::1]".into()));
    }
}
