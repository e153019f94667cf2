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

/// The key table's bar entries of `mode` that apply now: (key, words, action), in the table's
/// order.
fn keys(mode: Mode, state: BarState, theme: &Theme) -> Vec<(&'static str, String, keys::Action)> {
    keys::bindings(mode)
        .filter_map(|b| Some((b.bar.as_ref()?, b.action)))
        .filter(|(bar, _)| bar.shown(state))
        .map(|(bar, action)| {
            (
                bar.keys.pick(theme.ascii),
                bar.words(state).to_string(),
                action,
            )
        })
        .collect()
}

/// What the next `r` runs, once the editor set retries: "replay: 4 attempts max".
fn rerun_words(app: &App) -> Option<String> {
    if !crate::tui::replay::is_replay(&app.replay) {
        return None;
    }
    let b = crate::replay::budget::worst_case(&app.replay);
    Some(if b.unbounded {
        "replay: no attempt limit".into()
    } else {
        format!("replay: {} attempts max", b.max_attempts)
    })
}

pub(crate) fn line(app: &App, theme: &Theme, width: u16) -> Line<'static> {
    let state = BarState {
        stages_focused: app.focus == Focus::Stages,
        expanded: app.expanded,
        running: app.is_running(),
    };
    // The editor, the export and the paste box say their own keys; under help and compare (which close on
    // any key) the main view's bar stays.
    let mode = match app.key_mode() {
        m @ (Mode::Editor | Mode::EditorTyping | Mode::Export | Mode::Paste) => m,
        _ => Mode::Main,
    };
    let mut entries = keys(mode, state, theme);
    if let Some(words) = rerun_words(app) {
        for e in entries.iter_mut().filter(|e| e.2 == keys::Action::Rerun) {
            e.1 = words.clone();
        }
    }
    bar_line(entries, theme, width)
}

/// The bar of `mode` (the watch dashboard's modes have one too) in `width` columns.
pub(crate) fn mode_line(mode: Mode, state: BarState, theme: &Theme, width: u16) -> Line<'static> {
    bar_line(keys(mode, state, theme), theme, width)
}

fn bar_line(
    keys: Vec<(&'static str, String, keys::Action)>,
    theme: &Theme,
    width: u16,
) -> Line<'static> {
    // Words go first from the left (the arrows and Enter explain themselves best) until the
    // bar fits; the keys always stay.
    let mut used: usize = keys
        .iter()
        .map(|(k, w, _)| fmt::width(k) + 1 + fmt::width(w) + 2)
        .sum();
    let mut worded = vec![true; keys.len()];
    for (i, (_, w, _)) in keys.iter().enumerate() {
        if used <= width as usize {
            break;
        }
        worded[i] = false;
        used -= fmt::width(w) + 2;
    }
    if used > width as usize {
        worded.fill(false);
    }
    let mut spans = Vec::new();
    for ((k, w, _), with_words) in keys.into_iter().zip(worded) {
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
            "↑↓ select  Enter expand  Tab panel  r run again  e replay  p paste  ? help  q quit  "
        );
        app.start(now);
        app.focus = Focus::Detail;
        app.expanded = true;
        assert_eq!(
            bar(&app),
            "↑↓ scroll  Enter back  Tab panel  r run again  c cancel  p paste  ? help  q quit  "
        );
    }

    #[test]
    fn the_editor_has_its_own_bar_and_r_says_what_it_will_run() {
        let now = Instant::now();
        let header = HeaderInfo::from_settings(&ProbeSettings::new("https://127.0.0.1:1/"));
        let mut app = App::new(header, now);
        app.start(now);
        let press = |app: &mut App, code| {
            app.update(crate::tui::Event::Key(crossterm::event::KeyEvent::from(
                code,
            )))
        };
        press(&mut app, crossterm::event::KeyCode::Char('e'));
        let editor = bar(&app);
        assert_eq!(
            editor,
            "↑↓ field  +/- step  Enter edit (or type)  Esc close, then r runs them  "
        );
        assert!(!editor.contains("q quit"), "q is typed in the editor");
        press(&mut app, crossterm::event::KeyCode::Enter);
        press(&mut app, crossterm::event::KeyCode::Down);
        // Retries total: 3 typed in, Esc twice closes.
        for _ in 0..5 {
            press(&mut app, crossterm::event::KeyCode::Down);
        }
        press(&mut app, crossterm::event::KeyCode::Char('3'));
        assert_eq!(bar(&app), "Enter set  Esc keep the old value  ");
        press(&mut app, crossterm::event::KeyCode::Enter);
        press(&mut app, crossterm::event::KeyCode::Esc);
        assert!(app.editor.is_none());
        assert!(
            bar(&app).contains("r replay: 4 attempts max"),
            "{}",
            bar(&app)
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
        assert_eq!(text, "Up/Dn Enter Tab r e p ? q ");
    }

    #[test]
    fn the_paste_box_has_its_own_bar() {
        let now = Instant::now();
        let header = HeaderInfo::from_settings(&ProbeSettings::new("https://127.0.0.1:1/"));
        let mut app = App::new(header, now);
        app.update(crate::tui::Event::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char('p'),
        )));
        assert_eq!(
            bar(&app),
            "Enter/^D explain  Esc close  Bksp delete  Ctrl-U clear  "
        );
    }
}
