//! Outlook calendars through Microsoft Graph (https://learn.microsoft.com/graph/api/resources/event):
//! an iCalendar series becomes a series master with a `patternedRecurrence`, its overrides
//! patched occurrences (exceptions) and its EXDATEs deleted occurrences. Times keep their
//! IANA zone (Graph takes IANA and Windows names). What Outlook has no form for (RDATE,
//! rules beyond its patterns, more than one reminder, answers of attendees) is named as a
//! fidelity warning, or, where the event would come out wrong, fails the item.

use super::api;
use super::config::MicrosoftConfig;
use crate::http::{Http, encode_component as enc};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use ferry_codecs::vevent::{EventPart, duration_minutes as parse_duration, event_parts, minutes_before};
use ferry_core::model::DateOrDateTime;
use ferry_core::{ConnectorError, Item, PutOutcome, Record};
use serde_json::{Value, json};
use sha2::Digest;
use std::collections::HashMap;
use tokio::sync::Mutex;

use super::calendar_export::DAYS;
const INDEXES: [&str; 5] = ["first", "second", "third", "fourth", "last"];

fn day_name(code: &str) -> Option<&'static str> {
    DAYS.iter().find(|(_, c)| c.eq_ignore_ascii_case(code)).map(|(n, _)| *n)
}

/// A Graph `dateTimeTimeZone` for an iCalendar date; `all_day` dates are midnight.
fn graph_when(d: &DateOrDateTime, w: &mut Vec<String>, name: &str) -> Result<Value, String> {
    if d.date_only {
        return Ok(json!({"dateTime": format!("{}T00:00:00", d.value), "timeZone": d.tzid.as_deref().unwrap_or("UTC")}));
    }
    if let Some(z) = &d.tzid {
        let zone = z.parse::<chrono_tz::Tz>().map_err(|_| format!("{name}: the time zone `{z}` is not an IANA zone name"))?;
        return Ok(json!({"dateTime": d.value, "timeZone": zone.name()}));
    }
    if let Some(v) = d.value.strip_suffix('Z') {
        return Ok(json!({"dateTime": v, "timeZone": "UTC"}));
    }
    w.push(format!("{name}: a floating time ({}) is written as UTC", d.value));
    Ok(json!({"dateTime": d.value, "timeZone": "UTC"}))
}

/// The instant of an iCalendar date-time (a date: its midnight in UTC).
fn instant(d: &DateOrDateTime) -> Option<DateTime<Utc>> {
    if d.date_only {
        return Some(NaiveDate::parse_from_str(&d.value, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0)?.and_utc());
    }
    let (v, utc) = d.value.strip_suffix('Z').map(|v| (v, true)).unwrap_or((d.value.as_str(), false));
    let local = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S").ok()?;
    match (&d.tzid, utc) {
        (Some(z), false) => z.parse::<chrono_tz::Tz>().ok()?.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)),
        _ => Some(local.and_utc()),
    }
}

fn local_date(d: &DateOrDateTime) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(d.value.get(..10)?, "%Y-%m-%d").ok()
}

