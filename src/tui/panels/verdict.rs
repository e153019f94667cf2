//! The verdict: the failing layer and kind in words, what Python requests would raise (and the
//! urllib3 cause, and which timeout governs), what curl would exit with, and the hint. The same
//! sentences as the plain report, so the two never disagree.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{Chrome, block, scrolled};
use crate::report::model::VerdictReport;
use crate::report::words;
use crate::tui::app::{App, AttemptState, Focus};
use crate::tui::fmt;
use crate::tui::theme::{Status, Theme};

/// The verdict's sentences, in the order a person needs them.
pub(crate) fn sentences(v: &VerdictReport) -> Vec<(String, String, bool)> {
    // (prefix, text, is_alert)
    let mut out = Vec::new();
    match (v.layer, v.kind) {
        (Some(layer), Some(kind)) => {
            // The kind's meaning from the verdict table ("the server's certificate has expired").
            let words = kind.info().meaning;
            out.push((
                String::new(),
                format!("{} failed: {words} ({kind})", layer.name().to_uppercase()),
                true,
            ));
        }
        _ => out.push((String::new(), "ok: every stage succeeded".into(), false)),
    }
    out.push((String::new(), v.summary.clone(), false));
    let requests = words::requests_sentence(v)
        .unwrap_or_else(|| "Python requests would raise nothing.".into());
    // curl's line continues requests' paragraph: one line fewer on a 24-line terminal.
    let line = match words::curl_sentence(v) {
        Some(curl) => format!("{requests} {curl}"),
        None => requests,
    };
    out.push((String::new(), line, false));
    if let Some(h) = &v.hint {
        out.push(("hint: ".into(), h.clone(), false));
    }
    for n in &v.notes {
        out.push(("note: ".into(), n.clone(), false));
    }
    out
}

pub(crate) fn lines(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    lines_with(app, theme, width, true)
}

/// How many lines the verdict needs without its notes: what must fit on a small screen.
pub(crate) fn vital_height(app: &App, theme: &Theme, width: u16) -> u16 {
    lines_with(app, theme, width, false).len() as u16
}

fn lines_with(app: &App, theme: &Theme, width: u16, with_notes: bool) -> Vec<Line<'static>> {
    let width = width as usize;
    let mut lines = Vec::new();
    let text = |lines: &mut Vec<Line<'static>>, t: &str, style: Style| {
        for l in fmt::wrap("", "", &theme.text(t), width) {
            lines.push(Line::from(Span::styled(l, style)));
        }
    };
    match app.attempts.last().map(|a| &a.state) {
        // A cancelled replay shows what its attempts found (`App::report` is theirs).
        Some(AttemptState::Done { .. } | AttemptState::Cancelled { .. })
            if app.report().is_some() =>
        {
            let Some(report) = app.report() else {
                return lines;
            };
            let v = &report.verdict;
            let status = if v.ok { Status::Ok } else { Status::Failed };
            let all = sentences(v);
            let kept = all
                .into_iter()
                .filter(|(prefix, _, _)| with_notes || prefix != "note: ");
            for (i, (prefix, sentence, alert)) in kept.enumerate() {
                let first = if i == 0 {
                    format!("{} {prefix}", theme.symbol(status, 0))
                } else {
                    prefix.clone()
                };
                let style = if i == 0 || alert {
                    theme.status_style(status).patch(theme.bold())
                } else if prefix.is_empty() {
                    Style::new()
                } else {
                    theme.dim()
                };
                let rest = " ".repeat(fmt::width(&first));
                for l in fmt::wrap(&first, &rest, &theme.text(&sentence), width) {
                    lines.push(Line::from(Span::styled(l, style)));
                }
            }
        }
        Some(AttemptState::Running { .. }) => {
            text(&mut lines, "waiting for the probe to finish…", theme.dim());
        }
        Some(AttemptState::Crashed { message }) => {
            let msg = format!("no verdict: the probe stopped ({message})");
            text(&mut lines, &msg, theme.bad());
        }
        Some(AttemptState::Done { .. } | AttemptState::Cancelled { .. }) | None => {
            text(&mut lines, "no verdict", theme.dim())
        }
    }
    lines
}

pub(crate) fn title(app: &App) -> String {
    match app.report() {
        Some(_) if app.was_cut() => {
            "Verdict of the last attempt (run cancelled: exit code 130)".into()
        }
        Some(r) => format!("Verdict (exit code {})", r.verdict.exit_code),
        None => "Verdict".into(),
    }
}

pub(crate) fn render(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    theme: &Theme,
    chrome: Chrome,
) -> u16 {
    let b = block(&title(app), app.focus == Focus::Verdict, chrome, theme);
    let width = chrome.inner_width(area.width);
    scrolled(
        frame,
        area,
        b,
        lines(app, theme, width),
        app.scroll.verdict,
        theme,
    )
}
