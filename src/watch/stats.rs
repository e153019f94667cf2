//! The statistics of a watch run, kept as probes arrive, in memory that does not grow with the
//! run: counters, a histogram per stage, a count per (layer, kind) and per address (both closed
//! or capped sets), a ring of the last probes, and the longest run of failures.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use super::sample::{ProbeSample, Timed};
use crate::engine::Stage;
use crate::engine::verdict::Kind;
use crate::replay::whatif::Tally;

/// Probes the timeline keeps (the newest).
pub(crate) const TIMELINE_LEN: usize = 120;
/// Addresses counted one by one; more (a name that resolves differently every time) are
/// counted together under [`OTHER_ADDRESSES`].
pub(crate) const MAX_ADDRESSES: usize = 32;
pub(crate) const OTHER_ADDRESSES: &str = "other";
/// Distinct failing statuses remembered (for a `status_forcelist` hint).
const MAX_STATUSES: usize = 8;

/// Histograms count microseconds from 1 µs to one hour at three significant digits (0.1 %).
const HIST_MAX_US: u64 = 3_600_000_000;

/// One stage's latencies.
#[derive(Clone, Debug)]
pub(crate) struct Latency {
    pub(crate) histogram: Histogram<u64>,
    /// The exact sum, for OpenMetrics' `_sum` (the histogram keeps buckets only).
    pub(crate) sum: Duration,
}

impl Latency {
    fn new() -> Latency {
        Latency {
            histogram: Histogram::new_with_bounds(1, HIST_MAX_US, 3)
                .expect("constant bounds, checked by the tests: 1 <= 2 * 1 <= max, 3 digits"),
            sum: Duration::ZERO,
        }
    }

    fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        self.histogram.saturating_record(us);
        self.sum += d;
    }

    /// Milliseconds at `quantile` (0.5, 0.9, …); 0 without values.
    pub(crate) fn ms_at(&self, quantile: f64) -> f64 {
        us_to_ms(self.histogram.value_at_quantile(quantile))
    }

    pub(crate) fn min_ms(&self) -> f64 {
        us_to_ms(self.histogram.min())
    }

    pub(crate) fn max_ms(&self) -> f64 {
        us_to_ms(self.histogram.max())
    }

    pub(crate) fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// Values at or below `us` microseconds (an OpenMetrics bucket).
    pub(crate) fn count_at_most(&self, us: u64) -> u64 {
        self.histogram.count_between(0, us)
    }
}

fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// How many probes failed with one (layer, kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FailureCount {
    pub(crate) layer: Option<Stage>,
    pub(crate) kind: Kind,
    pub(crate) count: u64,
}

/// One address's connect attempts and failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AddressCount {
    /// The address, or [`OTHER_ADDRESSES`].
    pub(crate) address: String,
    pub(crate) probes: u64,
    pub(crate) failed: u64,
}

/// One cell of the timeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cell {
    /// The probe's number in the run (1 for the first), kept across a reset: the dashboard
    /// finds the probe's kept report by it.
    pub(crate) probe: u64,
    pub(crate) at: SystemTime,
    pub(crate) layer: Option<Stage>,
    pub(crate) kind: Option<Kind>,
    pub(crate) total: Duration,
}

/// A run of consecutive failed probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Streak {
    pub(crate) len: u64,
    pub(crate) started: SystemTime,
}

/// Runs of failures over the whole run: the longest, how many runs there were, and the one
/// going on now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Streaks {
    pub(crate) longest: Option<Streak>,
    /// Separate runs of failures (a single failure is a run of one).
    pub(crate) runs: u64,
    /// Runs of two failures or more.
    pub(crate) bursts: u64,
    pub(crate) current: Option<Streak>,
}

impl Streaks {
    fn record(&mut self, ok: bool, at: SystemTime) {
        if ok {
            self.current = None;
            return;
        }
        let streak = match self.current {
            Some(s) => Streak {
                len: s.len + 1,
                ..s
            },
            None => {
                self.runs += 1;
                Streak {
                    len: 1,
                    started: at,
                }
            }
        };
        if streak.len == 2 {
            self.bursts += 1;
        }
        if self.longest.is_none_or(|l| streak.len > l.len) {
            self.longest = Some(streak);
        }
        self.current = Some(streak);
    }
}

