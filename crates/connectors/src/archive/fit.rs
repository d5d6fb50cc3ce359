//! Google Fit in a Takeout: `All Sessions/*.json` (one workout each: its activity, times,
//! and the metrics Fit aggregated) and `Daily activity metrics/Daily activity metrics.csv`
//! (one summary a day, each column kept). The per-day files of 15-minute buckets beside
//! it are not read (listed as not understood, kept as files).

use super::found::{beside, emit, skip_all};
use super::walk::{Walk, fail};
use ferry_verticals::found::{Found, hash_id};
use ferry_verticals::health::{HEALTH, Health, Kind};
use serde_json::Value;
use std::collections::BTreeMap;

/// Largest session file read (a session is a few kilobytes).
const MAX_SESSION: u64 = 4 << 20;
/// Largest daily metrics file read (a row a day).
const MAX_DAILY: u64 = 64 << 20;

/// A number as Fit writes it (a float, an integer, or a string), as exact text.
fn number(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

pub fn sessions(w: &mut Walk, files: Vec<String>) {
    if !w.wants(HEALTH) {
        return skip_all(w, files, HEALTH);
    }
    for (n, file) in files.iter().enumerate() {
        let found = w.fs.read_bounded(file, MAX_SESSION).and_then(|b| session(file, &b));
        if !emit(w, file, HEALTH, n + 1, found, &beside) {
            return;
        }
    }
}

fn session(file: &str, bytes: &[u8]) -> Result<Found<Health>, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not a Fit session ({e})"))?;
    let time = |k: &str| v[k].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let activity = v["fitnessActivity"].as_str().ok_or("a session without its fitnessActivity")?;
    let mut h = Health {
        kind: Kind::Workout,
        data_type: format!("fit:{activity}"),
        start: time("startTime"),
        end: time("endTime"),
        source: Some("Google Fit".into()),
        ..Default::default()
    };
    if let Some(d) = v["duration"].as_str().and_then(|d| d.strip_suffix('s')) {
        (h.duration, h.duration_unit) = (Some(d.to_owned()), Some("s".into()));
    }
    let mut warnings = Vec::new();
    for a in v["aggregate"].as_array().into_iter().flatten() {
        let metric = a["metricName"].as_str().unwrap_or_default();
        let value = number(&a["floatValue"]).or_else(|| number(&a["intValue"]));
        match (metric, value) {
            ("com.google.calories.expended", Some(x)) => (h.energy, h.energy_unit) = (Some(x), Some("kcal".into())),
            ("com.google.distance.delta", Some(x)) => (h.distance, h.distance_unit) = (Some(x), Some("m".into())),
            (m, Some(x)) if !m.is_empty() => {
                h.metadata.insert(m.to_owned(), x);
            }
            _ => warnings.push(format!("an aggregate without a name or value: {a}")),
        }
    }
    for (k, val) in v.as_object().into_iter().flatten() {
        if !["fitnessActivity", "startTime", "endTime", "duration", "aggregate"].contains(&k.as_str()) {
            h.extra.insert(k.clone(), val.as_str().map_or_else(|| val.to_string(), str::to_owned));
        }
    }
    let id = format!("fit-session:{}", hash_id(&[file, v["startTime"].as_str().unwrap_or_default(), activity]));
    Ok(Found { id, container: "Workouts".into(), record: h, files: vec![], warnings })
}

pub fn daily(w: &mut Walk, files: Vec<String>) {
    if !w.wants(HEALTH) {
        return skip_all(w, files, HEALTH);
    }
    for file in files {
        let rows = w.fs.read_bounded(&file, MAX_DAILY).and_then(|b| summaries(&b));
        match rows {
            Ok(rows) => {
                for (n, found) in rows.into_iter().enumerate() {
                    if !emit(w, &file, HEALTH, n + 1, found, &beside) {
                        return;
                    }
                }
            }
            Err(e) => {
                if !w.send(Err(fail(HEALTH, &file, &file, e))) {
                    return;
                }
            }
        }
    }
}

/// One summary a row: its date, then every other column as it is written.
fn summaries(bytes: &[u8]) -> Result<Vec<Result<Found<Health>, String>>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text ({e})"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().map_err(|e| format!("no header ({e})"))?.iter().map(str::to_owned).collect();
    if header.first().map(String::as_str) != Some("Date") {
        return Err(format!("the first column is `{}`, not Date: not Fit's daily metrics", header.first().cloned().unwrap_or_default()));
    }
    let mut out = Vec::new();
    for (i, row) in r.records().enumerate() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                out.push(Err(format!("line {}: {e}", i + 2)));
                continue;
            }
        };
        let Some(day) = row.get(0).and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) else {
            out.push(Err(format!("line {}: no date", i + 2)));
            continue;
        };
        let metadata: BTreeMap<String, String> =
            header.iter().zip(row.iter()).skip(1).filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.clone(), v.to_owned())).collect();
        let h = Health {
            kind: Kind::Summary,
            data_type: "fit:daily_activity".into(),
            day: Some(day),
            source: Some("Google Fit".into()),
            metadata,
            ..Default::default()
        };
        out.push(Ok(Found {
            id: format!("fit-day:{day}"),
            container: "ActivitySummaries".into(),
            record: h,
            files: vec![],
            warnings: vec![],
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_and_daily_rows_become_records() {
        let s = br#"{"fitnessActivity": "running", "startTime": "2021-01-04T10:00:00.000+01:00", "endTime": "2021-01-04T10:30:00.000+01:00",
            "duration": "1800.000s", "aggregate": [{"metricName": "com.google.calories.expended", "floatValue": 301.5},
            {"metricName": "com.google.distance.delta", "floatValue": 5012.25}, {"metricName": "com.google.step_count.delta", "intValue": 5400}]}"#;
        let f = session("Takeout/Fit/All Sessions/x.json", s).unwrap();
        assert_eq!((f.record.energy.as_deref(), f.record.distance.as_deref()), (Some("301.5"), Some("5012.25")));
        assert_eq!(f.record.metadata["com.google.step_count.delta"], "5400");
        assert_eq!(f.record.duration.as_deref(), Some("1800.000"));
        assert!(session("x", b"{}").is_err() && session("x", b"not json").is_err());
        let rows = summaries(b"Date,Move Minutes count,Step count\n2021-01-04,35,8012\nbad,1,2\n").unwrap();
        assert_eq!(rows.len(), 2);
        let day = rows[0].as_ref().unwrap();
        assert_eq!((day.id.as_str(), day.record.metadata["Step count"].as_str()), ("fit-day:2021-01-04", "8012"));
        assert!(rows[1].is_err());
        assert!(summaries(b"Time,x\n").unwrap_err().contains("not Fit"));
    }
}
