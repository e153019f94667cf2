//! Following redirects the way requests does: which statuses, how the method changes, when
//! Authorization is dropped, and the 30-hop limit. Each hop gets its own stages; a hop to the
//! same origin reuses the connection, as requests' pool does.

use std::time::Duration;

use url::Url;

use super::http::{HttpFailure, RequestHead, ResponseHead};
use super::settings::ProbeSettings;
use super::{ProbeOutcome, Stage, StageResult, StageStatus};

/// requests follows these (its `REDIRECT_STATI`).
const REDIRECT_STATUSES: [u16; 5] = [301, 302, 303, 307, 308];

/// What the next hop will do.
#[derive(Clone, Debug)]
pub struct NextHop {
    pub status: u16,
    pub location: String,
    /// The Location resolved against the current URL (or as given, if it does not parse).
    pub url: String,
    pub method: String,
    pub settings: ProbeSettings,
    pub auth_dropped: bool,
    pub downgrade: bool,
}

/// One stage of a hop, for the hop table.
#[derive(Clone, Debug)]
pub struct HopStage {
    pub stage: Stage,
    pub status: StageStatus,
    pub elapsed: Option<Duration>,
}

/// A hop that answered with a redirect.
#[derive(Clone, Debug)]
pub struct RedirectHop {
    pub url: String,
    pub method: String,
    pub status: u16,
    pub location: String,
    pub next_url: String,
    pub elapsed: Duration,
    pub reused_connection: bool,
    pub stages: Vec<HopStage>,
    /// https → http.
    pub downgrade: bool,
    /// Authorization not sent on to the next hop (another host, port or scheme).
    pub auth_dropped: bool,
    /// The request headers this hop sent, secrets included (the report masks them, and masks
    /// them again wherever a later hop's server echoes them).
    pub request_headers: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct TooManyRedirects {
    pub limit: usize,
    /// The loop, when the chain comes back to a URL it already visited (first URL repeated last).
    pub cycle: Vec<String>,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// requests' `rebuild_method`: 303 (and 302) turn anything but HEAD into GET; 301 turns POST
/// into GET; 307/308 keep the method.
pub fn next_method(status: u16, method: &str) -> String {
    match status {
        303 | 302 if method != "HEAD" => "GET".into(),
        301 if method == "POST" => "GET".into(),
        _ => method.to_string(),
    }
}

/// requests' `should_strip_auth`.
pub fn should_strip_auth(old: &Url, new: &Url) -> bool {
    if old.host_str() != new.host_str() {
        return true;
    }
    // The url crate drops default ports, so `port()` is None exactly when the port is the
    // scheme's default (or absent), which is what requests compares against.
    if old.scheme() == "http"
        && old.port().is_none()
        && new.scheme() == "https"
        && new.port().is_none()
    {
        return false;
    }
    let changed_scheme = old.scheme() != new.scheme();
    let changed_port = old.port_or_known_default() != new.port_or_known_default();
    if !changed_scheme && old.port().is_none() && new.port().is_none() {
        return false;
    }
    changed_port || changed_scheme
}

/// The request and response head of this hop, when requests would look at its Location: a
/// complete exchange, or one whose body broke off (requests swallows ChunkedEncodingError while
/// draining a redirect's body, in `resolve_redirects`).
fn redirect_heads(outcome: &ProbeOutcome) -> Option<(&RequestHead, &ResponseHead)> {
    match &outcome.http {
        StageResult::Ok { detail, .. } => Some((&detail.request, &detail.response)),
        StageResult::Failed { error, .. }
            if matches!(
                error.failure,
                HttpFailure::IncompleteBody | HttpFailure::ResetDuringBody
            ) =>
        {
            error.response.as_ref().map(|r| (&error.request, r))
        }
        _ => None,
    }
}

/// The next hop, if this outcome is a redirect requests would follow.
pub fn next_hop(outcome: &ProbeOutcome, settings: &ProbeSettings) -> Option<NextHop> {
    let target = outcome.target.as_ref().ok()?;
    let (request, response) = redirect_heads(outcome)?;
    let status = response.status;
    if !REDIRECT_STATUSES.contains(&status) {
        return None;
    }
    let location = header(&response.headers, "location")?.trim().to_string();
    // requests loops `while url:`: an empty Location ends the chain with this response.
    if location.is_empty() {
        return None;
    }
    let joined = target.url.join(&location).ok();
    let url = joined
        .as_ref()
        .map(|u| u.to_string())
        .unwrap_or_else(|| location.clone());
    let method = next_method(status, &request.method);
    let auth_dropped = joined
        .as_ref()
        .is_none_or(|new| should_strip_auth(&target.url, new));
    let downgrade =
        target.url.scheme() == "https" && joined.as_ref().is_some_and(|u| u.scheme() == "http");

    let mut next = settings.clone();
    next.url = url.clone();
    next.url_credentials = false;
    next.method = method.clone();
    // requests chooses the proxy again for every hop, but on top of the proxies it already
    // had (resolve_proxies only uses setdefault): once a hop went through an environment proxy,
    // NO_PROXY no longer takes it away; a hop that went direct may pick one up.
    if let Some(new) = &joined {
        let mut inputs = settings.proxy_inputs.clone();
        if settings.proxy.proxy.is_some() {
            inputs
                .env
                .retain(|(k, _)| !k.eq_ignore_ascii_case("no_proxy"));
        }
        next.proxy = match super::proxy::decide(new, &inputs) {
            Ok(choice) => choice,
            Err(reason) => super::proxy_select::ProxyChoice::direct(reason),
        };
    }
    // requests drops a Cookie header on every redirect (it rebuilds cookies from its jar, where
    // an explicit header never is), to the same host too.
    next.headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("cookie"));
    // The Authorization actually sent (from -H or the URL's userinfo) goes on unless dropped.
    next.headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
    let sent_auth = header(&request.headers, "authorization").map(str::to_string);
    let had_auth = sent_auth.is_some();
    if let (false, Some(auth)) = (auth_dropped, sent_auth) {
        next.headers.push(("Authorization".into(), auth));
    }
    Some(NextHop {
        status,
        location,
        url,
        method,
        settings: next,
        auth_dropped: auth_dropped && had_auth,
        downgrade,
    })
}

/// The row for a hop that redirected.
pub fn hop_record(outcome: &ProbeOutcome, next: &NextHop, elapsed: Duration) -> RedirectHop {
    let row = |stage, status, elapsed| HopStage {
        stage,
        status,
        elapsed,
    };
    let c = &outcome.connection;
    let stages = vec![
        row(Stage::Url, StageStatus::Ok, Some(outcome.url_elapsed)),
        row(Stage::Dns, c.dns.status(), c.dns.elapsed()),
        row(Stage::Tcp, c.tcp.status(), c.tcp.elapsed()),
        row(Stage::Proxy, c.proxy.status(), c.proxy.elapsed()),
        row(Stage::Tls, c.tls.status(), c.tls.elapsed()),
        row(Stage::Http, outcome.http.status(), outcome.http.elapsed()),
    ];
    let reused_connection = matches!(outcome.connection.tcp, StageResult::Skipped { .. });
    RedirectHop {
        url: outcome
            .target
            .as_ref()
            .map(|t| t.display_url())
            .unwrap_or_default(),
        method: redirect_heads(outcome)
            .map(|(req, _)| req.method.clone())
            .unwrap_or_default(),
        status: next.status,
        location: crate::redact::url(&next.location),
        next_url: crate::redact::url(&next.url),
        elapsed,
        reused_connection,
        stages,
        downgrade: next.downgrade,
        auth_dropped: next.auth_dropped,
        request_headers: redirect_heads(outcome)
            .map(|(req, _)| req.headers.clone())
            .unwrap_or_default(),
    }
}

/// The limit ran out: find the loop, if the chain has one. `current` is the hop that just
/// answered (not yet in `hops`).
pub fn too_many(
    hops: &[RedirectHop],
    current: &str,
    next: &NextHop,
    limit: usize,
) -> TooManyRedirects {
    let next_url = crate::redact::url(&next.url);
    let visited: Vec<&str> = hops
        .iter()
        .map(|h| h.url.as_str())
        .chain([current])
        .collect();
    // The loop is from the last visit of the URL we are about to visit again.
    let cycle = match visited.iter().rposition(|u| *u == next_url) {
        Some(i) => {
            let mut c: Vec<String> = visited[i..].iter().map(|s| s.to_string()).collect();
            c.push(next_url);
            c
        }
        None => Vec::new(),
    };
    TooManyRedirects { limit, cycle }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|_| Url::parse("http://invalid.test/").expect("literal"))
    }

    #[test]
    fn methods_change_as_requests_changes_them() {
        assert_eq!(next_method(303, "POST"), "GET");
        assert_eq!(next_method(303, "HEAD"), "HEAD");
        assert_eq!(next_method(302, "POST"), "GET");
        assert_eq!(next_method(301, "POST"), "GET");
        assert_eq!(next_method(301, "PUT"), "PUT");
        assert_eq!(next_method(307, "POST"), "POST");
        assert_eq!(next_method(308, "DELETE"), "DELETE");
    }

    #[test]
    fn authorization_is_dropped_like_requests_drops_it() {
        assert!(should_strip_auth(
            &u("https://a.test/x"),
            &u("https://b.test/x")
        ));
        assert!(!should_strip_auth(
            &u("https://a.test/x"),
            &u("https://a.test/y")
        ));
        assert!(!should_strip_auth(
            &u("http://a.test/x"),
            &u("https://a.test/y")
        ));
        assert!(should_strip_auth(
            &u("https://a.test/x"),
            &u("http://a.test/y")
        ));
        assert!(should_strip_auth(
            &u("http://a.test:8080/x"),
            &u("http://a.test:9090/y")
        ));
        assert!(should_strip_auth(
            &u("http://a.test:8080/x"),
            &u("https://a.test/y")
        ));
        assert!(!should_strip_auth(
            &u("http://a.test:8080/x"),
            &u("http://a.test:8080/y")
        ));
    }
}