/// Everything a watch run has seen so far.
#[derive(Clone, Debug)]
pub(crate) struct WatchStats {
    pub(crate) started: SystemTime,
    /// Probes run before these statistics began (`r` resets the counts, not the numbering).
    pub(crate) numbered_from: u64,
    pub(crate) probes: u64,
    pub(crate) ok: u64,
    /// By (layer, kind), in the order first seen; at most one entry per kind and layer.
    pub(crate) failures: Vec<FailureCount>,
    /// In [`Timed::ALL`] order.
    pub(crate) latency: Vec<Latency>,
    pub(crate) addresses: Vec<AddressCount>,
    pub(crate) timeline: VecDeque<Cell>,
    pub(crate) streaks: Streaks,
    pub(crate) what_if: Tally,
    /// Statuses of probes failed by their status (503, …), first seen first.
    pub(crate) failed_statuses: Vec<u16>,
}

impl WatchStats {
    pub(crate) fn new(started: SystemTime) -> WatchStats {
        WatchStats {
            started,
            numbered_from: 0,
            probes: 0,
            ok: 0,
            failures: Vec::new(),
            latency: Timed::ALL.iter().map(|_| Latency::new()).collect(),
            addresses: Vec::new(),
            timeline: VecDeque::with_capacity(TIMELINE_LEN),
            streaks: Streaks::default(),
            what_if: Tally::default(),
            failed_statuses: Vec::new(),
        }
    }

    /// The number of the latest probe counted, in the whole run.
    pub(crate) fn last_probe(&self) -> u64 {
        self.numbered_from + self.probes
    }

    /// Statistics that start again at `started`, numbering the probes on from these.
    pub(crate) fn restarted(&self, started: SystemTime) -> WatchStats {
        WatchStats {
            numbered_from: self.last_probe(),
            ..WatchStats::new(started)
        }
    }

    pub(crate) fn failed(&self) -> u64 {
        self.probes - self.ok
    }

    pub(crate) fn latency(&self, t: Timed) -> Option<&Latency> {
        let i = Timed::ALL.iter().position(|x| *x == t)?;
        self.latency.get(i)
    }

    /// Count one finished probe that started at `at`.
    pub(crate) fn record(&mut self, sample: &ProbeSample, at: SystemTime) {
        self.probes += 1;
        match sample.kind {
            None => self.ok += 1,
            Some(kind) => self.count_failure(sample.layer, kind, sample.status),
        }
        for (latency, time) in self.latency.iter_mut().zip(sample.times) {
            if let Some(d) = time {
                latency.record(d);
            }
        }
        for used in &sample.addresses {
            self.count_address(used.address, used.failed);
        }
        if self.timeline.len() == TIMELINE_LEN {
            self.timeline.pop_front();
        }
        self.timeline.push_back(Cell {
            probe: self.last_probe(),
            at,
            layer: sample.layer,
            kind: sample.kind,
            total: sample.elapsed,
        });
        self.streaks.record(sample.ok(), at);
        self.what_if.add(&sample.what_if);
    }

    fn count_failure(&mut self, layer: Option<Stage>, kind: Kind, status: Option<u16>) {
        match self
            .failures
            .iter_mut()
            .find(|f| f.layer == layer && f.kind == kind)
        {
            Some(f) => f.count += 1,
            None => self.failures.push(FailureCount {
                layer,
                kind,
                count: 1,
            }),
        }
        // Only a status that failed the probe belongs in a status_forcelist (a redirect loop
        // ends on a 3xx that did not).
        let by_status = matches!(kind, Kind::HttpServerError | Kind::HttpClientError);
        if let Some(code) = status.filter(|_| by_status)
            && !self.failed_statuses.contains(&code)
            && self.failed_statuses.len() < MAX_STATUSES
        {
            self.failed_statuses.push(code);
        }
    }

