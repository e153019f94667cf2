//! Reuse mode from the command line: say how long it will take, run the gaps (all at once,
//! each on its own connection) and the sweep, then print the report or the exported fix.
//! Ctrl-C, SIGTERM and SIGHUP end it with the gaps that finished reported.

use std::cell::RefCell;

use super::gap::{self, GapResult};
use super::sweep::{self, SweepResult};
use super::{ReuseRequest, export};
use crate::engine::ProbeSettings;
use crate::engine::events::Events;
use crate::engine::fmt_duration;
use crate::engine::verdict::exit;
use crate::replay::export::ExportFormat;
use crate::report::{self, Format};
use crate::stdio::{print_out, say};

/// Everything reuse mode found.
#[derive(Clone, Debug)]
pub(crate) struct ReuseRun {
    pub(crate) settings: ProbeSettings,
    pub(crate) gaps: Vec<GapResult>,
    pub(crate) sweep: Option<SweepResult>,
}

/// Run the gaps and the sweep side by side; `on_gap` hears of each gap and try as it ends.
pub(crate) async fn run(
    settings: &ProbeSettings,
    request: &ReuseRequest,
    events: &Events,
    on_gap: &dyn Fn(&GapResult),
    progress: &dyn Fn(&str),
) -> ReuseRun {
    let gaps = request.gaps.iter().map(|g| async move {
        let result = gap::run(settings, *g, events).await;
        on_gap(&result);
        progress(&gap::describe(&result));
        result
    });
    let sweep = async {
        match request.sweep_max {
            Some(max) => Some(sweep::run(settings, max, events, on_gap, progress).await),
            None => None,
        }
    };
    let (gaps, sweep) = tokio::join!(futures_util::future::join_all(gaps), sweep);
    ReuseRun {
        settings: settings.clone(),
        gaps,
        sweep,
    }
}

/// What the run will cost, said before it starts (on stderr).
pub(crate) fn announcement(request: &ReuseRequest, settings: &ProbeSettings) -> String {
    let mut parts = Vec::new();
    if let Some(longest) = request.gaps.iter().max() {
        parts.push(format!(
            "{} gap(s) on as many connections at once, about {} (the longest gap, plus up to the read timeout {} if the far end stays silent)",
            request.gaps.len(),
            fmt_duration(*longest),
            fmt_duration(settings.read_timeout)
        ));
    }
    if let Some(max) = request.sweep_max {
        let worst = sweep::worst_case(max, settings.read_timeout);
        parts.push(format!(
            "idle sweep up to {}: {} connections per round, at most {} rounds, {} at worst (a close ends it at the first round)",
            fmt_duration(max),
            sweep::PER_ROUND,
            sweep::MAX_ROUNDS,
            crate::report::words::long_secs(worst.as_secs_f64())
        ));
    }
    format!(
        "reuse: {}; Ctrl-C stops it and reports what was found",
        parts.join("; ")
    )
}

/// How the run is printed.
pub(crate) struct Output {
    pub(crate) format: Format,
    pub(crate) color: bool,
    pub(crate) export: Option<ExportFormat>,
}

/// The mode's `main`: announce, run on `runtime`, print, and return the exit code.
pub(crate) fn main(
    runtime: &tokio::runtime::Runtime,
    settings: &ProbeSettings,
    request: &ReuseRequest,
    output: &Output,
) -> i32 {
    say(&announcement(request, settings));
    let done: RefCell<Vec<GapResult>> = RefCell::new(Vec::new());
    let on_gap = |g: &GapResult| done.borrow_mut().push(g.clone());
    let events = Events::none();
    let work = run(settings, request, &events, &on_gap, &say);
    let (run, interrupted) = match runtime.block_on(crate::cli::until_interrupted(work)) {
        Some(run) => (run, false),
        None => {
            let gaps = done.take();
            let cut_short = ReuseRun {
                settings: settings.clone(),
                gaps,
                sweep: None,
            };
            (cut_short, true)
        }
    };
    let Some(report) = report::build_reuse(&run) else {
        say("interrupted before any gap ended");
        return exit::INTERRUPTED as i32;
    };
    let text = match output.export {
        Some(format) => export::render(format, &run, &report),
        None => output.format.render(&report, output.color),
    };
    if !print_out(&text) {
        return exit::INTERNAL as i32;
    }
    if interrupted {
        say("interrupted: the gaps that had ended are reported");
        return exit::INTERRUPTED as i32;
    }
    report.verdict.exit_code as i32
}
