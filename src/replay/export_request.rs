//! The request half of an export: URL, headers, proxy, TLS trust and redirects, as requests
//! and curl spell them. Secrets never enter this model: a secret header value, the URL's
//! password and the proxy's password become the name of an environment variable the snippet
//! reads (`os.environ["NETPEEL_AUTHORIZATION"]`, `$NETPEEL_PROXY_PASSWORD`).

use std::path::PathBuf;

use url::Url;

use crate::engine::settings::{CaSource, IpFamily, ProbeSettings, ResolveOverride};
use crate::engine::target::percent_decode;

/// The variable a snippet reads the URL's password from.
pub const URL_PASSWORD_VAR: &str = "NETPEEL_URL_PASSWORD";
/// The variable a snippet reads the proxy's password from.
pub const PROXY_PASSWORD_VAR: &str = "NETPEEL_PROXY_PASSWORD";

/// A header value as the snippet writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportValue {
    Literal(String),
    /// Read from this environment variable: the value is a secret.
    FromEnv(String),
}

/// An explicit `--proxy`, its password (if any) replaced by [`PROXY_PASSWORD_VAR`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportProxy {
    /// scheme://host:port, no userinfo.
    pub url: String,
    /// The user name, percent-decoded.
    pub user: Option<String>,
    pub has_password: bool,
}

/// Everything about the request an export writes besides the retry settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRequest {
    /// The URL without its password (nor the user name when there is a password).
    pub url: String,
    /// The URL's user name (decoded) when the URL had a password, sent as Basic auth.
    pub basic_user: Option<String>,
    pub headers: Vec<(String, ExportValue)>,
    pub proxy: Option<ExportProxy>,
    pub noproxy: Option<String>,
    pub insecure: bool,
    /// The CA bundle netpeel verified with, when not the built-in roots.
    pub cacert: Option<PathBuf>,
    pub follow_redirects: bool,
    pub max_redirects: usize,
    /// `--resolve` overrides as curl spells them (`host:port:addr,addr`).
    pub resolve: Vec<String>,
    pub family: IpFamily,
    pub http2: bool,
    /// `--dns SERVER`: neither requests nor Debian's curl can ask a given server.
    pub dns_server: Option<String>,
    /// The probe found the chain trusted by the OS store or curl's and not by certifi (a
    /// private CA or TLS interception): the snippet verifies with that bundle.
    pub trust_fix: Option<PathBuf>,
    /// requests' CA bundle variable names a missing or empty file: the variable and the path.
    pub ca_problem: Option<(String, PathBuf)>,
}

impl ExportRequest {
    /// Only a URL (what tests and a bare dashboard have): every other setting at its default.
    pub fn for_url(url: &str) -> Self {
        ExportRequest::from_settings(&ProbeSettings::new(url))
    }

    pub fn from_settings(s: &ProbeSettings) -> Self {
        let (url, basic_user) = split_url_password(&s.url);
        // The URL's credentials replace an Authorization header (requests' prepare_auth).
        let replaced =
            |name: &str| basic_user.is_some() && name.eq_ignore_ascii_case("authorization");
        let headers = merged(&s.headers)
            .into_iter()
            .filter(|(name, _)| !replaced(name))
            .map(|(name, value)| {
                // An empty value removes the header: nothing secret to read.
                let exported = if !value.is_empty() && crate::redact::is_secret(name, value) {
                    ExportValue::FromEnv(env_var_for(name))
                } else {
                    ExportValue::Literal(value.to_string())
                };
                (name.to_string(), exported)
            })
            .collect();
        ExportRequest {
            url,
            basic_user,
            headers,
            proxy: s.proxy_inputs.flag_proxy.as_deref().map(export_proxy),
            noproxy: s.proxy_inputs.flag_noproxy.clone(),
            insecure: s.insecure,
            cacert: match &s.ca.source {
                // certifi is requests' default: nothing to pass (and curl keeps its own store).
                CaSource::Bundle { from, .. } if from == "certifi" => None,
                CaSource::Bundle { path, .. } => Some(path.clone()),
                CaSource::BuiltIn => None,
            },
            follow_redirects: s.follow_redirects,
            max_redirects: s.max_redirects,
            resolve: s.resolve.iter().map(ResolveOverride::curl_form).collect(),
            family: s.family,
            http2: s.http2,
            dns_server: s.dns_server.map(|d| d.to_string()),
            trust_fix: None,
            ca_problem: s
                .ca_problem
                .as_ref()
                .map(|p| (p.variable.clone(), p.path.clone())),
        }
    }

    /// This request with the trust fix a probe's report calls for: when its TLS stage names a
    /// private CA or TLS interception, verify with the OS bundle (curl's system store or the
    /// OS row of the matrix).
    pub fn with_trust_fix(&self, report: Option<&crate::report::Report>) -> ExportRequest {
        let mut r = self.clone();
        r.trust_fix = report.and_then(os_bundle_fix);
        r
    }

    /// The variables the snippet reads, each once, in order.
    pub fn env_vars(&self) -> Vec<String> {
        let mut vars: Vec<String> = Vec::new();
        let mut add = |v: &str| {
            if !vars.iter().any(|x| x == v) {
                vars.push(v.to_string());
            }
        };
        if self.basic_user.is_some() {
            add(URL_PASSWORD_VAR);
        }
        for (_, value) in &self.headers {
            if let ExportValue::FromEnv(var) = value {
                add(var);
            }
        }
        if self.proxy.as_ref().is_some_and(|p| p.has_password) {
            add(PROXY_PASSWORD_VAR);
        }
        vars
    }
}

