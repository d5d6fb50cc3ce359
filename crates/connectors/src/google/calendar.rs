//! Google Calendar (https://developers.google.com/calendar/api/v3/reference): calendars as
//! containers, one item per series (the recurring event with its exceptions and cancelled
//! occurrences, as one iCalendar object: Google keeps them as separate events sharing an
//! `iCalUID`). Export is incremental by `syncToken`; a token Google no longer honours (410)
//! falls back to a full listing. Import uses `events.import`, which keeps the `iCalUID`
//! and organizer; each event carries the version of the item it was written from in its
//! private extended properties, so a rerun leaves it alone and a changed item updates it.

use super::api;
use super::config::GoogleConfig;
use crate::http::{Http, encode_component as enc};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use ferry_codecs::vevent::{EventPart, build_calendar, date_line, event_parts, minutes_before};
use ferry_core::model::{Alarm, Attendee, DateOrDateTime, Event};
use ferry_core::{ConnectorError, Item, ItemError, Page, PageStream, PutOutcome, Record, Vertical};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A calendar of the account.
#[derive(Debug, Clone)]
pub struct Cal {
    pub id: String,
    pub title: String,
    /// The calendar's time zone (IANA), for floating times.
    pub tz: String,
}

/// The account's calendars (`calendarList.list`, 250 a page).
pub async fn calendars(cfg: &GoogleConfig, http: &Http) -> Result<Vec<Cal>, ConnectorError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..1000 {
        let mut url = cfg.calendar("/calendar/v3/users/me/calendarList?maxResults=250");
        if let Some(t) = &token {
            url.push_str(&format!("&pageToken={}", enc(t)));
        }
        let page: Value = api::json(http, "listing calendars", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        for c in page["items"].as_array().into_iter().flatten() {
            if let Some(id) = c["id"].as_str() {
                let title = c["summaryOverride"].as_str().or(c["summary"].as_str()).unwrap_or(id);
                let title = if c["primary"].as_bool() == Some(true) { "" } else { title };
                out.push(Cal { id: id.to_owned(), title: title.to_owned(), tz: c["timeZone"].as_str().unwrap_or("UTC").to_owned() });
            }
        }
        match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(out),
        }
    }
    Err(ConnectorError::Fatal("listing calendars: more than 1,000 pages".into()))
}

/// A Google date or date-time as iCalendar's: a date stays a date; a time with a zone is
/// the wall time in that zone; any other is UTC.
fn when(g: &Value) -> Option<DateOrDateTime> {
    if let Some(d) = g["date"].as_str() {
        return Some(DateOrDateTime { value: d.to_owned(), tzid: None, date_only: true });
    }
    let raw = g["dateTime"].as_str()?;
    let zone = g["timeZone"].as_str().and_then(|z| z.parse::<chrono_tz::Tz>().ok());
    let Ok(t) = DateTime::parse_from_rfc3339(raw) else {
        // a wall time without offset names its zone (Google answers with offsets; be lenient)
        let local = NaiveDateTime::parse_from_str(raw.get(..19)?, "%Y-%m-%dT%H:%M:%S").ok()?;
        return Some(DateOrDateTime {
            value: local.format("%Y-%m-%dT%H:%M:%S").to_string(),
            tzid: Some(zone?.name().to_owned()),
            date_only: false,
        });
    };
    if let Some(tz) = zone {
        let local = t.with_timezone(&tz).naive_local();
        return Some(DateOrDateTime {
            value: local.format("%Y-%m-%dT%H:%M:%S").to_string(),
            tzid: Some(tz.name().to_owned()),
            date_only: false,
        });
    }
    Some(DateOrDateTime { value: t.with_timezone(&Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string(), tzid: None, date_only: false })
}

fn partstat(s: &str) -> &'static str {
    match s {
        "accepted" => "ACCEPTED",
        "declined" => "DECLINED",
        "tentative" => "TENTATIVE",
        _ => "NEEDS-ACTION",
    }
}

fn person(p: &Value) -> Option<Attendee> {
    let email = p["email"].as_str()?;
    Some(Attendee {
        address: format!("mailto:{email}"),
        name: p["displayName"].as_str().map(str::to_owned),
        role: p
            .get("responseStatus")
            .map(|_| if p["optional"].as_bool() == Some(true) { "OPT-PARTICIPANT" } else { "REQ-PARTICIPANT" }.to_owned()),
        status: p["responseStatus"].as_str().map(|s| partstat(s).to_owned()),
    })
}

