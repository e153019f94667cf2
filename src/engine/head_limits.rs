//! http.client's limits on a response head, checked on the bytes as they arrive.
//!
//! requests reads responses with Python's http.client, which refuses a status or header line
//! longer than 65,536 bytes (`LineTooLong`) and a head of more than 100 lines counting the
//! blank line that ends it (`HTTPException('got more than 100 headers')`); requests raises
//! `ConnectionError(ProtocolError('Connection aborted.', …))` for both. hyper accepts lines up
//! to its 400 KiB buffer, so without this check a 300 KiB `Location` would be followed where
//! requests fails.

use std::fmt;

/// `http.client._MAXLINE`: a line (with its `\n`) may be this long, not longer.
const MAX_LINE: usize = 65_536;
/// `http.client._MAXHEADERS`: the head's lines after the status line, blank line included.
const MAX_HEADER_LINES: usize = 100;

/// Which of http.client's limits the head broke, worded as http.client words the exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeadLimit {
    StatusLineTooLong,
    HeaderLineTooLong,
    TooManyHeaders,
    /// Content-Length values that disagree, without chunked encoding: urllib3 raises
    /// `InvalidHeader` (the values, as urllib3 quotes them).
    ConflictingContentLength(ContentLengths),
}

/// The Content-Length values of a head, joined as urllib3's header dict joins them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ContentLengths {
    text: [u8; 48],
    len: usize,
}

impl ContentLengths {
    fn push(&mut self, value: &[u8]) {
        let sep: &[u8] = if self.len == 0 { b"" } else { b", " };
        for &b in sep.iter().chain(value) {
            if self.len < self.text.len() {
                self.text[self.len] = b;
                self.len += 1;
            }
        }
    }

    fn as_text(&self) -> String {
        String::from_utf8_lossy(&self.text[..self.len]).into_owned()
    }
}

impl fmt::Display for HeadLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let HeadLimit::ConflictingContentLength(values) = self {
            return write!(
                f,
                "Content-Length contained multiple unmatching values ({})",
                values.as_text()
            );
        }
        let (exception, reason) = match self {
            HeadLimit::ConflictingContentLength(_) => ("InvalidHeader", "Content-Length"),
            HeadLimit::StatusLineTooLong => (
                "LineTooLong",
                "got more than 65536 bytes when reading status line",
            ),
            HeadLimit::HeaderLineTooLong => (
                "LineTooLong",
                "got more than 65536 bytes when reading header line",
            ),
            HeadLimit::TooManyHeaders => ("HTTPException", "got more than 100 headers"),
        };
        write!(
            f,
            "the response head breaks http.client's limits ({exception}: {reason})"
        )
    }
}

impl std::error::Error for HeadLimit {}

/// Follows one response head (and any 1xx heads before it) byte by byte, in constant memory.
#[derive(Clone, Debug, Default)]
pub(crate) struct HeadScanner {
    /// Bytes of the current line so far, its `\n` included once seen.
    line_len: usize,
    /// Lines after the status line in the current head.
    header_lines: usize,
    in_status_line: bool,
    /// The status line is "HTTP/x.y 100": http.client skips that head (and only that one:
    /// a 103 is the response requests returns) and reads the next.
    informational: bool,
    status_prefix: [u8; 13],
    /// The first byte of the current line: a blank line is exactly "\r\n" or "\n".
    line_first: u8,
    /// The start of the current header line, enough to read Content-Length and
    /// Transfer-Encoding.
    line_start: Vec<u8>,
    framing: Framing,
    done: bool,
}

/// What the head says about the body's length, as urllib3's `_init_length` reads it.
#[derive(Clone, Debug, Default)]
struct Framing {
    lengths: ContentLengthSet,
    values: Option<ContentLengths>,
    /// A Transfer-Encoding header listed chunked (urllib3 then ignores Content-Length).
    chunked: bool,
}

/// The distinct integers among the Content-Length values, or that one was not an integer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ContentLengthSet {
    #[default]
    None,
    One(i64),
    Several,
    /// A value Python's int() refuses: urllib3 ignores the header.
    NotANumber,
}

impl ContentLengthSet {
    fn add(self, value: i64) -> Self {
        match self {
            ContentLengthSet::None => ContentLengthSet::One(value),
            ContentLengthSet::One(v) if v == value => self,
            ContentLengthSet::One(_) => ContentLengthSet::Several,
            other => other,
        }
    }
}

