//! The reuse view (`netpeel --reuse-after GAPS URL` or `--idle-sweep MAX URL` on a terminal):
//! one row per gap (and per sweep try) with its idle countdown or its outcome; the chosen
//! gap's first request's stages, its idle countdown, the second request's stages on the same
//! connection (DNS/TCP/TLS "reused") or on the new one urllib3 would open, and what requests
//! makes of it; the run's verdict once every gap has ended. The keys are the key table's
//! (`keys`, modes `Reuse` and `ReuseExport`): ↑/↓ choose a gap, `x` shows the fix
//! (`reuse::export`), `q` quits and prints the text report of what was found.
//!
//! The run reports its progress as `reuse::progress` events; `ReuseUi::on_event` and
//! `ReuseUi::on_key` are pure, `draw` only lays out what they kept.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, EventStream, KeyEvent, KeyEventKind};
use futures_util::StreamExt;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use tokio::sync::mpsc::Receiver;

use super::keys::{self, Action, BarState, Mode};
use super::panels::{self, Chrome, keybar};
use super::terminal;
use super::theme::Theme;
use crate::engine::{ProbeOutcome, ProbeSettings, fmt_duration};
use crate::replay::export::ExportFormat;
use crate::report::escape::for_terminal;
use crate::report::model::{Stage, StageStatus};
use crate::report::words;
use crate::reuse::gap::GapResult;
use crate::reuse::progress::{GapId, ReuseEvent};
use crate::reuse::run::ReuseRun;
use crate::reuse::{ReuseRequest, Wire};

/// Redraw rate: the countdown moves in tenths of a second.
const TICK: Duration = Duration::from_millis(100);
/// Most gap rows kept: a run has at most 16 gaps and 30 sweep tries; the oldest ended row
/// goes first should that ever change.
const MAX_ROWS: usize = 64;
/// Gap rows shown at once (the list scrolls to the chosen one); 80×24 keeps room for the
/// chosen gap's requests and the verdict.
const ROWS_SHOWN: u16 = 6;

/// What the dashboard needs from the command line.
pub(crate) struct Setup<'a> {
    pub(crate) settings: &'a ProbeSettings,
    pub(crate) request: &'a ReuseRequest,
    pub(crate) theme: Theme,
}

/// One stage of a request as a row shows it: "TCP 0.3 ms", "TLS reused", "HTTP 200 1.2 ms".
#[derive(Clone, Debug, PartialEq)]
struct StageCell {
    label: String,
    value: String,
    failed: bool,
}

/// Where a gap is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    First,
    Idle {
        since: Instant,
        until: Instant,
    },
    /// The request went out again at `at`, this long after the connection went idle.
    Sending {
        at: Instant,
        idle: Duration,
    },
    Done,
}

#[derive(Debug)]
struct GapRow {
    id: GapId,
    gap: Duration,
    /// The sweep's round (None for a `--reuse-after` gap).
    round: Option<usize>,
    phase: Phase,
    first: Vec<StageCell>,
    second: Vec<StageCell>,
    /// The gap's outcome, once it ended.
    result: Option<Box<GapResult>>,
    /// How it went and what requests raises (the report's words, escaped).
    outcome: String,
    /// The same in a row's room: "closed (FIN) after 1.0 s idle", "ReadTimeout: no answer …".
    row: String,
}

/// The sweep as far as it got.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct SweepProgress {
    round: usize,
    /// Connections the current round keeps idle at once.
    tries: usize,
    /// Set when it concluded: the estimate and how the far end gives up.
    concluded: Option<(Option<Duration>, Option<Wire>)>,
}

/// The run's verdict, once it ended (escaped for the terminal).
#[derive(Clone, Debug, PartialEq)]
struct Verdict {
    summary: String,
    ok: bool,
    exit_code: u8,
}

/// The `x` overlay: the fix as a Python snippet and as a curl line (escaped).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExportText {
    pub(crate) python: String,
    pub(crate) curl: String,
}

/// The open overlay and how far it is scrolled (the snippet is longer than 24 lines).
#[derive(Clone, Debug, PartialEq)]
struct Overlay {
    text: ExportText,
    offset: u16,
}

/// The view's own state: the gaps as the run reported them, the chosen gap, the overlay.
#[derive(Debug, Default)]
pub(crate) struct ReuseUi {
    rows: Vec<GapRow>,
    /// The chosen gap; None: it follows the run (the first gap still running, else the last).
    cursor: Option<GapId>,
    export: Option<Overlay>,
    sweep: Option<SweepProgress>,
    verdict: Option<Verdict>,
}

/// What a key asks of the loop.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Continue,
    /// Build the fix from what was found and open it (`open_export`).
    OpenExport,
    /// End the view: `true` when it counts as a signal (Ctrl-C).
    End(bool),
    /// Ctrl-Z: stop until `fg`.
    Suspend,
}

impl ReuseUi {
    fn mode(&self) -> Mode {
        if self.export.is_some() {
            Mode::ReuseExport
        } else {
            Mode::Reuse
        }
    }

    fn row_mut(&mut self, id: GapId) -> Option<&mut GapRow> {
        self.rows.iter_mut().find(|r| r.id == id)
    }