/// -H headers as netpeel sends them (a requests dict): one per name, case-insensitive, at its
/// first place with its last spelling and value. curl would send every repeat.
fn merged(given: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for (name, value) in given {
        match out.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            Some(slot) => *slot = (name, value),
            None => out.push((name, value)),
        }
    }
    out
}

/// `NETPEEL_` and the header name in capitals, other characters as `_`: `X-Api-Key` →
/// `NETPEEL_X_API_KEY`.
fn env_var_for(header: &str) -> String {
    let name: String = header
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("NETPEEL_{name}")
}

/// The URL without `user:password@` when it has a password (and the decoded user), else the
/// URL as given with any password masked.
fn split_url_password(raw: &str) -> (String, Option<String>) {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let user = percent_decode(url.username());
            let _ = url.set_username("");
            let _ = url.set_password(None);
            (url.to_string(), Some(user))
        }
        _ => (crate::redact::url_password_only(raw), None),
    }
}

fn export_proxy(raw: &str) -> ExportProxy {
    // A proxy written without a scheme means http:// to requests and curl alike.
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("http://{raw}")
    };
    match Url::parse(&with_scheme) {
        Ok(mut url) => {
            let user = (!url.username().is_empty()).then(|| percent_decode(url.username()));
            let has_password = url.password().is_some();
            let _ = url.set_username("");
            let _ = url.set_password(None);
            ExportProxy {
                url: url.as_str().trim_end_matches('/').to_string(),
                user,
                has_password,
            }
        }
        Err(_) => ExportProxy {
            url: crate::redact::url_password_only(raw),
            user: None,
            has_password: false,
        },
    }
}

/// The bundle to verify with, when the report's TLS stage names a private CA or interception:
/// the OS store's, else curl's, whichever verified the chain.
fn os_bundle_fix(report: &crate::report::Report) -> Option<PathBuf> {
    use crate::report::model::StageDetail;
    let tls = report.stages.iter().find_map(|s| match &s.detail {
        Some(StageDetail::Tls(t)) => Some(t),
        _ => None,
    })?;
    let private = tls
        .trust_causes
        .iter()
        .any(|c| c.cause == "private_ca" || c.cause == "tls_interception");
    if !private {
        return None;
    }
    ["os", "curl"]
        .iter()
        .find_map(|c| tls.trust.iter().find(|r| r.client == *c && r.verified))
        .and_then(|r| r.path.as_ref())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_become_variables() {
        let mut s = ProbeSettings::new("https://alice:s3cret@api.test/x");
        s.headers = vec![
            ("Authorization".into(), "Bearer abcdef".into()),
            ("X-Api-Key".into(), "k-123456".into()),
            ("Accept".into(), "application/json".into()),
        ];
        s.proxy_inputs.flag_proxy = Some("http://bob:pr%40xy@proxy.test:3128".into());
        let r = ExportRequest::from_settings(&s);
        assert_eq!(r.url, "https://api.test/x");
        assert_eq!(r.basic_user.as_deref(), Some("alice"));
        // The URL's password replaces the Authorization header, as in requests.
        assert!(
            !r.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        );
        assert_eq!(
            r.headers[0].1,
            ExportValue::FromEnv("NETPEEL_X_API_KEY".into())
        );
        assert_eq!(
            r.headers[1].1,
            ExportValue::Literal("application/json".into())
        );
        let proxy = r.proxy.clone().unwrap_or_else(|| panic!("no proxy"));
        assert_eq!(proxy.url, "http://proxy.test:3128");
        assert_eq!(proxy.user.as_deref(), Some("bob"));
        assert!(proxy.has_password);
        assert_eq!(
            r.env_vars(),
            [
                "NETPEEL_URL_PASSWORD",
                "NETPEEL_X_API_KEY",
                "NETPEEL_PROXY_PASSWORD"
            ]
        );
        let debug = format!("{r:?}");
        for secret in ["s3cret", "abcdef", "k-123456", "pr%40xy", "pr@xy"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }

    #[test]
    fn a_credential_value_is_a_secret_whatever_the_header_is_called() {
        let mut s = ProbeSettings::new("http://127.0.0.1:1/");
        s.headers = vec![
            ("X-Upstream".into(), "Bearer abcdef".into()),
            ("Forwarded-Creds".into(), "basic YWxpY2U6czNjcmV0".into()),
            ("X-Note".into(), "Bearer".into()),
            ("WWW-Authenticate".into(), "Basic realm=x".into()),
        ];
        let r = ExportRequest::from_settings(&s);
        let kinds: Vec<bool> = r
            .headers
            .iter()
            .map(|(_, v)| matches!(v, ExportValue::FromEnv(_)))
            .collect();
        assert_eq!(kinds, [true, true, false, false]);
        assert_eq!(
            crate::redact::header_value("X-Upstream", "Bearer abcdef"),
            "***"
        );
    }

    #[test]
    fn a_repeated_header_is_written_once_as_netpeel_sends_it() {
        let mut s = ProbeSettings::new("http://127.0.0.1:1/");
        s.headers = vec![
            ("X-T".into(), "1".into()),
            ("Accept".into(), "a/b".into()),
            ("x-t".into(), "2".into()),
        ];
        let r = ExportRequest::from_settings(&s);
        assert_eq!(
            r.headers,
            [
                ("x-t".to_string(), ExportValue::Literal("2".into())),
                ("Accept".to_string(), ExportValue::Literal("a/b".into())),
            ]
        );
    }
}
