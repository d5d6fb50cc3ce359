//! A calendar object as its VEVENTs, one part each: the series (or single event) first,
//! then each override with its RECURRENCE-ID. Service APIs (Google Calendar, Microsoft
//! Graph) hold a series as one event per part, so their connectors read and write these
//! parts and the standard text; what a part has beyond the event model (TRANSP, CLASS,
//! URL) is carried here, the rest is named in `other_properties`.

use crate::CodecError;
use crate::ical::{date_of, record_of, text_of};
use crate::text_component::decode_text;
use crate::todo::{esc, fold, ical_value};
use calcard::icalendar::{ICalendar, ICalendarComponentType, ICalendarProperty};
use ferry_core::Record;
use ferry_core::model::{DateOrDateTime, Event};

/// One VEVENT of a calendar object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventPart {
    pub event: Event,
    /// The occurrence an override replaces; `None` for the series or a single event.
    pub recurrence_id: Option<DateOrDateTime>,
    /// TRANSP:TRANSPARENT (the event does not make its time busy).
    pub transparent: bool,
    /// CLASS: PUBLIC, PRIVATE or CONFIDENTIAL.
    pub class: Option<String>,
    pub url: Option<String>,
}

/// Properties a part carries besides the event model's.
const PART_PROPERTIES: [&str; 3] = ["TRANSP", "CLASS", "URL"];

/// The VEVENTs of a calendar object, the series first. An object without a VEVENT is an
/// error that says what it holds instead.
pub fn event_parts(original: &[u8]) -> Result<Vec<EventPart>, CodecError> {
    let text = decode_text(original, 1)?;
    // the parser takes a cut-off object as far as it goes; a part of an event is no event
    if !text.trim_end().rsplit(['\n', '\r']).next().is_some_and(|l| l.trim().eq_ignore_ascii_case("END:VCALENDAR")) {
        return Err(CodecError::Syntax { line: 1, reason: "the calendar object is cut off (it does not end with END:VCALENDAR)".into() });
    }
    let cal = ICalendar::parse(text.as_ref()).map_err(|e| CodecError::Syntax {
        line: 1,
        reason: format!("not a readable iCalendar object ({})", crate::vcard::entry_kind(&e)),
    })?;
    let mut parts = Vec::new();
    for c in cal.components.iter().filter(|c| c.component_type == ICalendarComponentType::VEvent) {
        let Record::Event(mut event) = record_of(&cal, c, Vec::new()) else { continue };
        event.other_properties.retain(|p| !PART_PROPERTIES.contains(&p.as_str()));
        parts.push(EventPart {
            recurrence_id: c.property(&ICalendarProperty::RecurrenceId).and_then(date_of),
            transparent: text_of(c, &ICalendarProperty::Transp).is_some_and(|t| t.eq_ignore_ascii_case("TRANSPARENT")),
            class: text_of(c, &ICalendarProperty::Class).map(|c| c.to_ascii_uppercase()),
            url: text_of(c, &ICalendarProperty::Url),
            event,
        });
    }
    if parts.is_empty() {
        return Err(CodecError::Syntax { line: 1, reason: "the calendar object holds no VEVENT".into() });
    }
    // the series (no RECURRENCE-ID) first, overrides in the order written
    parts.sort_by_key(|p| p.recurrence_id.is_some());
    let overrides: Vec<DateOrDateTime> = parts.iter().filter_map(|p| p.recurrence_id.clone()).collect();
    if parts[0].recurrence_id.is_none() {
        parts[0].event.overrides = overrides;
    }
    Ok(parts)
}

/// The VCALENDAR of these parts; `stamp` is DTSTAMP (UTC, `YYYYMMDDTHHMMSSZ`), `extra[i]`
/// whole property lines added to part `i` (properties the event model has no field for).
pub fn build_calendar(parts: &[EventPart], stamp: &str, extra: &[Vec<String>]) -> String {
    let mut text = calendar_begin();
    for (n, p) in parts.iter().enumerate() {
        text.push_str(&vevent(p, stamp, extra.get(n).map(Vec::as_slice).unwrap_or_default()));
    }
    text.push_str(&calendar_end());
    with_timezones(text)
}

/// The opening lines of a VCALENDAR (BEGIN, VERSION, PRODID), for a writer that streams
/// its events one by one ([`vevent`]) and ends with [`calendar_end`].
pub fn calendar_begin() -> String {
    ["BEGIN:VCALENDAR".to_owned(), "VERSION:2.0".to_owned(), format!("PRODID:-//ferry//ferry {}//EN", env!("CARGO_PKG_VERSION"))]
        .iter()
        .map(|line| fold(line))
        .collect()
}

