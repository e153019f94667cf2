//! Running a replay: real attempts against the real target, each a full staged probe, with the
//! policy's sleeps actually slept between them. The policy decides (pure); this only probes,
//! records and sleeps.

use std::time::{Duration, Instant, SystemTime};

use crate::engine::events::Events;
use crate::engine::verdict::{self, Verdict};
use crate::engine::{ProbeOutcome, ProbeSettings, StageResult};

use super::attempt::{AttemptError, AttemptRecord, RetryAfter};
use super::classify::classify_kind;
use super::policy::{Decision, SleepReason, StopOutcome, decide};
use super::settings::ReplaySettings;

/// One attempt of a replay.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: usize,
    pub outcome: ProbeOutcome,
    pub verdict: Verdict,
    pub record: AttemptRecord,
    /// The sleep before the next attempt, when there is one.
    pub sleep_after: Option<(Duration, SleepReason)>,
}

/// A whole replay.
#[derive(Clone, Debug)]
pub struct ReplayRun {
    pub settings: ReplaySettings,
    pub attempts: Vec<Attempt>,
    /// How it ends, in requests' terms.
    pub stop: StopOutcome,
    pub total: Duration,
}

impl ReplayRun {
    /// A replay stopped from outside (Ctrl-C, a signal, the dashboard's `c`) after `attempts`
    /// had ended: what it found so far. `None` when no attempt had ended.
    pub fn interrupted(
        settings: &ReplaySettings,
        attempts: Vec<Attempt>,
        total: Duration,
    ) -> Option<ReplayRun> {
        if attempts.is_empty() {
            return None;
        }
        Some(ReplayRun {
            settings: settings.clone(),
            stop: StopOutcome::Interrupted {
                after: attempts.len(),
            },
            attempts,
            total,
        })
    }
}

/// The probe settings of one attempt: the base settings with the replay's timeouts and method.
pub fn attempt_settings(base: &ProbeSettings, rs: &ReplaySettings) -> ProbeSettings {
    let mut s = base.clone();
    s.connect_timeout = rs.connect_timeout;
    s.read_timeout = rs.read_timeout;
    s.dns_timeout = rs.dns_timeout;
    s.max_time = rs.max_time;
    s.method = rs.method.clone();
    s
}

/// `rs` with the probe's timeouts and method: the replay's attempts are the probe's (the
/// inverse of [`attempt_settings`]).
pub fn with_probe_timeouts(mut rs: ReplaySettings, probe: &ProbeSettings) -> ReplaySettings {
    rs.connect_timeout = probe.connect_timeout;
    rs.read_timeout = probe.read_timeout;
    rs.dns_timeout = probe.dns_timeout;
    rs.max_time = probe.max_time;
    rs.method = probe.method.clone();
    rs
}

/// What the policy needs to know about an attempt.
pub fn record(
    outcome: &ProbeOutcome,
    verdict: &Verdict,
    method: &str,
    elapsed: Duration,
) -> AttemptRecord {
    let mut rec = match &outcome.http {
        // A response arrived (whatever its status): that is not an error to urllib3.
        StageResult::Ok { detail, .. } => {
            let mut r = AttemptRecord::response(detail.response.status, method);
            if let Some((_, v)) = detail
                .response
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
            {
                r.retry_after = Some(RetryAfter::parse(v));
            }
            r
        }
        _ => match verdict.kind {
            Some(kind) => AttemptRecord::failed(classify_kind(kind, verdict.layer), method),
            None => AttemptRecord::failed(AttemptError::None, method),
        },
    };
    rec.elapsed = elapsed;
    rec.ended_at = SystemTime::now();
    rec
}

/// A small xorshift generator for the policies' jitter: no dependency, seeded from the clock.
pub struct Jitter(u64);

impl Jitter {
    pub fn from_clock() -> Self {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        Jitter(seed | 1)
    }

    /// A value in [0, 1).
    pub fn sample(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Run attempts until the policy stops. `on_attempt` sees each attempt as it ends (with the
/// sleep that follows), before the sleep: a caller can show a countdown.
pub async fn run(
    base: &ProbeSettings,
    rs: &ReplaySettings,
    events: Events,
    mut on_attempt: impl FnMut(&Attempt),
) -> ReplayRun {
    let started = Instant::now();
    let settings = attempt_settings(base, rs);
    let mut jitter = Jitter::from_clock();
    let mut history: Vec<AttemptRecord> = Vec::new();
    let mut attempts: Vec<Attempt> = Vec::new();
    // Bounded: every policy stops after a finite number of retries (unlimited urllib3
    // counters are capped by the policy itself); this guards against a policy bug.
    const HARD_LIMIT: usize = 1000;
    loop {
        let t = Instant::now();
        let outcome = crate::engine::probe(settings.clone(), events.clone()).await;
        let verdict = verdict::judge(&outcome);
        let rec = record(&outcome, &verdict, &rs.method, t.elapsed());
        history.push(rec.clone());
        let decision = if attempts.len() + 1 >= HARD_LIMIT {
            Decision::Stop {
                outcome: StopOutcome::LastError,
            }
        } else {
            decide(rs, &history, &mut || jitter.sample())
        };
        let mut attempt = Attempt {
            number: attempts.len() + 1,
            outcome,
            verdict,
            record: rec,
            sleep_after: None,
        };
        match decision {
            Decision::Retry { sleep, reason } => {
                attempt.sleep_after = Some((sleep, reason));
                on_attempt(&attempt);
                attempts.push(attempt);
                tokio::time::sleep(sleep).await;
            }
            Decision::Stop { outcome: stop } => {
                on_attempt(&attempt);
                attempts.push(attempt);
                return ReplayRun {
                    settings: rs.clone(),
                    attempts,
                    stop,
                    total: started.elapsed(),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_the_unit_interval() {
        let mut j = Jitter(12345);
        for _ in 0..1000 {
            let x = j.sample();
            assert!((0.0..1.0).contains(&x), "{x}");
        }
    }
}
