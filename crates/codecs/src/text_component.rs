//! Splits vCard and iCalendar text into components (`BEGIN:X` ... `END:X`) without
//! parsing them, keeping each component's bytes exactly as they were.
//!
//! Lines are matched unfolded (a `BEGIN`, `END`, `UID` or `TZID` folded anywhere, even right
//! after its name, is still found), and input in UTF-16 with a byte order mark is decoded to
//! UTF-8 as it streams (see [`crate::utf16`]).

use crate::lines::{LineReader, trim_eol};
use crate::utf16::Decoded;
use crate::{CodecError, Limits};
use std::borrow::Cow;
use std::io::BufRead;

/// One component with everything nested in it, byte for byte.
#[derive(Debug, Clone)]
pub struct RawComponent {
    /// Upper-case component name (`VCARD`, `VEVENT`).
    pub name: String,
    /// Line where `BEGIN:` stands.
    pub line: u64,
    /// Byte offset of the `BEGIN:` line in the (UTF-8) input.
    pub offset: u64,
    pub bytes: Vec<u8>,
}

#[derive(Debug)]
pub enum Piece {
    /// A component at the depth asked for.
    Component(RawComponent),
    /// A component at that depth that could not be read; reading went on after it.
    Broken { line: u64, error: CodecError },
    /// A line of an enclosing component (such as VCALENDAR's VERSION), with its
    /// continuation lines.
    WrapperLine(Vec<u8>),
    /// A line outside any component that is not blank.
    Stray { line: u64 },
}

fn is_continuation(line: &[u8]) -> bool {
    line.first().is_some_and(|b| *b == b' ' || *b == b'\t')
}

/// `Some((true, NAME))` for `BEGIN:NAME`, `Some((false, NAME))` for `END:NAME`. `line` is
/// one unfolded content line (its line end may be there or not).
pub fn begin_end(line: &[u8]) -> Option<(bool, String)> {
    let l = trim_eol(line);
    if is_continuation(l) {
        return None;
    }
    let upper = |s: &[u8]| String::from_utf8_lossy(s).trim().to_ascii_uppercase();
    if l.len() >= 6 && l[..6].eq_ignore_ascii_case(b"BEGIN:") {
        Some((true, upper(&l[6..])))
    } else if l.len() >= 4 && l[..4].eq_ignore_ascii_case(b"END:") {
        Some((false, upper(&l[4..])))
    } else {
        None
    }
}

/// The content lines of a component held in memory, unfolded (line ends removed, each
/// continuation joined without its leading space or tab), with the number of the physical
/// line each starts on, counted from 0.
pub fn logical_lines(bytes: &[u8]) -> impl Iterator<Item = (u64, Cow<'_, [u8]>)> {
    let mut physical = bytes.split_inclusive(|b| *b == b'\n').peekable();
    let mut line_no = 0u64;
    std::iter::from_fn(move || {
        let first = physical.next()?;
        let start = line_no;
        line_no += 1;
        let mut full = Cow::Borrowed(trim_eol(first));
        while let Some(next) = physical.peek() {
            if !is_continuation(next) {
                break;
            }
            full.to_mut().extend_from_slice(&trim_eol(next)[1..]);
            physical.next();
            line_no += 1;
        }
        Some((start, full))
    })
}

/// The bytes with every fold removed (`CRLF` or `LF` followed by a space or tab).
pub fn unfold(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let fold = match b {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') && bytes.get(i + 2).is_some_and(|c| *c == b' ' || *c == b'\t') => 3,
            b'\n' if bytes.get(i + 1).is_some_and(|c| *c == b' ' || *c == b'\t') => 2,
            _ => 0,
        };
        if fold > 0 {
            i += fold;
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

/// Text of a vCard or calendar component: UTF-8 as it is; else UTF-8 once unfolded (a fold
/// may split a multi-byte character, since folding counts octets); else decoded with the
/// charset a CHARSET parameter names. `line` is the component's first line, for the error.
pub fn decode_text(bytes: &[u8], line: u64) -> Result<Cow<'_, str>, CodecError> {
    let e = match std::str::from_utf8(bytes) {
        Ok(s) => return Ok(Cow::Borrowed(s)),
        Err(e) => e,
    };
    if let Ok(s) = String::from_utf8(unfold(bytes)) {
        return Ok(Cow::Owned(s));
    }
    let bad_line = line + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64;
    let lower = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    let label = lower.split("charset=").nth(1).map(|rest| rest.split([';', ':', ',', '\r', '\n']).next().unwrap_or("").trim().to_owned());
    match label.and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes())) {
        Some(enc) if enc != encoding_rs::UTF_8 => Ok(Cow::Owned(enc.decode(bytes).0.into_owned())),
        _ => Err(CodecError::InvalidUtf8 { line: bad_line }),
    }
}

