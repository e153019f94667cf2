//! Reports: the outcome of a probe as the report's own serde types ([`model`]), then as plain
//! text ([`text`]) or one JSON document. Engine internals never reach the output directly, and
//! secrets are redacted while the model is built.

pub mod model;
pub mod text;
pub mod words;

pub use model::{Report, build};

pub fn to_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        // Serializing plain data cannot fail; keep a valid document if it ever does.
        format!("{{\"error\": \"cannot serialize report: {e}\"}}")
    })
}
