//! What Facebook's and Instagram's "Download your information" archives (JSON) share:
//! Meta's mojibake (every string's UTF-8 bytes written as `\u00XX` escapes, so `é`
//! arrives as `Ã©` and an emoji as four Latin-1 letters), times in seconds (messages:
//! milliseconds), media named by their path from the archive's root, and files that are
//! the array itself or hold it under a key renamed over the years (`comments`, then
//! `comments_v2`).

use super::fs::ArchiveFs;
use super::json::each_element_of;
use super::walk::{Walk, fail};
use chrono::{DateTime, Utc};
use ferry_codecs::media::file_media_type;
use ferry_core::{Attachment, Item, ItemError, Vertical};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// `s` with Meta's mojibake undone, or `None` when it is right as it is. A string is
/// repaired when every character is at most U+00FF and those characters, read as Latin-1
/// bytes, are UTF-8: ASCII, text with characters past U+00FF, and genuine Latin-1 (`café`
/// written with one `é`) are not, for their bytes are not UTF-8. (Two Latin-1 letters
/// that happen to spell a UTF-8 sequence, `Ã©` meant as such, cannot be told from
/// mojibake: Meta's archives never hold them unescaped, so they are read as `é`.)
pub fn repair(s: &str) -> Option<String> {
    if s.is_ascii() {
        return None;
    }
    let mut bytes = Vec::with_capacity(s.len());
    for c in s.chars() {
        let c = u32::from(c);
        if c > 0xff {
            return None;
        }
        bytes.push(c as u8);
    }
    String::from_utf8(bytes).ok()
}

/// Every string of `v` repaired, object keys too.
pub fn repair_value(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Some(r) = repair(s) {
                *s = r;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(repair_value),
        Value::Object(o) => {
            if o.keys().any(|k| !k.is_ascii()) {
                let old = std::mem::take(o);
                for (k, mut v) in old {
                    repair_value(&mut v);
                    o.insert(repair(&k).unwrap_or(k), v);
                }
            } else {
                o.values_mut().for_each(repair_value);
            }
        }
        _ => {}
    }
}

fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A time in seconds since 1970 (a number or a numeric string); 0 means none.
pub fn seconds(v: &Value) -> Option<DateTime<Utc>> {
    number(v).filter(|n| *n > 0).and_then(|n| DateTime::from_timestamp(n, 0))
}

/// A time in milliseconds since 1970.
pub fn millis(v: &Value) -> Option<DateTime<Utc>> {
    number(v).filter(|n| *n > 0).and_then(DateTime::from_timestamp_millis)
}

/// A string field, `None` when absent or empty.
pub fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The archive's file a media `uri` names: the path as given, else with the activity
/// folder added or taken off (some periods' paths name the other layout's), `None` when
/// the archive holds no such file (a web address, a file left out of the archive).
pub fn resolve(fs: &ArchiveFs, uri: &str) -> Option<String> {
    if uri.contains("://") {
        return None;
    }
    let path = uri.trim_start_matches("./").trim_start_matches('/');
    if fs.entries.contains_key(path) {
        return Some(path.to_owned());
    }
    for prefix in ["your_facebook_activity/", "your_instagram_activity/"] {
        let other = match path.strip_prefix(prefix) {
            Some(rest) => rest.to_owned(),
            None => format!("{prefix}{path}"),
        };
        if fs.entries.contains_key(&other) {
            return Some(other);
        }
    }
    None
}

/// The files attached to one item, each claimed and named uniquely within it (the
/// archive's name, with `2-`, `3-`... before it when two files share one).
#[derive(Default)]
pub struct Attach {
    names: HashMap<String, String>,
    used: HashSet<String>,
    pub list: Vec<Attachment>,
    /// The media the item names that the archive does not hold.
    pub warnings: Vec<String>,
}

impl Attach {
    /// Attaches the file `uri` names: the name it is attached under, `None` (said) when
    /// the archive does not hold it.
    pub fn add(&mut self, w: &mut Walk, uri: &str, what: &str) -> Option<String> {
        let Some(path) = resolve(&w.fs, uri) else {
            self.warnings.push(format!("{what} {uri}: named, but the archive does not hold it"));
            return None;
        };
        if let Some(name) = self.names.get(&path) {
            return Some(name.clone());
        }
        let base = path.rsplit('/').next().unwrap_or(&path).to_owned();
        let mut name = base.clone();
        let mut k = 1;
        while !self.used.insert(name.to_lowercase()) {
            k += 1;
            name = format!("{k}-{base}");
        }
        w.claim(&path);
        self.list.push(Attachment { name: name.clone(), content: w.fs.content(&path, file_media_type(&path)) });
        self.names.insert(path, name.clone());
        Some(name)
    }

    /// The names attached, in order.
    pub fn names(&self) -> Vec<String> {
        self.list.iter().map(|a| a.name.clone()).collect()
    }
}

/// Ids unique within a reader: a second item with the same id gets `#2`, and so on (two
/// posts in the same second with the same text).
#[derive(Default)]
pub struct Ids(HashMap<String, u32>);

