//! Reads a JSON file that is one big array (ChatGPT's and Claude's `conversations.json`,
//! Slack's `users.json` and day files) element by element, never whole: each element's
//! bytes are gathered, up to a bound, and handed on to be parsed alone. An element over
//! the bound is skipped (scanned, not kept) and handed as an error; the file's own shape
//! (an array, or an object holding the array under a key) is checked as it goes.

use std::io::Read;

/// The bytes of one element, or why it was not kept.
pub(crate) type Element<'a> = Result<&'a [u8], String>;

/// Hands each element of the array (at the top, or under `key` of a top-level object)
/// to `each` with its index (`each` returns false to stop). The file's Err: not an array
/// (nor an object with the key), or truncated, or broken between elements.
pub(crate) fn each_element(
    input: impl Read,
    key: Option<&str>,
    max: usize,
    each: &mut dyn FnMut(usize, Element) -> bool,
) -> Result<(), String> {
    let mut s = Scanner { input, buf: vec![0; 64 * 1024].into_boxed_slice(), pos: 0, len: 0, back: None, offset: 0 };
    let mut first = s.skip_ws()?;
    // a byte order mark before the JSON
    if first == Some(0xEF) {
        for want in [0xBB, 0xBF] {
            if s.next()? != Some(want) {
                return Err("not JSON: it begins with a stray byte".into());
            }
        }
        first = s.skip_ws()?;
    }
    match (first, key) {
        (Some(b'['), _) => match array(&mut s, max, each)? {
            true => after_end(&mut s),
            false => Ok(()), // stopped: the rest is not read
        },
        (Some(b'{'), Some(key)) => {
            if !find_key(&mut s, key)? {
                return Err(format!("a JSON object without `{key}`: not the list this file should hold"));
            }
            match s.skip_ws()? {
                Some(b'[') => {}
                _ => return Err(format!("`{key}` is not a list")),
            }
            if !array(&mut s, max, each)? {
                return Ok(()); // stopped: the rest of the object is not read
            }
            // the rest of the object, to be sure the file is whole
            loop {
                match s.skip_ws()? {
                    Some(b'}') => break,
                    Some(b',') => {
                        let mut skip = Capture::skip();
                        let Some(b'"') = s.skip_ws()? else { return Err(s.broken("a key")) };
                        s.value(b'"', &mut skip)?;
                        let Some(b':') = s.skip_ws()? else { return Err(s.broken("`:`")) };
                        let Some(b) = s.skip_ws()? else { return Err(s.truncated()) };
                        s.value(b, &mut skip)?;
                    }
                    None => return Err(s.truncated()),
                    Some(_) => return Err(s.broken("`,` or `}`")),
                }
            }
            after_end(&mut s)
        }
        (None, _) => Err("empty: no JSON in it".into()),
        (Some(b'{'), None) => Err("a JSON object, not the list this file should hold".into()),
        _ => Err("not JSON (it does not begin with `[`)".into()),
    }
}

/// The elements of an array whose `[` was just read; false if `each` stopped it.
fn array<R: Read>(s: &mut Scanner<R>, max: usize, each: &mut dyn FnMut(usize, Element) -> bool) -> Result<bool, String> {
    let mut buf = Vec::new();
    let mut i = 0;
    let mut b = s.skip_ws()?;
    if b == Some(b']') {
        return Ok(true);
    }
    loop {
        let Some(first) = b else { return Err(s.truncated()) };
        let mut cap = Capture::into(&mut buf, max);
        s.value(first, &mut cap)?;
        let over = cap.over;
        let go_on = if over { each(i, Err(format!("larger than {} MiB: not read", max >> 20))) } else { each(i, Ok(&buf)) };
        buf.clear();
        if buf.capacity() > 1 << 20 {
            buf = Vec::new(); // a large element's room is given back
        }
        if !go_on {
            return Ok(false);
        }
        i += 1;
        match s.skip_ws()? {
            Some(b',') => b = s.skip_ws()?,
            Some(b']') => return Ok(true),
            None => return Err(s.truncated()),
            Some(_) => return Err(s.broken("`,` or `]`")),
        }
    }
}

