//! mbox: mboxo and mboxrd read, mboxrd written. Messages are yielded one at a time.
//!
//! Escaping: mboxrd writers add one `>` to every body line matching `^>*From `; readers of
//! mboxrd remove one. mboxo writers escape only `^From ` and readers remove one `>` from
//! `^>From `, which is ambiguous: that is why ferry writes mboxrd.

use crate::lines::LineReader;
use crate::{CodecError, Limits};
use chrono::{DateTime, NaiveDateTime, Utc};
use std::io::{BufRead, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    Mboxo,
    #[default]
    Mboxrd,
}

#[derive(Debug, Clone)]
pub struct MboxMessage {
    /// 0-based position in the file.
    pub index: u64,
    /// Line of the `From ` separator.
    pub line: u64,
    /// Envelope sender from the separator line.
    pub envelope_from: Option<String>,
    /// Date from the separator line.
    pub received: Option<DateTime<Utc>>,
    /// The message, unescaped, byte for byte.
    pub bytes: Vec<u8>,
}

pub struct MboxReader<R> {
    lines: LineReader<R>,
    flavor: Flavor,
    limits: Limits,
    line: Vec<u8>,
    /// The separator line of the next message, already read.
    next_sep: Option<(Vec<u8>, u64)>,
    index: u64,
    started: bool,
    done: bool,
}

fn is_separator(line: &[u8]) -> bool {
    line.starts_with(b"From ")
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(input: R, flavor: Flavor, limits: Limits) -> Self {
        MboxReader {
            lines: LineReader::new(input, limits.max_line),
            flavor,
            limits,
            line: Vec::new(),
            next_sep: None,
            index: 0,
            started: false,
            done: false,
        }
    }

    /// The underlying reader (positioned after what was read).
    pub fn into_inner(self) -> R {
        self.lines.into_inner()
    }

    fn unescape<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        let quoted = line.iter().take_while(|b| **b == b'>').count();
        let escaped = match self.flavor {
            Flavor::Mboxrd => quoted >= 1 && line[quoted..].starts_with(b"From "),
            Flavor::Mboxo => quoted == 1 && line[1..].starts_with(b"From "),
        };
        if escaped { &line[1..] } else { line }
    }

    fn read_message(&mut self) -> Result<Option<MboxMessage>, CodecError> {
        if !self.started {
            self.started = true;
            // skip leading blank lines; the first other line must be a separator
            loop {
                self.line.clear();
                if !self.lines.read_line(&mut self.line)? {
                    return Ok(None);
                }
                if self.line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if !is_separator(&self.line) {
                    return Err(CodecError::Syntax {
                        line: self.lines.line_no,
                        reason: "not an mbox file: the first line does not start with `From `".into(),
                    });
                }
                self.next_sep = Some((self.line.clone(), self.lines.line_no));
                break;
            }
        }
        let Some((sep, sep_line)) = self.next_sep.take() else { return Ok(None) };
        let (envelope_from, received) = parse_separator(&sep);
        let mut bytes: Vec<u8> = Vec::new();
        let mut prev_blank = false;
        let mut too_large = false;
        loop {
            self.line.clear();
            let got = match self.lines.read_line(&mut self.line) {
                Ok(g) => g,
                Err(e @ CodecError::LineTooLong { .. }) => {
                    // finish this message, then report it
                    self.skip_to_next_separator()?;
                    return Err(e);
                }
                Err(e) => return Err(e),
            };
            if !got {
                break;
            }
            if is_separator(&self.line) && (prev_blank || bytes.is_empty()) {
                self.next_sep = Some((self.line.clone(), self.lines.line_no));
                break;
            }
            prev_blank = self.line == b"\n" || self.line == b"\r\n";
            if too_large {
                continue;
            }
            let content = self.unescape(&self.line);
            if bytes.len() + content.len() > self.limits.max_record {
                too_large = true;
                bytes = Vec::new();
                continue;
            }
            bytes.extend_from_slice(content);
        }
        if too_large {
            return Err(CodecError::RecordTooLarge { line: sep_line, limit: self.limits.max_record });
        }
        let at_end = self.next_sep.is_none();
        // the empty line before the next separator belongs to the mbox, not the message
        if bytes.ends_with(b"\r\n\r\n") {
            bytes.truncate(bytes.len() - 2);
        } else if bytes.ends_with(b"\n\n") {
            bytes.truncate(bytes.len() - 1);
        } else if at_end && (!bytes.ends_with(b"\n") || !header_complete(&bytes)) {
            return Err(CodecError::Syntax {
                line: sep_line,
                reason: format!("the mailbox ends in the middle of message {}; the file looks truncated", self.index + 1),
            });
        }
        let index = self.index;
        self.index += 1;
        // the message is held until it is written: without what it grew by
        bytes.shrink_to_fit();
        Ok(Some(MboxMessage { index, line: sep_line, envelope_from, received, bytes }))
    }

    fn skip_to_next_separator(&mut self) -> Result<(), CodecError> {
        let mut prev_blank = false;
        loop {
            self.line.clear();
            match self.lines.read_line(&mut self.line) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    if is_separator(&self.line) && prev_blank {
                        self.next_sep = Some((self.line.clone(), self.lines.line_no));
                        return Ok(());
                    }
                    prev_blank = self.line == b"\n" || self.line == b"\r\n";
                }
                Err(CodecError::LineTooLong { .. }) => prev_blank = false,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether the header section ends (an empty line) somewhere in the message.
fn header_complete(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|w| w == b"\n\n") || bytes.windows(4).any(|w| w == b"\r\n\r\n")
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = Result<MboxMessage, CodecError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_message() {
            Ok(Some(m)) => Some(Ok(m)),
            Ok(None) => None,
            Err(e) => {
                // reading goes on only if another message follows
                if self.next_sep.is_none() {
                    self.done = true;
                }
                self.index += 1;
                Some(Err(e))
            }
        }
    }
}

