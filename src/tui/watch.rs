//! The watch dashboard (`netpeel --watch URL` on a terminal): the latest probe's stages, the
//! timeline strip, and the run's outcomes, percentiles, addresses and verdict, redrawn as
//! probes finish. The keys are the key table's (`keys`, modes `Watch` and `WatchDetail`):
//! `p` pauses (no new probe starts), `r` starts the statistics again, ←/→ move a cursor over
//! the timeline's failures and `Enter` opens that probe's full report, `q` quits and prints the
//! text report. The numbers and sentences are the watch report's (`watch::report`,
//! `watch::text`); this file only lays them out.

use std::future::Future;
use std::io;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEvent, KeyEventKind};
use futures_util::StreamExt;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::keys::{self, Action, BarState, Mode};
use super::panels::keybar;
use super::terminal;
use super::theme::Theme;
use crate::watch::failures::KEPT_FAILURES;
use crate::watch::report::TimelineReport;
use crate::watch::{ProbeSample, Timed, WatchHandle, WatchReport};

/// Redraw rate: the numbers change once per probe at most; a few times a second is enough.
const TICK: Duration = Duration::from_millis(250);

/// What one frame shows.
pub(crate) struct WatchView<'a> {
    pub(crate) url: &'a str,
    pub(crate) report: &'a WatchReport,
    pub(crate) latest: Option<&'a ProbeSample>,
    pub(crate) paused: bool,
    /// The count was reached: nothing more will run.
    pub(crate) finished: bool,
    /// The timeline's cursor and the open report.
    pub(crate) ui: &'a WatchUi,
    /// The selected failure's full report is still kept (else its line says it was dropped).
    pub(crate) selected_kept: bool,
}

/// The dashboard's own state. `on_key` is pure: it reads the timeline it is given and hands
/// back what only the loop can do (pause, reset, end).
#[derive(Debug, Default)]
pub(crate) struct WatchUi {
    /// The failure the cursor is on, by probe number; None: the newest (it follows the run).
    cursor: Option<u64>,
    detail: Option<Detail>,
}

/// An open report: whose, its text (already escaped for the terminal), how far it is scrolled.
#[derive(Debug, PartialEq, Eq)]
struct Detail {
    probe: u64,
    text: String,
    offset: u16,
}

/// What a key asks of the loop.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Continue,
    TogglePause,
    Reset,
    /// End the run: `true` when it counts as a signal (Ctrl-C).
    End(bool),
    /// Ctrl-Z: stop until `fg`.
    Suspend,
}

impl WatchUi {
    fn mode(&self) -> Mode {
        if self.detail.is_some() {
            Mode::WatchDetail
        } else {
            Mode::Watch
        }
    }