    /// Take one of the run's events.
    pub(crate) fn on_event(&mut self, event: ReuseEvent) {
        match event {
            ReuseEvent::GapStarted { id, gap, round } => {
                if self.rows.len() >= MAX_ROWS {
                    let ended = self.rows.iter().position(|r| r.phase == Phase::Done);
                    self.rows.remove(ended.unwrap_or(0));
                }
                self.rows.push(GapRow {
                    id,
                    gap,
                    round,
                    phase: Phase::First,
                    first: Vec::new(),
                    second: Vec::new(),
                    result: None,
                    outcome: String::new(),
                    row: String::new(),
                });
            }
            ReuseEvent::FirstDone {
                id,
                first,
                idle_since,
                idle_until,
            } => {
                if let Some(row) = self.row_mut(id) {
                    row.first = stage_cells(&first);
                    if let Some(until) = idle_until {
                        row.phase = Phase::Idle {
                            since: idle_since,
                            until,
                        };
                    }
                }
            }
            ReuseEvent::Sending { id, at, idle } => {
                if let Some(row) = self.row_mut(id) {
                    row.phase = Phase::Sending { at, idle };
                }
            }
            ReuseEvent::Done { id, result } => {
                if let Some(row) = self.row_mut(id) {
                    row.phase = Phase::Done;
                    row.first = stage_cells(&result.first);
                    row.second = result.second.as_ref().map(stage_cells).unwrap_or_default();
                    row.outcome = for_terminal(&crate::report::gap_summary(&result));
                    row.row = for_terminal(&row_words(&result));
                    row.result = Some(result);
                }
            }
            ReuseEvent::SweepRound { round, gaps } => {
                let sweep = self.sweep.get_or_insert_with(SweepProgress::default);
                sweep.round = round;
                sweep.tries = gaps.len();
            }
            ReuseEvent::SweepDone {
                estimate,
                kind,
                rounds,
            } => {
                let sweep = self.sweep.get_or_insert_with(SweepProgress::default);
                sweep.round = rounds;
                sweep.concluded = Some((estimate, kind));
            }
        }
    }

    /// The run ended: its verdict, as the report has it.
    pub(crate) fn finish(&mut self, run: &ReuseRun) {
        self.verdict = crate::report::build_reuse(run).map(|r| Verdict {
            summary: for_terminal(
                r.reuse
                    .as_ref()
                    .map(|ru| ru.summary.as_str())
                    .unwrap_or(&r.verdict.summary),
            ),
            ok: r.verdict.ok,
            exit_code: r.verdict.exit_code,
        });
    }

    /// The gaps that ended so far, in the order they started (a run cut short reports these).
    pub(crate) fn results(&self) -> Vec<GapResult> {
        self.rows
            .iter()
            .filter_map(|r| r.result.as_deref().cloned())
            .collect()
    }

    pub(crate) fn open_export(&mut self, text: ExportText) {
        self.export = Some(Overlay { text, offset: 0 });
    }

    /// The chosen gap's row.
    fn selected(&self) -> Option<&GapRow> {
        let chosen = self
            .cursor
            .and_then(|id| self.rows.iter().find(|r| r.id == id));
        chosen
            .or_else(|| self.rows.iter().find(|r| r.phase != Phase::Done))
            .or_else(|| self.rows.last())
    }

    /// Act on a key, looked up in the key table.
    pub(crate) fn on_key(&mut self, key: &KeyEvent) -> Step {
        let Some(action) = keys::action_for(self.mode(), key) else {
            return Step::Continue;
        };
        match action {
            Action::Quit => return Step::End(false),
            Action::Interrupt => return Step::End(true),
            Action::Suspend => return Step::Suspend,
            Action::OpenExport => return Step::OpenExport,
            Action::CloseExport => self.export = None,
            Action::MoveUp | Action::MoveDown | Action::PageUp | Action::PageDown
                if self.export.is_some() =>
            {
                self.scroll(action)
            }
            Action::MoveUp => self.step(-1),
            Action::MoveDown => self.step(1),
            Action::MoveFirst => self.step(-(MAX_ROWS as isize)),
            Action::MoveLast => self.step(MAX_ROWS as isize),
            // The other views' actions: no reuse mode binds them.
            _ => {}
        }
        Step::Continue
    }

    /// Scroll the open overlay; it stops with its last line at the top.
    fn scroll(&mut self, action: Action) {
        let Some(o) = &mut self.export else { return };
        let by: i32 = match action {
            Action::MoveUp => -1,
            Action::MoveDown => 1,
            Action::PageUp => -10,
            _ => 10,
        };
        let lines = o.text.python.lines().count() + o.text.curl.lines().count() + 2;
        let most = i32::try_from(lines).unwrap_or(i32::MAX);
        let next = (i32::from(o.offset) + by).clamp(0, most);
        o.offset = u16::try_from(next).unwrap_or(0);
    }

    fn step(&mut self, by: isize) {
        let Some(now) = self.selected().map(|r| r.id) else {
            return;
        };
        let at = self.rows.iter().position(|r| r.id == now).unwrap_or(0);
        let last = self.rows.len().saturating_sub(1);
        let next = at.saturating_add_signed(by).min(last);
        self.cursor = self.rows.get(next).map(|r| r.id);
    }
}

