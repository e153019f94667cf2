//! The header: method and URL, the effective settings (the one place that reads them from the
//! engine's `ProbeSettings`), and the attempt counter.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::engine::ProbeSettings;
use crate::engine::settings::{CaSource, IpFamily};
use crate::tui::app::{App, AttemptState};
use crate::tui::fmt;
use crate::tui::theme::Theme;

/// One setting as shown; `alert` ones (insecure) are red and spelled out in capitals.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub text: String,
    pub alert: bool,
}

/// The timeouts, for "bounded by …" while a stage runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub dns: Duration,
}

/// What the header shows, computed once: settings do not change between attempts.
#[derive(Clone, Debug, PartialEq)]
pub struct HeaderInfo {
    pub method: String,
    /// Password masked.
    pub url: String,
    pub settings: Vec<Setting>,
    pub timeouts: Timeouts,
}

fn plain(text: String) -> Setting {
    Setting { text, alert: false }
}

impl HeaderInfo {
    pub fn from_settings(s: &ProbeSettings) -> HeaderInfo {
        let mut settings = vec![
            plain(format!("connect {}", fmt::secs(s.connect_timeout))),
            plain(format!("read {}", fmt::secs(s.read_timeout))),
            plain(format!("dns {}", fmt::secs(s.dns_timeout))),
        ];
        if let Some(m) = s.max_time {
            settings.push(plain(format!("max-time {}", fmt::secs(m))));
        }
        // The redirect policy (requests follows up to 30).
        settings.push(plain(if s.follow_redirects {
            format!("max {} redirects", s.max_redirects)
        } else {
            "redirects not followed".into()
        }));
        if s.http2 {
            settings.push(plain("HTTP/2 offered".into()));
        }
        settings.push(plain(match s.dns_server {
            Some(d) => format!("resolver {d} (--dns)"),
            None => "resolver system".into(),
        }));
        for r in &s.resolve {
            let addrs: Vec<String> = r.addrs.iter().map(|a| a.to_string()).collect();
            settings.push(plain(format!(
                "--resolve {}:{}:{}",
                r.host,
                r.port,
                addrs.join(",")
            )));
        }
        match s.family {
            IpFamily::Any => {}
            IpFamily::V4 => settings.push(plain("IPv4 only".into())),
            IpFamily::V6 => settings.push(plain("IPv6 only".into())),
        }
        settings.push(plain(match &s.ca.source {
            CaSource::BuiltIn => "CA built-in roots".into(),
            CaSource::Bundle { path, from } => format!("CA {} ({from})", path.display()),
        }));
        settings.push(plain(proxy_words(s)));
        if s.insecure {
            settings.push(Setting {
                text: "INSECURE: certificates not verified (-k)".into(),
                alert: true,
            });
        }
        HeaderInfo {
            method: s.method.clone(),
            url: crate::redact::url(&s.url),
            settings,
            timeouts: Timeouts {
                connect: s.connect_timeout,
                read: s.read_timeout,
                dns: s.dns_timeout,
            },
        }
    }
}

/// The proxy in a few words (credentials are already masked in `display`).
fn proxy_words(s: &ProbeSettings) -> String {
    match &s.proxy.proxy {
        Some(p) => match &s.proxy.source {
            Some(from) => format!("proxy {} ({from})", p.display),
            None => format!("proxy {}", p.display),
        },
        None => "no proxy".into(),
    }
}

/// "attempt 2 · running 1.2 s" / "attempt 1 · 3.8 ms".
fn attempt_words(app: &App, theme: &Theme) -> (String, ratatui::style::Style) {
    let Some(a) = app.attempts.last() else {
        return (String::new(), theme.dim());
    };
    let sep = theme.sep();
    match &a.state {
        AttemptState::Running { since } => (
            format!(
                "attempt {}{sep}running {}",
                a.n,
                fmt::counter(app.now.saturating_duration_since(*since))
            ),
            theme.running(),
        ),
        AttemptState::Done { report } => {
            let style = if report.verdict.ok {
                theme.ok()
            } else {
                theme.bad()
            };
            let word = if report.verdict.ok { "ok" } else { "failed" };
            (
                format!("attempt {}{sep}{word} in {}", a.n, fmt::ms(report.total_ms)),
                style,
            )
        }
        AttemptState::Cancelled { .. } => (format!("attempt {}{sep}cancelled", a.n), theme.dim()),
        AttemptState::Crashed { .. } => (format!("attempt {}{sep}probe crashed", a.n), theme.bad()),
    }
}

pub fn lines(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let width = width as usize;
    let h = &app.header;
    let (attempt, attempt_style) = attempt_words(app, theme);
    let first = format!("netpeel {} ", h.method);
    // The URL is vital: it wraps rather than being cut.
    let room = width.saturating_sub(fmt::width(&attempt) + 2);
    let url = theme.text(&h.url).into_owned();
    let url_lines = fmt::wrap(&first, "  ", &url, room.max(20));
    let mut out = Vec::new();
    for (i, l) in url_lines.into_iter().enumerate() {
        let mut spans = vec![Span::styled(l.clone(), theme.bold())];
        if i == 0 {
            let pad = width.saturating_sub(fmt::width(&l) + fmt::width(&attempt));
            spans.push(Span::raw(" ".repeat(pad)));
            spans.push(Span::styled(attempt.clone(), attempt_style));
        }
        out.push(Line::from(spans));
    }
    // Settings are packed whole onto as many lines as they need (commas: narrower than dots).
    let sep = ", ";
    let mut line: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for s in &h.settings {
        let text = theme.text(&s.text).into_owned();
        let w = fmt::width(&text);
        let extra = if used == 0 { 0 } else { fmt::width(sep) };
        if used > 0 && used + extra + w > width {
            out.push(Line::from(std::mem::take(&mut line)));
            used = 0;
        }
        if used > 0 {
            line.push(Span::styled(sep, theme.dim()));
            used += fmt::width(sep);
        }
        let style = if s.alert { theme.bad() } else { theme.dim() };
        let text = fmt::truncate(&text, width, theme.ellipsis());
        used += fmt::width(&text);
        line.push(Span::styled(text, style));
    }
    if !line.is_empty() {
        out.push(Line::from(line));
    }
    out
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    frame.render_widget(Paragraph::new(lines(app, theme, area.width)), area);
}
