//! The attempts of this session, newest first: one row per run (the first, then one per `r`),
//! with its outcome kind and total time. When the current run is a replay (its settings allow
//! retries) the panel is its timeline instead: one row per attempt with its stage bar, outcome
//! and the sleep after it (counted down while it is slept), then how the run ended.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{Chrome, block, scrolled};
use crate::engine::Stage;
use crate::tui::app::{App, Attempt, AttemptState, Focus};
use crate::tui::fmt;
use crate::tui::replay::reason_words;
use crate::tui::theme::{Status, Theme};

/// (status, outcome words, time) of one attempt.
pub(crate) fn describe(a: &Attempt, app: &App) -> (Status, String, String) {
    match &a.state {
        AttemptState::Running { since } => (
            Status::Running,
            "running".into(),
            fmt::counter(app.now.saturating_duration_since(*since)),
        ),
        AttemptState::Done { report } => {
            let v = &report.verdict;
            // Kinds are unique across layers: the kind alone names the outcome.
            let words = v.kind.map_or("ok", |k| k.name()).to_string();
            let status = if v.ok { Status::Ok } else { Status::Failed };
            (status, words, fmt::ms(report.total_ms))
        }
        AttemptState::Cancelled { after } => {
            (Status::NotRun, "cancelled".into(), fmt::duration(*after))
        }
        AttemptState::Crashed { .. } => (Status::Failed, "probe crashed".into(), String::new()),
    }
}

/// Letters of the stage bar: one per stage that took time.
fn stage_letter(stage: Stage) -> Option<char> {
    match stage {
        Stage::Dns => Some('d'),
        Stage::Tcp => Some('t'),
        Stage::Proxy => Some('p'),
        Stage::Tls => Some('s'),
        Stage::Http => Some('h'),
        Stage::Url => None,
    }
}

/// "d DNS  t TCP  p proxy  s TLS  h HTTP": what the stage bar's letters stand for.
pub(crate) fn letters_legend() -> String {
    Stage::ALL
        .iter()
        .filter_map(|s| Some(format!("{} {}", stage_letter(*s)?, s.name().to_uppercase())))
        .collect::<Vec<_>>()
        .join("  ")
}

/// The attempt's time split between its stages, `width` cells of stage letters.
pub(crate) fn stage_bar(stages: &[(Stage, Status, Option<f64>)], width: usize) -> String {
    let timed: Vec<(char, f64)> = stages
        .iter()
        .filter_map(|(n, _, ms)| Some((stage_letter(*n)?, (*ms)?)))
        .filter(|(_, ms)| *ms > 0.0)
        .collect();
    let total: f64 = timed.iter().map(|(_, ms)| ms).sum();
    let mut out = String::new();
    if total <= 0.0 {
        return " ".repeat(width);
    }
    let mut done = 0.0;
    for (c, ms) in timed {
        done += ms;
        let upto = ((done / total) * width as f64).round() as usize;
        // Every stage that took time gets at least one cell.
        let n = upto.saturating_sub(out.len()).max(1);
        out.extend(std::iter::repeat_n(c, n));
    }
    out.truncate(width);
    format!("{out:<width$}")
}

