//! The dashboard's replay state, kept pure like [`super::app`]: what one attempt of a run looks
//! like on the timeline ([`TrySummary`]), the sleep being counted down, how a run ended, and
//! the settings editor ([`Editor`], [`Field`]): selection, `+`/`-` steps and typed values.

use std::time::{Duration, Instant};

use crate::replay::budget::worst_case;
use crate::replay::policy::SleepReason;
// The editor's fields are the settings' own; the dashboard names them from here.
pub use crate::replay::settings::Field;
use crate::replay::settings::{ReplaySettings, SettingError};
use crate::report::Report;

use super::theme::Status;
use crate::engine::Stage;

/// One attempt of a run, as the timeline shows it (built from the engine's outcome by the
/// loop, so the app never sees the network).
#[derive(Clone, Debug, PartialEq)]
pub struct TrySummary {
    /// 1 for the first attempt of the run.
    pub number: usize,
    pub ok: bool,
    /// "HTTP 503", or the verdict's kind ("connection_refused").
    pub outcome: String,
    /// (stage, status, milliseconds) in the engine's order.
    pub stages: Vec<(Stage, Status, Option<f64>)>,
    pub elapsed: Duration,
    /// The sleep the policy chose before the next attempt.
    pub sleep_after: Option<(Duration, SleepReason)>,
}

impl TrySummary {
    pub fn from_report(
        number: usize,
        report: &Report,
        status: Option<u16>,
        elapsed: Duration,
        sleep_after: Option<(Duration, SleepReason)>,
    ) -> TrySummary {
        let outcome = match (status, &report.verdict.kind) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(k)) => k.name().to_string(),
            (None, None) => "ok".into(),
        };
        TrySummary {
            number,
            ok: report.verdict.ok,
            outcome,
            stages: report
                .stages
                .iter()
                .map(|s| (s.stage, Status::from(s.status), s.elapsed_ms))
                .collect(),
            elapsed,
            sleep_after,
        }
    }

    /// An attempt of a replay run, as `replay::run::run` hands it to its callback.
    pub fn from_attempt(a: &crate::replay::run::Attempt) -> TrySummary {
        let report = crate::report::build(&a.outcome);
        TrySummary::from_report(
            a.number,
            &report,
            a.record.status,
            a.record.elapsed,
            a.sleep_after,
        )
    }
}

/// "backoff 2", "Retry-After".
pub fn reason_words(r: SleepReason) -> String {
    match r {
        SleepReason::Backoff(n) => format!("backoff {n}"),
        SleepReason::RetryAfter => "Retry-After".into(),
    }
}

/// The sleep between two attempts, counted down on the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Sleeping {
    pub until: Instant,
    pub total: Duration,
    pub reason: SleepReason,
}

/// How a replay run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RunEnd {
    /// The attempt that succeeded, if the last one did.
    pub success_on: Option<usize>,
    /// `StopOutcome::message`: requests' wording.
    pub message: String,
    pub total: Duration,
}

