//! The `x` overlay: the editor's settings as a Python `requests` snippet and a curl line
//! (`replay::export`). The loop also offers the snippet to the clipboard with OSC 52.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Chrome, block};
use crate::replay::export;
use crate::tui::app::App;
use crate::tui::fmt;
use crate::tui::theme::Theme;

pub fn lines(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let width = width as usize;
    let mut out = vec![Line::from(Span::styled(
        fmt::truncate(
            "Python snippet sent to the clipboard (OSC 52; ignored where unsupported)",
            width,
            theme.ellipsis(),
        ),
        theme.dim(),
    ))];
    let python = export::python(&app.replay, &app.url);
    for l in python.lines() {
        // Comment lines are long prose: wrapped; code lines are short.
        for w in fmt::wrap("", "  ", &theme.text(l), width) {
            out.push(Line::raw(w));
        }
    }
    out.push(Line::from(Span::styled("curl:", theme.title())));
    let curl = export::curl(&app.replay, &app.url);
    for l in curl.lines() {
        for w in fmt::wrap("", "  ", &theme.text(l), width) {
            out.push(Line::raw(w));
        }
    }
    out
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let w = area.width;
    let lines = lines(app, theme, Chrome::Boxed.inner_width(w));
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = super::centred(area, w, h);
    frame.render_widget(Clear, rect);
    let b = block("Export (any key closes)", true, Chrome::Boxed, theme);
    frame.render_widget(Paragraph::new(lines).block(b), rect);
}
