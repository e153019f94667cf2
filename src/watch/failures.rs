//! The full reports of the last failed probes, for the dashboard's `Enter` on a failure in the
//! timeline. A ring of fixed length: a run that fails ten thousand times keeps as much as one
//! that failed sixteen times, and a timeline cell whose report was dropped says so.

use std::collections::VecDeque;

/// Failed probes whose full report is kept (the newest).
pub(crate) const KEPT_FAILURES: usize = 16;

/// One kept report: the probe's number in the run and its text report, already escaped for
/// the terminal (`report::Format::Text`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Kept {
    probe: u64,
    text: String,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct FailureRing {
    kept: VecDeque<Kept>,
}

impl FailureRing {
    /// Keep `text` as probe `probe`'s report, dropping the oldest past [`KEPT_FAILURES`].
    pub(crate) fn push(&mut self, probe: u64, text: String) {
        if self.kept.len() == KEPT_FAILURES {
            self.kept.pop_front();
        }
        self.kept.push_back(Kept { probe, text });
    }

    /// Probe `probe`'s report, if it is still kept.
    pub(crate) fn get(&self, probe: u64) -> Option<&str> {
        self.kept
            .iter()
            .find(|k| k.probe == probe)
            .map(|k| k.text.as_str())
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.kept.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_last_reports_only() {
        let mut ring = FailureRing::default();
        for probe in 1..=1000 {
            ring.push(probe, format!("report {probe}"));
            assert!(ring.len() <= KEPT_FAILURES);
        }
        assert_eq!(ring.len(), KEPT_FAILURES);
        assert_eq!(ring.get(1000), Some("report 1000"));
        assert_eq!(ring.get(985), Some("report 985"));
        assert_eq!(ring.get(984), None, "dropped");
    }
}
