//! Large JSON files read one element at a time: the top-level array, or the array under
//! one key of the top-level object (an ActivityStreams collection's `orderedItems`; one of
//! several, for a platform that renamed the key over the years: Meta's `comments`, then
//! `comments_v2`). One
//! element may be at most [`MAX_ELEMENT`] bytes of text: past that the file fails with a
//! clear message instead of growing memory without end.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::Cell;
use std::fmt;
use std::io::Read;
use std::rc::Rc;

/// Largest element read (a post with its text, a tweet, a conversation).
pub const MAX_ELEMENT: u64 = 64 << 20;

/// Calls `each` with every element of the array (the top level when `field` is `None`,
/// else the top-level object's `field`), in order, until it returns false. A file
/// without that array yields nothing.
pub fn each_element(input: impl Read, field: Option<&str>, each: &mut dyn FnMut(Value) -> bool) -> Result<(), String> {
    let fields: &[&str] = match &field {
        Some(f) => std::slice::from_ref(f),
        None => &[],
    };
    run(input, fields, field.is_none(), each).map(|_| ())
}

/// Like [`each_element`], for a file that is either the array itself or an object holding
/// it under one of `fields`: which key it was under (`None` for a bare array). An object
/// with none of them fails.
pub fn each_element_of(input: impl Read, fields: &[&str], each: &mut dyn FnMut(Value) -> bool) -> Result<Option<String>, String> {
    run(input, fields, true, each)
}

fn run(input: impl Read, fields: &[&str], bare: bool, each: &mut dyn FnMut(Value) -> bool) -> Result<Option<String>, String> {
    let since = Rc::new(Cell::new(0u64));
    let reader = Counted { inner: input, since: since.clone(), limit: MAX_ELEMENT };
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(256 * 1024, reader));
    let mut found = None;
    let seed = Top { fields, bare, found: &mut found, each, since };
    let r = de.deserialize_any(seed).and_then(|_| de.end());
    r.map_err(|e| if e.is_io() { format!("cannot read: {e}") } else { format!("not the JSON expected: {e}") })?;
    Ok(found)
}

struct Counted<R> {
    inner: R,
    since: Rc<Cell<u64>>,
    limit: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.since.set(self.since.get() + n as u64);
        if self.since.get() > self.limit + 512 * 1024 {
            return Err(std::io::Error::other(format!("one element is larger than the {} byte limit", self.limit)));
        }
        Ok(n)
    }
}

struct Top<'a, 'b> {
    /// The keys the array may be under (none: the file is the array).
    fields: &'b [&'b str],
    /// Whether the file may be the array itself.
    bare: bool,
    found: &'a mut Option<String>,
    each: &'a mut dyn FnMut(Value) -> bool,
    since: Rc<Cell<u64>>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.bare && !self.fields.is_empty() {
            f.write_str("an array, or ")?;
        }
        write!(f, "{}", Expecting(self.fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        if !self.bare {
            return Err(serde::de::Error::custom(format!("an array where {} was expected", Expecting(self.fields))));
        }
        Elements { each: self.each, since: self.since }.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.fields.is_empty() {
            return Err(serde::de::Error::custom("an object where an array was expected"));
        }
        let mut each = Some(self.each);
        while let Some(key) = map.next_key::<String>()? {
            if self.fields.contains(&key.as_str())
                && let Some(each) = each.take()
            {
                *self.found = Some(key);
                map.next_value_seed(Elements { each, since: self.since.clone() })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if self.bare && each.is_some() {
            // a file that may be the array or hold it, and holds none of the keys: a key
            // renamed again, said rather than read as empty
            return Err(serde::de::Error::custom(format!("an object without the array: {} was expected", Expecting(self.fields))));
        }
        Ok(())
    }
}

struct Expecting<'a>(&'a [&'a str]);
impl fmt::Display for Expecting<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("an array");
        }
        let keys: Vec<String> = self.0.iter().map(|k| format!("`{k}`")).collect();
        write!(f, "an object with {}", keys.join(" or "))
    }
}

struct Elements<'a> {
    each: &'a mut dyn FnMut(Value) -> bool,
    since: Rc<Cell<u64>>,
}

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.since.set(0);
        while let Some(v) = seq.next_element::<Value>()? {
            self.since.set(0);
            if !(self.each)(v) {
                // the rest is read past, not kept
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &[u8], field: Option<&str>) -> Result<Vec<Value>, String> {
        let mut out = vec![];
        each_element(text, field, &mut |v| {
            out.push(v);
            true
        })
        .map(|_| out)
    }

    #[test]
    fn elements_come_one_by_one_from_either_shape() {
        assert_eq!(collect(br#"[1, {"a": 2}, "x"]"#, None).unwrap().len(), 3);
        let outbox = br#"{"@context": "x", "orderedItems": [{"id": 1}, {"id": 2}], "totalItems": 2}"#;
        assert_eq!(collect(outbox, Some("orderedItems")).unwrap().len(), 2);
        assert_eq!(collect(br#"{"other": []}"#, Some("orderedItems")).unwrap().len(), 0);
    }

    #[test]
    fn a_renamed_key_or_a_bare_array_is_read_alike() {
        let keys = ["comments_v2", "comments"];
        let mut n = 0;
        let mut count = |_: Value| {
            n += 1;
            true
        };
        assert_eq!(each_element_of(&br#"{"comments": [1, 2]}"#[..], &keys, &mut count).unwrap().as_deref(), Some("comments"));
        assert_eq!(each_element_of(&br#"{"x": 1, "comments_v2": [3]}"#[..], &keys, &mut count).unwrap().as_deref(), Some("comments_v2"));
        assert_eq!(each_element_of(&b"[4, 5, 6]"[..], &keys, &mut count).unwrap(), None);
        let e = each_element_of(&br#"{"comments_v3": [7]}"#[..], &keys, &mut count).unwrap_err();
        assert!(e.contains("without the array") && e.contains("`comments_v2` or `comments`"), "{e}");
        assert!(each_element_of(&br#"{"comments": [1"#[..], &keys, &mut count).unwrap_err().contains("not the JSON expected"));
        let e = each_element(&b"[1]"[..], Some("orderedItems"), &mut count).unwrap_err();
        assert!(e.contains("an array where an object with `orderedItems` was expected"), "{e}");
        assert_eq!(n, 7, "3 + 3, and the one before the break");
    }

    #[test]
    fn broken_and_wrong_files_fail_clearly() {
        assert!(collect(br#"[1, 2"#, None).unwrap_err().contains("not the JSON expected"));
        assert!(collect(br#"{"a": 1}"#, None).unwrap_err().contains("object where an array"));
        assert!(collect(br#"[1] trailing"#, None).is_err());
        assert!(collect(b"", None).is_err());
    }

    #[test]
    fn one_huge_element_is_refused_not_held() {
        // an element of 70 MiB of string: refused once past the limit
        let mut big = Vec::with_capacity(71 << 20);
        big.extend_from_slice(b"[\"");
        big.resize((70 << 20) + 2, b'a');
        big.extend_from_slice(b"\"]");
        let e = collect(&big, None).unwrap_err();
        assert!(e.contains("larger than"), "{e}");
    }
}
