//! The `raw` member of a Gmail message answer (`messages.get?format=raw`, a JSON object
//! whose `raw` is the RFC 5322 message in base64url), read as the answer arrives: the
//! message's bytes come out decoded chunk by chunk, never the whole answer in memory, and
//! the answer's other members are kept (with `raw` emptied) to be read as JSON.

use serde_json::Value;

/// The most the answer may hold besides the message (ids, labels, the snippet).
const MAX_REST: usize = 1 << 20;

#[derive(Default)]
pub struct RawSplit {
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// At the top level, the next string is a member name.
    want_key: bool,
    collecting_key: bool,
    key: Vec<u8>,
    /// The member name just read is `raw`: its `:` comes next.
    raw_key: bool,
    /// `"raw":` read: its value comes next.
    raw_value: bool,
    in_raw: bool,
    raw_escape: bool,
    raw_seen: bool,
    closed: bool,
    /// The answer without the message.
    rest: Vec<u8>,
    quad: [u8; 4],
    n: usize,
    padded: bool,
    /// Bytes of message given out so far.
    pub decoded: u64,
}

fn sextet(b: u8) -> Option<u8> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        // the URL-safe alphabet, or the standard one (Google's JSON mapping of bytes takes both)
        b'-' | b'+' => 62,
        b'_' | b'/' => 63,
        _ => return None,
    })
}

impl RawSplit {
    pub fn new() -> RawSplit {
        RawSplit::default()
    }

