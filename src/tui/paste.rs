//! The dashboard's side of explain mode: the `p` paste box (what was pasted, bounded) and the
//! "then" an explained paste leaves (the pasted error, its probe, "now" against "then"). App
//! state only, pure: the panels draw it, `App::update` changes it.

use std::time::Duration;

use crate::engine::ProbeSettings;
use crate::explain::Explained;
use crate::explain::parse::MAX_INPUT_BYTES;
use crate::explain::plan::ProbePlan;
use crate::replay::budget::UrlStages;
use crate::replay::export_request::ExportRequest;
use crate::replay::policy::ReplaySettings;
use crate::report::Report;
use crate::report::escape::for_terminal;
use crate::report::explain as view;
use crate::report::model::{Comparison, ComparisonReport, ExplainedReport};

use super::header_info::HeaderInfo;

/// Keys closer together than this are a burst: a terminal pasting without brackets (its
/// newlines then come as Enter keys). Nobody types two keys 15 ms apart.
pub(crate) const BURST_GAP: Duration = Duration::from_millis(15);

/// What the paste box holds: at most [`MAX_INPUT_BYTES`], as `netpeel explain` reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PasteBox {
    pub text: String,
    /// More was pasted than is kept.
    pub truncated: bool,
    /// Why Enter did not explain (nothing pasted, or no error netpeel recognises).
    pub error: Option<String>,
}

impl PasteBox {
    /// Add `more`, up to the limit (cut at a character boundary).
    pub fn push_str(&mut self, more: &str) {
        self.error = None;
        let room = MAX_INPUT_BYTES.saturating_sub(self.text.len());
        if more.len() <= room {
            self.text.push_str(more);
            return;
        }
        let mut end = room;
        while !more.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&more[..end]);
        self.truncated = true;
    }

    pub fn backspace(&mut self) {
        self.error = None;
        self.text.pop();
        self.truncated = false;
    }

    pub fn clear(&mut self) {
        *self = PasteBox::default();
    }

    /// Lines as a person counts them (a last line without a line break counts).
    pub fn line_count(&self) -> usize {
        self.text.lines().count()
    }

    /// The first `head` and the last `tail` lines, escaped for the terminal (a paste is hostile
    /// text: ESC, OSC, CR, C1 and bidi marks are shown, never sent), and how many lie between.
    pub fn preview(&self, head: usize, tail: usize) -> (Vec<String>, usize, Vec<String>) {
        let lines: Vec<&str> = self.text.lines().collect();
        let shown = |l: &&str| for_terminal(&masked(&l.replace('\t', "    ")));
        if lines.len() <= head + tail {
            return (lines.iter().map(shown).collect(), 0, Vec::new());
        }
        let first = lines[..head].iter().map(shown).collect();
        let last = lines[lines.len() - tail..].iter().map(shown).collect();
        (first, lines.len() - head - tail, last)
    }
}

/// `line` with the secrets it shows masked, as the report masks them: URL passwords and
/// credential query parameters (the box is on screen: over a shoulder, in a screen share).
fn masked(line: &str) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for word in line.split(|c: char| c.is_whitespace() || "'\"<>()".contains(c)) {
        if let Some(password) = crate::redact::url_password(word) {
            pairs.push((format!(":{password}@"), ":***@".into()));
        }
        pairs.extend(crate::redact::query_secret_pairs(word));
    }
    let mut out = line.to_string();
    for (secret, shown) in pairs {
        out = out.replace(&secret, &shown);
    }
    mask_credentials(&out)
}

/// curl's `-u user:PW` (and `--user`, `-U`, `--proxy-user`) and a secret header's value
/// (`Authorization: Bearer TOK`, `-H 'X-Api-Key: K'`) masked.
fn mask_credentials(line: &str) -> String {
    use regex::Regex;
    use std::sync::LazyLock;
    static USER: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r#"((?:^|\s)(?:-u|--user|-U|--proxy-user)[\s=]+['"]?[^\s:'"]*:)[^\s'"]+"#).ok()
    });
    static HEADER: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r#"([A-Za-z0-9_-]+)(:[ \t]*)([^'"\n]+)"#).ok());
    let mut out = match USER.as_ref() {
        Some(re) => re.replace_all(line, "${1}***").into_owned(),
        None => line.to_string(),
    };
    if let Some(re) = HEADER.as_ref() {
        out = re
            .replace_all(&out, |c: &regex::Captures| {
                // "KeyError: 'x'" is Python's, not a header.
                let exception = c[1].ends_with("Error") || c[1].ends_with("Exception");
                if crate::redact::is_secret_header(&c[1]) && !exception {
                    format!("{}{}***", &c[1], &c[2])
                } else {
                    c[0].to_string()
                }
            })
            .into_owned();
    }
    out
}

