//! `--idle-sweep MAX`: the idle time after which the far end closes a connection or stops
//! answering on it. A close (FIN or RST) is seen the moment it happens, so one round of
//! connections measures it. A silent drop or a race shows only when a request goes out, so
//! connections idle for several gaps at once, then again inside the bracket where the answer
//! changed, until the bracket is narrow enough (bisection with several points per round).

use std::time::Duration;

use super::Wire;
use super::gap::{self, GapResult};
use super::progress::{ReuseEvent, ReuseEvents};
use crate::engine::ProbeSettings;
use crate::engine::events::Events;

/// Connections per round, each idle for its own gap.
pub(crate) const PER_ROUND: u32 = 6;
/// Rounds at most: the bracket shrinks sevenfold per round after the first.
pub(crate) const MAX_ROUNDS: usize = 5;
/// The bracket is narrow enough at this width, or a tenth of its lower end if wider.
const PRECISION: Duration = Duration::from_millis(200);

/// One try as the search sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Try {
    pub(crate) gap: Duration,
    pub(crate) wire: Wire,
    pub(crate) closed_after: Option<Duration>,
}

impl From<&GapResult> for Try {
    fn from(g: &GapResult) -> Self {
        Try {
            gap: g.gap,
            wire: g.wire,
            closed_after: g.closed_after,
        }
    }
}

/// What the tries so far say: done (with the estimate and how it ended), or the next gaps.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Step {
    Done {
        estimate: Option<Duration>,
        kind: Option<Wire>,
    },
    Next(Vec<Duration>),
}

/// The earliest close (FIN or RST) seen while a connection sat idle, and which it was.
pub(crate) fn earliest_close(tries: impl Iterator<Item = Try>) -> Option<(Duration, Wire)> {
    tries
        .filter(|t| t.wire.closed_idle())
        .filter_map(|t| t.closed_after.map(|after| (after, t.wire)))
        .min_by_key(|(after, _)| *after)
}

/// The first round: MAX split in equal steps.
pub(crate) fn first_round(max: Duration) -> Vec<Duration> {
    (1..=PER_ROUND).map(|i| max * i / PER_ROUND).collect()
}

/// After `round` rounds with these tries: the estimate, or the gaps of the next round.
pub(crate) fn decide(tries: &[Try], round: usize) -> Step {
    // A close seen while idle is a measurement, not a bracket: the earliest one.
    if let Some((after, wire)) = earliest_close(tries.iter().copied()) {
        return Step::Done {
            estimate: Some(after),
            kind: Some(wire),
        };
    }
    let Some(hi) = tries
        .iter()
        .filter(|t| t.wire.fails())
        .min_by_key(|t| t.gap)
        .copied()
    else {
        // Answered after every gap up to MAX (or the URL itself fails).
        return Step::Done {
            estimate: None,
            kind: None,
        };
    };
    let lo = tries
        .iter()
        .filter(|t| t.wire == Wire::Open && t.gap < hi.gap)
        .map(|t| t.gap)
        .max()
        .unwrap_or(Duration::ZERO);
    let width = hi.gap - lo;
    if width <= PRECISION.max(lo / 10) || round >= MAX_ROUNDS {
        return Step::Done {
            estimate: Some(lo + width / 2),
            kind: Some(hi.wire),
        };
    }
    Step::Next(
        (1..=PER_ROUND)
            .map(|i| lo + width * i / (PER_ROUND + 1))
            .collect(),
    )
}

/// The longest the sweep can take: every truth on a grid simulated, a silent drop assumed
/// (the slowest kind: each failing try waits for the read timeout too).
pub(crate) fn worst_case(max: Duration, read_timeout: Duration) -> Duration {
    const GRID: u32 = 240;
    let mut worst = max;
    for step in 1..=GRID + 1 {
        // One truth past MAX: nothing closes within the sweep.
        let truth = max * step / GRID;
        worst = worst.max(simulated(max, truth, read_timeout));
    }
    worst
}

/// How long the sweep takes against a far end that drops silently after `truth` idle.
fn simulated(max: Duration, truth: Duration, read_timeout: Duration) -> Duration {
    let mut tries: Vec<Try> = Vec::new();
    let mut gaps = first_round(max);
    let mut total = Duration::ZERO;
    for round in 1..=MAX_ROUNDS {
        let cost = gaps
            .iter()
            .map(|g| if *g > truth { *g + read_timeout } else { *g })
            .max()
            .unwrap_or_default();
        total += cost;
        tries.extend(gaps.iter().map(|g| Try {
            gap: *g,
            wire: if *g > truth { Wire::Silent } else { Wire::Open },
            closed_after: None,
        }));
        match decide(&tries, round) {
            Step::Done { .. } => break,
            Step::Next(next) => gaps = next,
        }
    }
    total
}