    /// Reads the next bytes of the answer; the message bytes they complete go to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        for &b in chunk {
            if self.in_raw {
                self.raw_byte(b, out)?;
                continue;
            }
            if self.closed {
                if !b.is_ascii_whitespace() {
                    return Err("Gmail's answer goes on after its end".into());
                }
                continue;
            }
            self.rest.push(b);
            if self.rest.len() > MAX_REST {
                return Err(format!("Gmail's answer holds more than {} KiB besides the message", MAX_REST >> 10));
            }
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                    continue;
                } else if b == b'"' {
                    self.in_string = false;
                    if self.collecting_key {
                        self.collecting_key = false;
                        self.raw_key = self.key == b"raw";
                    }
                    continue;
                }
                if self.collecting_key && self.key.len() < 8 {
                    self.key.push(b);
                }
                continue;
            }
            if b.is_ascii_whitespace() {
                continue;
            }
            if self.raw_value {
                self.raw_value = false;
                if b != b'"' {
                    return Err("Gmail's answer has a `raw` that is not a string".into());
                }
                if self.raw_seen {
                    return Err("Gmail's answer has `raw` twice".into());
                }
                self.in_raw = true;
                continue;
            }
            match b {
                _ if self.depth == 0 && b != b'{' && b != b'[' => return Err("Gmail's answer is not a JSON object".into()),
                b'{' | b'[' => {
                    self.depth += 1;
                    if self.depth > 64 {
                        return Err("Gmail's answer is nested too deep".into());
                    }
                    self.want_key = self.depth == 1 && b == b'{';
                }
                b'}' | b']' => {
                    self.depth = self.depth.checked_sub(1).ok_or("Gmail's answer closes more than it opens")?;
                    self.closed = self.depth == 0;
                }
                b',' if self.depth == 1 => self.want_key = true,
                b':' if self.depth == 1 && self.raw_key => {
                    self.raw_key = false;
                    self.raw_value = true;
                }
                b'"' => {
                    self.in_string = true;
                    if self.depth == 1 && self.want_key {
                        self.want_key = false;
                        self.collecting_key = true;
                        self.key.clear();
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn raw_byte(&mut self, b: u8, out: &mut Vec<u8>) -> Result<(), String> {
        let symbol = if self.raw_escape {
            self.raw_escape = false;
            // a JSON writer may escape `/` (of the standard alphabet); nothing else belongs here
            if b != b'/' {
                return Err("the message's base64 holds an escape that is not base64".into());
            }
            b'/'
        } else {
            match b {
                b'"' => {
                    self.end_raw(out)?;
                    self.rest.push(b'"');
                    return Ok(());
                }
                b'\\' => {
                    self.raw_escape = true;
                    return Ok(());
                }
                b'=' => {
                    self.padded = true;
                    return Ok(());
                }
                other => other,
            }
        };
        if self.padded {
            return Err("the message's base64 goes on after its padding".into());
        }
        let v = sextet(symbol).ok_or_else(|| format!("the message's base64 holds `{}`, which is not base64", symbol.escape_ascii()))?;
        self.quad[self.n] = v;
        self.n += 1;
        if self.n == 4 {
            let q = self.quad;
            out.extend_from_slice(&[q[0] << 2 | q[1] >> 4, q[1] << 4 | q[2] >> 2, q[2] << 6 | q[3]]);
            self.decoded += 3;
            self.n = 0;
        }
        Ok(())
    }

    fn end_raw(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        let q = self.quad;
        match self.n {
            0 => {}
            1 => return Err("the message's base64 ends with a lone symbol (it was cut)".into()),
            2 => {
                out.push(q[0] << 2 | q[1] >> 4);
                self.decoded += 1;
            }
            _ => {
                out.extend_from_slice(&[q[0] << 2 | q[1] >> 4, q[1] << 4 | q[2] >> 2]);
                self.decoded += 2;
            }
        }
        self.n = 0;
        self.in_raw = false;
        self.raw_seen = true;
        Ok(())
    }

    /// Once the answer has ended: its members besides the message.
    pub fn finish(self) -> Result<Value, String> {
        if self.in_raw || self.in_string || !self.closed {
            return Err("Gmail's answer ended before its end (cut short)".into());
        }
        if !self.raw_seen {
            return Err("Gmail's answer has no `raw` message".into());
        }
        serde_json::from_slice(&self.rest).map_err(|e| format!("Gmail's answer is not JSON: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn split(answer: &[u8], step: usize) -> Result<(Vec<u8>, Value), String> {
        let mut s = RawSplit::new();
        let mut out = Vec::new();
        for chunk in answer.chunks(step.max(1)) {
            s.feed(chunk, &mut out)?;
        }
        let decoded = s.decoded;
        let rest = s.finish()?;
        assert_eq!(decoded, out.len() as u64);
        Ok((out, rest))
    }

    #[test]
    fn the_message_comes_out_whole_however_the_answer_is_cut() {
        for len in [0usize, 1, 2, 3, 4, 5, 1000] {
            let message: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
            let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&message);
            let std = base64::engine::general_purpose::STANDARD.encode(&message).replace('/', "\\/");
            for raw in [url, std] {
                // a snippet that looks like a raw member, and members on both sides
                let answer = format!(
                    r#" {{"id": "18c", "snippet": "say \"raw\": \"AAAA\" {{[", "labelIds": ["INBOX", "Label_1"], "raw": "{raw}", "sizeEstimate": {len}, "nested": {{"raw": 1}}}} "#
                );
                for step in [1, 2, 3, 7, 4096] {
                    let (out, rest) = split(answer.as_bytes(), step).unwrap();
                    assert_eq!(out, message, "{len} bytes, {step} a chunk");
                    assert_eq!(rest["raw"], "");
                    assert_eq!(rest["labelIds"][1], "Label_1");
                    assert_eq!(rest["snippet"], "say \"raw\": \"AAAA\" {[");
                    assert_eq!(rest["nested"]["raw"], 1);
                }
            }
        }
    }

    #[test]
    fn broken_answers_are_refused_with_a_reason() {
        for (answer, says) in [
            (r#"{"id": "1", "raw": "AB$D"}"#, "not base64"),
            (r#"{"id": "1", "raw": "ABCDE"}"#, "lone symbol"),
            (r#"{"id": "1", "raw": "AB==CD"}"#, "after its padding"),
            (r#"{"id": "1", "raw": "AB\nCD"}"#, "not base64"),
            (r#"{"id": "1", "raw": "ABCD"#, "cut short"),
            (r#"{"id": "1"}"#, "no `raw`"),
            (r#"{"id": "1", "raw": null}"#, "not a string"),
            (r#"{"raw": "", "raw": ""}"#, "twice"),
            (r#"{"raw": ""} junk"#, "after its end"),
            (r#"["raw"]"#, "no `raw`"),
            ("\"raw\"", "not a JSON object"),
            (r#"{"raw": "QQ", "x": tru}"#, "not JSON"),
            (r#"}"#, "not a JSON object"),
        ] {
            let e = split(answer.as_bytes(), 3).unwrap_err();
            assert!(e.contains(says), "{answer}: {e}");
        }
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(split(deep.as_bytes(), 10).unwrap_err().contains("too deep"));
        let huge = format!(r#"{{"raw": "", "snippet": "{}"}}"#, "x".repeat(MAX_REST + 1));
        assert!(split(huge.as_bytes(), 4096).unwrap_err().contains("KiB"));
    }
}
