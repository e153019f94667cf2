//! The `?` overlay: every key, what the symbols mean, and what happens on quit.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Chrome, block};
use crate::tui::keys::{self, Help, Mode};
use crate::tui::theme::{Status, Theme};

/// The rows of the key table that the main view's help shows, in the table's order: (keys as
/// spelled for this theme, what they do). Keys that share a row (↑ and ↓) are listed once.
fn entries(theme: &Theme) -> Vec<(&'static str, &'static str)> {
    keys::bindings(Mode::Main)
        .filter_map(|b| match b.help {
            Help::Row { keys, text } => Some((keys.pick(theme.ascii), text)),
            Help::WithAbove | Help::InOverlay | Help::InWatchBar => None,
        })
        .collect()
}

/// Every status a row can show, in the legend's order.
const STATUSES: [Status; 6] = [
    Status::Ok,
    Status::Failed,
    Status::Running,
    Status::Skipped,
    Status::NotRun,
    Status::Waiting,
];

pub(crate) fn lines(theme: &Theme) -> Vec<Line<'static>> {
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
    for s in STATUSES {
        legend.push(Span::styled(
            format!("{} {}  ", theme.symbol(s, 0), Theme::word(s)),
            theme.status_style(s),
        ));
    }
    out.push(Line::from(legend));
    out.push(Line::from(Span::styled(
        format!(
            " replay timeline bars: {}",
            super::attempts::letters_legend()
        ),
        theme.dim(),
    )));
    out.push(Line::raw(" On quit the report is printed to the screen"));
    out.push(Line::raw(" (--no-report-on-exit: not printed)."));
    out
}

/// Centred over everything else; clipped to the screen on very small terminals.
pub(crate) fn render(frame: &mut Frame, area: Rect, theme: &Theme) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::{BINDINGS, Key};
    use crossterm::event::KeyCode;

    fn text(theme: &Theme) -> Vec<String> {
        lines(theme)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    /// How the help's ASCII key column names a key.
    fn spelled(key: Key) -> String {
        match key {
            Key::Plain(KeyCode::Char(c)) => c.to_string(),
            Key::Plain(KeyCode::BackTab) => "S-Tab".into(),
            Key::Plain(KeyCode::PageUp) => "PgUp".into(),
            Key::Plain(KeyCode::PageDown) => "PgDn".into(),
            Key::Plain(code) => code.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Other => "any key".into(),
        }
    }

    #[test]
    fn help_lists_every_binding_of_the_main_view() {
        for ascii in [false, true] {
            let theme = Theme {
                color: false,
                ascii,
            };
            let shown = text(&theme);
            let mut row: Option<(&str, &str)> = None;
            for b in BINDINGS {
                row = match b.help {
                    Help::Row { keys, text } => Some((keys.pick(ascii), text)),
                    Help::WithAbove => row,
                    Help::InOverlay | Help::InWatchBar => continue,
                };
                let Some((keys, what)) = row else {
                    panic!("{:?} has no row above it", b.action);
                };
                let line = format!(" {keys:<12}{what}");
                assert!(shown.contains(&line), "{line:?} in {shown:#?}");
                if ascii {
                    // The row spells the binding's first key; others are aliases (g, F1, …).
                    let first = spelled(b.keys[0]);
                    assert!(keys.contains(&first), "{first:?} in {keys:?}");
                }
            }
        }
    }

    #[test]
    fn help_explains_every_status_symbol_and_the_timeline_letters() {
        let theme = Theme {
            color: false,
            ascii: false,
        };
        let shown = text(&theme).join("\n");
        for s in STATUSES {
            let entry = format!("{} {}", theme.symbol(s, 0), Theme::word(s));
            assert!(shown.contains(&entry), "{entry:?} in {shown}");
        }
        assert!(
            shown.contains("d DNS  t TCP  p PROXY  s TLS  h HTTP"),
            "{shown}"
        );
    }

    #[test]
    fn help_has_no_row_the_table_does_not_have() {
        let rows = BINDINGS
            .iter()
            .filter(|b| matches!(b.help, Help::Row { .. }))
            .count();
        let theme = Theme {
            color: false,
            ascii: false,
        };
        // The rows, a blank line, the two legends and two lines about quitting.
        assert_eq!(lines(&theme).len(), rows + 5);
    }
}
