//! Does a request go through a proxy, which one, and why: decided exactly as Python requests 2.x
//! decides it (checked against requests 2.34.2 / urllib3 2.7.0 / CPython 3.11 on Linux by
//! tests/suite/proxy_select.rs), plus curl's `--proxy` / `--noproxy` flags on top.
//!
//! Pure: nothing here reads the process environment, resolves a name or opens a socket. The
//! caller passes the environment as `(name, value)` pairs in the process's order, e.g.
//! `choose(&url, flag_proxy, flag_noproxy, &env_pairs(std::env::vars_os()))`.
//! Pairs and not a `get(name)` function because urllib's `getproxies_environment()` enumerates
//! the environment: it takes `Https_Proxy`, `https://host_proxy` and friends, and its result
//! depends on which spelling comes first.
//!
//! # Precedence
//!
//! 1. `--proxy ""` turns proxies off (curl's meaning); nothing else is consulted.
//! 2. The candidate proxy: `--proxy URL` when given (curl's meaning: one proxy for every URL
//!    scheme, replacing every `*_proxy` variable); otherwise the environment as requests reads it
//!    (`get_environ_proxies` then `select_proxy`, below).
//! 3. The exclusions: `--noproxy LIST` when given (curl's matching, below) replaces
//!    `NO_PROXY`/`no_proxy` completely, for a `--proxy` and for an environment proxy alike.
//!    Without `--noproxy`, `NO_PROXY` applies to environment proxies only, as requests' own
//!    `should_bypass_proxies` does; a `--proxy` is treated like `proxies={"all": URL}` given to
//!    requests, which ignores `NO_PROXY` (curl -x would honour it: the choice carries a note when
//!    that makes a difference).
//!
//! # The environment, as requests reads it
//!
//! - Proxy variables (`urllib.request.getproxies_environment`): every variable whose lowercased
//!   name ends in `_proxy` gives the key before it (`HTTPS_PROXY` → `https`, `all_proxy` → `all`,
//!   `https://api.corp.test_proxy` → `https://api.corp.test`), empty values skipped. If
//!   `REQUEST_METHOD` is set (a CGI script), the `http` key found so far is dropped (httpoxy,
//!   CVE-2016-1000110). A second pass over variables whose name ends in lowercase `_proxy`
//!   overrides: a value sets the key, an EMPTY value removes it (so `https_proxy=` hides
//!   `HTTPS_PROXY=…`).
//! - `select_proxy`: the first key present of `scheme://host`, `scheme`, `all://host`, `all`.
//! - Exclusions (`should_bypass_proxies`), two independent checks, either one bypasses:
//!   1. requests' own: the value of `no_proxy`, or of `NO_PROXY` when `no_proxy` is unset or
//!      empty. ALL spaces are removed, then split on commas. An IPv4 host (anything
//!      `inet_aton` accepts) matches a CIDR entry containing it (`10.0.0.0/8`; `is_valid_cidr`:
//!      one `/`, mask 1–32, inet_aton address, so `10/8` means 0.0.0.10/8) or an entry equal to
//!      it as text. Any other host (names, IPv6 without brackets: `::1`) matches an entry, leading
//!      dots removed, that equals the host or `host:port` (port only when the URL has one), or
//!      is a dot-separated suffix of either. Case-sensitive.
//!   2. urllib's `proxy_bypass_environment` (what requests' `proxy_bypass` is on Linux), fed the
//!      `no` key of step 1 above (so `No_Proxy` counts and an empty `no_proxy` hides `NO_PROXY`):
//!      the value exactly `*` bypasses everything; otherwise comma-split, each entry trimmed,
//!      leading dots removed, lowercased, and compared with the host and with the host minus a
//!      trailing `:digits` (meant for a port, but the host never has one: it shortens an IPv6
//!      address, so `2001:db8:` matches `2001:db8::1`) for equality or dot-suffix. IP addresses
//!      are compared as text too: `2.3` matches `10.1.2.3`.
//!
//!   Older requests releases matched requests' own entries as plain suffixes (`rp.test`
//!   matched `corp.test`, psf/requests#4795); current ones need a dot boundary. The choice
//!   carries a note when the difference matters.
//! - The proxy URL, as `HTTPAdapter.get_connection_with_tls_context` treats it:
//!   `prepend_scheme_if_needed(proxy, "http")` parses with urllib3's `parse_url`, which takes
//!   `word:` at the start as a scheme: `localhost:3128` is scheme `localhost` with no host
//!   (requests raises InvalidProxyURL), while `proxy.corp:3128` and `10.0.0.1:3128` get
//!   `http://`. Schemes: `http`/`https` (urllib3 ProxyManager, default ports 80/443), `socks5`/
//!   `socks5h` (PySocks, default port 1080; without PySocks requests raises InvalidSchema
//!   "Missing dependencies for SOCKS support."). Errors (`Err`): no host (InvalidProxyURL), a URL
//!   urllib3 cannot parse such as port 99999 (InvalidURL), any other scheme (`ftp://`: InvalidURL
//!   from ProxySchemeUnknown), and `socks4`/`socks4a`, which requests supports through PySocks
//!   but netpeel does not. Credentials are used only when the URL has a user name AND a
//!   password (`user@proxy` sends none; `user:@proxy` sends an empty password), percent-decoded.
//!
//! # curl's flags
//!
//! - `--proxy URL`: no `://` means `http://`; `http`, `https`, `socks5`, `socks5h`; curl's
//!   default ports (1080 for http:// and socks, 443 for https://); a user name without a password
//!   gets an empty password.
//! - `--noproxy LIST`: exactly `*` matches every host. Otherwise entries separated by commas
//!   (blanks around them skipped; a blank in the middle ends the list, as in curl). Names match
//!   case-insensitively, ignoring a leading dot in the entry and a trailing dot on either side,
//!   exactly or as a dot-separated suffix (`corp.test` matches `www.corp.test`, not
//!   `notcorp.test`); ports are not part of it. IP hosts match IP entries, optionally in CIDR
//!   notation (IPv4 and IPv6; `[::1]` is accepted for `::1`).
//!
//! # What is not mirrored
//!
//! The target arrives as a `url::Url`, which is already normalised: a default port is dropped
//! (`http://h:80/` is `http://h/`, so a `h:80` entry, which requests would match, does not), and
//! IPv4 forms such as `127.1` read as `127.0.0.1` (requests compares `127.1` as text).
//! Non-ASCII proxy host names are IDNA-encoded with the url crate's rules, not the `idna`
//! package's strict ones.

