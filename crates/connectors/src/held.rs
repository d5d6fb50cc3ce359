//! What a destination holds when it keeps no id of ferry's (Microsoft contacts and To Do,
//! Google Tasks): its entries by container and natural key (a name and an email, a title
//! and a due date). Each entry is claimed by at most one item of the run, so that two
//! different items with the same key never merge into one entry (the second gets one of
//! its own), while a rerun or a retry finds each item's entry again.

use serde_json::Value;
use std::collections::HashMap;

#[derive(Default)]
pub struct Held(HashMap<String, Vec<Entry>>);

struct Entry {
    key: String,
    id: String,
    /// The fields as ferry would write them (to tell "already there" from "changed"), as
    /// JSON text: a parsed value takes several times the memory, and a run may hold tens
    /// of thousands.
    fields: Box<str>,
    /// The item of this run that claimed it.
    by: Option<String>,
}

impl Held {
    /// Whether `container` has been read.
    pub fn knows(&self, container: &str) -> bool {
        self.0.contains_key(container)
    }

    /// What `container` holds: (natural key, id, fields) of each entry.
    pub fn fill(&mut self, container: &str, entries: impl IntoIterator<Item = (String, String, Value)>) {
        let list = entries.into_iter().map(|(key, id, fields)| Entry { key, id, fields: text(&fields), by: None }).collect();
        self.0.insert(container.to_owned(), list);
    }

    /// The entry of `key` for `item`: the one it claimed before, else the first nobody
    /// claimed (claimed now); none when every entry of the key belongs to another item.
    pub fn claim(&mut self, container: &str, key: &str, item: &str) -> Option<(String, Value)> {
        let list = self.0.get_mut(container)?;
        let at = list
            .iter()
            .position(|e| e.key == key && e.by.as_deref() == Some(item))
            .or_else(|| list.iter().position(|e| e.key == key && e.by.is_none()))?;
        let e = &mut list[at];
        e.by = Some(item.to_owned());
        Some((e.id.clone(), serde_json::from_str(&e.fields).unwrap_or(Value::Null)))
    }

    /// After a write: entry `id` holds `fields`, claimed by `item`.
    pub fn record(&mut self, container: &str, key: String, id: String, fields: Value, item: &str) {
        let list = self.0.entry(container.to_owned()).or_default();
        match list.iter_mut().find(|e| e.id == id) {
            Some(e) => {
                e.fields = text(&fields);
                e.by = Some(item.to_owned());
            }
            None => list.push(Entry { key, id, fields: text(&fields), by: Some(item.to_owned()) }),
        }
    }
}

fn text(v: &Value) -> Box<str> {
    v.to_string().into_boxed_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_items_of_one_key_never_share_an_entry_and_a_rerun_finds_each_again() {
        let mut h = Held::default();
        h.fill("list", [("call mom".into(), "t1".into(), Value::Null)]);
        assert_eq!(h.claim("list", "call mom", "a").map(|e| e.0), Some("t1".into()));
        assert_eq!(h.claim("list", "call mom", "b"), None, "the second item gets an entry of its own");
        h.record("list", "call mom".into(), "t2".into(), Value::Null, "b");
        assert_eq!(h.claim("list", "call mom", "a").map(|e| e.0), Some("t1".into()), "a retry finds its own");
        assert_eq!(h.claim("list", "call mom", "b").map(|e| e.0), Some("t2".into()));
        // a new run over what the destination now holds: each finds one, none is made again
        let mut again = Held::default();
        again.fill("list", [("call mom".into(), "t1".into(), Value::Null), ("call mom".into(), "t2".into(), Value::Null)]);
        assert!(again.claim("list", "call mom", "a").is_some() && again.claim("list", "call mom", "b").is_some());
        assert!(!again.knows("other"));
    }
}
