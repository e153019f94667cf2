//! What a watch run keeps of one probe: whether it passed, the layer and kind that failed (the
//! verdict table's, never a list of its own), the stage times, and which addresses it tried.
//! The full outcome is dropped once this is taken from it, so memory does not grow with the run.

use std::net::IpAddr;
use std::time::Duration;

use crate::engine::verdict::{self, Kind};
use crate::engine::{ProbeOutcome, Stage, StageResult};
use crate::replay::whatif::{self, AttemptTimes};

/// The latencies a watch run measures: the connection stages, the HTTP exchange split into the
/// wait for the first byte and the body, and the whole probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timed {
    Dns,
    Tcp,
    Proxy,
    Tls,
    Ttfb,
    Body,
    Total,
}

impl Timed {
    pub(crate) const ALL: [Timed; 7] = [
        Timed::Dns,
        Timed::Tcp,
        Timed::Proxy,
        Timed::Tls,
        Timed::Ttfb,
        Timed::Body,
        Timed::Total,
    ];

    /// The name in the JSON document, the text report and the OpenMetrics `stage` label.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Timed::Dns => "dns",
            Timed::Tcp => "tcp",
            Timed::Proxy => "proxy",
            Timed::Tls => "tls",
            Timed::Ttfb => "ttfb",
            Timed::Body => "body",
            Timed::Total => "total",
        }
    }
}

/// One connect attempt of a probe, and whether the probe failed on that address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AddressUse {
    pub(crate) address: IpAddr,
    pub(crate) failed: bool,
}

/// One probe, as far as a watch run keeps it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ProbeSample {
    pub(crate) layer: Option<Stage>,
    /// None when the probe succeeded.
    pub(crate) kind: Option<Kind>,
    /// The response status, when one arrived (a 503 fails the probe but has a status).
    pub(crate) status: Option<u16>,
    /// Times of the stages that succeeded, in [`Timed::ALL`] order.
    pub(crate) times: [Option<Duration>; 7],
    /// The whole probe, failed or not (the timeline shows how long a failure took).
    pub(crate) elapsed: Duration,
    /// The addresses tried, in order (urllib3 tries them one after another).
    pub(crate) addresses: Vec<AddressUse>,
    /// The connect and read times the replay's what-if reads.
    pub(crate) what_if: AttemptTimes,
}

impl ProbeSample {
    pub(crate) fn ok(&self) -> bool {
        self.kind.is_none()
    }

    /// The sample of a finished probe, judged by the verdict table.
    pub(crate) fn of(outcome: &ProbeOutcome) -> ProbeSample {
        let verdict = verdict::judge(outcome);
        let failed = verdict.kind.is_some();
        let exchange = outcome.http.detail();
        let times = Timed::ALL.map(|t| match t {
            Timed::Dns => ok_elapsed(&outcome.connection.dns),
            Timed::Tcp => ok_elapsed(&outcome.connection.tcp),
            Timed::Proxy => ok_elapsed(&outcome.connection.proxy),
            Timed::Tls => ok_elapsed(&outcome.connection.tls),
            Timed::Ttfb => exchange.map(|x| x.time_to_first_byte),
            Timed::Body => exchange.map(|x| x.body.transfer),
            // A failed probe's total is its time to fail, not a latency.
            Timed::Total => (!failed).then_some(outcome.total),
        });
        ProbeSample {
            layer: verdict.layer,
            kind: verdict.kind,
            status: exchange.map(|x| x.response.status),
            times,
            elapsed: outcome.total,
            addresses: addresses(outcome, failed),
            what_if: whatif::times(outcome),
        }
    }
}

fn ok_elapsed<T, E>(r: &StageResult<T, E>) -> Option<Duration> {
    match r {
        StageResult::Ok { elapsed, .. } => Some(*elapsed),
        _ => None,
    }
}

/// The addresses a probe tried: each failed connect counts against its address, and a probe
/// that connected and then failed (TLS, HTTP, a 503) counts against the address it used.
fn addresses(outcome: &ProbeOutcome, probe_failed: bool) -> Vec<AddressUse> {
    let tcp = &outcome.connection.tcp;
    let attempts = match tcp {
        StageResult::Ok { detail, .. } => &detail.attempts,
        StageResult::Failed { error, .. } => &error.attempts,
        _ => return Vec::new(),
    };
    attempts
        .iter()
        .map(|a| AddressUse {
            address: a.addr.ip(),
            failed: a.failure.is_some() || probe_failed,
        })
        .collect()
}
