//! The JSON renderer: one pretty-printed document (schema: `assets/report.schema.json`). DEL,
//! C1 and bidi controls are written as `\uXXXX` escapes, so printing it to a terminal is safe.

use serde::Serialize;

use super::escape::SafeJsonFormatter;

/// The document and a final newline.
pub(crate) fn render<T: Serialize>(report: &T) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, SafeJsonFormatter::new());
    match report.serialize(&mut serializer) {
        // The formatter writes only valid UTF-8 (the input's, and ASCII escapes).
        Ok(()) => String::from_utf8_lossy(&out).into_owned() + "\n",
        // Serializing plain data cannot fail; keep a valid document if it ever does.
        Err(e) => format!("{{\"error\": \"cannot serialize report: {e}\"}}\n"),
    }
}
