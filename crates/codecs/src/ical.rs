//! iCalendar: VEVENT and VTODO objects (with VTIMEZONE, recurrence overrides, VALARM)
//! read one calendar object (one UID) at a time, and written into one VCALENDAR.

use crate::lines::trim_eol;
use crate::text_component::{Piece, Splitter, begin_end};
use crate::vcard::{decode_text, entry_kind};
use crate::{CodecError, Limits};
use calcard::common::PartialDateTime;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarParameterName, ICalendarPeriod, ICalendarProperty,
    ICalendarValue,
};
use ferry_core::Record;
use ferry_core::model::{Alarm, Attendee, DateOrDateTime, Event, Task};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};

/// One calendar object: every component that shares a UID, wrapped in a VCALENDAR with
/// the time zones it uses. This is what a CalDAV server stores as one resource.
#[derive(Debug, Clone)]
pub struct CalendarObject {
    pub uid: String,
    pub line: u64,
    pub original: Vec<u8>,
    pub record: Record,
}

struct Part {
    offset: u64,
    len: u64,
}

struct Group {
    uid: String,
    line: u64,
    parts: Vec<Part>,
    error: Option<CodecError>,
}

/// Reads a `.ics` file in two passes: the first notes where each UID's components are
/// (and keeps the small VTIMEZONEs), the second reads each object in turn.
pub struct IcsReader<R> {
    input: R,
    header: Vec<Vec<u8>>,
    timezones: Vec<(String, Vec<u8>)>,
    groups: std::vec::IntoIter<Group>,
}

impl<R: Read + Seek> IcsReader<R> {
    pub fn new(mut input: R, limits: Limits) -> Result<Self, CodecError> {
        input.seek(SeekFrom::Start(0))?;
        let mut header = Vec::new();
        let mut timezones = Vec::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut by_uid: HashMap<String, usize> = HashMap::new();
        let mut saw_calendar = false;
        {
            let mut splitter = Splitter::new(BufReader::new(&mut input), 1, limits);
            while let Some(piece) = splitter.next_piece() {
                match piece {
                    Piece::WrapperLine(l) => {
                        saw_calendar = true;
                        if !header.contains(&l) {
                            header.push(l)
                        }
                    }
                    Piece::Component(c) if c.name == "VTIMEZONE" => {
                        saw_calendar = true;
                        let tzid = property_value(&c.bytes, "TZID").unwrap_or_default();
                        if !timezones.iter().any(|(t, _)| *t == tzid) {
                            timezones.push((tzid, c.bytes));
                        }
                    }
                    Piece::Component(c) => {
                        saw_calendar = true;
                        let uid = property_value(&c.bytes, "UID")
                            .unwrap_or_else(|| format!("no-uid-{}", hex::encode(&Sha256::digest(&c.bytes)[..12])));
                        let part = Part { offset: c.offset, len: c.bytes.len() as u64 };
                        match by_uid.get(&uid) {
                            Some(&i) => groups[i].parts.push(part),
                            None => {
                                by_uid.insert(uid.clone(), groups.len());
                                groups.push(Group { uid, line: c.line, parts: vec![part], error: None });
                            }
                        }
                    }
                    Piece::Broken { line, error } => {
                        groups.push(Group { uid: format!("line-{line}"), line, parts: vec![], error: Some(error) });
                    }
                    Piece::Stray { line } => {
                        groups.push(Group {
                            uid: format!("line-{line}"),
                            line,
                            parts: vec![],
                            error: Some(CodecError::Syntax { line, reason: "text outside BEGIN:VCALENDAR ... END:VCALENDAR".into() }),
                        });
                    }
                }
            }
        }
        if !saw_calendar && groups.is_empty() {
            return Err(CodecError::Syntax { line: 1, reason: "no BEGIN:VCALENDAR found".into() });
        }
        Ok(IcsReader { input, header, timezones, groups: groups.into_iter() })
    }

