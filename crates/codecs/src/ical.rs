//! iCalendar: VEVENT, VTODO and VJOURNAL objects (with VTIMEZONE, recurrence overrides,
//! VALARM) read one calendar object (one UID) at a time, and written into one VCALENDAR.

use crate::text_component::{Piece, Splitter, begin_end, decode_text, logical_lines};
use crate::utf16::{Utf16Reader, utf16_bom};
use crate::vcard::entry_kind;
use crate::{CodecError, Limits};
use calcard::common::PartialDateTime;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarParameterName, ICalendarPeriod, ICalendarProperty,
    ICalendarValue,
};
use ferry_core::Record;
use ferry_core::model::{Alarm, Attendee, DateOrDateTime, Event, Task};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};

/// The calendar-level lines of one VCALENDAR (VERSION, PRODID, METHOD, X-WR-CALNAME...)
/// copied into each of its objects, at most this many bytes: past it a line is reported,
/// not copied, so that a file of many such lines and many events cannot multiply in size.
pub const HEADER_LIMIT: usize = 4096;

/// One calendar object: every component that shares a UID within one VCALENDAR, wrapped in
/// a VCALENDAR with that calendar's own lines and the time zones it uses. This is what a
/// CalDAV server stores as one resource.
#[derive(Debug, Clone)]
pub struct CalendarObject {
    pub uid: String,
    pub line: u64,
    pub original: Vec<u8>,
    pub record: Record,
    /// Fidelity warnings: what the object needs that the file does not hold (a TZID no
    /// VTIMEZONE defines).
    pub warnings: Vec<String>,
}

#[derive(Clone, Copy)]
struct Part {
    offset: u64,
    len: u64,
}

struct Group {
    uid: String,
    line: u64,
    /// Index into `IcsReader::calendars`.
    calendar: usize,
    parts: Vec<Part>,
    error: Option<CodecError>,
}

/// The header of one VCALENDAR: its calendar-level lines, each once, up to [`HEADER_LIMIT`].
#[derive(Default)]
struct Calendar {
    header: Vec<u8>,
    seen: HashSet<Vec<u8>>,
    /// Lines not copied for the limit: how many, and the first one's number.
    over: Option<(u64, u64)>,
}

/// The input as UTF-8: as it is, or decoded from UTF-16 (seekable in UTF-8 positions).
enum Source<R> {
    Plain(R),
    Utf16(Utf16Reader<R>),
}

impl<R: Read + Seek> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Plain(r) => r.read(buf),
            Source::Utf16(r) => r.read(buf),
        }
    }
}

impl<R: Read + Seek> Seek for Source<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match self {
            Source::Plain(r) => r.seek(pos),
            Source::Utf16(r) => r.seek(pos),
        }
    }
}

/// Reads a `.ics` file in two passes: the first notes where each UID's components are (and
/// where the VTIMEZONEs are, and each VCALENDAR's own lines), the second reads each object
/// in turn. Memory holds the index and one object, never the file.
pub struct IcsReader<R> {
    input: Source<R>,
    calendars: Vec<Calendar>,
    /// Definitions by TZID: (calendar, place), the first of each calendar.
    timezones: HashMap<String, Vec<(usize, Part)>>,
    /// Lower-case TZID to the first TZID spelled that way, for references in another case.
    tz_lower: HashMap<String, String>,
    groups: std::vec::IntoIter<Group>,
}

