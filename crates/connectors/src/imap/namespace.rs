//! The personal namespace (RFC 2342): where the user's own folders live on the server.
//! Dovecot's default is no prefix and `/`; Cyrus and Courier put every folder under
//! `INBOX.` with `.` between levels. ferry's folder paths leave the prefix out, so that
//! `INBOX.Projects.2025` on one server is `Projects/2025` on another.
//!
//! async-imap does not know the NAMESPACE command, so it is sent and read here, on the
//! raw connection, while no other command is on the wire.

use super::session::Session;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Namespace {
    /// Put before every folder but INBOX (`INBOX.`), or empty.
    pub prefix: String,
    pub delimiter: Option<String>,
}

/// Most the NAMESPACE answer may take.
const MAX_ANSWER: usize = 64 << 10;
const TAG: &str = "ferryns";

/// Asks the server for its personal namespace; None when it has none or refuses.
pub async fn read(session: &mut Session) -> std::io::Result<Option<Namespace>> {
    let conn = session.get_mut();
    conn.write_all(format!("{TAG} NAMESPACE\r\n").as_bytes()).await?;
    conn.flush().await?;
    let mut answer = None;
    loop {
        let line = read_line(conn).await?;
        if let Some(done) = line.strip_prefix(format!("{TAG} ").as_bytes()) {
            return Ok(if done.len() >= 2 && done[..2].eq_ignore_ascii_case(b"OK") { answer } else { None });
        }
        if line.len() > 12 && line[..12].eq_ignore_ascii_case(b"* NAMESPACE ") {
            answer = parse(&line[12..]);
        }
    }
}

/// One response line, with any literals (`{n}` CRLF and n bytes) inside it.
async fn read_line(conn: &mut (impl AsyncReadExt + Unpin)) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    loop {
        // byte by byte: the answer is short, and nothing past it may be taken from
        // async-imap's stream
        let b = conn.read_u8().await?;
        line.push(b);
        if line.len() > MAX_ANSWER {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the NAMESPACE answer is too long"));
        }
        if line.ends_with(b"\r\n") {
            match literal_len(&line[..line.len() - 2]) {
                Some(n) if n <= MAX_ANSWER - line.len() => {
                    let start = line.len();
                    line.resize(start + n, 0);
                    conn.read_exact(&mut line[start..]).await?;
                }
                Some(_) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the NAMESPACE answer is too long")),
                None => {
                    line.truncate(line.len() - 2);
                    return Ok(line);
                }
            }
        }
    }
}

/// `n` when the text ends with a literal's announcement `{n}`.
fn literal_len(text: &[u8]) -> Option<usize> {
    let body = text.strip_suffix(b"}")?;
    let open = body.iter().rposition(|b| *b == b'{')?;
    std::str::from_utf8(&body[open + 1..]).ok()?.trim_end_matches('+').parse().ok()
}

#[derive(Debug)]
enum Value {
    Nil,
    Str(String),
    List(Vec<Value>),
}

/// The personal namespace from the data after `* NAMESPACE `: its first entry.
fn parse(data: &[u8]) -> Option<Namespace> {
    let mut pos = 0;
    let Value::List(personal) = value(data, &mut pos)? else { return None };
    let Some(Value::List(first)) = personal.into_iter().next() else { return None };
    let mut it = first.into_iter();
    let Some(Value::Str(prefix)) = it.next() else { return None };
    let delimiter = match it.next() {
        Some(Value::Str(d)) => Some(d),
        _ => None,
    };
    Some(Namespace { prefix, delimiter })
}

fn value(data: &[u8], pos: &mut usize) -> Option<Value> {
    while data.get(*pos) == Some(&b' ') {
        *pos += 1;
    }
    match data.get(*pos)? {
        b'(' => {
            *pos += 1;
            let mut items = Vec::new();
            loop {
                while data.get(*pos) == Some(&b' ') {
                    *pos += 1;
                }
                if data.get(*pos)? == &b')' {
                    *pos += 1;
                    return Some(Value::List(items));
                }
                items.push(value(data, pos)?);
            }
        }
        b'"' => {
            *pos += 1;
            let mut s = Vec::new();
            loop {
                match data.get(*pos)? {
                    b'\\' => {
                        s.push(*data.get(*pos + 1)?);
                        *pos += 2;
                    }
                    b'"' => {
                        *pos += 1;
                        return Some(Value::Str(String::from_utf8(s).ok()?));
                    }
                    b => {
                        s.push(*b);
                        *pos += 1;
                    }
                }
            }
        }
        b'{' => {
            let close = *pos + data[*pos..].iter().position(|b| *b == b'}')?;
            let n: usize = std::str::from_utf8(&data[*pos + 1..close]).ok()?.trim_end_matches('+').parse().ok()?;
            let start = close + 3; // "}\r\n"
            let s = data.get(start..start.checked_add(n)?)?;
            *pos = start + n;
            Some(Value::Str(String::from_utf8(s.to_vec()).ok()?))
        }
        _ => {
            let end = *pos + data[*pos..].iter().position(|b| matches!(b, b' ' | b'(' | b')')).unwrap_or(data.len() - *pos);
            let atom = std::str::from_utf8(&data[*pos..end]).ok()?;
            *pos = end;
            if atom.is_empty() {
                return None;
            }
            Some(if atom.eq_ignore_ascii_case("NIL") { Value::Nil } else { Value::Str(atom.to_owned()) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(prefix: &str, d: Option<&str>) -> Option<Namespace> {
        Some(Namespace { prefix: prefix.into(), delimiter: d.map(Into::into) })
    }

    #[test]
    fn personal_namespaces() {
        assert_eq!(parse(br#"(("" "/")) NIL NIL"#), ns("", Some("/")));
        assert_eq!(parse(br#"(("INBOX." ".")) (("user." ".")) (("" "."))"#), ns("INBOX.", Some(".")));
        assert_eq!(parse(br##"(("" "/") ("#mh/" "/" "X-PARAM" ("FLAG1" "FLAG2"))) NIL NIL"##), ns("", Some("/")));
        assert_eq!(parse(br#"(("INBOX" NIL)) NIL NIL"#), ns("INBOX", None));
        assert_eq!(parse(b"(({6}\r\nINBOX. \".\")) NIL NIL"), ns("INBOX.", Some(".")));
        assert_eq!(parse(br#"(("a\"b" "\\")) NIL NIL"#), ns("a\"b", Some("\\")));
        assert_eq!(parse(b"NIL NIL NIL"), None);
        for broken in [&b""[..], b"((", b"((\"INBOX.", b"(({99}\r\nab))", b"(()) NIL NIL"] {
            assert_eq!(parse(broken), None);
        }
    }

    #[test]
    fn literal_announcements() {
        assert_eq!(literal_len(b"* NAMESPACE (({6}"), Some(6));
        assert_eq!(literal_len(b"* NAMESPACE (({6+}"), Some(6));
        assert_eq!(literal_len(b"* NAMESPACE ((\"x\" \"/\"))"), None);
    }
}