/// The closing line of a VCALENDAR.
pub fn calendar_end() -> String {
    fold("END:VCALENDAR")
}

/// One VEVENT of a part, folded, CRLF line ends; `stamp` is DTSTAMP (UTC,
/// `YYYYMMDDTHHMMSSZ`), `extra` whole property lines the event model has no field for.
/// A TZID it names needs its VTIMEZONE, which [`build_calendar`] adds and a streaming
/// writer must see to itself.
pub fn vevent(p: &EventPart, stamp: &str, extra: &[String]) -> String {
    let mut l: Vec<String> = Vec::new();
    {
        let e = &p.event;
        l.push("BEGIN:VEVENT".into());
        l.push(format!("UID:{}", esc(&e.uid)));
        l.push(format!("DTSTAMP:{stamp}"));
        let date = date_line;
        if let Some(line) = p.recurrence_id.as_ref().and_then(|d| date("RECURRENCE-ID", d)) {
            l.push(line);
        }
        l.extend(e.start.as_ref().and_then(|d| date("DTSTART", d)));
        l.extend(e.end.as_ref().and_then(|d| date("DTEND", d)));
        if e.end.is_none()
            && let Some(d) = &e.duration
        {
            l.push(format!("DURATION:{d}"));
        }
        for (name, v) in [("SUMMARY", &e.summary), ("DESCRIPTION", &e.description), ("LOCATION", &e.location), ("STATUS", &e.status)] {
            if let Some(v) = v {
                l.push(format!("{name}:{}", esc(v)));
            }
        }
        if p.transparent {
            l.push("TRANSP:TRANSPARENT".into());
        }
        if let Some(c) = &p.class {
            l.push(format!("CLASS:{}", esc(c)));
        }
        if let Some(u) = &p.url {
            l.push(format!("URL:{u}"));
        }
        if let Some(r) = &e.rrule {
            l.push(format!("RRULE:{r}"));
        }
        for (name, dates) in [("RDATE", &e.rdates), ("EXDATE", &e.exdates)] {
            l.extend(dates.iter().filter_map(|d| date(name, d)));
        }
        if let Some(o) = &e.organizer {
            l.push(person_line("ORGANIZER", o));
        }
        l.extend(e.attendees.iter().map(|a| person_line("ATTENDEE", a)));
        if !e.categories.is_empty() {
            l.push(format!("CATEGORIES:{}", e.categories.iter().map(|c| esc(c)).collect::<Vec<_>>().join(",")));
        }
        l.extend(extra.iter().cloned());
        for a in &e.alarms {
            l.push("BEGIN:VALARM".into());
            l.push(format!("ACTION:{}", esc(&a.action)));
            l.push(if a.trigger.contains('T') && !a.trigger.starts_with(['-', '+', 'P']) {
                format!("TRIGGER;VALUE=DATE-TIME:{}", a.trigger)
            } else {
                format!("TRIGGER:{}", a.trigger)
            });
            // DISPLAY and EMAIL alarms need a DESCRIPTION (RFC 5545 §3.6.6)
            l.push(format!("DESCRIPTION:{}", esc(a.description.as_deref().or(e.summary.as_deref()).unwrap_or("Reminder"))));
            if a.action.eq_ignore_ascii_case("EMAIL") {
                l.push(format!("SUMMARY:{}", esc(e.summary.as_deref().unwrap_or("Reminder"))));
                l.extend(e.organizer.as_ref().map(|o| format!("ATTENDEE:{}", o.address)));
            }
            l.push("END:VALARM".into());
        }
        l.push("END:VEVENT".into());
    }
    l.iter().map(|line| fold(line)).collect()
}

/// The object with a VTIMEZONE for each IANA zone its TZIDs name (RFC 5545 §3.6.5 asks
/// for one per TZID used), made from the time zone database for the years the events
/// span; the object as it is when it names none or cannot be read.
fn with_timezones(text: String) -> String {
    if !text.contains(";TZID=") {
        return text;
    }
    let Ok(mut cal) = ICalendar::parse(&text) else { return text };
    if cal.add_missing_timezones() == 0 {
        return text;
    }
    // the VTIMEZONEs only, put before the events: the events stay as they were written
    let whole = cal.to_string();
    let mut zones = String::new();
    let mut rest = whole.as_str();
    while let Some(start) = rest.find("BEGIN:VTIMEZONE") {
        let Some(len) = rest[start..].find("END:VTIMEZONE\r\n") else { break };
        let end = start + len + "END:VTIMEZONE\r\n".len();
        zones.push_str(&rest[start..end]);
        rest = &rest[end..];
    }
    match text.find("BEGIN:VEVENT") {
        Some(at) if !zones.is_empty() => format!("{}{zones}{}", &text[..at], &text[at..]),
        _ => text,
    }
}

