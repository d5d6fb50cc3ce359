//! Value decoding: quoted-printable, base64, charsets, and the text escaping of each
//! vCard version.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Decodes quoted-printable (soft line breaks are already joined). Returns the bytes and
/// whether some `=` was not followed by two hex digits (kept as it was).
pub fn quoted_printable(input: &[u8]) -> (Vec<u8>, bool) {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut bad = false;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'=' {
            if let (Some(h), Some(l)) = (input.get(i + 1).and_then(|b| hex(*b)), input.get(i + 2).and_then(|b| hex(*b))) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            bad = true;
        }
        out.push(b);
        i += 1;
    }
    (out, bad)
}

/// Decodes base64, ignoring the whitespace that folding and 2.1's indentation leave.
pub fn base64(input: &[u8]) -> Option<Vec<u8>> {
    let clean: Vec<u8> = input.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    STANDARD.decode(&clean).ok().or_else(|| base64::engine::general_purpose::STANDARD_NO_PAD.decode(clean.trim_ascii_end()).ok())
}

pub fn base64_encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// How text bytes turned out.
pub enum Text {
    Exact(String),
    /// Decoded, but some bytes were not valid in the charset (replaced by U+FFFD).
    Lossy(String, &'static str),
    /// Not UTF-8 and no charset was named.
    NotUtf8,
}

/// Decodes `bytes` in the charset `label` names (UTF-8 when none).
pub fn charset_text(bytes: &[u8], label: Option<&str>) -> Text {
    let enc = match label {
        None => encoding_rs::UTF_8,
        Some(l) => match encoding_rs::Encoding::for_label(l.trim().as_bytes()) {
            Some(e) => e,
            None => {
                return match std::str::from_utf8(bytes) {
                    Ok(s) => Text::Exact(s.to_owned()),
                    Err(_) => Text::Lossy(String::from_utf8_lossy(bytes).into_owned(), "UTF-8 (the charset is unknown)"),
                };
            }
        },
    };
    match enc.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(s) => Text::Exact(s.into_owned()),
        None if label.is_none() => Text::NotUtf8,
        None => Text::Lossy(enc.decode_without_bom_handling(bytes).0.into_owned(), enc.name()),
    }
}

/// Appends `s` escaped as 3.0 and 4.0 text: backslash and line breaks always, commas and
/// semicolons when asked (they separate values in lists and structured properties).
pub fn escape_into(out: &mut String, s: &str, comma: bool, semicolon: bool) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            ',' if comma => out.push_str("\\,"),
            ';' if semicolon => out.push_str("\\;"),
            c => out.push(c),
        }
    }
}

/// Splits vCard 2.1 text on unescaped `sep`, resolving 2.1's escapes (`\;`, `\,`, `\\`,
/// `\n`) in each piece; any other backslash is a plain character in 2.1.
pub fn split_v21(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let cur = parts.last_mut().expect("one part");
        match c {
            '\\' => match chars.peek() {
                Some(&n @ (';' | ',' | '\\')) => {
                    cur.push(n);
                    chars.next();
                }
                Some('n' | 'N') => {
                    cur.push('\n');
                    chars.next();
                }
                _ => cur.push('\\'),
            },
            c if c == sep => parts.push(String::new()),
            c => cur.push(c),
        }
    }
    parts
}

/// Splits escaped 3.0/4.0 text on unescaped `sep`, keeping the escapes in each piece.
pub fn split_escaped(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Resolves the escapes of 3.0/4.0 text.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// Raw line breaks left in an already escaped value (a 3.0 value decoded from
/// quoted-printable, or a line joined to the one above) written as `\n`.
pub fn escape_breaks(s: &str) -> String {
    if !s.contains(['\r', '\n']) {
        return s.to_owned();
    }
    s.replace("\r\n", "\\n").replace(['\r', '\n'], "\\n")
}

/// The media type of an inline binary: from a vCard 2.1/3.0 TYPE (`JPEG`, `image/jpeg`),
/// else from the first bytes.
pub fn media_type(prop: &str, type_param: Option<&str>, data: &[u8]) -> Option<String> {
    if let Some(t) = type_param.map(|t| t.trim().to_ascii_lowercase()).filter(|t| !t.is_empty()) {
        if t.contains('/') {
            return Some(t);
        }
        let known = match t.as_str() {
            "jpeg" | "jpg" => "image/jpeg",
            "png" => "image/png",
            "gif" => "image/gif",
            "bmp" => "image/bmp",
            "tiff" => "image/tiff",
            "wave" | "wav" => "audio/wav",
            "aiff" => "audio/aiff",
            "mpeg" => "audio/mpeg",
            "x509" => "application/pkix-cert",
            "pgp" => "application/pgp-keys",
            _ => "",
        };
        if !known.is_empty() {
            return Some(known.into());
        }
        let top = match prop {
            "SOUND" => "audio",
            "KEY" => "application",
            _ => "image",
        };
        return Some(format!("{top}/x-{t}"));
    }
    let sniffed = if data.starts_with(b"\xFF\xD8\xFF") {
        "image/jpeg"
    } else if data.starts_with(b"\x89PNG") {
        "image/png"
    } else if data.starts_with(b"GIF8") {
        "image/gif"
    } else if data.starts_with(b"BM") && prop != "KEY" {
        "image/bmp"
    } else if data.starts_with(b"-----BEGIN PGP") {
        "application/pgp-keys"
    } else {
        return None;
    };
    Some(sniffed.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_keeps_a_bad_escape() {
        assert_eq!(quoted_printable(b"a=3Db=0D=0A"), (b"a=b\r\n".to_vec(), false));
        assert_eq!(quoted_printable(b"50=ZZ"), (b"50=ZZ".to_vec(), true));
    }

    #[test]
    fn shift_jis_and_unknown_charsets() {
        assert!(matches!(charset_text(b"\x93\x63\x92\x86", Some("SHIFT_JIS")), Text::Exact(s) if s == "田中"));
        assert!(matches!(charset_text(b"\xff", None), Text::NotUtf8));
        assert!(matches!(charset_text(b"\xff", Some("x-nonsense")), Text::Lossy(..)));
    }

    #[test]
    fn v21_splitting_and_escaping() {
        assert_eq!(split_v21(r"a\;b;c,d;e\x", ';'), ["a;b", "c,d", r"e\x"]);
        let mut s = String::new();
        escape_into(&mut s, "a,b;c\r\nd\\", true, true);
        assert_eq!(s, r"a\,b\;c\nd\\");
        assert_eq!(split_escaped(r"a\;b;c", ';'), [r"a\;b", "c"]);
        assert_eq!(unescape(r"a\,b\nc\\"), "a,b\nc\\");
    }
}
