//! The `p` overlay: the error being pasted, as a count and a preview of its first and last
//! lines (escaped: a paste is hostile text), and why Enter did not explain it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::tui::app::App;
use crate::tui::fmt;
use crate::tui::paste::PasteBox;
use crate::tui::theme::{Status, Theme};

/// What the box says before anything is pasted, and how Enter is read.
const HOW: &str = "Paste the error: a traceback, a log line or curl's output (your terminal's paste keys; tmux: paste-buffer -p). A lone Enter (or Ctrl-D) explains it and probes what it names; the line breaks of a paste stay in it.";

/// "23 lines, 4.1 KiB" (and "cut at 1 MiB" when it was longer).
fn size_words(pb: &PasteBox) -> String {
    let n = pb.line_count();
    let bytes = pb.text.len();
    let size = if bytes < 1024 {
        format!("{bytes} bytes")
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    };
    let cut = if pb.truncated {
        " (cut at 1 MiB: the rest is not read)"
    } else {
        ""
    };
    format!("{n} line{}, {size}{cut}", if n == 1 { "" } else { "s" })
}

/// The box's lines for `width` columns and `height` lines inside the frame.
pub(crate) fn lines(pb: &PasteBox, theme: &Theme, width: u16, height: u16) -> Vec<Line<'static>> {
    let width = width as usize;
    let cut = |s: &str| fmt::truncate(&theme.text(s), width, theme.ellipsis());
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut error = Vec::new();
    if let Some(e) = &pb.error {
        let mark = format!("{} ", theme.symbol(Status::Failed, 0));
        for l in fmt::wrap(&mark, "  ", &theme.text(e), width) {
            error.push(Line::from(Span::styled(l, theme.bad())));
        }
    }
    if pb.text.is_empty() {
        for l in fmt::wrap("", "", &theme.text(HOW), width) {
            out.push(Line::from(Span::styled(l, theme.dim())));
        }
        out.extend(error);
        return out;
    }
    out.push(Line::from(Span::styled(cut(&size_words(pb)), theme.bold())));
    // The preview gets what the count and the error leave, split between the first lines
    // (the start of a traceback) and the last (the exception raised).
    let room = (height as usize).saturating_sub(1 + error.len()).max(2);
    let tail = room / 2;
    let head = room - tail - usize::from(pb.line_count() > room);
    let (first, hidden, last) = pb.preview(head, tail);
    let quoted = |l: &str| Line::from(Span::raw(cut(&format!(" {l}"))));
    out.extend(first.iter().map(|l| quoted(l)));
    if hidden > 0 {
        let gap = format!(
            " {} {hidden} more lines {}",
            theme.ellipsis(),
            theme.ellipsis()
        );
        out.push(Line::from(Span::styled(cut(&gap), theme.dim())));
    }
    out.extend(last.iter().map(|l| quoted(l)));
    out.extend(error);
    out
}

/// Over the body, leaving the key bar's line free (it says the box's keys). Room for a
/// preview of a few lines each side; more would only cover the rest.
pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(pb) = &app.paste else {
        return;
    };
    super::overlay_box(
        frame,
        area,
        "Paste an error (Enter explains, Esc closes)",
        theme,
        12,
        |width, height| lines(pb, theme, width, height),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::parse::MAX_INPUT_BYTES;

    fn text(lines: &[Line]) -> String {
        super::super::line_texts(lines)
            .into_iter()
            .map(|l| l + "\n")
            .collect()
    }

    #[test]
    fn a_paste_past_the_limit_says_it_was_cut_and_the_preview_fits_the_box() {
        let theme = Theme {
            color: false,
            ascii: false,
        };
        let mut pb = PasteBox::default();
        let line = format!("{}\n", "x".repeat(99));
        pb.push_str(&line.repeat(MAX_INPUT_BYTES / 100 + 10));
        let shown = lines(&pb, &theme, 76, 12);
        let t = text(&shown);
        // 10485 whole lines and the start of the next.
        assert!(
            t.starts_with("10486 lines, 1024.0 KiB (cut at 1 MiB"),
            "{t}"
        );
        assert!(t.contains("more lines"), "{t}");
        assert_eq!(shown.len(), 12, "{t}");
        assert!(t.lines().all(|l| l.chars().count() <= 76), "{t}");
    }
}
