//! A card read into version-neutral properties: every value decoded (quoted-printable,
//! base64, charset) and held as the escaped text that vCard 3.0 and 4.0 share, or as bytes.

use super::decode::{self, Text};
use super::scan::{self, Line, Param};
use crate::CodecError;
use crate::text_component::begin_end;

/// Deepest nesting of cards (an AGENT inside an AGENT...) accepted.
const MAX_NESTING: usize = 4;

#[derive(Debug, Clone)]
pub enum Value {
    /// Text escaped as in 3.0 and 4.0 (`\,` `\;` `\\` `\n`).
    Text(String),
    /// Inline bytes (vCard 2.1/3.0 base64) and their media type when known.
    Binary { data: Vec<u8>, media_type: Option<String> },
    /// A card nested in the property (vCard 2.1 AGENT).
    Card(Box<Card>),
}

#[derive(Debug, Clone)]
pub struct Prop {
    pub group: Option<String>,
    /// Upper-case.
    pub name: String,
    /// As the source wrote it (`X-ABLabel`); written so when the name is kept.
    pub spelled: String,
    /// TYPE values (bare 2.1 ones included), without PREF.
    pub types: Vec<String>,
    /// From `PREF=n` or a `PREF` type.
    pub pref: Option<String>,
    /// The other parameters; never ENCODING or CHARSET (the value is decoded).
    pub params: Vec<Param>,
    pub value: Value,
    pub line: u64,
}

impl Prop {
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Card {
    /// The VERSION the card declares (`2.1`, `3.0`, `4.0`), empty when it has none.
    pub version: String,
    pub props: Vec<Prop>,
}

impl Card {
    pub fn is_v21(&self) -> bool {
        self.version == "2.1" || self.version == "2.0"
    }
}

/// Reads one card (`BEGIN:VCARD` ... `END:VCARD`). Whatever is not read exactly is said
/// in `warnings`; bytes that are not text in any named charset are an error.
pub fn read(bytes: &[u8], first_line: u64, warnings: &mut Vec<String>) -> Result<Card, CodecError> {
    let (lines, joined) = scan::unfold(bytes, first_line)?;
    let card = read_lines(&lines, 0, warnings)?;
    for j in joined {
        let prop = card.props.iter().rev().find(|p| p.line < j.line).map(|p| p.name.as_str()).unwrap_or("?");
        warnings.push(format!("{prop}: line {} has no property name; read as a line break in the {prop} value above it", j.line));
    }
    Ok(card)
}

fn syntax(line: u64, reason: impl Into<String>) -> CodecError {
    CodecError::Syntax { line, reason: reason.into() }
}

/// Index of the END matching the BEGIN at `lines[start]`.
fn matching_end(lines: &[Line], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, l) in lines.iter().enumerate().skip(start) {
        match begin_end(&l.bytes) {
            Some((true, _)) => depth += 1,
            Some((false, _)) => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            None => {}
        }
    }
    None
}

