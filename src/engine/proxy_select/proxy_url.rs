//! Proxy URLs: what requests (through urllib3's `parse_url`) and curl's `--proxy` make of a proxy
//! value, which credentials each would send, and a form safe to print (password masked).
//!
//! - A proxy value from the environment, as `HTTPAdapter.get_connection_with_tls_context`
//!   treats it: `prepend_scheme_if_needed(proxy, "http")` parses with urllib3's `parse_url`, which takes
//!   `word:` at the start as a scheme: `localhost:3128` is scheme `localhost` with no host
//!   (requests raises InvalidProxyURL), while `proxy.corp:3128` and `10.0.0.1:3128` get
//!   `http://`. Schemes: `http`/`https` (urllib3 ProxyManager, default ports 80/443), `socks5`/
//!   `socks5h` (PySocks, default port 1080; without PySocks requests raises InvalidSchema
//!   "Missing dependencies for SOCKS support."). Errors (`Err`): no host (InvalidProxyURL), a URL
//!   urllib3 cannot parse such as port 99999 (InvalidURL), any other scheme (`ftp://`: InvalidURL
//!   from ProxySchemeUnknown), and `socks4`/`socks4a`, which requests supports through PySocks
//!   but netpeel does not. Credentials are used only when the URL has a user name AND a
//!   password (`user@proxy` sends none; `user:@proxy` sends an empty password), percent-decoded.
//! - `--proxy URL`: no `://` means `http://`; `http`, `https`, `socks5`, `socks5h`; curl's
//!   default ports (1080 for http:// and socks, 443 for https://); a user name without a password
//!   gets an empty password.

use std::fmt;
use std::net::Ipv6Addr;

use url::Host;

/// How netpeel talks to the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyScheme {
    Http,
    Https,
    /// SOCKS5, the target name resolved locally.
    Socks5,
    /// SOCKS5, the target name resolved by the proxy.
    Socks5h,
}

impl ProxyScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyScheme::Http => "http",
            ProxyScheme::Https => "https",
            ProxyScheme::Socks5 => "socks5",
            ProxyScheme::Socks5h => "socks5h",
        }
    }

    /// SOCKS5 (either flavour) rather than an HTTP proxy.
    pub fn is_socks(self) -> bool {
        matches!(self, ProxyScheme::Socks5 | ProxyScheme::Socks5h)
    }

    fn from_name(scheme: &str) -> Option<ProxyScheme> {
        match scheme {
            "http" => Some(ProxyScheme::Http),
            "https" => Some(ProxyScheme::Https),
            "socks5" => Some(ProxyScheme::Socks5),
            "socks5h" => Some(ProxyScheme::Socks5h),
            _ => None,
        }
    }
}

/// A proxy, parsed. `Debug` and serialisation never show the password.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProxyUrl {
    pub scheme: ProxyScheme,
    /// Name or address, IPv6 without brackets.
    pub host: String,
    /// The port connected to (the scheme's default when the URL has none).
    pub port: u16,
    /// Percent-decoded; set only when the credentials are actually sent.
    pub username: Option<String>,
    /// Percent-decoded; set together with `username`.
    #[serde(skip)]
    pub password: Option<String>,
    /// `scheme://user:***@host:port`: safe to print.
    pub display: String,
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyUrl")
            .field("scheme", &self.scheme)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("display", &self.display)
            .finish()
    }
}

impl ProxyUrl {
    /// The user name and password to send to the proxy, if any (a user name without a password
    /// sends an empty one).
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.username
            .as_deref()
            .map(|user| (user, self.password.as_deref().unwrap_or("")))
    }
}

/// What urllib3's `parse_url` extracts that matters here.
#[derive(Debug, Default)]
struct Parsed {
    scheme: Option<String>,
    /// The userinfo, raw.
    auth: Option<String>,
    host: Option<String>,
    port: Option<u32>,
}

/// urllib3 `parse_url`'s `_SCHEME_RE`: does the string start with `word:` or `/`?
fn scheme_prefix_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() == Some(&b'/') {
        return Some(0);
    }
    if !b.first()?.is_ascii_alphabetic() {
        return None;
    }
    let end = b
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'+' || *c == b'-'))?;
    (b[end] == b':').then_some(end)
}

