//! Reads a JSON document that is one object of (possibly huge) arrays, or one huge array,
//! element by element, without ever holding more than one element: a platform's export
//! file (Spotify's `Playlist1.json`, `YourLibrary.json`). Each element's bytes are handed
//! over to be parsed on their own (by serde); an element over the limit is skipped (and
//! said so), not allocated. The scanner checks only the structure it needs (strings,
//! nesting, separators); the element's own parser checks the rest.

use std::io::{BufRead, BufReader, Read};

/// What the scanner meets, in document order.
pub(crate) enum Event<'a> {
    /// An element of the array that is the member `key` (`""` for a top-level array), its
    /// index, and its bytes.
    Element { key: &'a str, index: usize, bytes: &'a [u8] },
    /// An element over the limit: skipped, its size in bytes.
    TooLarge { key: &'a str, index: usize, size: u64 },
    /// A member that is not an array: its value's bytes (`None` when over the limit).
    Value { key: &'a str, bytes: Option<&'a [u8]> },
    /// The end of the array that is the member `key`.
    End { key: &'a str },
}

/// A member name longer than this is not one a reader looks for (it is skipped whole).
const MAX_KEY: usize = 1024;

/// Reads `input`, a JSON object or array, handing each event to `on` (which returns false
/// to stop). The document's structure broken, cut short, or followed by more than
/// whitespace is the Err, with the byte where it was seen; events already handed stand.
pub(crate) fn read(input: impl Read, max_element: usize, on: &mut dyn FnMut(Event) -> bool) -> Result<(), String> {
    let mut s = Scanner { r: BufReader::with_capacity(64 * 1024, input), pos: 0 };
    // a UTF-8 byte order mark, as some exporters write one
    let bom = s.r.fill_buf().map(|b| b.starts_with(b"\xEF\xBB\xBF")).map_err(|e| format!("cannot be read: {e}"))?;
    if bom {
        s.r.consume(3);
        s.pos = 3;
    }
    let mut buf = Vec::new();
    match s.next_token()? {
        Some(b'[') => {
            s.bump();
            if !s.array("", max_element, &mut buf, on)? {
                return Ok(());
            }
        }
        Some(b'{') => {
            s.bump();
            if !s.object(max_element, &mut buf, on)? {
                return Ok(());
            }
        }
        Some(c) => return Err(format!("not a JSON object or array: it begins with {:?}", c as char)),
        None => return Err("empty: no JSON in it".into()),
    }
    match s.next_token()? {
        None => Ok(()),
        Some(c) => Err(format!("more after the JSON document ends, at byte {}: {:?}", s.pos, c as char)),
    }
}

struct Scanner<R> {
    r: BufReader<R>,
    /// Bytes consumed so far.
    pos: u64,
}

impl<R: Read> Scanner<R> {
    fn io(&self, e: std::io::Error) -> String {
        format!("cannot be read at byte {}: {e}", self.pos)
    }

    fn truncated(&self, inside: &str) -> String {
        format!("cut short: the file ends at byte {} inside {inside}", self.pos)
    }

    /// The next byte, not consumed.
    fn peek(&mut self) -> Result<Option<u8>, String> {
        match self.r.fill_buf() {
            Ok(b) => Ok(b.first().copied()),
            Err(e) => Err(self.io(e)),
        }
    }

    fn bump(&mut self) {
        self.r.consume(1);
        self.pos += 1;
    }

    /// The next byte that is not whitespace, not consumed.
    fn next_token(&mut self) -> Result<Option<u8>, String> {
        loop {
            let buf = self.r.fill_buf().map_err(|e| format!("cannot be read at byte {}: {e}", self.pos))?;
            if buf.is_empty() {
                return Ok(None);
            }
            let ws = buf.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count();
            let found = ws < buf.len();
            self.r.consume(ws);
            self.pos += ws as u64;
            if found {
                return self.peek();
            }
        }
    }

    fn expect(&mut self, want: u8, inside: &str) -> Result<(), String> {
        match self.next_token()? {
            Some(c) if c == want => {
                self.bump();
                Ok(())
            }
            Some(c) => Err(format!("not JSON at byte {}: {:?} where {:?} belongs ({inside})", self.pos, c as char, want as char)),
            None => Err(self.truncated(inside)),
        }
    }

    /// The members of the top-level object: each array's elements, each other value whole.
    fn object(&mut self, max: usize, buf: &mut Vec<u8>, on: &mut dyn FnMut(Event) -> bool) -> Result<bool, String> {
        if self.next_token()? == Some(b'}') {
            self.bump();
            return Ok(true);
        }
        loop {
            // the member's name
            if self.next_token()? != Some(b'"') {
                return match self.next_token()? {
                    None => Err(self.truncated("the top-level object")),
                    Some(c) => Err(format!("not JSON at byte {}: {:?} where a member name belongs", self.pos, c as char)),
                };
            }
            buf.clear();
            let size = self.value(buf, MAX_KEY, "a member name")?;
            let key: String = if size as usize > MAX_KEY { String::new() } else { serde_json::from_slice(buf).unwrap_or_default() };
            self.expect(b':', "the top-level object")?;
            if self.next_token()? == Some(b'[') {
                self.bump();
                if !self.array(&key, max, buf, on)? {
                    return Ok(false);
                }
            } else {
                buf.clear();
                let size = self.value(buf, max, "a member's value")?;
                let bytes = (size as usize <= max).then_some(&buf[..]);
                if !on(Event::Value { key: &key, bytes }) {
                    return Ok(false);
                }
            }
            match self.next_token()? {
                Some(b',') => self.bump(),
                Some(b'}') => {
                    self.bump();
                    return Ok(true);
                }
                Some(c) => return Err(format!("not JSON at byte {}: {:?} after a member", self.pos, c as char)),
                None => return Err(self.truncated("the top-level object")),
            }
        }
    }

    /// An array's elements (its `[` consumed), each handed on.
    fn array(&mut self, key: &str, max: usize, buf: &mut Vec<u8>, on: &mut dyn FnMut(Event) -> bool) -> Result<bool, String> {
        let inside = if key.is_empty() { "the top-level array".to_owned() } else { format!("the array {key:?}") };
        let mut index = 0;
        if self.next_token()? == Some(b']') {
            self.bump();
            return Ok(on(Event::End { key }));
        }
        loop {
            buf.clear();
            let size = self.value(buf, max, &inside)?;
            let go_on =
                if size as usize > max { on(Event::TooLarge { key, index, size }) } else { on(Event::Element { key, index, bytes: buf }) };
            if !go_on {
                return Ok(false);
            }
            index += 1;
            match self.next_token()? {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(on(Event::End { key }));
                }
                Some(c) => return Err(format!("not JSON at byte {}: {:?} after an element of {inside}", self.pos, c as char)),
                None => return Err(self.truncated(&inside)),
            }
        }
    }

    /// One JSON value, copied into `buf` while it fits in `max` bytes (then only scanned);
    /// its size in bytes.
    fn value(&mut self, buf: &mut Vec<u8>, max: usize, inside: &str) -> Result<u64, String> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let first = self.next_token()?.ok_or_else(|| self.truncated(inside))?;
        if matches!(first, b',' | b']' | b'}' | b':') {
            return Err(format!("not JSON at byte {}: {:?} where a value belongs ({inside})", self.pos, first as char));
        }
        let scalar = !matches!(first, b'"' | b'{' | b'[');
        let start = start.max(self.pos);
        loop {
            let chunk = self.r.fill_buf().map_err(|e| format!("cannot be read at byte {}: {e}", self.pos))?;
            if chunk.is_empty() {
                if scalar && depth == 0 {
                    return Ok(self.pos - start);
                }
                return Err(self.truncated(inside));
            }
            let mut used = 0;
            let mut done = false;
            for &b in chunk {
                if scalar {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        done = true;
                        break;
                    }
                    used += 1;
                    continue;
                }
                used += 1;
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            done = true;
                            break;
                        }
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1).ok_or_else(|| format!("not JSON at byte {}: unbalanced {:?}", self.pos, b as char))?;
                        if depth == 0 {
                            done = true;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let room = (max + 1).saturating_sub(buf.len());
            buf.extend_from_slice(&chunk[..used.min(room)]);
            self.r.consume(used);
            self.pos += used as u64;
            if done {
                return Ok(self.pos - start);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event as text: `key[index]=bytes`, `key[index] too large`, `key=value`, `key end`.
    fn events(input: &[u8], max: usize) -> (Vec<String>, Result<(), String>) {
        let mut out = Vec::new();
        let r = read(input, max, &mut |e| {
            out.push(match e {
                Event::Element { key, index, bytes } => format!("{key}[{index}]={}", String::from_utf8_lossy(bytes)),
                Event::TooLarge { key, index, size } => format!("{key}[{index}] too large ({size})"),
                Event::Value { key, bytes } => {
                    format!("{key}={}", bytes.map_or("(too large)".into(), |b| String::from_utf8_lossy(b).into_owned()))
                }
                Event::End { key } => format!("{key} end"),
            });
            true
        });
        (out, r)
    }

    #[test]
    fn members_and_elements_in_order() {
        let doc = "\u{feff}{\"a\" : [ {\"x\": \"],}\\\"\"}, [1,[2]] ,3, \"s\" ], \"n\": null, \"o\": {\"k\": [1]}, \"e\": []}\r\n";
        let (ev, r) = events(doc.as_bytes(), 1024);
        r.unwrap();
        assert_eq!(ev, [r#"a[0]={"x": "],}\""}"#, "a[1]=[1,[2]]", "a[2]=3", r#"a[3]="s""#, "a end", "n=null", r#"o={"k": [1]}"#, "e end"]);
        let (ev, r) = events(b"[true,false]", 10);
        r.unwrap();
        assert_eq!(ev, ["[0]=true", "[1]=false", " end"]);
    }

    #[test]
    fn an_element_over_the_limit_is_skipped_not_held() {
        let big = format!("{{\"a\": [{{\"t\": \"{}\"}}, {{\"t\": 1}}]}}", "x".repeat(10_000));
        let (ev, r) = events(big.as_bytes(), 100);
        r.unwrap();
        assert_eq!(ev, ["a[0] too large (10009)", r#"a[1]={"t": 1}"#, "a end"]);
    }

    #[test]
    fn broken_and_cut_documents_are_errors_after_what_was_whole() {
        let (ev, r) = events(br#"{"a": [{"t": 1}, {"t": "cut"#, 100);
        assert_eq!(ev, [r#"a[0]={"t": 1}"#]);
        assert!(r.unwrap_err().contains("cut short"));
        for (doc, says) in [
            (&b""[..], "empty"),
            (b"   ", "empty"),
            (b"\"just a string\"", "not a JSON object or array"),
            (b"{\"a\" 1}", "':' belongs"),
            (b"{\"a\": [1 2]}", "after an element"),
            (b"{\"a\": [1]} trailing", "more after"),
            (b"{\"a\": [1,]}", "where a value belongs"),
            (b"{\"a\": [}]}", "where a value belongs"),
            (b"{\"a\": [[1}]]}", "after a member"),
            (b"{1: 2}", "member name"),
            (b"{\"a\": [\"unterminated]}", "cut short"),
        ] {
            let (_, r) = events(doc, 100);
            let e = r.unwrap_err();
            assert!(e.contains(says), "{}: {e}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn stopping_stops() {
        let mut seen = 0;
        read(&b"[1,2,3,4]"[..], 10, &mut |_| {
            seen += 1;
            seen < 2
        })
        .unwrap();
        assert_eq!(seen, 2);
    }
}
