//! What-if from history: given the stage times of the attempts so far, how many of them other
//! connect and read timeouts would have failed ("connect timeout 0.5 s would have failed 3 of
//! 20"). requests bounds TCP connect and the TLS handshake with the connect timeout, and the wait
//! for the response with the read timeout; that is what is measured here.

use std::time::Duration;

use crate::engine::{ProbeOutcome, StageResult};

/// One attempt's times, as far as they are known. `at_least` marks a time cut short by a
/// timeout: the real time was longer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    pub time: Duration,
    pub at_least: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AttemptTimes {
    /// The connect phase: TCP connect to the address that answered, plus the TLS handshake
    /// (each bounded by the connect timeout: the longer one counts).
    pub connect: Option<Measured>,
    /// The wait for the response head after the request was sent.
    pub read: Option<Measured>,
}

/// Times from one probe.
pub fn times(o: &ProbeOutcome) -> AttemptTimes {
    let tcp = match &o.connection.tcp {
        StageResult::Ok { detail, .. } => detail.attempts.last().map(|a| Measured {
            time: a.elapsed,
            at_least: false,
        }),
        StageResult::Failed { error, .. } => error.attempts.last().map(|a| Measured {
            time: a.elapsed,
            at_least: a.failure == Some(crate::engine::tcp::TcpFailure::Timeout),
        }),
        _ => None,
    };
    let tls = match &o.connection.tls {
        StageResult::Ok { elapsed, .. } => Some(Measured {
            time: *elapsed,
            at_least: false,
        }),
        StageResult::Failed { error, elapsed } => Some(Measured {
            time: *elapsed,
            at_least: error.failure == crate::engine::tls::TlsFailure::HandshakeTimeout,
        }),
        _ => None,
    };
    // Each phase is bounded on its own: the longer of the two decides.
    let connect = match (tcp, tls) {
        (Some(a), Some(b)) => Some(if b.time > a.time { b } else { a }),
        (a, b) => a.or(b),
    };
    let read = match &o.http {
        StageResult::Ok { detail, .. } => Some(Measured {
            time: detail.time_to_first_byte,
            at_least: false,
        }),
        StageResult::Failed { error, .. }
            if error.failure == crate::engine::http::HttpFailure::ReadTimeout =>
        {
            Some(Measured {
                time: error.elapsed,
                at_least: true,
            })
        }
        _ => None,
    };
    AttemptTimes { connect, read }
}

/// How one candidate timeout would have done over the history.
#[derive(Clone, Debug, PartialEq)]
pub struct WhatIf {
    /// "connect" or "read".
    pub setting: &'static str,
    pub timeout: Duration,
    pub would_fail: usize,
    /// Attempts with a time for this phase.
    pub of: usize,
    /// Attempts cut short below this timeout: nobody knows how they would have done.
    pub unknown: usize,
}

impl WhatIf {
    pub fn sentence(&self) -> String {
        let unknown = if self.unknown > 0 {
            format!(" ({} unknown: cut short earlier)", self.unknown)
        } else {
            String::new()
        };
        format!(
            "{} timeout {} would have failed {} of {}{unknown}",
            self.setting,
            crate::engine::fmt_duration(self.timeout),
            self.would_fail,
            self.of
        )
    }
}

/// Candidate timeouts tried for each phase, in seconds.
const CANDIDATES: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0];

/// The what-if counts for one phase, kept as attempts arrive: per candidate timeout, how many
/// attempts it would have failed and how many are unknown. Fixed size, so a watch run of any
/// length keeps the same memory.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct PhaseTally {
    /// Attempts with a time for this phase.
    of: usize,
    would_fail: [usize; CANDIDATES.len()],
    unknown: [usize; CANDIDATES.len()],
}

impl PhaseTally {
    fn add(&mut self, m: Measured) {
        self.of += 1;
        for (i, secs) in CANDIDATES.iter().enumerate() {
            if m.time >= Duration::from_secs_f64(*secs) {
                self.would_fail[i] += 1;
            } else if m.at_least {
                // Cut short below this timeout: nobody knows how it would have done.
                self.unknown[i] += 1;
            }
        }
    }

    fn result(&self, setting: &'static str, i: usize) -> WhatIf {
        WhatIf {
            setting,
            timeout: Duration::from_secs_f64(CANDIDATES[i]),
            would_fail: self.would_fail[i],
            of: self.of,
            unknown: self.unknown[i],
        }
    }
}

/// The what-if over any number of attempts, in constant memory: the replay feeds it its
/// attempts, a watch run every probe.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    connect: PhaseTally,
    read: PhaseTally,
}

impl Tally {
    pub fn add(&mut self, t: &AttemptTimes) {
        if let Some(m) = t.connect {
            self.connect.add(m);
        }
        if let Some(m) = t.read {
            self.read.add(m);
        }
    }

    /// The interesting candidates: those that fail some attempts but not all (where a choice
    /// is being made), for the connect and the read timeout.
    pub fn what_if(&self) -> Vec<WhatIf> {
        let mut out = Vec::new();
        for (setting, phase) in [("connect", &self.connect), ("read", &self.read)] {
            for i in 0..CANDIDATES.len() {
                let w = phase.result(setting, i);
                if w.would_fail > 0 && w.would_fail + w.unknown < w.of {
                    out.push(w);
                }
            }
        }
        out
    }
}

/// [`Tally::what_if`] over a list of attempts.
pub fn what_if(history: &[AttemptTimes]) -> Vec<WhatIf> {
    let mut tally = Tally::default();
    for t in history {
        tally.add(t);
    }
    tally.what_if()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(ms: u64) -> Measured {
        Measured {
            time: Duration::from_millis(ms),
            at_least: false,
        }
    }

    #[test]
    fn counts_the_attempts_a_timeout_would_have_failed() {
        let history: Vec<AttemptTimes> = [100, 200, 600, 700, 1200]
            .iter()
            .map(|ms| AttemptTimes {
                connect: Some(m(*ms)),
                read: None,
            })
            .collect();
        let lines: Vec<String> = what_if(&history).iter().map(WhatIf::sentence).collect();
        assert!(
            lines.contains(&"connect timeout 500 ms would have failed 3 of 5".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"connect timeout 1 s would have failed 1 of 5".to_string()),
            "{lines:?}"
        );
        // 100 ms fails all of them and 2 s none: neither helps a choice, neither is listed.
        for absent in ["connect timeout 100 ms ", "connect timeout 2 s "] {
            assert!(lines.iter().all(|l| !l.starts_with(absent)), "{lines:?}");
        }
    }

    #[test]
    fn a_timed_out_attempt_is_unknown_above_its_cut() {
        let history = [
            AttemptTimes {
                connect: None,
                read: Some(Measured {
                    time: Duration::from_millis(500),
                    at_least: true,
                }),
            },
            AttemptTimes {
                connect: None,
                read: Some(m(100)),
            },
            AttemptTimes {
                connect: None,
                read: Some(m(50)),
            },
        ];
        let mut tally = Tally::default();
        for t in &history {
            tally.add(t);
        }
        // CANDIDATES[4] is 1 s.
        let w = tally.read.result("read", 4);
        assert_eq!(w.timeout, Duration::from_secs(1));
        assert_eq!((w.would_fail, w.unknown, w.of), (0, 1, 3));
    }
}