/// urllib3 2.x `parse_url`, reduced to scheme, auth, host and port. `Err` is
/// LocationParseError's reason.
fn urllib3_parse_url(input: &str) -> Result<Parsed, String> {
    if input.is_empty() {
        return Ok(Parsed::default());
    }
    let owned;
    let url = if scheme_prefix_len(input).is_none() {
        owned = format!("//{input}");
        owned.as_str()
    } else {
        input
    };
    // _URI_RE: scheme ([a-zA-Z][a-zA-Z0-9+.-]*:)? then (//authority)?
    let mut rest = url;
    let mut scheme = None;
    if let Some(first) = rest.chars().next()
        && first.is_ascii_alphabetic()
        && let Some(end) = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "+.-".contains(c)))
        && rest[end..].starts_with(':')
    {
        scheme = Some(rest[..end].to_ascii_lowercase());
        rest = &rest[end + 1..];
    }
    let authority = rest.strip_prefix("//").map(|a| {
        let end = a.find(['\\', '/', '?', '#']).unwrap_or(a.len());
        &a[..end]
    });
    let normalize = matches!(scheme.as_deref(), None | Some("http") | Some("https"));
    let mut parsed = Parsed {
        scheme,
        ..Parsed::default()
    };
    let Some(authority) = authority.filter(|a| !a.is_empty()) else {
        return Ok(parsed);
    };
    let (auth, host_port) = match authority.rfind('@') {
        Some(i) => (&authority[..i], &authority[i + 1..]),
        None => ("", authority),
    };
    parsed.auth = (!auth.is_empty()).then(|| auth.to_string());
    let (host, port_part) = split_host(host_port)?;
    parsed.port = parse_port(port_part)?;
    parsed.host = Some(
        if normalize && !host.starts_with('[') && !host.contains(':') {
            normalize_name(&host)?
        } else {
            host
        },
    );
    Ok(parsed)
}

/// The host of `host[:port]` (an IPv6 address in brackets, without them, zone kept) and what
/// follows it.
fn split_host(host_port: &str) -> Result<(String, &str), String> {
    if !host_port.starts_with('[') {
        let end = host_port.find(':').unwrap_or(host_port.len());
        let host = &host_port[..end];
        if host.contains(['[', ']']) || !percent_escapes_valid(host) {
            return Err(format!("'{host}' is not a valid host"));
        }
        return Ok((host.to_string(), &host_port[end..]));
    }
    let close = host_port
        .find(']')
        .ok_or_else(|| "unclosed '[' in the host".to_string())?;
    let inside = &host_port[1..close];
    let (addr, zone) = match inside.find('%') {
        Some(i) => (&inside[..i], Some(&inside[i..])),
        None => (inside, None),
    };
    if addr.parse::<Ipv6Addr>().is_err() {
        return Err(format!("'{inside}' is not an IPv6 address"));
    }
    let host = match zone {
        None => addr.to_ascii_lowercase(),
        Some(z) => {
            let z = z
                .strip_prefix("%25")
                .filter(|z| !z.is_empty())
                .unwrap_or(&z[1..]);
            if z.is_empty() {
                return Err("empty IPv6 zone".into());
            }
            format!("{}%{z}", addr.to_ascii_lowercase())
        }
    };
    Ok((host, &host_port[close + 1..]))
}

/// What follows the host: `:digits` (none for `:` alone), or nothing.
fn parse_port(port_part: &str) -> Result<Option<u32>, String> {
    let Some(digits) = port_part.strip_prefix(':') else {
        if !port_part.is_empty() && port_part != "\n" {
            return Err(format!("unexpected '{port_part}' after the host"));
        }
        return Ok(None);
    };
    // `$` in Python matches before a final newline.
    let digits = digits.strip_suffix('\n').unwrap_or(digits);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port '{digits}' is not a number"));
    }
    let t = digits.trim_start_matches('0');
    let t = if t.is_empty() && !digits.is_empty() {
        "0"
    } else {
        t
    };
    if t.len() > 5 {
        return Err(format!("port {digits} is out of range"));
    }
    if t.is_empty() {
        return Ok(None);
    }
    let p: u32 = t.parse().map_err(|_| format!("port {digits}"))?;
    if p > 65535 {
        return Err(format!("port {p} is out of range"));
    }
    Ok(Some(p))
}