/// An RRULE as a Graph `patternedRecurrence`, or why Outlook has no form for it.
pub fn recurrence(rrule: &str, start: &DateOrDateTime) -> Result<Value, String> {
    let first = local_date(start).ok_or("DTSTART is not a date")?;
    let mut parts: HashMap<String, String> = HashMap::new();
    for p in rrule.split(';').filter(|p| !p.is_empty()) {
        let (k, v) = p.split_once('=').ok_or_else(|| format!("RRULE part `{p}` is not NAME=VALUE"))?;
        parts.insert(k.to_ascii_uppercase(), v.to_owned());
    }
    let take = |k: &str, parts: &mut HashMap<String, String>| parts.remove(k);
    let freq = take("FREQ", &mut parts).ok_or("the RRULE has no FREQ")?.to_ascii_uppercase();
    let interval: u32 = match take("INTERVAL", &mut parts) {
        Some(i) => i.parse().ok().filter(|i| *i >= 1).ok_or_else(|| format!("INTERVAL `{i}` is not a positive number"))?,
        None => 1,
    };
    let wkst = take("WKST", &mut parts).map(|d| day_name(&d).ok_or_else(|| format!("WKST `{d}` is no day"))).transpose()?;
    let byday = take("BYDAY", &mut parts);
    let bymonthday = take("BYMONTHDAY", &mut parts);
    let bymonth = take("BYMONTH", &mut parts);
    let bysetpos = take("BYSETPOS", &mut parts);
    let count = take("COUNT", &mut parts);
    let until = take("UNTIL", &mut parts);
    if let Some(k) = parts.keys().next() {
        return Err(format!("RRULE {rrule}: Outlook's recurrence patterns have no {k}"));
    }
    let weekday = DAYS[first.weekday().num_days_from_sunday() as usize].0;
    // BYDAY values: (ordinal, day)
    let days: Vec<(i32, &'static str)> = match &byday {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|d| {
                let split = d.len().saturating_sub(2);
                let (n, code) = d.split_at(split);
                let n = if n.is_empty() || n == "+" {
                    0
                } else {
                    n.trim_start_matches('+').parse::<i32>().map_err(|_| format!("BYDAY `{d}` cannot be read"))?
                };
                Ok((n, day_name(code).ok_or_else(|| format!("BYDAY `{d}` names no day"))?))
            })
            .collect::<Result<_, String>>()?,
    };
    let ordinal = |n: i32| -> Result<&'static str, String> {
        match n {
            1..=4 => Ok(INDEXES[n as usize - 1]),
            -1 => Ok("last"),
            _ => Err(format!("RRULE {rrule}: Outlook counts the first to fourth and the last weekday of a month, not the {n}th")),
        }
    };
    let relative = |days: &[(i32, &'static str)]| -> Result<(Vec<&'static str>, &'static str), String> {
        let pos = match &bysetpos {
            Some(p) => p.parse::<i32>().map_err(|_| format!("RRULE {rrule}: BYSETPOS `{p}` is not one position Outlook can hold"))?,
            None => {
                let ns: Vec<i32> = days.iter().map(|d| d.0).collect();
                if ns.windows(2).any(|w| w[0] != w[1]) || ns.first() == Some(&0) {
                    return Err(format!("RRULE {rrule}: Outlook needs one position for all the days"));
                }
                ns[0]
            }
        };
        Ok((days.iter().map(|d| d.1).collect(), ordinal(pos)?))
    };
    let month_day = |v: &Option<String>| -> Result<u32, String> {
        match v {
            None => Ok(first.day()),
            Some(d) => d
                .parse()
                .ok()
                .filter(|d| (1..=31).contains(d))
                .ok_or_else(|| format!("RRULE {rrule}: BYMONTHDAY `{d}` is not one day of the month Outlook can hold")),
        }
    };
    let month = |v: &Option<String>| -> Result<u32, String> {
        match v {
            None => Ok(first.month()),
            Some(m) => {
                m.parse().ok().filter(|m| (1..=12).contains(m)).ok_or_else(|| format!("RRULE {rrule}: BYMONTH `{m}` is not one month"))
            }
        }
    };
    let mut pattern = match freq.as_str() {
        "DAILY" if byday.is_none() && bymonthday.is_none() && bymonth.is_none() => json!({"type": "daily"}),
        "WEEKLY" if bymonthday.is_none() && bymonth.is_none() => {
            if days.iter().any(|d| d.0 != 0) {
                return Err(format!("RRULE {rrule}: a weekly rule with numbered days"));
            }
            let list: Vec<&str> = if days.is_empty() { vec![weekday] } else { days.iter().map(|d| d.1).collect() };
            json!({"type": "weekly", "daysOfWeek": list, "firstDayOfWeek": wkst.unwrap_or("monday")})
        }
        "MONTHLY" if bymonth.is_none() && byday.is_none() => json!({"type": "absoluteMonthly", "dayOfMonth": month_day(&bymonthday)?}),
        "MONTHLY" if bymonth.is_none() && bymonthday.is_none() => {
            let (list, index) = relative(&days)?;
            json!({"type": "relativeMonthly", "daysOfWeek": list, "index": index})
        }
        "YEARLY" if byday.is_none() => json!({"type": "absoluteYearly", "month": month(&bymonth)?, "dayOfMonth": month_day(&bymonthday)?}),
        "YEARLY" if bymonthday.is_none() => {
            let (list, index) = relative(&days)?;
            json!({"type": "relativeYearly", "daysOfWeek": list, "index": index, "month": month(&bymonth)?})
        }
        _ => return Err(format!("RRULE {rrule}: Outlook's recurrence patterns have no form for it")),
    };
    pattern["interval"] = interval.into();
    let tz = start.tzid.clone().unwrap_or_else(|| "UTC".into());
    let range = match (count, until) {
        (Some(_), Some(_)) => return Err(format!("RRULE {rrule}: both COUNT and UNTIL")),
        (Some(c), None) => {
            let n: u32 = c.parse().ok().filter(|n| *n >= 1).ok_or_else(|| format!("COUNT `{c}` is not a positive number"))?;
            json!({"type": "numbered", "startDate": first.to_string(), "numberOfOccurrences": n, "recurrenceTimeZone": tz})
        }
        (None, Some(u)) => {
            let digits: String = u.chars().take(8).collect();
            let mut end = NaiveDate::parse_from_str(&digits, "%Y%m%d").map_err(|_| format!("UNTIL `{u}` is not a date"))?;
            // a UTC UNTIL is read in the event's zone, where Outlook counts its end date
            if u.ends_with('Z')
                && let (Ok(z), Ok(t)) = (tz.parse::<chrono_tz::Tz>(), NaiveDateTime::parse_from_str(&u[..u.len() - 1], "%Y%m%dT%H%M%S"))
            {
                end = t.and_utc().with_timezone(&z).date_naive();
            }
            json!({"type": "endDate", "startDate": first.to_string(), "endDate": end.to_string(), "recurrenceTimeZone": tz})
        }
        (None, None) => json!({"type": "noEnd", "startDate": first.to_string(), "recurrenceTimeZone": tz}),
    };
    Ok(json!({"pattern": pattern, "range": range}))
}

