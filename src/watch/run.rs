//! The one impure part of a watch run: probe, count, wait for the next start, until the count
//! is reached or a signal arrives; serve /metrics meanwhile; then print the summary.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use super::failures::FailureRing;
use super::report::{RunFacts, WatchDocument};
use super::sample::ProbeSample;
use super::stats::WatchStats;
use crate::engine::events::Events;
use crate::engine::verdict::{exit, exit_code};
use crate::engine::{ProbeOutcome, ProbeSettings};
use crate::stdio::{print_out, say};

/// What the summary at the end is written as; the dashboard shows the run live, then prints
/// the text report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WatchOutput {
    Text {
        color: bool,
    },
    Json,
    OpenMetrics,
    Dashboard {
        theme: crate::tui::Theme,
        /// Print the text report when the dashboard quits (`--no-report-on-exit` turns it off).
        report_on_exit: bool,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct WatchOptions {
    /// Probes to run; None: until a signal.
    pub(crate) count: Option<u64>,
    /// From one probe's start to the next (a longer probe delays the next; zero: back to back).
    pub(crate) interval: Duration,
    pub(crate) output: WatchOutput,
    pub(crate) metrics_listen: Option<SocketAddr>,
}

/// What the loop shares with the /metrics responder and the dashboard: the statistics, the
/// last outcome (for the JSON document's single-probe part) and its sample. All have a fixed
/// size.
struct Shared {
    stats: WatchStats,
    last: Option<ProbeOutcome>,
    last_sample: Option<ProbeSample>,
    /// The last failed probes' text reports, for the dashboard's detail view.
    failures: FailureRing,
    /// The dashboard's `p`: no new probe starts while set.
    paused: bool,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic while holding the lock ends the process (the panic hook), so poisoning only
    // means a finished writer: the data is whole.
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running watch as the dashboard sees it: a snapshot of the report, the last probe's
/// sample, pause and reset.
#[derive(Clone)]
pub(crate) struct WatchHandle {
    shared: Arc<Mutex<Shared>>,
    method: String,
    interval: Duration,
    count: Option<u64>,
    began: Instant,
}

impl WatchHandle {
    /// The report of the run so far.
    pub(crate) fn report(&self) -> super::report::WatchReport {
        let facts = RunFacts {
            method: &self.method,
            interval: self.interval,
            count: self.count,
            elapsed: self.began.elapsed(),
            stopped_by_signal: false,
        };
        super::report::build(&lock(&self.shared).stats, facts)
    }

    /// The latest probe's stage times (in `Timed::ALL` order) and how it ended.
    pub(crate) fn latest(&self) -> Option<ProbeSample> {
        lock(&self.shared).last_sample.clone()
    }

    /// Probe `probe`'s full text report (stages and verdict, secrets masked, escaped for the
    /// terminal) while it is among the last failures kept.
    pub(crate) fn failure_report(&self, probe: u64) -> Option<String> {
        lock(&self.shared).failures.get(probe).map(str::to_owned)
    }

    pub(crate) fn has_failure_report(&self, probe: u64) -> bool {
        lock(&self.shared).failures.get(probe).is_some()
    }

    pub(crate) fn paused(&self) -> bool {
        lock(&self.shared).paused
    }

    pub(crate) fn toggle_pause(&self) {
        let mut s = lock(&self.shared);
        s.paused = !s.paused;
    }

    /// Start the statistics again (the last probe stays, for the JSON document).
    pub(crate) fn reset(&self) {
        let mut s = lock(&self.shared);
        s.stats = s.stats.restarted(SystemTime::now());
    }
}

/// Run the watch and print its summary; the exit code.
pub(crate) fn run(
    runtime: &tokio::runtime::Runtime,
    settings: ProbeSettings,
    opts: &WatchOptions,
) -> i32 {
    let shared = Arc::new(Mutex::new(Shared {
        stats: WatchStats::new(SystemTime::now()),
        last: None,
        last_sample: None,
        failures: FailureRing::default(),
        paused: false,
    }));
    let began = Instant::now();
    let url = crate::redact::url(&settings.url);
    let handle = WatchHandle {
        shared: shared.clone(),
        method: settings.method.clone(),
        interval: opts.interval,
        count: opts.count,
        began,
    };
    let ran = runtime.block_on(async {
        let server = match opts.metrics_listen {
            Some(addr) => Some(start_metrics(addr, shared.clone(), url.clone()).await?),
            None => None,
        };
        let probes = probe_loop(&settings, opts, &shared);
        let stopped = match opts.output {
            WatchOutput::Dashboard { theme, .. } => {
                crate::tui::watch::drive(&handle, probes, theme, &url).await
            }
            _ => Ok(crate::cli::until_interrupted(probes).await.is_none()),
        };
        if let Some(task) = server {
            task.abort();
        }
        Ok::<_, String>(stopped)
    });
    let stopped_by_signal = match ran {
        Ok(Ok(stopped)) => stopped,
        Ok(Err(e)) => {
            say(&format!("the terminal failed: {e}"));
            return exit::INTERNAL as i32;
        }
        Err(msg) => {
            say(&msg);
            return exit::USAGE as i32;
        }
    };
    let shared = lock(&shared);
    let facts = RunFacts {
        method: &settings.method,
        interval: opts.interval,
        count: opts.count,
        elapsed: began.elapsed(),
        stopped_by_signal,
    };
    finish(&shared, facts, opts.output, &url)
}

/// Probes until the count is reached (forever without one).
async fn probe_loop(settings: &ProbeSettings, opts: &WatchOptions, shared: &Mutex<Shared>) {
    let mut done: u64 = 0;
    while opts.count.is_none_or(|c| done < c) {
        // Paused from the dashboard: look again a few times a second.
        while lock(shared).paused {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let started = Instant::now();
        let at = SystemTime::now();
        let outcome = crate::engine::probe(settings.clone(), Events::none()).await;
        let sample = ProbeSample::of(&outcome);
        // Rendered once, outside the lock: the dashboard only ever shows this text.
        let failure = (!sample.ok())
            .then(|| crate::report::Format::Text.render(&crate::report::build(&outcome), false));
        {
            let mut s = lock(shared);
            s.stats.record(&sample, at);
            if let Some(text) = failure {
                let probe = s.stats.last_probe();
                s.failures.push(probe, text);
            }
            s.last = Some(outcome);
            s.last_sample = Some(sample);
        }
        done += 1;
        if opts.count.is_some_and(|c| done >= c) {
            break;
        }
        // Start to start: a probe that took longer than the interval starts the next at once.
        tokio::time::sleep_until((started + opts.interval).into()).await;
    }
}

/// Bind `addr` (the error is the one line to print) and serve /metrics from `shared`.
async fn start_metrics(
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    url: String,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let listener = super::serve::bind(addr).await?;
    let metrics = move || super::openmetrics::render(&lock(&shared).stats, &url);
    Ok(tokio::spawn(super::serve::serve(listener, metrics)))
}

/// Print the summary in the asked format; the exit code.
fn finish(shared: &Shared, facts: RunFacts<'_>, output: WatchOutput, url: &str) -> i32 {
    let stats = &shared.stats;
    let Some(last) = &shared.last else {
        say("stopped before the first probe finished");
        return exit::INTERRUPTED as i32;
    };
    if facts.stopped_by_signal {
        say(&format!("stopped after {} probe(s)", stats.probes));
    }
    let text = match output {
        WatchOutput::OpenMetrics => super::openmetrics::render(stats, url),
        WatchOutput::Json | WatchOutput::Text { .. } | WatchOutput::Dashboard { .. } => {
            let doc = WatchDocument {
                last: crate::report::build(last),
                watch: super::report::build(stats, facts),
            };
            match output {
                WatchOutput::Text { color } => super::text::render(&doc, color),
                WatchOutput::Dashboard {
                    report_on_exit: false,
                    ..
                } => String::new(),
                WatchOutput::Dashboard { theme, .. } => {
                    let text = super::text::render(&doc, theme.color);
                    if theme.ascii {
                        crate::report::ascii::spell(&text).into_owned()
                    } else {
                        text
                    }
                }
                _ => crate::report::json::render(&doc),
            }
        }
    };
    if !print_out(&text) {
        return exit::INTERNAL as i32;
    }
    run_exit_code(stats)
}

/// 0 when every probe passed; else the exit code of the most frequent failure (its layer's,
/// as a single probe would exit).
fn run_exit_code(stats: &WatchStats) -> i32 {
    match stats.failures_by_count().first() {
        None => 0,
        Some(f) => f
            .layer
            .map(|l| i32::from(exit_code(l, f.kind)))
            .unwrap_or(exit::INTERNAL as i32),
    }
}