/// `%` only as `%XX`.
fn percent_escapes_valid(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'%'
            || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// urllib3 `_normalize_host` for a name: lowercase, IDNA for non-ASCII labels.
fn normalize_name(host: &str) -> Result<String, String> {
    if host.is_ascii() {
        return Ok(host.to_ascii_lowercase());
    }
    match Host::parse(host) {
        Ok(Host::Domain(d)) => Ok(d),
        Ok(other) => Ok(other.to_string()),
        Err(_) => Err(format!("'{host}' is not a valid IDNA name")),
    }
}

/// Python's `urllib.parse.unquote`: valid `%XX` decoded, the rest kept, UTF-8 with
/// replacement.
fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| (*c as char).to_digit(16)),
                b.get(i + 2).and_then(|c| (*c as char).to_digit(16)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn count_valid_escapes(s: &str) -> usize {
    let b = s.as_bytes();
    (0..b.len())
        .filter(|&i| {
            b[i] == b'%'
                && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        })
        .count()
}

/// The credentials requests sends for this userinfo: `get_auth_from_url` after urllib3 has
/// re-encoded it (`normalized`: http/https, where a userinfo with any stray `%` is taken
/// literally), used only with a non-empty user name AND a password.
fn requests_credentials(auth: Option<&str>, normalized: bool) -> Option<(String, String)> {
    let auth = auth?;
    let (user, password) = auth.split_once(':')?;
    let literal = normalized && count_valid_escapes(auth) != auth.matches('%').count();
    let decode = |s: &str| if literal { s.to_string() } else { unquote(s) };
    let user = decode(user);
    (!user.is_empty()).then(|| (user, decode(password)))
}

fn display(scheme: ProxyScheme, auth: Option<&str>, host: &str, port: u16) -> String {
    let userinfo = match auth {
        Some(a) => match a.split_once(':') {
            Some((user, _)) => format!("{user}:***@"),
            None => format!("{a}@"),
        },
        None => String::new(),
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    format!("{}://{userinfo}{host}:{port}", scheme.as_str())
}

/// A proxy value as requests uses it (see the module documentation). `Err`: why requests
/// (or netpeel) cannot use it, naming requests' exception.
pub(super) fn parse_requests_proxy(raw: &str, notes: &mut Vec<String>) -> Result<ProxyUrl, String> {
    // prepend_scheme_if_needed(proxy, "http"), then parse_url again: the host must survive.
    let parsed = urllib3_parse_url(raw)
        .map_err(|e| format!("not a URL urllib3 can parse ({e}); requests raises InvalidURL"))?;
    let host = parsed.host.clone().filter(|h| !h.is_empty());
    let Some(host) = host else {
        if let (Some(n), None) = (scheme_prefix_len(raw), raw.find("://"))
            && n > 0
        {
            return Err(format!(
                "requests reads '{}' as a URL scheme, so the proxy has no host (write http://{}); requests raises InvalidProxyURL",
                &raw[..=n],
                mask_password(raw)
            ));
        }
        return Err("the proxy URL has no host; requests raises InvalidProxyURL".into());
    };
    let scheme_name = parsed.scheme.clone().unwrap_or_else(|| "http".into());
    if parsed.scheme.is_none() {
        notes.push(format!(
            "the proxy has no scheme: requests reads it as http://{}",
            mask_password(raw.trim_start_matches("//"))
        ));
    }
    let scheme = match ProxyScheme::from_name(&scheme_name) {
        Some(s) => s,
        None if scheme_name == "socks4" || scheme_name == "socks4a" => {
            return Err(format!(
                "{scheme_name} proxies are not supported by netpeel (requests uses them through PySocks)"
            ));
        }
        None if scheme_name.starts_with("socks") => {
            return Err(format!(
                "requests cannot tell the SOCKS version from '{scheme_name}://' (ValueError with PySocks, InvalidSchema without); use socks5:// or socks5h://"
            ));
        }
        None => {
            return Err(format!(
                "proxy scheme '{scheme_name}' is not supported; requests raises InvalidURL (Proxy URL had unsupported scheme {scheme_name}, should use http:// or https://)"
            ));
        }
    };
    // Port 0 is dropped when the URL is rebuilt, so it means "the default" too.
    let port = match (parsed.port, scheme) {
        (Some(p), _) if p != 0 => p as u16,
        (_, ProxyScheme::Http) => {
            notes.push(
                "the proxy URL has no port: requests uses 80 for http:// (curl would use 1080)"
                    .into(),
            );
            80
        }
        (_, ProxyScheme::Https) => 443,
        (_, ProxyScheme::Socks5 | ProxyScheme::Socks5h) => 1080,
    };
    if matches!(scheme, ProxyScheme::Socks5 | ProxyScheme::Socks5h) {
        notes.push(format!(
            "requests needs PySocks for {}:// proxies (pip install requests[socks]); without it requests raises InvalidSchema \"Missing dependencies for SOCKS support.\"",
            scheme.as_str()
        ));
    }
    let creds = requests_credentials(
        parsed.auth.as_deref(),
        parsed.scheme.is_none() || matches!(scheme, ProxyScheme::Http | ProxyScheme::Https),
    );
    if parsed.auth.is_some() && creds.is_none() {
        notes.push(
            "the proxy URL has a user name but no password (or no user name): requests sends no proxy credentials at all"
                .into(),
        );
    }
    Ok(proxy_url(scheme, parsed.auth.as_deref(), host, port, creds))
}

/// The parsed proxy: the host without IPv6 brackets, the display with the password masked.
fn proxy_url(
    scheme: ProxyScheme,
    auth: Option<&str>,
    host: String,
    port: u16,
    creds: Option<(String, String)>,
) -> ProxyUrl {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .map(str::to_string)
        .unwrap_or(host);
    ProxyUrl {
        display: display(scheme, auth, &host, port),
        scheme,
        host,
        port,
        username: creds.as_ref().map(|c| c.0.clone()),
        password: creds.map(|c| c.1),
    }
}

/// `--proxy` with curl's reading: no `://` means http://, curl's default ports, a user name
/// without a password gets an empty one.
pub(super) fn parse_flag_proxy(raw: &str, notes: &mut Vec<String>) -> Result<ProxyUrl, String> {
    let shown = mask_password(raw);
    let (scheme_name, rest) = match raw.find("://") {
        Some(i) => (raw[..i].to_ascii_lowercase(), &raw[i + 3..]),
        None => {
            if scheme_prefix_len(raw).is_some_and(|n| n > 0) {
                notes.push(format!(
                    "as an environment variable or proxies= value, requests would read '{}' as a URL scheme and fail: write http://{shown}",
                    &raw[..raw.find(':').unwrap_or(0) + 1]
                ));
            }
            ("http".to_string(), raw)
        }
    };
    let scheme = ProxyScheme::from_name(&scheme_name).ok_or_else(|| {
        format!(
            "--proxy {shown}: proxy scheme '{scheme_name}' is not supported (netpeel speaks http, https, socks5 and socks5h)"
        )
    })?;
    let parsed = urllib3_parse_url(&format!("//{rest}"))
        .map_err(|e| format!("--proxy {shown}: not a proxy URL ({e})"))?;
    let host = parsed
        .host
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("--proxy {shown}: the proxy URL has no host"))?;
    let port = match (parsed.port, scheme) {
        (Some(p), _) if p != 0 => p as u16,
        (_, ProxyScheme::Https) => 443,
        (_, s) => {
            if s == ProxyScheme::Http {
                notes.push(
                    "--proxy has no port: 1080, as curl uses (requests would use 80 for http://)"
                        .into(),
                );
            }
            1080
        }
    };
    let creds = parsed.auth.as_deref().and_then(|a| {
        let (user, password) = a.split_once(':').unwrap_or((a, ""));
        let user = unquote(user);
        (!user.is_empty()).then(|| (user, unquote(password)))
    });
    Ok(proxy_url(scheme, parsed.auth.as_deref(), host, port, creds))
}

/// A proxy value with the password replaced by `***`, for messages (best effort on values that
/// do not parse).
pub(super) fn mask_password(raw: &str) -> String {
    let (prefix, rest) = match raw.find("://") {
        Some(i) => raw.split_at(i + 3),
        None => ("", raw),
    };
    // The password may hold `/ ? # @`: the userinfo runs to the *last* `@` (a path holding both
    // `:` and `@` is over-masked, the safe side).
    let Some(at) = rest.rfind('@') else {
        return raw.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!("{prefix}{}:***{}", &rest[..colon], &rest[at..]),
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::proxy_select::test_support::*;

    #[test]
    fn scheme_less_values_and_what_requests_cannot_parse() {
        let c = pick("https://a/", &[("HTTPS_PROXY", "proxy.corp:3128")]);
        let p = c.proxy.unwrap();
        assert_eq!(
            (p.scheme, p.host.as_str(), p.port),
            (ProxyScheme::Http, "proxy.corp", 3128)
        );
        let err = with_flags(
            "https://a/",
            None,
            None,
            &[("HTTPS_PROXY", "localhost:3128")],
        )
        .unwrap_err();
        assert_eq!(
            err,
            "HTTPS_PROXY=localhost:3128: requests reads 'localhost:' as a URL scheme, so the proxy has no host (write http://localhost:3128); requests raises InvalidProxyURL"
        );
        for bad in [
            "ftp://proxy",
            "http://proxy:99999",
            "http://",
            "socks4://p",
            "http://[::1",
        ] {
            assert!(
                with_flags("https://a/", None, None, &[("HTTPS_PROXY", bad)]).is_err(),
                "{bad}"
            );
        }
        // Bypassed before it is parsed, as in requests.
        let c = pick(
            "https://a/",
            &[("HTTPS_PROXY", "ftp://x"), ("NO_PROXY", "a")],
        );
        assert_eq!(c.proxy, None);
        assert_eq!(
            pick("https://a/", &[("HTTPS_PROXY", "proxy")])
                .proxy
                .unwrap()
                .port,
            80
        );
        assert_eq!(
            pick("https://a/", &[("HTTPS_PROXY", "https://proxy")])
                .proxy
                .unwrap()
                .port,
            443
        );
        assert_eq!(
            pick("https://a/", &[("HTTPS_PROXY", "http://proxy:0")])
                .proxy
                .unwrap()
                .port,
            80
        );
        assert_eq!(
            pick("https://a/", &[("HTTPS_PROXY", "HTTP://PROXY:3128")])
                .proxy
                .unwrap()
                .host,
            "proxy"
        );
        assert_eq!(
            pick("https://a/", &[("HTTPS_PROXY", "http://proxy:3128\n")])
                .proxy
                .unwrap()
                .port,
            3128
        );
        assert_eq!(
            pick("https://a/", &[("HTTPS_PROXY", " http://proxy:3128")])
                .proxy
                .unwrap()
                .host,
            " http"
        );
    }

    #[test]
    fn credentials_and_masking() {
        let c = pick(
            "https://a/",
            &[("HTTPS_PROXY", "http://us%65r:p%40ss@proxy:3128")],
        );
        let p = c.proxy.unwrap();
        assert_eq!(p.username.as_deref(), Some("user"));
        assert_eq!(p.password.as_deref(), Some("p@ss"));
        assert_eq!(p.display, "http://us%65r:***@proxy:3128");
        assert!(!format!("{p:?}").contains("p@ss"));
        assert!(!serde_json::to_string(&p).unwrap().contains("p@ss"));
        assert_eq!(
            c.reason,
            "HTTPS_PROXY=http://us%65r:***@proxy:3128 chose this proxy (https URL)"
        );
        let p = pick("https://a/", &[("HTTPS_PROXY", "http://user@proxy:3128")])
            .proxy
            .unwrap();
        assert_eq!((p.username, p.password), (None, None));
        let p = pick("https://a/", &[("HTTPS_PROXY", "http://user:@proxy:3128")])
            .proxy
            .unwrap();
        assert_eq!(
            (p.username.as_deref(), p.password.as_deref()),
            (Some("user"), Some(""))
        );
        // A stray % makes urllib3 escape every %: nothing is decoded.
        let p = pick(
            "https://a/",
            &[("HTTPS_PROXY", "http://u:a%41%zz@proxy:3128")],
        )
        .proxy
        .unwrap();
        assert_eq!(p.password.as_deref(), Some("a%41%zz"));
        let err = with_flags(
            "https://a/",
            None,
            None,
            &[("HTTPS_PROXY", "ftp://u:secret@p")],
        )
        .unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn mask_password_in_odd_values() {
        assert_eq!(mask_password("http://u:p@h:1/x"), "http://u:***@h:1/x");
        assert_eq!(mask_password("u:p@h:1"), "u:***@h:1");
        assert_eq!(mask_password("http://u@h"), "http://u@h");
        assert_eq!(mask_password("http://h"), "http://h");
        assert_eq!(mask_password("http://u:p/s?s#x@h:1"), "http://u:***@h:1");
        assert_eq!(mask_password("socks5h://u:a@b@h"), "socks5h://u:***@h");
    }
}