/// Longest unfolded start of a line kept for matching `BEGIN:` and `END:`.
const HEAD: usize = 256;

/// A physical line with its number and byte offset.
struct Physical {
    bytes: Vec<u8>,
    line: u64,
    offset: u64,
}

/// A content line: its physical lines byte for byte, and the start of it unfolded.
struct Logical {
    raw: Vec<u8>,
    head: Vec<u8>,
    line: u64,
    offset: u64,
}

/// Yields components at `depth` (0 for vCard files, 1 for the components of a VCALENDAR).
pub struct Splitter<R> {
    lines: LineReader<Decoded<R>>,
    limits: Limits,
    depth: usize,
    /// Open wrappers (components above `depth`).
    wrappers: Vec<String>,
    /// Top-level components opened so far (the VCALENDARs of a calendar file).
    opened: u64,
    /// Line of the outermost open wrapper's BEGIN.
    outer_line: u64,
    /// Line where the content line read last starts.
    last_line: u64,
    /// A line read ahead while looking for continuation lines, or the error reading it.
    held: Option<Result<Physical, CodecError>>,
    /// Set after a read error of the input itself: nothing more can be read.
    done: bool,
}

impl<R: BufRead> Splitter<R> {
    pub fn new(input: R, depth: usize, limits: Limits) -> Self {
        Splitter {
            lines: LineReader::new(Decoded::new(input), limits.max_line),
            limits,
            depth,
            wrappers: Vec::new(),
            opened: 0,
            outer_line: 0,
            last_line: 0,
            held: None,
            done: false,
        }
    }

    /// How many top-level components (`BEGIN:VCALENDAR`) have begun so far: the pieces
    /// returned since the n-th began belong to the n-th.
    pub fn top_level_count(&self) -> u64 {
        self.opened
    }

    /// Name and line of the outermost open wrapper, if any (`VCALENDAR`).
    pub fn outer_wrapper(&self) -> Option<(&str, u64)> {
        self.wrappers.first().map(|w| (w.as_str(), self.outer_line))
    }

    /// Line where the piece returned last starts (for a wrapper line, say).
    pub fn piece_line(&self) -> u64 {
        self.last_line
    }

