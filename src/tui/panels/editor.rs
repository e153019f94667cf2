//! The `e` overlay: the replay settings the next `r` uses, one field a line, with the policy's
//! formula and the worst-case budget recomputed on every change.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Chrome, block};
use crate::replay::budget::{UrlStages, worst_case_for};
use crate::tui::app::App;
use crate::tui::fmt;
use crate::tui::replay::{Field, FieldKind};
use crate::tui::theme::Theme;

pub(crate) fn lines(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let width = width as usize;
    let Some(ed) = &app.editor else {
        return Vec::new();
    };
    let s = &app.replay;
    let mut out = Vec::new();
    for (i, f) in Field::ALL.iter().enumerate() {
        let chosen = i == ed.field;
        let value = match (&ed.editing, chosen) {
            (Some(text), true) => format!("{text}_"),
            _ => f.value(s),
        };
        let hint = match (f.kind(), chosen, ed.editing.is_some()) {
            (_, false, _) => "",
            (_, true, true) => "  Enter ok, Esc cancel",
            (FieldKind::Choice, true, false) => "  <-/-> or space",
            (FieldKind::Number, true, false) => "  +/- or type",
            (FieldKind::Text, true, false) => "  type to edit",
        };
        let pointer = if chosen { theme.pointer() } else { " " };
        let text = fmt::truncate(
            &format!("{pointer} {:<20}{value}", f.label()),
            width.saturating_sub(hint.len()),
            theme.ellipsis(),
        );
        let style = if chosen {
            theme.selected()
        } else {
            ratatui::style::Style::new()
        };
        out.push(Line::from(vec![
            Span::styled(text, style),
            Span::styled(hint, theme.dim()),
        ]));
    }
    if let Some(err) = &ed.error {
        out.push(Line::from(Span::styled(
            fmt::truncate(&format!("  {}", err), width, theme.ellipsis()),
            theme.bad(),
        )));
    }
    for l in fmt::wrap("  ", "  ", &theme.text(s.policy.formula()), width) {
        out.push(Line::from(Span::styled(l, theme.dim())));
    }
    let b = worst_case_for(s, UrlStages::of(&app.url));
    for l in fmt::wrap("  worst case: ", "    ", &theme.text(&b.summary()), width) {
        out.push(Line::from(Span::styled(l, theme.bold())));
    }
    out
}

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let w = 78.min(area.width);
    let lines = lines(app, theme, Chrome::Boxed.inner_width(w));
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = super::centred(area, w, h);
    frame.render_widget(Clear, rect);
    let b = block(
        "Replay settings (Esc closes; then r runs them)",
        true,
        Chrome::Boxed,
        theme,
    );
    frame.render_widget(Paragraph::new(lines).block(b), rect);
}