/// A request's stages, as one row of cells (the URL stage is the user's own; the proxy's
/// only when there is one).
fn stage_cells(outcome: &ProbeOutcome) -> Vec<StageCell> {
    let report = crate::report::build(outcome);
    let proxied = words::uses_proxy(&report);
    let status = outcome.http.detail().map(|d| d.response.status);
    report
        .stages
        .iter()
        .filter(|s| s.stage != Stage::Url && (s.stage != Stage::Proxy || proxied))
        .map(|s| {
            let time = s.elapsed_ms.map(words::fmt_ms).unwrap_or_default();
            let value = match s.status {
                StageStatus::Ok => match (s.stage, status) {
                    (Stage::Http, Some(code)) => format!("{code} {time}"),
                    _ => time,
                },
                // The kept connection's stages did not run again: it was reused.
                StageStatus::Skipped if s.summary.starts_with("reused") => "reused".into(),
                StageStatus::Skipped => "skipped".into(),
                StageStatus::Failed => format!("FAILED {time}"),
                StageStatus::NotRun => "-".into(),
            };
            StageCell {
                label: words::stage_label(s.stage, proxied),
                value: value.trim_end().to_string(),
                failed: s.status == StageStatus::Failed,
            }
        })
        .collect()
}

/// What one frame shows.
pub(crate) struct ReuseView<'a> {
    /// The URL, passwords masked, escaped.
    pub(crate) url: &'a str,
    pub(crate) ui: &'a ReuseUi,
    /// The clock the countdowns are read against.
    pub(crate) now: Instant,
    pub(crate) running: bool,
    pub(crate) read_timeout: Duration,
    /// `--idle-sweep MAX`, if asked.
    pub(crate) sweep_max: Option<Duration>,
}

/// Show the run until `q` (false) or a signal (true); the run goes on meanwhile. Returns the
/// run when it ended (else the caller reports the gaps that had ended) and whether it was left
/// by a signal. The terminal is restored before this returns, whatever happened.
pub(crate) async fn drive<F: Future<Output = ReuseRun>>(
    work: F,
    mut progress: Receiver<ReuseEvent>,
    setup: &Setup<'_>,
) -> io::Result<(Option<ReuseRun>, bool)> {
    let mut guard = terminal::enter()?;
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    let stop = crate::cli::stop_signal();
    tokio::pin!(work, stop);
    let mut ui = ReuseUi::default();
    let mut finished: Option<ReuseRun> = None;
    let url = for_terminal(&crate::redact::url(&setup.settings.url));
    loop {
        while let Ok(event) = progress.try_recv() {
            ui.on_event(event);
        }
        let view = ReuseView {
            url: &url,
            ui: &ui,
            now: Instant::now(),
            running: finished.is_none(),
            read_timeout: setup.settings.read_timeout,
            sweep_max: setup.request.sweep_max,
        };
        guard.terminal.draw(|f| draw(f, &view, setup.theme))?;
        tokio::select! {
            run = &mut work, if finished.is_none() => {
                while let Ok(event) = progress.try_recv() {
                    ui.on_event(event);
                }
                ui.finish(&run);
                finished = Some(run);
            }
            _ = &mut stop => return Ok((finished, true)),
            _ = tick.tick() => {}
            Some(event) = progress.recv() => ui.on_event(event),
            event = keys.next() => match event {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => {
                    match ui.on_key(&k) {
                        Step::Continue => {}
                        Step::OpenExport => {
                            let text = export_text(setup.settings, &ui, finished.as_ref());
                            super::event_loop::osc52(&mut guard.terminal, &text.python)?;
                            ui.open_export(text);
                        }
                        Step::End(signal) => return Ok((finished, signal)),
                        Step::Suspend => terminal::suspend(&mut guard.terminal)?,
                    }
                }
                Some(Ok(_)) => {}
                // The terminal went away (SSH dropped): end as a signal would.
                Some(Err(_)) | None => return Ok((finished, true)),
            },
        }
    }
}

/// The fix for what was found: the whole run's once it ended, else the gaps that ended.
pub(crate) fn export_text(
    settings: &ProbeSettings,
    ui: &ReuseUi,
    finished: Option<&ReuseRun>,
) -> ExportText {
    let partial;
    let run = match finished {
        Some(run) => run,
        None => {
            partial = ReuseRun {
                settings: settings.clone(),
                gaps: ui.results(),
                sweep: None,
            };
            &partial
        }
    };
    let Some(report) = crate::report::build_reuse(run) else {
        let none =
            "# Nothing measured yet: the fix follows from the first gap that ends.".to_string();
        return ExportText {
            python: none.clone(),
            curl: none,
        };
    };
    let render = |format| for_terminal_lines(&crate::reuse::export::render(format, run, &report));
    ExportText {
        python: render(ExportFormat::Python),
        curl: render(ExportFormat::Curl),
    }
}

/// Each line escaped on its own, so the snippet keeps its lines.
fn for_terminal_lines(text: &str) -> String {
    text.lines().map(|l| for_terminal(l) + "\n").collect()
}

/// One frame: header, the gaps, the chosen gap, the verdict, key bar (and the `x` overlay).
pub(crate) fn draw(frame: &mut Frame<'_>, view: &ReuseView<'_>, theme: Theme) {
    let shown = (view.ui.rows.len() as u16).clamp(1, ROWS_SHOWN);
    // Rows left for the gaps and the chosen gap once header, verdict and key bar have theirs.
    // In a small window the list keeps at least one row of gaps, and the chosen gap's box
    // is left out when it would have no room inside (an empty box tells nothing).
    let room = frame.area().height.saturating_sub(2 + 4 + 1);
    let mut gaps_height = (shown + 2).min(room.saturating_sub(4).max(3));
    if room.saturating_sub(gaps_height) < 3 {
        gaps_height = room;
    }
    let [header, gaps, chosen, verdict, keys] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(gaps_height),
        Constraint::Fill(1),
        Constraint::Length(4),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(header_lines(view, theme)), header);
    draw_gaps(frame, gaps, view, theme);
    if chosen.height >= 3 {
        draw_chosen(frame, chosen, view, theme);
    }
    let lines = verdict_lines(view, theme);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), verdict);
    let state = BarState {
        stages_focused: false,
        expanded: false,
        running: view.running,
    };
    let bar = keybar::mode_line(view.ui.mode(), state, &theme, keys.width);
    frame.render_widget(Paragraph::new(bar), keys);
    if let Some(o) = &view.ui.export {
        draw_export(frame, frame.area(), o, theme);
    }
}

