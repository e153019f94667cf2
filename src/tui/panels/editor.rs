//! The `e` overlay: the replay settings the next `r` uses, one field a line, with the policy's
//! formula and the worst-case budget recomputed on every change.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::replay::budget::worst_case_for;
use crate::tui::app::App;
use crate::tui::fmt;
use crate::tui::replay::{Field, FieldKind};
use crate::tui::theme::{Status, Theme};

/// The field rows: the selected one marked, its typed text while it is edited and, right under
/// it, why a typed value was refused.
fn field_rows(app: &App, theme: &Theme, width: usize) -> Vec<Line<'static>> {
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
        if chosen && let Some(err) = &ed.error {
            let mark = format!("    {} ", theme.symbol(Status::Failed, 0));
            for l in fmt::wrap(&mark, "      ", &theme.text(err), width) {
                out.push(Line::from(Span::styled(l, theme.bad())));
            }
        }
    }
    out
}

/// The lines under the list: what the selected field means, the policy's formula, the worst
/// case. `room` is how many lines the overlay has; the formula gives way first.
fn footer(app: &App, theme: &Theme, width: usize, room: usize) -> Vec<Line<'static>> {
    let s = &app.replay;
    let selected = app.editor.as_ref().map(|e| e.selected());
    let mut out = Vec::new();
    if let Some(f) = selected {
        for l in fmt::wrap("  ", "  ", &theme.text(f.help()), width) {
            out.push(Line::from(Span::styled(l, theme.dim())));
        }
    }
    let b = worst_case_for(s, app.url_stages);
    let budget: Vec<Line<'static>> =
        fmt::wrap("  worst case: ", "    ", &theme.text(&b.summary()), width)
            .into_iter()
            .map(|l| Line::from(Span::styled(l, theme.bold())))
            .collect();
    let formula: Vec<Line<'static>> = fmt::wrap("  ", "  ", &theme.text(s.policy.formula()), width)
        .into_iter()
        .map(|l| Line::from(Span::styled(l, theme.dim())))
        .collect();
    if Field::ALL.len() + out.len() + budget.len() + formula.len() <= room {
        out.extend(formula);
    }
    out.extend(budget);
    out
}

/// Every line of the overlay for `height` inner lines: the field list, windowed around the
/// selected field when the footer needs the room.
pub(crate) fn lines(app: &App, theme: &Theme, width: u16, height: u16) -> Vec<Line<'static>> {
    let width = width as usize;
    let Some(ed) = &app.editor else {
        return Vec::new();
    };
    let rows = field_rows(app, theme, width);
    let footer = footer(app, theme, width, height as usize);
    let list_room = (height as usize).saturating_sub(footer.len()).max(3);
    let first = if rows.len() <= list_room {
        0
    } else {
        // The selected field (and its error line) in view, as near the middle as fits.
        (ed.field + 2)
            .saturating_sub(list_room / 2)
            .min(rows.len() - list_room)
    };
    let mut out: Vec<Line<'static>> = rows.into_iter().skip(first).take(list_room).collect();
    out.extend(footer);
    out
}

/// Over the body, leaving the key bar's line free (it says the editor's keys).
pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    super::overlay_box(
        frame,
        area,
        "Replay settings (Esc closes; then r runs them)",
        theme,
        u16::MAX,
        |width, height| lines(app, theme, width, height),
    );
}