/// One Google event as a part, and the lines the event model has no field for.
fn part_from_google(g: &Value) -> (EventPart, Vec<String>) {
    let s = |f: &str| g[f].as_str().filter(|x| !x.is_empty()).map(str::to_owned);
    let mut extra = Vec::new();
    let mut e = Event {
        uid: s("iCalUID").unwrap_or_default(),
        summary: s("summary"),
        description: s("description"),
        location: s("location"),
        start: when(&g["start"]),
        end: when(&g["end"]),
        status: s("status").filter(|st| st != "confirmed").map(|st| st.to_ascii_uppercase()),
        organizer: person(&g["organizer"]).map(|o| Attendee { role: None, status: None, ..o }),
        attendees: g["attendees"].as_array().into_iter().flatten().filter_map(person).collect(),
        ..Default::default()
    };
    for line in g["recurrence"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        match line.strip_prefix("RRULE:") {
            Some(r) => e.rrule = Some(r.to_owned()),
            // EXDATE, RDATE and EXRULE lines are iCalendar already
            None => extra.push(line.to_owned()),
        }
    }
    if g["reminders"]["useDefault"].as_bool() != Some(true) {
        for r in g["reminders"]["overrides"].as_array().into_iter().flatten() {
            let m = r["minutes"].as_i64().unwrap_or(0);
            let action = if r["method"] == "email" { "EMAIL" } else { "DISPLAY" };
            e.alarms.push(Alarm { action: action.into(), trigger: format!("-PT{m}M"), description: None });
        }
    }
    if let Some(c) = s("colorId") {
        extra.push(format!("X-GOOGLE-COLOR-ID:{c}"));
    }
    if let Some(l) = s("hangoutLink").or_else(|| g.pointer("/conferenceData/entryPoints/0/uri").and_then(Value::as_str).map(str::to_owned))
    {
        extra.push(format!("X-GOOGLE-CONFERENCE:{l}"));
    }
    for a in g["attachments"].as_array().into_iter().flatten() {
        if let Some(u) = a["fileUrl"].as_str() {
            let fmt = a["mimeType"].as_str().map(|m| format!(";FMTTYPE={m}")).unwrap_or_default();
            extra.push(format!("ATTACH{fmt}:{u}"));
        }
    }
    let part = EventPart {
        recurrence_id: g.get("originalStartTime").and_then(when),
        transparent: g["transparency"] == "transparent",
        class: s("visibility").filter(|v| v != "default").map(|v| v.to_ascii_uppercase()),
        url: None,
        event: e,
    };
    (part, extra)
}

/// The events of one series (the recurring event, its exceptions and its cancelled
/// occurrences) or one single event, as one iCalendar object; or why it cannot be one.
pub fn calendar_from_google(events: &[Value]) -> Result<String, String> {
    let live: Vec<&Value> = events.iter().filter(|g| g["status"] != "cancelled").collect();
    let Some(master) = live.iter().find(|g| g.get("recurringEventId").is_none()) else {
        // one occurrence of a series whose master is in its organizer's calendar (an
        // invitation to that occurrence alone): a single event of its own
        let [one] = live[..] else {
            return Err(format!("{} occurrences of a series whose own event is not in this calendar", live.len()));
        };
        let (mut part, extra) = part_from_google(one);
        part.recurrence_id = None;
        let stamp = ferry_codecs::todo::stamp(one["updated"].as_str());
        return Ok(build_calendar(&[part], &stamp, &[extra]));
    };
    if master.get("start").is_some_and(|s| when(s).is_none()) {
        return Err(format!("Google's start {} cannot be read", master["start"]));
    }
    let master_id = master["id"].as_str().unwrap_or_default();
    let (mut first, first_extra) = part_from_google(master);
    let mut parts = Vec::new();
    let mut extra = vec![first_extra];
    for g in events.iter().filter(|g| g["recurringEventId"].as_str() == Some(master_id)) {
        let (p, x) = part_from_google(g);
        match p.recurrence_id {
            // a cancelled occurrence is an EXDATE of the series
            Some(at) if g["status"] == "cancelled" => first.event.exdates.push(at),
            Some(_) => {
                parts.push(p);
                extra.push(x);
            }
            None => return Err(format!("the exception {} has no readable original start ({})", g["id"], g["originalStartTime"])),
        }
    }
    parts.insert(0, first);
    let stamp = ferry_codecs::todo::stamp(master["updated"].as_str());
    Ok(build_calendar(&parts, &stamp, &extra))
}

/// A Google start or end for an iCalendar date; `tz` is the calendar's zone for floating
/// times, `recurring` whether Google needs the zone named.
fn google_when(d: &DateOrDateTime, tz: &str, recurring: bool, name: &str, w: &mut Vec<String>) -> Result<Value, String> {
    if d.date_only {
        return Ok(json!({"date": d.value}));
    }
    if let Some(z) = &d.tzid {
        let Ok(zone) = z.parse::<chrono_tz::Tz>() else {
            return Err(format!("{name}: the time zone `{z}` is not an IANA zone name, which is all Google Calendar takes"));
        };
        return Ok(json!({"dateTime": d.value, "timeZone": zone.name()}));
    }
    if d.value.ends_with('Z') {
        return Ok(if recurring { json!({"dateTime": d.value, "timeZone": "UTC"}) } else { json!({"dateTime": d.value}) });
    }
    w.push(format!("{name}: a floating time ({}) is written in the calendar's zone, {tz}", d.value));
    Ok(json!({"dateTime": d.value, "timeZone": tz}))
}

