//! Reports: the outcome of a probe as the report's own serde types ([`model`]), then one
//! renderer per output format ([`text`], [`json`]). Engine internals never reach the output
//! directly, and secrets are redacted while the model is built.
//!
//! A new format is one file here and one [`Format`] variant.

pub(crate) mod ascii;
mod build;
pub(crate) use build::WHOLE_RUN_NOTE;
pub(crate) mod escape;
pub(crate) mod explain;
pub(crate) mod json;
mod mask;
pub mod model;
mod reuse;
pub(crate) mod text;
mod trust;
pub(crate) mod words;

pub use build::{build, build_replay};
pub use model::Report;
pub(crate) use reuse::{build_reuse, gap_summary};
pub(crate) use text::wrap_with;

/// The output formats, as `--format` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    // The plain report, 80 columns. (Plain comments: a doc comment here would switch clap's
    // --help to its long layout for every flag.)
    Text,
    // One JSON document.
    Json,
}

impl Format {
    /// The report in this format. `color` applies to formats read by people on a terminal.
    pub fn render(self, report: &Report, color: bool) -> String {
        match self {
            // Server bytes are shown visibly, never interpreted by the terminal.
            Format::Text => text::render(&report.for_terminal(), text::Style { color }),
            Format::Json => json::render(report),
        }
    }
}
