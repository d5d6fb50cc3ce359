//! Large JSON files read one element at a time: the top-level array, or the array under
//! one key of the top-level object (an ActivityStreams collection's `orderedItems`). One
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
    let since = Rc::new(Cell::new(0u64));
    let reader = Counted { inner: input, since: since.clone(), limit: MAX_ELEMENT };
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(256 * 1024, reader));
    let seed = Top { field, each, since };
    let r = de.deserialize_any(seed).and_then(|_| de.end());
    r.map_err(|e| if e.is_io() { format!("cannot read: {e}") } else { format!("not the JSON expected: {e}") })
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
    field: Option<&'b str>,
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
        match self.field {
            Some(k) => write!(f, "an object with an array `{k}`"),
            None => f.write_str("an array"),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        if self.field.is_some() {
            return Err(serde::de::Error::custom(format!("an array where {} was expected", Expecting(self.field))));
        }
        Elements { each: self.each, since: self.since }.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(field) = self.field else {
            return Err(serde::de::Error::custom("an object where an array was expected"));
        };
        let mut each = Some(self.each);
        while let Some(key) = map.next_key::<String>()? {
            if key == field
                && let Some(each) = each.take()
            {
                map.next_value_seed(Elements { each, since: self.since.clone() })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Expecting<'a>(Option<&'a str>);
impl fmt::Display for Expecting<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.0 {
            Some(k) => write!(f, "an object with `{k}`"),
            None => f.write_str("an array"),
        }
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
