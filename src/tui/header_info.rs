//! What the dashboard's header says about the settings, computed once from them: settings do
//! not change between attempts. App state, so it lives apart from the panel that draws it.

use std::time::Duration;

use crate::engine::ProbeSettings;
use crate::engine::settings::{CaSource, IpFamily};
use crate::report::escape::for_terminal;
use crate::tui::fmt;

/// One setting as shown; `alert` ones (insecure) are red and spelled out in capitals.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub text: String,
    pub alert: bool,
}

/// The timeouts, for "bounded by …" while a stage runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub dns: Duration,
}

/// What the header shows, computed once: settings do not change between attempts.
#[derive(Clone, Debug, PartialEq)]
pub struct HeaderInfo {
    pub method: String,
    /// Password masked.
    pub url: String,
    pub settings: Vec<Setting>,
    pub timeouts: Timeouts,
    /// A proxy is in use: the DNS and TCP rows are the proxy's, and the PROXY row always shows.
    pub proxied: bool,
}

fn plain(text: String) -> Setting {
    Setting { text, alert: false }
}

impl HeaderInfo {
    pub fn from_settings(s: &ProbeSettings) -> HeaderInfo {
        let mut settings = vec![
            plain(format!("connect {}", fmt::secs(s.connect_timeout))),
            plain(format!("read {}", fmt::secs(s.read_timeout))),
            plain(format!("dns {}", fmt::secs(s.dns_timeout))),
        ];
        if let Some(m) = s.max_time {
            settings.push(plain(format!("max-time {}", fmt::secs(m))));
        }
        // The redirect policy (requests follows up to 30).
        settings.push(plain(if s.follow_redirects {
            format!("max {} redirects", s.max_redirects)
        } else {
            "redirects not followed".into()
        }));
        if s.http2 {
            settings.push(plain("HTTP/2 offered".into()));
        }
        settings.push(plain(match s.dns_server {
            Some(d) => format!("resolver {d} (--dns)"),
            None => "resolver system".into(),
        }));
        for r in &s.resolve {
            let addrs: Vec<String> = r.addrs.iter().map(|a| a.to_string()).collect();
            settings.push(plain(format!(
                "--resolve {}:{}:{}",
                r.host,
                r.port,
                addrs.join(",")
            )));
        }
        match s.family {
            IpFamily::Any => {}
            IpFamily::V4 => settings.push(plain("IPv4 only".into())),
            IpFamily::V6 => settings.push(plain("IPv6 only".into())),
        }
        settings.push(plain(match &s.ca.source {
            CaSource::BuiltIn => "CA built-in roots".into(),
            CaSource::Bundle { path, from } => format!("CA {} ({from})", path.display()),
        }));
        settings.push(plain(proxy_words(s)));
        if s.insecure {
            settings.push(Setting {
                text: "INSECURE: certificates not verified (-k)".into(),
                alert: true,
            });
        }
        // A URL or proxy can come from a pasted error (`p`): shown, never obeyed.
        for setting in &mut settings {
            setting.text = for_terminal(&setting.text);
        }
        HeaderInfo {
            method: s.method.clone(),
            url: for_terminal(&crate::redact::url(&s.url)),
            settings,
            timeouts: Timeouts {
                connect: s.connect_timeout,
                read: s.read_timeout,
                dns: s.dns_timeout,
            },
            proxied: s.proxy.proxy.is_some(),
        }
    }
}

/// The proxy in a few words (credentials are already masked in `display`).
fn proxy_words(s: &ProbeSettings) -> String {
    match &s.proxy.proxy {
        Some(p) => match &s.proxy.source {
            Some(from) => format!("proxy {} ({from})", p.display),
            None => format!("proxy {}", p.display),
        },
        None => "no proxy".into(),
    }
}
