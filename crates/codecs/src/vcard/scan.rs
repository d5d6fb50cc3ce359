//! The content lines of one card: unfolding (with vCard 2.1's quoted-printable soft line
//! breaks) and the split of a line into group, name, parameters and value.

use crate::CodecError;

/// Most content lines one card may hold. An address book card has dozens; a card of a
/// million lines is hostile (parsed, it would take gigabytes) and is refused.
pub const MAX_LINES: usize = 10_000;

/// One logical (unfolded) line and the physical line it starts on.
pub struct Line {
    pub no: u64,
    pub bytes: Vec<u8>,
}

/// What unfolding noticed that a reader must be told of.
pub struct Joined {
    /// Physical line number of a line that had no property name and was joined to the
    /// line above as a line break.
    pub line: u64,
}

/// Unfolds a card into logical lines. A line that does not start like a content line
/// (`NAME;` or `NAME:`) is a piece of the value above broken by a raw line break, as some
/// exporters write multi-line addresses: it is joined with a line break and reported.
pub fn unfold(card: &[u8], first_line: u64) -> Result<(Vec<Line>, Vec<Joined>), CodecError> {
    let mut out: Vec<Line> = Vec::new();
    let mut joined = Vec::new();
    // the current line is quoted-printable and ended with `=`: the next line goes on
    let mut soft = false;
    for (i, raw) in card.split(|b| *b == b'\n').enumerate() {
        let no = first_line + i as u64;
        let l = raw.strip_suffix(b"\r").unwrap_or(raw);
        if soft && let Some(cur) = out.last_mut() {
            cur.bytes.pop();
            cur.bytes.extend_from_slice(l);
            soft = l.ends_with(b"=");
            continue;
        }
        if l.iter().all(|b| *b == b' ' || *b == b'\t') {
            // blank: ends a vCard 2.1 base64 value, else nothing
            continue;
        }
        match out.last_mut() {
            Some(cur) if l[0] == b' ' || l[0] == b'\t' => cur.bytes.extend_from_slice(&l[1..]),
            Some(cur) if !starts_like_property(l) => {
                // base64 lines of vCard 2.1 are not always indented; whitespace is no part of them
                if !split_header(&cur.bytes).is_some_and(|(h, _)| is_base64(h)) {
                    joined.push(Joined { line: no });
                }
                cur.bytes.push(b'\n');
                cur.bytes.extend_from_slice(l);
            }
            _ => {
                if out.len() >= MAX_LINES {
                    return Err(CodecError::Syntax {
                        line: first_line,
                        reason: format!("the card has more than {MAX_LINES} lines; it is refused as too large to convert"),
                    });
                }
                out.push(Line { no, bytes: l.to_vec() });
            }
        }
        let cur = out.last().expect("pushed");
        soft = cur.bytes.ends_with(b"=") && split_header(&cur.bytes).is_some_and(|(h, _)| is_quoted_printable(h));
    }
    Ok((out, joined))
}

fn starts_like_property(l: &[u8]) -> bool {
    let name_len = l.iter().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')).count();
    name_len > 0 && matches!(l.get(name_len), Some(b';' | b':'))
}

fn is_quoted_printable(header: &[u8]) -> bool {
    header.windows(16).any(|w| w.eq_ignore_ascii_case(b"QUOTED-PRINTABLE"))
}

fn is_base64(header: &[u8]) -> bool {
    let upper = header.to_ascii_uppercase();
    upper.windows(6).any(|w| w == b"BASE64") || upper.split(|b| *b == b';').any(|p| p == b"ENCODING=B")
}

/// Splits a logical line at the first `:` outside double quotes: (name and parameters,
/// value).
pub fn split_header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut quoted = false;
    for (i, b) in line.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some((&line[..i], &line[i + 1..])),
            _ => {}
        }
    }
    None
}

/// One parameter; `name` is upper-case, empty for a vCard 2.1 bare value (`;HOME`).
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub values: Vec<String>,
}

/// The parts of a content line's header.
pub struct Header {
    pub group: Option<String>,
    /// Upper-case.
    pub name: String,
    /// As written (`X-ABLabel`).
    pub spelled: String,
    pub params: Vec<Param>,
}

/// Splits `s` on `sep` outside double quotes.
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + 1;
        }
    }
    parts.push(&s[start..]);
    parts
}

pub fn parse_header(header: &[u8]) -> Header {
    let text = String::from_utf8_lossy(header);
    let mut parts = split_unquoted(&text, ';').into_iter();
    let full = parts.next().unwrap_or("").trim();
    let (group, name) = match full.rsplit_once('.') {
        Some((g, n)) => (Some(g.to_owned()), n),
        None => (None, full),
    };
    let params = parts
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (name, value) = match p.split_once('=') {
                Some((n, v)) => (n.trim().to_ascii_uppercase(), v),
                None => (String::new(), p),
            };
            let values = split_unquoted(value, ',')
                .into_iter()
                .map(|v| {
                    let v = v.trim();
                    v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v).to_owned()
                })
                .collect();
            Param { name, values }
        })
        .collect();
    Header { group, name: name.to_ascii_uppercase(), spelled: name.to_owned(), params }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| String::from_utf8_lossy(&l.bytes).into_owned()).collect()
    }

    #[test]
    fn soft_breaks_folds_and_raw_breaks() {
        let card =
            b"BEGIN:VCARD\r\nNOTE;QUOTED-PRINTABLE:a=\r\n b=0D=0A=\r\nc\r\nFN:x\r\n y\r\nADR:;;1 Road\r\nFlat 2;Town;;;\r\nEND:VCARD\r\n";
        let (lines, joined) = unfold(card, 5).unwrap();
        assert_eq!(
            texts(&lines),
            ["BEGIN:VCARD", "NOTE;QUOTED-PRINTABLE:a b=0D=0Ac", "FN:xy", "ADR:;;1 Road\nFlat 2;Town;;;", "END:VCARD"]
        );
        assert_eq!(lines[3].no, 11);
        assert_eq!(joined.iter().map(|j| j.line).collect::<Vec<_>>(), [12]);
    }

    #[test]
    fn header_with_group_bare_and_quoted_params() {
        let h = parse_header(b"item1.EMAIL;INTERNET;type=\"a,b\";X-Y=1,2");
        assert_eq!(h.group.as_deref(), Some("item1"));
        assert_eq!(h.name, "EMAIL");
        assert_eq!(h.params[0], Param { name: String::new(), values: vec!["INTERNET".into()] });
        assert_eq!(h.params[1], Param { name: "TYPE".into(), values: vec!["a,b".into()] });
        assert_eq!(h.params[2].values, ["1", "2"]);
    }
}