fn boxed(title: String, theme: Theme) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border())
        .title(Span::styled(title, theme.title()))
}

/// "netpeel reuse  URL" and "2 gaps: 1 ended  sweep up to 3 s: round 2  running".
fn header_lines(view: &ReuseView<'_>, theme: Theme) -> Vec<Line<'static>> {
    let rows = &view.ui.rows;
    let ended = rows.iter().filter(|r| r.phase == Phase::Done).count();
    let mut spans = vec![Span::raw(format!("{} gap(s): {ended} ended", rows.len()))];
    if let (Some(max), Some(s)) = (view.sweep_max, view.ui.sweep) {
        let words = match s.concluded {
            Some((Some(at), kind)) => format!(
                "  sweep up to {}: gives up after {:.1} s ({}), {} round(s)",
                fmt_duration(max),
                at.as_secs_f64(),
                kind.map(Wire::name).unwrap_or("?"),
                s.round
            ),
            Some((None, _)) => format!(
                "  sweep up to {}: nothing gave up, {} round(s)",
                fmt_duration(max),
                s.round
            ),
            None => format!(
                "  sweep up to {}: round {}, {} connections",
                fmt_duration(max),
                s.round,
                s.tries
            ),
        };
        spans.push(Span::raw(words));
    }
    let state = if view.running {
        Span::styled("  running", theme.running())
    } else {
        Span::styled("  finished", theme.warn())
    };
    spans.push(state);
    let title = format!("netpeel reuse  {}", view.url);
    vec![Line::styled(title, theme.title()), Line::from(spans)]
}

/// One line per gap: its idle time, the sweep's round, and its countdown or outcome.
fn draw_gaps(frame: &mut Frame<'_>, area: Rect, view: &ReuseView<'_>, theme: Theme) {
    let rows = &view.ui.rows;
    let width = usize::from(area.width.saturating_sub(2));
    let chosen = view.ui.selected().map(|r| r.id);
    let at = rows.iter().position(|r| Some(r.id) == chosen).unwrap_or(0);
    let shown = usize::from(area.height.saturating_sub(2)).max(1);
    let skip = (at + 1).saturating_sub(shown);
    let mut lines: Vec<Line<'static>> = rows
        .iter()
        .skip(skip)
        .take(shown)
        .map(|r| gap_line(r, view, Some(r.id) == chosen, width, theme))
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled("starting the first connection", theme.dim()));
    }
    let title = format!(" gaps ({} of {}) ", at + 1, rows.len().max(1));
    frame.render_widget(Paragraph::new(lines).block(boxed(title, theme)), area);
}

fn gap_line(
    r: &GapRow,
    view: &ReuseView<'_>,
    chosen: bool,
    width: usize,
    theme: Theme,
) -> Line<'static> {
    let pointer = if chosen { theme.pointer() } else { " " };
    // The sweep's round, in a column only a sweep needs.
    let sweep = view.ui.rows.iter().any(|r| r.round.is_some());
    let round = match r.round {
        Some(n) => format!("r{n:<2} "),
        None if sweep => "    ".into(),
        None => String::new(),
    };
    let head = format!("{pointer} {:>8} {round}", fmt_duration(r.gap));
    let room = width.saturating_sub(head.chars().count());
    let (text, style) = match r.phase {
        Phase::First => ("first request".to_string(), theme.running()),
        Phase::Idle { since, until } => (
            countdown(since, until, view.now, 16, theme),
            theme.running(),
        ),
        Phase::Sending { at, idle } => (
            format!(
                "sent again after {:.1} s idle, waiting {:.1} s",
                idle.as_secs_f64(),
                view.now.saturating_duration_since(at).as_secs_f64()
            ),
            theme.running(),
        ),
        Phase::Done => {
            let wire = r.result.as_ref().map(|g| g.wire).unwrap_or(Wire::Open);
            (
                format!("{:<6} {}", wire.name(), r.row),
                wire_style(wire, theme),
            )
        }
    };
    let text = super::fmt::truncate(&theme.text(&text), room, theme.ellipsis());
    let line = Line::from(vec![Span::raw(head), Span::styled(text, style)]);
    if chosen {
        line.patch_style(theme.selected())
    } else {
        line
    }
}

/// "closed (FIN) after 1.0 s idle", "ReadTimeout: no answer … (silent drop)".
fn row_words(g: &GapResult) -> String {
    let describe = crate::reuse::gap::describe(g);
    let said = without_gap(&describe);
    match &g.verdict.requests_exception {
        Some(e) => {
            // "requests.exceptions.ConnectionError(ProtocolError(…))" → "ConnectionError".
            let outer = e.split('(').next().unwrap_or(e);
            let name = outer.rsplit('.').next().unwrap_or(outer);
            format!("{name}: {said}")
        }
        None => said.to_string(),
    }
}