    fn assemble(&mut self, g: &Group) -> Result<Vec<u8>, CodecError> {
        let mut body = Vec::new();
        for p in &g.parts {
            self.input.seek(SeekFrom::Start(p.offset))?;
            let start = body.len();
            body.resize(start + p.len as usize, 0);
            self.input.read_exact(&mut body[start..])?;
        }
        let mut out = b"BEGIN:VCALENDAR\r\n".to_vec();
        for h in &self.header {
            out.extend_from_slice(h);
        }
        let body_text = String::from_utf8_lossy(&body);
        for (tzid, bytes) in &self.timezones {
            if !tzid.is_empty() && (body_text.contains(&format!("TZID={tzid}")) || body_text.contains(&format!("TZID=\"{tzid}\""))) {
                out.extend_from_slice(bytes);
            }
        }
        out.extend_from_slice(&body);
        out.extend_from_slice(b"END:VCALENDAR\r\n");
        Ok(out)
    }
}

impl<R: Read + Seek> Iterator for IcsReader<R> {
    type Item = Result<CalendarObject, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut g = self.groups.next()?;
        if let Some(e) = g.error.take() {
            return Some(Err(e));
        }
        Some(self.assemble(&g).and_then(|original| {
            let record = parse_object(&original, g.line)?;
            Ok(CalendarObject { uid: g.uid, line: g.line, original, record })
        }))
    }
}

/// The unfolded value of the first `NAME:` or `NAME;...:` property line at the top level
/// of a component (nested components such as VALARM are not looked into).
pub fn property_value(bytes: &[u8], name: &str) -> Option<String> {
    let mut depth = 0usize;
    let mut lines = bytes.split_inclusive(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        match begin_end(line) {
            Some((true, _)) => {
                depth += 1;
                continue;
            }
            Some((false, _)) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            None => {}
        }
        if depth != 1 {
            continue;
        }
        let l = trim_eol(line);
        if l.len() > name.len() && l[..name.len()].eq_ignore_ascii_case(name.as_bytes()) && matches!(l[name.len()], b':' | b';') {
            let mut full = l.to_vec();
            while let Some(next) = lines.peek() {
                if next.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                    full.extend_from_slice(&trim_eol(next)[1..]);
                    lines.next();
                } else {
                    break;
                }
            }
            let text = String::from_utf8_lossy(&full).into_owned();
            let colon = value_colon(&text)?;
            return Some(text[colon + 1..].trim().to_owned());
        }
    }
    None
}

