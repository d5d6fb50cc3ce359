//! Times and numbers as the platforms write them: epoch seconds as a float, an integer
//! or a string of either (ChatGPT's `create_time`, Slack's `ts` and `created`), and
//! RFC 3339 strings (Claude).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

/// A number, or a string that holds one (`"1704067200.5"`).
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// A count: a whole number, or a string that holds one.
pub fn count(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Epoch seconds (with a fraction) as a time; `None` for null, and for what is not a
/// time (`Err` with the value as written).
pub fn epoch(v: &Value) -> Result<Option<DateTime<Utc>>, String> {
    if v.is_null() {
        return Ok(None);
    }
    // a string of digits is read exactly (Slack's `ts`: seconds and microseconds)
    if let Value::String(s) = v
        && let Some(t) = exact_epoch(s.trim())
    {
        return Ok(Some(t));
    }
    let Some(f) = number(v) else { return Err(format!("{v} is not a time")) };
    let secs = f.floor();
    // microseconds: what a float of epoch seconds holds exactly
    let micros = ((f - secs) * 1e6).round() as u32;
    if !(-1e11..1e11).contains(&secs) {
        return Err(format!("{v} is not a time"));
    }
    DateTime::from_timestamp(secs as i64, micros.min(999_999) * 1000).map(Some).ok_or_else(|| format!("{v} is not a time"))
}

fn exact_epoch(s: &str) -> Option<DateTime<Utc>> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || whole.len() > 11 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: u32 = if frac.is_empty() { 0 } else { format!("{frac:0<9}").parse().ok()? };
    DateTime::from_timestamp(whole.parse().ok()?, nanos)
}

/// An RFC 3339 time, or one without its zone (read as UTC); `None` for null or empty.
pub fn rfc3339(v: &Value) -> Result<Option<DateTime<Utc>>, String> {
    let s = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim(),
        // some exports write epoch seconds where a date was expected
        Value::Number(_) => return epoch(v),
        other => return Err(format!("{other} is not a time")),
    };
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(d.with_timezone(&Utc)));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), f) {
            return Ok(Some(d.and_utc()));
        }
    }
    if let Ok(d) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f %z") {
        return Ok(Some(d.with_timezone(&Utc)));
    }
    Err(format!("{s:?} is not a time"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_as_platforms_write_them() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(epoch(&json!(1704067200.5)).unwrap(), Some(t("2024-01-01T00:00:00.5Z")));
        assert_eq!(epoch(&json!("1704067200.5")).unwrap(), Some(t("2024-01-01T00:00:00.5Z")));
        assert_eq!(epoch(&json!(1704067200)).unwrap(), Some(t("2024-01-01T00:00:00Z")));
        // Slack's ts, exactly (a float would round the microseconds)
        assert_eq!(epoch(&json!("1355517523.000005")).unwrap(), Some(t("2012-12-14T20:38:43.000005Z")));
        assert_eq!(epoch(&json!(null)).unwrap(), None);
        for bad in [json!("soon"), json!(1e300), json!(true), json!("-")] {
            assert!(epoch(&bad).is_err(), "{bad}");
        }
        assert_eq!(rfc3339(&json!("2024-03-01T10:00:00.123456Z")).unwrap(), Some(t("2024-03-01T10:00:00.123456Z")));
        assert_eq!(rfc3339(&json!("2024-03-01T12:00:00+02:00")).unwrap(), Some(t("2024-03-01T10:00:00Z")));
        assert_eq!(rfc3339(&json!("2024-03-01 10:00:00")).unwrap(), Some(t("2024-03-01T10:00:00Z")));
        assert_eq!(rfc3339(&json!("")).unwrap(), None);
        assert!(rfc3339(&json!("yesterday")).is_err());
        assert_eq!(count(&json!("3")), Some(3));
        assert_eq!(count(&json!(-1)), None);
    }
}
