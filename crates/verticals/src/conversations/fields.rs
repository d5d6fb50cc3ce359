//! Taking fields out of a platform's JSON object: what is taken is modelled, what is
//! left is kept as the record's `extra`.

use super::Extra;
use serde_json::{Map, Value};

/// A string field, taken out; a field of another type is left in place.
pub fn take_str(o: &mut Map<String, Value>, key: &str) -> Option<String> {
    match o.get(key) {
        Some(Value::String(_)) => match o.remove(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
        Some(Value::Null) => {
            o.remove(key);
            None
        }
        _ => None,
    }
}

/// A field that is a time, taken out when it reads as one; else left in place (kept as
/// written) with a warning.
pub fn take_time(
    o: &mut Map<String, Value>,
    key: &str,
    read: fn(&Value) -> Result<Option<chrono::DateTime<chrono::Utc>>, String>,
    whose: &str,
    warnings: &mut Vec<String>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let v = o.get(key)?;
    match read(v) {
        Ok(t) => {
            o.remove(key);
            t
        }
        Err(e) => {
            warnings.push(format!("{whose}: {key} {e}; kept as written"));
            None
        }
    }
}

/// What is left of an object, as a record's `extra`.
pub fn rest(o: Map<String, Value>) -> Extra {
    o.into_iter().collect()
}

/// A name the archive's file can be found by: a plain name, no path.
pub fn safe_file_ref(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = !s.is_empty() && s.len() <= 255 && !s.contains(['/', '\\', '\0']) && s != "." && s != "..";
    ok.then(|| s.to_owned())
}
