//! The credentials a probe sent never reach its report, also when a server echoes them back
//! (an httpbin-style `/headers`, a header, a redirect's query). Every string of the report is
//! searched for every form of every secret sent on any hop; a URL quoted anywhere loses its
//! password. Runs once the report is built, on the whole model, so no field can be missed.

use super::Report;
use super::build::PREVIEW_BYTES;
use super::model::StageDetail;
use crate::engine::ProbeOutcome;
use crate::redact;

/// `report` with the secrets of `outcome` masked, and its body previews cut to length.
pub(crate) fn mask_secrets(report: Report, outcome: &ProbeOutcome) -> Report {
    let secrets = secrets_sent(outcome);
    let query_pairs = redact::query_secret_pairs(&outcome.settings.url);
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
        let quoted_query = query_pairs
            .iter()
            .any(|(sent, _)| s.contains(sent.as_str()));
        (quoted_url || echoed || quoted_query).then(|| {
            let mut s = if quoted_url {
                redact::url(s)
            } else {
                s.to_string()
            };
            for (sent, shown) in &query_pairs {
                s = s.replace(sent.as_str(), shown);
            }
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
    // Credentials in the query (`token=`, `api_key=`) are sent in the request line and echoed
    // by servers and error messages like any other.
    secrets.extend(redact::query_secrets(&s.url));
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

/// Every string netpeel writes as the name of one of its own enums (stage, kind, status, DNS
/// source, …), read once from the report's JSON Schema: the suite validates every document
/// against it, so a new variant cannot be missing here.
fn vocabulary() -> &'static [String] {
    static WORDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../assets/report.schema.json"))
                .unwrap_or_default();
        let mut words = Vec::new();
        collect_enum_words(&schema, &mut words);
        words.sort();
        words.dedup();
        words
    })
}

fn collect_enum_words(schema: &serde_json::Value, words: &mut Vec<String>) {
    match schema {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("enum", serde_json::Value::Array(items)) => {
                        words.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)))
                    }
                    _ => collect_enum_words(value, words),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_enum_words(i, words)),
        _ => {}
    }
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
    use crate::engine::{Stage, verdict::Kind};

    #[test]
    fn the_vocabulary_holds_every_stage_kind_and_status() {
        let v = vocabulary();
        let stages = Stage::ALL.iter().map(|s| s.name());
        let kinds = Kind::ALL.iter().map(|k| k.name());
        let others = [
            "failed",
            "not_run",
            "connected",
            "ip_literal",
            "socks5",
            "ipv6",
            "read",
        ];
        for word in stages.chain(kinds).chain(others) {
            assert!(v.iter().any(|w| w == word), "{word}");
        }
    }
}
