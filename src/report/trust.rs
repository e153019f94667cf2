//! The trust matrix as the report shows it: one row per client's store, the causes, and what
//! `--fetch-intermediate` found.

use super::model::{IntermediateFetchReport, TrustCauseReport, TrustRow};
use crate::engine::trust::{StoreProblem, TrustCheck, TrustReport};
use crate::engine::verdict::{self, Kind};

pub(super) fn rows(checks: &[TrustCheck]) -> Vec<TrustRow> {
    checks.iter().map(row).collect()
}

fn row(c: &TrustCheck) -> TrustRow {
    let error_kind = match (c.problem, c.failure) {
        (Some(StoreProblem::Missing), _) => Some(Kind::CaBundleMissing),
        (Some(StoreProblem::Empty | StoreProblem::Directory), _) => Some(Kind::CaBundleEmpty),
        (None, Some(f)) => Some(verdict::tls_kind(f)),
        (None, None) => None,
    };
    TrustRow {
        client: c.client.name().to_string(),
        store: c.store.clone(),
        source: c.source.clone(),
        path: c.path.as_ref().map(|p| p.display().to_string()),
        verified: c.verified,
        error_kind,
    }
}

pub(super) fn causes(t: &TrustReport) -> Vec<TrustCauseReport> {
    t.causes
        .iter()
        .map(|c| TrustCauseReport {
            cause: c.name().to_string(),
            sentence: c.sentence(),
            fix: c.fix(),
        })
        .collect()
}

pub(super) fn fetch(t: &TrustReport) -> Option<IntermediateFetchReport> {
    let f = t.intermediate.as_ref()?;
    Some(IntermediateFetchReport {
        url: f.url.clone(),
        format: f.format.clone(),
        subject: f.subject.clone(),
        trust: rows(&f.checks),
        error: f.error.clone(),
    })
}
