//! The key bar: the keys that matter, always on the last line; the words go first when the
//! terminal is narrow, the keys stay.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, Focus};
use crate::tui::fmt;
use crate::tui::keys::{self, BarState, Mode};
use crate::tui::theme::Theme;

/// The key table's bar entries of `mode` that apply now: (key, words), in the table's order.
fn keys(mode: Mode, state: BarState, theme: &Theme) -> Vec<(&'static str, &'static str)> {
    keys::bindings(mode)
        .filter_map(|b| b.bar.as_ref())
        .filter(|bar| bar.shown(state))
        .map(|bar| (bar.keys.pick(theme.ascii), bar.words(state)))
        .collect()
}

pub(crate) fn line(app: &App, theme: &Theme, width: u16) -> Line<'static> {
    let state = BarState {
        stages_focused: app.focus == Focus::Stages,
        expanded: app.expanded,
        running: app.is_running(),
    };
    mode_line(Mode::Main, state, theme, width)
}

/// The bar of `mode` (the watch dashboard's modes have one too) in `width` columns.
pub(crate) fn mode_line(mode: Mode, state: BarState, theme: &Theme, width: u16) -> Line<'static> {
    let keys = keys(mode, state, theme);
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

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    frame.render_widget(Paragraph::new(line(app, theme, area.width)), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ProbeSettings;
    use crate::tui::header_info::HeaderInfo;
    use std::time::Instant;

    const PLAIN: Theme = Theme {
        color: false,
        ascii: false,
    };

    fn bar(app: &App) -> String {
        let line = line(app, &PLAIN, 200);
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn the_words_follow_focus_expansion_and_the_run() {
        let now = Instant::now();
        let header = HeaderInfo::from_settings(&ProbeSettings::new("https://127.0.0.1:1/"));
        let mut app = App::new(header, now);
        assert_eq!(
            bar(&app),
            "↑↓ select  Enter expand  Tab panel  r run again  e replay  ? help  q quit  "
        );
        app.start(now);
        app.focus = Focus::Detail;
        app.expanded = true;
        assert_eq!(
            bar(&app),
            "↑↓ scroll  Enter back  Tab panel  r run again  c cancel  ? help  q quit  "
        );
    }

    #[test]
    fn a_narrow_bar_keeps_the_keys() {
        let now = Instant::now();
        let header = HeaderInfo::from_settings(&ProbeSettings::new("https://127.0.0.1:1/"));
        let app = App::new(header, now);
        let ascii = Theme {
            color: false,
            ascii: true,
        };
        let text: String = line(&app, &ascii, 20)
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(text, "Up/Dn Enter Tab r e ? q ");
    }
}
