//! The interactive dashboard: `netpeel URL` on a terminal. The engine is unchanged: the
//! dashboard runs `engine::probe` in a task, turns its events into live rows, and shows the
//! attempt's `report::Report` once it finishes.
//!
//! - [`app`]: the state and its pure `update(event) -> Option<Command>`.
//! - `keys`: the one key table; the app, the help and the key bar all read it.
//! - [`ui`] and [`panels`]: the layout and one render function per panel.
//! - [`event_loop`]: terminal events, engine events, ticks and signals into `update`.
//! - [`terminal`]: raw mode and the alternate screen, restored on every exit path.

mod app;
mod event_loop;
mod fmt;
mod header_info;
mod keys;
mod panels;
mod paste;
pub mod replay;
pub(crate) mod reuse;
#[cfg(test)]
pub(crate) mod sample;
mod terminal;
mod theme;
pub mod ui;
pub(crate) mod watch;

use crate::stdio::{print_out, say};
use std::time::Instant;

use crate::engine::ProbeSettings;
use crate::engine::verdict::exit;
use crate::replay::policy::ReplaySettings;
use crate::report;

pub use crate::explain::plan::{Overrides, ProbePlan};
pub use app::{App, Command, Event, Focus};
pub use header_info::HeaderInfo;
pub use paste::{PasteBox, Retarget, Then, ThenProbe};
pub(crate) use terminal::terminal_usable;
pub use theme::Theme;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TuiOptions {
    pub color: bool,
    /// `--ascii`: no box drawing, no Unicode symbols.
    pub ascii: bool,
    /// Print the final report to the normal screen on quit (`--no-report-on-exit` turns it off).
    pub report_on_exit: bool,
}

/// How the dashboard probes a pasted error (`p`): the command line's flags that beat the
/// paste, and how a probe plan becomes settings (the command line reads the environment).
pub(crate) struct PasteSetup {
    pub(crate) overrides: Overrides,
    pub(crate) settings_for: SettingsFor,
    /// `netpeel explain FILE`: the paste explained already; the settings given are its probe.
    pub(crate) explained: Option<crate::explain::Explained>,
}

/// Probe settings for a pasted error's plan, or the one-line reason it cannot be probed.
pub(crate) type SettingsFor = Box<dyn Fn(&ProbePlan) -> Result<ProbeSettings, String>>;

/// Run the dashboard on `runtime`; returns the process's exit code (the last attempt's
/// verdict, 130 when it was interrupted). Whether a dashboard is wanted is the caller's call.
pub(crate) fn run(
    runtime: tokio::runtime::Runtime,
    settings: ProbeSettings,
    replay: ReplaySettings,
    opts: TuiOptions,
    paste: PasteSetup,
) -> i32 {
    let theme = Theme {
        color: opts.color,
        ascii: opts.ascii,
    };
    // Shown, never obeyed: `netpeel explain FILE` probes a URL from the file.
    let url = crate::report::escape::for_terminal(&crate::redact::url(&settings.url));
    let request = crate::replay::export_request::ExportRequest::from_settings(&settings);
    let mut app = App::new(HeaderInfo::from_settings(&settings), Instant::now())
        .with_replay(replay, &url)
        .with_request(request)
        .with_url_stages(crate::replay::budget::UrlStages::of_probe(&settings))
        .with_paste(paste.overrides, paste.explained);
    let mut guard = match terminal::enter() {
        Ok(g) => g,
        Err(e) => {
            say(&format!(
                "cannot open the dashboard ({e}); use --format text for the plain report"
            ));
            return exit::INTERNAL as i32;
        }
    };
    let ended = runtime.block_on(event_loop::run(
        &mut guard.terminal,
        &mut app,
        &theme,
        settings,
        &paste.settings_for,
    ));
    // Back to the normal screen before anything is printed, so the report stays in the
    // scrollback. Dropping the runtime cancels a probe still running.
    drop(guard);
    drop(runtime);
    match ended {
        Err(e) => {
            say(&format!("the terminal failed: {e}"));
            exit::INTERNAL as i32
        }
        Ok(reason) => {
            // Whatever ended it, the report of what has run is printed: a finished probe's,
            // or a replay's attempts so far.
            if let Some(text) = quit_text(&app, &opts)
                && opts.report_on_exit
                && !print_out(&text)
            {
                return exit::INTERNAL as i32;
            }
            if let Some(words) = interrupted_words(&app, reason, opts.report_on_exit) {
                say(&words);
            }
            match reason {
                app::QuitReason::Signal => exit::INTERRUPTED as i32,
                app::QuitReason::User => app.exit_code(),
            }
        }
    }
}

/// What stderr says when the dashboard was left before the run ended (or by a signal).
fn interrupted_words(app: &App, reason: app::QuitReason, printed: bool) -> Option<String> {
    let run = app.attempts.last()?;
    let tries = run.partial.as_ref().map_or(0, |r| r.attempts.len());
    let unfinished = app.report().is_none() || app.was_cut();
    match (unfinished, tries) {
        (false, _) if reason == app::QuitReason::Signal => Some("interrupted".into()),
        (false, _) => None,
        (true, 0) => Some(match stages_so_far(app) {
            found if found.is_empty() => format!("interrupted (run {} had not finished)", run.n),
            found => format!("interrupted (run {} had not finished: {found})", run.n),
        }),
        (true, n) => Some(format!(
            "interrupted: run {} stopped after {n} attempt{}{}",
            run.n,
            if n == 1 { "" } else { "s" },
            if printed { " (reported above)" } else { "" }
        )),
    }
}