/// Header lines longer than this are not read for their Content-Length or Transfer-Encoding.
const LINE_START: usize = 256;

impl HeadScanner {
    pub(crate) fn new() -> Self {
        HeadScanner {
            in_status_line: true,
            ..HeadScanner::default()
        }
    }

    /// Take the next bytes from the connection; an error once a limit is broken.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<(), HeadLimit> {
        for &byte in data {
            if self.done {
                return Ok(());
            }
            self.take(byte)?;
        }
        Ok(())
    }

    fn take(&mut self, byte: u8) -> Result<(), HeadLimit> {
        if self.line_len == 0 {
            self.line_first = byte;
        }
        if self.in_status_line && self.line_len < self.status_prefix.len() {
            self.status_prefix[self.line_len] = byte;
        }
        if !self.in_status_line && self.line_len < LINE_START {
            self.line_start.push(byte);
        }
        self.line_len += 1;
        if self.line_len > MAX_LINE {
            return Err(if self.in_status_line {
                HeadLimit::StatusLineTooLong
            } else {
                HeadLimit::HeaderLineTooLong
            });
        }
        if byte == b'\n' {
            self.end_line()?;
        }
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), HeadLimit> {
        let blank = !self.in_status_line
            && (self.line_len == 1 || (self.line_len == 2 && self.line_first == b'\r'));
        if self.in_status_line {
            self.in_status_line = false;
            self.informational = is_continue(&self.status_prefix, self.line_len);
        } else {
            // http.client counts the line before checking whether it ends the head.
            self.header_lines += 1;
            if self.header_lines > MAX_HEADER_LINES {
                return Err(HeadLimit::TooManyHeaders);
            }
            let complete = self.line_len <= LINE_START;
            self.framing.read_line(&self.line_start, complete);
        }
        self.line_len = 0;
        self.line_start.clear();
        if blank {
            if self.informational {
                *self = HeadScanner::new();
            } else {
                self.done = true;
                return self.framing.check();
            }
        }
        Ok(())
    }
}

