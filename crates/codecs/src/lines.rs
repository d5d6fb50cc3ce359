//! A line reader with a length limit, counting lines for error messages.

use crate::CodecError;
use std::io::BufRead;

pub struct LineReader<R> {
    inner: R,
    max_line: usize,
    /// Number of the line most recently returned (1-based).
    pub line_no: u64,
    /// Bytes taken from the input so far, skipped lines included.
    consumed: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, max_line: usize) -> Self {
        LineReader { inner, max_line, line_no: 0, consumed: 0 }
    }

    /// Appends the next line, terminator included, to `buf`. Returns false at end of input.
    /// A line over the limit is an error, and reading it stops at the limit.
    pub fn read_line(&mut self, buf: &mut Vec<u8>) -> Result<bool, CodecError> {
        let start = buf.len();
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if available.is_empty() {
                if buf.len() > start {
                    self.line_no += 1;
                    return Ok(true);
                }
                return Ok(false);
            }
            let (take, done) = match memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            if buf.len() - start + take > self.max_line {
                buf.truncate(start);
                self.inner.consume(take);
                self.consumed += take as u64;
                if !done {
                    self.skip_rest_of_line()?;
                }
                self.line_no += 1;
                return Err(CodecError::LineTooLong { line: self.line_no, limit: self.max_line });
            }
            buf.extend_from_slice(&available[..take]);
            self.inner.consume(take);
            self.consumed += take as u64;
            if done {
                self.line_no += 1;
                return Ok(true);
            }
        }
    }

    /// Consumes input up to and including the next `\n`, keeping none of it.
    fn skip_rest_of_line(&mut self) -> Result<(), CodecError> {
        loop {
            let available = self.inner.fill_buf()?;
            if available.is_empty() {
                return Ok(());
            }
            match memchr(b'\n', available) {
                Some(i) => {
                    self.inner.consume(i + 1);
                    self.consumed += i as u64 + 1;
                    return Ok(());
                }
                None => {
                    let n = available.len();
                    self.inner.consume(n);
                    self.consumed += n as u64;
                }
            }
        }
    }

    /// Byte offset in the input where the next line starts.
    pub fn position(&self) -> u64 {
        self.consumed
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    memchr::memchr(needle, hay)
}

/// Appends one content line folded at 75 octets, never inside a UTF-8 character, with its
/// CRLF.
pub fn push_folded(out: &mut String, s: &str) {
    let mut width = 0;
    for c in s.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// vCard or iCalendar text whose folds split a UTF-8 character (legal: folding counts
/// octets) refolded on character boundaries, for servers that decode each physical line
/// on its own and would garble or refuse it. `None` when no physical line needs it (the
/// text is then sent as it is). The content is unchanged: only where lines fold moves.
pub fn refold_split_characters(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.split(|b| *b == b'\n').all(|l| std::str::from_utf8(l).is_ok()) {
        return None;
    }
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 64 * 3);
    let mut raw_out: Vec<u8> = Vec::new();
    let mut logical: Vec<u8> = Vec::new();
    let flush = |logical: &mut Vec<u8>, out: &mut String, raw_out: &mut Vec<u8>| {
        if logical.is_empty() {
            return;
        }
        match std::str::from_utf8(logical) {
            Ok(s) => push_folded(out, s),
            // not text even unfolded: kept as it was, byte for byte
            Err(_) => {
                raw_out.extend_from_slice(std::mem::take(out).as_bytes());
                raw_out.extend_from_slice(logical);
                raw_out.extend_from_slice(b"\r\n");
            }
        }
        logical.clear();
    };
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        let l = trim_eol(line);
        if matches!(l.first(), Some(b' ' | b'\t')) && !logical.is_empty() {
            logical.extend_from_slice(&l[1..]);
        } else {
            flush(&mut logical, &mut out, &mut raw_out);
            logical.extend_from_slice(l);
        }
    }
    flush(&mut logical, &mut out, &mut raw_out);
    raw_out.extend_from_slice(out.as_bytes());
    Some(raw_out)
}

/// The line without its `\n` or `\r\n`.
pub fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_that_split_a_character_are_moved_to_a_boundary() {
        let split = b"BEGIN:VCARD\r\nFN:Zo\xc3\r\n \xab Ellingsen\r\nNOTE:a\r\n b\r\nEND:VCARD\r\n";
        let fixed = refold_split_characters(split).expect("needs it");
        assert_eq!(fixed, "BEGIN:VCARD\r\nFN:Zoë Ellingsen\r\nNOTE:ab\r\nEND:VCARD\r\n".as_bytes());
        assert!(refold_split_characters(b"BEGIN:VCARD\r\nFN:Zo\xc3\xab\r\n E\r\nEND:VCARD\r\n").is_none(), "whole characters: as it is");
        let long = format!("NOTE:{}\r\n", "ä".repeat(100));
        let mut bytes = long.as_bytes().to_vec();
        // after "NOTE:" and 35 two-byte characters and one byte of the 36th
        bytes.insert(76, b'\n');
        bytes.insert(76, b'\r');
        bytes.insert(78, b' ');
        let fixed = refold_split_characters(&bytes).unwrap();
        assert!(fixed.split(|b| *b == b'\n').all(|l| std::str::from_utf8(l).is_ok() && l.len() <= 76));
        assert_eq!(String::from_utf8(fixed).unwrap().replace("\r\n ", ""), long);
    }

    #[test]
    fn reads_lines_and_counts() {
        let mut r = LineReader::new(&b"a\r\nbb\nccc"[..], 10);
        let mut out = Vec::new();
        let mut lines = Vec::new();
        while {
            out.clear();
            r.read_line(&mut out).unwrap()
        } {
            lines.push(String::from_utf8(out.clone()).unwrap());
        }
        assert_eq!(lines, ["a\r\n", "bb\n", "ccc"]);
        assert_eq!(r.line_no, 3);
    }

    #[test]
    fn long_line_is_an_error_with_its_number() {
        let data = b"ok\n0123456789abcdef\n";
        let mut r = LineReader::new(std::io::BufReader::with_capacity(4, &data[..]), 8);
        let mut out = Vec::new();
        assert!(r.read_line(&mut out).unwrap());
        out.clear();
        match r.read_line(&mut out) {
            Err(CodecError::LineTooLong { line: 2, limit: 8 }) => {}
            other => panic!("{other:?}"),
        }
        assert!(out.is_empty());
        // reading goes on after the long line
        let mut r2 = LineReader::new(&b"0123456789abcdef\nnext\n"[..], 8);
        assert!(r2.read_line(&mut out).is_err());
        assert_eq!(r2.position(), 17, "the long line is skipped and counted");
        assert!(r2.read_line(&mut out).unwrap());
        assert_eq!(out, b"next\n");
        assert_eq!(r2.line_no, 2);
    }
}
