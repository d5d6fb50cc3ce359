//! Splits vCard and iCalendar text into components (`BEGIN:X` ... `END:X`) without
//! parsing them, keeping each component's bytes exactly as they were.

use crate::lines::{LineReader, trim_eol};
use crate::{CodecError, Limits};
use std::io::BufRead;

/// One component with everything nested in it, byte for byte.
#[derive(Debug, Clone)]
pub struct RawComponent {
    /// Upper-case component name (`VCARD`, `VEVENT`).
    pub name: String,
    /// Line where `BEGIN:` stands.
    pub line: u64,
    /// Byte offset of the `BEGIN:` line in the input.
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

/// `Some((true, NAME))` for `BEGIN:NAME`, `Some((false, NAME))` for `END:NAME`.
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

/// Yields components at `depth` (0 for vCard files, 1 for the components of a VCALENDAR).
pub struct Splitter<R> {
    lines: LineReader<R>,
    limits: Limits,
    depth: usize,
    /// Open wrappers (components above `depth`).
    wrappers: Vec<String>,
    offset: u64,
    line: Vec<u8>,
    /// A line read ahead while gathering a wrapper line's continuations.
    held: Option<Vec<u8>>,
}

impl<R: BufRead> Splitter<R> {
    pub fn new(input: R, depth: usize, limits: Limits) -> Self {
        Splitter {
            lines: LineReader::new(input, limits.max_line),
            limits,
            depth,
            wrappers: Vec::new(),
            offset: 0,
            line: Vec::new(),
            held: None,
        }
    }

    fn read(&mut self) -> Result<Option<Vec<u8>>, CodecError> {
        if let Some(l) = self.held.take() {
            return Ok(Some(l));
        }
        self.line.clear();
        let got = self.lines.read_line(&mut self.line);
        match got {
            Ok(true) => {
                self.offset += self.line.len() as u64;
                // a UTF-8 byte order mark before the first BEGIN: is not part of the text
                if self.lines.line_no == 1 && self.line.starts_with(b"\xEF\xBB\xBF") {
                    self.line.drain(..3);
                }
                Ok(Some(std::mem::take(&mut self.line)))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn next_piece(&mut self) -> Option<Piece> {
        loop {
            let line = match self.read() {
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
                    return Some(Piece::Broken { line: self.lines.line_no, error: e });
                }
            };
            let start_offset = self.offset - line.len() as u64;
            match begin_end(&line) {
                Some((true, name)) if self.wrappers.len() == self.depth => {
                    return Some(self.collect(name, line, start_offset));
                }
                Some((true, name)) => self.wrappers.push(name),
                Some((false, name)) => {
                    if self.wrappers.last() == Some(&name) {
                        self.wrappers.pop();
                    } else {
                        return Some(Piece::Broken {
                            line: self.lines.line_no,
                            error: CodecError::Syntax {
                                line: self.lines.line_no,
                                reason: format!("END:{name} without a matching BEGIN:{name}"),
                            },
                        });
                    }
                }
                None if self.wrappers.is_empty() => {
                    if !trim_eol(&line).iter().all(u8::is_ascii_whitespace) {
                        return Some(Piece::Stray { line: self.lines.line_no });
                    }
                }
                None => {
                    let mut full = line;
                    loop {
                        match self.read() {
                            Ok(Some(next)) if is_continuation(&next) => full.extend_from_slice(&next),
                            Ok(Some(next)) => {
                                self.held = Some(next);
                                break;
                            }
                            Ok(None) => break,
                            Err(e) => return Some(Piece::Broken { line: self.lines.line_no, error: e }),
                        }
                    }
                    return Some(Piece::WrapperLine(full));
                }
            }
        }
    }

    /// Gathers one component up to its matching END. On an error inside it, reads on to
    /// that END so that the next component starts clean.
    fn collect(&mut self, name: String, first: Vec<u8>, offset: u64) -> Piece {
        let line = self.lines.line_no;
        let mut bytes = first;
        let mut stack = vec![name.clone()];
        let mut error: Option<CodecError> = None;
        loop {
            let l = match self.read() {
                Ok(Some(l)) => l,
                Ok(None) => {
                    // the enclosing wrappers cannot be closed either; one error says it all
                    self.wrappers.clear();
                    return Piece::Broken {
                        line,
                        error: CodecError::Syntax {
                            line,
                            reason: format!("BEGIN:{name} at line {line} is never closed (input ends first)"),
                        },
                    };
                }
                Err(e) => {
                    error.get_or_insert(e);
                    continue;
                }
            };
            match begin_end(&l) {
                Some((true, n)) => stack.push(n),
                Some((false, n)) => {
                    if stack.last() == Some(&n) {
                        // a nested component of the same name (a vCard 2.1 AGENT card)
                        // closes itself, not the outer one
                        stack.pop();
                    } else {
                        if error.is_none() {
                            error = Some(CodecError::Syntax {
                                line: self.lines.line_no,
                                reason: format!("END:{n} where END:{} was expected", stack.last().unwrap()),
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
                if bytes.len() + l.len() > self.limits.max_record {
                    error = Some(CodecError::RecordTooLarge { line, limit: self.limits.max_record });
                    bytes = Vec::new();
                } else {
                    bytes.extend_from_slice(&l);
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
}
