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