/// The settings a new target brings: what the header, the export and the editor show, and
/// the replay settings the next runs use (one attempt, the probe's timeouts).
#[derive(Clone, Debug, PartialEq)]
pub struct Retarget {
    pub header: HeaderInfo,
    /// Password and credentials masked.
    pub url: String,
    pub request: ExportRequest,
    pub url_stages: UrlStages,
    pub replay: ReplaySettings,
}

impl Retarget {
    pub fn of(settings: &ProbeSettings, replay: ReplaySettings) -> Retarget {
        Retarget {
            header: HeaderInfo::from_settings(settings),
            url: for_terminal(&crate::redact::url(&settings.url)),
            request: ExportRequest::from_settings(settings),
            url_stages: UrlStages::of_probe(settings),
            replay: crate::replay::run::with_probe_timeouts(replay, settings),
        }
    }
}

/// Where the probe of an explained paste stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ThenProbe {
    /// The loop is building the probe's settings.
    Starting,
    /// Runs from this one on probe what the paste names.
    From(u32),
    /// No probe: why (the text names no host; the URL or proxy it names is not usable).
    NotProbed(String),
}

/// An explained paste: the "then" panel's content.
#[derive(Clone, Debug, PartialEq)]
pub struct Then {
    pub(crate) explained: Explained,
    /// The explanation as shown: secrets masked, every string escaped for the terminal.
    pub shown: ExplainedReport,
    pub probe: ThenProbe,
    /// The probed URL, masked and escaped (for the suggested command lines).
    pub url: String,
}

impl Then {
    pub(crate) fn new(explained: Explained, plan: Option<&ProbePlan>) -> Then {
        let secrets = view::secrets(&explained);
        let mask = |u: &str| crate::redact::mask_echoes(&crate::redact::url(u), &secrets);
        let url = plan
            .map(|p| for_terminal(&mask(&p.url)))
            .unwrap_or_default();
        let probe = match plan {
            Some(_) => ThenProbe::Starting,
            None => ThenProbe::NotProbed(
                "Not probed: the text names no host (netpeel explain --url URL FILE probes one)."
                    .into(),
            ),
        };
        let comparison = ComparisonReport {
            outcome: Comparison::NotProbed,
            summary: String::new(),
            suggestions: Vec::new(),
        };
        Then {
            shown: view::for_terminal(&view::build(&explained, comparison)),
            explained,
            probe,
            url,
        }
    }

    /// Whether run `n` probes what the paste names.
    pub fn probes_in(&self, n: u32) -> bool {
        matches!(self.probe, ThenProbe::From(first) if n >= first)
    }

    /// "Now" against "then" for run `n`'s report (escaped, as everything shown).
    pub fn now(&self, n: u32, report: &Report) -> Option<ComparisonReport> {
        if !self.probes_in(n) {
            return None;
        }
        let c = crate::explain::run::compare(&self.explained, report, &self.url);
        Some(ComparisonReport {
            outcome: c.outcome,
            summary: for_terminal(&c.summary),
            suggestions: c.suggestions.iter().map(|s| for_terminal(s)).collect(),
        })
    }

    /// The explanation alone, for a quit whose report does not carry it (`finished`: run
    /// `n` has a report): the paste was not probed, or the quit came before its probe ended,
    /// as `netpeel explain` prints it when interrupted. What the paste says is never lost.
    pub fn alone(&self, n: u32, finished: bool) -> Option<ExplainedReport> {
        let why = match &self.probe {
            ThenProbe::From(first) if n >= *first && finished => return None,
            ThenProbe::NotProbed(why) => why.clone(),
            ThenProbe::From(_) | ThenProbe::Starting => "interrupted before the probe ended".into(),
        };
        let comparison = ComparisonReport {
            outcome: Comparison::NotProbed,
            summary: why,
            suggestions: Vec::new(),
        };
        Some(view::build(&self.explained, comparison))
    }

