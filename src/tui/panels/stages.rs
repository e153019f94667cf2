//! The stage pipeline: one row per stage with a status symbol and word, a live counter while it
//! runs, a bar proportional to its time and a one-line summary. Rows are generic: any stage the
//! engine reports gets a row; known details only make the summary sharper.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Chrome, block};
use crate::engine::Stage;
use crate::engine::verdict::Kind;
use crate::report::model::{
    ConnectResult, DnsSourceKind, StageDetail, StageReport, StageStatus, TcpDetail, TlsDetail,
};
use crate::tui::app::{App, Focus};
use crate::tui::fmt;
use crate::tui::theme::{Status, Theme};

/// A row as drawn, whichever source it came from.
pub(crate) struct RowView {
    pub stage: Stage,
    /// "TCP → proxy" when a proxy is used.
    pub label: String,
    pub status: Status,
    pub elapsed: Option<Duration>,
    pub summary: String,
}

pub(crate) fn rows(app: &App) -> Vec<RowView> {
    let wanted = app.rows();
    let keep = |stage: Stage| wanted.iter().any(|(n, _)| *n == stage);
    match app.shown_report() {
        Some(r) => r
            .stages
            .iter()
            .filter(|s| keep(s.stage))
            .map(|s| RowView {
                stage: s.stage,
                label: app.stage_label(s.stage),
                status: Status::from(s.status),
                elapsed: s.elapsed_ms.map(|ms| Duration::from_secs_f64(ms / 1000.0)),
                summary: match summary_line(s) {
                    line if line.is_empty() => crate::report::words::row_summary(r, s).into(),
                    line => line,
                },
            })
            .collect(),
        None if app.viewing_older() => Vec::new(),
        None => app
            .live
            .iter()
            .filter(|s| keep(s.stage))
            .map(|s| RowView {
                stage: s.stage,
                label: app.stage_label(s.stage),
                status: s.status,
                // A running stage counts up from its start: the live counter.
                elapsed: match (s.status, s.started) {
                    (Status::Running, Some(t)) => Some(app.now.saturating_duration_since(t)),
                    _ => s.elapsed,
                },
                summary: s.summary.clone(),
            })
            .collect(),
    }
}

/// The row's one line. Known details give a sharper sentence than the report's summary; every
/// other stage (one the engine adds later too) keeps the report's own.
pub(crate) fn summary_line(s: &StageReport) -> String {
    let sharper = match (&s.detail, s.status) {
        (Some(StageDetail::Dns(d)), StageStatus::Ok) => {
            let mut out = match d.addresses.as_slice() {
                [one] => one.clone(),
                many => format!("{} addresses", many.len()),
            };
            if let Some(last) = d.cname_chain.last() {
                out.push_str(&format!(", CNAME → {last}"));
            }
            match d.source {
                DnsSourceKind::HostsFile => out.push_str(" (hosts file)"),
                DnsSourceKind::ResolveFlag => out.push_str(" (--resolve)"),
                DnsSourceKind::IpLiteral | DnsSourceKind::Servers => {}
            }
            Some(out)
        }
        (Some(StageDetail::Tcp(t)), StageStatus::Failed) => tcp_failure(t),
        (Some(StageDetail::Tls(t)), StageStatus::Failed) => tls_failure(t),
        _ => None,
    };
    sharper.unwrap_or_else(|| s.summary.clone())
}

fn tcp_failure(t: &TcpDetail) -> Option<String> {
    let last = t.attempts.last()?;
    let ConnectResult::Failed(kind) = last.result else {
        return None;
    };
    let mut out = match kind {
        Kind::ConnectionRefused => format!("refused by {}", last.address),
        Kind::ConnectTimeout => format!("no answer from {} (connect timeout)", last.address),
        Kind::HostUnreachable => format!("{}: host unreachable", last.address),
        Kind::NetworkUnreachable => format!("{}: no route to the network", last.address),
        _ => return None,
    };
    if t.attempts.len() > 1 {
        out.push_str(&format!(", {} addresses tried", t.attempts.len()));
    }
    Some(out)
}