/// Reads the keys of the object whose `{` was just read until `key`, skipping the other
/// values; true when found (the scanner is then after its `:`).
fn find_key<R: Read>(s: &mut Scanner<R>, key: &str) -> Result<bool, String> {
    let mut name = Vec::new();
    let mut skip = Capture::skip();
    let mut b = s.skip_ws()?;
    if b == Some(b'}') {
        return Ok(false);
    }
    loop {
        let Some(b'"') = b else { return Err(if b.is_none() { s.truncated() } else { s.broken("a key") }) };
        name.clear();
        let mut cap = Capture::into(&mut name, 4096);
        s.value(b'"', &mut cap)?;
        let this: Option<String> = if cap.over { None } else { serde_json::from_slice(&name).ok() };
        let Some(b':') = s.skip_ws()? else { return Err(s.broken("`:`")) };
        if this.as_deref() == Some(key) {
            return Ok(true);
        }
        let Some(v) = s.skip_ws()? else { return Err(s.truncated()) };
        s.value(v, &mut skip)?;
        match s.skip_ws()? {
            Some(b',') => b = s.skip_ws()?,
            Some(b'}') => return Ok(false),
            None => return Err(s.truncated()),
            Some(_) => return Err(s.broken("`,` or `}`")),
        }
    }
}

fn after_end<R: Read>(s: &mut Scanner<R>) -> Result<(), String> {
    match s.skip_ws()? {
        None => Ok(()),
        Some(_) => Err(s.broken("the end of the file")),
    }
}

/// Where a value's bytes go: kept up to `max`, then dropped (`over`); or nowhere.
struct Capture<'a> {
    buf: Option<&'a mut Vec<u8>>,
    max: usize,
    over: bool,
}

impl<'a> Capture<'a> {
    fn into(buf: &'a mut Vec<u8>, max: usize) -> Capture<'a> {
        Capture { buf: Some(buf), max, over: false }
    }

    fn skip() -> Capture<'static> {
        Capture { buf: None, max: 0, over: false }
    }

    #[inline]
    fn push(&mut self, b: u8) {
        let Some(buf) = &mut self.buf else { return };
        if self.over {
            return;
        }
        if buf.len() >= self.max {
            self.over = true;
            buf.clear();
            return;
        }
        buf.push(b);
    }
}

struct Scanner<R> {
    input: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    back: Option<u8>,
    offset: u64,
}