/// Position of the colon that ends the property name and parameters (colons inside
/// quoted parameter values do not count).
fn value_colon(line: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// Parses a calendar object into an Event or a Task record.
pub fn parse_object(original: &[u8], line: u64) -> Result<Record, CodecError> {
    let text = decode_text(original, line)?;
    let cal = ICalendar::parse(text.as_ref())
        .map_err(|e| CodecError::Syntax { line, reason: format!("not a readable iCalendar object ({})", entry_kind(&e)) })?;
    let mains: Vec<&ICalendarComponent> = cal
        .components
        .iter()
        .filter(|c| matches!(c.component_type, ICalendarComponentType::VEvent | ICalendarComponentType::VTodo))
        .collect();
    let master = mains
        .iter()
        .find(|c| !c.has_property(&ICalendarProperty::RecurrenceId))
        .or(mains.first())
        .ok_or_else(|| CodecError::Syntax { line, reason: "no VEVENT or VTODO in this calendar object".into() })?;
    let overrides: Vec<DateOrDateTime> =
        mains.iter().filter_map(|c| c.property(&ICalendarProperty::RecurrenceId)).filter_map(date_of).collect();
    let alarms = master
        .component_ids
        .iter()
        .filter_map(|id| cal.components.get(*id as usize))
        .filter(|c| c.component_type == ICalendarComponentType::VAlarm)
        .map(|a| Alarm {
            action: text_of(a, &ICalendarProperty::Action).unwrap_or_default(),
            trigger: a.property(&ICalendarProperty::Trigger).map(value_string).unwrap_or_default(),
            description: text_of(a, &ICalendarProperty::Description),
        })
        .collect();
    let uid = master.uid().unwrap_or_default().to_owned();
    let categories = master
        .properties(&ICalendarProperty::Categories)
        .flat_map(|e| e.values.iter().filter_map(|v| v.as_text().map(str::to_owned)))
        .collect();
    let mut timezones = BTreeSet::new();
    for e in &master.entries {
        for p in &e.params {
            if p.name == ICalendarParameterName::Tzid
                && let Some(t) = p.value.as_text()
            {
                timezones.insert(t.to_owned());
            }
        }
    }
    let known = known_properties(master.component_type == ICalendarComponentType::VTodo);
    let mut other_properties: Vec<String> = Vec::new();
    for e in &master.entries {
        let n = e.name.as_str().to_ascii_uppercase();
        if !known.contains(&n.as_str()) && !other_properties.contains(&n) {
            other_properties.push(n);
        }
    }
    // a set, in name order: servers reorder properties
    other_properties.sort();
    let rrule = master.property(&ICalendarProperty::Rrule).map(value_string);
    let dates = |p: ICalendarProperty| -> Vec<DateOrDateTime> { master.properties(&p).flat_map(dates_of).collect() };
    Ok(if master.component_type == ICalendarComponentType::VTodo {
        Record::Task(Task {
            uid,
            summary: text_of(master, &ICalendarProperty::Summary),
            description: text_of(master, &ICalendarProperty::Description),
            start: master.property(&ICalendarProperty::Dtstart).and_then(date_of),
            due: master.property(&ICalendarProperty::Due).and_then(date_of),
            completed: master.property(&ICalendarProperty::Completed).and_then(date_of),
            status: master.property(&ICalendarProperty::Status).map(value_string),
            priority: master
                .property(&ICalendarProperty::Priority)
                .and_then(|e| e.values.first()?.as_integer())
                .map(|p| p.clamp(0, 9) as u8),
            percent_complete: master
                .property(&ICalendarProperty::PercentComplete)
                .and_then(|e| e.values.first()?.as_integer())
                .map(|p| p.clamp(0, 100) as u8),
            rrule,
            parent: text_of(master, &ICalendarProperty::RelatedTo),
            alarms,
            categories,
            other_properties,
        })
    } else {
        Record::Event(Event {
            uid,
            summary: text_of(master, &ICalendarProperty::Summary),
            description: text_of(master, &ICalendarProperty::Description),
            location: text_of(master, &ICalendarProperty::Location),
            start: master.property(&ICalendarProperty::Dtstart).and_then(date_of),
            end: master.property(&ICalendarProperty::Dtend).and_then(date_of),
            duration: master.property(&ICalendarProperty::Duration).map(value_string),
            status: master.property(&ICalendarProperty::Status).map(value_string),
            rrule,
            rdates: dates(ICalendarProperty::Rdate),
            exdates: dates(ICalendarProperty::Exdate),
            overrides,
            organizer: master.property(&ICalendarProperty::Organizer).map(attendee),
            attendees: master.properties(&ICalendarProperty::Attendee).map(attendee).collect(),
            alarms,
            categories,
            timezones: timezones.into_iter().collect(),
            other_properties,
        })
    })
}

fn known_properties(todo: bool) -> Vec<&'static str> {
    let mut k = vec![
        "UID",
        "SUMMARY",
        "DESCRIPTION",
        "DTSTART",
        "DTSTAMP",
        "CREATED",
        "LAST-MODIFIED",
        "SEQUENCE",
        "STATUS",
        "RRULE",
        "CATEGORIES",
        "RECURRENCE-ID",
        "ORGANIZER",
        "ATTENDEE",
    ];
    if todo {
        k.extend(["DUE", "COMPLETED", "PRIORITY", "PERCENT-COMPLETE", "RELATED-TO"]);
    } else {
        k.extend(["LOCATION", "DTEND", "DURATION", "RDATE", "EXDATE"]);
    }
    k
}

fn text_of(c: &ICalendarComponent, p: &ICalendarProperty) -> Option<String> {
    c.property(p).map(value_string).filter(|s| !s.is_empty())
}

