//! The runs of this session, newest first: one row per run (the first, then one per `r`),
//! with its outcome kind and total time. When the current run is a replay (its settings allow
//! retries) the panel is its timeline instead: first the run's state (the attempt under way,
//! the sleep counted down, or how the run ended), then one row per attempt with its outcome,
//! stage bar and the sleep after it.
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{Chrome, block, scrolled};
use crate::engine::Stage;
use crate::tui::app::{App, Attempt, AttemptState, Focus};
use crate::tui::fmt;
use crate::tui::replay::{TrySummary, reason_words};
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

/// The outcome column's width: the longest kind shown, whole when there is room.
fn outcome_width(a: &Attempt) -> usize {
    a.tries
        .iter()
        .map(|t| fmt::width(&t.outcome))
        .max()
        .unwrap_or(8)
        .clamp(8, 32)
}

/// What the timeline says after attempt `t`: the sleep the policy chose, or how far it ran
/// when the run was cancelled during it.
fn sleep_words(t: &TrySummary, a: &Attempt, last: bool) -> String {
    match (&t.sleep_after, a.sleep_cut) {
        (Some((d, _)), Some(slept)) if last => format!(
            "slept {} of {}, cancelled",
            fmt::duration(slept),
            fmt::duration(*d),
        ),
        (Some((d, why)), _) => format!("then {} ({})", fmt::duration(*d), reason_words(*why)),
        (None, _) => String::new(),
    }
}

/// One row per attempt: number, symbol, outcome, stage bar, time, then the sleep after it.
fn try_rows(a: &Attempt, app: &App, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let outcome_w = outcome_width(a);
    let last = a.tries.len();
    let sleeps: Vec<String> = a
        .tries
        .iter()
        .map(|t| sleep_words(t, a, t.number == last))
        .collect();
    // The bar gives way first to the words after it; it grows a little on wide panels.
    let fixed = 5 + 2 + outcome_w + 1 + 1 + 8 + 2;
    let longest_sleep = sleeps.iter().map(|w| fmt::width(w)).max().unwrap_or(0);
    let bar_w = width.saturating_sub(fixed + longest_sleep).clamp(6, 16);
    a.tries
        .iter()
        .zip(sleeps)
        .map(|(t, sleep)| {
            let status = if t.ok { Status::Ok } else { Status::Failed };
            let outcome = fmt::truncate(&t.outcome, outcome_w, theme.ellipsis());
            let line = format!(
                " #{:<2} {} {outcome:<outcome_w$} {} {:>8}  ",
                t.number,
                theme.symbol(status, app.frame),
                stage_bar(&t.stages, bar_w),
                fmt::duration(t.elapsed),
            );
            let room = width.saturating_sub(fmt::width(&line));
            Line::from(vec![
                Span::styled(line, theme.status_style(status)),
                Span::styled(fmt::truncate(&sleep, room, theme.ellipsis()), theme.dim()),
            ])
        })
        .collect()
}

/// The run's state, the lines a person looks for first: while it runs, the attempt under way
/// or the sleep counted down; once over, how it ended (requests' words).
pub(crate) fn head_lines(a: &Attempt, app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let width = width as usize;
    let last = a.tries.len();
    let plural = if last == 1 { "" } else { "s" };
    let mut out = Vec::new();
    let mut push_wrapped = |status: Status, text: &str, style| {
        let first = format!("{} ", theme.symbol(status, app.frame));
        for l in fmt::wrap(&first, "  ", &theme.text(text), width) {
            out.push(Line::from(Span::styled(l, style)));
        }
    };
    match &a.state {
        AttemptState::Running { since } => {
            let text = match &a.sleeping {
                Some(s) => format!(
                    "sleeping {} of {} ({}) before attempt {}; c or Esc cancels",
                    fmt::counter(s.until.saturating_duration_since(app.now)),
                    fmt::duration(s.total),
                    reason_words(s.reason),
                    last + 1
                ),
                None => {
                    // This attempt's own clock: from its first stage, else the run's start.
                    let began = app
                        .live
                        .iter()
                        .filter_map(|s| s.started)
                        .min()
                        .unwrap_or(*since);
                    format!(
                        "attempt {} running {}; c or Esc cancels",
                        last + 1,
                        fmt::counter(app.now.saturating_duration_since(began))
                    )
                }
            };
            push_wrapped(Status::Running, &text, theme.running());
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
                            "after {last} attempt{plural} ({}): {}",
                            fmt::duration(end.total),
                            end.message
                        ),
                    ),
                };
                push_wrapped(status, &text, theme.status_style(status));
            }
        }
        AttemptState::Cancelled { after } => push_wrapped(
            Status::NotRun,
            &format!(
                "cancelled after {last} attempt{plural} ({})",
                fmt::duration(*after)
            ),
            theme.dim(),
        ),
        AttemptState::Crashed { message } => push_wrapped(
            Status::Failed,
            &format!("probe crashed: {message}"),
            theme.bad(),
        ),
    }
    out
}

/// The timeline of a replay run: the run's state first (it stays in view however small the
/// panel), then one row per attempt, then what other timeouts would have done.
pub(crate) fn timeline(a: &Attempt, app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let mut out = head_lines(a, app, theme, width);
    out.extend(try_rows(a, app, theme, width as usize));
    if matches!(a.state, AttemptState::Done { .. })
        && let Some(rp) = app.report().and_then(|r| r.replay.as_ref())
    {
        for w in &rp.what_if {
            for l in fmt::wrap("  what if: ", "    ", &theme.text(w), width as usize) {
                out.push(Line::from(Span::styled(l, theme.dim())));
            }
        }
    }
    out
}

/// The current run, when it is shown as a timeline.
pub(crate) fn timeline_run(app: &App) -> Option<&Attempt> {
    app.attempts.last().filter(|a| a.is_replay())
}

/// Columns the list of runs needs to show every outcome whole.
pub(crate) fn runs_width(app: &App) -> u16 {
    let longest = app
        .attempts
        .iter()
        .map(|a| fmt::width(&describe(a, app).1))
        .max()
        .unwrap_or(0);
    (2 + 5 + 2 + 1 + longest + 1 + 10) as u16
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
        None => "Runs".to_string(),
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