impl Ids {
    pub fn unique(&mut self, id: String) -> String {
        let n = self.0.entry(id.clone()).or_insert(0);
        *n += 1;
        if *n == 1 { id } else { format!("{id}#{n}") }
    }
}

/// Makes an entry's item: (walk, file, entry number, entry with its strings repaired).
pub type Entry<'a> = dyn FnMut(&mut Walk, &str, usize, Value) -> Result<Item, ItemError> + 'a;

/// Runs `f` over every entry of every file, each the array itself or an object holding it
/// under one of `keys`. A file that cannot be read fails, with its reason, after the
/// entries before the break; the other files go on.
pub fn each_entry(w: &mut Walk, files: Vec<String>, vertical: Vertical, keys: &[&str], f: &mut Entry) {
    for file in files {
        let mut n = 0usize;
        let r = w.fs.open_file(&file).and_then(|input| {
            each_element_of(input, keys, &mut |mut v| {
                n += 1;
                repair_value(&mut v);
                let item = f(w, &file, n, v);
                w.send(item)
            })
        });
        if let Err(e) = r
            && !w.send(Err(fail(vertical, &format!("{file}#{}", n + 1), &file, format!("{e} (after {n} entries)"))))
        {
            return;
        }
        if !w.open {
            return;
        }
    }
}

/// A vertical not asked for: its files are listed, so the report still shows them.
pub fn skip(w: &mut Walk, files: Vec<String>, vertical: Vertical) {
    for f in files {
        if !w.skipped(&f, format!("holds {vertical} items, which were not asked for")) {
            return;
        }
    }
}

/// An activity without its empty members (`null`s), its `object`'s neither.
pub fn prune(mut a: Value) -> Value {
    if let Some(o) = a.as_object_mut() {
        o.retain(|_, v| !v.is_null());
        if let Some(obj) = o.get_mut("object").and_then(Value::as_object_mut) {
            obj.retain(|_, v| !v.is_null());
        }
    }
    a
}

/// The elements of an array field (none when it is not an array).
pub fn list(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Meta's writing of `s`: each UTF-8 byte as its own character.
    fn mojibake(s: &str) -> String {
        s.bytes().map(char::from).collect()
    }

    #[test]
    fn mojibake_is_repaired_and_right_text_is_left_alone() {
        assert_eq!(mojibake("é"), "Ã©");
        for s in ["café", "Smørrebrød", "日本語", "👍", "naïve – “quoted”", "Zürich 🇨🇭"] {
            assert_eq!(repair(&mojibake(s)).as_deref(), Some(s), "{s}");
        }
        // ASCII, and text that is already right, stay
        assert_eq!(repair("plain ascii"), None);
        assert_eq!(repair("日本語"), None);
        assert_eq!(repair("é 👍"), None, "a character past U+00FF: not mojibake");
        // genuine Latin-1: its bytes are not UTF-8
        assert_eq!(repair("café"), None);
        assert_eq!(repair("Müller, São Paulo, ½ £5"), None);
        assert_eq!(repair("\u{ff}\u{fe}"), None);
        // a cut sequence is not UTF-8 either: left as it is
        let cut: String = mojibake("é").chars().take(1).collect();
        assert_eq!(repair(&cut), None);
    }

    #[test]
    fn every_string_of_an_entry_is_repaired() {
        let mut v = json!({"title": mojibake("Ann a réagi"), "data": [{"reaction": {"reaction": mojibake("❤"), "actor": "Ann"}}],
            mojibake("clé"): 1, "n": 5, "ok": "déjà"});
        repair_value(&mut v);
        assert_eq!(v["title"], "Ann a réagi");
        assert_eq!(v["data"][0]["reaction"]["reaction"], "❤");
        assert_eq!(v["clé"], 1);
        assert_eq!(v["ok"], "déjà", "Latin-1 that is not UTF-8 stays");
    }

    #[test]
    fn times_come_as_numbers_or_strings() {
        assert_eq!(seconds(&json!(1_600_000_000)).unwrap().to_rfc3339(), "2020-09-13T12:26:40+00:00");
        assert_eq!(seconds(&json!("1600000000")), seconds(&json!(1_600_000_000)));
        assert_eq!(seconds(&json!(1_600_000_000.7)), seconds(&json!(1_600_000_000)));
        assert_eq!(seconds(&json!(0)), None);
        assert_eq!(seconds(&json!(-5)), None);
        assert_eq!(seconds(&json!(null)), None);
        assert_eq!(seconds(&json!(i64::MAX)), None);
        assert_eq!(millis(&json!(1_600_000_000_123i64)).unwrap().timestamp_subsec_millis(), 123);
    }

    #[test]
    fn ids_repeat_with_a_number() {
        let mut ids = Ids::default();
        assert_eq!(ids.unique("a".into()), "a");
        assert_eq!(ids.unique("a".into()), "a#2");
        assert_eq!(ids.unique("b".into()), "b");
        assert_eq!(ids.unique("a".into()), "a#3");
    }
}
