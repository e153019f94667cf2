//! The `x` overlay: the editor's settings as a Python `requests` snippet and a curl line
//! (`replay::export`). The loop also offers the snippet to the clipboard with OSC 52.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;

use super::{Chrome, block};
use crate::replay::export;
use crate::tui::app::App;
use crate::tui::fmt;
use crate::tui::theme::Theme;

pub(crate) fn lines(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let width = width as usize;
    let mut out = vec![Line::from(Span::styled(
        fmt::truncate(
            "Python snippet sent to the clipboard (OSC 52; ignored where unsupported)",
            width,
            theme.ellipsis(),
        ),
        theme.dim(),
    ))];
    let request = app.request.with_trust_fix(app.report());
    let python = export::python(&app.replay, &request);
    for l in python.lines() {
        code_line(&mut out, l, theme, width);
    }
    out.push(Line::from(Span::styled("curl:", theme.title())));
    let curl = export::curl(&app.replay, &request);
    for l in curl.lines() {
        code_line(&mut out, l, theme, width);
    }
    out
}

/// One line of code as it must be pasted: indentation kept; a long comment continues on lines
/// that are comments too, so a copy from the screen still runs.
pub(in crate::tui) fn code_line(
    out: &mut Vec<Line<'static>>,
    line: &str,
    theme: &Theme,
    width: usize,
) {
    let text = theme.text(line).into_owned();
    let indent: String = text.chars().take_while(|c| *c == ' ').collect();
    let body = &text[indent.len()..];
    if fmt::width(&text) <= width {
        out.push(Line::raw(text.clone()));
        return;
    }
    let (first, rest) = if body.starts_with('#') {
        (indent.clone(), format!("{indent}#   "))
    } else {
        (indent.clone(), format!("{indent}    "))
    };
    for w in fmt::wrap(&first, &rest, body, width) {
        out.push(Line::raw(w));
    }
}

/// The whole screen but the key bar's line; what does not fit scrolls (↑/↓, PgUp/PgDn), and
/// the title says how far.
pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let w = area.width;
    let lines = lines(app, theme, Chrome::Boxed.inner_width(w));
    let room = area.height.saturating_sub(1).max(area.height.min(3));
    let h = (lines.len() as u16 + 2).min(room);
    let rect = super::centred(
        Rect {
            height: room,
            ..area
        },
        w,
        h,
    );
    frame.render_widget(Clear, rect);
    let arrows = if theme.ascii { "Up/Dn" } else { "↑↓" };
    let title = format!("Export ({arrows} scroll, any other key closes)");
    let b = block(&title, true, Chrome::Boxed, theme);
    let max = super::scrolled(frame, rect, b, lines, app.scroll.export, theme);
    app.export_max.set(max);
}

#[cfg(test)]
mod code_line_tests {
    use super::*;

    use super::super::line_texts as texts;

    #[test]
    fn pasted_code_keeps_indentation_and_comments_stay_comments() {
        let theme = Theme {
            color: false,
            ascii: false,
        };
        let mut out = Vec::new();
        code_line(&mut out, "    total=3,", &theme, 40);
        code_line(
            &mut out,
            "# a long comment that certainly does not fit in forty columns at all",
            &theme,
            40,
        );
        let t = texts(&out);
        assert_eq!(t[0], "    total=3,");
        assert!(t.len() > 2, "{t:?}");
        assert!(
            t[1..].iter().all(|l| l.trim_start().starts_with('#')),
            "{t:?}"
        );
        assert!(t.iter().all(|l| l.chars().count() <= 40), "{t:?}");
    }
}