/// Whether these settings can make more than one attempt: then `r` runs a replay and the
/// timeline replaces the list of runs.
pub fn is_replay(s: &ReplaySettings) -> bool {
    let b = worst_case(s);
    b.unbounded || b.max_attempts > 1
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Cycled with ←/→, space, +/-.
    Choice,
    Number,
    Text,
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn num(v: f64) -> String {
    format!("{}", round3(v))
}

fn secs(d: Duration) -> String {
    format!("{} s", num(d.as_secs_f64()))
}

fn count(c: Option<u32>) -> String {
    c.map(|n| n.to_string()).unwrap_or_else(|| "none".into())
}

/// The dashboard's side of a settings field: how it shows and how the editor drives it. What a
/// field accepts is decided by the settings alone ([`ReplaySettings::set_field`]), the same
/// check the command line's flags go through.
impl Field {
    pub fn kind(self) -> FieldKind {
        match self {
            Field::Policy | Field::RetryAfter => FieldKind::Choice,
            Field::Method | Field::Forcelist | Field::AllowedMethods => FieldKind::Text,
            _ => FieldKind::Number,
        }
    }

    /// The value as shown (and as editing starts from).
    pub fn value(self, s: &ReplaySettings) -> String {
        match self {
            Field::Policy => s.policy.name().into(),
            Field::Method => s.method.clone(),
            Field::ConnectTimeout => secs(s.connect_timeout),
            Field::ReadTimeout => secs(s.read_timeout),
            Field::MaxTime => s.max_time.map(secs).unwrap_or_else(|| "none".into()),
            Field::DnsTimeout => secs(s.dns_timeout),
            Field::Total => count(s.total),
            Field::ConnectRetries => count(s.connect),
            Field::ReadRetries if s.read_disabled => "off (read=False)".into(),
            Field::ReadRetries => count(s.read),
            Field::StatusRetries => count(s.status),
            Field::BackoffFactor => num(s.backoff_factor),
            Field::BackoffMax => format!("{} s", num(s.backoff_max)),
            Field::BackoffJitter => num(s.backoff_jitter),
            Field::Forcelist if s.status_forcelist.is_empty() => "none".into(),
            Field::Forcelist => s
                .status_forcelist
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(","),
            Field::AllowedMethods if s.allowed_methods.is_empty() => "any".into(),
            Field::AllowedMethods => s.allowed_methods.join(","),
            Field::RetryAfter => if s.respect_retry_after { "yes" } else { "no" }.into(),
            Field::RetryAfterMax => format!("{} s", num(s.retry_after_max)),
        }
    }

    /// What the field means and what its special values do, shown under the editor's list
    /// for the selected field.
    pub fn help(self) -> &'static str {
        match self {
            Field::Policy => {
                "whose retry loop to replay: urllib3's Retry, a hand-written loop, \
                curl --retry, a fixed delay, full jitter"
            }
            Field::Method => {
                "the request's method; urllib3 retries read errors and statuses only \
                for the allowed methods"
            }
            Field::ConnectTimeout => {
                "requests' timeout=(connect, read): each address's TCP \
                connect, and the TLS handshake"
            }
            Field::ReadTimeout => "the longest wait between two reads (not the whole body)",
            Field::MaxTime => "a deadline for each attempt (curl -m); none: no deadline",
            Field::DnsTimeout => "the name lookup (requests has none: the system resolver's own)",
            Field::Total | Field::ConnectRetries | Field::StatusRetries => {
                "retries of this kind: 0 = never retry; none = no limit of its own (the other \
                 counters still bound it; none everywhere retries forever). Type none to set it"
            }
            Field::ReadRetries => {
                "retries after a read error: 0 = never; none = no limit of its \
                own; off (read=False) = requests' default: a read error is raised as it is, \
                never retried"
            }
            Field::BackoffFactor => {
                "sleep = factor × 2^(n−1) before retry n (none before the \
                first with urllib3)"
            }
            Field::BackoffMax => "the longest one backoff sleep can be",
            Field::BackoffJitter => "a random extra of up to this many seconds on each sleep",
            Field::Forcelist => {
                "statuses retried as failures (e.g. 502,503,504); none: statuses \
                are answers, not retried"
            }
            Field::AllowedMethods => {
                "methods that may be retried after a read error or a \
                status; any: every method"
            }
            Field::RetryAfter => {
                "sleep as long as a 413/429/503's Retry-After says (up to the \
                cap) instead of the backoff"
            }
            Field::RetryAfterMax => {
                "the longest Retry-After honoured (urllib3: 6 h); the worst \
                case counts every status retry's sleep at this cap"
            }
        }
    }

    /// The text a field's edit starts from: the value without its unit.
    fn edit_text(self, s: &ReplaySettings) -> String {
        match self {
            Field::ReadRetries if s.read_disabled => String::new(),
            Field::Forcelist if s.status_forcelist.is_empty() => String::new(),
            Field::AllowedMethods if s.allowed_methods.is_empty() => String::new(),
            _ => self.value(s).trim_end_matches(" s").to_string(),
        }
    }

    /// `+` (up) or `-`; ←/→ and space for choices. Stays within the field's range.
    pub fn step(self, s: &mut ReplaySettings, up: bool) {
        s.step_field(self, up);
    }

    /// A typed value; an error leaves the settings as they were.
    pub fn set(self, s: &mut ReplaySettings, text: &str) -> Result<(), SettingError> {
        s.set_field(self, text)
    }
}

/// The `e` overlay's state; the settings it edits are the app's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Editor {
    /// Index into [`Field::ALL`].
    pub field: usize,
    /// The text being typed into the field, when one is being edited.
    pub editing: Option<String>,
    /// Why the last typed value was refused.
    pub error: Option<String>,
}

impl Editor {
    pub fn selected(&self) -> Field {
        Field::ALL[self.field.min(Field::ALL.len() - 1)]
    }