/// The timeline of a replay run: one row per attempt, the one running, then the end.
pub(crate) fn timeline(a: &Attempt, app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let width = width as usize;
    let mut out: Vec<Line<'static>> = Vec::new();
    let last = a.tries.len();
    for t in &a.tries {
        let status = if t.ok { Status::Ok } else { Status::Failed };
        let style = theme.status_style(status);
        let sleep = match (&t.sleep_after, &a.sleeping) {
            (Some(_), Some(s)) if t.number == last => {
                let left = s.until.saturating_duration_since(app.now);
                format!(
                    "sleeping {} of {} ({})",
                    fmt::counter(left),
                    fmt::duration(s.total),
                    reason_words(s.reason)
                )
            }
            (Some((d, why)), _) => format!("then {} ({})", fmt::duration(*d), reason_words(*why)),
            (None, _) => String::new(),
        };
        let outcome = fmt::truncate(&t.outcome, 18, theme.ellipsis());
        let line = format!(
            " #{:<2} {} {outcome:<18} {} {:>8}  ",
            t.number,
            theme.symbol(status, app.frame),
            stage_bar(&t.stages, 12),
            fmt::duration(t.elapsed),
        );
        let room = width.saturating_sub(fmt::width(&line));
        out.push(Line::from(vec![
            Span::styled(line, style),
            Span::styled(fmt::truncate(&sleep, room, theme.ellipsis()), theme.dim()),
        ]));
    }
    match &a.state {
        AttemptState::Running { since } => {
            if a.sleeping.is_none() {
                out.push(Line::from(Span::styled(
                    format!(
                        " #{:<2} {} running {}",
                        last + 1,
                        theme.symbol(Status::Running, app.frame),
                        fmt::counter(app.now.saturating_duration_since(*since))
                    ),
                    theme.running(),
                )));
            }
            let hint = if a.sleeping.is_some() {
                format!("waiting before attempt {}; c or Esc cancels", last + 1)
            } else {
                "c or Esc cancels".into()
            };
            out.push(Line::from(Span::styled(format!(" {hint}"), theme.dim())));
        }
        AttemptState::Done { .. } => {
            if let Some(end) = &a.end {
                let (status, text) = match end.success_on {
                    Some(k) => (
                        Status::Ok,
                        format!("success on attempt {k} after {}", fmt::duration(end.total)),
                    ),
                    None => (
                        Status::Failed,
                        format!(
                            "after {last} attempt{} ({}): {}",
                            if last == 1 { "" } else { "s" },
                            fmt::duration(end.total),
                            end.message
                        ),
                    ),
                };
                let first = format!("{} ", theme.symbol(status, 0));
                for l in fmt::wrap(&first, "  ", &theme.text(&text), width) {
                    out.push(Line::from(Span::styled(l, theme.status_style(status))));
                }
                // What other timeouts would have done to these attempts.
                if let Some(rp) = app.report().and_then(|r| r.replay.as_ref()) {
                    for w in &rp.what_if {
                        for l in fmt::wrap("  what if: ", "    ", &theme.text(w), width) {
                            out.push(Line::from(Span::styled(l, theme.dim())));
                        }
                    }
                }
            }
        }
        AttemptState::Cancelled { after } => out.push(Line::from(Span::styled(
            format!(
                "- cancelled after {last} attempt{} ({})",
                if last == 1 { "" } else { "s" },
                fmt::duration(*after)
            ),
            theme.dim(),
        ))),
        AttemptState::Crashed { message } => out.push(Line::from(Span::styled(
            format!(
                "{} probe crashed: {message}",
                theme.symbol(Status::Failed, 0)
            ),
            theme.bad(),
        ))),
    }
    out
}

/// The current run, when it is shown as a timeline.
pub(crate) fn timeline_run(app: &App) -> Option<&Attempt> {
    app.attempts.last().filter(|a| a.is_replay())
}

pub(crate) fn lines(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    if let Some(a) = timeline_run(app) {
        return timeline(a, app, theme, width);
    }
    let width = width as usize;
    let current = app.shown().map_or(0, |a| a.n);
    app.attempts
        .iter()
        .rev()
        .map(|a| {
            let (status, words, time) = describe(a, app);
            let style = theme.status_style(status);
            let pointer = if a.n == current { theme.pointer() } else { " " };
            let room = width.saturating_sub(2 + 5 + 2 + 1 + 10 + 1);
            let words = fmt::truncate(&words, room, theme.ellipsis());
            Line::from(vec![
                Span::styled(format!("{pointer} #{:<3}  ", a.n), theme.bold()),
                Span::styled(theme.symbol(status, app.frame), style),
                Span::raw(" "),
                Span::styled(format!("{words:<room$}"), style),
                Span::styled(format!(" {time:>10}"), Style::new()),
            ])
        })
        .collect()
}

pub(crate) fn render(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    theme: &Theme,
    chrome: Chrome,
) -> u16 {
    let title = match timeline_run(app) {
        Some(a) => format!(
            "Timeline of run #{} ({} policy)",
            a.n,
            a.settings.policy.name()
        ),
        None => "Attempts".to_string(),
    };
    let b = block(&title, app.focus == Focus::Attempts, chrome, theme);
    let width = chrome.inner_width(area.width);
    scrolled(
        frame,
        area,
        b,
        lines(app, theme, width),
        app.scroll.attempts,
        theme,
    )
}