fn parse_separator(line: &[u8]) -> (Option<String>, Option<DateTime<Utc>>) {
    let text = String::from_utf8_lossy(crate::lines::trim_eol(line)).into_owned();
    let rest = text.strip_prefix("From ").unwrap_or("");
    let mut parts = rest.splitn(2, ' ');
    let from = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
    let date = parts.next().and_then(|d| {
        let d = d.split_whitespace().collect::<Vec<_>>().join(" ");
        NaiveDateTime::parse_from_str(&d, "%a %b %e %H:%M:%S %Y").ok().map(|n| n.and_utc())
    });
    (from, date)
}

/// Writes one message in mboxrd (separator line, escaped body, empty line); returns the
/// number of bytes written.
pub fn write_message(
    out: &mut impl Write,
    envelope_from: Option<&str>,
    received: Option<DateTime<Utc>>,
    message: &[u8],
) -> std::io::Result<u64> {
    let mut written = 0u64;
    let mut put = |b: &[u8]| -> std::io::Result<()> {
        out.write_all(b)?;
        written += b.len() as u64;
        Ok(())
    };
    let from = envelope_from.filter(|f| !f.is_empty() && !f.contains(char::is_whitespace)).unwrap_or("MAILER-DAEMON");
    let date = received.unwrap_or(DateTime::UNIX_EPOCH).format("%a %b %e %H:%M:%S %Y");
    put(format!("From {from} {date}\n").as_bytes())?;
    for line in message.split_inclusive(|b| *b == b'\n') {
        let quoted = line.iter().take_while(|b| **b == b'>').count();
        if line[quoted..].starts_with(b"From ") {
            put(b">")?;
        }
        put(line)?;
    }
    if !message.ends_with(b"\n") {
        put(b"\n")?;
    }
    put(b"\n")?;
    Ok(written)
}

/// Writes messages in mboxrd.
pub struct MboxWriter<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> MboxWriter<W> {
    pub fn new(out: W) -> Self {
        MboxWriter { out, written: 0 }
    }