impl<R: Read + Seek> IcsReader<R> {
    pub fn new(mut input: R, limits: Limits) -> Result<Self, CodecError> {
        input.seek(SeekFrom::Start(0))?;
        let mut head = [0u8; 4];
        let mut got = 0;
        while got < head.len() {
            match input.read(&mut head[got..])? {
                0 => break,
                n => got += n,
            }
        }
        input.seek(SeekFrom::Start(0))?;
        let mut input = match utf16_bom(&head[..got]) {
            Some(endian) => Source::Utf16(Utf16Reader::new(input, endian)),
            None => Source::Plain(input),
        };
        let mut calendars: Vec<Calendar> = Vec::new();
        let mut timezones: HashMap<String, Vec<(usize, Part)>> = HashMap::new();
        let mut tz_lower: HashMap<String, String> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut by_uid: HashMap<(usize, String), usize> = HashMap::new();
        let mut reported_outside = 0u64;
        let mut blank = true;
        let top_level;
        {
            let mut splitter = Splitter::new(BufReader::new(&mut input), 1, limits);
            while let Some(piece) = splitter.next_piece() {
                blank = false;
                let top = splitter.top_level_count();
                // calendars are numbered from 1 as they begin; index 0 holds pieces outside any
                let cal = top as usize;
                while calendars.len() <= cal {
                    calendars.push(Calendar::default());
                }
                if let Some((outer, outer_line)) = splitter.outer_wrapper()
                    && outer != "VCALENDAR"
                    && reported_outside != top
                {
                    reported_outside = top;
                    groups.push(Group {
                        uid: format!("line-{outer_line}"),
                        line: outer_line,
                        calendar: cal,
                        parts: vec![],
                        error: Some(CodecError::Syntax {
                            line: outer_line,
                            reason: format!("BEGIN:{outer} outside BEGIN:VCALENDAR ... END:VCALENDAR; not read"),
                        }),
                    });
                }
                match piece {
                    Piece::WrapperLine(l) => {
                        let c = &mut calendars[cal];
                        if c.seen.contains(&l) {
                            continue;
                        }
                        if c.over.is_some() || c.header.len() + l.len() > HEADER_LIMIT {
                            let first = c.over.map_or(splitter.piece_line(), |o| o.0);
                            c.over = Some((first, c.over.map_or(1, |o| o.1 + 1)));
                            continue;
                        }
                        c.header.extend_from_slice(&l);
                        c.seen.insert(l);
                    }
                    Piece::Component(c) if c.name == "VTIMEZONE" => match property_value(&c.bytes, "TZID") {
                        Some(tzid) => {
                            let defs = timezones.entry(tzid.clone()).or_default();
                            if !defs.iter().any(|(k, _)| *k == cal) {
                                defs.push((cal, Part { offset: c.offset, len: c.bytes.len() as u64 }));
                            }
                            tz_lower.entry(tzid.to_lowercase()).or_insert(tzid);
                        }
                        None => groups.push(Group {
                            uid: format!("line-{}", c.line),
                            line: c.line,
                            calendar: cal,
                            parts: vec![],
                            error: Some(CodecError::Syntax {
                                line: c.line,
                                reason: "VTIMEZONE without a TZID: no event can refer to it, so it is not kept".into(),
                            }),
                        }),
                    },
                    Piece::Component(c) => {
                        let uid = property_value(&c.bytes, "UID")
                            .unwrap_or_else(|| format!("no-uid-{}", hex::encode(&Sha256::digest(&c.bytes)[..12])));
                        let part = Part { offset: c.offset, len: c.bytes.len() as u64 };
                        match by_uid.get(&(cal, uid.clone())) {
                            Some(&i) => groups[i].parts.push(part),
                            None => {
                                by_uid.insert((cal, uid.clone()), groups.len());
                                groups.push(Group { uid, line: c.line, calendar: cal, parts: vec![part], error: None });
                            }
                        }
                    }
                    Piece::Broken { line, error } => {
                        groups.push(Group { uid: format!("line-{line}"), line, calendar: cal, parts: vec![], error: Some(error) });
                    }
                    Piece::Stray { line } => {
                        groups.push(Group {
                            uid: format!("line-{line}"),
                            line,
                            calendar: cal,
                            parts: vec![],
                            error: Some(CodecError::Syntax { line, reason: "text outside BEGIN:VCALENDAR ... END:VCALENDAR".into() }),
                        });
                    }
                }
            }
            top_level = splitter.top_level_count();
        }
        if top_level == 0 && groups.is_empty() {
            let reason = if blank { "the file is empty (no BEGIN:VCALENDAR)" } else { "no BEGIN:VCALENDAR found" };
            return Err(CodecError::Syntax { line: 1, reason: reason.into() });
        }
        for c in &calendars {
            if let Some((line, count)) = c.over {
                groups.push(Group {
                    uid: format!("line-{line}"),
                    line,
                    calendar: 0,
                    parts: vec![],
                    error: Some(CodecError::Syntax {
                        line,
                        reason: format!(
                            "{count} calendar-level line(s) from here on are not copied into the calendar's events: \
                             the VCALENDAR's own lines pass the {HEADER_LIMIT} byte limit"
                        ),
                    }),
                });
            }
        }
        Ok(IcsReader { input, calendars, timezones, tz_lower, groups: groups.into_iter() })
    }

    fn read_part(&mut self, p: Part, into: &mut Vec<u8>) -> Result<(), CodecError> {
        self.input.seek(SeekFrom::Start(p.offset))?;
        let start = into.len();
        into.resize(start + p.len as usize, 0);
        self.input.read_exact(&mut into[start..])?;
        Ok(())
    }

    /// The definition of `tzid` for an object of `calendar`: its own calendar's first, else
    /// the first in the file; the TZID matched exactly, else in any case.
    fn timezone(&self, tzid: &str, calendar: usize) -> Option<Part> {
        let defs = self.timezones.get(tzid).or_else(|| self.timezones.get(self.tz_lower.get(&tzid.to_lowercase())?))?;
        defs.iter().find(|(c, _)| *c == calendar).or(defs.first()).map(|(_, p)| *p)
    }