use std::ffi::OsStr;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Where a proxy setting came from, for the report ("works in my shell, fails in the service").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxySource {
    /// `--proxy`.
    Flag,
    /// The variable's name as found, e.g. `https_proxy`.
    Env(String),
}

impl fmt::Display for ProxySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySource::Flag => f.write_str("--proxy"),
            ProxySource::Env(name) => f.write_str(name),
        }
    }
}

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

/// The decision.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ProxyChoice {
    pub proxy: Option<ProxyUrl>,
    /// Set when `proxy` is.
    pub source: Option<ProxySource>,
    /// Why this proxy or why none, one sentence.
    pub reason: String,
    /// Further things worth telling (quirks, what curl or older requests would do), one
    /// sentence each.
    pub notes: Vec<String>,
}

/// The environment as `(name, value)` pairs for [`choose`], lossily decoded, order kept:
/// `env_pairs(std::env::vars_os())`.
pub fn env_pairs<I, K, V>(vars: I) -> Vec<(String, String)>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    vars.into_iter()
        .map(|(k, v)| {
            (
                k.as_ref().to_string_lossy().into_owned(),
                v.as_ref().to_string_lossy().into_owned(),
            )
        })
        .collect()
}

/// Decide the proxy for `target_url` (see the module documentation for the rules and their
/// precedence). `flag_proxy` is `--proxy`, `flag_noproxy` is `--noproxy`, `env` the process
/// environment in order (a repeated name counts once, first value, as getenv and os.environ
/// read it). `Err` is one line: a proxy URL requests (or netpeel) cannot use.
pub fn choose(
    target_url: &Url,
    flag_proxy: Option<&str>,
    flag_noproxy: Option<&str>,
    env: &[(String, String)],
) -> Result<ProxyChoice, String> {
    let env = Env::new(env);
    let Some(target) = Target::new(target_url) else {
        return Ok(none(format!(
            "no proxy: the URL has no host ({}:), requests never proxies it",
            target_url.scheme()
        )));
    };
    let proxies = EnvProxies::read(&env);
    let mut notes = Vec::new();

    if flag_proxy == Some("") {
        return Ok(none(
            "no proxy: --proxy \"\" turns proxies off, whatever the environment says".into(),
        ));
    }

    // The candidate: --proxy, or the environment's choice after NO_PROXY.
    let candidate: Candidate = match flag_proxy {
        Some(raw) => {
            if flag_noproxy.is_none()
                && let Some(m) = requests_no_proxy(&target, &env, &proxies)
            {
                notes.push(format!(
                    "{}, but NO_PROXY is not applied to --proxy (requests ignores NO_PROXY for a proxies= argument; curl -x would go direct)",
                    m.sentence.trim_start_matches("no proxy: ")
                ));
            }
            if let Some((_, var, value)) = select_proxy(&target, &proxies) {
                notes.push(format!(
                    "--proxy overrides {var}={}",
                    mask_password(value.trim_end_matches('\n'))
                ));
            }
            Candidate::Flag(raw)
        }
        None => {
            let selected = select_proxy(&target, &proxies);
            match (flag_noproxy, requests_no_proxy(&target, &env, &proxies)) {
                (None, Some(m)) if selected.is_some() => {
                    notes.extend(m.notes);
                    return Ok(ProxyChoice {
                        notes,
                        ..none(m.sentence)
                    });
                }
                (Some(_), Some(m)) if selected.is_some() => notes.push(format!(
                    "--noproxy replaces NO_PROXY, which requests would have applied ({})",
                    m.sentence.trim_start_matches("no proxy: ")
                )),
                _ => {}
            }
            match selected {
                Some((key, var, value)) => Candidate::Env { key, var, value },
                None => {
                    let reason = no_variable_reason(&target, &env, &proxies);
                    return Ok(none(reason));
                }
            }
        }
    };

    if let Some(list) = flag_noproxy {
        let m = curl_noproxy(&target, list);
        if let Some(rest) = &m.ignored {
            notes.push(format!(
                "--noproxy: curl stops reading the list at '{rest}' (entries are separated by commas, not blanks)"
            ));
        }
        if let Some(entry) = m.matched {
            let reason = if entry == "*" {
                "no proxy: --noproxy '*' turns proxies off for every host".to_string()
            } else {
                format!(
                    "no proxy: --noproxy entry '{entry}' matches {}",
                    target.display_host()
                )
            };
            return Ok(ProxyChoice {
                notes,
                ..none(reason)
            });
        }
    }

    match candidate {
        Candidate::Flag(raw) => {
            let proxy = parse_flag_proxy(raw, &mut notes)?;
            Ok(ProxyChoice {
                reason: format!("--proxy {} given: used for every URL scheme", proxy.display),
                proxy: Some(proxy),
                source: Some(ProxySource::Flag),
                notes,
            })
        }
        Candidate::Env { key, var, value } => {
            let shown = mask_password(value.trim_end_matches('\n'));
            let proxy = parse_requests_proxy(value, &mut notes)
                .map_err(|e| format!("{var}={shown}: {e}"))?;
            let core = value.strip_suffix('\n').unwrap_or(value);
            if core.trim() != core {
                notes.push(format!(
                    "{var} has blanks around its value; requests keeps them (here: host '{}')",
                    proxy.host
                ));
            }
            let scheme = &target.scheme;
            let why = if key == *scheme {
                format!("{scheme} URL")
            } else if key == "all" {
                format!("{scheme} URL; no {scheme}_proxy is set and all_proxy covers every scheme")
            } else if key.starts_with("all://") {
                format!("set for {} and any scheme", target.hostname)
            } else {
                format!("set for {key} only")
            };
            if flag_noproxy.is_none()
                && let Some(note) = old_requests_note(&target, &env)
            {
                notes.push(note);
            }
            Ok(ProxyChoice {
                reason: format!("{var}={shown} chose this proxy ({why})"),
                proxy: Some(proxy),
                source: Some(ProxySource::Env(var.to_string())),
                notes,
            })
        }
    }
}

