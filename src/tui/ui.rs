//! The screen: where each panel goes for the terminal's size, then one render call per panel.
//! Narrow or short terminals (80×24 over SSH) stack the panels with one-line title rules; from
//! 100×30 the detail sits beside the attempts, in boxes.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};

use super::app::{App, Focus};
use super::panels::{
    Chrome, attempts, compact, compare, detail, editor, export, header, help, keybar, pastebox,
    stages, then, verdict,
};
use super::theme::Theme;

/// From this size on, panels sit side by side.
const WIDE: (u16, u16) = (100, 30);

pub fn is_wide(area: Rect) -> bool {
    area.width >= WIDE.0 && area.height >= WIDE.1
}

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    if compact::wanted(area) {
        compact::render(frame, area, app, theme);
        overlays(frame, app, theme);
        return;
    }
    let header_h = header::lines(app, theme, area.width).len() as u16;
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(header_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(frame, top, app, theme);
    keybar::render(frame, bottom, app, theme);
    let scrolls = if is_wide(area) {
        wide(frame, body, app, theme)
    } else {
        stacked(frame, body, app, theme)
    };
    app.max_scroll.set(scrolls);
    overlays(frame, app, theme);
}

/// The overlay open on top of the panels, if any; then `--ascii`'s last pass.
fn overlays(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    if app.editor.is_some() {
        editor::render(frame, area, app, theme);
    }
    if app.compare.is_some() {
        compare::render(frame, area, app, theme);
    }
    if app.export {
        export::render(frame, area, app, theme);
    }
    if app.paste.is_some() {
        pastebox::render(frame, area, app, theme);
    }
    if app.help {
        help::render(frame, area, theme);
    }
    if theme.ascii {
        ascii_only(frame.buffer_mut());
    }
}

/// Panels one under the other. The stage list and the verdict are vital and get their full
/// height first; the detail scrolls in what is left; the attempts get the newest row.
fn stacked(frame: &mut Frame, body: Rect, app: &App, theme: &Theme) -> (u16, u16, u16) {
    let chrome = Chrome::Rule;
    if app.expanded && app.focus == Focus::Then {
        let max = then::render(frame, body, app, theme, chrome);
        app.then_max.set(max);
        return app.max_scroll.get();
    }
    // A pasted error's "then" panel, on top; it gives way to the verdict (down to its
    // headline) on a short terminal.
    let then_full = then::height(app, chrome, then::COMPACT_ROWS);
    let verdict_need = verdict::lines(app, theme, body.width).len() as u16 + 1;
    let stages_need = stages::height(app, chrome);
    // The detail and the runs keep their titles.
    let spare = body.height.saturating_sub(stages_need + verdict_need + 2);
    let then_h = then_full.min(spare.max(then_full.min(2)));
    let [t, body] = Layout::vertical([Constraint::Length(then_h), Constraint::Fill(1)]).areas(body);
    then::render(frame, t, app, theme, chrome);
    let stages_h = stages::height(app, chrome).min(body.height);
    if app.expanded {
        let [s, d] =
            Layout::vertical([Constraint::Length(stages_h), Constraint::Fill(1)]).areas(body);
        stages::render(frame, s, app, theme, chrome);
        return expanded(frame, d, app, theme, chrome);
    }
    let rest = body.height - stages_h;
    let verdict_full = verdict::lines(app, theme, body.width).len() as u16 + 1;
    // A replay's timeline: every attempt and the end line, as room allows.
    let timeline = attempts::timeline_run(app).is_some();
    let attempts_full = if timeline {
        attempts::lines(app, theme, body.width).len() as u16 + 1
    } else {
        app.attempts.len().min(3) as u16 + 1
    };
    let detail_keep = if timeline { 3 } else { 5 };
    // A replay's state (how it ended, or the attempt under way) is vital like the verdict.
    let attempts_vital = attempts::timeline_run(app).map_or(2, |a| {
        1 + attempts::head_lines(a, app, theme, body.width).len() as u16
    });
    let mut attempts_h = attempts_full.min(attempts_vital.max(2));
    // A single probe's newest attempt repeats the header: when the verdict needs the line,
    // the panel keeps only its title.
    if !timeline && verdict_full > rest.saturating_sub(attempts_h) {
        attempts_h = attempts_h.min(1);
    }
    // The verdict is vital, notes included, and wins over the detail, which keeps what is
    // left (down to its title: Enter gives it the screen). It scrolls only when even that
    // is not enough.
    let verdict_h = verdict_full.min(rest.saturating_sub(attempts_h));
    let mut detail_h = rest.saturating_sub(verdict_h + attempts_h);
    // Spare room: more attempts (up to 3), while the detail keeps its title and 4 lines.
    while attempts_h < attempts_full && detail_h > detail_keep {
        attempts_h += 1;
        detail_h -= 1;
    }
    let [s, d, v, a] = Layout::vertical([
        Constraint::Length(stages_h),
        Constraint::Length(detail_h),
        Constraint::Length(verdict_h),
        Constraint::Length(attempts_h),
    ])
    .areas(body);
    stages::render(frame, s, app, theme, chrome);
    let max_d = detail::render(frame, d, app, theme, chrome);
    let max_v = verdict::render(frame, v, app, theme, chrome);
    let max_a = attempts::render(frame, a, app, theme, chrome);
    (max_d, max_v, max_a)
}

