//! Below the smallest size the panels fit in (60×16), a compact view instead of a broken
//! layout: the URL, the attempt, each stage's status and the verdict's kind, and a line that
//! says how big the window must be for the rest. Smaller still, only that line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{header, stages};
use crate::tui::app::{App, AttemptState};
use crate::tui::fmt;
use crate::tui::theme::{Status, Theme};

/// The full dashboard needs this much room.
pub(crate) const MIN_SIZE: (u16, u16) = (60, 16);

pub(crate) fn wanted(area: Rect) -> bool {
    area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1
}

fn notice() -> String {
    format!("window too small (need {}×{})", MIN_SIZE.0, MIN_SIZE.1)
}

/// The verdict in a line: "✗ TLS failed (cert_expired)".
fn verdict_line(app: &App, theme: &Theme) -> (String, Style) {
    match app.attempts.last().map(|a| &a.state) {
        Some(AttemptState::Done { report }) => {
            let v = &report.verdict;
            match (v.layer, v.kind) {
                (Some(layer), Some(kind)) => (
                    format!(
                        "{} {} failed ({kind})",
                        theme.symbol(Status::Failed, 0),
                        layer.name().to_uppercase(),
                    ),
                    theme.bad().patch(theme.bold()),
                ),
                _ => (
                    format!("{} ok: every stage succeeded", theme.symbol(Status::Ok, 0)),
                    theme.ok(),
                ),
            }
        }
        Some(AttemptState::Running { .. }) => ("verdict: waiting…".into(), theme.dim()),
        Some(AttemptState::Crashed { .. }) => ("no verdict: the probe stopped".into(), theme.bad()),
        Some(AttemptState::Cancelled { .. }) | None => ("no verdict".into(), theme.dim()),
    }
}

pub(crate) fn lines(app: &App, theme: &Theme, area: Rect) -> Vec<Line<'static>> {
    let width = area.width as usize;
    let cut = |s: &str| fmt::truncate(&theme.text(s), width, theme.ellipsis());
    let rows = stages::rows(app);
    // URL, then (a pasted error's kind), attempt, the rows, the verdict, the notice.
    let then = app
        .then
        .as_ref()
        .map(|t| format!("then: {}", super::then::kind_words(&t.shown)));
    if (area.height as usize) < rows.len() + 4 + usize::from(then.is_some()) {
        return vec![Line::from(Span::styled(cut(&notice()), theme.bold()))];
    }
    let first = format!("netpeel {} ", app.header.method);
    let url = theme.text(&app.header.url).into_owned();
    let room = width.saturating_sub(fmt::width(&first));
    let mut out = vec![Line::from(Span::styled(
        cut(&format!(
            "{first}{}",
            fmt::middle(&url, room, theme.ellipsis())
        )),
        theme.bold(),
    ))];
    if let Some(then) = then {
        out.push(Line::from(Span::styled(cut(&then), theme.bad())));
    }
    let (attempt, style) = header::attempt_words(app, theme);
    out.push(Line::from(Span::styled(cut(&attempt), style)));
    let name_w = rows
        .iter()
        .map(|r| fmt::width(&theme.text(&r.label)))
        .max()
        .unwrap_or(0);
    for r in &rows {
        let text = format!(
            "{:<name_w$} {} {}",
            theme.text(&r.label),
            theme.symbol(r.status, app.frame),
            Theme::word(r.status)
        );
        out.push(Line::from(Span::styled(
            cut(&text),
            theme.status_style(r.status),
        )));
    }
    let (verdict, style) = verdict_line(app, theme);
    out.push(Line::from(Span::styled(cut(&verdict), style)));
    out.push(Line::from(Span::styled(cut(&notice()), theme.dim())));
    out
}

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    frame.render_widget(Paragraph::new(lines(app, theme, area)), area);
}
