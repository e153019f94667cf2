//! The JSON renderer: one pretty-printed document (schema: `assets/report.schema.json`).

use super::Report;

/// The document and a final newline.
pub(super) fn render(report: &Report) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(doc) => doc + "\n",
        // Serializing plain data cannot fail; keep a valid document if it ever does.
        Err(e) => format!("{{\"error\": \"cannot serialize report: {e}\"}}\n"),
    }
}