impl Framing {
    fn read_line(&mut self, line: &[u8], complete: bool) {
        let text = String::from_utf8_lossy(line);
        let Some((name, value)) = text.split_once(':') else {
            return;
        };
        // As the email parser keeps it: leading blanks and the line end go, trailing blanks stay.
        let shown = value
            .trim_start_matches([' ', '\t'])
            .trim_end_matches(['\r', '\n']);
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            // urllib3 joins every Transfer-Encoding and looks for chunked among the items.
            self.chunked |= value
                .split(',')
                .any(|item| item.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("content-length") {
            let values = self.values.get_or_insert(ContentLengths {
                text: [0; 48],
                len: 0,
            });
            values.push(shown.as_bytes());
            for part in value.split(',') {
                self.lengths = match python_int(part) {
                    Some(n) if complete => self.lengths.add(n),
                    _ => ContentLengthSet::NotANumber,
                };
            }
        }
    }

    fn check(&self) -> Result<(), HeadLimit> {
        match (self.lengths, self.chunked, self.values) {
            (ContentLengthSet::Several, false, Some(values)) => {
                Err(HeadLimit::ConflictingContentLength(values))
            }
            _ => Ok(()),
        }
    }
}

/// "HTTP/x.y 100" ending the status line or followed by a space (`line_len` counts the `\n`).
fn is_continue(prefix: &[u8; 13], line_len: usize) -> bool {
    line_len >= 13
        && prefix.starts_with(b"HTTP/")
        && prefix[9..12] == *b"100"
        && matches!(prefix[12], b' ' | b'\t' | b'\r' | b'\n')
}

/// Python's `int(text)` for what a Content-Length can hold: surrounding whitespace, a sign,
/// digits with single underscores between them.
fn python_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let n: i64 = digits.replace('_', "").parse().ok()?;
    Some(if negative { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_with(lines: usize) -> Vec<u8> {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..lines {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        head
    }

    #[test]
    fn ninety_nine_headers_pass_and_one_hundred_do_not() {
        assert_eq!(HeadScanner::new().feed(&head_with(99)), Ok(()));
        assert_eq!(
            HeadScanner::new().feed(&head_with(100)),
            Err(HeadLimit::TooManyHeaders)
        );
    }

    #[test]
    fn a_line_may_be_65536_bytes_with_its_newline() {
        let value = "a".repeat(MAX_LINE - "X: \r\n".len());
        let fits = format!("HTTP/1.1 200 OK\r\nX: {value}\r\n\r\n");
        assert_eq!(HeadScanner::new().feed(fits.as_bytes()), Ok(()));
        let over = format!("HTTP/1.1 200 OK\r\nX: {value}a\r\n\r\n");
        assert_eq!(
            HeadScanner::new().feed(over.as_bytes()),
            Err(HeadLimit::HeaderLineTooLong)
        );
    }

    #[test]
    fn limits_hold_across_reads_and_stop_after_the_head() {
        let mut scanner = HeadScanner::new();
        let status = format!("HTTP/1.1 200 {}", "x".repeat(MAX_LINE));
        let (a, b) = status.as_bytes().split_at(40_000);
        assert_eq!(scanner.feed(a), Ok(()));
        assert_eq!(scanner.feed(b), Err(HeadLimit::StatusLineTooLong));

        let mut scanner = HeadScanner::new();
        assert_eq!(scanner.feed(&head_with(3)), Ok(()));
        // The body is not a head: long lines there are fine.
        assert_eq!(scanner.feed(&vec![b'z'; 3 * MAX_LINE]), Ok(()));
    }

    #[test]
    fn content_lengths_that_disagree_fail_unless_chunked_or_not_numbers() {
        let head = |lines: &str| format!("HTTP/1.1 200 OK\r\n{lines}\r\n");
        let conflict =
            HeadScanner::new().feed(head("Content-Length: 3\r\nContent-Length: 5\r\n").as_bytes());
        match conflict {
            Err(e @ HeadLimit::ConflictingContentLength(_)) => assert_eq!(
                e.to_string(),
                "Content-Length contained multiple unmatching values (3, 5)"
            ),
            other => panic!("{other:?}"),
        }
        assert!(
            HeadScanner::new()
                .feed(head("Content-Length: 3, 4\r\n").as_bytes())
                .is_err()
        );
        // urllib3 quotes the values with their trailing blanks.
        let spaced = HeadScanner::new().feed(
            head("Content-Length:  +2\r\nContent-Length: 2_0 \r\nContent-Length: 2\r\n").as_bytes(),
        );
        assert_eq!(
            spaced.map_err(|e| e.to_string()),
            Err("Content-Length contained multiple unmatching values (+2, 2_0 , 2)".into())
        );
        for fine in [
            "Content-Length: 5\r\nContent-Length: 5\r\n",
            "Content-Length: 5, +5, 5\r\n",
            "Content-Length: 3\r\nContent-Length: x\r\n",
            "Transfer-Encoding: chunked\r\nContent-Length: 3\r\nContent-Length: 5\r\n",
            // urllib3 looks for chunked in every item of every Transfer-Encoding.
            "Transfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\nContent-Length: 5\r\n",
            "Transfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\nContent-Length: 3, 5\r\n",
        ] {
            assert_eq!(
                HeadScanner::new().feed(head(fine).as_bytes()),
                Ok(()),
                "{fine}"
            );
        }
    }

    #[test]
    fn informational_heads_are_skipped_and_the_next_head_is_checked() {
        let mut scanner = HeadScanner::new();
        assert_eq!(scanner.feed(b"HTTP/1.1 100 Continue\r\n\r\n"), Ok(()));
        assert_eq!(
            scanner.feed(&head_with(100)),
            Err(HeadLimit::TooManyHeaders)
        );
    }

    #[test]
    fn only_100_continue_is_skipped_as_http_client_does() {
        // A 103 is the response http.client returns: the head after it is never read.
        let mut scanner = HeadScanner::new();
        assert_eq!(scanner.feed(b"HTTP/1.1 103 Early Hints\r\n\r\n"), Ok(()));
        assert_eq!(scanner.feed(&head_with(100)), Ok(()));
        let mut scanner = HeadScanner::new();
        assert_eq!(scanner.feed(b"HTTP/1.1 100\n\n"), Ok(()));
        assert_eq!(
            scanner.feed(&head_with(100)),
            Err(HeadLimit::TooManyHeaders)
        );
    }
}
