//! The trust matrix in the verdict: requests' CA bundle variable pointing nowhere (its own
//! kind), curl's column following curl's own store, and the causes named with their fix. The
//! verdict stays requests'; these only add what the other clients would do and why.

use super::stage::StageResult;
use super::trust::{StoreProblem, TrustCheck, TrustClient, TrustReport};
use super::verdict::{Kind, Verdict, failed};
use super::{ProbeOutcome, Stage};

/// The target's matrix, whichever way its TLS stage ended.
pub(super) fn trust_of(o: &ProbeOutcome) -> Option<&TrustReport> {
    match &o.connection.tls {
        StageResult::Ok { detail, .. } => Some(&detail.trust),
        StageResult::Failed { error, .. } => Some(&error.trust),
        _ => None,
    }
    .filter(|t| !t.checks.is_empty())
}

/// requests' CA bundle variable names a missing file: `HTTPAdapter.cert_verify` raises
/// `OSError` before any connection, whatever the network would have done. `rest` is the
/// verdict the network alone gives (for curl's column when curl does not read the variable).
pub(super) fn judge_ca_missing(o: &ProbeOutcome, rest: Option<&Verdict>) -> Option<Verdict> {
    let p = o.settings.ca_problem.as_ref()?;
    if p.problem != StoreProblem::Missing {
        return None;
    }
    // requests opens the bundle for https only: an http:// URL that never reached https
    // (no redirect there) does not fail on it.
    let https = o
        .target
        .as_ref()
        .is_ok_and(|t| t.url.scheme().eq_ignore_ascii_case("https"));
    if !https {
        return None;
    }
    let path = p.path.display();
    let summary = format!(
        "requests cannot start: {}={path} names a file that does not exist, so requests raises OSError('Could not find a suitable TLS CA certificate bundle, invalid path: {path}') before it connects.",
        p.variable
    );
    let mut v = failed(Stage::Tls, Kind::CaBundleMissing, summary, None);
    // Without a TLS stage curl's column is the network's: curl reads its CA file only when
    // the handshake starts, so even a missing CURL_CA_BUNDLE fails later than the network.
    if trust_of(o).is_none() {
        v.curl_exit = rest.and_then(|r| r.curl_exit);
    }
    Some(v)
}

fn is_trust_failure(kind: Option<Kind>) -> bool {
    matches!(
        kind,
        Some(
            Kind::CertExpired
                | Kind::CertNotYetValid
                | Kind::CertNameMismatch
                | Kind::CertSelfSigned
                | Kind::CertUnknownIssuer
                | Kind::CertCaAsEndEntity
                | Kind::CertInvalid
                | Kind::CaBundleMissing
                | Kind::CaBundleEmpty
        )
    )
}

/// "curl (system store)" and the like.
fn store_words(c: &TrustCheck) -> String {
    match &c.path {
        Some(p) if c.source != "system" => format!("{} {}", c.source, p.display()),
        _ => c.store.clone(),
    }
}

/// Curl's column from curl's store, the causes as notes, and their fix as the hint.
pub(super) fn apply(v: &mut Verdict, o: &ProbeOutcome) {
    let Some(trust) = trust_of(o) else {
        return;
    };
    if !o.settings.insecure {
        curl_column(v, o, trust);
    }
    let requests_failed = v.layer == Some(Stage::Tls) && is_trust_failure(v.kind);
    for cause in &trust.causes {
        v.notes.push(format!("Cause: {}", cause.sentence()));
        if requests_failed && let Some(fix) = cause.fix() {
            v.hint = Some(format!("Fix: {fix}."));
        }
    }
    if let Some(fetch) = &trust.intermediate {
        v.notes.push(super::trust::fetch_sentence(fetch));
    }
}

/// curl exits 0 when its own store verifies the chain, 60 when it does not, 77 when it cannot
/// read its CA file; say so when that differs from requests.
fn curl_column(v: &mut Verdict, o: &ProbeOutcome, trust: &TrustReport) {
    let Some(curl) = trust.check(TrustClient::Curl) else {
        return;
    };
    let requests_failed = v.layer == Some(Stage::Tls) && is_trust_failure(v.kind);
    let requests_verified =
        matches!(&o.connection.tls, StageResult::Ok { detail, .. } if detail.verification.ok);
    let store = store_words(curl);
    if let Some(problem) = curl.problem {
        if requests_failed || requests_verified {
            v.curl_exit = Some(77);
            let what = match problem {
                StoreProblem::Missing => "does not exist",
                StoreProblem::Empty => "holds no certificate",
                StoreProblem::Directory => {
                    "is a directory (curl takes a CA directory only as --capath or SSL_CERT_DIR)"
                }
            };
            v.notes.push(format!(
                "curl's CA file ({store}) {what}: curl exits 77 ('error setting certificate file') before it looks at the server."
            ));
        }
        return;
    }
    if requests_failed && curl.verified {
        v.curl_exit = Some(0);
        v.notes.push(format!(
            "requests and curl disagree here: curl's store ({store}) verifies this chain, so curl gets through TLS (exit 0, not 60)."
        ));
    } else if requests_failed && matches!(v.kind, Some(Kind::CaBundleMissing | Kind::CaBundleEmpty))
    {
        // requests' own file is the problem; curl reads another store, which does not verify.
        v.curl_exit = Some(60);
    } else if requests_verified && !curl.verified {
        let why = curl
            .failure
            .map(|f| super::verdict::tls_kind(f).name())
            .unwrap_or("not verified");
        v.curl_exit = Some(60);
        v.notes.push(format!(
            "requests and curl disagree here: requests trusts this chain, curl's store ({store}) does not ({why}): curl exits 60."
        ));
    }
}