    pub fn begin(&mut self, s: &ReplaySettings, first: Option<char>) {
        self.error = None;
        self.editing = Some(match first {
            Some(c) => c.to_string(),
            None => self.selected().edit_text(s),
        });
    }

    /// Set the typed value. A refused one stays in the field, with the reason under it, to be
    /// corrected or dropped with Esc: nothing reverts unsaid.
    pub fn commit(&mut self, s: &mut ReplaySettings) {
        if let Some(text) = self.editing.take() {
            match self.selected().set(s, &text) {
                Ok(()) => self.error = None,
                Err(e) => {
                    self.error = Some(e.editor_message());
                    self.editing = Some(text);
                }
            }
        }
    }

    /// Esc while typing: the value stays as it was, and so does nothing else.
    pub fn cancel(&mut self) {
        self.editing = None;
        self.error = None;
    }
}

/// The settings rows of the compare view: label and value.
pub fn compare_rows(s: &ReplaySettings) -> Vec<(&'static str, String)> {
    Field::ALL.iter().map(|f| (f.label(), f.value(s))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::settings::PolicyKind;

    #[test]
    fn steps_are_sensible() {
        let mut s = ReplaySettings::default();
        Field::ConnectTimeout.step(&mut s, true);
        assert_eq!(s.connect_timeout, Duration::from_secs(11));
        s.connect_timeout = Duration::from_secs(1);
        Field::ConnectTimeout.step(&mut s, false);
        assert_eq!(Field::ConnectTimeout.value(&s), "0.9 s");
        for _ in 0..20 {
            Field::ConnectTimeout.step(&mut s, false);
        }
        assert_eq!(Field::ConnectTimeout.value(&s), "0.1 s", "never 0");
        Field::BackoffFactor.step(&mut s, true);
        Field::BackoffFactor.step(&mut s, true);
        Field::BackoffFactor.step(&mut s, true);
        assert_eq!(Field::BackoffFactor.value(&s), "0.3");
        Field::BackoffMax.step(&mut s, false);
        assert_eq!(s.backoff_max, 110.0);
        Field::MaxTime.step(&mut s, true);
        assert_eq!(s.max_time, Some(Duration::from_secs(1)));
        Field::MaxTime.step(&mut s, false);
        assert_eq!(s.max_time, None);
    }

    #[test]
    fn counts_go_through_none_and_mount_a_retry() {
        let mut s = ReplaySettings::default();
        assert!(s.read_disabled);
        Field::Total.step(&mut s, true);
        assert_eq!(s.total, Some(1));
        assert!(!s.read_disabled, "a Retry object now");
        Field::Total.step(&mut s, false);
        Field::Total.step(&mut s, false);
        assert_eq!(s.total, Some(0), "- stops at 0, never becomes unbounded");
        assert!(Field::Total.set(&mut s, "none").is_ok(), "none is typed");
        assert_eq!(Field::Total.value(&s), "none");
        Field::Total.step(&mut s, false);
        assert_eq!(s.total, None);
        Field::Total.step(&mut s, true);
        assert_eq!(s.total, Some(0));
        // read=False: - leaves it off, + mounts 0 read retries.
        let mut s = ReplaySettings::default();
        Field::ReadRetries.step(&mut s, false);
        assert!(s.read_disabled);
        assert_eq!(Field::ReadRetries.value(&s), "off (read=False)");
        Field::ReadRetries.step(&mut s, true);
        assert_eq!((s.read_disabled, s.read), (false, Some(0)));
        // The Retry-After cap steps and takes a typed value up to a day.
        let mut s = ReplaySettings::default();
        Field::RetryAfterMax.step(&mut s, false);
        assert_eq!(Field::RetryAfterMax.value(&s), "18000 s");
        assert!(Field::RetryAfterMax.set(&mut s, "30").is_ok());
        Field::RetryAfterMax.step(&mut s, false);
        assert_eq!(s.retry_after_max, 0.0);
        assert!(Field::RetryAfterMax.set(&mut s, "86401").is_err());
    }

    #[test]
    fn typed_values_are_checked() {
        let mut s = ReplaySettings::default();
        assert!(Field::Forcelist.set(&mut s, "503, 429").is_ok());
        assert_eq!(s.status_forcelist, vec![503, 429]);
        assert!(Field::Forcelist.set(&mut s, "50x").is_err());
        assert_eq!(s.status_forcelist, vec![503, 429], "unchanged");
        assert!(Field::AllowedMethods.set(&mut s, "get,post").is_ok());
        assert_eq!(s.allowed_methods, vec!["GET", "POST"]);
        assert!(Field::Method.set(&mut s, "po st").is_err());
        assert!(Field::ReadTimeout.set(&mut s, "2.5").is_ok());
        assert_eq!(s.read_timeout, Duration::from_millis(2500));
        assert!(Field::ReadTimeout.set(&mut s, "0").is_err());
        assert!(Field::MaxTime.set(&mut s, "none").is_ok());
        assert!(Field::Policy.set(&mut s, "curl").is_ok());
        assert_eq!(s.policy, PolicyKind::Curl);
    }

    #[test]
    fn policy_cycles_through_all_both_ways() {
        let mut s = ReplaySettings::default();
        let mut seen = vec![s.policy];
        for _ in 0..PolicyKind::ALL.len() {
            Field::Policy.step(&mut s, true);
            seen.push(s.policy);
        }
        assert_eq!(&seen[..5], &PolicyKind::ALL);
        assert_eq!(s.policy, PolicyKind::Urllib3, "wraps");
        Field::Policy.step(&mut s, false);
        assert_eq!(s.policy, PolicyKind::FullJitter);
    }

    #[test]
    fn the_default_is_not_a_replay_and_retries_are() {
        let mut s = ReplaySettings::default();
        assert!(!is_replay(&s));
        s.total = Some(3);
        s.status_forcelist = vec![503];
        s.read_disabled = false;
        assert!(is_replay(&s));
    }

    #[test]
    fn the_editor_never_panics_and_keeps_the_settings_valid() {
        let typed = [
            "1e19",
            "-1",
            "NaN",
            "inf",
            "-inf",
            "1e-300",
            "18446744073709551616",
            "99999999999999999999999999999999999999",
            "",
            " ",
            "none",
            "garbage",
            "12abc",
            "+",
            ",,,",
            "\u{7f}\u{0}é",
        ];
        let mut s = ReplaySettings::urllib3_default();
        for (i, field) in Field::ALL.iter().enumerate() {
            for text in typed {
                let mut ed = Editor {
                    field: i,
                    ..Editor::default()
                };
                let before = s.clone();
                ed.begin(&s, None);
                ed.editing = Some(text.to_string());
                ed.commit(&mut s);
                match &ed.error {
                    Some(why) => {
                        assert_eq!(s, before, "{field:?} {text:?}: refused, unchanged");
                        assert!(why.starts_with(field.label()), "{why}");
                        assert_eq!(ed.editing.as_deref(), Some(text), "kept to correct");
                        ed.cancel();
                    }
                    None => assert_eq!(s.validate(), Ok(()), "{field:?} {text:?}"),
                }
                assert_eq!(ed.editing, None);
                field.step(&mut s, true);
                field.step(&mut s, false);
                let _ = field.value(&s);
            }
        }
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn the_editor_refuses_what_the_command_line_refuses_in_the_same_words() {
        let mut s = ReplaySettings::urllib3_default();
        let total = Field::ALL.iter().position(|f| *f == Field::Total);
        let mut ed = Editor {
            field: total.unwrap_or(0),
            ..Editor::default()
        };
        // Typed as in the dashboard: the first key starts the edit.
        ed.begin(&s, Some('5'));
        if let Some(text) = ed.editing.as_mut() {
            text.push_str("00");
        }
        ed.commit(&mut s);
        assert_eq!(ed.error.as_deref(), Some("retries total is at most 100"));
        let cli = s
            .set_field(Field::Total, "500")
            .err()
            .map(|e| e.to_string());
        assert_eq!(cli.as_deref(), Some("--retries is at most 100"));
        assert_eq!(s.total, Some(10), "unchanged");
        // A timeout obeys the command line's caps: more than 0, at most a day.
        let mut ed = Editor {
            field: 2,
            ..Editor::default()
        };
        assert_eq!(ed.selected(), Field::ConnectTimeout);
        for (text, refused) in [
            ("1e19", true),
            ("86401", true),
            ("0", true),
            ("86400", false),
        ] {
            ed.begin(&s, None);
            ed.editing = Some(text.into());
            ed.commit(&mut s);
            assert_eq!(ed.error.is_some(), refused, "{text}: {:?}", ed.error);
        }
        assert_eq!(s.connect_timeout, Duration::from_secs(86_400));
    }
}
