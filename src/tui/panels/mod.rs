//! One module per panel. Each builds its lines for a given width (so the layout knows heights
//! before drawing) and has one `render` function.

pub(super) mod attempts;
pub(super) mod compact;
pub(super) mod compare;
pub(super) mod detail;
pub(super) mod editor;
pub(super) mod export;
pub(super) mod header;
pub(super) mod help;
pub(super) mod keybar;
pub(super) mod pastebox;
pub(super) mod stages;
pub(super) mod then;
pub(super) mod verdict;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::theme::Theme;

/// How panels are framed: a single title rule when space is short (80×24: every line counts),
/// full boxes when panels sit side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Chrome {
    Rule,
    Boxed,
}

impl Chrome {
    /// Lines the frame takes from a panel's height.
    pub(super) fn overhead(self) -> u16 {
        match self {
            Chrome::Rule => 1,
            Chrome::Boxed => 2,
        }
    }

    pub(super) fn inner_width(self, outer: u16) -> u16 {
        match self {
            Chrome::Rule => outer,
            Chrome::Boxed => outer.saturating_sub(2),
        }
    }
}

/// A panel's frame. The focused panel's title is reversed and marked, so focus shows without
/// colour.
pub(super) fn block(title: &str, focused: bool, chrome: Chrome, theme: &Theme) -> Block<'static> {
    let borders = match chrome {
        Chrome::Rule => Borders::TOP,
        Chrome::Boxed => Borders::ALL,
    };
    let title = theme.text(title);
    let text = if focused {
        format!("{}{} ", theme.pointer(), title)
    } else {
        format!(" {title} ")
    };
    let mut style = theme.title();
    if focused {
        style = style.add_modifier(Modifier::REVERSED);
    }
    Block::new()
        .borders(borders)
        .border_set(theme.border())
        .border_style(theme.dim())
        .title(Line::from(Span::styled(text, style)))
}

/// Draw `lines` in a framed panel scrolled by `offset` (clamped); returns the largest useful
/// offset, which the app keeps so that scrolling stops at the end. A mark in the top rule says
/// when lines are hidden (the top, because a `Rule` panel has no bottom line).
pub(super) fn scrolled(
    frame: &mut Frame,
    area: Rect,
    block: Block<'static>,
    lines: Vec<Line<'static>>,
    offset: u16,
    theme: &Theme,
) -> u16 {
    let inner = block.inner(area);
    let total = lines.len() as u16;
    let max = total.saturating_sub(inner.height);
    let offset = offset.min(max);
    let block = if max > 0 {
        let mark = if offset < max { theme.more_below() } else { "" };
        // Squeezed to its title (the verdict won the room): say how much is behind it.
        let count = match inner.height {
            0 if total == 1 => "1 line".to_string(),
            0 => format!("{total} lines"),
            shown => format!("{}/{}", offset + shown, total),
        };
        block.title_top(
            Line::from(Span::styled(format!(" {mark} {count} "), theme.dim())).right_aligned(),
        )
    } else {
        block
    };
    frame.render_widget(Paragraph::new(lines).block(block).scroll((offset, 0)), area);
    max
}

/// A boxed overlay in the middle of `area`, 78 columns at most, leaving the key bar's line
/// free (it says the overlay's keys). `lines` gets the inner width and the most lines it may
/// fill (`max_inner` at most); the box is as tall as what it returns.
pub(super) fn overlay_box(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    theme: &Theme,
    max_inner: u16,
    lines: impl FnOnce(u16, u16) -> Vec<Line<'static>>,
) {
    let w = 78.min(area.width);
    let room = area.height.saturating_sub(1).max(area.height.min(3));
    let inner_h = room.saturating_sub(2).min(max_inner);
    let lines = lines(Chrome::Boxed.inner_width(w), inner_h);
    let h = (lines.len() as u16 + 2).min(room);
    let rect = centred(
        Rect {
            height: room,
            ..area
        },
        w,
        h,
    );
    frame.render_widget(ratatui::widgets::Clear, rect);
    let b = block(title, true, Chrome::Boxed, theme);
    frame.render_widget(Paragraph::new(lines).block(b), rect);
}

/// A `w`×`h` rectangle in the middle of `area`, clipped to it.
pub(super) fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The text of each line, styles dropped: what tests compare.
#[cfg(test)]
pub(super) fn line_texts(lines: &[ratatui::text::Line]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}
