//! Nothing a server sent reaches a terminal raw. A certificate subject, a reason phrase, a
//! header, a body preview or an error message quoting them can hold ESC sequences (clear the
//! screen, move the cursor, retitle the window, OSC 52 to the clipboard), CR (overwrite a line
//! with a fake verdict) or bidi overrides (reorder what is read). For a terminal every such
//! character is shown visibly (`\x1b`, `\r`, `\u{202e}`); JSON stays lossless but escapes them
//! as `\uXXXX`, so `cat report.json` is safe too.

use std::io;

use serde_json::Value;

use super::Report;

/// Characters that change how a terminal shows what follows, rather than showing themselves:
/// C0 (tab and newline included: a server's newline could start a fake report line), DEL, C1,
/// and the Unicode bidi and direction marks.
pub(crate) fn is_dangerous(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{061c}'
        | '\u{200e}' | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// `text` with every dangerous character written visibly: `\n`, `\r`, `\t`, `\x1b`, `\u{202e}`.
pub(crate) fn for_terminal(text: &str) -> String {
    if !text.chars().any(is_dangerous) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 && is_dangerous(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_dangerous(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

impl Report {
    /// The same report with every string escaped for a terminal.
    pub fn for_terminal(&self) -> Report {
        self.map_strings(&|s: &str| {
            // A trailing line break (a body preview's "hello\n") ends the field, it is not
            // part of what it says; any other is shown.
            s.chars()
                .any(is_dangerous)
                .then(|| for_terminal(s.trim_end_matches(['\r', '\n'])))
        })
    }

    /// Every string of the report through `change` (None: keep it). Done on the whole model
    /// (not field by field) so that no field, present or future, can be missed.
    pub(crate) fn map_strings(&self, change: &dyn Fn(&str) -> Option<String>) -> Report {
        let mapped = serde_json::to_value(self).and_then(|mut doc| {
            map_value_strings(&mut doc, change);
            serde_json::from_value(doc)
        });
        // Changing strings changes no shape, so reading the document back does not fail (the
        // suite reads back every report it produces). Were it ever to, show less, not more.
        mapped.unwrap_or_else(|_| self.stripped(change))
    }

    /// The report without its details, its few remaining sentences changed one by one.
    fn stripped(&self, change: &dyn Fn(&str) -> Option<String>) -> Report {
        let apply = |s: &mut String| {
            if let Some(new) = change(s) {
                *s = new;
            }
        };
        let mut r = self.clone();
        r.redirects.clear();
        r.addresses.clear();
        r.attempts.clear();
        r.replay = None;
        r.reuse = None;
        r.explained = None;
        r.settings.headers.clear();
        apply(&mut r.url);
        apply(&mut r.final_url);
        for stage in &mut r.stages {
            stage.detail = None;
            apply(&mut stage.summary);
        }
        let v = &mut r.verdict;
        apply(&mut v.summary);
        v.hint.iter_mut().for_each(apply);
        v.notes.iter_mut().for_each(apply);
        r
    }
}

pub(crate) fn map_value_strings(value: &mut Value, change: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::String(s) => {
            if let Some(new) = change(s) {
                *s = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| map_value_strings(v, change)),
        Value::Object(map) => map.values_mut().for_each(|v| map_value_strings(v, change)),
        _ => {}
    }
}

/// serde_json's pretty printer, plus `\uXXXX` escapes for DEL, C1 and bidi controls (it already
/// escapes C0). The document means the same; only how it is spelled changes.
pub(crate) struct SafeJsonFormatter {
    pretty: serde_json::ser::PrettyFormatter<'static>,
}

impl SafeJsonFormatter {
    pub(crate) fn new() -> Self {
        SafeJsonFormatter {
            pretty: serde_json::ser::PrettyFormatter::new(),
        }
    }
}

impl serde_json::ser::Formatter for SafeJsonFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|(_, c)| is_dangerous(*c)) {
            writer.write_all(&rest.as_bytes()[..at])?;
            write!(writer, "\\u{:04x}", c as u32)?;
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    // The layout is the pretty printer's.
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_keeps_no_detail_and_changes_what_is_left() {
        let mut report = crate::tui::sample::report_tcp_refused();
        report.verdict.summary = "refused \u{1b}[2J".into();
        let change = |s: &str| s.contains('\u{1b}').then(|| for_terminal(s));
        let stripped = report.stripped(&change);
        assert!(stripped.stages.iter().all(|s| s.detail.is_none()));
        assert!(stripped.settings.headers.is_empty() && stripped.attempts.is_empty());
        assert_eq!(stripped.verdict.summary, "refused \\x1b[2J");
        // The normal path keeps the details.
        let escaped = report.map_strings(&change);
        assert!(escaped.stages.iter().any(|s| s.detail.is_some()));
        assert_eq!(escaped.verdict.summary, "refused \\x1b[2J");
    }

    #[test]
    fn terminal_escapes_show_every_control_visibly() {
        assert_eq!(
            for_terminal("plain text, ünïcode ✓"),
            "plain text, ünïcode ✓"
        );
        assert_eq!(
            for_terminal("\x1b[2J\x1b]52;c;aGk=\x07"),
            "\\x1b[2J\\x1b]52;c;aGk=\\x07"
        );
        assert_eq!(
            for_terminal("a\r\nVERDICT: ok\tb"),
            "a\\r\\nVERDICT: ok\\tb"
        );
        assert_eq!(for_terminal("\u{7f}\u{85}\u{9b}"), "\\x7f\\x85\\x9b");
        assert_eq!(for_terminal("x\u{202e}gnp.exe"), "x\\u{202e}gnp.exe");
        assert_eq!(for_terminal("\u{2066}\u{200f}"), "\\u{2066}\\u{200f}");
    }

    #[test]
    fn json_stays_lossless_but_writes_controls_as_escapes() {
        let raw = "a\u{7f}b\u{9b}c\u{202e}d\x1be ✓";
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, SafeJsonFormatter::new());
        serde::Serialize::serialize(&vec![raw], &mut ser).unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(text.contains(r"a\u007fb\u009bc\u202ed\u001be ✓"), "{text}");
        assert!(
            !text
                .chars()
                .any(|c| is_dangerous(c) && c != '\n' && c != ' '),
            "{text}"
        );
        let back: Vec<String> = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, vec![raw.to_string()]);
    }
}
