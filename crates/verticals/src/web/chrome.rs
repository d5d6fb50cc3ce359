//! Google Takeout's Chrome files (`Takeout/Chrome/`): `Bookmarks.html` (a Netscape
//! bookmark file, as Chrome exports one), `ReadingList.html` (the same format, dates in
//! microseconds: its entries are bookmarks in a `Reading list` container) and the history,
//! `History.json` (older Takeouts: `BrowserHistory.json`), read as a stream.
//!
//! The history is `{"Browser History": [{"favicon_url", "page_transition" (newer
//! Takeouts: "page_transition_qualifier"), "title", "url", "client_id", "time_usec"}, …]}`,
//! `time_usec` microseconds since 1970, a number or a string (0: no time). Newer files
//! also hold `Typed Url`, `Session` and `Shared Tab Group`: browser state, not visits, which
//! is said (how many entries of each) on the last visit, not kept.

use super::netscape;
use super::{Folder, Found, HISTORY, Kind, Web};
use crate::found::hash_id;
use crate::json_stream::{self, Event};
use chrono::{DateTime, Utc};
use ferry_core::compact_set::Occurrences;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;

/// The reading list's container.
pub const READING_LIST: &str = "Reading list";

/// The largest visit: a visit is a few hundred bytes.
const MAX_VISIT: usize = 1 << 20;

/// Chrome's `Bookmarks.html`: every bookmark, in its folders.
pub fn read_chrome_bookmarks(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    netscape::read(input, &[], each)
}

/// Chrome's `ReadingList.html`: each entry a bookmark in `Reading list`.
pub fn read_chrome_reading_list(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    netscape::read(input, &[Folder { title: READING_LIST.into(), options: BTreeMap::new() }], each)
}

/// Chrome's history file (`History.json`, `BrowserHistory.json`): each visit an item, in
/// the `History` container, read one at a time (the file may hold 100,000 visits and more).
/// Ids are a hash of the visit's URL, time and client: the same visit exported twice is
/// `…#2`. Memory: one visit, and 8 bytes a visit for telling repeats apart (the map that
/// took 32 and more, 13 MiB at 200,000 visits while it grew, was a Takeout's peak).
pub fn read_chrome_history(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    let mut held: Option<Found> = None;
    let mut other: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen = Occurrences::default();
    let mut visits = 0usize;
    let mut go_on = true;
    let r = json_stream::read(input, MAX_VISIT, &mut |e| {
        match e {
            Event::Element { key: "Browser History" | "", index, bytes } => {
                visits += 1;
                let found = visit(bytes, index, &mut seen);
                if let Some(h) = held.take() {
                    go_on = each(Ok(h));
                }
                match found {
                    Ok(f) => held = Some(f),
                    Err(e) => go_on = go_on && each(Err(e)),
                }
            }
            Event::TooLarge { key: "Browser History" | "", index, size } => {
                visits += 1;
                go_on = each(Err(format!("visit {}: {size} bytes, over the {MAX_VISIT} a visit may hold: not read", index + 1)));
            }
            Event::Element { key, .. } | Event::TooLarge { key, .. } => *other.entry(key.to_owned()).or_default() += 1,
            Event::Value { key, .. } => {
                other.entry(key.to_owned()).or_default();
            }
            Event::End { .. } => {}
        }
        go_on
    });
    let said = if other.is_empty() {
        None
    } else {
        let parts: Vec<String> = other.iter().map(|(k, n)| format!("`{k}` ({n} entries)")).collect();
        Some(format!("the history file also holds {}: browser state, not visits, not kept", parts.join(", ")))
    };
    match (held.take(), said) {
        (Some(mut h), said) => {
            h.warnings.extend(said);
            if go_on && !each(Ok(h)) {
                return Ok(());
            }
        }
        // the last visit failed: no visit to say it with, so it is said as a failure
        (None, Some(s)) if visits > 0 && go_on => {
            if !each(Err(s)) {
                return Ok(());
            }
        }
        (None, said) => {
            if visits == 0 {
                r?;
                return Err(match said {
                    Some(s) => format!("no `Browser History` list in it; {s}"),
                    None => "no `Browser History` list in it".into(),
                });
            }
        }
    }
    r
}

/// One element of `Browser History`.
fn visit(bytes: &[u8], index: usize, seen: &mut Occurrences<String>) -> Result<Found, String> {
    let n = index + 1;
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("visit {n}: not JSON ({e})"))?;
    let Value::Object(map) = v else { return Err(format!("visit {n}: not an object")) };
    let mut w = Web { kind: Kind::Visit, ..Default::default() };
    let mut warnings = Vec::new();
    let mut time_key = String::new();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (k, v) in &map {
        match k.as_str() {
            "url" => w.url = text(v),
            "title" => w.title = Some(text(v)).filter(|t| !t.is_empty()),
            "time_usec" => {
                time_key = text(v);
                w.visited = micros(v);
                if w.visited.is_none() {
                    warnings.push(format!("time_usec `{time_key}`: not a time, kept as written"));
                    w.options.insert(k.clone(), time_key.clone());
                }
            }
            "page_transition" => w.transition = Some(text(v)),
            "page_transition_qualifier" if !map.contains_key("page_transition") => w.transition = Some(text(v)),
            "client_id" => w.client_id = Some(text(v)).filter(|c| !c.is_empty()),
            "favicon_url" => w.favicon_url = Some(text(v)).filter(|f| !f.is_empty()),
            _ if v.is_null() => {}
            _ => drop(w.options.insert(k.clone(), text(v))),
        }
    }
    if w.url.trim().is_empty() {
        return Err(format!("visit {n}: no url"));
    }
    let base = hash_id(&[&w.url, &time_key, w.client_id.as_deref().unwrap_or("")]);
    let count = seen.count(u64::from_str_radix(&base[..16], 16).unwrap_or_default(), || base.clone());
    let id = if count == 1 { format!("visit-{base}") } else { format!("visit-{base}#{count}") };
    Ok(Found { id, container: HISTORY.into(), record: w, files: vec![], warnings })
}

/// `time_usec`: microseconds since 1970, as a number or a string; 0 (and what is not a
/// time) is none.
fn micros(v: &Value) -> Option<DateTime<Utc>> {
    let n: i64 = match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 9e18).map(|f| f as i64))?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    if n == 0 {
        return None;
    }
    DateTime::from_timestamp_micros(n)
}