/// A part as a Graph event, and what Outlook has no place for.
pub fn graph_from_part(p: &EventPart) -> Result<(Value, Vec<String>), String> {
    let e = &p.event;
    let mut w = Vec::new();
    let mut g = json!({"subject": e.summary.clone().unwrap_or_default()});
    if let Some(d) = &e.description {
        g["body"] = json!({"contentType": "text", "content": d});
    }
    if let Some(l) = &e.location {
        g["location"] = json!({"displayName": l});
    }
    let start = e.start.as_ref().ok_or("the event has no DTSTART, which Outlook needs")?;
    g["start"] = graph_when(start, &mut w, "DTSTART")?;
    let end = match (&e.end, &e.duration) {
        (Some(end), _) => end.clone(),
        (None, Some(d)) => {
            let t = instant(start).ok_or("DTSTART cannot be read")?;
            let mins = parse_duration(d).ok_or_else(|| format!("DURATION `{d}` is not a duration"))?;
            let end = t + chrono::Duration::minutes(mins);
            DateOrDateTime { value: end.format("%Y-%m-%dT%H:%M:%SZ").to_string(), tzid: None, date_only: false }
        }
        (None, None) if start.date_only => {
            let next = local_date(start).ok_or("DTSTART is not a date")?.succ_opt().ok_or("DTSTART is out of range")?;
            DateOrDateTime { value: next.to_string(), ..start.clone() }
        }
        (None, None) => start.clone(),
    };
    g["end"] = graph_when(&end, &mut w, "DTEND")?;
    if start.date_only {
        g["isAllDay"] = true.into();
        g["end"]["timeZone"] = g["start"]["timeZone"].clone();
    }
    g["showAs"] = match (p.transparent, e.status.as_deref()) {
        (true, _) => "free",
        (false, Some("TENTATIVE")) => "tentative",
        _ => "busy",
    }
    .into();
    if e.status.as_deref() == Some("CANCELLED") {
        w.push("STATUS: Outlook cancels a meeting by telling its attendees; the event is written as it is, not cancelled".into());
    }
    if let Some(c) = &p.class {
        match c.as_str() {
            "PRIVATE" => g["sensitivity"] = "private".into(),
            "CONFIDENTIAL" => g["sensitivity"] = "confidential".into(),
            "PUBLIC" => g["sensitivity"] = "normal".into(),
            other => w.push(format!("CLASS: Outlook has no sensitivity {other}")),
        }
    }
    if let Some(u) = &p.url {
        w.push(format!("URL: Outlook events have no link of their own; {u} is not kept"));
    }
    if let Some(r) = &e.rrule {
        g["recurrence"] = recurrence(r, start)?;
    }
    if !e.rdates.is_empty() {
        w.push(format!("RDATE: Outlook series have no extra dates; {} not kept", e.rdates.len()));
    }
    if let Some(o) = &e.organizer {
        w.push(format!("ORGANIZER: Outlook makes the account's owner the organizer; {} is not kept", o.address));
    }
    let mut attendees = Vec::new();
    for a in &e.attendees {
        let Some(mail) = a.address.strip_prefix("mailto:").or(a.address.strip_prefix("MAILTO:")) else {
            w.push(format!("ATTENDEE: {} is not an email address, which is all Outlook keeps", a.address));
            continue;
        };
        let kind = if a.role.as_deref() == Some("OPT-PARTICIPANT") { "optional" } else { "required" };
        let mut one = json!({"type": kind, "emailAddress": {"address": mail}});
        if let Some(n) = &a.name {
            one["emailAddress"]["name"] = n.clone().into();
        }
        if let Some(s) = a.status.as_deref().filter(|s| *s != "NEEDS-ACTION") {
            w.push(format!("ATTENDEE {mail}: Outlook records an attendee's answer ({s}) only when they send it"));
        }
        attendees.push(one);
    }
    if !attendees.is_empty() {
        g["attendees"] = attendees.into();
    }
    let minutes: Vec<i64> = e.alarms.iter().filter_map(|a| minutes_before(&a.trigger)).collect();
    match minutes.first() {
        Some(m) => {
            g["isReminderOn"] = true.into();
            g["reminderMinutesBeforeStart"] = (*m).into();
        }
        None => g["isReminderOn"] = false.into(),
    }
    if e.alarms.len() > minutes.len().min(1) {
        w.push(format!(
            "VALARM: Outlook keeps one reminder before the start; {} of {} not kept",
            e.alarms.len() - minutes.len().min(1),
            e.alarms.len()
        ));
    }
    if !e.categories.is_empty() {
        g["categories"] = e.categories.clone().into();
    }
    for o in &e.other_properties {
        w.push(format!("{o}: Outlook events have no place for it"));
    }
    Ok((g, w))
}