fn value_string(e: &ICalendarEntry) -> String {
    e.values
        .iter()
        .map(|v| match v {
            ICalendarValue::RecurrenceRule(r) => r.to_string(),
            ICalendarValue::Duration(d) => d.to_string(),
            ICalendarValue::PartialDateTime(d) => format_date(d).0,
            ICalendarValue::Uri(calcard::icalendar::Uri::Location(s)) => s.clone(),
            other => other.as_text().unwrap_or_default().to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn format_date(d: &PartialDateTime) -> (String, bool) {
    let date = format!("{:04}-{:02}-{:02}", d.year.unwrap_or(0), d.month.unwrap_or(1), d.day.unwrap_or(1));
    match d.hour {
        None => (date, true),
        Some(h) => {
            let mut s = format!("{date}T{h:02}:{:02}:{:02}", d.minute.unwrap_or(0), d.second.unwrap_or(0));
            match (d.tz_hour, d.tz_minute) {
                (Some(0), Some(0)) | (Some(0), None) => s.push('Z'),
                (Some(th), tm) => s.push_str(&format!("{}{th:02}:{:02}", if d.tz_minus { '-' } else { '+' }, tm.unwrap_or(0))),
                _ => {}
            }
            (s, false)
        }
    }
}

fn tzid(e: &ICalendarEntry) -> Option<String> {
    e.params.iter().find(|p| p.name == ICalendarParameterName::Tzid).and_then(|p| p.value.as_text().map(str::to_owned))
}

fn date_of(e: &ICalendarEntry) -> Option<DateOrDateTime> {
    dates_of(e).into_iter().next()
}

fn dates_of(e: &ICalendarEntry) -> Vec<DateOrDateTime> {
    let tz = tzid(e);
    e.values
        .iter()
        .filter_map(|v| match v {
            ICalendarValue::PartialDateTime(d) => Some(d.as_ref()),
            // an RDATE;VALUE=PERIOD occurrence is recorded by its start
            ICalendarValue::Period(ICalendarPeriod::Range { start, .. } | ICalendarPeriod::Duration { start, .. }) => Some(start),
            _ => None,
        })
        .map(|d| {
            let (value, date_only) = format_date(d);
            DateOrDateTime { value, tzid: tz.clone(), date_only }
        })
        .collect()
}

fn attendee(e: &ICalendarEntry) -> Attendee {
    let param =
        |n: ICalendarParameterName| e.params.iter().find(|p| p.name == n).and_then(|p| p.value.clone().into_text()).map(|c| c.into_owned());
    Attendee {
        address: value_string(e),
        name: param(ICalendarParameterName::Cn),
        role: param(ICalendarParameterName::Role),
        status: param(ICalendarParameterName::Partstat),
    }
}

/// Merges calendar objects into one VCALENDAR written to `out`, each VTIMEZONE once.
/// The writer is passed to every call, so it can be borrowed between calls.
#[derive(Default)]
pub struct CalendarMerger {
    timezones_written: BTreeSet<String>,
}

impl CalendarMerger {
    pub fn begin(out: &mut impl Write, name: &str) -> std::io::Result<Self> {
        write!(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ferry//ferry {}//EN\r\n", env!("CARGO_PKG_VERSION"))?;
        if !name.is_empty() {
            write!(out, "X-WR-CALNAME:{}\r\n", name.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;"))?;
        }
        Ok(CalendarMerger::default())
    }

    /// Adds the components of one calendar object (its own VCALENDAR wrapper dropped).
    pub fn add(&mut self, out: &mut impl Write, original: &[u8]) -> Result<(), CodecError> {
        let mut splitter = Splitter::new(original, 1, Limits { max_line: usize::MAX, max_record: usize::MAX });
        while let Some(piece) = splitter.next_piece() {
            match piece {
                Piece::Component(c) if c.name == "VTIMEZONE" => {
                    let tzid = property_value(&c.bytes, "TZID").unwrap_or_default();
                    if self.timezones_written.insert(tzid) {
                        out.write_all(&c.bytes)?;
                    }
                }
                Piece::Component(c) => out.write_all(&c.bytes)?,
                Piece::Broken { error, .. } => return Err(error),
                Piece::WrapperLine(_) | Piece::Stray { .. } => {}
            }
        }
        Ok(())
    }

    pub fn finish(self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(b"END:VCALENDAR\r\n")?;
        out.flush()
    }
}

/// Writes calendar objects into one VCALENDAR, each VTIMEZONE once.
pub struct CalendarWriter<W: Write> {
    out: W,
    merger: CalendarMerger,
}

impl<W: Write> CalendarWriter<W> {
    pub fn new(mut out: W, name: &str) -> std::io::Result<Self> {
        let merger = CalendarMerger::begin(&mut out, name)?;
        Ok(CalendarWriter { out, merger })
    }

    pub fn add(&mut self, original: &[u8]) -> Result<(), CodecError> {
        self.merger.add(&mut self.out, original)
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.merger.finish(&mut self.out)?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const CAL: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:weekly@x\r\nDTSTART;TZID=Europe/Berlin:20250106T100000\r\nDTEND;TZID=Europe/Berlin:20250106T110000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\nEXDATE;TZID=Europe/Berlin:20250113T100000\r\nSUMMARY:Standup\r\nX-MOZ-GENERATION:3\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:t1\r\nSUMMARY:Pay\r\nDUE;VALUE=DATE:20250110\r\nPRIORITY:1\r\nEND:VTODO\r\nBEGIN:VEVENT\r\nUID:weekly@x\r\nRECURRENCE-ID;TZID=Europe/Berlin:20250120T100000\r\nDTSTART;TZID=Europe/Berlin:20250120T120000\r\nSUMMARY:Standup (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn groups_by_uid_with_timezone_and_overrides() {
        let objs: Vec<_> = IcsReader::new(Cursor::new(CAL), Limits::default()).unwrap().map(Result::unwrap).collect();
        assert_eq!(objs.len(), 2);
        let Record::Event(e) = &objs[0].record else { panic!() };
        assert_eq!(e.uid, "weekly@x");
        assert_eq!(e.rrule.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO"));
        assert_eq!(e.exdates[0].value, "2025-01-13T10:00:00");
        assert_eq!(e.overrides.len(), 1);
        assert_eq!(e.alarms[0].trigger, "-PT15M");
        assert_eq!(e.other_properties, ["X-MOZ-GENERATION"]);
        let text = String::from_utf8(objs[0].original.clone()).unwrap();
        assert!(text.contains("BEGIN:VTIMEZONE") && text.contains("Standup (moved)"));
        let Record::Task(t) = &objs[1].record else { panic!() };
        assert_eq!(t.priority, Some(1));
        assert!(t.due.as_ref().unwrap().date_only);
        assert!(!String::from_utf8(objs[1].original.clone()).unwrap().contains("VTIMEZONE"));
    }

    #[test]
    fn object_read_again_is_byte_identical() {
        let objs: Vec<_> = IcsReader::new(Cursor::new(CAL), Limits::default()).unwrap().map(Result::unwrap).collect();
        for o in objs {
            let again: Vec<_> = IcsReader::new(Cursor::new(o.original.clone()), Limits::default()).unwrap().map(Result::unwrap).collect();
            assert_eq!(again.len(), 1);
            assert_eq!(again[0].original, o.original);
            assert_eq!(again[0].record, o.record);
        }
    }

    #[test]
    fn writer_merges_timezones_once() {
        let objs: Vec<_> = IcsReader::new(Cursor::new(CAL), Limits::default()).unwrap().map(Result::unwrap).collect();
        let mut w = CalendarWriter::new(Vec::new(), "Personal").unwrap();
        for o in &objs {
            w.add(&o.original).unwrap();
            w.add(&o.original).unwrap();
        }
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(out.matches("BEGIN:VTIMEZONE").count(), 1);
        let back: Vec<_> = IcsReader::new(Cursor::new(out), Limits::default()).unwrap().collect();
        assert_eq!(back.len(), 2);
    }

    #[test]
    fn unterminated_component_is_an_error() {
        let bad = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:never closed\r\n";
        let items: Vec<_> = IcsReader::new(Cursor::new(bad), Limits::default()).unwrap().collect();
        assert!(matches!(&items[0], Err(CodecError::Syntax { line: 2, reason }) if reason.contains("never closed")), "{items:?}");
        assert_eq!(items.len(), 1);
    }
}
