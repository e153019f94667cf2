//! The watch dashboard (`netpeel --watch URL` on a terminal): the latest probe's stages, the
//! timeline strip, and the run's outcomes, percentiles, addresses and verdict, redrawn as
//! probes finish. `p` pauses (no new probe starts), `r` starts the statistics again, `q` quits
//! and prints the text report. The numbers and sentences are the watch report's
//! (`watch::report`, `watch::text`); this file only lays them out.

use std::future::Future;
use std::io;
use std::time::Duration;

use crossterm::event::{
    Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers,
};
use futures_util::StreamExt;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::terminal;
use super::theme::Theme;
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
    /// `Enter`: the latest failure's text report, and how far it is scrolled.
    pub(crate) detail: Option<(&'a str, u16)>,
}

/// What a key asks of the loop.
enum KeyAction {
    Continue,
    /// End the run: `true` when it counts as a signal (Ctrl-C).
    End(bool),
}

/// The keys: q/Esc quit (Esc first closes the detail), Ctrl-C ends as a signal would, p
/// pauses, r resets, Enter opens or closes the latest failure, arrows scroll it.
fn on_key(k: KeyEvent, watch: &WatchHandle, detail: &mut Option<(String, u16)>) -> KeyAction {
    let ctrl_c = k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
    match k.code {
        _ if ctrl_c => return KeyAction::End(true),
        KeyCode::Esc | KeyCode::Enter if detail.is_some() => *detail = None,
        KeyCode::Char('q') | KeyCode::Esc => return KeyAction::End(false),
        KeyCode::Char('p') => watch.toggle_pause(),
        KeyCode::Char('r') => watch.reset(),
        KeyCode::Enter => {
            *detail = watch
                .last_failure()
                .map(|r| (crate::report::Format::Text.render(&r, false), 0));
        }
        KeyCode::Down | KeyCode::Char('j') => scroll(detail, 1),
        KeyCode::Up | KeyCode::Char('k') => scroll(detail, -1),
        KeyCode::PageDown => scroll(detail, 10),
        KeyCode::PageUp => scroll(detail, -10),
        _ => {}
    }
    KeyAction::Continue
}

fn scroll(detail: &mut Option<(String, u16)>, by: i32) {
    if let Some((text, offset)) = detail {
        let most = i32::try_from(text.lines().count()).unwrap_or(i32::MAX);
        let next = (i32::from(*offset) + by).clamp(0, most);
        *offset = u16::try_from(next).unwrap_or(0);
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
    let mut detail: Option<(String, u16)> = None;
    loop {
        let report = watch.report();
        let latest = watch.latest();
        let view = WatchView {
            url,
            report: &report,
            latest: latest.as_ref(),
            paused: watch.paused(),
            finished,
            detail: detail
                .as_ref()
                .map(|(text, offset)| (text.as_str(), *offset)),
        };
        guard.terminal.draw(|f| draw(f, &view, theme))?;
        tokio::select! {
            _ = &mut probes, if !finished => finished = true,
            _ = &mut stop => return Ok(true),
            _ = tick.tick() => {}
            event = keys.next() => match event {
                Some(Ok(TermEvent::Key(k))) if k.kind == KeyEventKind::Press => {
                    if let KeyAction::End(signal) = on_key(k, watch, &mut detail) {
                        return Ok(signal);
                    }
                }
                Some(Ok(_)) => {}
                // The terminal went away (SSH dropped): end as a signal would.
                Some(Err(_)) | None => return Ok(true),
            },
        }
    }
}

/// One frame: header, latest probe, timeline strip, the report's sections, key bar.
pub(crate) fn draw(frame: &mut Frame<'_>, view: &WatchView<'_>, theme: Theme) {
    let [header, latest, strip, body, keys] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(header_lines(view, theme)), header);
    frame.render_widget(Paragraph::new(latest_line(view.latest, theme)), latest);
    let cells = usize::from(strip.width.saturating_sub(2));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border())
        .title(Span::styled(" timeline ", theme.title()));
    frame.render_widget(
        Paragraph::new(timeline_line(view.report, cells, theme)).block(block),
        strip,
    );
    let sections = crate::watch::text::sections(view.report);
    let lines: Vec<Line<'_>> = sections
        .lines()
        .map(|l| Line::raw(theme.text(l).into_owned()))
        .collect();
    frame.render_widget(Paragraph::new(lines), body);
    if let Some((text, offset)) = view.detail {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_set(theme.border())
            .title(Span::styled(
                " latest failure (Enter/Esc closes, arrows scroll) ",
                theme.title(),
            ));
        let lines: Vec<Line<'_>> = text
            .lines()
            .map(|l| Line::raw(theme.text(l).into_owned()))
            .collect();
        frame.render_widget(Clear, body);
        frame.render_widget(Paragraph::new(lines).block(block).scroll((offset, 0)), body);
    }
    let bar = "q quit   p pause/resume   r reset   Enter latest failure";
    frame.render_widget(Paragraph::new(Span::styled(bar, theme.dim())), keys);
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

/// The newest probes that fit `cells`, one letter each.
fn timeline_line(w: &WatchReport, cells: usize, theme: Theme) -> Line<'static> {
    let skip = w.timeline.len().saturating_sub(cells);
    let spans: Vec<Span<'static>> = w.timeline[skip..]
        .iter()
        .map(|c| {
            if c.ok {
                Span::styled(".", theme.ok())
            } else {
                let letter = crate::watch::text::layer_letter(c.layer).to_string();
                Span::styled(letter, theme.bad())
            }
        })
        .collect();
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

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
        let view = WatchView {
            url: "http://127.0.0.1:8080/\u{1b}[2J",
            report: &report,
            latest: Some(&latest),
            paused: true,
            finished: false,
            detail: None,
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
            "q quit",
        ] {
            assert!(screen.contains(expected), "{expected:?} missing:\n{screen}");
        }
        assert!(!screen.contains('\u{1b}'), "{screen}");
    }
}