    /// Bytes written so far: the offset where the next message's separator starts.
    pub fn position(&self) -> u64 {
        self.written
    }

    /// Appends a message; returns the number of bytes written for it.
    pub fn append(&mut self, envelope_from: Option<&str>, received: Option<DateTime<Utc>>, message: &[u8]) -> std::io::Result<u64> {
        let n = write_message(&mut self.out, envelope_from, received, message)?;
        self.written += n;
        Ok(n)
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read_all(data: &[u8], flavor: Flavor) -> Vec<Result<MboxMessage, CodecError>> {
        MboxReader::new(data, flavor, Limits::default()).collect()
    }

    #[test]
    fn mboxrd_escaping_both_ways() {
        let msg = b"Subject: x\n\nFrom here\n>From there\n>>From far\nFromage\n".to_vec();
        let mut w = MboxWriter::new(Vec::new());
        w.append(Some("a@b"), None, &msg).unwrap();
        w.append(None, None, b"Subject: y\n\nbody\n").unwrap();
        let out = w.finish().unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("\n>From here\n>>From there\n>>>From far\nFromage\n"), "{text}");
        let back = read_all(&out, Flavor::Mboxrd);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].as_ref().unwrap().bytes, msg);
        assert_eq!(back[0].as_ref().unwrap().envelope_from.as_deref(), Some("a@b"));
        assert_eq!(back[1].as_ref().unwrap().bytes, b"Subject: y\n\nbody\n");
    }

    #[test]
    fn mboxo_unescapes_one_level_only() {
        let data = b"From a Mon Jan  6 09:00:00 2025\nSubject: x\n\n>From here\n>>From there\n\n";
        let m = read_all(data, Flavor::Mboxo);
        assert_eq!(m[0].as_ref().unwrap().bytes, b"Subject: x\n\nFrom here\n>>From there\n");
        let d = m[0].as_ref().unwrap().received.unwrap();
        assert_eq!(d.to_rfc3339(), "2025-01-06T09:00:00+00:00");
    }

    #[test]
    fn truncated_mbox_is_reported() {
        let data = b"From a Mon Jan  6 09:00:00 2025\nSubject: x\n\nbody\n\nFrom b Mon Jan  6 09:00:00 2025\nSubject: cut off in the hea";
        let m = read_all(data, Flavor::Mboxrd);
        assert!(m[0].is_ok());
        assert!(
            matches!(&m[1], Err(CodecError::Syntax { line: 6, reason }) if reason.contains("message 2") && reason.contains("truncated")),
            "{m:?}"
        );
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn not_an_mbox() {
        let m = read_all(b"hello\nworld\n", Flavor::Mboxrd);
        assert!(matches!(&m[0], Err(CodecError::Syntax { line: 1, .. })));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn crlf_messages_keep_their_line_ends() {
        let msg = b"Subject: x\r\n\r\nbody\r\nFrom me\r\n";
        let mut w = MboxWriter::new(Vec::new());
        w.append(None, None, msg).unwrap();
        w.append(None, None, msg).unwrap();
        let out = w.finish().unwrap();
        let back = read_all(&out, Flavor::Mboxrd);
        assert_eq!(back[1].as_ref().unwrap().bytes, msg);
    }

    proptest! {
        #[test]
        fn any_message_round_trips(body in proptest::collection::vec(
            prop_oneof![Just("From x".to_string()), Just(">From y".to_string()), Just(">>>From".to_string()), Just("".to_string()), "[ \
                -~]{0,40}"], 0..20)) {
            let mut msg = b"Subject: p\n\n".to_vec();
            for l in &body { msg.extend_from_slice(l.as_bytes()); msg.push(b'\n'); }
            let mut w = MboxWriter::new(Vec::new());
            w.append(None, None, &msg).unwrap();
            w.append(None, None, &msg).unwrap();
            let out = w.finish().unwrap();
            let back = read_all(&out, Flavor::Mboxrd);
            prop_assert_eq!(back.len(), 2);
            for m in back { prop_assert_eq!(&m.unwrap().bytes, &msg); }
        }
    }
}
