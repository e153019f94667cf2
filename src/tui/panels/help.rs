//! The `?` overlay: every key, what the symbols mean, and what happens on quit.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Chrome, block};
use crate::tui::theme::{Status, Theme};

fn entries(theme: &Theme) -> Vec<(&'static str, &'static str)> {
    let arrows = if theme.ascii {
        "Up/Down j/k"
    } else {
        "↑/↓  j/k"
    };
    vec![
        (arrows, "select a stage, or scroll the focused panel"),
        ("Enter", "expand the detail panel (again: back)"),
        ("Tab  S-Tab", "move between the panels"),
        ("PgUp PgDn", "scroll the detail (or the focused panel)"),
        ("Home  End", "first / last stage"),
        ("r", "run the probe again (replay settings; cancels)"),
        ("c", "cancel the run (Esc too, during a replay)"),
        ("e", "replay settings: timeouts, retries, policy"),
        ("C  v", "compare this session's runs side by side"),
        ("x", "export: Python requests, curl (clipboard)"),
        ("?", "this help; any key closes it"),
        ("q  Esc", "quit and print the report (Esc: back first)"),
        ("Ctrl-C", "quit"),
    ]
}

pub fn lines(theme: &Theme) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = entries(theme)
        .into_iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<12}"), theme.title()),
                Span::raw(what),
            ])
        })
        .collect();
    out.push(Line::raw(""));
    let mut legend = vec![Span::raw(" ")];
    for s in [
        Status::Ok,
        Status::Failed,
        Status::Running,
        Status::Skipped,
        Status::NotRun,
    ] {
        legend.push(Span::styled(
            format!("{} {}  ", theme.symbol(s, 0), Theme::word(s)),
            theme.status_style(s),
        ));
    }
    out.push(Line::from(legend));
    out.push(Line::raw(" On quit the report is printed to the screen"));
    out.push(Line::raw(" (--no-report-on-exit: not printed)."));
    out
}

/// Centred over everything else; clipped to the screen on very small terminals.
pub fn render(frame: &mut Frame, area: Rect, theme: &Theme) {
    let lines = lines(theme);
    let w = 62.min(area.width);
    let h = (lines.len() as u16 + 2).min(area.height);
    let x = area.x + (area.width - w) / 2;
    let y = area.y + (area.height - h) / 2;
    let rect = Rect::new(x, y, w, h);
    frame.render_widget(Clear, rect);
    let b = block("Help: keys (any key closes)", true, Chrome::Boxed, theme);
    frame.render_widget(Paragraph::new(lines).block(b), rect);
}