fn read_lines(lines: &[Line], depth: usize, warnings: &mut Vec<String>) -> Result<Card, CodecError> {
    let first = lines.first().map(|l| l.no).unwrap_or(1);
    if !matches!(lines.first().and_then(|l| begin_end(&l.bytes)), Some((true, n)) if n == "VCARD") {
        return Err(syntax(first, "a vCard must start with BEGIN:VCARD"));
    }
    let end = matching_end(lines, 0).ok_or_else(|| syntax(first, "BEGIN:VCARD without END:VCARD"))?;
    let body = &lines[1..end];
    // the version decides how values are escaped; it may stand anywhere in the card
    let mut version = String::new();
    let mut i = 0;
    while i < body.len() {
        if let Some((true, _)) = begin_end(&body[i].bytes) {
            i = matching_end(body, i).unwrap_or(body.len());
        } else if let Some((h, v)) = scan::split_header(&body[i].bytes)
            && h.eq_ignore_ascii_case(b"VERSION")
        {
            version = String::from_utf8_lossy(v).trim().to_owned();
        }
        i += 1;
    }
    let mut card = Card { version, props: Vec::new() };
    let mut i = 0;
    while i < body.len() {
        let l = &body[i];
        if let Some((true, name)) = begin_end(&l.bytes) {
            let j = matching_end(body, i).ok_or_else(|| syntax(l.no, format!("BEGIN:{name} without END:{name}")))?;
            if name != "VCARD" {
                warnings.push(format!("{name}: a BEGIN:{name} block inside the card (line {}) is not kept", l.no));
            } else if depth + 1 > MAX_NESTING {
                return Err(syntax(l.no, format!("cards nested more than {MAX_NESTING} deep")));
            } else {
                let nested = read_lines(&body[i..=j], depth + 1, warnings)?;
                // vCard 2.1: `AGENT:` and the agent's card on the lines after it
                match card.props.last_mut() {
                    Some(p) if p.name == "AGENT" && p.text().is_some_and(str::is_empty) => p.value = Value::Card(Box::new(nested)),
                    _ => card.props.push(Prop {
                        group: None,
                        name: "AGENT".into(),
                        spelled: "AGENT".into(),
                        types: Vec::new(),
                        pref: None,
                        params: Vec::new(),
                        value: Value::Card(Box::new(nested)),
                        line: l.no,
                    }),
                }
            }
            i = j + 1;
            continue;
        }
        i += 1;
        let Some((header, value)) = scan::split_header(&l.bytes) else {
            return Err(syntax(
                l.no,
                format!("`{}` is not a property", String::from_utf8_lossy(&l.bytes).chars().take(60).collect::<String>()),
            ));
        };
        let header = scan::parse_header(header);
        if matches!(header.name.as_str(), "VERSION" | "BEGIN" | "END") {
            continue;
        }
        card.props.push(read_prop(header, value, l.no, card.is_v21(), warnings)?);
    }
    Ok(card)
}

const BINARY: [&str; 4] = ["PHOTO", "LOGO", "SOUND", "KEY"];
/// Structured properties: components separated by `;`.
const STRUCTURED: [&str; 4] = ["N", "ADR", "ORG", "GENDER"];
/// Lists of text separated by `,`.
const LISTS: [&str; 2] = ["CATEGORIES", "NICKNAME"];
/// Single text values, whose commas and semicolons are escaped in 3.0 and 4.0.
const TEXT: [&str; 11] = ["FN", "NOTE", "TITLE", "ROLE", "LABEL", "MAILER", "NAME", "CLASS", "SORT-STRING", "PRODID", "EMAIL"];