enum Candidate<'a> {
    Flag(&'a str),
    Env {
        key: String,
        var: &'a str,
        value: &'a str,
    },
}

fn none(reason: String) -> ProxyChoice {
    ProxyChoice {
        proxy: None,
        source: None,
        reason,
        notes: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// The environment

/// The environment with repeated names removed (first wins, as getenv and os.environ do).
struct Env<'a> {
    vars: Vec<(&'a str, &'a str)>,
}

impl<'a> Env<'a> {
    fn new(pairs: &'a [(String, String)]) -> Self {
        let mut vars: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            if !vars.iter().any(|(seen, _)| *seen == k.as_str()) {
                vars.push((k.as_str(), v.as_str()));
            }
        }
        Env { vars }
    }

    /// `os.environ.get(name)`: exact, case-sensitive.
    fn get(&self, name: &str) -> Option<&'a str> {
        self.vars.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }
}

/// The result of `getproxies_environment()`: key → (variable, value).
struct EnvProxies<'a> {
    map: Vec<(String, &'a str, &'a str)>,
    /// `http` as found by the first pass and dropped for REQUEST_METHOD.
    cgi_dropped: Option<&'a str>,
    /// key → the variable with an empty value that removed it in the second pass, and what it
    /// removed.
    hidden: Vec<(String, &'a str, &'a str)>,
}

impl<'a> EnvProxies<'a> {
    fn read(env: &Env<'a>) -> Self {
        let mut map: Vec<(String, &'a str, &'a str)> = Vec::new();
        fn set<'a>(
            map: &mut Vec<(String, &'a str, &'a str)>,
            key: String,
            var: &'a str,
            v: &'a str,
        ) {
            match map.iter_mut().find(|(k, _, _)| *k == key) {
                Some(slot) => *slot = (key, var, v),
                None => map.push((key, var, v)),
            }
        }
        // First pass: any case.
        for (name, value) in &env.vars {
            let lower = name.to_lowercase();
            if !value.is_empty()
                && let Some(key) = lower.strip_suffix("_proxy")
            {
                set(&mut map, key.to_string(), name, value);
            }
        }
        let mut cgi_dropped = None;
        if env.get("REQUEST_METHOD").is_some()
            && let Some(i) = map.iter().position(|(k, _, _)| k == "http")
        {
            cgi_dropped = Some(map.remove(i).1);
        }
        // Second pass: names ending in lowercase "_proxy" win; empty values remove.
        let mut hidden = Vec::new();
        for (name, value) in &env.vars {
            if name.ends_with("_proxy") {
                let lower = name.to_lowercase();
                let key = lower.strip_suffix("_proxy").unwrap_or(&lower).to_string();
                if !value.is_empty() {
                    set(&mut map, key, name, value);
                } else if let Some(i) = map.iter().position(|(k, _, _)| *k == key) {
                    let (key, var, _) = map.remove(i);
                    if var != *name {
                        hidden.push((key, *name, var));
                    }
                }
            }
        }
        EnvProxies {
            map,
            cgi_dropped,
            hidden,
        }
    }

    fn get(&self, key: &str) -> Option<(&'a str, &'a str)> {
        self.map
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, var, value)| (*var, *value))
    }
}

/// `select_proxy`: the first of `scheme://host`, `scheme`, `all://host`, `all`.
fn select_proxy<'a>(
    target: &Target,
    proxies: &EnvProxies<'a>,
) -> Option<(String, &'a str, &'a str)> {
    let host = &target.hostname;
    let scheme = &target.scheme;
    [
        format!("{scheme}://{host}"),
        scheme.clone(),
        format!("all://{host}"),
        "all".to_string(),
    ]
    .into_iter()
    .find_map(|key| proxies.get(&key).map(|(var, value)| (key, var, value)))
}

