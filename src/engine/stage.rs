//! What every stage shares: its name, how it ended ([`StageResult`]), and the one runner that
//! announces it, times it and stores how it ended ([`run`], [`timed`], [`skip`]). A stage is an
//! async function returning `Result<detail, error>`; the runner does the rest, so the pipeline in
//! `engine::pipeline` reads as the list of stages it is.

use std::future::Future;
use std::time::{Duration, Instant};

use super::clock::TimeoutSetting;
use super::events::{Events, ProbeEvent};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Url,
    Dns,
    Tcp,
    Proxy,
    Tls,
    Http,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Url,
        Stage::Dns,
        Stage::Tcp,
        Stage::Proxy,
        Stage::Tls,
        Stage::Http,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Url => "url",
            Stage::Dns => "dns",
            Stage::Tcp => "tcp",
            Stage::Proxy => "proxy",
            Stage::Tls => "tls",
            Stage::Http => "http",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a stage ended, without its detail: what reports and hop rows show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    Ok,
    Failed,
    Skipped,
    /// An earlier stage failed, so this one never ran.
    NotRun,
}

/// How one stage ended. `Skipped` may still carry detail (an IP literal's address).
#[derive(Clone, Debug, Default)]
pub enum StageResult<T, E> {
    #[default]
    NotRun,
    Skipped {
        reason: String,
        detail: Option<T>,
    },
    Ok {
        detail: T,
        elapsed: Duration,
    },
    Failed {
        error: E,
        elapsed: Duration,
    },
}

impl<T, E> StageResult<T, E> {
    pub fn detail(&self) -> Option<&T> {
        match self {
            StageResult::Ok { detail, .. } => Some(detail),
            StageResult::Skipped { detail, .. } => detail.as_ref(),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<&E> {
        match self {
            StageResult::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    pub fn elapsed(&self) -> Option<Duration> {
        match self {
            StageResult::Ok { elapsed, .. } | StageResult::Failed { elapsed, .. } => Some(*elapsed),
            _ => None,
        }
    }

    pub fn status(&self) -> StageStatus {
        match self {
            StageResult::NotRun => StageStatus::NotRun,
            StageResult::Skipped { .. } => StageStatus::Skipped,
            StageResult::Ok { .. } => StageStatus::Ok,
            StageResult::Failed { .. } => StageStatus::Failed,
        }
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, StageResult::Failed { .. })
    }

    /// The same result for a stage that did not run again (a reused connection): what it
    /// found then is kept, under `reason`.
    pub fn reused(&self, reason: &str) -> Self
    where
        T: Clone,
    {
        StageResult::Skipped {
            reason: reason.to_string(),
            detail: self.detail().cloned(),
        }
    }
}

/// What a stage's error must tell the runner and the verdict, whatever else it keeps.
pub trait StageError {
    /// One line: the waterfall's summary and the event stream's.
    fn message(&self) -> &str;
    /// The timeout that ran out (its length and which setting it was), when one did.
    fn timeout(&self) -> Option<(Duration, TimeoutSetting)>;
}

/// What a stage's detail must tell the runner.
pub trait StageDetail {
    /// One line for the live waterfall.
    fn summary(&self) -> String;
    /// False for a detail that still counts as the layer failing (an HTTP 4xx/5xx, as
    /// `raise_for_status` sees it).
    fn passed(&self) -> bool {
        true
    }
    /// Some when the stage turned out not to need running (a name pinned by `--resolve`).
    fn skip_reason(&self) -> Option<String> {
        None
    }
}

/// Run one stage that hands something on (a socket, a TLS stream) besides its detail: announce
/// it, time it, announce how it ended. The carried value is None when the stage failed.
pub async fn run<C, D, E, F>(
    events: &Events,
    stage: Stage,
    work: F,
) -> (Option<C>, StageResult<D, E>)
where
    F: Future<Output = Result<(C, D), E>>,
    D: StageDetail,
    E: StageError,
{
    events.emit(ProbeEvent::StageStarted { stage });
    let started = Instant::now();
    let ended = work.await;
    let elapsed = started.elapsed();
    match ended {
        Ok((carried, detail)) => {
            if let Some(reason) = detail.skip_reason() {
                events.emit(ProbeEvent::StageSkipped {
                    stage,
                    reason: reason.clone(),
                });
                let result = StageResult::Skipped {
                    reason,
                    detail: Some(detail),
                };
                return (Some(carried), result);
            }
            finished(events, stage, detail.passed(), elapsed, detail.summary());
            (Some(carried), StageResult::Ok { detail, elapsed })
        }
        Err(error) => {
            finished(events, stage, false, elapsed, error.message().to_string());
            (None, StageResult::Failed { error, elapsed })
        }
    }
}

/// Run one stage that hands nothing on but its detail.
pub async fn timed<D, E, F>(events: &Events, stage: Stage, work: F) -> StageResult<D, E>
where
    F: Future<Output = Result<D, E>>,
    D: StageDetail,
    E: StageError,
{
    run(events, stage, async {
        work.await.map(|detail| ((), detail))
    })
    .await
    .1
}

/// A stage that has nothing to do here (no proxy, an http:// URL, an IP literal).
pub fn skip<D, E>(
    events: &Events,
    stage: Stage,
    reason: String,
    detail: Option<D>,
) -> StageResult<D, E> {
    events.emit(ProbeEvent::StageSkipped {
        stage,
        reason: reason.clone(),
    });
    StageResult::Skipped { reason, detail }
}

fn finished(events: &Events, stage: Stage, ok: bool, elapsed: Duration, summary: String) {
    events.emit(ProbeEvent::StageFinished {
        stage,
        ok,
        elapsed,
        summary,
    });
}