/// One date property line (`EXDATE;TZID=Europe/Berlin:20250310T090000`), or `None` for a
/// value that is no date.
pub fn date_line(name: &str, d: &DateOrDateTime) -> Option<String> {
    ical_value(d).map(|(params, v)| format!("{name}{params}:{v}"))
}

/// Minutes of an ISO 8601 duration without a sign (`PT15M`, `P1DT2H`, `P1W`); seconds
/// are cut to whole minutes. `None` for anything else.
pub fn duration_minutes(d: &str) -> Option<i64> {
    let rest = d.trim().trim_start_matches('+').strip_prefix('P')?;
    let (mut total, mut num, mut time, mut any) = (0i64, String::new(), false, false);
    for c in rest.chars() {
        match c {
            '0'..='9' => num.push(c),
            'T' if num.is_empty() && !time => time = true,
            'W' | 'D' | 'H' | 'M' | 'S' => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                any = true;
                total = total.checked_add(match (c, time) {
                    ('W', false) => n.checked_mul(7 * 24 * 60)?,
                    ('D', false) => n.checked_mul(24 * 60)?,
                    ('H', true) => n.checked_mul(60)?,
                    ('M', true) => n,
                    ('S', true) => n / 60,
                    _ => return None,
                })?;
            }
            _ => return None,
        }
    }
    (any && num.is_empty()).then_some(total)
}

/// Minutes before the start of a relative alarm trigger (`-PT15M`; `PT0S` is at the
/// start); `None` for a trigger after the start, an absolute one, or none readable.
pub fn minutes_before(trigger: &str) -> Option<i64> {
    match trigger.trim().strip_prefix('-') {
        Some(before) => duration_minutes(before),
        None => duration_minutes(trigger).filter(|m| *m == 0),
    }
}