fn days(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

fn tls_failure(t: &TlsDetail) -> Option<String> {
    let leaf = t.chain.first();
    Some(match t.verification_error_kind? {
        Kind::CertExpired => match leaf.map(|c| c.days_left) {
            Some(d) if d < 0 => format!("certificate expired {} ago", days(-d)),
            _ => "certificate expired".into(),
        },
        Kind::CertNotYetValid => match leaf.map(|c| c.days_left) {
            Some(_) => format!(
                "certificate not valid until {}",
                leaf.map(|c| c.not_before.as_str()).unwrap_or("later")
            ),
            None => "certificate not valid yet".into(),
        },
        Kind::CertNameMismatch => format!(
            "certificate not valid for {}",
            t.server_name.as_deref().unwrap_or("this name")
        ),
        Kind::CertSelfSigned => "self-signed certificate, not trusted".into(),
        Kind::CertUnknownIssuer => "certificate issuer not trusted".into(),
        _ => return None,
    })
}

/// Layout constants of a row, shared by the lines and the tests.
const NAME: usize = 5;
const WORD: usize = 7;
const TIME: usize = 8;

fn bar_width(width: usize) -> usize {
    (width / 7).clamp(6, 24)
}

pub(crate) fn lines(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let width = width as usize;
    let rows = rows(app);
    let selected = app.selected();
    let longest = rows
        .iter()
        .filter_map(|r| r.elapsed)
        .max()
        .unwrap_or(Duration::ZERO)
        .as_secs_f64();
    let bar_w = bar_width(width);
    // "TCP → proxy" is wider than "PROXY": the name column fits the widest label.
    let name_w = rows
        .iter()
        .map(|r| fmt::width(&theme.text(&r.label)))
        .max()
        .unwrap_or(0)
        .max(NAME);
    let fixed = 2 + name_w + 1 + 1 + 1 + WORD + 1 + TIME + 2 + bar_w + 2;
    let room = width.saturating_sub(fixed);
    rows.iter()
        .map(|r| {
            let is_sel = selected == Some(r.stage);
            let style = theme.status_style(r.status);
            let time = match (r.status, r.elapsed) {
                (Status::Running, Some(d)) => fmt::counter(d),
                (_, Some(d)) => fmt::duration(d),
                _ => String::new(),
            };
            let bar = match r.elapsed {
                Some(d) if longest > 0.0 => theme.bar(d.as_secs_f64() / longest, bar_w),
                _ => String::new(),
            };
            let pointer = if is_sel { theme.pointer() } else { " " };
            let name = format!("{pointer} {:<name_w$}", theme.text(&r.label));
            let mut name_style = theme.bold();
            if is_sel && app.focus == Focus::Stages {
                name_style = theme.selected();
            }
            let summary = fmt::truncate(&theme.text(&r.summary), room, theme.ellipsis());
            Line::from(vec![
                Span::styled(name, name_style),
                Span::raw(" "),
                Span::styled(theme.symbol(r.status, app.frame), style),
                Span::raw(" "),
                Span::styled(format!("{:<WORD$}", Theme::word(r.status)), style),
                Span::raw(" "),
                Span::raw(format!("{time:>TIME$}")),
                Span::raw("  "),
                Span::styled(format!("{bar:<bar_w$}"), style),
                Span::raw("  "),
                Span::raw(summary),
            ])
        })
        .collect()
}

pub(crate) fn height(app: &App, chrome: Chrome) -> u16 {
    rows(app).len() as u16 + chrome.overhead()
}

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, chrome: Chrome) {
    let title = match (app.viewed, app.hops) {
        (Some(n), _) if app.viewing_older() => format!("Stages of attempt #{n} (↑↓ on Attempts)"),
        (_, 0) => "Stages".to_string(),
        (_, n) => format!("Stages (redirect {n})"),
    };
    let b = block(&title, app.focus == Focus::Stages, chrome, theme);
    let width = chrome.inner_width(area.width);
    frame.render_widget(Paragraph::new(lines(app, theme, width)).block(b), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{ConnectAttemptReport, DnsDetail};

    fn stage(stage: Stage, status: StageStatus, detail: Option<StageDetail>) -> StageReport {
        StageReport {
            stage,
            status,
            elapsed_ms: Some(1.0),
            summary: "the report's own summary".into(),
            detail,
        }
    }

    #[test]
    fn dns_rows_count_addresses_and_name_the_cname_target() {
        let d = DnsDetail {
            name: "api.example.test".into(),
            source: DnsSourceKind::Servers,
            servers: vec!["127.0.0.1:53".into()],
            servers_from: Some("/etc/resolv.conf".into()),
            queries: Vec::new(),
            addresses: vec!["127.0.0.1".into(), "127.0.0.2".into(), "::1".into()],
            cname_chain: vec!["edge.cdn.test.".into()],
            order: None,
        };
        let s = stage(Stage::Dns, StageStatus::Ok, Some(StageDetail::Dns(d)));
        assert_eq!(summary_line(&s), "3 addresses, CNAME → edge.cdn.test.");
    }

    #[test]
    fn tcp_failures_name_the_address_that_refused() {
        let attempt = |addr: &str| ConnectAttemptReport {
            address: addr.into(),
            result: ConnectResult::Failed(Kind::ConnectionRefused),
            elapsed_ms: 0.1,
            error: Some("Connection refused (os error 111)".into()),
            os_errno: Some(111),
        };
        let t = TcpDetail {
            attempts: vec![attempt("[::1]:443"), attempt("127.0.0.1:443")],
            peer: None,
            local: None,
        };
        let s = stage(Stage::Tcp, StageStatus::Failed, Some(StageDetail::Tcp(t)));
        assert_eq!(
            summary_line(&s),
            "refused by 127.0.0.1:443, 2 addresses tried"
        );
    }

    #[test]
    fn other_stages_keep_the_reports_summary() {
        let s = stage(Stage::Proxy, StageStatus::Ok, None);
        assert_eq!(summary_line(&s), "the report's own summary");
        let s = stage(Stage::Tcp, StageStatus::Ok, None);
        assert_eq!(summary_line(&s), "the report's own summary");
    }
}