    fn read_physical(&mut self) -> Result<Option<Physical>, CodecError> {
        if let Some(p) = self.held.take() {
            return p.map(Some);
        }
        if self.done {
            return Ok(None);
        }
        let mut bytes = Vec::new();
        let mut offset = self.lines.position();
        match self.lines.read_line(&mut bytes) {
            Ok(true) => {
                // a UTF-8 byte order mark before the first BEGIN: is not part of the text
                if self.lines.line_no == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
                    bytes.drain(..3);
                    offset += 3;
                }
                Ok(Some(Physical { bytes, line: self.lines.line_no, offset }))
            }
            Ok(false) => Ok(None),
            Err(e @ CodecError::LineTooLong { .. }) => Err(e),
            Err(e) => {
                // the input itself failed: stop rather than ask it again and again
                self.done = true;
                Err(e)
            }
        }
    }

    /// The next content line with its continuation lines.
    fn read_logical(&mut self) -> Result<Option<Logical>, CodecError> {
        let Some(first) = self.read_physical()? else { return Ok(None) };
        let mut head = trim_eol(&first.bytes).to_vec();
        head.truncate(HEAD);
        let mut raw = first.bytes;
        let mut too_large = false;
        loop {
            let next = match self.read_physical() {
                Ok(next) => next,
                Err(e) => {
                    // this line is whole; the error is the next one's
                    self.held = Some(Err(e));
                    break;
                }
            };
            match next {
                Some(next) if is_continuation(&next.bytes) => {
                    if head.len() < HEAD {
                        head.extend_from_slice(&trim_eol(&next.bytes)[1..]);
                        head.truncate(HEAD);
                    }
                    if raw.len() + next.bytes.len() > self.limits.max_record {
                        too_large = true;
                        raw = Vec::new();
                    } else if !too_large {
                        raw.extend_from_slice(&next.bytes);
                    }
                }
                Some(next) => {
                    self.held = Some(Ok(next));
                    break;
                }
                None => break,
            }
        }
        if too_large {
            return Err(CodecError::RecordTooLarge { line: first.line, limit: self.limits.max_record });
        }
        Ok(Some(Logical { raw, head, line: first.line, offset: first.offset }))
    }

    fn error_line(e: &CodecError, fallback: u64) -> u64 {
        match e {
            CodecError::Syntax { line, .. }
            | CodecError::LineTooLong { line, .. }
            | CodecError::RecordTooLarge { line, .. }
            | CodecError::InvalidUtf8 { line } => *line,
            CodecError::Io(_) => fallback,
        }
    }

    pub fn next_piece(&mut self) -> Option<Piece> {
        loop {
            let l = match self.read_logical() {
                Ok(Some(l)) => l,
                Ok(None) => {
                    if let Some(open) = self.wrappers.pop() {
                        self.wrappers.clear();
                        let line = self.lines.line_no;
                        return Some(Piece::Broken {
                            line,
                            error: CodecError::Syntax {
                                line,
                                reason: format!("input ends inside BEGIN:{open} (no END:{open}); the file looks truncated"),
                            },
                        });
                    }
                    return None;
                }
                Err(e) => {
                    let line = Self::error_line(&e, self.lines.line_no);
                    return Some(Piece::Broken { line, error: e });
                }
            };
            self.last_line = l.line;
            match begin_end(&l.head) {
                Some((true, name)) if self.wrappers.len() == self.depth => {
                    if self.depth == 0 {
                        self.opened += 1;
                    }
                    return Some(self.collect(name, l));
                }
                Some((true, name)) => {
                    if self.wrappers.is_empty() {
                        self.opened += 1;
                        self.outer_line = l.line;
                    }
                    self.wrappers.push(name)
                }
                Some((false, name)) => {
                    if self.wrappers.last() == Some(&name) {
                        self.wrappers.pop();
                    } else {
                        return Some(Piece::Broken {
                            line: l.line,
                            error: CodecError::Syntax { line: l.line, reason: format!("END:{name} without a matching BEGIN:{name}") },
                        });
                    }
                }
                None if self.wrappers.is_empty() => {
                    if !l.raw.iter().all(u8::is_ascii_whitespace) {
                        return Some(Piece::Stray { line: l.line });
                    }
                }
                None => return Some(Piece::WrapperLine(l.raw)),
            }
        }
    }

    /// Gathers one component up to its matching END. On an error inside it, reads on to
    /// that END so that the next component starts clean.
    fn collect(&mut self, name: String, first: Logical) -> Piece {
        let line = first.line;
        let offset = first.offset;
        let mut bytes = first.raw;
        let mut stack = vec![name.clone()];
        let mut error: Option<CodecError> = None;
        loop {
            let l = match self.read_logical() {
                Ok(Some(l)) => l,
                Ok(None) => {
                    // the enclosing wrappers cannot be closed either; one error says it all
                    self.wrappers.clear();
                    return Piece::Broken {
                        line,
                        error: error.unwrap_or_else(|| CodecError::Syntax {
                            line,
                            reason: format!("BEGIN:{name} at line {line} is never closed (input ends first)"),
                        }),
                    };
                }
                Err(e) => {
                    error.get_or_insert(e);
                    continue;
                }
            };
            match begin_end(&l.head) {
                Some((true, n)) => stack.push(n),
                Some((false, n)) => {
                    if stack.last() == Some(&n) {
                        // a nested component of the same name (a vCard 2.1 AGENT card)
                        // closes itself, not the outer one
                        stack.pop();
                    } else {
                        if error.is_none() {
                            error = Some(CodecError::Syntax {
                                line: l.line,
                                reason: format!("END:{n} where END:{} was expected", stack.last().map_or("", String::as_str)),
                            });
                        }
                        // an END of the outer component closes everything left open
                        if n == name {
                            stack.clear();
                        }
                    }
                }
                None => {}
            }
            if error.is_none() {
                if bytes.len() + l.raw.len() > self.limits.max_record {
                    error = Some(CodecError::RecordTooLarge { line, limit: self.limits.max_record });
                    bytes = Vec::new();
                } else {
                    bytes.extend_from_slice(&l.raw);
                }
            }
            if stack.is_empty() {
                return match error {
                    None => Piece::Component(RawComponent { name, line, offset, bytes }),
                    Some(error) => Piece::Broken { line, error },
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(input: &str, depth: usize) -> Vec<Piece> {
        let mut s = Splitter::new(input.as_bytes(), depth, Limits::default());
        std::iter::from_fn(|| s.next_piece()).collect()
    }

    #[test]
    fn splits_vcards_keeping_bytes() {
        let input = "BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\n\r\nBEGIN:VCARD\nFN:B\n folded\nEND:VCARD\n";
        let p = pieces(input, 0);
        assert_eq!(p.len(), 2);
        match &p[1] {
            Piece::Component(c) => {
                assert_eq!(c.bytes, b"BEGIN:VCARD\nFN:B\n folded\nEND:VCARD\n");
                assert_eq!(c.line, 5);
                assert_eq!(c.offset, 32);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn calendar_children_and_wrapper_lines() {
        let input =
            "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n y\nBEGIN:VEVENT\nUID:1\nBEGIN:VALARM\nEND:VALARM\nEND:VEVENT\nEND:VCALENDAR\n";
        let p = pieces(input, 1);
        assert!(matches!(&p[0], Piece::WrapperLine(l) if l == b"VERSION:2.0\n"));
        assert!(matches!(&p[1], Piece::WrapperLine(l) if l == b"PRODID:x\n y\n"));
        assert!(matches!(&p[2], Piece::Component(c) if c.name == "VEVENT" && c.bytes.ends_with(b"END:VALARM\nEND:VEVENT\n")));
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn a_nested_card_does_not_close_the_outer_one() {
        let input = "BEGIN:VCARD\nVERSION:2.1\nAGENT:\nBEGIN:VCARD\nVERSION:2.1\nFN:Agent\nEND:VCARD\nTEL:1\nEND:VCARD\nBEGIN:VCARD\nFN:B\nEND:VCARD\n";
        let p = pieces(input, 0);
        assert!(matches!(&p[0], Piece::Component(c) if c.bytes.ends_with(b"END:VCARD\nTEL:1\nEND:VCARD\n")), "{p:?}");
        assert!(matches!(&p[1], Piece::Component(c) if c.bytes == b"BEGIN:VCARD\nFN:B\nEND:VCARD\n"), "{p:?}");
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn unterminated_component_is_reported() {
        let p = pieces("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\n", 1);
        assert!(matches!(&p[0], Piece::Broken { error: CodecError::Syntax { line: 2, reason }, .. } if reason.contains("VEVENT")));
        assert_eq!(p.len(), 1, "{p:?}");
    }

    #[test]
    fn oversized_line_breaks_only_its_component() {
        let limits = Limits { max_line: 32, max_record: 1 << 20 };
        let input = format!("BEGIN:VCARD\nNOTE:{}\nEND:VCARD\nBEGIN:VCARD\nFN:ok\nEND:VCARD\n", "x".repeat(100));
        let mut s = Splitter::new(input.as_bytes(), 0, limits);
        let p: Vec<_> = std::iter::from_fn(|| s.next_piece()).collect();
        assert!(matches!(&p[0], Piece::Broken { error: CodecError::LineTooLong { line: 2, .. }, .. }));
        assert!(matches!(&p[1], Piece::Component(c) if c.bytes == b"BEGIN:VCARD\nFN:ok\nEND:VCARD\n"));
    }

    #[test]
    fn begin_and_end_are_matched_unfolded() {
        let input = "BEGIN:VCALENDAR\nBEGIN:VEV\n ENT\nUID\n :1\nEND\n :VEVENT\nEND:VCALENDAR\nBEGIN:VCALENDAR\nEND:VCALENDAR\n";
        let mut s = Splitter::new(input.as_bytes(), 1, Limits::default());
        let p: Vec<_> = std::iter::from_fn(|| s.next_piece()).collect();
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(matches!(&p[0], Piece::Component(c) if c.name == "VEVENT" && c.line == 2 && c.bytes.ends_with(b"END\n :VEVENT\n")));
        assert_eq!(s.top_level_count(), 2);
    }

    #[test]
    fn text_is_decoded_after_unfolding_a_split_character() {
        let bytes = b"BEGIN:VCARD\r\nFN:Zo\xC3\r\n \xAB\r\nEND:VCARD\r\n";
        assert_eq!(decode_text(bytes, 1).unwrap(), "BEGIN:VCARD\r\nFN:Zo\u{eb}\r\nEND:VCARD\r\n");
        assert!(matches!(decode_text(b"A\r\nB:\xC3x\r\n", 7), Err(CodecError::InvalidUtf8 { line: 8 })));
        let lines: Vec<_> = logical_lines(b"A:1\r\n 2\n\t3\nB:4").map(|(n, l)| (n, l.into_owned())).collect();
        assert_eq!(lines, [(0, b"A:123".to_vec()), (3, b"B:4".to_vec())]);
    }
}
