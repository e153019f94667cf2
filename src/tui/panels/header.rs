//! The header: method and URL, the effective settings (the one place that reads them from the
//! engine's `ProbeSettings`), and the attempt counter.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, AttemptState};
use crate::tui::fmt;
use crate::tui::theme::Theme;

/// "attempt 2 · running 1.2 s" / "attempt 1 · 3.8 ms".
pub(crate) fn attempt_words(app: &App, theme: &Theme) -> (String, ratatui::style::Style) {
    let Some(a) = app.attempts.last() else {
        return (String::new(), theme.dim());
    };
    let sep = theme.sep();
    match &a.state {
        AttemptState::Running { since } => (
            format!(
                "attempt {}{sep}running {}",
                a.n,
                fmt::counter(app.now.saturating_duration_since(*since))
            ),
            theme.running(),
        ),
        AttemptState::Done { report } => {
            let style = if report.verdict.ok {
                theme.ok()
            } else {
                theme.bad()
            };
            let word = if report.verdict.ok { "ok" } else { "failed" };
            (
                format!("attempt {}{sep}{word} in {}", a.n, fmt::ms(report.total_ms)),
                style,
            )
        }
        AttemptState::Cancelled { .. } => (format!("attempt {}{sep}cancelled", a.n), theme.dim()),
        AttemptState::Crashed { .. } => (format!("attempt {}{sep}probe crashed", a.n), theme.bad()),
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
