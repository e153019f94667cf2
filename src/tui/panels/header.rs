//! The header: method and URL, the effective settings (the one place that reads them from the
//! engine's `ProbeSettings`), and the run counter (with a replay's attempt counter).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, AttemptState};
use crate::tui::fmt;
use crate::tui::theme::Theme;

/// The run (one per `r`) and, in a replay, its attempt (one per retry), never confused:
/// "run 2 · running 1.2 s", "run 1 · attempt 2 of 4 · running 0.3 s", "run 1 · ok on attempt
/// 2 · 1.3 s", "run 1 · failed after 4 attempts · 9.1 s", "run 3 · failed in 3.8 ms".
pub(crate) fn attempt_words(app: &App, theme: &Theme) -> (String, ratatui::style::Style) {
    let Some(a) = app.attempts.last() else {
        return (String::new(), theme.dim());
    };
    let sep = theme.sep();
    let run = format!("run {}", a.n);
    let tries = a.tries.len();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match &a.state {
        AttemptState::Running { since } => {
            let clock = fmt::counter(app.now.saturating_duration_since(*since));
            let words = if !a.is_replay() {
                format!("{run}{sep}running {clock}")
            } else if a.sleeping.is_some() {
                format!("{run}{sep}waiting before attempt {}", tries + 1)
            } else {
                let budget = crate::replay::budget::worst_case(&a.settings);
                let of = if budget.unbounded {
                    String::new()
                } else {
                    format!(" of {}", budget.max_attempts)
                };
                format!("{run}{sep}attempt {}{of}{sep}running {clock}", tries + 1)
            };
            (words, theme.running())
        }
        AttemptState::Done { report } => {
            let style = if report.verdict.ok {
                theme.ok()
            } else {
                theme.bad()
            };
            let words = match &a.end {
                Some(end) => match end.success_on {
                    Some(k) => format!(
                        "{run}{sep}ok on attempt {k}{sep}{}",
                        fmt::duration(end.total)
                    ),
                    None => format!(
                        "{run}{sep}failed after {tries} attempt{}{sep}{}",
                        plural(tries),
                        fmt::duration(end.total)
                    ),
                },
                None => {
                    let word = if report.verdict.ok { "ok" } else { "failed" };
                    format!("{run}{sep}{word} in {}", fmt::ms(report.total_ms))
                }
            };
            (words, style)
        }
        AttemptState::Cancelled { after } if tries > 0 => (
            format!(
                "{run}{sep}cancelled after {tries} attempt{}{sep}{}",
                plural(tries),
                fmt::duration(*after)
            ),
            theme.dim(),
        ),
        AttemptState::Cancelled { after } => (
            format!("{run}{sep}cancelled after {}", fmt::duration(*after)),
            theme.dim(),
        ),
        AttemptState::Crashed { .. } => (format!("{run}{sep}probe crashed"), theme.bad()),
    }
}

/// The fewest columns of URL worth showing beside the attempt words.
const MIN_URL: usize = 24;

pub(crate) fn lines(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let width = width as usize;
    let h = &app.header;
    let (attempt, attempt_style) = attempt_words(app, theme);
    let first = format!("netpeel {} ", h.method);
    // One line, the URL shortened in the middle (its host and its end say the most; the
    // report has it whole). When the attempt words leave it too little, they get a line.
    let url = theme.text(&h.url).into_owned();
    let beside = width.saturating_sub(fmt::width(&first) + fmt::width(&attempt) + 1);
    let own_line = !attempt.is_empty() && beside < MIN_URL.min(fmt::width(&url));
    let room = if own_line {
        width.saturating_sub(fmt::width(&first))
    } else {
        beside
    };
    let l = format!("{first}{}", fmt::middle(&url, room, theme.ellipsis()));
    let mut out = Vec::new();
    let mut spans = vec![Span::styled(l.clone(), theme.bold())];
    if own_line {
        out.push(Line::from(spans));
        spans = Vec::new();
    } else {
        let pad = width.saturating_sub(fmt::width(&l) + fmt::width(&attempt));
        spans.push(Span::raw(" ".repeat(pad)));
    }
    spans.push(Span::styled(attempt.clone(), attempt_style));
    out.push(Line::from(spans));
    // Settings are packed whole onto as many lines as they need (commas: narrower than dots).
    let sep = ", ";
    let mut line: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for s in &h.settings {
        let text = theme.text(&s.text).into_owned();
        let w = fmt::width(&text);
        let extra = if used == 0 { 0 } else { fmt::width(sep) };
        if used > 0 && used + extra + w > width {
            out.push(Line::from(std::mem::take(&mut line)));
            used = 0;
        }
        if used > 0 {
            line.push(Span::styled(sep, theme.dim()));
            used += fmt::width(sep);
        }
        let style = if s.alert { theme.bad() } else { theme.dim() };
        let text = fmt::truncate(&text, width, theme.ellipsis());
        used += fmt::width(&text);
        line.push(Span::styled(text, style));
    }
    if !line.is_empty() {
        out.push(Line::from(line));
    }
    out
}

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    frame.render_widget(Paragraph::new(lines(app, theme, area.width)), area);
}
