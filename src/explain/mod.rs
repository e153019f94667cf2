//! Explain mode (`netpeel explain [FILE]`): read a pasted error (a requests/urllib3 traceback
//! or log line, httpx, aiohttp or curl), say which layer failed and why in plain words, then
//! probe the same URL and set "then" (the paste) beside "now" (the probe).
//!
//! - [`parse`]: the text → a typed [`parse::ParsedError`] (pure; the paste is hostile input);
//! - [`classify`]: the parsed error → a `Kind` of the one verdict table;
//! - [`causes`]: what happened and the usual causes, ranked, in plain words;
//! - [`plan`]: what to probe (URL, proxy, timeouts), shared by the command line and the
//!   dashboard's paste box;
//! - [`run`]: the mode from the command line: read, explain, probe, compare, print.
//!
//! The report model is `report::model::ExplainedReport`, built in `report/explain.rs`.

pub(crate) mod causes;
pub(crate) mod classify;
pub(crate) mod parse;
pub(crate) mod plan;
pub(crate) mod run;

use crate::engine::Stage;
use crate::engine::verdict::Kind;
use parse::ParsedError;

/// A paste read and placed in the verdict table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Explained {
    pub(crate) parsed: ParsedError,
    pub(crate) kind: Kind,
    pub(crate) layer: Stage,
    /// The paste was longer than [`parse::MAX_INPUT_BYTES`]; only its start was read.
    pub(crate) truncated: bool,
}

/// What is said when a paste holds no error netpeel knows.
pub(crate) const UNRECOGNISED: &str = "no error netpeel recognises in this text: paste a Python requests/urllib3, httpx or aiohttp traceback or log line, or curl's `curl: (N) …` line (with the curl command above it)";

/// Read `text`; None when it is not an error netpeel recognises (never a guess).
pub(crate) fn explain(text: &str, truncated: bool) -> Option<Explained> {
    let parsed = parse::parse(text)?;
    let kind = classify::kind(&parsed)?;
    // Only `total_timeout` has no layer of its own, and the classifier never gives it.
    let layer = kind.info().layer?;
    Some(Explained {
        parsed,
        kind,
        layer,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    //! Real corpus texts cut at every width a terminal or logger may use: the reading is the
    //! case's own, or says less (a fact left out), never something else.
    use super::*;
    use serde_json::Value;

    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/explain/corpus");

    fn corpus_case(name: &str) -> (String, Value) {
        let read = |file: String| {
            std::fs::read_to_string(format!("{CORPUS}/{file}"))
                .unwrap_or_else(|e| panic!("{file}: {e}"))
        };
        let expected = serde_json::from_str(&read(format!("{name}.expected.json")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        (read(format!("{name}.txt")), expected)
    }

    /// Every line cut into pieces of `width` characters.
    fn hard_wrapped(text: &str, width: usize) -> String {
        let mut out = String::new();
        for line in text.lines() {
            let chars: Vec<char> = line.chars().collect();
            if chars.is_empty() {
                out.push('\n');
            }
            for piece in chars.chunks(width) {
                out.extend(piece);
                out.push('\n');
            }
        }
        out
    }

    /// Every line broken at spaces before `width` (a word longer than that stays whole), as
    /// Python's textwrap does.
    fn word_wrapped(text: &str, width: usize) -> String {
        let mut out = String::new();
        for line in text.lines() {
            let mut current = String::new();
            for word in line.split_whitespace() {
                if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width
                {
                    out.push_str(&current);
                    out.push('\n');
                    current.clear();
                }
                if !current.is_empty() {
                    current.push(' ');
                }
                current.push_str(word);
            }
            out.push_str(&current);
            out.push('\n');
        }
        out
    }

    /// What `text` reads as, against the case: wrong facts (a value other than the case's).
    fn wrong_facts(text: &str, expected: &Value) -> Vec<String> {
        let Some(e) = explain(text, false) else {
            return vec!["not recognised".to_string()];
        };
        let t = &e.parsed.target;
        let mut wrong = Vec::new();
        if e.kind.name() != expected["kind"] {
            wrong.push(format!("kind {}", e.kind.name()));
        }
        let facts = [
            ("scheme", t.scheme.clone().map(Value::from)),
            ("host", t.host.clone().map(Value::from)),
            ("port", t.port.map(Value::from)),
            // The case says the path as the report shows it: credentials masked.
            (
                "path",
                t.path
                    .as_deref()
                    .map(|p| Value::from(crate::redact::request_target(p))),
            ),
        ];
        for (field, read) in facts {
            if let Some(read) = read
                && read != expected[field]
            {
                wrong.push(format!("{field} {read}"));
            }
        }
        wrong
    }

    #[test]
    fn a_wrap_at_any_width_reads_the_same_or_says_less() {
        let cases = [
            "requests_refused",
            "requests_refused_line",
            "requests_http_503_line",
            "requests_proxy_refused_line",
            "requests_tls_unknown_issuer_line",
            "aiohttp_connect_timeout_line",
            "aiohttp_refused_line",
            "curl_tls_name_mismatch",
        ];
        let mut failures = Vec::new();
        for name in cases {
            let (text, expected) = corpus_case(name);
            let (mut exact, mut variants) = (0, 0);
            let hard = (40..=160).map(|w| (format!("cut at {w}"), hard_wrapped(&text, w)));
            let words = (40..=100).map(|w| (format!("words at {w}"), word_wrapped(&text, w)));
            for (how, wrapped) in hard.chain(words) {
                variants += 1;
                let wrong = wrong_facts(&wrapped, &expected);
                if !wrong.is_empty() {
                    failures.push(format!("{name} {how}: {}", wrong.join(", ")));
                }
                let host = explain(&wrapped, false).and_then(|e| e.parsed.target.host);
                exact += usize::from(host.is_some() || expected["host"].is_null());
            }
            // Saying less is the exception: most widths keep the host.
            if exact * 10 < variants * 9 {
                failures.push(format!("{name}: host kept in {exact} of {variants}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

#[cfg(test)]
mod socks_tests {
    use super::*;

    /// The one line of a name failure under SOCKS does not say whose name: the causes say both.
    #[test]
    fn a_socks_name_failure_without_frames_names_both_possible_names() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/explain/corpus/requests_socks_local_dns_line.txt"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let e = explain(&text, false).expect("recognised");
        assert_eq!(e.kind, Kind::SocksOther);
        let first = &causes::ranked(&e)[0];
        assert!(
            first.contains("socks5h://") && first.contains("proxy's own"),
            "{first}"
        );
    }
}