/// The report's sentence without its "gap 2 s: " (the row and the title say it).
fn without_gap(outcome: &str) -> &str {
    outcome.split_once(": ").map_or(outcome, |x| x.1)
}

fn wire_style(wire: Wire, theme: Theme) -> Style {
    match wire {
        Wire::Open | Wire::Fin | Wire::Rst => theme.ok(),
        Wire::Race | Wire::Silent | Wire::FirstFailed => theme.bad(),
    }
}

/// "idle ████░░░░ 1.2 s of 2.0 s, 0.8 s left".
fn countdown(since: Instant, until: Instant, now: Instant, cells: usize, theme: Theme) -> String {
    let whole = until.saturating_duration_since(since).as_secs_f64();
    let idle = now
        .saturating_duration_since(since)
        .as_secs_f64()
        .min(whole);
    let fraction = if whole > 0.0 { idle / whole } else { 1.0 };
    let bar = theme.bar(fraction, cells);
    let pad = cells.saturating_sub(super::fmt::width(&bar));
    format!(
        "idle {bar}{} {idle:.1} s of {whole:.1} s, {:.1} s left",
        ".".repeat(pad),
        whole - idle
    )
}

/// The chosen gap: the first request's stages, the idle time, the second request's, and what
/// requests makes of it.
fn draw_chosen(frame: &mut Frame<'_>, area: Rect, view: &ReuseView<'_>, theme: Theme) {
    let Some(r) = view.ui.selected() else {
        frame.render_widget(Paragraph::new("").block(boxed(" gap ".into(), theme)), area);
        return;
    };
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines = vec![Line::styled("first request, new connection:", theme.bold())];
    lines.push(cells_line(&r.first, theme, "sending"));
    lines.push(Line::raw(
        theme.text(&idle_words(r, view, theme)).into_owned(),
    ));
    let (label, waiting) = second_words(r, view);
    lines.push(Line::styled(label, theme.bold()));
    lines.push(cells_line(&r.second, theme, &waiting));
    if !r.outcome.is_empty() {
        let wire = r.result.as_ref().map(|g| g.wire).unwrap_or(Wire::Open);
        let said = theme.text(without_gap(&r.outcome)).into_owned();
        for l in super::fmt::wrap("", "", &said, width) {
            lines.push(Line::styled(l, wire_style(wire, theme)));
        }
    }
    let round = r
        .round
        .map(|n| format!(", sweep round {n}"))
        .unwrap_or_default();
    let title = format!(" gap {}{round} ", fmt_duration(r.gap));
    let text = Paragraph::new(lines).block(boxed(title, theme));
    frame.render_widget(text, area);
}

/// "  DNS skipped  TCP 0.3 ms  HTTP 200 1.2 ms", or what is awaited.
fn cells_line(cells: &[StageCell], theme: Theme, waiting: &str) -> Line<'static> {
    if cells.is_empty() {
        return Line::styled(format!("  {waiting}"), theme.dim());
    }
    let mut spans = Vec::new();
    for c in cells {
        spans.push(Span::raw(format!("  {} ", theme.text(&c.label))));
        let style = if c.failed {
            theme.bad()
        } else if c.value == "reused" {
            theme.ok()
        } else {
            Style::default()
        };
        spans.push(Span::styled(c.value.clone(), style));
    }
    Line::from(spans)
}

/// The idle part of a gap: the countdown, or how it ended.
fn idle_words(r: &GapRow, view: &ReuseView<'_>, theme: Theme) -> String {
    let gap = r.gap.as_secs_f64();
    match (r.phase, r.result.as_deref()) {
        (Phase::First, _) => format!("idle: {gap:.1} s once the first response is read"),
        (Phase::Idle { since, until }, _) => countdown(since, until, view.now, 24, theme),
        (Phase::Sending { idle, .. }, _) => format!("idle: {:.1} s", idle.as_secs_f64()),
        (Phase::Done, Some(g)) if g.wire == Wire::FirstFailed => {
            "idle: no connection to keep (the first request failed)".into()
        }
        (Phase::Done, Some(g)) if g.not_kept_alive => {
            "idle: nothing kept (the server said Connection: close)".into()
        }
        (Phase::Done, Some(g)) => match g.closed_after {
            Some(after) => format!(
                "idle: the far end {} after {:.1} s of {gap:.1} s",
                if g.wire == Wire::Rst {
                    "reset it (RST)"
                } else {
                    "closed it (FIN)"
                },
                after.as_secs_f64()
            ),
            None => format!("idle: {gap:.1} s, the connection still open"),
        },
        (Phase::Done, None) => String::new(),
    }
}

/// The second request's heading, and what its row says while it has no stages yet.
fn second_words(r: &GapRow, view: &ReuseView<'_>) -> (String, String) {
    let read = view.read_timeout.as_secs_f64();
    match (r.phase, r.result.as_deref()) {
        (Phase::Done, Some(g)) if g.second.is_none() => {
            ("second request:".into(), "not sent".into())
        }
        (Phase::Done, Some(g)) if g.reused => (
            "second request, same connection (DNS/TCP/TLS reused):".into(),
            String::new(),
        ),
        (Phase::Done, Some(_)) => (
            "second request, new connection (urllib3 found the old one closed):".into(),
            String::new(),
        ),
        (Phase::Sending { at, .. }, _) => (
            "second request, as a Session sends it:".into(),
            format!(
                "sent; waiting {:.1} s for the answer (read timeout {read:.1} s)",
                view.now.saturating_duration_since(at).as_secs_f64()
            ),
        ),
        _ => (
            "second request, as a Session sends it:".into(),
            "after the idle time".into(),
        ),
    }
}