    fn assemble(&mut self, g: &Group) -> Result<(Vec<u8>, Vec<String>), CodecError> {
        let mut body = Vec::new();
        for p in &g.parts {
            self.read_part(*p, &mut body)?;
        }
        let mut out = b"BEGIN:VCALENDAR\r\n".to_vec();
        out.extend_from_slice(&self.calendars[g.calendar].header);
        let mut warnings = Vec::new();
        let mut written = HashSet::new();
        for tzid in referenced_timezones(&body) {
            match self.timezone(&tzid, g.calendar) {
                Some(p) => {
                    if written.insert(p.offset) {
                        self.read_part(p, &mut out)?;
                    }
                }
                None => warnings.push(missing_timezone(&tzid)),
            }
        }
        out.extend_from_slice(&body);
        out.extend_from_slice(b"END:VCALENDAR\r\n");
        Ok((out, warnings))
    }
}

impl<R: Read + Seek> Iterator for IcsReader<R> {
    type Item = Result<CalendarObject, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut g = self.groups.next()?;
        if let Some(e) = g.error.take() {
            return Some(Err(e));
        }
        Some(self.assemble(&g).and_then(|(original, warnings)| {
            let record = parse_object(&original, g.line)?;
            Ok(CalendarObject { uid: g.uid, line: g.line, original, record, warnings })
        }))
    }
}

fn missing_timezone(tzid: &str) -> String {
    format!("time zone \"{tzid}\" is used but no VTIMEZONE defines it; its times are kept as written")
}

/// Fidelity warnings for one calendar object (as [`CalendarObject::original`] holds it):
/// each TZID its components use that none of its VTIMEZONEs defines (in any case).
/// Importers add these to what they report for the item.
pub fn timezone_warnings(object: &[u8]) -> Vec<String> {
    let whole = object.len().max(1);
    let mut splitter = Splitter::new(object, 1, Limits { max_line: whole, max_record: whole });
    let mut defined = HashSet::new();
    let mut used = BTreeSet::new();
    while let Some(piece) = splitter.next_piece() {
        if let Piece::Component(c) = piece {
            if c.name == "VTIMEZONE" {
                defined.extend(property_value(&c.bytes, "TZID").map(|t| t.to_lowercase()));
            } else {
                used.extend(referenced_timezones(&c.bytes));
            }
        }
    }
    used.into_iter().filter(|t| !defined.contains(&t.to_lowercase())).map(|t| missing_timezone(&t)).collect()
}

/// The TZIDs the `TZID=` parameters of a component's lines name (any case of the
/// parameter name, quoted or not, folded anywhere), in name order.
pub fn referenced_timezones(bytes: &[u8]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (_, line) in logical_lines(bytes) {
        let text = String::from_utf8_lossy(&line);
        let Some(colon) = value_colon(&text) else { continue };
        for param in split_unquoted(&text[..colon], ';').skip(1) {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("TZID")
            {
                let value = value.trim();
                let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
                found.insert(value.to_owned());
            }
        }
    }
    found
}

/// `s` split at each `sep` outside double quotes.
fn split_unquoted(s: &str, sep: char) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    let mut start = 0;
    let mut pieces = Vec::new();
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            pieces.push(&s[start..i]);
            start = i + 1;
        }
    }
    pieces.push(&s[start..]);
    pieces.into_iter()
}

