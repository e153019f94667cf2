//! What to probe for an explained paste: its URL, the proxy it names and the timeouts it
//! states, under what the user set on top (`netpeel explain`'s `--url`, `--proxy`,
//! `--connect-timeout`, `--read-timeout`, `-m`). Pure: the environment (the `*_proxy`
//! variables, the CA variables) is read by the command line when it turns a plan into probe
//! settings, for `netpeel explain` and for the dashboard's paste box alike.

use std::time::Duration;

use super::Explained;

/// What the user set for the probe; each one wins over what the paste says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Probe this URL instead of the paste's (for a paste that names none).
    pub url: Option<String>,
    /// This proxy instead of the paste's; `""` turns proxies off.
    pub proxy: Option<String>,
    pub connect_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    pub max_time: Option<Duration>,
}

/// The probe of what a paste names. `None` fields are left to the usual defaults (and the
/// proxy to the environment, as requests reads it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbePlan {
    /// Unmasked: this is what is sent.
    pub url: String,
    pub proxy: Option<String>,
    pub connect_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    pub max_time: Option<Duration>,
}

/// A timeout the paste states, when it is one netpeel can use (1 ms to a day).
fn stated(seconds: Option<f64>) -> Option<Duration> {
    seconds
        .filter(|s| *s >= 0.001 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
}

/// A pasted URL holding control characters (ESC, CR, C1, bidi marks) as a URL parser writes
/// it: percent-encoded, as requests sends it. Any other URL stays exactly as given.
fn encoded(url: &str) -> String {
    if !url.chars().any(crate::report::escape::is_dangerous) {
        return url.to_string();
    }
    url::Url::parse(url).map_or_else(|_| url.to_string(), String::from)
}

/// The probe for `e`; `None` when neither the paste nor the overrides name a host.
pub(crate) fn plan(e: &Explained, o: &Overrides) -> Option<ProbePlan> {
    let parsed = &e.parsed;
    let url = o
        .url
        .clone()
        .or_else(|| crate::report::explain::probe_url(&parsed.target))
        .map(|u| encoded(&u))?;
    let pasted_proxy = parsed
        .proxy
        .as_ref()
        .and_then(|p| crate::report::explain::proxy_url(p, parsed.clues.socks));
    Some(ProbePlan {
        url,
        proxy: o.proxy.clone().or(pasted_proxy),
        connect_timeout: o.connect_timeout.or(stated(parsed.timeouts.connect)),
        read_timeout: o.read_timeout.or(stated(parsed.timeouts.read)),
        max_time: o.max_time.or(stated(parsed.timeouts.total)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: &str = "requests.exceptions.ConnectTimeout: HTTPSConnectionPool(host='10.9.8.7', port=8443): Max retries exceeded with url: /v1/items?page=2 (Caused by ConnectTimeoutError(<urllib3.connection.HTTPSConnection object at 0x7f0>, 'Connection to 10.9.8.7 timed out. (connect timeout=0.5)'))";

    #[test]
    fn the_paste_gives_url_and_timeouts_and_the_overrides_win() {
        let e = crate::explain::explain(TIMEOUT, false).expect("explained");
        let p = plan(&e, &Overrides::default()).expect("a host");
        assert_eq!(p.url, "https://10.9.8.7:8443/v1/items?page=2");
        assert_eq!(p.connect_timeout, Some(Duration::from_millis(500)));
        assert_eq!((p.proxy, p.read_timeout, p.max_time), (None, None, None));
        let o = Overrides {
            url: Some("http://127.0.0.1:9/".into()),
            proxy: Some(String::new()),
            connect_timeout: Some(Duration::from_secs(2)),
            ..Overrides::default()
        };
        let p = plan(&e, &o).expect("a host");
        assert_eq!(p.url, "http://127.0.0.1:9/");
        assert_eq!(p.proxy.as_deref(), Some(""));
        assert_eq!(p.connect_timeout, Some(Duration::from_secs(2)));
    }

    #[test]
    fn control_characters_in_a_pasted_url_are_percent_encoded() {
        let text = "requests.exceptions.HTTPError: 503 Server Error: x for url: http://127.0.0.1:9/a\u{1b}]0;pwn\u{7}b?q=\u{202e}\n";
        let e = crate::explain::explain(text, false).expect("explained");
        let p = plan(&e, &Overrides::default()).expect("a host");
        assert_eq!(p.url, "http://127.0.0.1:9/a%1B]0;pwn%07b?q=%E2%80%AE");
    }

    #[test]
    fn a_pasted_port_out_of_range_is_probed_as_pasted_not_on_port_80() {
        let text = "requests.exceptions.InvalidURL: Failed to parse: http://127.0.0.1:99999/\n";
        let e = crate::explain::explain(text, false).expect("explained");
        let p = plan(&e, &Overrides::default()).expect("a host");
        assert_eq!(p.url, "http://127.0.0.1:99999/");
    }

    #[test]
    fn no_host_no_plan_unless_a_url_is_given() {
        let text = "requests.exceptions.ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))";
        let e = crate::explain::explain(text, false).expect("explained");
        assert_eq!(plan(&e, &Overrides::default()), None);
        let o = Overrides {
            url: Some("http://127.0.0.1:9/".into()),
            ..Overrides::default()
        };
        assert!(plan(&e, &o).is_some());
    }
}