/// A part as a Google event for `events.import`, and what Google has no place for.
pub fn google_from_part(p: &EventPart, tz: &str, recurring: bool) -> Result<(Value, Vec<String>), String> {
    let e = &p.event;
    let mut w = Vec::new();
    let mut g = json!({"iCalUID": e.uid});
    for (k, v) in [("summary", &e.summary), ("description", &e.description), ("location", &e.location)] {
        if let Some(v) = v {
            g[k] = v.clone().into();
        }
    }
    let start = e.start.as_ref().ok_or("the event has no DTSTART, which Google Calendar needs")?;
    g["start"] = google_when(start, tz, recurring, "DTSTART", &mut w)?;
    g["end"] = match (&e.end, &e.duration) {
        (Some(end), _) => google_when(end, tz, recurring, "DTEND", &mut w)?,
        (None, Some(d)) => {
            let m = ferry_codecs::vevent::duration_minutes(d).ok_or_else(|| format!("DURATION `{d}` is not a duration"))?;
            google_when(&shift(start, m).ok_or("DTSTART cannot be read as a date")?, tz, recurring, "DTEND", &mut w)?
        }
        (None, None) if start.date_only => {
            google_when(&shift(start, 24 * 60).ok_or("DTSTART is not a date")?, tz, recurring, "DTEND", &mut w)?
        }
        (None, None) => g["start"].clone(),
    };
    if let Some(st) = &e.status {
        match st.to_ascii_uppercase().as_str() {
            "CONFIRMED" => g["status"] = "confirmed".into(),
            "TENTATIVE" => g["status"] = "tentative".into(),
            "CANCELLED" => g["status"] = "cancelled".into(),
            other => w.push(format!("STATUS: Google has no event status {other}")),
        }
    }
    if p.transparent {
        g["transparency"] = "transparent".into();
    }
    if let Some(c) = &p.class {
        g["visibility"] = c.to_ascii_lowercase().into();
    }
    if let Some(u) = &p.url {
        w.push(format!("URL: Google events have no link of their own; {u} is not kept"));
    }
    let mut recurrence = Vec::new();
    if let Some(r) = &e.rrule {
        recurrence.push(format!("RRULE:{r}"));
    }
    recurrence.extend(e.rdates.iter().filter_map(|d| date_line("RDATE", d)));
    recurrence.extend(e.exdates.iter().filter_map(|d| date_line("EXDATE", d)));
    if !recurrence.is_empty() {
        g["recurrence"] = recurrence.into();
    }
    if let Some(o) = &e.organizer {
        match o.address.strip_prefix("mailto:").or(o.address.strip_prefix("MAILTO:")) {
            Some(mail) => g["organizer"] = json!({"email": mail, "displayName": o.name}),
            None => w.push(format!("ORGANIZER: {} is not an email address, which is all Google keeps", o.address)),
        }
    }
    let mut attendees = Vec::new();
    for a in &e.attendees {
        let Some(mail) = a.address.strip_prefix("mailto:").or(a.address.strip_prefix("MAILTO:")) else {
            w.push(format!("ATTENDEE: {} is not an email address, which is all Google keeps", a.address));
            continue;
        };
        let status = match a.status.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("ACCEPTED") => "accepted",
            Some("DECLINED") => "declined",
            Some("TENTATIVE") => "tentative",
            Some("DELEGATED") => {
                w.push(format!("ATTENDEE {mail}: Google has no delegated answer; kept as not answered"));
                "needsAction"
            }
            _ => "needsAction",
        };
        let mut one = json!({"email": mail, "responseStatus": status});
        if let Some(n) = &a.name {
            one["displayName"] = n.clone().into();
        }
        if a.role.as_deref() == Some("OPT-PARTICIPANT") {
            one["optional"] = true.into();
        }
        attendees.push(one);
    }
    if !attendees.is_empty() {
        g["attendees"] = attendees.into();
    }
    let mut overrides = Vec::new();
    for a in &e.alarms {
        let method = match a.action.to_ascii_uppercase().as_str() {
            "EMAIL" => "email",
            "DISPLAY" | "AUDIO" => "popup",
            other => {
                w.push(format!("VALARM: Google has no {other} reminder"));
                continue;
            }
        };
        match minutes_before(&a.trigger).filter(|m| (0..=40_320).contains(m)) {
            Some(m) if overrides.len() < 5 => overrides.push(json!({"method": method, "minutes": m})),
            Some(_) => w.push(format!("VALARM {}: Google keeps five reminders an event", a.trigger)),
            None => w.push(format!("VALARM {}: Google keeps reminders up to four weeks before the start only", a.trigger)),
        }
    }
    g["reminders"] = json!({"useDefault": false, "overrides": overrides});
    if !e.categories.is_empty() {
        w.push(format!("CATEGORIES: Google events have none; {} not kept", e.categories.join(", ")));
    }
    for o in &e.other_properties {
        w.push(format!("{o}: Google events have no place for it"));
    }
    if let Some(r) = &p.recurrence_id {
        g["originalStartTime"] = google_when(r, tz, true, "RECURRENCE-ID", &mut w)?;
    }
    Ok((g, w))
}