/// The key an event is known by in its calendar: its UID's, so that the same event from
/// another source (an export of it, a second copy of a calendar file) is found again,
/// and a changed one is updated, not written twice, as a CalDAV server or Google keeps one
/// event per UID; an event without a UID, its source's and item's. The calendar is in it:
/// Graph takes a `transactionId` once per mailbox.
fn event_key(source: &str, item: &str, calendar: &str, uid: &str) -> String {
    let uid = uid.trim();
    if uid.is_empty() {
        return source_key(source, item);
    }
    hex::encode(&sha2::Sha256::digest(format!("uid\0{calendar}\0{uid}").as_bytes())[..12])
}

/// The key of an item of a source.
fn source_key(source: &str, item: &str) -> String {
    hex::encode(&sha2::Sha256::digest(format!("{source}\0{item}").as_bytes())[..12])
}

/// Item key -> (event id, its transactionId).
type Written = HashMap<String, (String, String)>;

/// Writes events into calendars named by their containers (made when missing; the
/// default calendar for none). Each event carries a `transactionId` made of its key (see
/// [`event_key`]) and the item's version: Graph answers a repeated create with the event it
/// made, and a rerun finds each event by it (the calendar read once) and leaves it alone,
/// or updates it.
#[derive(Default)]
pub struct EventWriter {
    /// Calendar name -> id ("" is the default calendar).
    calendars: Mutex<Option<HashMap<String, String>>>,
    /// Calendar id -> (item key -> (event id, transactionId)).
    written: Mutex<HashMap<String, Written>>,
}

impl EventWriter {
    async fn calendar(&self, cfg: &MicrosoftConfig, http: &Http, name: &str) -> Result<String, ConnectorError> {
        let mut cals = self.calendars.lock().await;
        if cals.is_none() {
            let all = api::all(cfg, http, "listing calendars", cfg.graph("/v1.0/me/calendars?$top=100")).await?;
            let mut known = HashMap::new();
            for c in &all {
                if let (Some(id), Some(n)) = (c["id"].as_str(), c["name"].as_str()) {
                    known.insert(if c["isDefaultCalendar"] == true { String::new() } else { n.to_owned() }, id.to_owned());
                    known.entry(n.to_owned()).or_insert_with(|| id.to_owned());
                }
            }
            *cals = Some(known);
        }
        let known = cals.as_mut().expect("just read");
        if let Some(id) = known.get(name) {
            return Ok(id.clone());
        }
        let url = cfg.graph("/v1.0/me/calendars");
        let body = json!({"name": name});
        let made: Value = api::json(http, &format!("making calendar `{name}`"), &|| api::with_json(http.request("POST", &url), &body))
            .await
            .map_err(|(e, _)| e)?;
        let id = made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Graph made a calendar without an id".into()))?.to_owned();
        known.insert(name.to_owned(), id.clone());
        Ok(id)
    }

