//! Character references in markup: HTML's (bookmark files) and SGML's and XML's (OFX).

/// Character references: `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;` and numeric
/// ones, the `;` optional as HTML and SGML allow; any other `&` is kept as written (banks
/// write `AT&T`); NUL becomes U+FFFD.
pub(crate) fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '#')).map(|e| e + 1).unwrap_or(rest.len());
        let name = &rest[1..end];
        let with_semicolon = rest[end..].starts_with(';');
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32),
            n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(if c == '\0' { '\u{fffd}' } else { c });
                rest = &rest[end + usize::from(with_semicolon)..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn references_are_decoded_and_a_bare_ampersand_is_kept() {
        assert_eq!(decode("AT&T &amp; Q&A"), "AT&T & Q&A");
        assert_eq!(decode("&lt;b&gt; &quot;x&quot; &apos;y&apos; a&nbsp;b"), "<b> \"x\" 'y' a\u{a0}b");
        assert_eq!(decode("&#65;&#x42;&#X43; &amp no semicolon"), "ABC & no semicolon");
        assert_eq!(decode("&#0; &#xD800; &#99999999999; &unknown; &"), "\u{fffd} &#xD800; &#99999999999; &unknown; &");
        assert_eq!(decode("no references"), "no references");
    }
}