/// `d` moved on by `minutes` (a date by whole days).
fn shift(d: &DateOrDateTime, minutes: i64) -> Option<DateOrDateTime> {
    if d.date_only {
        let day = chrono::NaiveDate::parse_from_str(&d.value, "%Y-%m-%d").ok()? + chrono::Duration::days(minutes.max(24 * 60) / (24 * 60));
        return Some(DateOrDateTime { value: day.format("%Y-%m-%d").to_string(), ..d.clone() });
    }
    let (v, z) = d.value.strip_suffix('Z').map(|v| (v, "Z")).unwrap_or((d.value.as_str(), ""));
    let t = chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S").ok()? + chrono::Duration::minutes(minutes);
    Some(DateOrDateTime { value: format!("{}{z}", t.format("%Y-%m-%dT%H:%M:%S")), ..d.clone() })
}

/// The members of a Google event the iCalendar object carries, or that are Google's own
/// bookkeeping (ids, links, times of change, the creator).
const CARRIED: &[&str] = &[
    "kind",
    "id",
    "etag",
    "status",
    "htmlLink",
    "created",
    "updated",
    "summary",
    "description",
    "location",
    "creator",
    "organizer",
    "start",
    "end",
    "recurrence",
    "recurringEventId",
    "originalStartTime",
    "transparency",
    "visibility",
    "iCalUID",
    "sequence",
    "attendees",
    "reminders",
    "colorId",
    "hangoutLink",
    "conferenceData",
    "attachments",
    "endTimeUnspecified",
    "eventType",
    "extendedProperties",
];

/// What Google holds of a series that its object does not: a warning each, so that nothing
/// is left behind unsaid (another app's extended properties, guest permissions, working
/// location, out-of-office and focus-time settings…).
fn not_carried(events: &[Value]) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for g in events {
        for (k, v) in g.as_object().into_iter().flatten() {
            let empty = v.is_null() || v.as_array().is_some_and(Vec::is_empty) || v.as_object().is_some_and(serde_json::Map::is_empty);
            if !CARRIED.contains(&k.as_str()) && !empty {
                out.insert(format!("{k}: Google's event field is not carried"));
            }
        }
        if g["eventType"].as_str().is_some_and(|t| t != "default") {
            out.insert(format!("eventType: a Google `{}` event is carried as a plain event", g["eventType"].as_str().unwrap_or_default()));
        }
        let props = g["extendedProperties"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(scope, m)| m.as_object().into_iter().flatten().map(move |(k, _)| format!("{scope}.{k}")));
        for p in props.filter(|p| p != &format!("private.{VERSION}")) {
            out.insert(format!("extendedProperties.{p}: another app's data on the event is not carried"));
        }
    }
    out.into_iter().collect()
}

/// Pages through one calendar's events; a recurring series is read whole (by its
/// `iCalUID`) when its master, or in an incremental listing any part of it, is met.
/// The most series a listing remembers having read (a few MiB of ids); past it a series
/// met again is read again, which costs a request, not a duplicate.
const MAX_READ: usize = 200_000;

pub struct EventPages {
    pub cfg: Arc<GoogleConfig>,
    pub http: Http,
    pub cal: Cal,
    pub since: Option<String>,
    pub token: Option<String>,
    pub done: bool,
    pub sync: Option<String>,
    pub pages: u32,
    /// The series (by iCalUID) this listing has read whole already.
    pub read: HashSet<String>,
}

impl EventPages {
    fn events_url(&self, query: &str) -> String {
        self.cfg.calendar(&format!("/calendar/v3/calendars/{}/events?{query}", enc(&self.cal.id)))
    }

