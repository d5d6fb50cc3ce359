//! A minimal iCalendar VTODO (RFC 5545 §3.6.2) for a task that came without one (from
//! Google Tasks or Microsoft To Do), so that packages and CalDAV servers get the standard
//! form: what the task model holds, and `extra` properties for what it does not.

use ferry_core::model::{DateOrDateTime, Task};

pub(crate) fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;").replace("\r\n", "\\n").replace(['\r', '\n'], "\\n")
}

/// `2025-01-10` as `20250110`, `2025-01-10T09:00:00Z` as `20250110T090000Z`.
pub(crate) fn ical_value(d: &DateOrDateTime) -> Option<(String, String)> {
    let digits: String = d.value.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if d.date_only {
        return (digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| (";VALUE=DATE".to_owned(), digits));
    }
    let ok = digits.len() >= 15 && digits.as_bytes()[8] == b'T';
    let tz = d.tzid.as_ref().map(|t| format!(";TZID={}", esc(t))).unwrap_or_default();
    ok.then(|| (tz, digits.chars().take(15).collect::<String>() + if digits.ends_with('Z') { "Z" } else { "" }))
}

/// A DTSTAMP (`YYYYMMDDTHHMMSSZ`) from an RFC 3339 UTC time, or the epoch when there is
/// none to read.
pub fn stamp(rfc3339: Option<&str>) -> String {
    let digits: String = rfc3339.unwrap_or_default().chars().filter(|c| c.is_ascii_digit()).take(14).collect();
    if digits.len() == 14 { format!("{}T{}Z", &digits[..8], &digits[8..]) } else { "19700101T000000Z".into() }
}

/// The VCALENDAR holding `t`; `stamp` is DTSTAMP (UTC, `YYYYMMDDTHHMMSSZ`), `extra` whole
/// property lines to add.
pub fn build_todo(t: &Task, stamp: &str, extra: &[String]) -> String {
    let mut l = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        format!("PRODID:-//ferry//ferry {}//EN", env!("CARGO_PKG_VERSION")),
        "BEGIN:VTODO".to_owned(),
        format!("UID:{}", esc(&t.uid)),
        format!("DTSTAMP:{stamp}"),
    ];
    if let Some(s) = &t.summary {
        l.push(format!("SUMMARY:{}", esc(s)));
    }
    if let Some(d) = &t.description {
        l.push(format!("DESCRIPTION:{}", esc(d)));
    }
    for (name, value) in [("DTSTART", &t.start), ("DUE", &t.due), ("COMPLETED", &t.completed)] {
        if let Some((params, v)) = value.as_ref().and_then(ical_value) {
            l.push(format!("{name}{params}:{v}"));
        }
    }
    if let Some(s) = &t.status {
        l.push(format!("STATUS:{}", esc(s)));
    }
    if let Some(p) = t.priority {
        l.push(format!("PRIORITY:{p}"));
    }
    if let Some(p) = &t.parent {
        l.push(format!("RELATED-TO;RELTYPE=PARENT:{}", esc(p)));
    }
    if !t.categories.is_empty() {
        l.push(format!("CATEGORIES:{}", t.categories.iter().map(|c| esc(c)).collect::<Vec<_>>().join(",")));
    }
    l.extend(extra.iter().cloned());
    l.push("END:VTODO".into());
    l.push("END:VCALENDAR".into());
    let mut out = String::new();
    for line in l {
        out.push_str(&crate::todo::fold(&line));
    }
    out
}

/// Folds a content line at 75 octets, never inside a UTF-8 character (RFC 5545 §3.1).
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_becomes_a_vtodo_the_parser_reads_back() {
        let t = Task {
            uid: "t-1".into(),
            summary: Some("Pay the rent; then, relax — ünïcode ".repeat(4)),
            description: Some("line 1\nline 2".into()),
            due: Some(DateOrDateTime { value: "2025-01-10".into(), tzid: None, date_only: true }),
            completed: Some(DateOrDateTime { value: "2025-01-09T08:30:00Z".into(), tzid: None, date_only: false }),
            status: Some("COMPLETED".into()),
            priority: Some(1),
            parent: Some("t-0".into()),
            categories: vec!["Home".into()],
            ..Default::default()
        };
        let text = build_todo(&t, "20250101T000000Z", &["X-GOOGLE-LINK:https://example.org".into()]);
        assert!(text.lines().all(|l| l.len() <= 76), "{text}");
        let back = match crate::ical::parse_object(text.as_bytes(), 1).unwrap() {
            ferry_core::Record::Task(t) => t,
            other => panic!("{other:?}"),
        };
        assert_eq!(back.summary, t.summary);
        assert_eq!(back.description.as_deref(), Some("line 1\nline 2"));
        assert_eq!(back.due.as_ref().map(|d| (d.value.as_str(), d.date_only)), Some(("2025-01-10", true)));
        assert_eq!(back.status.as_deref(), Some("COMPLETED"));
        assert_eq!(back.priority, Some(1));
        assert_eq!(back.parent.as_deref(), Some("t-0"));
        assert!(back.other_properties.iter().any(|p| p == "X-GOOGLE-LINK"), "{:?}", back.other_properties);
        // a date that is no date is left out, never written wrong
        let odd =
            Task { uid: "x".into(), due: Some(DateOrDateTime { value: "soon".into(), tzid: None, date_only: true }), ..Default::default() };
        assert!(!build_todo(&odd, "20250101T000000Z", &[]).contains("DUE"));
    }
}
