//! The `C`/`v` overlay: the session's runs side by side, up to four at a time (←/→ move). The
//! settings that differ between the runs shown are marked `*` and bold; then each run's
//! attempts, outcome and total time.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Chrome, block};
use crate::tui::app::{App, Attempt, AttemptState};
use crate::tui::fmt;
use crate::tui::replay::compare_rows;
use crate::tui::theme::Theme;

/// Runs shown at once.
pub(crate) const SHOWN: usize = 4;
const LABEL: usize = 22;
const COL: usize = 13;

/// (attempts, outcome, total) of one run.
pub(crate) fn summary(a: &Attempt, app: &App) -> (String, String, String) {
    let tries = if a.tries.is_empty() {
        usize::from(matches!(a.state, AttemptState::Done { .. }))
    } else {
        a.tries.len()
    };
    let (outcome, total) = match &a.state {
        AttemptState::Running { since } => (
            "running".to_string(),
            fmt::counter(app.now.saturating_duration_since(*since)),
        ),
        AttemptState::Done { report } => {
            let words = match (&a.end, &report.verdict.kind) {
                (Some(end), _) if end.success_on.is_some() => "ok".to_string(),
                (_, Some(k)) => k.name().to_string(),
                (_, None) => "ok".to_string(),
            };
            let total = match &a.end {
                Some(end) => fmt::duration(end.total),
                None => fmt::ms(report.total_ms),
            };
            (words, total)
        }
        AttemptState::Cancelled { after } => ("cancelled".into(), fmt::duration(*after)),
        AttemptState::Crashed { .. } => ("crashed".into(), String::new()),
    };
    (tries.to_string(), outcome, total)
}

/// A column wide enough for the longest value of the runs shown, narrowed so that as many of
/// them fit in `width` as can (never below [`COL`]).
fn column_width(runs: &[&Attempt], app: &App, width: u16) -> usize {
    let longest = runs
        .iter()
        .flat_map(|a| {
            let (tries, outcome, total) = summary(a, app);
            compare_rows(&a.settings)
                .into_iter()
                .map(|(_, v)| fmt::width(&v))
                .chain([tries.len(), fmt::width(&outcome), fmt::width(&total)])
                .collect::<Vec<_>>()
        })
        .max()
        .unwrap_or(0);
    let share = (width as usize).saturating_sub(LABEL) / runs.len().clamp(1, SHOWN);
    (longest + 2).min(share).max(COL)
}

/// How many runs fit side by side in `width` columns, from `first` on.
pub(crate) fn fitting(app: &App, first: usize, width: u16) -> usize {
    let runs: Vec<&Attempt> = app.attempts.iter().skip(first).take(SHOWN).collect();
    let col = column_width(&runs, app, width);
    ((width as usize).saturating_sub(LABEL) / col).clamp(1, SHOWN)
}

pub(crate) fn lines(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let first = app.compare_first().unwrap_or(0);
    let runs: Vec<&Attempt> = app.attempts.iter().skip(first).take(SHOWN).collect();
    let col = column_width(&runs, app, width);
    let cols = ((width as usize).saturating_sub(LABEL) / col).clamp(1, SHOWN);
    let runs = &runs[..runs.len().min(cols)];
    let cell = |s: &str| format!("{:<col$}", fmt::truncate(s, col - 1, theme.ellipsis()));
    let mut out = Vec::new();
    let mut head = format!("  {:<w$}", "run", w = LABEL - 2);
    for a in runs {
        head.push_str(&cell(&format!("#{}", a.n)));
    }
    out.push(Line::from(Span::styled(head, theme.title())));
    let rows: Vec<Vec<(&'static str, String)>> =
        runs.iter().map(|a| compare_rows(&a.settings)).collect();
    let n = rows.first().map(|r| r.len()).unwrap_or(0);
    for i in 0..n {
        let label = rows[0][i].0;
        let values: Vec<&String> = rows.iter().map(|r| &r[i].1).collect();
        let differs = values.iter().any(|v| *v != values[0]);
        let mark = if differs { "* " } else { "  " };
        let mut text = format!("{mark}{label:<w$}", w = LABEL - 2);
        for v in values {
            text.push_str(&cell(v));
        }
        let style = if differs { theme.bold() } else { Style::new() };
        out.push(Line::from(Span::styled(text, style)));
    }
    let sums: Vec<(String, String, String)> = runs.iter().map(|a| summary(a, app)).collect();
    for (label, pick) in [("attempts", 0usize), ("outcome", 1), ("total time", 2)] {
        let mut text = format!("  {label:<w$}", w = LABEL - 2);
        for s in &sums {
            let v = match pick {
                0 => &s.0,
                1 => &s.1,
                _ => &s.2,
            };
            text.push_str(&cell(v));
        }
        out.push(Line::from(Span::styled(text, theme.title())));
    }
    out
}

/// The overlay takes the terminal's width, up to what the runs shown need.
pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let inner_max = Chrome::Boxed.inner_width(area.width);
    // What the app's ←/→ may move to: the last run stays the rightmost column.
    app.compare_fit
        .set(fitting(app, app.compare.unwrap_or(0), inner_max));
    let first = app.compare_first().unwrap_or(0);
    let shown = fitting(app, first, inner_max).min(app.attempts.len().saturating_sub(first));
    let runs: Vec<&Attempt> = app.attempts.iter().skip(first).take(shown).collect();
    let needed = (LABEL + column_width(&runs, app, inner_max) * shown.max(1) + 2) as u16;
    let w = needed.max(60).min(area.width);
    let lines = lines(app, theme, Chrome::Boxed.inner_width(w));
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = super::centred(area, w, h);
    frame.render_widget(Clear, rect);
    let arrows = if theme.ascii { "<-/->" } else { "←/→" };
    let title = format!(
        "Compare runs #{}–#{} of {} ({arrows} move, * differs)",
        first + 1,
        first + shown,
        app.attempts.len()
    );
    let b = block(&title, true, Chrome::Boxed, theme);
    frame.render_widget(Paragraph::new(lines).block(b), rect);
}
