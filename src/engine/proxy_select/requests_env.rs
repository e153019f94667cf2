//! The environment, as requests reads it for a proxy.
//!
//! - Proxy variables (`urllib.request.getproxies_environment`): every variable whose lowercased
//!   name ends in `_proxy` gives the key before it (`HTTPS_PROXY` → `https`, `all_proxy` → `all`,
//!   `https://api.corp.test_proxy` → `https://api.corp.test`), empty values skipped. If
//!   `REQUEST_METHOD` is set (a CGI script), the `http` key found so far is dropped (httpoxy,
//!   CVE-2016-1000110). A second pass over variables whose name ends in lowercase `_proxy`
//!   overrides: a value sets the key, an EMPTY value removes it (so `https_proxy=` hides
//!   `HTTPS_PROXY=…`).
//! - `select_proxy`: the first key present of `scheme://host`, `scheme`, `all://host`, `all`.
//!
//! The environment arrives as `(name, value)` pairs in the process's order, not as a
//! `get(name)` function, because urllib's `getproxies_environment()` enumerates it: it takes
//! `Https_Proxy`, `https://host_proxy` and friends, and its result depends on which spelling
//! comes first.

use std::ffi::OsStr;

use super::Target;
use super::proxy_url::mask_password;

/// The environment as `(name, value)` pairs for [`choose`](super::choose), lossily decoded,
/// order kept: `env_pairs(std::env::vars_os())`.
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

/// Keep only the environment variables the proxy choice reads.
pub fn proxy_env(vars: Vec<(String, String)>) -> Vec<(String, String)> {
    vars.into_iter()
        .filter(|(k, _)| {
            let lower = k.to_ascii_lowercase();
            lower.ends_with("_proxy") || k == "REQUEST_METHOD"
        })
        .collect()
}

/// The environment with repeated names removed (first wins, as getenv and os.environ do).
pub(super) struct Env<'a> {
    vars: Vec<(&'a str, &'a str)>,
}

impl<'a> Env<'a> {
    pub(super) fn new(pairs: &'a [(String, String)]) -> Self {
        let mut vars: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            if !vars.iter().any(|(seen, _)| *seen == k.as_str()) {
                vars.push((k.as_str(), v.as_str()));
            }
        }
        Env { vars }
    }

    /// `os.environ.get(name)`: exact, case-sensitive.
    pub(super) fn get(&self, name: &str) -> Option<&'a str> {
        self.vars.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }
}

/// The result of `getproxies_environment()`: key → (variable, value).
pub(super) struct EnvProxies<'a> {
    map: Vec<(String, &'a str, &'a str)>,
    /// `http` as found by the first pass and dropped for REQUEST_METHOD.
    cgi_dropped: Option<&'a str>,
    /// key → the variable with an empty value that removed it in the second pass, and what it
    /// removed.
    hidden: Vec<(String, &'a str, &'a str)>,
}

impl<'a> EnvProxies<'a> {
    pub(super) fn read(env: &Env<'a>) -> Self {
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

    pub(super) fn get(&self, key: &str) -> Option<(&'a str, &'a str)> {
        self.map
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, var, value)| (*var, *value))
    }
}

/// `select_proxy`: the first of `scheme://host`, `scheme`, `all://host`, `all`.
pub(super) fn select_proxy<'a>(
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
pub(super) fn no_variable_reason(target: &Target, env: &Env, proxies: &EnvProxies) -> String {
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

/// Why select_proxy's key applies to the target, for the reason sentence.
pub(super) fn why_key_applies(key: &str, target: &Target) -> String {
    let scheme = &target.scheme;
    if key == *scheme {
        format!("{scheme} URL")
    } else if key == "all" {
        format!("{scheme} URL; no {scheme}_proxy is set and all_proxy covers every scheme")
    } else if key.starts_with("all://") {
        format!("set for {} and any scheme", target.hostname)
    } else {
        format!("set for {key} only")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::proxy_select::test_support::*;
    use crate::engine::proxy_select::{ProxyScheme, ProxySource};

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
}
