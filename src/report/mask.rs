//! The credentials a probe sent never reach its report, also when a server echoes them back
//! (an httpbin-style `/headers`, a header, a redirect's query). Every string of the report is
//! searched for every form of every secret sent on any hop; a URL quoted anywhere loses its
//! password. Runs once the report is built, on the whole model, so no field can be missed.

use super::Report;
use super::build::PREVIEW_BYTES;
use super::model::{
    ConnectResult, DnsSourceKind, ProxyExchangeKind, QueryStatusReport, StageDetail, StageStatus,
};
use crate::engine::clock::TimeoutSetting;
use crate::engine::settings::IpFamily;
use crate::engine::verdict::Kind;
use crate::engine::{ProbeOutcome, Stage};
use crate::redact;

/// `report` with the secrets of `outcome` masked, and its body previews cut to length.
pub(crate) fn mask_secrets(report: Report, outcome: &ProbeOutcome) -> Report {
    let secrets = secrets_sent(outcome);
    let vocabulary = vocabulary();
    let mut masked = report.map_strings(&|s: &str| {
        // netpeel's own words (a stage, a kind, a status) are no echo, and they must stay
        // readable as what they are, whatever a secret happens to contain.
        if vocabulary.iter().any(|w| w == s) {
            return None;
        }
        // Any URL quoted anywhere (a Location not followed, a note) loses its password.
        let quoted_url = s.contains("://") && s.contains('@');
        let echoed = secrets.iter().any(|secret| s.contains(secret.as_str()));
        (quoted_url || echoed).then(|| {
            let s = if quoted_url {
                redact::url(s)
            } else {
                s.to_string()
            };
            redact::mask_echoes(&s, &secrets)
        })
    });
    cut_previews(&mut masked);
    masked
}

/// The credentials this probe sent, in every form a server could echo them: every hop's
/// secret headers, the URL's userinfo (sent as Basic, as requests sends it) and the proxy's.
fn secrets_sent(outcome: &ProbeOutcome) -> Vec<String> {
    use base64::Engine;
    let basic = |user: &str, pass: &str| {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        format!("Basic {token}")
    };
    let s = &outcome.settings;
    let mut sent = s.headers.clone();
    for hop in &outcome.redirects {
        sent.extend(hop.request_headers.iter().cloned());
    }
    let last_request = match &outcome.http {
        crate::engine::StageResult::Ok { detail, .. } => Some(&detail.request),
        crate::engine::StageResult::Failed { error, .. } => Some(&error.request),
        _ => None,
    };
    sent.extend(last_request.iter().flat_map(|r| r.headers.iter().cloned()));
    let credentials = outcome
        .target
        .as_ref()
        .ok()
        .and_then(|t| t.credentials.as_ref());
    if let Some((user, pass)) = credentials {
        sent.push(("Authorization".into(), basic(user, pass)));
    }
    if let Some((user, pass)) = s.proxy.proxy.as_ref().and_then(|p| p.credentials()) {
        sent.push(("Proxy-Authorization".into(), basic(user, pass)));
    }
    let mut secrets = redact::echoable_secrets(&sent);
    // The URL's password as typed, also when the URL does not parse (then nothing was sent,
    // but error messages quote the URL; `redact::url` masks it there, any length).
    if let Some(raw) = redact::url_password(&s.url) {
        secrets.extend(redact::echo_forms(raw));
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

/// Every string netpeel writes as the name of one of its own enums.
fn vocabulary() -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |v: serde_json::Result<serde_json::Value>| {
        if let Ok(serde_json::Value::String(s)) = v {
            names.push(s);
        }
    };
    Stage::ALL.iter().for_each(|x| add(serde_json::to_value(x)));
    Kind::ALL.iter().for_each(|x| add(serde_json::to_value(x)));
    let statuses = [
        StageStatus::Ok,
        StageStatus::Failed,
        StageStatus::Skipped,
        StageStatus::NotRun,
    ];
    statuses.iter().for_each(|x| add(serde_json::to_value(x)));
    let sources = [
        DnsSourceKind::IpLiteral,
        DnsSourceKind::ResolveFlag,
        DnsSourceKind::HostsFile,
        DnsSourceKind::Servers,
    ];
    sources.iter().for_each(|x| add(serde_json::to_value(x)));
    let queries = [
        QueryStatusReport::Answered,
        QueryStatusReport::Nodata,
        QueryStatusReport::Nxdomain,
        QueryStatusReport::Servfail,
        QueryStatusReport::Refused,
        QueryStatusReport::Timeout,
        QueryStatusReport::Unreachable,
        QueryStatusReport::Error,
    ];
    queries.iter().for_each(|x| add(serde_json::to_value(x)));
    add(serde_json::to_value(ConnectResult::Connected));
    let exchanges = [
        ProxyExchangeKind::Connect,
        ProxyExchangeKind::Forward,
        ProxyExchangeKind::Socks5,
    ];
    exchanges.iter().for_each(|x| add(serde_json::to_value(x)));
    [IpFamily::Any, IpFamily::V4, IpFamily::V6]
        .iter()
        .for_each(|x| add(serde_json::to_value(x)));
    let timeouts = [
        TimeoutSetting::Dns,
        TimeoutSetting::Connect,
        TimeoutSetting::Read,
        TimeoutSetting::Total,
    ];
    timeouts.iter().for_each(|x| add(serde_json::to_value(x)));
    names
}

/// Body previews are built longer than shown, so that masking sees whole secrets; cut them
/// to [`PREVIEW_BYTES`] now.
fn cut_previews(report: &mut Report) {
    let attempts = report.attempts.iter_mut().flat_map(|a| a.stages.iter_mut());
    for stage in report.stages.iter_mut().chain(attempts) {
        if let Some(StageDetail::Http(http)) = &mut stage.detail
            && let Some(body) = &mut http.body
            && body.preview.len() > PREVIEW_BYTES
        {
            let mut end = PREVIEW_BYTES;
            while !body.preview.is_char_boundary(end) {
                end -= 1;
            }
            body.preview.truncate(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_holds_every_stage_kind_and_status() {
        let v = vocabulary();
        for word in [
            "http",
            "tcp",
            "failed",
            "not_run",
            "connected",
            "connection_refused",
        ] {
            assert!(v.iter().any(|w| w == word), "{word}");
        }
        for word in ["ip_literal", "nxdomain", "socks5", "ipv6", "read"] {
            assert!(v.iter().any(|w| w == word), "{word}");
        }
    }
}