    /// The failure the cursor is on: the chosen probe while the timeline still has it, else
    /// the newest failure.
    pub(crate) fn selected<'t>(
        &self,
        timeline: &'t [TimelineReport],
    ) -> Option<&'t TimelineReport> {
        let mut failures = timeline.iter().filter(|c| !c.ok);
        let chosen = self
            .cursor
            .and_then(|p| failures.clone().find(|c| c.probe == p));
        chosen.or_else(|| failures.next_back())
    }

    /// Act on a key, looked up in the key table; `report` gives a kept failure's text.
    pub(crate) fn on_key(
        &mut self,
        key: &KeyEvent,
        timeline: &[TimelineReport],
        report: impl Fn(u64) -> Option<String>,
    ) -> Step {
        let Some(action) = keys::action_for(self.mode(), key) else {
            return Step::Continue;
        };
        match action {
            Action::Quit => return Step::End(false),
            Action::Interrupt => return Step::End(true),
            Action::Suspend => return Step::Suspend,
            Action::TogglePause => return Step::TogglePause,
            Action::ResetStats => return Step::Reset,
            Action::FailureEarlier => self.step(timeline, false, &report),
            Action::FailureLater => self.step(timeline, true, &report),
            Action::OpenFailure => self.open(timeline, &report),
            Action::CloseFailure => self.detail = None,
            Action::MoveUp => self.scroll(-1),
            Action::MoveDown => self.scroll(1),
            Action::PageUp => self.scroll(-10),
            Action::PageDown => self.scroll(10),
            Action::MoveFirst => self.scroll(i32::MIN / 2),
            Action::MoveLast => self.scroll(i32::MAX / 2),
            // The single-probe app's actions: no watch mode binds them.
            _ => {}
        }
        Step::Continue
    }

    /// Move the cursor one failure older or newer; an open report follows it.
    fn step(
        &mut self,
        timeline: &[TimelineReport],
        later: bool,
        report: &impl Fn(u64) -> Option<String>,
    ) {
        let failures: Vec<u64> = timeline.iter().filter(|c| !c.ok).map(|c| c.probe).collect();
        let Some(now) = self.selected(timeline).map(|c| c.probe) else {
            return;
        };
        let at = failures.iter().position(|p| *p == now).unwrap_or(0);
        let next = if later { at + 1 } else { at.saturating_sub(1) };
        // Back on the newest failure, the cursor follows the run again.
        self.cursor = (next + 1 < failures.len()).then(|| failures[next]);
        if self.detail.is_some() {
            self.open(timeline, report);
        }
    }

    fn open(&mut self, timeline: &[TimelineReport], report: &impl Fn(u64) -> Option<String>) {
        let Some(probe) = self.selected(timeline).map(|c| c.probe) else {
            return;
        };
        let text = report(probe).unwrap_or_else(|| {
            format!(
                "Probe #{probe}'s full report was dropped: the dashboard keeps the reports \
                 of the last {KEPT_FAILURES} failures only.\n"
            )
        });
        self.detail = Some(Detail {
            probe,
            text,
            offset: 0,
        });
    }

    fn scroll(&mut self, by: i32) {
        if let Some(d) = &mut self.detail {
            let most = i32::try_from(d.text.lines().count()).unwrap_or(i32::MAX);
            let next = (i32::from(d.offset).saturating_add(by)).clamp(0, most);
            d.offset = u16::try_from(next).unwrap_or(0);
        }
    }
}

/// Show the run until `q` (false) or a signal (true); the probes run meanwhile. The terminal is
/// restored before this returns, whatever happened.
pub(crate) async fn drive<F: Future>(
    watch: &WatchHandle,
    probes: F,
    theme: Theme,
    url: &str,
) -> io::Result<bool> {
    let mut guard = terminal::enter()?;
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    let stop = crate::cli::stop_signal();
    tokio::pin!(probes, stop);
    let mut finished = false;
    let mut ui = WatchUi::default();
    loop {
        let report = watch.report();
        let latest = watch.latest();
        let selected = ui.selected(&report.timeline).map(|c| c.probe);
        let view = WatchView {
            url,
            report: &report,
            latest: latest.as_ref(),
            paused: watch.paused(),
            finished,
            ui: &ui,
            selected_kept: selected.is_some_and(|p| watch.has_failure_report(p)),
        };
        guard.terminal.draw(|f| draw(f, &view, theme))?;
        tokio::select! {
            _ = &mut probes, if !finished => finished = true,
            _ = &mut stop => return Ok(true),
            _ = tick.tick() => {}
            event = keys.next() => match event {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => {
                    match ui.on_key(&k, &report.timeline, |p| watch.failure_report(p)) {
                        Step::Continue => {}
                        Step::TogglePause => watch.toggle_pause(),
                        Step::Reset => watch.reset(),
                        Step::End(signal) => return Ok(signal),
                        Step::Suspend => terminal::suspend(&mut guard.terminal)?,
                    }
                }
                Some(Ok(_)) => {}
                // The terminal went away (SSH dropped): end as a signal would.
                Some(Err(_)) | None => return Ok(true),
            },
        }
    }
}

