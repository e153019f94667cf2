//! Reuse mode from the command line: say how long it will take, run the gaps (all at once,
//! each on its own connection) and the sweep, then print the report or the exported fix.
//! Ctrl-C, SIGTERM and SIGHUP end it with the gaps that finished reported.

use std::cell::RefCell;

use super::gap::{self, GapResult};
use super::progress::ReuseEvents;
use super::sweep::{self, Listeners, SweepResult};
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

/// Run the gaps and the sweep side by side; `listen` hears of each gap and try as it ends.
pub(crate) async fn run(
    settings: &ProbeSettings,
    request: &ReuseRequest,
    events: &Events,
    listen: &Listeners<'_>,
) -> ReuseRun {
    let gaps = request.gaps.iter().map(|g| async move {
        let result = gap::run(settings, *g, events, listen.events, None).await;
        (listen.on_try)(&result);
        (listen.say)(&gap::describe(&result));
        result
    });
    let sweep = async {
        match request.sweep_max {
            Some(max) => Some(sweep::run(settings, max, events, listen).await),
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
    /// On a terminal: the dashboard's reuse view, then the text report.
    pub(crate) dashboard: Option<Dashboard>,
}

/// The dashboard's look and whether it prints the text report when it quits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dashboard {
    pub(crate) theme: crate::tui::Theme,
    /// `--no-report-on-exit` turns it off.
    pub(crate) report_on_exit: bool,
}

/// How the run ended: what it found, and whether it was cut short (a signal, Ctrl-C, or `q`
/// before the last gap ended).
struct Ended {
    run: ReuseRun,
    interrupted: bool,
}

/// The mode's `main`: announce, run on `runtime` (with the dashboard or without), print, and
/// return the exit code.
pub(crate) fn main(
    runtime: &tokio::runtime::Runtime,
    settings: &ProbeSettings,
    request: &ReuseRequest,
    output: &Output,
) -> i32 {
    say(&announcement(request, settings));
    let done: RefCell<Vec<GapResult>> = RefCell::new(Vec::new());
    let on_try = |g: &GapResult| done.borrow_mut().push(g.clone());
    let events = Events::none();
    let ran = match output.dashboard {
        Some(dashboard) => {
            let (progress, rx) = ReuseEvents::channel();
            // The screen is the dashboard's: no progress lines on stderr under it.
            let listen = Listeners {
                on_try: &on_try,
                say: &|_| {},
                events: &progress,
            };
            let work = run(settings, request, &events, &listen);
            let view = crate::tui::reuse::Setup {
                settings,
                request,
                theme: dashboard.theme,
            };
            match runtime.block_on(crate::tui::reuse::drive(work, rx, &view)) {
                Ok((ran, signal)) => ran.map(|run| Ended {
                    run,
                    interrupted: signal,
                }),
                Err(e) => {
                    say(&format!("the terminal failed: {e}"));
                    return exit::INTERNAL as i32;
                }
            }
        }
        None => {
            let progress = ReuseEvents::none();
            let listen = Listeners {
                on_try: &on_try,
                say: &say,
                events: &progress,
            };
            let work = run(settings, request, &events, &listen);
            runtime
                .block_on(crate::cli::until_interrupted(work))
                .map(|run| Ended {
                    run,
                    interrupted: false,
                })
        }
    };
    let ended = ran.unwrap_or_else(|| Ended {
        run: ReuseRun {
            settings: settings.clone(),
            gaps: done.take(),
            sweep: None,
        },
        interrupted: true,
    });
    finish(&ended, output)
}

/// Print what the run found as asked; the exit code.
fn finish(ended: &Ended, output: &Output) -> i32 {
    let Some(report) = report::build_reuse(&ended.run) else {
        say("interrupted before any gap ended");
        return exit::INTERRUPTED as i32;
    };
    let text = match (output.export, output.dashboard) {
        (Some(format), _) => export::render(format, &ended.run, &report),
        (None, Some(d)) if !d.report_on_exit => String::new(),
        (None, Some(d)) => {
            let text = Format::Text.render(&report, d.theme.color);
            match d.theme.ascii {
                true => crate::report::ascii::spell(&text).into_owned(),
                false => text,
            }
        }
        (None, None) => output.format.render(&report, output.color),
    };
    if !print_out(&text) {
        return exit::INTERNAL as i32;
    }
    if ended.interrupted {
        say("interrupted: the gaps that had ended are reported");
        return exit::INTERRUPTED as i32;
    }
    report.verdict.exit_code as i32
}