/// Why no variable applies, as specifically as we can say it.
fn no_variable_reason(target: &Target, env: &Env, proxies: &EnvProxies) -> String {
    let scheme = &target.scheme;
    if scheme == "http"
        && let Some(var) = proxies.cgi_dropped
    {
        return format!(
            "no proxy: {var} is ignored because REQUEST_METHOD is set (requests thinks it runs as a CGI script, httpoxy protection); set http_proxy instead"
        );
    }
    if let Some((_, empty, hidden)) = proxies
        .hidden
        .iter()
        .find(|(k, _, _)| k == scheme || k == "all")
    {
        let value = env.get(hidden).unwrap_or("");
        return format!(
            "no proxy: {empty} is set but empty, which hides {hidden}={}",
            mask_password(value)
        );
    }
    let others: Vec<&str> = proxies
        .map
        .iter()
        .filter(|(k, _, _)| k != "no" && !k.contains("://"))
        .map(|(_, var, _)| *var)
        .collect();
    if others.is_empty() {
        format!("no proxy variable set for {scheme}")
    } else {
        format!(
            "no proxy variable set for {scheme} ({} only applies to other URL schemes)",
            others.join(", ")
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The target

struct Target {
    scheme: String,
    /// `urlparse(url).hostname`: lowercase, IPv6 without brackets.
    hostname: String,
    /// An explicit port (the url crate drops a default one).
    port: Option<u16>,
    kind: HostKind,
}

enum HostKind {
    Name,
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl Target {
    fn new(url: &Url) -> Option<Target> {
        let (hostname, kind) = match url.host()? {
            Host::Domain(d) => (d.to_lowercase(), HostKind::Name),
            Host::Ipv4(a) => (a.to_string(), HostKind::V4(a)),
            Host::Ipv6(a) => (a.to_string(), HostKind::V6(a)),
        };
        if hostname.is_empty() {
            return None;
        }
        Some(Target {
            scheme: url.scheme().to_string(),
            hostname,
            port: url.port(),
            kind,
        })
    }

    /// `host_with_port` in should_bypass_proxies (a port 0 is falsy there).
    fn host_with_port(&self) -> String {
        match self.port {
            Some(p) if p != 0 => format!("{}:{p}", self.hostname),
            _ => self.hostname.clone(),
        }
    }

    fn display_host(&self) -> String {
        match self.kind {
            HostKind::V6(_) => format!("[{}]", self.hostname),
            _ => self.hostname.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// NO_PROXY as requests applies it

struct NoProxyMatch {
    /// "no proxy: NO_PROXY entry '.internal' matches api.internal"
    sentence: String,
    notes: Vec<String>,
}

/// `should_bypass_proxies(url, no_proxy=None)`.
fn requests_no_proxy(target: &Target, env: &Env, proxies: &EnvProxies) -> Option<NoProxyMatch> {
    requests_own_check(target, env).or_else(|| urllib_check(target, proxies))
}

/// The `no_proxy` value requests' own loop reads: `no_proxy`, else `NO_PROXY`.
fn requests_no_proxy_var<'a>(env: &Env<'a>) -> Option<(&'static str, &'a str)> {
    match env.get("no_proxy") {
        Some(v) if !v.is_empty() => Some(("no_proxy", v)),
        _ => env.get("NO_PROXY").map(|v| ("NO_PROXY", v)),
    }
}

/// The loop in `should_bypass_proxies` itself.
fn requests_own_check(target: &Target, env: &Env) -> Option<NoProxyMatch> {
    let (var, value) = requests_no_proxy_var(env)?;
    if value.is_empty() {
        return None;
    }
    let host = &target.hostname;
    let shown_host = target.display_host();
    for original in value.split(',') {
        let entry = original.replace(' ', "");
        if entry.is_empty() {
            continue;
        }
        let mut notes = Vec::new();
        if original.trim_matches(' ').contains(' ') {
            notes.push(format!(
                "requests removes every space from {var}, so '{}' reads as '{entry}'",
                original.trim_matches(' ')
            ));
        }
        let sentence = if inet_aton(host).is_some() {
            if is_valid_cidr(&entry) {
                address_in_network(host, &entry)
                    .then(|| format!("no proxy: {var} entry '{entry}' contains {shown_host}"))
            } else {
                (*host == entry).then(|| format!("no proxy: {var} entry '{entry}' is {shown_host}"))
            }
        } else {
            let with_port = target.host_with_port();
            let bare = entry.trim_start_matches('.');
            let dotted = format!(".{bare}");
            if *host == bare || host.ends_with(&dotted) {
                Some(format!(
                    "no proxy: {var} entry '{entry}' matches {shown_host}"
                ))
            } else if with_port == bare || with_port.ends_with(&dotted) {
                Some(format!(
                    "no proxy: {var} entry '{entry}' matches {shown_host}:{}",
                    target.port.unwrap_or(0)
                ))
            } else {
                None
            }
        };
        if let Some(sentence) = sentence {
            return Some(NoProxyMatch { sentence, notes });
        }
    }
    None
}

/// `urllib.request.proxy_bypass_environment(hostname)`, fed getproxies_environment()'s `no`.
fn urllib_check(target: &Target, proxies: &EnvProxies) -> Option<NoProxyMatch> {
    let (var, value) = proxies.get("no")?;
    if value == "*" {
        return Some(NoProxyMatch {
            sentence: format!("no proxy: {var} is '*' (no proxy for any host)"),
            notes: Vec::new(),
        });
    }
    let host = target.hostname.to_lowercase();
    let hostonly = splitport(&host);
    let shown_host = target.display_host();
    for name in value.split(',') {
        let name = py_strip(name);
        if name.is_empty() {
            continue;
        }
        let bare = name.trim_start_matches('.').to_lowercase();
        let dotted = format!(".{bare}");
        let exact = hostonly == bare || host == bare;
        if !(exact || hostonly.ends_with(&dotted) || host.ends_with(&dotted)) {
            continue;
        }
        let how = match target.kind {
            HostKind::V4(_) if !exact => {
                " (urllib compares IP addresses as text, dot-suffix included)"
            }
            HostKind::V6(_) if !(host == bare || host.ends_with(&dotted)) => {
                " (urllib cuts ':digits' off an IPv6 address as if it were a port)"
            }
            _ => "",
        };
        return Some(NoProxyMatch {
            sentence: format!("no proxy: {var} entry '{name}' matches {shown_host}{how}"),
            notes: Vec::new(),
        });
    }
    None
}

/// urllib's `_splitport(host)[0]`: `(.*):([0-9]*)` — the part before the last ':' when only
/// digits follow it.
fn splitport(host: &str) -> &str {
    match host.rfind(':') {
        Some(i) if host[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &host[..i],
        _ => host,
    }
}

/// Python's `str.strip()` (Unicode whitespace, plus the separators Python counts).
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// A note when older requests releases (plain suffix match, psf/requests#4795) would bypass.
fn old_requests_note(target: &Target, env: &Env) -> Option<String> {
    let (var, value) = requests_no_proxy_var(env)?;
    if inet_aton(&target.hostname).is_some() {
        return None;
    }
    let with_port = target.host_with_port();
    value
        .replace(' ', "")
        .split(',')
        .filter(|e| !e.is_empty())
        .find(|e| target.hostname.ends_with(e) || with_port.ends_with(e))
        .map(|e| {
            format!(
                "older requests releases matched {var} entries as plain suffixes (psf/requests#4795) and would go direct: '{e}' is a suffix of {}",
                target.hostname
            )
        })
}

/// glibc `inet_aton`, as Python's `socket.inet_aton` (and so requests' `is_ipv4_address`)
/// uses it: 1–4 parts, decimal/octal/hex, the last part filling the remaining bytes, anything
/// after a whitespace character ignored.
fn inet_aton(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut parts: Vec<u64> = Vec::with_capacity(4);
    loop {
        if i >= b.len() || !b[i].is_ascii_digit() {
            return None;
        }
        let mut base = 10;
        let mut digits = 0;
        if b[i] == b'0' {
            base = 8;
            i += 1;
            digits = 1;
            if i < b.len() && (b[i] | 0x20) == b'x' {
                base = 16;
                i += 1;
                digits = 0;
            }
        }
        let mut val: u64 = 0;
        while i < b.len() {
            let d = match (b[i] as char).to_digit(16) {
                Some(d) if base == 16 => d,
                Some(d) if d < 10 && b[i].is_ascii_digit() => {
                    if base == 8 && d >= 8 {
                        return None;
                    }
                    d
                }
                _ => break,
            };
            val = val * base + u64::from(d);
            if val > 0xffff_ffff {
                return None;
            }
            digits += 1;
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        parts.push(val);
        if i < b.len() && b[i] == b'.' {
            if parts.len() > 3 {
                return None;
            }
            i += 1;
            continue;
        }
        break;
    }
    if i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        return None;
    }
    let last = *parts.last()?;
    let (max_last, head) = match parts.len() {
        1 => (0xffff_ffff, &parts[..0]),
        2 => (0xff_ffff, &parts[..1]),
        3 => (0xffff, &parts[..2]),
        _ => (0xff, &parts[..3]),
    };
    if last > max_last || head.iter().any(|&p| p > 0xff) {
        return None;
    }
    let mut addr: u64 = 0;
    for (n, p) in head.iter().enumerate() {
        addr |= p << (24 - 8 * n);
    }
    Some((addr | last) as u32)
}

/// Python's `int(s)` for the few forms a CIDR mask can take (blanks, sign, `_` between digits).
fn py_int(s: &str) -> Option<i64> {
    let s = py_strip(s);
    let (neg, digits) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let v = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0i64, |acc, d| {
            acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    Some(if neg { -v } else { v })
}

/// requests' `is_valid_cidr`.
fn is_valid_cidr(s: &str) -> bool {
    if s.matches('/').count() != 1 {
        return false;
    }
    let (addr, mask) = s.split_once('/').unwrap_or((s, ""));
    matches!(py_int(mask), Some(1..=32)) && inet_aton(addr).is_some()
}

/// requests' `address_in_network` (only called after is_valid_cidr).
fn address_in_network(ip: &str, net: &str) -> bool {
    let (Some(ip), Some((addr, bits))) = (inet_aton(ip), net.split_once('/')) else {
        return false;
    };
    let (Some(network), Some(bits)) = (inet_aton(addr), py_int(bits)) else {
        return false;
    };
    let mask = u32::MAX
        .checked_shl(32 - bits.clamp(1, 32) as u32)
        .unwrap_or(0);
    ip & mask == network & mask
}

// ---------------------------------------------------------------------------------------------
// --noproxy as curl applies it

struct CurlNoProxy {
    matched: Option<String>,
    /// The rest of the list after a blank that ended it.
    ignored: Option<String>,
}

fn curl_noproxy(target: &Target, list: &str) -> CurlNoProxy {
    if list == "*" {
        return CurlNoProxy {
            matched: Some("*".into()),
            ignored: None,
        };
    }
    let blank = |c: char| c == ' ' || c == '\t';
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches(blank);
        let end = rest
            .find(|c: char| blank(c) || c == ',')
            .unwrap_or(rest.len());
        let token = &rest[..end];
        if !token.is_empty() && curl_token_matches(target, token) {
            return CurlNoProxy {
                matched: Some(token.to_string()),
                ignored: None,
            };
        }
        rest = rest[end..].trim_start_matches(blank);
        if !rest.starts_with(',') {
            return CurlNoProxy {
                matched: None,
                ignored: (!rest.is_empty()).then(|| rest.to_string()),
            };
        }
        rest = rest.trim_start_matches(',');
    }
}

fn curl_token_matches(target: &Target, token: &str) -> bool {
    match target.kind {
        HostKind::Name => {
            let name = target.hostname.as_bytes();
            let name = name.strip_suffix(b".").unwrap_or(name);
            let tok = token.as_bytes();
            let tok = tok.strip_suffix(b".").unwrap_or(tok);
            let tok = tok.strip_prefix(b".").unwrap_or(tok);
            if tok.len() == name.len() {
                tok.eq_ignore_ascii_case(name)
            } else if tok.len() < name.len() {
                let at = name.len() - tok.len();
                name[at - 1] == b'.' && tok.eq_ignore_ascii_case(&name[at..])
            } else {
                false
            }
        }
        HostKind::V4(ip) => {
            let (addr, bits) = split_bits(token);
            let Ok(net) = addr.parse::<Ipv4Addr>() else {
                return false;
            };
            match bits {
                b if b > 32 => false,
                0 | 32 => ip == net,
                b => (u32::from(ip) ^ u32::from(net)) >> (32 - b) == 0,
            }
        }
        HostKind::V6(ip) => {
            let (addr, bits) = split_bits(token);
            let addr = addr
                .strip_prefix('[')
                .and_then(|a| a.strip_suffix(']'))
                .unwrap_or(addr);
            let Ok(net) = addr.parse::<Ipv6Addr>() else {
                return false;
            };
            match bits {
                b if b > 128 => false,
                0 | 128 => ip == net,
                b => (u128::from(ip) ^ u128::from(net)) >> (128 - b) == 0,
            }
        }
    }
}

/// `addr/bits` with curl's atoi (garbage reads as 0, meaning an exact match; negative values
/// are huge and never match).
fn split_bits(token: &str) -> (&str, u64) {
    match token.split_once('/') {
        None => (token, 0),
        Some((addr, bits)) => {
            let bits = bits.trim_start();
            let (neg, digits) = match bits.as_bytes().first() {
                Some(b'-') => (true, &bits[1..]),
                Some(b'+') => (false, &bits[1..]),
                _ => (false, bits),
            };
            let n = digits
                .bytes()
                .take_while(u8::is_ascii_digit)
                .fold(0u64, |acc, d| {
                    acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
            (addr, if neg && n != 0 { u64::MAX } else { n })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Proxy URLs

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
    let (host, port_part) = if host_port.starts_with('[') {
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
        (host, &host_port[close + 1..])
    } else {
        let end = host_port.find(':').unwrap_or(host_port.len());
        let host = &host_port[..end];
        if host.contains(['[', ']']) || !percent_escapes_valid(host) {
            return Err(format!("'{host}' is not a valid host"));
        }
        (host.to_string(), &host_port[end..])
    };
    if let Some(digits) = port_part.strip_prefix(':') {
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
        if !t.is_empty() {
            let p: u32 = t.parse().map_err(|_| format!("port {digits}"))?;
            if p > 65535 {
                return Err(format!("port {p} is out of range"));
            }
            parsed.port = Some(p);
        }
    } else if !port_part.is_empty() && port_part != "\n" {
        return Err(format!("unexpected '{port_part}' after the host"));
    }
    parsed.host = Some(
        if normalize && !host.starts_with('[') && !host.contains(':') {
            normalize_name(&host)?
        } else {
            host
        },
    );
    Ok(parsed)
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
fn parse_requests_proxy(raw: &str, notes: &mut Vec<String>) -> Result<ProxyUrl, String> {
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
fn parse_flag_proxy(raw: &str, notes: &mut Vec<String>) -> Result<ProxyUrl, String> {
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
fn mask_password(raw: &str) -> String {
    let (prefix, rest) = match raw.find("://") {
        Some(i) => raw.split_at(i + 3),
        None => ("", raw),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = match userinfo.find(':') {
                Some(c) => format!("{}:***", &userinfo[..c]),
                None => userinfo.to_string(),
            };
            format!("{prefix}{user}{}{tail}", &authority[at..])
        }
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn pick(url: &str, pairs: &[(&str, &str)]) -> ProxyChoice {
        choose(&Url::parse(url).unwrap(), None, None, &env(pairs)).unwrap()
    }

    fn with_flags(
        url: &str,
        proxy: Option<&str>,
        noproxy: Option<&str>,
        pairs: &[(&str, &str)],
    ) -> Result<ProxyChoice, String> {
        choose(&Url::parse(url).unwrap(), proxy, noproxy, &env(pairs))
    }

    fn host_port(c: &ProxyChoice) -> Option<(String, u16)> {
        c.proxy.as_ref().map(|p| (p.host.clone(), p.port))
    }

    const P: &str = "http://proxy:3128";

    #[test]
    fn https_proxy_for_https_urls_with_its_name_and_reason() {
        let c = pick("https://api.corp.test/", &[("HTTPS_PROXY", P)]);
        assert_eq!(host_port(&c), Some(("proxy".into(), 3128)));
        assert_eq!(c.source, Some(ProxySource::Env("HTTPS_PROXY".into())));
        assert_eq!(
            c.reason,
            "HTTPS_PROXY=http://proxy:3128 chose this proxy (https URL)"
        );
        let c = pick("http://api.corp.test/", &[("HTTPS_PROXY", P)]);
        assert_eq!(c.proxy, None);
        assert_eq!(
            c.reason,
            "no proxy variable set for http (HTTPS_PROXY only applies to other URL schemes)"
        );
        assert_eq!(
            pick("http://a/", &[]).reason,
            "no proxy variable set for http"
        );
    }

    #[test]
    fn lowercase_wins_and_an_empty_lowercase_hides_uppercase() {
        let c = pick(
            "https://a.test/",
            &[
                ("https_proxy", "http://low:1"),
                ("HTTPS_PROXY", "http://up:2"),
            ],
        );
        assert_eq!(host_port(&c), Some(("low".into(), 1)));
        let c = pick(
            "https://a.test/",
            &[
                ("HTTPS_PROXY", "http://up:2"),
                ("https_proxy", "http://low:1"),
            ],
        );
        assert_eq!(host_port(&c), Some(("low".into(), 1)));
        let c = pick(
            "https://a.test/",
            &[("https_proxy", ""), ("HTTPS_PROXY", "http://up:2")],
        );
        assert_eq!(c.proxy, None);
        assert_eq!(
            c.reason,
            "no proxy: https_proxy is set but empty, which hides HTTPS_PROXY=http://up:2"
        );
        // Mixed case counts (first pass); later spellings overwrite earlier ones.
        let c = pick("https://a.test/", &[("Https_Proxy", "http://mixed:3")]);
        assert_eq!(c.source, Some(ProxySource::Env("Https_Proxy".into())));
    }

    #[test]
    fn request_method_drops_uppercase_http_proxy_only() {
        let cgi = [("HTTP_PROXY", P), ("REQUEST_METHOD", "GET")];
        let c = pick("http://a.test/", &cgi);
        assert_eq!(c.proxy, None);
        assert!(c.reason.contains("REQUEST_METHOD"), "{}", c.reason);
        let c = pick(
            "http://a.test/",
            &[("http_proxy", P), ("REQUEST_METHOD", "")],
        );
        assert!(c.proxy.is_some());
        let c = pick(
            "http://a.test/",
            &[("HTTP_proxy", P), ("REQUEST_METHOD", "GET")],
        );
        assert!(
            c.proxy.is_some(),
            "a name ending in lowercase _proxy survives"
        );
        let c = pick(
            "https://a.test/",
            &[("HTTPS_PROXY", P), ("REQUEST_METHOD", "GET")],
        );
        assert!(c.proxy.is_some());
    }

    #[test]
    fn select_proxy_key_order() {
        let e = [
            ("all_proxy", "socks5h://all:1080"),
            ("https_proxy", "http://scheme:1"),
            ("all://api.corp.test_proxy", "http://allhost:2"),
            ("https://api.corp.test_proxy", "http://schemehost:3"),
        ];
        assert_eq!(
            host_port(&pick("https://api.corp.test/", &e)).unwrap().0,
            "schemehost"
        );
        assert_eq!(
            host_port(&pick("http://api.corp.test/", &e)).unwrap().0,
            "allhost"
        );
        assert_eq!(
            host_port(&pick("https://other.test/", &e)).unwrap().0,
            "scheme"
        );
        let c = pick("http://other.test/", &e);
        assert_eq!(c.proxy.as_ref().unwrap().scheme, ProxyScheme::Socks5h);
        assert_eq!(c.proxy.as_ref().unwrap().port, 1080);
        assert!(
            c.reason.contains("all_proxy covers every scheme"),
            "{}",
            c.reason
        );
    }

    #[test]
    fn no_proxy_names_need_a_dot_boundary_in_current_requests() {
        let c = pick(
            "https://api.internal/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", ".internal")],
        );
        assert_eq!(c.proxy, None);
        assert_eq!(
            c.reason,
            "no proxy: NO_PROXY entry '.internal' matches api.internal"
        );
        let c = pick(
            "https://corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "rp.test")],
        );
        assert!(c.proxy.is_some());
        assert!(
            c.notes.iter().any(|n| n.contains("psf/requests#4795")),
            "{:?}",
            c.notes
        );
        let c = pick(
            "https://corp.test/",
            &[("HTTPS_PROXY", P), ("no_proxy", ".corp.test")],
        );
        assert_eq!(c.proxy, None);
    }

    #[test]
    fn no_proxy_host_port_star_and_spaces() {
        let e = [("HTTPS_PROXY", P), ("NO_PROXY", "corp.test:8443")];
        assert_eq!(pick("https://corp.test:8443/", &e).proxy, None);
        assert!(pick("https://corp.test/", &e).proxy.is_some());
        assert_eq!(
            pick("https://x/", &[("HTTPS_PROXY", P), ("NO_PROXY", "*")]).proxy,
            None
        );
        assert!(
            pick("https://x/", &[("HTTPS_PROXY", P), ("NO_PROXY", "*,y")])
                .proxy
                .is_some()
        );
        let c = pick(
            "https://corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "co rp.test")],
        );
        assert_eq!(c.proxy, None);
        assert!(c.notes[0].contains("removes every space"), "{:?}", c.notes);
        // urllib's check lowercases, requests' own does not: either bypasses.
        assert_eq!(
            pick(
                "https://corp.test/",
                &[("HTTPS_PROXY", P), ("NO_PROXY", "Corp.TEST")]
            )
            .proxy,
            None
        );
        // no_proxy empty: requests' loop falls back to NO_PROXY.
        let c = pick(
            "https://corp.test/",
            &[
                ("HTTPS_PROXY", P),
                ("no_proxy", ""),
                ("NO_PROXY", "corp.test"),
            ],
        );
        assert_eq!(c.proxy, None);
    }

    #[test]
    fn no_proxy_ipv4_cidr_exact_and_text_suffix() {
        let e = |v: &'static str| [("HTTP_PROXY", P), ("NO_PROXY", v)];
        assert_eq!(pick("http://10.1.2.3/", &e("10.0.0.0/8")).proxy, None);
        assert!(pick("http://10.1.2.3/", &e("10.0.0.0/33")).proxy.is_some());
        assert!(
            pick("http://10.1.2.3/", &e("10/8")).proxy.is_some(),
            "10/8 is 0.0.0.10/8"
        );
        assert_eq!(pick("http://10.1.2.3:8080/", &e("10.1.2.3")).proxy, None);
        let c = pick("http://10.1.2.3/", &e("2.3"));
        assert_eq!(c.proxy, None);
        assert!(c.reason.contains("as text"), "{}", c.reason);
        assert!(
            pick("http://192.168.2.1/", &e("192.168.1.0/24"))
                .proxy
                .is_some()
        );
    }

    #[test]
    fn no_proxy_ipv6() {
        let e = |v: &'static str| [("HTTP_PROXY", P), ("NO_PROXY", v)];
        assert_eq!(pick("http://[::1]:8080/", &e("::1")).proxy, None);
        assert!(pick("http://[::1]:8080/", &e("[::1]")).proxy.is_some());
        assert_eq!(pick("http://[::1]:8080/", &e("::1:8080")).proxy, None);
        let c = pick("http://[2001:db8::1]/", &e("2001:db8:"));
        assert_eq!(c.proxy, None);
        assert!(c.reason.contains("as if it were a port"), "{}", c.reason);
    }

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
    fn flag_proxy_overrides_the_environment_and_ignores_no_proxy() {
        let e = [
            ("HTTPS_PROXY", "http://envproxy:1"),
            ("NO_PROXY", "api.internal"),
        ];
        let c = with_flags("https://api.internal/", Some("flagproxy:8080"), None, &e).unwrap();
        assert_eq!(host_port(&c), Some(("flagproxy".into(), 8080)));
        assert_eq!(c.source, Some(ProxySource::Flag));
        assert_eq!(
            c.reason,
            "--proxy http://flagproxy:8080 given: used for every URL scheme"
        );
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("curl -x would go direct")),
            "{:?}",
            c.notes
        );
        assert!(
            c.notes.iter().any(|n| n.contains("overrides HTTPS_PROXY")),
            "{:?}",
            c.notes
        );
        // curl's scheme-less reading, curl's default port; requests would have failed.
        let c = with_flags("http://a/", Some("localhost"), None, &[]).unwrap();
        assert_eq!(host_port(&c), Some(("localhost".into(), 1080)));
        let c = with_flags("http://a/", Some("localhost:3128"), None, &[]).unwrap();
        assert!(
            c.notes.iter().any(|n| n.contains("'localhost:'")),
            "{:?}",
            c.notes
        );
        let c = with_flags("http://a/", Some("socks5h://u@[::1]:9050"), None, &[]).unwrap();
        let p = c.proxy.unwrap();
        assert_eq!(
            (p.scheme, p.host.as_str(), p.port),
            (ProxyScheme::Socks5h, "::1", 9050)
        );
        assert_eq!(
            (p.username.as_deref(), p.password.as_deref()),
            (Some("u"), Some(""))
        );
        assert_eq!(p.display, "socks5h://u@[::1]:9050");
        assert!(with_flags("http://a/", Some("ftp://p"), None, &[]).is_err());
        // --proxy "" turns everything off.
        let c = with_flags("https://a/", Some(""), None, &[("HTTPS_PROXY", P)]).unwrap();
        assert_eq!(c.proxy, None);
    }

    #[test]
    fn flag_noproxy_uses_curls_matching_and_replaces_no_proxy() {
        let e = [("HTTPS_PROXY", P), ("NO_PROXY", "corp.test")];
        // --noproxy given: NO_PROXY no longer counts.
        let c = with_flags("https://corp.test/", None, Some("other"), &e).unwrap();
        assert!(c.proxy.is_some());
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("--noproxy replaces NO_PROXY")),
            "{:?}",
            c.notes
        );
        let c = with_flags("https://www.corp.test./", None, Some(".corp.test."), &e).unwrap();
        assert_eq!(c.proxy, None);
        assert_eq!(
            c.reason,
            "no proxy: --noproxy entry '.corp.test.' matches www.corp.test."
        );
        let c = with_flags("https://notcorp.test/", None, Some("corp.test"), &e).unwrap();
        assert!(c.proxy.is_some());
        let c = with_flags("https://b.test/", Some("p:1"), Some("*"), &[]).unwrap();
        assert_eq!(
            c.reason,
            "no proxy: --noproxy '*' turns proxies off for every host"
        );
        // Blanks end curl's list.
        let c = with_flags("https://b.test/", Some("p:1"), Some("a.test b.test"), &[]).unwrap();
        assert!(c.proxy.is_some());
        assert!(
            c.notes.iter().any(|n| n.contains("stops reading")),
            "{:?}",
            c.notes
        );
        let c = with_flags(
            "https://b.test/",
            Some("p:1"),
            Some(" a.test , b.test"),
            &[],
        )
        .unwrap();
        assert_eq!(c.proxy, None);
        // IPs: CIDR both families; names never match IPs; ports are not part of curl's match.
        assert_eq!(
            with_flags("http://10.1.2.3/", Some("p:1"), Some("10.0.0.0/8"), &[])
                .unwrap()
                .proxy,
            None
        );
        assert!(
            with_flags("http://10.1.2.3/", Some("p:1"), Some("10.1.2.4"), &[])
                .unwrap()
                .proxy
                .is_some()
        );
        assert_eq!(
            with_flags(
                "http://[2001:db8::5]/",
                Some("p:1"),
                Some("2001:db8::/32"),
                &[]
            )
            .unwrap()
            .proxy,
            None
        );
        assert_eq!(
            with_flags("http://[::1]/", Some("p:1"), Some("[::1]"), &[])
                .unwrap()
                .proxy,
            None
        );
        assert!(
            with_flags("http://h:8080/", Some("p:1"), Some("h:8080"), &[])
                .unwrap()
                .proxy
                .is_some()
        );
        // An empty --noproxy matches nothing but still switches NO_PROXY off.
        let c = with_flags("https://corp.test/", None, Some(""), &e).unwrap();
        assert!(c.proxy.is_some());
    }

    #[test]
    fn repeated_names_count_once_first_value() {
        let c = pick(
            "https://a/",
            &[
                ("HTTPS_PROXY", "http://first:1"),
                ("HTTPS_PROXY", "http://second:2"),
            ],
        );
        assert_eq!(host_port(&c), Some(("first".into(), 1)));
    }

    #[test]
    fn env_pairs_keeps_order_and_decodes_lossily() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let pairs = env_pairs(vec![
            (OsString::from("B_PROXY"), OsString::from("x")),
            (OsString::from("A"), OsString::from_vec(vec![b'a', 0xff])),
        ]);
        assert_eq!(
            pairs,
            vec![
                ("B_PROXY".to_string(), "x".to_string()),
                ("A".to_string(), "a\u{fffd}".to_string())
            ]
        );
    }

    #[test]
    fn inet_aton_like_glibc() {
        assert_eq!(inet_aton("1.2.3.4"), Some(0x01020304));
        assert_eq!(inet_aton("1.2.3.4 x"), Some(0x01020304));
        assert_eq!(inet_aton("0x7f.1"), Some(0x7f000001));
        assert_eq!(inet_aton("010.1"), Some(0x08000001));
        assert_eq!(inet_aton("1.16777215"), Some(0x01ffffff));
        assert_eq!(inet_aton("4294967295"), Some(u32::MAX));
        for bad in [
            "0x",
            "08",
            "4294967296",
            "1.2.3.256",
            "1.2.3.",
            "1..2",
            ".1",
            " 1",
            "1.2.3.4.5",
            "1.2.3.4x",
            "::1",
        ] {
            assert_eq!(inet_aton(bad), None, "{bad}");
        }
        assert_eq!(py_int(" +2_4 "), Some(24));
        assert_eq!(py_int("2__4"), None);
        assert!(
            is_valid_cidr("10.0.0.0/8") && !is_valid_cidr("10.0.0.0/0") && !is_valid_cidr("a/8")
        );
    }

    #[test]
    fn mask_password_in_odd_values() {
        assert_eq!(mask_password("http://u:p@h:1/x"), "http://u:***@h:1/x");
        assert_eq!(mask_password("u:p@h:1"), "u:***@h:1");
        assert_eq!(mask_password("http://u@h"), "http://u@h");
        assert_eq!(mask_password("http://h"), "http://h");
    }
}