/// One frame: header, latest probe, timeline strip, the selected failure, the report's
/// sections (or an open report over them), key bar.
pub(crate) fn draw(frame: &mut Frame<'_>, view: &WatchView<'_>, theme: Theme) {
    let [header, latest, strip, chosen, body, keys] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(header_lines(view, theme)), header);
    frame.render_widget(Paragraph::new(latest_line(view.latest, theme)), latest);
    let selected = view.ui.selected(&view.report.timeline);
    let cells = usize::from(strip.width.saturating_sub(2));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border())
        .title(Span::styled(" timeline ", theme.title()));
    let line = timeline_line(view.report, cells, selected.map(|c| c.probe), theme);
    frame.render_widget(Paragraph::new(line).block(block), strip);
    let line = selected_line(selected, view.selected_kept, theme);
    frame.render_widget(Paragraph::new(line), chosen);
    let sections = crate::watch::text::sections(view.report);
    frame.render_widget(Paragraph::new(text_lines(&sections, theme)), body);
    if let Some(d) = &view.ui.detail {
        draw_detail(frame, body, d, theme);
    }
    let state = BarState {
        stages_focused: false,
        expanded: false,
        running: !view.finished,
    };
    let bar = keybar::mode_line(view.ui.mode(), state, &theme, keys.width);
    frame.render_widget(Paragraph::new(bar), keys);
}

fn text_lines(text: &str, theme: Theme) -> Vec<Line<'static>> {
    text.lines()
        .map(|l| Line::raw(theme.text(l).into_owned()))
        .collect()
}

/// A failed probe's report over the body, scrolled.
fn draw_detail(frame: &mut Frame<'_>, area: Rect, d: &Detail, theme: Theme) {
    let title = format!(" probe #{} (Enter/Esc closes, arrows scroll) ", d.probe);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border())
        .title(Span::styled(title, theme.title()));
    frame.render_widget(Clear, area);
    let text = Paragraph::new(text_lines(&d.text, theme)).block(block);
    frame.render_widget(text.scroll((d.offset, 0)), area);
}

/// "probe #42 at 14:02:10: tcp connect_timeout after 3.0 s  (Enter: report)".
fn selected_line(selected: Option<&TimelineReport>, kept: bool, theme: Theme) -> Line<'static> {
    let Some(c) = selected else {
        return Line::styled("no failure in the timeline", theme.dim());
    };
    let layer = c.layer.map(|l| l.name()).unwrap_or("any");
    let kind = c.kind.map(|k| k.name()).unwrap_or("?");
    // The time of day to the second is enough here; the JSON document has the rest.
    let when = c.t.get(11..19).unwrap_or(&c.t);
    let after = crate::report::words::fmt_ms(c.total_ms);
    // The open report says why it was dropped; this line has no room for it at 80 columns.
    let note = if kept {
        "  (Enter: report)"
    } else {
        "  (report dropped)"
    };
    Line::from(vec![
        Span::raw(format!("probe #{} at {when}: ", c.probe)),
        Span::styled(format!("{layer} {kind}"), theme.bad()),
        Span::raw(format!(" after {after}")),
        Span::styled(note, theme.dim()),
    ])
}

fn header_lines(view: &WatchView<'_>, theme: Theme) -> Vec<Line<'static>> {
    let w = view.report;
    let state = if view.finished {
        "  finished"
    } else if view.paused {
        "  PAUSED"
    } else {
        ""
    };
    let counts = Line::from(vec![
        Span::raw(format!("{} probes  ", w.probes)),
        Span::styled(format!("{} ok", w.ok), theme.ok()),
        Span::raw("  "),
        Span::styled(
            format!("{} failed", w.failed),
            if w.failed > 0 {
                theme.bad()
            } else {
                theme.dim()
            },
        ),
        Span::raw(format!("  every {} s", w.interval_s)),
        Span::styled(state, theme.warn()),
    ]);
    let title = format!(
        "netpeel watch  {}",
        crate::report::escape::for_terminal(view.url)
    );
    vec![Line::styled(title, theme.title()), counts]
}

/// "latest: tcp 0.2 ms  ttfb 5.1 ms  body 0.1 ms  total 6.0 ms  ok".
fn latest_line(latest: Option<&ProbeSample>, theme: Theme) -> Line<'static> {
    let Some(s) = latest else {
        return Line::styled("latest: waiting for the first probe", theme.dim());
    };
    let mut spans = vec![Span::raw("latest:")];
    for (timed, time) in Timed::ALL.iter().zip(s.times) {
        if let Some(d) = time {
            let ms = crate::report::words::fmt_ms(d.as_secs_f64() * 1000.0);
            spans.push(Span::raw(format!("  {} {ms}", timed.name())));
        }
    }
    spans.push(Span::raw("  "));
    spans.push(match (s.layer, s.kind) {
        (_, None) => Span::styled("ok", theme.ok()),
        (layer, Some(kind)) => {
            let layer = layer.map(|l| l.name()).unwrap_or("any");
            Span::styled(format!("{layer} {kind}"), theme.bad())
        }
    });
    Line::from(spans)
}

