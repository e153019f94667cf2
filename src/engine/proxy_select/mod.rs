//! Does a request go through a proxy, which one, and why: decided exactly as Python requests 2.x
//! decides it (checked against requests 2.34.2 / urllib3 2.7.0 / CPython 3.11 on Linux by
//! tests/suite/proxy_select.rs), plus curl's `--proxy` / `--noproxy` flags on top.
//!
//! Pure: nothing here reads the process environment, resolves a name or opens a socket. The
//! caller passes the environment as `(name, value)` pairs in the process's order, e.g.
//! `choose(&url, flag_proxy, flag_noproxy, &env_pairs(std::env::vars_os()))`.
//!
//! The rules live next to the code that applies them: `requests_env.rs` (the `*_proxy`
//! variables and `select_proxy`), `no_proxy.rs` (NO_PROXY as requests and urllib check it),
//! `curl_noproxy.rs` (`--noproxy`), `proxy_url.rs` (proxy URLs as urllib3 and curl parse them,
//! credentials, masking).
//!
//! # Precedence
//!
//! 1. `--proxy ""` turns proxies off (curl's meaning); nothing else is consulted.
//! 2. The candidate proxy: `--proxy URL` when given (curl's meaning: one proxy for every URL
//!    scheme, replacing every `*_proxy` variable); otherwise the environment as requests reads it
//!    (`get_environ_proxies` then `select_proxy`, see `requests_env.rs`).
//! 3. The exclusions: `--noproxy LIST` when given (curl's matching, `curl_noproxy.rs`) replaces
//!    `NO_PROXY`/`no_proxy` completely, for a `--proxy` and for an environment proxy alike.
//!    Without `--noproxy`, `NO_PROXY` applies to environment proxies only, as requests' own
//!    `should_bypass_proxies` does; a `--proxy` is treated like `proxies={"all": URL}` given to
//!    requests, which ignores `NO_PROXY` (curl -x would honour it: the choice carries a note when
//!    that makes a difference).
//!
//! # What is not mirrored
//!
//! The target arrives as a `url::Url`, which is already normalised: a default port is dropped
//! (`http://h:80/` is `http://h/`, so a `h:80` entry, which requests would match, does not), and
//! IPv4 forms such as `127.1` read as `127.0.0.1` (requests compares `127.1` as text).
//! Non-ASCII proxy host names are IDNA-encoded with the url crate's rules, not the `idna`
//! package's strict ones.

mod curl_noproxy;
mod no_proxy;
mod proxy_url;
mod requests_env;

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

pub use proxy_url::{ProxyScheme, ProxyUrl};
pub use requests_env::{env_pairs, proxy_env};

use curl_noproxy::noproxy_flag_reason;
use no_proxy::{old_requests_note, requests_no_proxy};
use proxy_url::{mask_password, parse_flag_proxy, parse_requests_proxy};
use requests_env::{Env, EnvProxies, no_variable_reason, select_proxy, why_key_applies};

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

/// Whether a request goes through a proxy, which one, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
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

impl ProxyChoice {
    /// No proxy, for this reason (one sentence).
    pub fn direct(reason: String) -> Self {
        ProxyChoice {
            proxy: None,
            source: None,
            reason,
            notes: Vec::new(),
        }
    }
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
        return Ok(ProxyChoice::direct(format!(
            "no proxy: the URL has no host ({}:), requests never proxies it",
            target_url.scheme()
        )));
    };
    let proxies = EnvProxies::read(&env);
    match flag_proxy {
        Some("") => Ok(ProxyChoice::direct(
            "no proxy: --proxy \"\" turns proxies off, whatever the environment says".into(),
        )),
        Some(raw) => choose_flag_proxy(raw, flag_noproxy, &target, &env, &proxies),
        None => choose_env_proxy(flag_noproxy, &target, &env, &proxies),
    }
}

