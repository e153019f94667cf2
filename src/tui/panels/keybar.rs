//! The key bar: the keys that matter, always on the last line; the words go first when the
//! terminal is narrow, the keys stay.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::fmt;
use crate::tui::theme::Theme;

fn keys(app: &App, theme: &Theme) -> Vec<(&'static str, &'static str)> {
    let arrows = if theme.ascii { "Up/Dn" } else { "↑↓" };
    let select = if app.focus == crate::tui::app::Focus::Stages {
        "select"
    } else {
        "scroll"
    };
    let enter = if app.expanded { "back" } else { "expand" };
    let running = app.is_running();
    let (k, w) = if running {
        ("c", "cancel")
    } else {
        ("e", "replay")
    };
    vec![
        (arrows, select),
        ("Enter", enter),
        ("Tab", "panel"),
        ("r", "run again"),
        (k, w),
        ("?", "help"),
        ("q", "quit"),
    ]
}

pub fn line(app: &App, theme: &Theme, width: u16) -> Line<'static> {
    let keys = keys(app, theme);
    let full: usize = keys
        .iter()
        .map(|(k, w)| fmt::width(k) + 1 + fmt::width(w) + 2)
        .sum();
    let with_words = full <= width as usize;
    let mut spans = Vec::new();
    for (k, w) in keys {
        spans.push(Span::styled(k.to_string(), theme.title()));
        if with_words {
            spans.push(Span::styled(format!(" {w}  "), theme.dim()));
        } else {
            spans.push(Span::raw(" "));
        }
    }
    Line::from(spans)
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    frame.render_widget(Paragraph::new(line(app, theme, area.width)), area);
}