/// `Enter`: the focused panel takes the body (the stage list's detail when the stages or the
/// detail have the focus).
fn expanded(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    theme: &Theme,
    chrome: Chrome,
) -> (u16, u16, u16) {
    match app.focus {
        // Drawn by the callers, over the whole body.
        Focus::Then => app.max_scroll.get(),
        Focus::Verdict => (0, verdict::render(frame, area, app, theme, chrome), 0),
        Focus::Attempts => (0, 0, attempts::render(frame, area, app, theme, chrome)),
        Focus::Stages | Focus::Detail => (detail::render(frame, area, app, theme, chrome), 0, 0),
    }
}

/// The stage list and the verdict across the top, full width (their lines are long). A
/// replay's timeline follows at full width (its rows are long too), the detail below it;
/// otherwise the detail sits on the left with the runs beside it, as wide as they need.
fn wide(frame: &mut Frame, body: Rect, app: &App, theme: &Theme) -> (u16, u16, u16) {
    let chrome = Chrome::Boxed;
    if app.expanded && app.focus == Focus::Then {
        let max = then::render(frame, body, app, theme, chrome);
        app.then_max.set(max);
        return app.max_scroll.get();
    }
    let then_h = then::height(app, chrome, then::WIDE_ROWS).min(body.height / 3);
    let [t, body] = Layout::vertical([Constraint::Length(then_h), Constraint::Fill(1)]).areas(body);
    then::render(frame, t, app, theme, chrome);
    let stages_h = stages::height(app, chrome).min(body.height);
    let [s, lower] =
        Layout::vertical([Constraint::Length(stages_h), Constraint::Fill(1)]).areas(body);
    stages::render(frame, s, app, theme, chrome);
    if app.expanded {
        return expanded(frame, lower, app, theme, chrome);
    }
    let inner = chrome.inner_width(lower.width);
    let verdict_full = verdict::lines(app, theme, inner).len() as u16 + 2;
    // The verdict is vital and gets its full height; the detail keeps its box and a line.
    let verdict_h = verdict_full.min(lower.height.saturating_sub(3)).max(3);
    let [v, rest] =
        Layout::vertical([Constraint::Length(verdict_h), Constraint::Fill(1)]).areas(lower);
    let max_v = verdict::render(frame, v, app, theme, chrome);
    if let Some(run) = attempts::timeline_run(app) {
        let full = attempts::lines(app, theme, inner).len() as u16 + 2;
        let vital = attempts::head_lines(run, app, theme, inner).len() as u16 + 3;
        let timeline_h = full.min(rest.height.saturating_sub(6)).max(vital.min(full));
        let [t, d] =
            Layout::vertical([Constraint::Length(timeline_h), Constraint::Fill(1)]).areas(rest);
        let max_a = attempts::render(frame, t, app, theme, chrome);
        let max_d = detail::render(frame, d, app, theme, chrome);
        return (max_d, max_v, max_a);
    }
    let runs_w = (attempts::runs_width(app) + 2).max(40).min(rest.width / 2);
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(runs_w)]).areas(rest);
    let max_d = detail::render(frame, left, app, theme, chrome);
    let max_a = attempts::render(frame, right, app, theme, chrome);
    (max_d, max_v, max_a)
}

/// `--ascii`: every string was already spelled in ASCII; this catches anything that slipped
/// through (a server's header value, a certificate name) so the terminal only gets ASCII.
fn ascii_only(buf: &mut Buffer) {
    for cell in buf.content.iter_mut() {
        if !cell.symbol().is_ascii() {
            // One cell, one character: "→" becomes "-", "×" "x", anything unknown "?".
            let spelled = crate::report::ascii::spell(cell.symbol());
            let first = spelled.chars().next().unwrap_or('?');
            cell.set_char(first);
        }
    }
}

/// The screen as plain text, one line per row, trailing spaces trimmed: for snapshot tests and
/// the README's capture.
pub fn screen_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        for x in area.left()..area.right() {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