    /// Every event of the series with this `iCalUID`.
    async fn series(&self, uid: &str) -> Result<Vec<Value>, ConnectorError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..1000 {
            let mut url = self.events_url(&format!("iCalUID={}&showDeleted=true&maxResults=2500", enc(uid)));
            if let Some(t) = &token {
                url.push_str(&format!("&pageToken={}", enc(t)));
            }
            let page: Value = api::json(&self.http, &format!("reading the series {uid}"), &|| self.http.request("GET", &url))
                .await
                .map_err(|(e, _)| e)?;
            out.extend(page["items"].as_array().into_iter().flatten().cloned());
            match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t.to_owned()),
                None => return Ok(out),
            }
        }
        Err(ConnectorError::Fatal(format!("reading the series {uid}: too many pages")))
    }

    fn item(&self, events: &[Value], location: &str) -> Option<Result<Item, ItemError>> {
        let master = events.iter().find(|g| g.get("recurringEventId").is_none() && g["status"] != "cancelled");
        // a series whose own event was deleted: its exceptions went with it
        let master = master.or_else(|| events.iter().find(|g| g["status"] != "cancelled"))?;
        let id = master["id"].as_str().unwrap_or_default().to_owned();
        let fail = |reason: String| ItemError {
            skipped: false,
            vertical: Vertical::Calendar,
            id: id.clone(),
            location: location.to_owned(),
            reason,
        };
        let text = match calendar_from_google(events) {
            Ok(t) => t,
            Err(e) => return Some(Err(fail(e))),
        };
        let record = match ferry_codecs::ical::parse_object(text.as_bytes(), 1) {
            Ok(r) => r,
            Err(e) => return Some(Err(fail(format!("Google's event does not make a readable iCalendar object: {e}")))),
        };
        let mut etags: Vec<&str> = events.iter().filter_map(|g| g["etag"].as_str()).collect();
        etags.sort_unstable();
        let version = hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(etags.join(",").as_bytes())[..12]);
        let mut item = Item::of_record(&id, &self.cal.title, &version, record, "text/calendar", text);
        item.source_warnings = not_carried(events);
        if events.iter().all(|g| g.get("recurringEventId").is_some()) {
            item.source_warnings.push(format!(
                "one occurrence ({}) of a series kept in its organizer's calendar: carried as a single event",
                master["originalStartTime"]
            ));
        }
        Some(Ok(item))
    }
}

#[async_trait]
impl PageStream for EventPages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        if self.done {
            return Ok(None);
        }
        self.pages += 1;
        if self.pages > 100_000 {
            return Err(ConnectorError::Fatal("listing events: too many pages".into()));
        }
        // 1,000 a page where Google allows 2,500: a page is held whole while its series are
        // read, and a smaller one keeps a listing's memory down for a few more requests
        let mut url = self.events_url("maxResults=1000&singleEvents=false");
        if let Some(s) = &self.since {
            url.push_str(&format!("&syncToken={}", enc(s)));
        }
        if let Some(t) = &self.token {
            url.push_str(&format!("&pageToken={}", enc(t)));
        }
        let page: Value = match api::json(&self.http, "listing events", &|| self.http.request("GET", &url)).await {
            Ok(p) => p,
            Err((_, Some(r))) if self.since.is_some() && r.sync_expired(410) => {
                tracing::info!(calendar = %self.cal.id, "the events' sync token expired; listing them in full");
                self.since = None;
                self.token = None;
                return self.next_page().await;
            }
            Err((e, _)) => return Err(e),
        };
        let mut items = Vec::new();
        for (n, g) in page["items"].as_array().into_iter().flatten().enumerate() {
            let uid = g["iCalUID"].as_str().unwrap_or_default();
            let part_of_series = g.get("recurrence").is_some() || g.get("recurringEventId").is_some();
            if g["id"].as_str().is_none_or(str::is_empty) || uid.is_empty() {
                items.push(Err(ItemError {
                    skipped: false,
                    vertical: Vertical::Calendar,
                    id: format!("(no id: event {n} of {url})"),
                    location: url.clone(),
                    reason: "Google gave an event without an id or iCalUID".into(),
                }));
            } else if part_of_series {
                // the series is read whole where this listing first meets a part of it:
                // its master, or an exception (one whose master is on a later page, or not
                // in this calendar at all: an invitation to one occurrence of another's
                // series); a series read again after a resume is the same item, and the
                // engine passes over what it has
                if !self.read.contains(uid) {
                    if self.read.len() < MAX_READ {
                        self.read.insert(uid.to_owned());
                    }
                    let whole = self.series(uid).await?;
                    items.extend(self.item(&whole, &url));
                }
            } else if g["status"] != "cancelled" {
                items.extend(self.item(std::slice::from_ref(g), &url));
            }
        }
        match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(t) if self.token.as_deref() == Some(t) => {
                return Err(ConnectorError::Fatal("listing events: Google gave the same page token again".into()));
            }
            Some(t) => self.token = Some(t.to_owned()),
            None => {
                self.done = true;
                self.sync = page["nextSyncToken"].as_str().map(str::to_owned);
            }
        }
        let mode = if self.since.is_some() { "chg" } else { "full" };
        Ok(Some(Page { items, cursor: if self.done { None } else { self.token.as_ref().map(|t| format!("{mode}:{t}")) } }))
    }

    fn sync_state(&self) -> Option<String> {
        self.sync.clone()
    }
}

/// What ferry wrote before, per calendar: `iCalUID` -> (master id, item version,
/// exception ids by their original start).
type Written = HashMap<String, (String, String, HashMap<String, String>)>;

