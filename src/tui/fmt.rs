//! Small text helpers: times as people read them, and wrapping/truncation done before layout so
//! each panel knows its height (ratatui's own wrapping does not say how many lines it made).

use std::time::Duration;

/// "0.2 ms", "12 ms", "1.25 s": the same steps as the plain report.
pub(super) fn ms(ms: f64) -> String {
    crate::report::words::fmt_ms(ms)
}

pub(super) fn duration(d: Duration) -> String {
    ms(d.as_secs_f64() * 1000.0)
}

/// A live counter: tenths of a second are enough while a stage runs, and steadier to read.
pub(super) fn counter(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{} ms", (s * 1000.0) as u64)
    } else {
        format!("{s:.1} s")
    }
}

/// Seconds as in the report's settings line: "10s", "0.5s".
pub(super) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s}s")
    }
}

pub(super) fn width(s: &str) -> usize {
    s.chars().count()
}

/// Cut `s` to `max` columns, marking the cut with `ellipsis`.
pub(super) fn truncate(s: &str, max: usize, ellipsis: &str) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(width(ellipsis));
    let mut out: String = s.chars().take(keep).collect();
    if max >= width(ellipsis) {
        out.push_str(ellipsis);
    }
    out
}

/// Cut `s` to `max` columns in the middle, keeping its start and its end
/// (`https://very-long-host…/path`): a URL's host and its last segment say the most.
pub(super) fn middle(s: &str, max: usize, ellipsis: &str) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(width(ellipsis));
    if keep == 0 {
        return truncate(s, max, ellipsis);
    }
    let tail = keep * 2 / 5;
    let head = keep - tail;
    let chars: Vec<char> = s.chars().collect();
    let mut out: String = chars[..head].iter().collect();
    out.push_str(ellipsis);
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// Word-wrap `text` to `width` columns. The first line starts with `first`, the others with
/// `rest` (indents). Words longer than a line (URLs) are cut so nothing passes `width`.
pub(super) fn wrap(first: &str, rest: &str, text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let room = width
        .saturating_sub(self::width(rest).max(self::width(first)))
        .max(4);
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        let chars: Vec<char> = word.chars().collect();
        for piece in chars.chunks(room) {
            let piece: String = piece.iter().collect();
            if !empty && self::width(&line) + 1 + self::width(&piece) > width {
                lines.push(std::mem::replace(&mut line, rest.to_string()));
                empty = true;
            }
            if !empty {
                line.push(' ');
            }
            line.push_str(&piece);
            empty = false;
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_the_report() {
        assert_eq!(ms(0.04), "0.0 ms");
        assert_eq!(ms(2.25), "2.2 ms");
        assert_eq!(ms(12.4), "12 ms");
        assert_eq!(ms(1500.0), "1.50 s");
        assert_eq!(counter(Duration::from_millis(250)), "250 ms");
        assert_eq!(counter(Duration::from_millis(1250)), "1.2 s");
        assert_eq!(secs(Duration::from_secs(10)), "10s");
        assert_eq!(secs(Duration::from_millis(500)), "0.5s");
    }

    #[test]
    fn wrapping_and_truncation_respect_the_width() {
        let lines = wrap("hint: ", "      ", &"word ".repeat(40), 30);
        assert!(lines.len() > 1);
        assert!(lines[0].starts_with("hint: word"));
        assert!(lines.iter().all(|l| width(l) <= 30), "{lines:?}");
        assert!(lines[1].starts_with("      word"));
        let long = wrap("", "", &"x".repeat(100), 20);
        assert!(long.iter().all(|l| width(l) <= 20), "{long:?}");
        assert_eq!(truncate("abcdef", 4, "…"), "abc…");
        assert_eq!(truncate("abc", 4, "…"), "abc");
        assert_eq!(wrap("", "", "", 20), vec![String::new()]);
        let url = "https://very-long-host.example.internal.test:8443/api/v2/health";
        let short = middle(url, 30, "…");
        assert_eq!(width(&short), 30);
        assert!(short.starts_with("https://very-long-"), "{short}");
        assert!(short.ends_with("v2/health"), "{short}");
        assert_eq!(middle("abc", 3, "…"), "abc");
        assert_eq!(middle("abcdef", 1, "…"), "…");
    }
}
