//! `--ascii`: text spelled in ASCII for terminals without Unicode. The dashboard's strings and
//! the report printed after it go through the same table, so neither sends a byte ≥ 0x80.

use std::borrow::Cow;

/// `s` in ASCII: arrows, ellipses, symbols and maths signs spelled out, anything else `?`.
pub(crate) fn spell(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '→' => out.push_str("->"),
            '←' => out.push_str("<-"),
            '↑' => out.push('^'),
            '↓' => out.push('v'),
            '…' => out.push_str("..."),
            '·' | '•' => out.push('*'),
            '—' | '–' | '−' | '─' => out.push('-'),
            '×' => out.push('x'),
            '✓' => out.push('+'),
            '✗' => out.push('x'),
            '≥' => out.push_str(">="),
            '≤' => out.push_str("<="),
            '≈' => out.push('~'),
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maths_arrows_and_symbols_are_spelled_out() {
        assert_eq!(
            spell("sleep = min(120, 0.5 × 2^(n − 1)) → 1 s…"),
            "sleep = min(120, 0.5 x 2^(n - 1)) -> 1 s..."
        );
        assert_eq!(spell("✓ ok · ✗ FAILED"), "+ ok * x FAILED");
        assert!(spell("日本 ≥ ①").is_ascii());
        assert!(matches!(spell("plain"), Cow::Borrowed("plain")));
    }
}
