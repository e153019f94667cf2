//! Watch mode (`--watch`): the same full probe again and again, fresh each time as a new
//! `requests.get` would be, to catch the failure that happens one time in twenty.
//!
//! - [`sample`]: what is kept of one probe (layer and kind from the verdict table, stage times,
//!   addresses tried); the outcome itself is dropped;
//! - [`stats`]: the run's statistics in fixed memory (histograms, capped maps, a bounded ring);
//! - [`verdict`]: the run in one sentence (intermittent or persistent, which layer, what
//!   pattern) and the requests setting that would have survived it;
//! - [`report`]: the `watch` object of the JSON document; [`text`] and [`openmetrics`] render;
//! - [`failures`]: the full reports of the last failed probes, for the dashboard;
//! - [`serve`]: `--metrics-listen`'s /metrics responder;
//! - [`run`]: the loop, the signals and the output.

pub(crate) mod failures;
mod openmetrics;
pub(crate) mod report;
mod run;
pub(crate) mod sample;
mod serve;
pub(crate) mod stats;
pub(crate) mod text;
mod verdict;

pub(crate) use report::WatchReport;
pub(crate) use run::{WatchHandle, WatchOptions, WatchOutput, run};
pub(crate) use sample::{ProbeSample, Timed};