/// The newest probes that fit `cells`, one letter each; further back if the cursor is on an
/// older failure, which is drawn in reverse video.
fn timeline_line(
    w: &WatchReport,
    cells: usize,
    cursor: Option<u64>,
    theme: Theme,
) -> Line<'static> {
    let newest = w.timeline.len().saturating_sub(cells);
    let at = cursor.and_then(|p| w.timeline.iter().position(|c| c.probe == p));
    let skip = at.map_or(newest, |i| newest.min(i));
    let spans: Vec<Span<'static>> = w.timeline[skip..]
        .iter()
        .take(cells)
        .map(|c| {
            let (letter, style) = if c.ok {
                (".".to_string(), theme.ok())
            } else {
                let letter = crate::watch::text::layer_letter(c.layer).to_string();
                (letter, theme.bad())
            };
            if cursor == Some(c.probe) {
                Span::styled(letter, style.patch(theme.selected()))
            } else {
                Span::styled(letter, style)
            }
        })
        .collect();
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use crossterm::event::{KeyCode, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::engine::verdict::Kind;
    use crate::replay::whatif::AttemptTimes;
    use crate::watch::report::{RunFacts, build};
    use crate::watch::stats::WatchStats;

    fn sample(kind: Option<Kind>) -> ProbeSample {
        let ms = Some(Duration::from_millis(3));
        ProbeSample {
            layer: kind.and_then(|k| k.info().layer),
            kind,
            status: Some(200),
            times: [
                None,
                ms,
                None,
                None,
                ms,
                ms,
                kind.is_none().then_some(ms).flatten(),
            ],
            elapsed: Duration::from_millis(7),
            addresses: Vec::new(),
            what_if: AttemptTimes::default(),
        }
    }

    #[test]
    fn an_80_by_24_screen_shows_the_verdict_the_timeline_and_the_keys() {
        let mut stats = WatchStats::new(SystemTime::UNIX_EPOCH);
        for i in 0..200u64 {
            let kind = (i % 3 == 2).then_some(Kind::HttpServerError);
            stats.record(&sample(kind), SystemTime::UNIX_EPOCH);
        }
        let facts = RunFacts {
            method: "GET",
            interval: Duration::from_secs(1),
            count: None,
            elapsed: Duration::from_secs(200),
            stopped_by_signal: false,
        };
        let report = build(&stats, facts);
        let latest = sample(Some(Kind::HttpServerError));
        let ui = WatchUi::default();
        let view = WatchView {
            url: "http://127.0.0.1:8080/\u{1b}[2J",
            report: &report,
            latest: Some(&latest),
            paused: true,
            finished: false,
            ui: &ui,
            selected_kept: false,
        };
        let theme = Theme {
            color: false,
            ascii: true,
        };
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
        terminal.draw(|f| draw(f, &view, theme)).expect("draw");
        let screen = crate::tui::ui::screen_text(terminal.backend().buffer());
        for expected in [
            "200 probes  134 ok  66 failed",
            "PAUSED",
            "latest:  tcp 3.0 ms  ttfb 3.0 ms  body 3.0 ms  http http_server_error",
            "H..H..H..H",
            "VERDICT: intermittent failures",
            "probe #198 at 00:00:00: http http_server_error after 7.0 ms  (report dropped)",
            "report dropped",
            "Left/Right failure  Enter report  p pause/resume  r reset  q quit",
        ] {
            assert!(screen.contains(expected), "{expected:?} missing:\n{screen}");
        }
        assert!(!screen.contains('\u{1b}'), "{screen}");
    }

    fn press(ui: &mut WatchUi, timeline: &[TimelineReport], code: KeyCode) -> Step {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        ui.on_key(&key, timeline, |p| {
            (p != 3).then(|| format!("report of probe {p}\nline 2\n"))
        })
    }

    /// Probes 1 to 10; 3, 6 and 9 failed.
    fn timeline() -> Vec<TimelineReport> {
        (1..=10u64)
            .map(|probe| TimelineReport {
                probe,
                t: "2026-11-25T14:02:10.000Z".into(),
                ok: probe % 3 != 0,
                layer: None,
                kind: (probe % 3 == 0).then_some(Kind::HttpServerError),
                total_ms: 7.0,
            })
            .collect()
    }

    #[test]
    fn left_picks_an_older_failure_and_enter_opens_its_report_esc_closes_it() {
        let tl = timeline();
        let mut ui = WatchUi::default();
        assert_eq!(
            ui.selected(&tl).map(|c| c.probe),
            Some(9),
            "the newest first"
        );
        assert_eq!(press(&mut ui, &tl, KeyCode::Left), Step::Continue);
        assert_eq!(ui.selected(&tl).map(|c| c.probe), Some(6));
        press(&mut ui, &tl, KeyCode::Enter);
        assert_eq!(ui.mode(), Mode::WatchDetail);
        let d = ui.detail.as_ref().expect("a report is open");
        assert_eq!(
            (d.probe, d.text.as_str()),
            (6, "report of probe 6\nline 2\n")
        );
        press(&mut ui, &tl, KeyCode::Down);
        assert_eq!(ui.detail.as_ref().map(|d| d.offset), Some(1));
        // ← in the report steps to the older failure, whose report was dropped.
        press(&mut ui, &tl, KeyCode::Char('h'));
        let d = ui.detail.as_ref().expect("still open");
        assert!(
            d.text.contains("Probe #3's full report was dropped"),
            "{}",
            d.text
        );
        press(&mut ui, &tl, KeyCode::Esc);
        assert_eq!(ui.mode(), Mode::Watch);
        assert!(ui.detail.is_none());
        // Right back to the newest: the cursor follows the run again.
        press(&mut ui, &tl, KeyCode::Right);
        press(&mut ui, &tl, KeyCode::Char('l'));
        assert_eq!(ui.cursor, None);
        assert_eq!(press(&mut ui, &tl, KeyCode::Char('p')), Step::TogglePause);
        assert_eq!(press(&mut ui, &tl, KeyCode::Char('r')), Step::Reset);
        assert_eq!(press(&mut ui, &tl, KeyCode::Esc), Step::End(false));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(ui.on_key(&ctrl_c, &tl, |_| None), Step::End(true));
        let ctrl_z = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
        assert_eq!(ui.on_key(&ctrl_z, &tl, |_| None), Step::Suspend);
    }

    /// Every watch binding, pressed, is taken by the dashboard and does something.
    #[test]
    fn every_watch_binding_does_something() {
        use crate::tui::keys::{BINDINGS, Key, Scope};
        let tl = timeline();
        for b in BINDINGS {
            let Scope::Only(mode) = b.scope else { continue };
            if !mode.is_watch() {
                continue;
            }
            for key in b.keys {
                let Key::Plain(code) = *key else { continue };
                // The cursor one failure back, so that → has somewhere to go.
                let mut ui = WatchUi::default();
                press(&mut ui, &tl, KeyCode::Left);
                if mode == Mode::WatchDetail {
                    press(&mut ui, &tl, KeyCode::Enter);
                    press(&mut ui, &tl, KeyCode::Down);
                }
                assert_eq!(ui.mode(), mode);
                let before = format!("{ui:?}");
                let step = press(&mut ui, &tl, code);
                let changed = step != Step::Continue || format!("{ui:?}") != before;
                assert!(changed, "{key:?} in {mode:?} did nothing");
            }
        }
    }
}