/// The sweep's tries, its estimate and how the far end gives up.
#[derive(Clone, Debug)]
pub(crate) struct SweepResult {
    pub(crate) max: Duration,
    pub(crate) tries: Vec<GapResult>,
    pub(crate) estimate: Option<Duration>,
    pub(crate) kind: Option<Wire>,
    pub(crate) rounds: usize,
}

/// How a run reports: `on_try` hears of every try as it ends, `say` gets progress in words,
/// `events` the same as events (for the dashboard).
pub(crate) struct Listeners<'a> {
    pub(crate) on_try: &'a dyn Fn(&GapResult),
    pub(crate) say: &'a dyn Fn(&str),
    pub(crate) events: &'a ReuseEvents,
}

/// Run the sweep up to `max`, telling `listen` how it goes.
pub(crate) async fn run(
    settings: &ProbeSettings,
    max: Duration,
    events: &Events,
    listen: &Listeners<'_>,
) -> SweepResult {
    let Listeners {
        on_try,
        say,
        events: progress,
    } = *listen;
    let mut tries: Vec<GapResult> = Vec::new();
    let mut gaps = first_round(max);
    for round in 1..=MAX_ROUNDS {
        let list: Vec<String> = gaps
            .iter()
            .map(|g| crate::engine::fmt_duration(*g))
            .collect();
        say(&format!(
            "sweep round {round}: idle {} on {} connections at once",
            list.join(", "),
            gaps.len()
        ));
        progress.emit(ReuseEvent::SweepRound {
            round,
            gaps: gaps.clone(),
        });
        let runs = gaps.iter().map(|g| async move {
            let result = gap::run(settings, *g, events, progress, Some(round)).await;
            on_try(&result);
            say(&gap::describe(&result));
            result
        });
        tries.extend(futures_util::future::join_all(runs).await);
        let seen: Vec<Try> = tries.iter().map(Try::from).collect();
        match decide(&seen, round) {
            Step::Done { estimate, kind } => {
                progress.emit(ReuseEvent::SweepDone {
                    estimate,
                    kind,
                    rounds: round,
                });
                return SweepResult {
                    max,
                    tries,
                    estimate,
                    kind,
                    rounds: round,
                };
            }
            Step::Next(next) => gaps = next,
        }
    }
    // decide() ends by MAX_ROUNDS; kept for the compiler's sake.
    SweepResult {
        max,
        tries,
        estimate: None,
        kind: None,
        rounds: MAX_ROUNDS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// The search against a silent far end at `truth`, as `decide` steers it.
    fn estimate_for(max: f64, truth: f64) -> Option<Duration> {
        let mut tries = Vec::new();
        let mut gaps = first_round(secs(max));
        for round in 1..=MAX_ROUNDS {
            tries.extend(gaps.iter().map(|g| Try {
                gap: *g,
                wire: if g.as_secs_f64() > truth {
                    Wire::Silent
                } else {
                    Wire::Open
                },
                closed_after: None,
            }));
            match decide(&tries, round) {
                Step::Done { estimate, .. } => return estimate,
                Step::Next(next) => gaps = next,
            }
        }
        None
    }

    #[test]
    fn bisection_lands_within_a_tenth_or_200_ms() {
        for (max, truth) in [
            (3.0, 1.5),
            (3.0, 0.3),
            (600.0, 350.0),
            (600.0, 4.0),
            (10.0, 9.9),
        ] {
            let got = estimate_for(max, truth).map(|d| d.as_secs_f64());
            let allowed = (truth * 0.1).max(0.2);
            assert!(
                got.is_some_and(|g| (g - truth).abs() <= allowed),
                "max {max}, truth {truth}: estimate {got:?}"
            );
        }
        assert_eq!(estimate_for(3.0, 5.0), None);
    }

    #[test]
    fn a_close_is_measured_not_bracketed() {
        let tries = [
            Try {
                gap: secs(1.0),
                wire: Wire::Open,
                closed_after: None,
            },
            Try {
                gap: secs(2.0),
                wire: Wire::Fin,
                closed_after: Some(secs(1.4)),
            },
        ];
        assert_eq!(
            decide(&tries, 1),
            Step::Done {
                estimate: Some(secs(1.4)),
                kind: Some(Wire::Fin)
            }
        );
    }

    #[test]
    fn the_worst_case_is_bounded_and_said_before() {
        let worst = worst_case(secs(600.0), secs(30.0));
        assert!(
            worst >= secs(630.0) && worst <= secs(5.0 * 630.0),
            "{worst:?}"
        );
    }
}