/// The private extended property naming the version of the item an event was written from.
const VERSION: &str = "ferry-version";

/// Writes events into calendars named by their containers (made when missing; an empty
/// container is the primary calendar).
pub struct EventWriter {
    calendars: tokio::sync::Mutex<Option<HashMap<String, Cal>>>,
    written: tokio::sync::Mutex<HashMap<String, Written>>,
}

fn start_key(g: &Value) -> String {
    g["dateTime"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc).to_rfc3339())
        .unwrap_or_else(|| g["date"].as_str().unwrap_or_default().to_owned())
}

impl EventWriter {
    pub fn new() -> EventWriter {
        EventWriter { calendars: Default::default(), written: Default::default() }
    }

    async fn calendar(&self, cfg: &GoogleConfig, http: &Http, title: &str) -> Result<Cal, ConnectorError> {
        let mut cals = self.calendars.lock().await;
        if cals.is_none() {
            *cals = Some(calendars(cfg, http).await?.into_iter().map(|c| (c.title.clone(), c)).collect());
        }
        let known = cals.as_mut().expect("just read");
        if let Some(c) = known.get(title) {
            return Ok(c.clone());
        }
        cfg.require(&[super::config::CALENDAR], &format!("making the calendar `{title}`"))?;
        let url = cfg.calendar("/calendar/v3/calendars");
        let body = json!({"summary": title});
        let made: Value = api::json(http, &format!("making calendar `{title}`"), &|| api::with_json(http.request("POST", &url), &body))
            .await
            .map_err(|(e, _)| e)?;
        let id = made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Google made a calendar without an id".into()))?;
        let cal = Cal { id: id.to_owned(), title: title.to_owned(), tz: made["timeZone"].as_str().unwrap_or("UTC").to_owned() };
        known.insert(title.to_owned(), cal.clone());
        Ok(cal)
    }