fn person_line(name: &str, a: &ferry_core::model::Attendee) -> String {
    let mut s = name.to_owned();
    let quote = |v: &str| format!("\"{}\"", v.replace('"', "'"));
    if let Some(cn) = &a.name {
        s.push_str(&format!(";CN={}", quote(cn)));
    }
    if let Some(r) = &a.role {
        s.push_str(&format!(";ROLE={r}"));
    }
    if let Some(p) = &a.status {
        s.push_str(&format!(";PARTSTAT={p}"));
    }
    format!("{s}:{}", a.address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::model::{Alarm, Attendee};

    #[test]
    fn events_streamed_one_by_one_make_the_same_calendar() {
        let part = |uid: &str, summary: &str| EventPart {
            event: Event {
                uid: uid.into(),
                summary: Some(summary.into()),
                start: Some(DateOrDateTime { value: "2025-01-10T09:00:00Z".into(), tzid: None, date_only: false }),
                ..Default::default()
            },
            ..Default::default()
        };
        let parts = [part("a", "One, two; three\r\nfour \\ ünïcödé ".repeat(3).as_str()), part("b", "Two")];
        let streamed =
            calendar_begin() + &vevent(&parts[0], "20250101T000000Z", &[]) + &vevent(&parts[1], "20250101T000000Z", &[]) + &calendar_end();
        assert_eq!(streamed, build_calendar(&parts, "20250101T000000Z", &[]));
        assert!(streamed.split_terminator("\r\n").all(|l| l.len() <= 75 && !l.contains('\r') && !l.contains('\n')), "{streamed}");
        let back = event_parts(streamed.as_bytes()).unwrap();
        assert_eq!(back[0].event.summary, parts[0].event.summary.as_ref().map(|s| s.replace("\r\n", "\n")));
    }

    fn dt(v: &str, tz: Option<&str>) -> DateOrDateTime {
        DateOrDateTime { value: v.into(), tzid: tz.map(str::to_owned), date_only: v.len() == 10 }
    }

    #[test]
    fn a_series_with_an_override_is_written_and_read_back_part_by_part() {
        let master = EventPart {
            event: Event {
                uid: "s-1@example.org".into(),
                summary: Some("Stand-up; daily, ünïcode".into()),
                description: Some("line 1\nline 2".into()),
                start: Some(dt("2025-03-03T09:00:00", Some("Europe/Berlin"))),
                end: Some(dt("2025-03-03T09:15:00", Some("Europe/Berlin"))),
                rrule: Some("FREQ=WEEKLY;BYDAY=MO".into()),
                exdates: vec![dt("2025-03-10T09:00:00", Some("Europe/Berlin"))],
                organizer: Some(Attendee {
                    address: "mailto:a@example.org".into(),
                    name: Some("A \"the\" boss".into()),
                    ..Default::default()
                }),
                attendees: vec![Attendee {
                    address: "mailto:b@example.org".into(),
                    role: Some("OPT-PARTICIPANT".into()),
                    status: Some("ACCEPTED".into()),
                    ..Default::default()
                }],
                alarms: vec![Alarm { action: "DISPLAY".into(), trigger: "-PT10M".into(), description: None }],
                ..Default::default()
            },
            transparent: true,
            class: Some("PRIVATE".into()),
            ..Default::default()
        };
        let over = EventPart {
            event: Event {
                uid: "s-1@example.org".into(),
                summary: Some("Moved".into()),
                start: Some(dt("2025-03-17T10:00:00", Some("Europe/Berlin"))),
                end: Some(dt("2025-03-17T10:15:00", Some("Europe/Berlin"))),
                ..Default::default()
            },
            recurrence_id: Some(dt("2025-03-17T09:00:00", Some("Europe/Berlin"))),
            ..Default::default()
        };
        // written override first: read back series first
        let text = build_calendar(&[over.clone(), master.clone()], "20250101T000000Z", &[vec![], vec!["X-GOOGLE-COLOR-ID:5".into()]]);
        let parts = event_parts(text.as_bytes()).unwrap();
        assert_eq!(parts.len(), 2, "{text}");
        let (m, o) = (&parts[0], &parts[1]);
        assert_eq!(m.event.summary, master.event.summary);
        assert_eq!(m.event.description.as_deref(), Some("line 1\nline 2"));
        assert_eq!(m.event.start, master.event.start);
        assert_eq!(m.event.rrule.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO"));
        assert_eq!(m.event.exdates, master.event.exdates);
        assert_eq!(m.event.overrides, vec![dt("2025-03-17T09:00:00", Some("Europe/Berlin"))]);
        assert_eq!(m.event.attendees[0].status.as_deref(), Some("ACCEPTED"));
        assert_eq!(m.event.organizer.as_ref().and_then(|o| o.name.as_deref()), Some("A 'the' boss"));
        assert_eq!(m.event.alarms[0].trigger, "-PT10M");
        assert!(m.transparent && m.class.as_deref() == Some("PRIVATE"));
        assert_eq!(m.event.other_properties, vec!["X-GOOGLE-COLOR-ID".to_owned()]);
        // the zone it names is defined in the object
        assert!(text.contains("BEGIN:VTIMEZONE") && text.contains("TZID:Europe/Berlin"), "{text}");
        assert!(crate::ical::timezone_warnings(text.as_bytes()).is_empty(), "{text}");
        assert_eq!(o.recurrence_id, over.recurrence_id);
        assert_eq!(o.event.summary.as_deref(), Some("Moved"));
        assert!(!o.transparent && o.class.is_none());
        // the standard reader agrees on the series
        match crate::ical::parse_object(text.as_bytes(), 1).unwrap() {
            Record::Event(e) => assert_eq!(e.rrule.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn alarm_triggers_are_read_as_minutes_before_or_refused() {
        assert_eq!(minutes_before("-PT15M"), Some(15));
        assert_eq!(minutes_before("-P1DT2H"), Some(26 * 60));
        assert_eq!(minutes_before("-P1W"), Some(7 * 24 * 60));
        assert_eq!(minutes_before("PT0S"), Some(0));
        assert_eq!(duration_minutes("PT90M"), Some(90));
        for bad in ["PT5M", "-PT", "-P", "-P1H", "-PTT1M", "20250101T000000Z", "", "-PT99999999999999999999M", "-P999999999999999W"] {
            assert_eq!(minutes_before(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_object_without_an_event_or_unreadable_is_refused_with_a_reason() {
        let todo = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
        assert!(event_parts(todo.as_bytes()).unwrap_err().to_string().contains("no VEVENT"));
        assert!(event_parts(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n").is_err());
        assert!(event_parts(b"\xff\xfe garbage").is_err());
        assert!(event_parts(b"").is_err());
    }
}