/// "TCP ok 19 ms, TLS unfinished after 4.20 s": the stages an unfinished probe had run (a
/// hanging stage is often the diagnosis, so it is not lost on Ctrl-C or a signal).
fn stages_so_far(app: &App) -> String {
    app.live
        .iter()
        .filter(|s| s.stage != crate::engine::Stage::Url)
        .filter_map(|s| {
            let name = s.stage.name().to_uppercase();
            match (s.elapsed, s.started) {
                (Some(d), _) => Some(format!(
                    "{name} {} {}",
                    theme::Theme::word(s.status),
                    crate::engine::fmt_duration(d)
                )),
                // Running when the dashboard was left (quitting marks it "not run").
                (None, Some(t)) => Some(format!(
                    "{name} unfinished after {}",
                    crate::engine::fmt_duration(app.now.saturating_duration_since(t))
                )),
                (None, None) => None,
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What is printed on quit: the report of what has run, and a pasted error's explanation
/// when that report does not carry it (the paste was not probed, or its probe was cut).
fn quit_text(app: &App, opts: &TuiOptions) -> Option<String> {
    let report = app.exit_report();
    let alone = app
        .then
        .as_ref()
        .and_then(|then| then.alone(app.attempt(), report.is_some()));
    let mut text = report.map_or_else(String::new, |r| {
        spelled(report::Format::Text.render(&r, opts.color), opts)
    });
    if let Some(x) = alone {
        let style = report::text::Style { color: opts.color };
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&spelled(report::explain::render_alone(&x, style), opts));
    }
    (!text.is_empty()).then_some(text)
}

/// In ASCII with `--ascii` (the terminal that needed it for the dashboard needs it for the
/// report too).
fn spelled(text: String, opts: &TuiOptions) -> String {
    match opts.ascii {
        true => report::ascii::spell(&text).into_owned(),
        false => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Stage;
    use crate::engine::events::ProbeEvent;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use std::time::Duration;

    /// Interrupted while the TLS handshake hangs: the stages that had ended and the one that
    /// was running are what was found, and stderr says them.
    #[test]
    fn an_interrupted_probe_says_how_far_it_got() {
        let t0 = Instant::now();
        let header = HeaderInfo::from_settings(&ProbeSettings::new("https://127.0.0.1:1/"));
        let mut app = App::new(header, t0);
        app.start(t0);
        let events = [
            ProbeEvent::StageSkipped {
                stage: Stage::Dns,
                reason: "the host is an IP address".into(),
            },
            ProbeEvent::StageStarted { stage: Stage::Tcp },
            ProbeEvent::StageFinished {
                stage: Stage::Tcp,
                ok: true,
                elapsed: Duration::from_millis(19),
                summary: "connected".into(),
            },
            ProbeEvent::StageStarted { stage: Stage::Tls },
        ];
        for event in events {
            let attempt = app.attempt();
            app.update(app::Event::Probe {
                attempt,
                event,
                at: t0,
            });
        }
        app.update(app::Event::Tick(t0 + Duration::from_millis(4200)));
        let expected = "interrupted (run 1 had not finished: TCP ok 19 ms, \
                        TLS unfinished after 4.20 s)";
        let words = interrupted_words(&app, app::QuitReason::Signal, true);
        assert_eq!(words.as_deref(), Some(expected));
        // Ctrl-C ends the run first (its running stage then reads "not run"): same words.
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        app.update(app::Event::Key(ctrl_c));
        let words = interrupted_words(&app, app::QuitReason::User, true);
        assert_eq!(words.as_deref(), Some(expected));
    }

    /// `netpeel explain FILE` at a terminal, quit (Ctrl-C, a signal) before the probe ended:
    /// the explanation is printed as `netpeel explain` prints it when interrupted, secrets
    /// masked; once the probe has a report, that report carries it and nothing is added.
    #[test]
    fn a_quit_before_the_pasted_probe_ends_still_prints_the_explanation() {
        let t0 = Instant::now();
        let paste = "requests.exceptions.ReadTimeout: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /x?token=SECRET1 (Caused by ReadTimeoutError(\"HTTPConnectionPool(host='127.0.0.1', port=9): Read timed out. (read timeout=5)\"))\n";
        let explained = crate::explain::explain(paste, false).expect("explained");
        let header = HeaderInfo::from_settings(&ProbeSettings::new("http://127.0.0.1:9/x"));
        let mut app = App::new(header, t0).with_paste(Default::default(), Some(explained));
        app.start(t0);
        let opts = TuiOptions {
            color: false,
            ascii: false,
            report_on_exit: true,
        };
        let text = quit_text(&app, &opts).expect("something printed");
        assert!(
            text.starts_with("THEN  what the pasted error says"),
            "{text}"
        );
        assert!(text.contains("read_timeout"), "{text}");
        assert!(
            text.contains("interrupted before the probe ended"),
            "{text}"
        );
        assert!(!text.contains("SECRET1"), "{text}");
    }
}