fn read_prop(h: scan::Header, raw: &[u8], line: u64, v21: bool, warnings: &mut Vec<String>) -> Result<Prop, CodecError> {
    let name = h.name;
    let spelled = h.spelled;
    let mut encoding: Option<String> = None;
    let mut charset: Option<String> = None;
    let mut types = Vec::new();
    let mut pref = None;
    let mut params = Vec::new();
    let mut cid = false;
    for p in h.params {
        match p.name.as_str() {
            "ENCODING" => encoding = p.values.first().map(|v| v.to_ascii_uppercase()),
            "CHARSET" => charset = p.values.first().cloned(),
            "PREF" => pref = p.values.first().cloned(),
            "TYPE" | "" => {
                for v in p.values {
                    let upper = v.to_ascii_uppercase();
                    match upper.as_str() {
                        "QUOTED-PRINTABLE" | "BASE64" | "B" | "8BIT" | "7BIT" if p.name.is_empty() => encoding = Some(upper),
                        "PREF" => pref = Some("1".into()),
                        _ if v.is_empty() => {}
                        _ => types.push(v),
                    }
                }
            }
            "VALUE" => match p.values.first().map(|v| v.to_ascii_uppercase()).as_deref() {
                Some("INLINE") => {}
                Some(v @ ("URL" | "URI" | "CONTENT-ID" | "CID")) => {
                    cid = v.starts_with('C');
                    params.push(Param { name: p.name, values: vec!["uri".into()] })
                }
                _ => params.push(p),
            },
            _ => params.push(p),
        }
    }
    let text_of = |bytes: &[u8], warnings: &mut Vec<String>| -> Result<String, CodecError> {
        match decode::charset_text(bytes, charset.as_deref()) {
            Text::Exact(s) => Ok(s),
            Text::Lossy(s, read_as) => {
                warnings.push(format!(
                    "{name}: bytes not valid in charset {} (line {line}) read as {read_as} with replacement characters",
                    charset.as_deref().unwrap_or("UTF-8")
                ));
                Ok(s)
            }
            Text::NotUtf8 => Err(CodecError::InvalidUtf8 { line }),
        }
    };
    let value = match encoding.as_deref() {
        Some("BASE64" | "B") => match decode::base64(raw) {
            Some(data) if is_binary(&name, &data) => {
                let type_param = types.first().cloned();
                let media_type = decode::media_type(&name, type_param.as_deref(), &data);
                if type_param.is_some() {
                    types.remove(0);
                }
                Value::Binary { data, media_type }
            }
            Some(data) => Value::Text(text_value(&name, &text_of(&data, warnings)?, v21)),
            None => {
                warnings.push(format!("{name}: the base64 value (line {line}) is not valid base64; it is not kept"));
                Value::Text(String::new())
            }
        },
        Some("QUOTED-PRINTABLE") => {
            let (bytes, bad) = decode::quoted_printable(raw);
            if bad {
                warnings.push(format!(
                    "{name}: a `=` in the quoted-printable value (line {line}) is not followed by two hex digits; kept as it was"
                ));
            }
            Value::Text(text_value(&name, &text_of(&bytes, warnings)?, v21))
        }
        _ => {
            let s = text_of(raw, warnings)?;
            if cid && !s.to_ascii_lowercase().starts_with("cid:") {
                // vCard 2.1 content id: `<id>` becomes a `cid:` URI
                Value::Text(format!("cid:{}", s.trim().trim_matches(['<', '>'])))
            } else {
                Value::Text(text_value(&name, &s, v21))
            }
        }
    };
    Ok(Prop { group: h.group, name, spelled, types, pref, params, value, line })
}

/// Base64 bytes are a binary (PHOTO...), or an unknown property's bytes that are not text
/// (Outlook's X-MS-CARDPICTURE); else they are text.
fn is_binary(name: &str, data: &[u8]) -> bool {
    let known_text = TEXT.contains(&name) || STRUCTURED.contains(&name) || LISTS.contains(&name);
    BINARY.contains(&name) || !known_text && std::str::from_utf8(data).is_err()
}

/// A decoded value as 3.0/4.0 escaped text.
fn text_value(name: &str, s: &str, v21: bool) -> String {
    if !v21 {
        // 3.0 and 4.0 values are escaped text already; line breaks that quoted-printable
        // or a broken line brought are escaped
        return decode::escape_breaks(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let join = |out: &mut String, parts: Vec<String>, sep: char, comma: bool, semicolon: bool| {
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            decode::escape_into(out, p, comma, semicolon);
        }
    };
    if STRUCTURED.contains(&name) {
        join(&mut out, decode::split_v21(s, ';'), ';', true, true);
    } else if LISTS.contains(&name) {
        join(&mut out, decode::split_v21(s, ','), ',', true, true);
    } else if TEXT.contains(&name) {
        decode::escape_into(&mut out, &decode::split_v21(s, '\u{0}').join("\u{0}"), true, true);
    } else {
        // unknown to this reader (X- properties, URL, TEL...): backslashes kept as they
        // were, line breaks escaped
        out = decode::escape_breaks(s);
    }
    out
}