/// The unfolded value of the first `NAME:` or `NAME;...:` property line at the top level
/// of a component (nested components such as VALARM are not looked into). The name matches
/// in any case and may be folded anywhere, even right after it (`UID` CRLF ` :value`).
pub fn property_value(bytes: &[u8], name: &str) -> Option<String> {
    let mut depth = 0usize;
    for (_, line) in logical_lines(bytes) {
        match begin_end(&line) {
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
        let l = &line[..];
        if l.len() > name.len() && l[..name.len()].eq_ignore_ascii_case(name.as_bytes()) && matches!(l[name.len()], b':' | b';') {
            let text = String::from_utf8_lossy(l);
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

/// Parses a calendar object into an Event or a Task record. A VJOURNAL (a dated note)
/// becomes an Event record without an end, its original kept as it is; other components
/// (VFREEBUSY, VAVAILABILITY, X- ones) are an error that names them.
pub fn parse_object(original: &[u8], line: u64) -> Result<Record, CodecError> {
    let text = decode_text(original, line)?;
    let cal = ICalendar::parse(text.as_ref())
        .map_err(|e| CodecError::Syntax { line, reason: format!("not a readable iCalendar object ({})", entry_kind(&e)) })?;
    let mains: Vec<&ICalendarComponent> = cal
        .components
        .iter()
        .filter(|c| matches!(c.component_type, ICalendarComponentType::VEvent | ICalendarComponentType::VTodo))
        .collect();
    let mains = if mains.is_empty() {
        cal.components.iter().filter(|c| c.component_type == ICalendarComponentType::VJournal).collect()
    } else {
        mains
    };
    let master = mains.iter().find(|c| !c.has_property(&ICalendarProperty::RecurrenceId)).or(mains.first()).ok_or_else(|| {
        let others: BTreeSet<String> = cal
            .components
            .iter()
            .filter(|c| {
                !matches!(
                    c.component_type,
                    ICalendarComponentType::VCalendar
                        | ICalendarComponentType::VTimezone
                        | ICalendarComponentType::Standard
                        | ICalendarComponentType::Daylight
                )
            })
            .map(|c| c.component_type.as_str().to_ascii_uppercase())
            .collect();
        let reason = if others.is_empty() {
            "the calendar object holds no VEVENT, VTODO or VJOURNAL (it is empty)".to_owned()
        } else {
            format!(
                "{} is not carried: ferry reads VEVENT, VTODO and VJOURNAL",
                others.into_iter().map(|n| format!("BEGIN:{n}")).collect::<Vec<_>>().join(", ")
            )
        };
        CodecError::Syntax { line, reason }
    })?;
    let overrides: Vec<DateOrDateTime> =
        mains.iter().filter_map(|c| c.property(&ICalendarProperty::RecurrenceId)).filter_map(date_of).collect();
    Ok(record_of(&cal, master, overrides))
}

/// One VEVENT, VTODO or VJOURNAL of `cal` as a record; `overrides` are the RECURRENCE-IDs
/// that travel with it.
pub(crate) fn record_of(cal: &ICalendar, master: &ICalendarComponent, overrides: Vec<DateOrDateTime>) -> Record {
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
    if master.component_type == ICalendarComponentType::VTodo {
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
    }
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

pub(crate) fn text_of(c: &ICalendarComponent, p: &ICalendarProperty) -> Option<String> {
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

pub(crate) fn date_of(e: &ICalendarEntry) -> Option<DateOrDateTime> {
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
    ///
    /// An object that cannot be read whole (a component never closed, text outside its
    /// VCALENDAR, no event, task or journal in it) is refused with an error that says why
    /// and where, and nothing of it is written: the calendar stays valid and the next object
    /// can be added. Only [`CodecError::Io`] means that writing to `out` failed.
    pub fn add(&mut self, out: &mut impl Write, original: &[u8]) -> Result<(), CodecError> {
        // the object is in memory already: its size is the only limit
        let whole = original.len().max(1);
        let mut splitter = Splitter::new(original, 1, Limits { max_line: whole, max_record: whole });
        let mut components = Vec::new();
        while let Some(piece) = splitter.next_piece() {
            match piece {
                Piece::Component(c) => components.push(c),
                Piece::Broken { error, .. } => return Err(error),
                Piece::Stray { line } => {
                    return Err(CodecError::Syntax { line, reason: "text outside BEGIN:VCALENDAR ... END:VCALENDAR".into() });
                }
                Piece::WrapperLine(_) => {}
            }
        }
        if components.iter().all(|c| c.name == "VTIMEZONE") {
            return Err(CodecError::Syntax { line: 1, reason: "no VEVENT, VTODO or VJOURNAL in this calendar object".into() });
        }
        for c in components {
            if c.name == "VTIMEZONE" {
                let tzid = property_value(&c.bytes, "TZID").unwrap_or_default();
                if !self.timezones_written.insert(tzid) {
                    continue;
                }
            }
            out.write_all(&c.bytes)?;
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

    const CAL: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:weekly@x\r\nDTSTART;TZID=Europe/Berlin:20250106T100000\r\nDTEND;TZID=Europe/Berlin:20250106T110000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\nEXDATE;TZID=Europe/Berlin:20250113T100000\r\nSUMMARY:Standup\r\nX-MOZ-GENERATION:3\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:t1\r\nSUMMARY:Pay\r\nDUE;VALUE=DATE:20250110\r\nPRIORITY:1\r\nEND:VTODO\r\nBEGIN:VEVENT\r\nUID:weekly@x\r\nRECURRENCE-ID;TZID=Europe/Berlin:20250120T100000\r\nDTSTART;TZID=Europe/Berlin:20250120T120000\r\nSUMMARY:Standup \
        (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

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
