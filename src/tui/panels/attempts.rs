//! The attempts of this session, newest first: one row per run (the first, then one per `r`),
//! with its outcome kind and total time. The replay issue will build on this list.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{Chrome, block, scrolled};
use crate::tui::app::{App, Attempt, AttemptState, Focus};
use crate::tui::fmt;
use crate::tui::theme::{Status, Theme};

/// (status, outcome words, time) of one attempt.
pub fn describe(a: &Attempt, app: &App) -> (Status, String, String) {
    match &a.state {
        AttemptState::Running { since } => (
            Status::Running,
            "running".into(),
            fmt::counter(app.now.saturating_duration_since(*since)),
        ),
        AttemptState::Done { report } => {
            let v = &report.verdict;
            // Kinds are unique across layers: the kind alone names the outcome.
            let words = v.kind.clone().unwrap_or_else(|| "ok".into());
            let status = if v.ok { Status::Ok } else { Status::Failed };
            (status, words, fmt::ms(report.total_ms))
        }
        AttemptState::Cancelled { after } => (
            Status::NotRun,
            "cancelled (r)".into(),
            fmt::duration(*after),
        ),
        AttemptState::Crashed { .. } => (Status::Failed, "probe crashed".into(), String::new()),
    }
}

pub fn lines(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let width = width as usize;
    let current = app.attempt();
    app.attempts
        .iter()
        .rev()
        .map(|a| {
            let (status, words, time) = describe(a, app);
            let style = theme.status_style(status);
            let pointer = if a.n == current { theme.pointer() } else { " " };
            let room = width.saturating_sub(2 + 5 + 2 + 1 + 10 + 1);
            let words = fmt::truncate(&words, room, theme.ellipsis());
            Line::from(vec![
                Span::styled(format!("{pointer} #{:<3}  ", a.n), theme.bold()),
                Span::styled(theme.symbol(status, app.frame), style),
                Span::raw(" "),
                Span::styled(format!("{words:<room$}"), style),
                Span::styled(format!(" {time:>10}"), Style::new()),
            ])
        })
        .collect()
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, chrome: Chrome) -> u16 {
    let b = block("Attempts", app.focus == Focus::Attempts, chrome, theme);
    let width = chrome.inner_width(area.width);
    scrolled(
        frame,
        area,
        b,
        lines(app, theme, width),
        app.scroll.attempts,
        theme,
    )
}