    async fn read_written(&self, cfg: &MicrosoftConfig, http: &Http, cal: &str) -> Result<(), ConnectorError> {
        if self.written.lock().await.contains_key(cal) {
            return Ok(());
        }
        let first = cfg.graph(&format!("/v1.0/me/calendars/{}/events?$top=1000&$select=transactionId", enc(cal)));
        let all = api::all(cfg, http, "reading the calendar's events", first).await?;
        let mut out = HashMap::new();
        for e in all {
            if let (Some(id), Some(t)) = (e["id"].as_str(), e["transactionId"].as_str())
                && let Some((key, _)) = t.strip_prefix("ferry-").and_then(|r| r.split_once('-'))
            {
                out.insert(key.to_owned(), (id.to_owned(), t.to_owned()));
            }
        }
        self.written.lock().await.insert(cal.to_owned(), out);
        Ok(())
    }

    pub async fn put(&self, cfg: &MicrosoftConfig, http: &Http, item: &Item, source: &str) -> Result<PutOutcome, ConnectorError> {
        let parts = match &item.original {
            Some(o) => event_parts(&o.bytes).map_err(|e| ConnectorError::Item(format!("the event cannot be read: {e}")))?,
            None => match &item.record {
                Record::Event(e) => vec![EventPart { event: e.clone(), ..Default::default() }],
                _ => return Err(ConnectorError::Item(format!("{} items do not go to Outlook calendars", item.vertical()))),
            },
        };
        if parts[0].recurrence_id.is_some() {
            return Err(ConnectorError::Item("the object holds overrides of a series but not the series, which Outlook needs".into()));
        }
        let (mut body, mut warnings) = graph_from_part(&parts[0]).map_err(ConnectorError::Item)?;
        let key = event_key(source, &item.id, &item.container, &parts[0].event.uid);
        let version = hex::encode(&sha2::Sha256::digest(item.version.as_bytes())[..6]);
        let done = format!("ferry-{key}-{version}");
        let staged = parts.len() > 1 || !parts[0].event.exdates.is_empty();
        // a series with exceptions is marked complete only when all of it is written
        body["transactionId"] = if staged { format!("ferry-{key}-pending") } else { done.clone() }.into();
        // Outlook makes its own iCalUId: the event's UID is kept where ferry reads it back
        let uid = parts[0].event.uid.trim();
        if !uid.is_empty() {
            body[super::importer::EXT] = json!([{"id": super::importer::UID_PROP, "value": uid}]);
        }
        let cal = self.calendar(cfg, http, &item.container).await?;
        self.read_written(cfg, http, &cal).await?;
        // one written before events were known by their UID: by the source's key (its
        // transactionId becomes the new one with the update)
        let known = self.written.lock().await.get(&cal).and_then(|w| w.get(&key).or_else(|| w.get(&source_key(source, &item.id)))).cloned();
        let id = match known {
            Some((id, t)) if t == done => return Ok(PutOutcome { dest_id: id, created: false, warnings, sha256: None }),
            Some((id, _)) => {
                let url = cfg.graph(&format!("/v1.0/me/events/{}", enc(&id)));
                let _: Value = api::json(http, &format!("updating event {id}"), &|| api::with_json(http.request("PATCH", &url), &body))
                    .await
                    .map_err(|(e, _)| e)?;
                id
            }
            None => {
                let url = cfg.graph(&format!("/v1.0/me/calendars/{}/events", enc(&cal)));
                let made: Value =
                    api::json(http, "making an event", &|| api::with_json(http.request("POST", &url), &body)).await.map_err(|(e, _)| e)?;
                made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Graph made an event without an id".into()))?.to_owned()
            }
        };
        if staged {
            self.occurrences(cfg, http, &id, &parts, &mut warnings).await?;
            let url = cfg.graph(&format!("/v1.0/me/events/{}", enc(&id)));
            let mark = json!({"transactionId": done});
            let _: Value = api::json(http, &format!("marking event {id} complete"), &|| api::with_json(http.request("PATCH", &url), &mark))
                .await
                .map_err(|(e, _)| e)?;
        }
        self.written.lock().await.entry(cal).or_default().insert(key, (id.clone(), done));
        warnings.sort();
        warnings.dedup();
        Ok(PutOutcome { dest_id: id, created: true, warnings, sha256: None })
    }