    fn count_address(&mut self, address: IpAddr, failed: bool) {
        let name = address.to_string();
        let known = self.addresses.iter().position(|a| a.address == name);
        let i = match known {
            Some(i) => i,
            None if self.addresses.len() < MAX_ADDRESSES => {
                self.addresses.push(AddressCount {
                    address: name,
                    probes: 0,
                    failed: 0,
                });
                self.addresses.len() - 1
            }
            None => self.other_addresses(),
        };
        let row = &mut self.addresses[i];
        row.probes += 1;
        row.failed += u64::from(failed);
    }

    /// The row that counts the addresses past [`MAX_ADDRESSES`], made on first use.
    fn other_addresses(&mut self) -> usize {
        if let Some(i) = self
            .addresses
            .iter()
            .position(|a| a.address == OTHER_ADDRESSES)
        {
            return i;
        }
        self.addresses.push(AddressCount {
            address: OTHER_ADDRESSES.into(),
            probes: 0,
            failed: 0,
        });
        self.addresses.len() - 1
    }

    /// The failures, most frequent first (ties in the order first seen).
    pub(crate) fn failures_by_count(&self) -> Vec<FailureCount> {
        let mut list = self.failures.clone();
        list.sort_by_key(|f| std::cmp::Reverse(f.count));
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::whatif::AttemptTimes;
    use crate::watch::sample::AddressUse;

    fn sample(kind: Option<Kind>, total_ms: u64, address: [u8; 4]) -> ProbeSample {
        let mut times = [None; 7];
        if kind.is_none() {
            times[6] = Some(Duration::from_millis(total_ms));
        }
        ProbeSample {
            layer: kind.and_then(|k| k.info().layer),
            kind,
            status: None,
            times,
            elapsed: Duration::from_millis(total_ms),
            addresses: vec![AddressUse {
                address: IpAddr::from(address),
                failed: kind.is_some(),
            }],
            what_if: AttemptTimes::default(),
        }
    }

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn counts_failures_by_kind_and_streaks() {
        let mut stats = WatchStats::new(at(0));
        let refused = Some(Kind::ConnectionRefused);
        let pattern = [None, refused, refused, refused, None, refused, None];
        for (i, kind) in pattern.into_iter().enumerate() {
            stats.record(&sample(kind, 10, [127, 0, 0, 1]), at(i as u64));
        }
        assert_eq!((stats.probes, stats.ok, stats.failed()), (7, 3, 4));
        assert_eq!(stats.failures.len(), 1);
        assert_eq!(stats.failures[0].count, 4);
        assert_eq!(stats.failures[0].layer, Some(Stage::Tcp));
        assert_eq!(
            stats.streaks.longest,
            Some(Streak {
                len: 3,
                started: at(1)
            })
        );
        assert_eq!((stats.streaks.runs, stats.streaks.bursts), (2, 1));
        assert_eq!(stats.addresses[0].probes, 7);
        assert_eq!(stats.addresses[0].failed, 4);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut stats = WatchStats::new(at(0));
        for i in 0..1000u32 {
            let octets = i.to_be_bytes();
            stats.record(
                &sample(None, u64::from(i % 50), [127, 1, octets[2], octets[3]]),
                at(0),
            );
        }
        assert_eq!(stats.timeline.len(), TIMELINE_LEN);
        assert_eq!(stats.addresses.len(), MAX_ADDRESSES + 1);
        let other = stats
            .addresses
            .last()
            .map(|a| (a.address.as_str(), a.probes));
        assert_eq!(other, Some((OTHER_ADDRESSES, 1000 - MAX_ADDRESSES as u64)));
        let total = stats.latency(Timed::Total).map(|l| (l.count(), l.max_ms()));
        assert_eq!(total.map(|t| t.0), Some(1000));
        // 49 ms, within the histogram's 0.1 %.
        assert!(
            total.is_some_and(|t| (t.1 - 49.0).abs() < 0.05),
            "{total:?}"
        );
    }
}
