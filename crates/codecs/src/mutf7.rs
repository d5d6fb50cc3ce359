//! Modified UTF-7 (RFC 3501 §5.1.3), the encoding of IMAP folder names: printable ASCII
//! stands for itself (`&` as `&-`), anything else is UTF-16 in a base64 variant (`,`
//! for `/`, no padding) between `&` and `-`. `Gelöschte Objekte` is
//! `Gel&APY-schte Objekte` on the wire.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// A folder name as the server wants it.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut run: Vec<u16> = Vec::new();
    let flush = |run: &mut Vec<u16>, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out.push('-');
        run.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut run, &mut out);
            out.push(c);
            if c == '&' {
                out.push('-');
            }
        } else {
            let mut units = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A name from the server, decoded; None when it is not valid modified UTF-7 (then the
/// caller keeps the name as the server sent it). Bytes outside ASCII, which a server
/// should not send but some do, pass through.
pub fn decode(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find('-')?;
        let coded = &after[..end];
        rest = &after[end + 1..];
        if coded.is_empty() {
            out.push('&');
            continue;
        }
        let mut bits = 0u32;
        let mut nbits = 0;
        let mut bytes = Vec::new();
        for b in coded.bytes() {
            let v = ALPHABET.iter().position(|a| *a == b)? as u32;
            bits = bits << 6 | v;
            nbits += 6;
            if nbits >= 8 {
                nbits -= 8;
                bytes.push((bits >> nbits) as u8);
                bits &= (1 << nbits) - 1;
            }
        }
        // leftover bits must be zero padding, and the bytes whole UTF-16 units
        if bits != 0 || nbits >= 6 || bytes.is_empty() || bytes.len() % 2 != 0 {
            return None;
        }
        let units: Vec<u16> = bytes.chunks(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
        let text = String::from_utf16(&units).ok()?;
        // printable ASCII must not be encoded (it would give two spellings of one name)
        if text.chars().any(|c| (' '..='~').contains(&c)) {
            return None;
        }
        out.push_str(&text);
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_spellings() {
        for (plain, wire) in [
            ("Gelöschte Objekte", "Gel&APY-schte Objekte"),
            ("INBOX", "INBOX"),
            ("Tom & Jerry", "Tom &- Jerry"),
            ("台北", "&U,BTFw-"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("Entwürfe", "Entw&APw-rfe"),
            ("😀", "&2D3eAA-"),
            ("Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"),
        ] {
            assert_eq!(encode(plain), wire, "{plain}");
            assert_eq!(decode(wire).as_deref(), Some(plain), "{wire}");
        }
    }

    #[test]
    fn invalid_names_are_refused() {
        for bad in ["a&b", "&Jjo", "&AGE-", "&A-", "&APY!-"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
        assert_eq!(decode("raw ü").as_deref(), Some("raw ü"), "stray UTF-8 passes through");
    }
}
