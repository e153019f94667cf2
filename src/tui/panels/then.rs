//! The "then" panel, above the stages once a pasted error is explained (`p`, or `netpeel
//! explain FILE` at a terminal): what the paste says (the kind it maps to, the target, proxy
//! and timeouts, the usual causes) and "now", the probe's verdict against it, in the words of
//! `netpeel explain`'s report (`report::explain`'s model; its `compare`).
//!
//! Its lines come most telling first, so that the compact panel (80×24: four lines) shows the
//! head of the same list that `Enter` shows whole.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{Chrome, block, scrolled};
use crate::report::explain::{short_chain, timeouts_words};
use crate::report::model::{Comparison, ComparisonReport, ExplainedReport};
use crate::tui::app::{App, AttemptState, Focus};
use crate::tui::fmt;
use crate::tui::paste::{Then, ThenProbe};
use crate::tui::theme::{Status, Theme};

/// Lines the compact panel shows (80×24), and beside the runs from 100×30.
pub(crate) const COMPACT_ROWS: u16 = 4;
pub(crate) const WIDE_ROWS: u16 = 6;

/// The label column: "then  ", "now   ".
const LABEL: usize = 6;

/// "TCP / connection_refused".
pub(crate) fn kind_words(x: &ExplainedReport) -> String {
    format!("{} / {}", x.layer.name().to_uppercase(), x.kind.name())
}

/// "now": where the paste's probe stands, and its style.
fn now_words(app: &App, then: &Then, theme: &Theme) -> (String, Style) {
    let run = app.attempts.last();
    match (&then.probe, run.map(|a| &a.state)) {
        (ThenProbe::NotProbed(why), _) => (why.clone(), theme.warn()),
        (ThenProbe::Starting, _) => ("starting the probe…".into(), theme.dim()),
        (ThenProbe::From(_), Some(AttemptState::Running { .. })) => (
            format!(
                "{} probing {}",
                theme.symbol(Status::Running, app.frame),
                then.url
            ),
            theme.running(),
        ),
        (ThenProbe::From(_), Some(AttemptState::Done { report })) => {
            match then.now(app.attempt(), report) {
                Some(c) => comparison_words(&c, theme),
                None => ("not probed".into(), theme.dim()),
            }
        }
        (ThenProbe::From(_), Some(AttemptState::Crashed { .. })) => {
            ("no verdict: the probe stopped".into(), theme.bad())
        }
        (ThenProbe::From(_), _) => ("cancelled: r probes again".into(), theme.dim()),
    }
}

fn comparison_words(c: &ComparisonReport, theme: &Theme) -> (String, Style) {
    let (label, style) = match c.outcome {
        Comparison::Same => (
            format!("{} same failure", theme.symbol(Status::Failed, 0)),
            theme.bad(),
        ),
        Comparison::Different => ("different now".to_string(), theme.warn()),
        Comparison::Succeeded => (
            format!("{} succeeds now", theme.symbol(Status::Ok, 0)),
            theme.ok(),
        ),
        Comparison::NotProbed => ("not probed".to_string(), theme.dim()),
    };
    (format!("{label}: {}", c.summary), style)
}

/// The panel's items, most telling first: (label, text, style). Each is one line in the
/// compact panel, wrapped in full when expanded.
fn items(app: &App, then: &Then, theme: &Theme) -> Vec<(&'static str, String, Style)> {
    let x = &then.shown;
    let mut head = kind_words(x);
    if let Some(raised) = &x.requests_exception {
        head.push_str(&format!(" · {raised}"));
    }
    let mut target = x.url.clone().unwrap_or_else(|| "no URL in the text".into());
    if let Some(proxy) = &x.proxy {
        target.push_str(&format!(" · proxy {proxy}"));
    }
    let timeouts = timeouts_words(&x.timeouts_s);
    if !timeouts.is_empty() {
        target.push_str(&format!(" · {timeouts}"));
    }
    let (now, now_style) = now_words(app, then, theme);
    // "now" before the target: on a short terminal the panel keeps its first lines.
    let mut out = vec![
        ("then", head, theme.bad().patch(theme.bold())),
        ("now", now, now_style),
        ("", target, Style::new()),
    ];
    for (i, cause) in x.causes.iter().enumerate() {
        out.push(("", format!("{}. {cause}", i + 1), Style::new()));
    }
    out.push(("", x.summary.clone(), theme.dim()));
    let from = match x.exception_chain.len() {
        0 => x.source_library.name().to_string(),
        _ => format!(
            "{}: {}",
            x.source_library.name(),
            short_chain(&x.exception_chain)
        ),
    };
    out.push(("from", from, theme.dim()));
    if let Some(os) = &x.os_error {
        let errno = os
            .errno
            .map(|n| format!("[errno {n}] "))
            .unwrap_or_default();
        out.push(("cause", format!("{errno}{}", os.message), theme.dim()));
    }
    for note in &x.notes {
        out.push(("note", note.clone(), theme.dim()));
    }
    if let Some(c) = app.report().and_then(|r| then.now(app.attempt(), r)) {
        for s in c.suggestions {
            out.push(("try", s, Style::new()));
        }
    }
    out
}

/// The panel's lines for `width` columns: one per item, or every item wrapped (`whole`).
pub(crate) fn lines(app: &App, theme: &Theme, width: u16, whole: bool) -> Vec<Line<'static>> {
    let Some(then) = &app.then else {
        return Vec::new();
    };
    let width = width as usize;
    let mut out = Vec::new();
    for (label, text, style) in items(app, then, theme) {
        let first = format!("{label:<LABEL$}");
        let text = theme.text(&text).into_owned();
        if whole {
            for l in fmt::wrap(&first, &" ".repeat(LABEL), &text, width) {
                out.push(Line::from(Span::styled(l, style)));
            }
        } else {
            let l = fmt::truncate(&format!("{first}{text}"), width, theme.ellipsis());
            out.push(Line::from(Span::styled(l, style)));
        }
    }
    out
}

/// The panel's height for `rows` lines of content (the compact panel), 0 without a paste.
pub(crate) fn height(app: &App, chrome: Chrome, rows: u16) -> u16 {
    match app.then {
        Some(_) => rows + chrome.overhead(),
        None => 0,
    }
}

/// Draw the panel; whole (scrolling) when it has the body (`Enter`). Returns the largest
/// scroll offset.
pub(crate) fn render(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    theme: &Theme,
    chrome: Chrome,
) -> u16 {
    if area.height == 0 {
        return 0;
    }
    let focused = app.focus == Focus::Then;
    let whole = focused && app.expanded;
    let title = if whole {
        "Then: the pasted error, and now"
    } else {
        "Then: the pasted error (Tab here, Enter: all)"
    };
    let width = chrome.inner_width(area.width);
    let lines = lines(app, theme, width, whole);
    let b = block(title, focused, chrome, theme);
    if whole {
        return scrolled(frame, area, b, lines, app.scroll.then, theme);
    }
    let inner = b.inner(area);
    let shown: Vec<Line<'static>> = lines.into_iter().take(inner.height as usize).collect();
    frame.render_widget(ratatui::widgets::Paragraph::new(shown).block(b), area);
    0
}
