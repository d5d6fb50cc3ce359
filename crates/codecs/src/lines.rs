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

/// The line without its `\n` or `\r\n`.
pub fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

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