impl<R: Read> Scanner<R> {
    #[inline]
    fn next(&mut self) -> Result<Option<u8>, String> {
        if let Some(b) = self.back.take() {
            return Ok(Some(b));
        }
        if self.pos == self.len {
            self.len = loop {
                match self.input.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(format!("cannot read it: {e}")),
                }
            };
            self.pos = 0;
            if self.len == 0 {
                return Ok(None);
            }
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        self.offset += 1;
        Ok(Some(b))
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, String> {
        loop {
            match self.next()? {
                Some(b' ' | b'\t' | b'\n' | b'\r') => {}
                other => return Ok(other),
            }
        }
    }

    fn truncated(&self) -> String {
        format!("truncated: the file ends inside its JSON (after {} bytes)", self.offset)
    }

    fn broken(&self, wanted: &str) -> String {
        format!("broken JSON at byte {}: {wanted} expected", self.offset)
    }

    /// One value whose first byte is `first`, into `cap` (its structure is checked only as
    /// far as finding its end; the parser of the element checks the rest).
    fn value(&mut self, first: u8, cap: &mut Capture) -> Result<(), String> {
        cap.push(first);
        match first {
            b'"' => self.string(cap),
            b'{' | b'[' => {
                let mut depth = 1usize;
                loop {
                    let Some(b) = self.next()? else { return Err(self.truncated()) };
                    cap.push(b);
                    match b {
                        b'"' => self.string(cap)?,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => loop {
                // a number, true, false or null: up to what ends it
                match self.next()? {
                    Some(b @ (b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')) => {
                        self.back = Some(b);
                        self.offset -= 1;
                        return Ok(());
                    }
                    Some(b) => cap.push(b),
                    None => return Ok(()),
                }
            },
        }
    }

    /// The rest of a string whose `"` was just read.
    fn string(&mut self, cap: &mut Capture) -> Result<(), String> {
        loop {
            let Some(b) = self.next()? else { return Err(self.truncated()) };
            cap.push(b);
            match b {
                b'"' => return Ok(()),
                b'\\' => {
                    let Some(e) = self.next()? else { return Err(self.truncated()) };
                    cap.push(e);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], key: Option<&str>, max: usize) -> (Vec<Result<String, String>>, Result<(), String>) {
        let mut out = Vec::new();
        let r = each_element(input, key, max, &mut |_, e| {
            out.push(e.map(|b| String::from_utf8(b.to_vec()).unwrap()));
            true
        });
        (out, r)
    }

    #[test]
    fn elements_come_one_by_one_whatever_they_hold() {
        let text = br#" [ {"a": "x]}\"{", "b": [1, {"c": null}]} , 2.5e3,"s\\",true , [] ]  "#;
        let (els, r) = collect(text, None, 1 << 20);
        r.unwrap();
        assert_eq!(
            els.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            [r#"{"a": "x]}\"{", "b": [1, {"c": null}]}"#, "2.5e3", r#""s\\""#, "true", "[]"]
        );
        let (els, r) = collect(b"\xEF\xBB\xBF[]", None, 10);
        assert!(r.is_ok() && els.is_empty());
    }

    #[test]
    fn the_list_may_sit_under_a_key() {
        let text = br#"{"version": {"x": [1,2]}, "conversations": [{"id": 1}, {"id": 2}], "more": "]"}"#;
        let (els, r) = collect(text, Some("conversations"), 1 << 20);
        r.unwrap();
        assert_eq!(els.len(), 2);
        let (_, r) = collect(br#"{"other": []}"#, Some("conversations"), 10);
        assert!(r.unwrap_err().contains("without `conversations`"));
        let (_, r) = collect(br#"{"conversations": 3}"#, Some("conversations"), 10);
        assert!(r.unwrap_err().contains("not a list"));
    }

    #[test]
    fn a_huge_element_is_refused_alone_and_reading_goes_on() {
        let big = format!(r#"[{{"t": "{}"}}, {{"t": "small"}}]"#, "x".repeat(5000));
        let (els, r) = collect(big.as_bytes(), None, 1000);
        r.unwrap();
        assert!(els[0].as_ref().unwrap_err().contains("larger than"));
        assert_eq!(els[1].as_deref().unwrap(), r#"{"t": "small"}"#);
    }

    #[test]
    fn truncated_and_broken_files_are_errors_after_what_was_whole() {
        let (els, r) = collect(br#"[{"a": 1}, {"b": "unfinish"#, None, 100);
        assert_eq!(els.len(), 1);
        assert!(r.unwrap_err().contains("truncated"));
        let (_, r) = collect(br#"[{"a": 1} {"b": 2}]"#, None, 100);
        assert!(r.unwrap_err().contains("`,` or `]`"));
        for bad in [&b""[..], b"   ", b"null", b"{\"a\": 1}", b"<html>"] {
            assert!(collect(bad, None, 100).1.is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let (els, r) = collect(b"[1, 2] x", None, 100);
        assert_eq!(els.len(), 2);
        assert!(r.unwrap_err().contains("the end of the file"));
    }

    #[test]
    fn stopping_stops() {
        let mut seen = 0;
        each_element(&b"[1,2,3"[..], None, 10, &mut |_, _| {
            seen += 1;
            false
        })
        .unwrap();
        assert_eq!(seen, 1);
    }
}