    /// The events of `cal` ferry wrote, read from Google once per run (and again after a
    /// write whose outcome is unknown).
    async fn read_written(&self, cfg: &GoogleConfig, http: &Http, cal: &Cal) -> Result<(), ConnectorError> {
        if self.written.lock().await.contains_key(&cal.id) {
            return Ok(());
        }
        let mut out: Written = HashMap::new();
        let mut token: Option<String> = None;
        for _ in 0..100_000 {
            let mut url = cfg.calendar(&format!("/calendar/v3/calendars/{}/events?maxResults=1000&singleEvents=false", enc(&cal.id)));
            if let Some(t) = &token {
                url.push_str(&format!("&pageToken={}", enc(t)));
            }
            let page: Value = api::json(http, "reading the calendar's events", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
            for g in page["items"].as_array().into_iter().flatten() {
                let (Some(uid), Some(id)) = (g["iCalUID"].as_str(), g["id"].as_str()) else { continue };
                let entry = out.entry(uid.to_owned()).or_default();
                if g.get("recurringEventId").is_some() {
                    entry.2.insert(start_key(&g["originalStartTime"]), id.to_owned());
                } else {
                    entry.0 = id.to_owned();
                    entry.1 =
                        g.pointer(&format!("/extendedProperties/private/{VERSION}")).and_then(Value::as_str).unwrap_or_default().to_owned();
                }
            }
            match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t.to_owned()),
                None => {
                    self.written.lock().await.insert(cal.id.clone(), out);
                    return Ok(());
                }
            }
        }
        Err(ConnectorError::Fatal("reading the calendar's events: too many pages".into()))
    }

    pub async fn put(&self, cfg: &GoogleConfig, http: &Http, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let parts = match &item.original {
            Some(o) => event_parts(&o.bytes).map_err(|e| ConnectorError::Item(format!("the event cannot be read: {e}")))?,
            None => match &item.record {
                Record::Event(e) => vec![EventPart { event: e.clone(), ..Default::default() }],
                _ => return Err(ConnectorError::Item(format!("{} items do not go to Google Calendar", item.vertical()))),
            },
        };
        let cal = self.calendar(cfg, http, &item.container).await?;
        let recurring = parts[0].event.rrule.is_some() || !parts[0].event.rdates.is_empty();
        let mut bodies = Vec::new();
        let mut warnings = Vec::new();
        for p in &parts {
            let (mut g, w) = google_from_part(p, &cal.tz, recurring).map_err(ConnectorError::Item)?;
            g["extendedProperties"] = json!({"private": {VERSION: item.version}});
            bodies.push(g);
            warnings.extend(w);
        }
        warnings.sort();
        warnings.dedup();
        if parts[0].recurrence_id.is_some() {
            warnings.push("the series itself is not in the object (only overrides): they are written as single events".into());
            for b in &mut bodies {
                if let Some(o) = b.as_object_mut() {
                    o.remove("originalStartTime");
                }
            }
        }
        // a series with exceptions says it is complete only when all of it is written: a
        // crash in between leaves a version no item has, and the next run writes it again
        let staged = bodies.len() > 1;
        if staged {
            bodies[0]["extendedProperties"] = json!({"private": {VERSION: ""}});
        }
        let uid = parts[0].event.uid.clone();
        self.read_written(cfg, http, &cal).await?;
        let known = self.written.lock().await.get(&cal.id).and_then(|w| w.get(&uid)).cloned();
        let events = |rest: &str| cfg.calendar(&format!("/calendar/v3/calendars/{}/events{rest}", enc(&cal.id)));
        let master_id = match known {
            Some((id, version, _)) if version == item.version && !id.is_empty() => {
                return Ok(PutOutcome { dest_id: id, created: false, warnings, sha256: None });
            }
            Some((id, _, exceptions)) if !id.is_empty() => {
                // changed since it was written: the series and each exception in place
                let url = events(&format!("/{}", enc(&id)));
                let _: Value = api::json(http, &format!("updating event {id}"), &|| api::with_json(http.request("PUT", &url), &bodies[0]))
                    .await
                    .map_err(|(e, _)| e)?;
                for b in &bodies[1..] {
                    match exceptions.get(&start_key(&b["originalStartTime"])) {
                        Some(x) => {
                            let url = events(&format!("/{}", enc(x)));
                            let _: Value =
                                api::json(http, &format!("updating event {x}"), &|| api::with_json(http.request("PUT", &url), b))
                                    .await
                                    .map_err(|(e, _)| e)?;
                        }
                        None => {
                            self.import_new(http, &events("/import"), b).await?;
                        }
                    }
                }
                id
            }
            _ => {
                let id = match self.import_new(http, &events("/import"), &bodies[0]).await {
                    Ok(id) => id,
                    Err(e) => {
                        if e.is_transient() || matches!(e, ConnectorError::Conflict(_)) {
                            // made or not (or made by an earlier run whose record was lost): read again
                            self.written.lock().await.remove(&cal.id);
                        }
                        return Err(e);
                    }
                };
                for b in &bodies[1..] {
                    self.import_new(http, &events("/import"), b).await?;
                }
                id
            }
        };
        if staged {
            let url = events(&format!("/{}", enc(&master_id)));
            let body = json!({"extendedProperties": {"private": {VERSION: item.version}}});
            let _: Value =
                api::json(http, &format!("marking event {master_id} complete"), &|| api::with_json(http.request("PATCH", &url), &body))
                    .await
                    .map_err(|(e, _)| e)?;
        }
        let mut written = self.written.lock().await;
        written.entry(cal.id.clone()).or_default().insert(uid, (master_id.clone(), item.version.clone(), HashMap::new()));
        Ok(PutOutcome { dest_id: master_id, created: true, warnings, sha256: None })
    }

    async fn import_new(&self, http: &Http, url: &str, body: &Value) -> Result<String, ConnectorError> {
        let made: Value =
            api::json(http, "importing an event", &|| api::with_json(http.request("POST", url), body)).await.map_err(|(e, r)| {
                match r {
                    // the iCalUID is there already though ferry has not seen it: look again
                    Some(r) if r.has("duplicate") => {
                        ConnectorError::transient(format!("{e}: an event of this iCalUID exists; reading the calendar again"))
                    }
                    _ => e,
                }
            })?;
        made["id"].as_str().map(str::to_owned).ok_or_else(|| ConnectorError::Fatal("Google imported an event without an id".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Vec<Value> {
        vec![
            json!({"id": "m1", "iCalUID": "s@example.org", "etag": "\"1\"", "status": "confirmed", "summary": "Stand-up",
                "start": {"dateTime": "2025-03-03T09:00:00+01:00", "timeZone": "Europe/Berlin"},
                "end": {"dateTime": "2025-03-03T09:15:00+01:00", "timeZone": "Europe/Berlin"},
                "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE;TZID=Europe/Berlin:20250324T090000"],
                "attendees": [{"email": "b@example.org", "responseStatus": "accepted", "optional": true, "displayName": "B"}],
                "organizer": {"email": "a@example.org"}, "transparency": "transparent", "visibility": "private", "colorId": "5",
                "reminders": {"useDefault": false, "overrides": [{"method": "popup", "minutes": 10}, {"method": "email", "minutes": 1440}]}}),
            json!({"id": "m1_20250310T080000Z", "iCalUID": "s@example.org", "recurringEventId": "m1", "status": "cancelled",
                "originalStartTime": {"dateTime": "2025-03-10T09:00:00+01:00", "timeZone": "Europe/Berlin"}}),
            json!({"id": "m1_20250317T080000Z", "iCalUID": "s@example.org", "recurringEventId": "m1", "status": "confirmed", "summary": "Moved",
                "originalStartTime": {"dateTime": "2025-03-17T09:00:00+01:00", "timeZone": "Europe/Berlin"},
                "start": {"dateTime": "2025-03-17T10:00:00+01:00", "timeZone": "Europe/Berlin"},
                "end": {"dateTime": "2025-03-17T10:15:00+01:00", "timeZone": "Europe/Berlin"}}),
        ]
    }

    #[test]
    fn a_google_series_becomes_one_object_and_goes_back_the_same() {
        let text = calendar_from_google(&series()).unwrap();
        let mut broken = series();
        broken[2]["originalStartTime"] = json!({"dateTime": "soon"});
        assert!(calendar_from_google(&broken).unwrap_err().contains("original start"));
        let parts = event_parts(text.as_bytes()).unwrap();
        assert_eq!(parts.len(), 2, "{text}");
        let m = &parts[0].event;
        assert_eq!(m.start.as_ref().map(|d| (d.value.as_str(), d.tzid.as_deref())), Some(("2025-03-03T09:00:00", Some("Europe/Berlin"))));
        assert_eq!(m.rrule.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO"));
        // the cancelled occurrence became an EXDATE beside the one Google listed
        assert_eq!(m.exdates.len(), 2, "{text}");
        assert_eq!(m.alarms.len(), 2);
        assert!(parts[0].transparent && parts[0].class.as_deref() == Some("PRIVATE"));
        assert!(text.contains("X-GOOGLE-COLOR-ID:5"), "{text}");
        let (g, w) = google_from_part(&parts[0], "UTC", true).unwrap();
        assert_eq!(g["start"], json!({"dateTime": "2025-03-03T09:00:00", "timeZone": "Europe/Berlin"}));
        assert_eq!(g["recurrence"][0], "RRULE:FREQ=WEEKLY;BYDAY=MO");
        assert_eq!(g["recurrence"].as_array().unwrap().len(), 3);
        assert_eq!(
            g["attendees"][0],
            json!({"email": "b@example.org", "responseStatus": "accepted", "displayName": "B", "optional": true})
        );
        assert_eq!(g["reminders"]["overrides"][1], json!({"method": "email", "minutes": 1440}));
        assert_eq!((g["transparency"].as_str(), g["visibility"].as_str()), (Some("transparent"), Some("private")));
        assert!(w.iter().any(|x| x.starts_with("X-GOOGLE-COLOR-ID")), "{w:?}");
        let (x, _) = google_from_part(&parts[1], "UTC", true).unwrap();
        assert_eq!(x["originalStartTime"], json!({"dateTime": "2025-03-17T09:00:00", "timeZone": "Europe/Berlin"}));
        assert_eq!(x["summary"], "Moved");
    }

    #[test]
    fn what_a_google_event_holds_beyond_its_object_is_named() {
        let mut events = series();
        events[0]["guestsCanModify"] = true.into();
        events[0]["eventType"] = "focusTime".into();
        events[0]["extendedProperties"] = json!({"private": {VERSION: "v", "other-app": "x"}});
        events[0]["attendeesOmitted"] = Value::Null;
        let w = not_carried(&events);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w.iter().any(|x| x.starts_with("guestsCanModify")) && w.iter().any(|x| x.contains("focusTime")), "{w:?}");
        assert!(w.iter().any(|x| x.contains("private.other-app")), "{w:?}");
        assert!(not_carried(&series()).is_empty(), "{:?}", not_carried(&series()));
    }

    #[test]
    fn what_google_cannot_hold_is_named_and_what_it_cannot_read_fails_the_item() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20250301T100000\r\nDURATION:PT90M\r\n\
            CATEGORIES:Work\r\nURL:https://example.org/e\r\nATTENDEE:urn:uuid:room-1\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:PT5M\r\n\
            DESCRIPTION:x\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let parts = event_parts(text.as_bytes()).unwrap();
        let (g, w) = google_from_part(&parts[0], "Europe/Paris", false).unwrap();
        assert_eq!(g["start"], json!({"dateTime": "2025-03-01T10:00:00", "timeZone": "Europe/Paris"}));
        assert_eq!(g["end"], json!({"dateTime": "2025-03-01T11:30:00", "timeZone": "Europe/Paris"}));
        for needle in ["floating", "CATEGORIES", "URL", "urn:uuid:room-1", "VALARM PT5M"] {
            assert!(w.iter().any(|x| x.contains(needle)), "{needle}: {w:?}");
        }
        let bad = text.replace("DTSTART:20250301T100000", "DTSTART;TZID=Custom Zone:20250301T100000");
        let parts = event_parts(bad.as_bytes()).unwrap();
        assert!(google_from_part(&parts[0], "UTC", false).unwrap_err().contains("Custom Zone"));
        let all_day = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20250301\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let (g, _) = google_from_part(&event_parts(all_day.as_bytes()).unwrap()[0], "UTC", false).unwrap();
        assert_eq!((g["start"]["date"].as_str(), g["end"]["date"].as_str()), (Some("2025-03-01"), Some("2025-03-02")));
    }
}