/// `--proxy URL`: that proxy for every URL scheme unless `--noproxy` matches. NO_PROXY is not
/// applied (requests ignores it for a `proxies=` argument); the notes say when curl would
/// differ and which variable the flag overrides.
fn choose_flag_proxy(
    raw: &str,
    flag_noproxy: Option<&str>,
    target: &Target,
    env: &Env,
    proxies: &EnvProxies,
) -> Result<ProxyChoice, String> {
    let mut notes = Vec::new();
    if flag_noproxy.is_none()
        && let Some(m) = requests_no_proxy(target, env, proxies)
    {
        notes.push(format!(
            "{}, but NO_PROXY is not applied to --proxy (requests ignores NO_PROXY for a proxies= argument; curl -x would go direct)",
            m.sentence.trim_start_matches("no proxy: ")
        ));
    }
    if let Some((_, var, value)) = select_proxy(target, proxies) {
        notes.push(format!(
            "--proxy overrides {var}={}",
            mask_password(value.trim_end_matches('\n'))
        ));
    }
    let noproxy_reason =
        flag_noproxy.and_then(|list| noproxy_flag_reason(target, list, &mut notes));
    if let Some(reason) = noproxy_reason {
        return Ok(ProxyChoice {
            notes,
            ..ProxyChoice::direct(reason)
        });
    }
    let proxy = parse_flag_proxy(raw, &mut notes)?;
    Ok(ProxyChoice {
        reason: format!("--proxy {} given: used for every URL scheme", proxy.display),
        proxy: Some(proxy),
        source: Some(ProxySource::Flag),
        notes,
    })
}

/// No `--proxy`: the environment's proxy as requests selects it, after NO_PROXY (or
/// `--noproxy`, which replaces it). A proxy value requests would bypass is never parsed, as in
/// requests.
fn choose_env_proxy(
    flag_noproxy: Option<&str>,
    target: &Target,
    env: &Env,
    proxies: &EnvProxies,
) -> Result<ProxyChoice, String> {
    let mut notes = Vec::new();
    let selected = select_proxy(target, proxies);
    match (flag_noproxy, requests_no_proxy(target, env, proxies)) {
        (None, Some(m)) if selected.is_some() => {
            notes.extend(m.notes);
            return Ok(ProxyChoice {
                notes,
                ..ProxyChoice::direct(m.sentence)
            });
        }
        (Some(_), Some(m)) if selected.is_some() => notes.push(format!(
            "--noproxy replaces NO_PROXY, which requests would have applied ({})",
            m.sentence.trim_start_matches("no proxy: ")
        )),
        _ => {}
    }
    let Some((key, var, value)) = selected else {
        return Ok(ProxyChoice::direct(no_variable_reason(
            target, env, proxies,
        )));
    };
    let noproxy_reason =
        flag_noproxy.and_then(|list| noproxy_flag_reason(target, list, &mut notes));
    if let Some(reason) = noproxy_reason {
        return Ok(ProxyChoice {
            notes,
            ..ProxyChoice::direct(reason)
        });
    }
    let shown = mask_password(value.trim_end_matches('\n'));
    let proxy =
        parse_requests_proxy(value, &mut notes).map_err(|e| format!("{var}={shown}: {e}"))?;
    let core = value.strip_suffix('\n').unwrap_or(value);
    if core.trim() != core {
        notes.push(format!(
            "{var} has blanks around its value; requests keeps them (here: host '{}')",
            proxy.host
        ));
    }
    let why = why_key_applies(&key, target);
    if flag_noproxy.is_none()
        && let Some(note) = old_requests_note(target, env)
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

/// What the choice needs to know about the target URL.
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

/// Helpers for the unit tests here and in the submodules.
#[cfg(test)]
mod test_support {
    use super::*;

    pub(super) fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    pub(super) fn pick(url: &str, pairs: &[(&str, &str)]) -> ProxyChoice {
        choose(&Url::parse(url).unwrap(), None, None, &env(pairs)).unwrap()
    }

    pub(super) fn with_flags(
        url: &str,
        proxy: Option<&str>,
        noproxy: Option<&str>,
        pairs: &[(&str, &str)],
    ) -> Result<ProxyChoice, String> {
        choose(&Url::parse(url).unwrap(), proxy, noproxy, &env(pairs))
    }

    pub(super) fn host_port(c: &ProxyChoice) -> Option<(String, u16)> {
        c.proxy.as_ref().map(|p| (p.host.clone(), p.port))
    }

    pub(super) const P: &str = "http://proxy:3128";
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

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
}