fn verdict_lines(view: &ReuseView<'_>, theme: Theme) -> Vec<Line<'static>> {
    match &view.ui.verdict {
        Some(v) => {
            let style = if v.ok { theme.ok() } else { theme.bad() };
            vec![Line::from(vec![
                Span::styled("VERDICT: ", style.patch(theme.bold())),
                Span::raw(theme.text(&v.summary).into_owned()),
                Span::styled(format!(" (exit {})", v.exit_code), theme.dim()),
            ])]
        }
        None if view.running => vec![Line::styled(
            "VERDICT: when every gap has ended (q stops and prints what was found)",
            theme.dim(),
        )],
        None => vec![Line::styled("VERDICT: no gap ended", theme.dim())],
    }
}

/// The fix over the screen, as the other views' export overlays show theirs.
fn draw_export(frame: &mut Frame<'_>, area: Rect, overlay: &Overlay, theme: Theme) {
    let text = &overlay.text;
    let width = usize::from(Chrome::Boxed.inner_width(area.width));
    let mut lines = vec![Line::styled(
        super::fmt::truncate(
            "Python snippet sent to the clipboard (OSC 52; ignored where unsupported)",
            width,
            theme.ellipsis(),
        ),
        theme.dim(),
    )];
    for l in text.python.lines() {
        panels::export::code_line(&mut lines, l, &theme, width);
    }
    lines.push(Line::styled("curl:", theme.title()));
    for l in text.curl.lines() {
        panels::export::code_line(&mut lines, l, &theme, width);
    }
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = panels::centred(area, area.width, h);
    frame.render_widget(Clear, rect);
    let title = match theme.ascii {
        true => "Export: the fix (Up/Down scroll, any other key closes)",
        false => "Export: the fix (↑↓ scroll, any other key closes)",
    };
    let b = panels::block(title, true, Chrome::Boxed, &theme);
    let text = Paragraph::new(lines).block(b).scroll((overlay.offset, 0));
    frame.render_widget(text, rect);
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use testkit::keepalive::{IdleEnd, KeepAliveServer};

    use super::*;
    use crate::engine::events::Events;
    use crate::reuse::progress::ReuseEvents;
    use crate::reuse::sweep::Listeners;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    const PLAIN: Theme = Theme {
        color: false,
        ascii: false,
    };

    /// A real run against `server` on loopback (read timeout 0.5 s): its events and its end.
    async fn real_run(
        server: &KeepAliveServer,
        request: ReuseRequest,
    ) -> (ProbeSettings, Vec<ReuseEvent>, ReuseRun) {
        let mut settings = ProbeSettings::new(server.url());
        settings.read_timeout = ms(500);
        let (progress, mut rx) = ReuseEvents::channel();
        let listen = Listeners {
            on_try: &|_| {},
            say: &|_| {},
            events: &progress,
        };
        let run = crate::reuse::run::run(&settings, &request, &Events::none(), &listen).await;
        let mut events = Vec::new();
        while let Ok(e) = rx.try_recv() {
            events.push(e);
        }
        (settings, events, run)
    }

    /// Gaps of 0.1 s (answered) and 0.6 s (a request after 0.3 s idle is never answered).
    async fn silent_run() -> (KeepAliveServer, ProbeSettings, Vec<ReuseEvent>, ReuseRun) {
        let server = KeepAliveServer::start(IdleEnd::Silent(ms(300))).await;
        let request = ReuseRequest {
            gaps: vec![ms(100), ms(600)],
            sweep_max: None,
        };
        let (settings, events, run) = real_run(&server, request).await;
        (server, settings, events, run)
    }

    fn ui_of(events: &[ReuseEvent]) -> ReuseUi {
        let mut ui = ReuseUi::default();
        for e in events {
            ui.on_event(e.clone());
        }
        ui
    }

    /// The 80×24 screen at `now`, with the loopback port and the measured stage times (which
    /// differ from run to run) written as `PORT` and `#`.
    fn screen(view: &ReuseView<'_>, port: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
        terminal.draw(|f| draw(f, view, PLAIN)).expect("draw");
        let text = crate::tui::ui::screen_text(terminal.backend().buffer());
        text.replace(&port.to_string(), "PORT")
            .lines()
            .map(mask_stage_times)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn mask_stage_times(line: &str) -> String {
        if !line.contains(" TCP ") {
            return line.to_string();
        }
        let words: Vec<&str> = line.split(' ').collect();
        let masked: Vec<&str> = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let unit = words.get(i + 1).is_some_and(|u| *u == "ms" || *u == "s");
                if unit && w.parse::<f64>().is_ok() {
                    "#"
                } else {
                    w
                }
            })
            .collect();
        // Padded back to the line's width, so the box still closes where it did.
        let mut out = masked.join(" ");
        let border = out.pop();
        let width = line.chars().count().saturating_sub(1);
        while out.chars().count() < width {
            out.push(' ');
        }
        out.extend(border);
        out
    }

    fn view<'a>(ui: &'a ReuseUi, now: Instant, running: bool) -> ReuseView<'a> {
        ReuseView {
            url: "http://127.0.0.1:PORT/",
            ui,
            now,
            running,
            read_timeout: ms(500),
            sweep_max: None,
        }
    }

    #[tokio::test]
    async fn a_gap_in_progress_shows_its_countdown_and_a_finished_run_its_verdict() {
        let (server, _settings, events, run) = silent_run().await;
        let port = server.addr.port();
        // The 0.6 s gap (the second to start) 0.2 s into its idle time.
        let in_progress: Vec<ReuseEvent> = events
            .iter()
            .filter(|e| {
                !matches!(
                    e,
                    ReuseEvent::Sending { id: 1, .. } | ReuseEvent::Done { id: 1, .. }
                )
            })
            .cloned()
            .collect();
        let since = events.iter().find_map(|e| match e {
            ReuseEvent::FirstDone {
                id: 1, idle_since, ..
            } => Some(*idle_since),
            _ => None,
        });
        let now = since.expect("the 0.6 s gap's first request") + ms(200);
        let mut ui = ui_of(&in_progress);
        ui.cursor = Some(1);
        let running = screen(&view(&ui, now, true), port);
        assert!(running.contains("0.2 s of 0.6 s, 0.4 s left"), "{running}");
        insta::assert_snapshot!("reuse_gap_in_progress_80x24", running);

        let mut ui = ui_of(&events);
        ui.finish(&run);
        let finished = screen(&view(&ui, Instant::now(), false), port);
        for expected in [
            "second request, same connection (DNS/TCP/TLS reused):",
            "DNS reused  TCP reused  TLS skipped  HTTP FAILED",
            "silent ReadTimeout: no answer on the idle connection (silent drop)",
            "VERDICT: After one of the gaps idle the flow is silently dropped",
        ] {
            assert!(finished.contains(expected), "{expected:?}:\n{finished}");
        }
        insta::assert_snapshot!("reuse_finished_silent_80x24", finished);

        // The request out again on the silent connection, 0.3 s into its wait.
        let waiting: Vec<ReuseEvent> = events
            .iter()
            .filter(|e| !matches!(e, ReuseEvent::Done { id: 1, .. }))
            .cloned()
            .collect();
        let sent = waiting.iter().find_map(|e| match e {
            ReuseEvent::Sending { id: 1, at, idle } => Some((*at, *idle)),
            _ => None,
        });
        let (at, idle) = sent.expect("the 0.6 s gap's second request");
        assert!(idle >= ms(600), "sent after {idle:?} idle");
        let mut ui = ui_of(&waiting);
        ui.cursor = Some(1);
        let s = screen(&view(&ui, at + ms(300), true), port);
        assert!(
            s.contains("sent; waiting 0.3 s for the answer (read timeout 0.5 s)"),
            "{s}"
        );
        assert!(
            s.contains("sent again after 0.6 s idle, waiting 0.3 s"),
            "{s}"
        );

        // --ascii: nothing but ASCII, the countdown's bar included.
        let ascii = Theme {
            color: false,
            ascii: true,
        };
        let mut ui = ui_of(&in_progress);
        ui.cursor = Some(1);
        for v in [view(&ui, now, true), view(&ui, now + ms(500), true)] {
            let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
            terminal.draw(|f| draw(f, &v, ascii)).expect("draw");
            let s = crate::tui::ui::screen_text(terminal.backend().buffer());
            assert!(s.is_ascii(), "{s}");
            assert!(s.contains("Up/Dn gap"), "{s}");
        }
    }

    fn press(ui: &mut ReuseUi, code: KeyCode) -> Step {
        ui.on_key(&KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn chosen(ui: &ReuseUi) -> Option<Duration> {
        ui.selected().map(|r| r.gap)
    }

    #[tokio::test]
    async fn keys_choose_a_gap_open_the_fix_and_quit() {
        let (_server, settings, events, run) = silent_run().await;
        let mut ui = ui_of(&events);
        ui.finish(&run);
        assert_eq!(chosen(&ui), Some(ms(600)), "every gap ended: the last");
        assert_eq!(press(&mut ui, KeyCode::Up), Step::Continue);
        assert_eq!(chosen(&ui), Some(ms(100)));
        press(&mut ui, KeyCode::Char('k'));
        assert_eq!(chosen(&ui), Some(ms(100)), "the first stays the first");
        press(&mut ui, KeyCode::Char('j'));
        assert_eq!(chosen(&ui), Some(ms(600)));
        press(&mut ui, KeyCode::Home);
        assert_eq!(chosen(&ui), Some(ms(100)));
        press(&mut ui, KeyCode::Char('G'));
        assert_eq!(chosen(&ui), Some(ms(600)));
        assert_eq!(press(&mut ui, KeyCode::Char('x')), Step::OpenExport);
        ui.open_export(export_text(&settings, &ui, Some(&run)));
        assert_eq!(ui.mode(), Mode::ReuseExport);
        let text = &ui.export.as_ref().expect("the fix is open").text;
        assert!(text.python.contains("TCP_KEEPIDLE"), "{}", text.python);
        assert!(text.curl.contains("--keepalive-time"), "{}", text.curl);
        let on_screen = screen(&view(&ui, Instant::now(), false), 0);
        assert!(on_screen.contains("Export: the fix"), "{on_screen}");
        assert!(!on_screen.contains("TCP_KEEPIDLE"), "{on_screen}");
        press(&mut ui, KeyCode::PageDown);
        press(&mut ui, KeyCode::Char('j'));
        let scrolled = screen(&view(&ui, Instant::now(), false), 0);
        assert!(scrolled.contains("TCP_KEEPIDLE"), "{scrolled}");
        assert_eq!(chosen(&ui), Some(ms(600)), "the overlay's arrows scroll it");
        assert_eq!(press(&mut ui, KeyCode::Char('z')), Step::Continue);
        assert_eq!(ui.mode(), Mode::Reuse, "any key closes the fix");
        press(&mut ui, KeyCode::Char('x'));
        ui.open_export(export_text(&settings, &ui, None));
        assert_eq!(press(&mut ui, KeyCode::Char('q')), Step::End(false));
        press(&mut ui, KeyCode::Esc);
        assert_eq!(press(&mut ui, KeyCode::Esc), Step::End(false));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(ui.on_key(&ctrl_c), Step::End(true));
        let ctrl_z = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
        assert_eq!(ui.on_key(&ctrl_z), Step::Suspend);
    }

    #[test]
    fn nothing_measured_yet_exports_a_comment_and_rows_are_bounded() {
        let mut ui = ReuseUi::default();
        let text = export_text(&ProbeSettings::new("http://127.0.0.1:9/"), &ui, None);
        assert!(
            text.python.starts_with("# Nothing measured yet"),
            "{text:?}"
        );
        for id in 0..MAX_ROWS + 10 {
            ui.on_event(ReuseEvent::GapStarted {
                id,
                gap: ms(100),
                round: Some(1),
            });
        }
        assert_eq!(ui.rows.len(), MAX_ROWS);
        assert_eq!(ui.rows.last().map(|r| r.id), Some(MAX_ROWS + 9));
    }

    /// A finished sweep up to 1.2 s against `server`.
    async fn swept_up_to_1200_ms(server: &KeepAliveServer) -> ReuseUi {
        let request = ReuseRequest {
            gaps: Vec::new(),
            sweep_max: Some(ms(1200)),
        };
        let (_settings, events, run) = real_run(server, request).await;
        let mut ui = ui_of(&events);
        ui.finish(&run);
        ui
    }

    #[tokio::test]
    async fn the_sweep_shows_each_try_and_what_it_concluded() {
        let server = KeepAliveServer::start(IdleEnd::Fin(ms(400))).await;
        let ui = swept_up_to_1200_ms(&server).await;
        let mut v = view(&ui, Instant::now(), false);
        v.sweep_max = Some(ms(1200));
        let s = screen(&v, server.addr.port());
        for expected in [
            "6 gap(s): 6 ended  sweep up to 1.20 s: gives up after 0.",
            "(fin), 1 round(s)",
            "gaps (6 of 6)",
            "200 ms r1  open",
            "1.20 s r1  fin    closed (FIN) after 0.",
            "VERDICT: The server closes idle connections after 0.",
        ] {
            assert!(s.contains(expected), "{expected:?}:\n{s}");
        }
    }

    /// At 40×12 the list of gaps keeps rows of its own (the chosen gap's detail gives way),
    /// and the verdict stays whole.
    #[tokio::test]
    async fn a_small_window_still_lists_the_gaps() {
        let server = KeepAliveServer::start(IdleEnd::Fin(ms(400))).await;
        let ui = swept_up_to_1200_ms(&server).await;
        let mut v = view(&ui, Instant::now(), false);
        v.sweep_max = Some(ms(1200));
        let mut terminal = Terminal::new(TestBackend::new(40, 12)).expect("test terminal");
        terminal.draw(|f| draw(f, &v, PLAIN)).expect("draw");
        let s = crate::tui::ui::screen_text(terminal.backend().buffer());
        let gap_rows = s.lines().filter(|l| l.contains(" r1 ")).count();
        assert!(gap_rows >= 2, "the gaps list shows rows:\n{s}");
        assert!(s.contains("1.20 s r1  fin"), "the chosen gap's row:\n{s}");
        assert!(s.contains("reconnects by itself"), "the verdict:\n{s}");
    }

    /// Every reuse binding, pressed, is taken by the view and does something.
    #[tokio::test]
    async fn every_reuse_binding_does_something() {
        use crate::tui::keys::{BINDINGS, Key, Scope};
        let (_server, settings, events, run) = silent_run().await;
        for b in BINDINGS {
            let Scope::Only(mode) = b.scope else { continue };
            if !matches!(mode, Mode::Reuse | Mode::ReuseExport) {
                continue;
            }
            for key in b.keys {
                let code = match *key {
                    Key::Plain(code) => code,
                    Key::Other => KeyCode::Char('z'),
                    Key::Ctrl(_) => continue,
                };
                let mut ui = ui_of(&events);
                // The cursor on neither end, so that every move has somewhere to go.
                ui.on_event(ReuseEvent::GapStarted {
                    id: 9,
                    gap: ms(900),
                    round: None,
                });
                ui.cursor = Some(1);
                if mode == Mode::ReuseExport {
                    // Scrolled a little, so that ↑ has somewhere to go too.
                    ui.open_export(export_text(&settings, &ui, Some(&run)));
                    press(&mut ui, KeyCode::Down);
                }
                assert_eq!(ui.mode(), mode);
                let before = format!("{ui:?}");
                let step = press(&mut ui, code);
                let changed = step != Step::Continue || format!("{ui:?}") != before;
                assert!(changed, "{key:?} in {mode:?} did nothing");
            }
        }
    }
}