    /// Each override patched onto its occurrence, each EXDATE's occurrence deleted.
    async fn occurrences(
        &self,
        cfg: &MicrosoftConfig,
        http: &Http,
        master: &str,
        parts: &[EventPart],
        w: &mut Vec<String>,
    ) -> Result<(), ConnectorError> {
        let mut todo: Vec<(DateOrDateTime, Option<&EventPart>)> = parts[0].event.exdates.iter().map(|d| (d.clone(), None)).collect();
        todo.extend(parts[1..].iter().filter_map(|p| Some((p.recurrence_id.clone()?, Some(p)))));
        for (at, part) in todo {
            let Some(when) = instant(&at) else {
                w.push(format!("RECURRENCE-ID {}: not a date; the occurrence is left as the series has it", at.value));
                continue;
            };
            let window = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let url = cfg.graph(&format!(
                "/v1.0/me/events/{}/instances?startDateTime={}&endDateTime={}&$select=originalStart",
                enc(master),
                window(when - chrono::Duration::days(1)),
                window(when + chrono::Duration::days(2))
            ));
            let found = api::all(cfg, http, "finding an occurrence", url).await?;
            let same = |o: &Value| {
                o["originalStart"]
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .is_some_and(|s| if at.date_only { local_date(&at) == Some(s.date_naive()) } else { s.with_timezone(&Utc) == when })
            };
            let Some(occ) = found.iter().find(|o| same(o)).and_then(|o| o["id"].as_str()) else {
                w.push(format!("RECURRENCE-ID {}: the series has no such occurrence in Outlook; not kept", at.value));
                continue;
            };
            let url = cfg.graph(&format!("/v1.0/me/events/{}", enc(occ)));
            match part {
                None => {
                    let _: Value = api::json(http, "deleting an occurrence", &|| http.request("DELETE", &url)).await.map_err(|(e, _)| e)?;
                }
                Some(p) => {
                    let (mut b, x) = graph_from_part(p).map_err(ConnectorError::Item)?;
                    if let Some(o) = b.as_object_mut() {
                        o.remove("recurrence");
                    }
                    w.extend(x);
                    let _: Value = api::json(http, "changing an occurrence", &|| api::with_json(http.request("PATCH", &url), &b))
                        .await
                        .map_err(|(e, _)| e)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_known_by_its_calendar_and_uid_whatever_its_source() {
        let a = event_key("dir:/one", "Home.ics#e1", "Home", "e1@example.org");
        assert_eq!(a, event_key("package:/two.zip", "calendar/Home/e1.ics", "Home", " e1@example.org"), "another source, the same event");
        assert_ne!(a, event_key("dir:/one", "Home.ics#e1", "Work", "e1@example.org"), "a calendar of its own");
        assert_eq!(event_key("dir:/one", "x", "Home", ""), source_key("dir:/one", "x"), "without a UID: by source and item");
        assert_ne!(source_key("dir:/one", "x"), source_key("dir:/two", "x"));
        assert_eq!(a.len(), 24);
    }

    fn at(v: &str, tz: Option<&str>) -> DateOrDateTime {
        DateOrDateTime { value: v.into(), tzid: tz.map(str::to_owned), date_only: v.len() == 10 }
    }

    #[test]
    fn rules_outlook_has_a_pattern_for_become_that_pattern() {
        let mon = at("2025-03-03T09:00:00", Some("Europe/Berlin"));
        let r = recurrence("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10", &mon).unwrap();
        assert_eq!(
            r["pattern"],
            json!({"type": "weekly", "daysOfWeek": ["monday", "wednesday"], "firstDayOfWeek": "monday", "interval": 1})
        );
        assert_eq!(
            r["range"],
            json!({"type": "numbered", "startDate": "2025-03-03", "numberOfOccurrences": 10, "recurrenceTimeZone": "Europe/Berlin"})
        );
        let r = recurrence("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20251231T230000Z", &mon).unwrap();
        assert_eq!(r["pattern"]["type"], "relativeMonthly");
        assert_eq!(r["pattern"]["index"], "last");
        // 23:00 UTC on 31 December is 1 January in Berlin
        assert_eq!(r["range"]["endDate"], "2026-01-01");
        let r = recurrence("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2;INTERVAL=2", &mon).unwrap();
        assert_eq!((r["pattern"]["index"].as_str(), r["pattern"]["interval"].as_u64()), (Some("second"), Some(2)));
        assert_eq!(
            recurrence("FREQ=YEARLY", &mon).unwrap()["pattern"],
            json!({"type": "absoluteYearly", "month": 3, "dayOfMonth": 3, "interval": 1})
        );
        assert_eq!(recurrence("FREQ=WEEKLY", &mon).unwrap()["pattern"]["daysOfWeek"], json!(["monday"]));
        assert_eq!(recurrence("FREQ=DAILY;INTERVAL=3", &mon).unwrap()["range"]["type"], "noEnd");
    }

    #[test]
    fn rules_outlook_cannot_hold_are_refused_with_the_reason() {
        let d = at("2025-03-03T09:00:00", None);
        for (rule, says) in [
            ("FREQ=HOURLY", "no form"),
            ("FREQ=MONTHLY;BYDAY=2MO,3TU", "one position"),
            ("FREQ=MONTHLY;BYDAY=5MO", "5th"),
            ("FREQ=DAILY;BYHOUR=9,17", "BYHOUR"),
            ("FREQ=WEEKLY;COUNT=2;UNTIL=20250101", "both"),
            ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL"),
            ("INTERVAL=2", "FREQ"),
            ("FREQ=WEEKLY;BYDAY=XX", "BYDAY"),
            ("garbage", "NAME=VALUE"),
        ] {
            let e = recurrence(rule, &d).unwrap_err();
            assert!(e.contains(says), "{rule}: {e}");
        }
    }

    #[test]
    fn an_event_becomes_a_graph_event_and_what_outlook_lacks_is_named() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;TZID=Europe/Berlin:20250303T090000\r\nDURATION:PT90M\r\n\
            SUMMARY:Plan\r\nTRANSP:TRANSPARENT\r\nCLASS:PRIVATE\r\nCATEGORIES:Work\r\nORGANIZER:mailto:boss@example.org\r\n\
            ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=ACCEPTED;CN=B:mailto:b@example.org\r\nRDATE:20250310T120000Z\r\n\
            BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT10M\r\nDESCRIPTION:x\r\nEND:VALARM\r\n\
            BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT1H\r\nDESCRIPTION:x\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let p = &event_parts(text.as_bytes()).unwrap()[0];
        let (g, w) = graph_from_part(p).unwrap();
        assert_eq!(g["start"], json!({"dateTime": "2025-03-03T09:00:00", "timeZone": "Europe/Berlin"}));
        // 09:00 in Berlin (08:00 UTC) and ninety minutes
        assert_eq!(g["end"], json!({"dateTime": "2025-03-03T09:30:00", "timeZone": "UTC"}));
        assert_eq!((g["showAs"].as_str(), g["sensitivity"].as_str()), (Some("free"), Some("private")));
        assert_eq!(g["attendees"][0], json!({"type": "optional", "emailAddress": {"address": "b@example.org", "name": "B"}}));
        assert_eq!((g["isReminderOn"].as_bool(), g["reminderMinutesBeforeStart"].as_i64()), (Some(true), Some(10)));
        assert_eq!(g["categories"], json!(["Work"]));
        for needle in ["ORGANIZER", "ACCEPTED", "RDATE", "VALARM"] {
            assert!(w.iter().any(|x| x.contains(needle)), "{needle}: {w:?}");
        }
        let all_day = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20250301\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let (g, _) = graph_from_part(&event_parts(all_day.as_bytes()).unwrap()[0]).unwrap();
        assert_eq!((g["isAllDay"].as_bool(), g["end"]["dateTime"].as_str()), (Some(true), Some("2025-03-02T00:00:00")));
        let bad = text.replace("TZID=Europe/Berlin", "TZID=My Zone");
        assert!(graph_from_part(&event_parts(bad.as_bytes()).unwrap()[0]).unwrap_err().contains("My Zone"));
    }
}