    /// The report printed on quit for run `n`: the explanation around the stages, as
    /// `netpeel explain` prints it, secrets masked. Unchanged when the run is not the paste's.
    pub fn attach(&self, n: u32, report: Report) -> Report {
        let Some(comparison) = self.now(n, &report) else {
            return report;
        };
        let secrets = view::secrets(&self.explained);
        let x = view::build(&self.explained, comparison);
        view::attach(report, x, &secrets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_keeps_a_mebibyte_and_cuts_at_a_character() {
        let mut b = PasteBox::default();
        b.push_str(&"é".repeat(MAX_INPUT_BYTES / 2 - 1));
        b.push_str("aé");
        assert!(b.truncated);
        assert!(b.text.len() <= MAX_INPUT_BYTES);
        assert!(b.text.ends_with('a'));
        b.backspace();
        assert!(!b.truncated);
        b.clear();
        assert_eq!(b, PasteBox::default());
    }

    #[test]
    fn a_new_targets_url_and_proxy_are_shown_escaped() {
        let s = ProbeSettings::new("http://127.0.0.1:9/\u{1b}[2J\u{202e}");
        let to = Retarget::of(&s, ReplaySettings::default());
        assert_eq!(to.header.url, "http://127.0.0.1:9/\\x1b[2J\\u{202e}");
        assert_eq!(to.url, to.header.url);
        assert!(
            to.header
                .settings
                .iter()
                .all(|x| !x.text.contains('\u{1b}'))
        );
    }

    #[test]
    fn the_preview_masks_url_passwords_and_query_credentials() {
        let mut b = PasteBox::default();
        b.push_str("curl -x http://bob:PROXYPW@127.0.0.1:3128 'https://127.0.0.1:9/x?token=SECRETQ&page=2'\n");
        b.push_str("HTTPSConnectionPool(host='h', port=1): url: /v1?api_key=AK1 (Caused by X)\n");
        let (lines, _, _) = b.preview(5, 5);
        assert_eq!(
            lines,
            vec![
                "curl -x http://bob:***@127.0.0.1:3128 'https://127.0.0.1:9/x?token=***&page=2'",
                "HTTPSConnectionPool(host='h', port=1): url: /v1?api_key=*** (Caused by X)",
            ]
        );
    }

    #[test]
    fn the_preview_masks_curl_credentials_and_secret_headers() {
        let mut b = PasteBox::default();
        b.push_str("$ curl -u alice:PW1 -H 'Authorization: Bearer TOK1' -H 'Accept: */*' --proxy-user bob:PW2 https://h/\n");
        b.push_str("X-Api-Key: K1\nKeyError: 'page'\n");
        let (lines, _, _) = b.preview(5, 5);
        let all = lines.join("\n");
        for secret in ["PW1", "TOK1", "PW2", "K1"] {
            assert!(!all.contains(secret), "{secret} shown: {all}");
        }
        assert!(all.contains("-u alice:***"), "{all}");
        assert!(all.contains("Accept: */*"), "{all}");
        assert!(all.contains("KeyError: 'page'"), "{all}");
    }

    #[test]
    fn the_preview_escapes_what_a_terminal_would_obey() {
        let mut b = PasteBox::default();
        b.push_str("one\u{1b}]0;pwned\u{7}\n\u{1b}[2J\r\u{9b}\u{202e}\nthree\tx\nfour\nfive\n");
        assert_eq!(b.line_count(), 5);
        let (first, hidden, last) = b.preview(2, 1);
        assert_eq!(
            first,
            vec!["one\\x1b]0;pwned\\x07", "\\x1b[2J\\r\\x9b\\u{202e}"]
        );
        assert_eq!((hidden, last), (2, vec!["five".to_string()]));
        let (all, hidden, none) = b.preview(3, 3);
        assert_eq!((all.len(), hidden, none.len()), (5, 0, 0));
        assert_eq!(all[2], "three    x");
    }
}
