//! The verdict: the failing layer and kind in words, what Python requests would raise (and the
//! urllib3 cause, and which timeout governs), what curl would exit with, and the hint. The same
//! sentences as the plain report, so the two never disagree.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{Chrome, attempts, block, scrolled};
use crate::report::WHOLE_RUN_NOTE;
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
            out.push((
                String::new(),
                format!(
                    "{} failed: {}",
                    layer.name().to_uppercase(),
                    words::kind_meaning(kind)
                ),
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
    let width = width as usize;
    let mut lines = Vec::new();
    let text = |lines: &mut Vec<Line<'static>>, t: &str, style: Style| {
        for l in fmt::wrap("", "", &theme.text(t), width) {
            lines.push(Line::from(Span::styled(l, style)));
        }
    };
    match app.shown().map(|a| &a.state) {
        // A cancelled replay shows what its attempts found (`App::shown_report` is theirs).
        Some(AttemptState::Done { .. } | AttemptState::Cancelled { .. })
            if app.shown_report().is_some() =>
        {
            let Some(report) = app.shown_report() else {
                return lines;
            };
            let v = &report.verdict;
            let status = if v.ok { Status::Ok } else { Status::Failed };
            // The replay's timeline, right under the verdict, leads with what the whole run
            // raises: its note would say it twice and cost a small terminal two lines.
            let timeline_says_it = report.replay.is_some()
                && !app.viewing_older()
                && attempts::timeline_run(app).is_some()
                && !(app.expanded && app.focus == Focus::Verdict);
            let shown = sentences(v).into_iter().filter(|(prefix, sentence, _)| {
                !(timeline_says_it && prefix == "note: " && sentence.contains(WHOLE_RUN_NOTE))
            });
            for (i, (prefix, sentence, alert)) in shown.enumerate() {
                let first = if i == 0 {
                    format!("{} {prefix}", theme.symbol(status, 0))
                } else {
                    prefix.clone()
                };
                let style = if i == 0 || alert {
                    theme.status_style(status).patch(theme.bold())
                } else if prefix != "note: " {
                    // The hint is the most actionable line: normal weight, not dim.
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
    let attempt = match app.viewed {
        Some(n) if app.viewing_older() => format!(" of attempt #{n}"),
        _ => String::new(),
    };
    match app.shown_report() {
        Some(_) if app.was_cut() && !app.viewing_older() => {
            "Verdict of the last attempt (run cancelled: exit code 130)".into()
        }
        Some(r) => format!("Verdict{attempt} (exit code {})", r.verdict.exit_code),
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
