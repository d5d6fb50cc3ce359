//! Outlook calendars out through Graph: calendars as containers (the default one as the
//! empty container, as `event.rs` writes it), one item per single event or series, built
//! with `ferry_codecs::vevent::build_calendar`.
//!
//! Events are listed in UTC (`Prefer: outlook.timezone="UTC"`) and given back their own
//! zone from `originalStartTimeZone` (an IANA name as it is, a Windows name through
//! `zones.rs`), so DTSTART keeps its TZID; a zone neither knows stays UTC. A series'
//! `patternedRecurrence` becomes its RRULE (the inverse of `event::recurrence`); its
//! instances over the series' range are read, each exception becomes an override with
//! RECURRENCE-ID at its original start, and each occurrence the pattern gives that Graph
//! does not list (a cancelled one) an EXDATE.
//!
//! Graph has no delta query for a calendar's events (only for a time window), so each
//! export lists every event; the item's version is a hash of what it is written as, and
//! an incremental job's ledger passes over what did not change.

use super::api;
use super::config::MicrosoftConfig;
use super::zones::zone;
use crate::http::{Http, encode_component as enc};
use async_trait::async_trait;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use ferry_codecs::vevent::{EventPart, build_calendar};
use ferry_core::model::{Alarm, Attendee, DateOrDateTime, Event};
use ferry_core::{ConnectorError, Item, ItemError, Page, PageStream, Vertical};
use serde_json::Value;
use sha2::Digest;
use std::collections::HashSet;
use std::sync::Arc;

/// The fields of an event each listing asks for.
const SELECT: &str = "id,iCalUId,changeKey,lastModifiedDateTime,subject,body,start,end,isAllDay,location,showAs,sensitivity,\
categories,recurrence,isReminderOn,reminderMinutesBeforeStart,attendees,organizer,originalStartTimeZone,originalEndTimeZone,\
type,isCancelled,originalStart,seriesMasterId";

/// Times in UTC, bodies as text where Outlook has them so.
const PREFER: &str = "outlook.timezone=\"UTC\", outlook.body-content-type=\"text\"";

/// Occurrences of one series ferry expects at most (as far as Outlook expands one).
const MAX_OCCURRENCES: usize = 5000;
/// How far past today a series without end is looked at for exceptions and cancellations.
const OPEN_END_YEARS: i32 = 2;

/// The calendars: (id, container); the default calendar is "".
pub async fn calendars(cfg: &MicrosoftConfig, http: &Http) -> Result<Vec<(String, String)>, ConnectorError> {
    let url = cfg.graph("/v1.0/me/calendars?$top=100&$select=id,name,isDefaultCalendar");
    let all = api::all(cfg, http, "listing calendars", url).await?;
    Ok(all
        .iter()
        .filter_map(|c| {
            let id = c["id"].as_str()?.to_owned();
            let name = if c["isDefaultCalendar"] == true { String::new() } else { c["name"].as_str()?.to_owned() };
            Some((id, name))
        })
        .collect())
}

/// A `dateTimeTimeZone` as an instant: its wall time read in its zone (UTC, or any zone
/// a server answered in despite the `Prefer`).
fn instant(d: &Value) -> Option<DateTime<Utc>> {
    let raw = d["dateTime"].as_str()?;
    let local = NaiveDateTime::parse_from_str(raw.get(..19)?, "%Y-%m-%dT%H:%M:%S").ok()?;
    match d["timeZone"].as_str().unwrap_or("UTC") {
        "UTC" | "" => Some(local.and_utc()),
        z => zone(z)?.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)),
    }
}

/// An instant as iCalendar's: the wall time in `tz` with its TZID, or UTC.
fn when_in(t: DateTime<Utc>, tz: Option<Tz>) -> DateOrDateTime {
    match tz {
        Some(z) if z != chrono_tz::UTC && z != chrono_tz::Etc::UTC => DateOrDateTime {
            value: t.with_timezone(&z).format("%Y-%m-%dT%H:%M:%S").to_string(),
            tzid: Some(z.name().to_owned()),
            date_only: false,
        },
        _ => DateOrDateTime { value: t.format("%Y-%m-%dT%H:%M:%SZ").to_string(), tzid: None, date_only: false },
    }
}

fn day_of(d: &Value) -> Option<DateOrDateTime> {
    let raw = d["dateTime"].as_str()?;
    NaiveDate::parse_from_str(raw.get(..10)?, "%Y-%m-%d").ok()?;
    Some(DateOrDateTime { value: raw[..10].to_owned(), tzid: None, date_only: true })
}

/// Graph's day names and iCalendar's codes, from Sunday (`num_days_from_sunday`).
pub(super) const DAYS: [(&str, &str); 7] =
    [("sunday", "SU"), ("monday", "MO"), ("tuesday", "TU"), ("wednesday", "WE"), ("thursday", "TH"), ("friday", "FR"), ("saturday", "SA")];

fn day_code(name: &str) -> Result<&'static str, String> {
    DAYS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, c)| *c).ok_or_else(|| format!("`{name}` is no day of the week"))
}

fn weekday_index(name: &str) -> Option<u32> {
    DAYS.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)).map(|i| i as u32)
}

fn ordinal(index: &str) -> Result<i32, String> {
    Ok(match index.to_ascii_lowercase().as_str() {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "last" => -1,
        other => return Err(format!("`{other}` is no week of the month")),
    })
}

fn days_of(pattern: &Value) -> Result<Vec<&str>, String> {
    pattern["daysOfWeek"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| d.as_str().ok_or_else(|| "a day of the week that is not text".to_owned()))
        .collect()
}

/// A `patternedRecurrence` as an RRULE (the inverse of `event::recurrence`). `until` is
/// the instant of the last occurrence an `endDate` range allows (`None` for a series of
/// whole days, whose UNTIL is the date).
pub fn rrule_of(rec: &Value, until: Option<DateTime<Utc>>) -> Result<String, String> {
    let p = &rec["pattern"];
    let interval = p["interval"].as_u64().unwrap_or(1).max(1);
    let mut parts = Vec::new();
    let days = days_of(p)?;
    let by_relative = |parts: &mut Vec<String>| -> Result<(), String> {
        let n = ordinal(p["index"].as_str().unwrap_or("first"))?;
        let list: Vec<String> = days.iter().map(|d| Ok(format!("{n}{}", day_code(d)?))).collect::<Result<_, String>>()?;
        if list.is_empty() {
            return Err("a relative pattern without days".into());
        }
        parts.push(format!("BYDAY={}", list.join(",")));
        Ok(())
    };
    let month_day = || p["dayOfMonth"].as_u64().filter(|d| (1..=31).contains(d)).ok_or("a day of the month outside 1 to 31");
    let month = || p["month"].as_u64().filter(|m| (1..=12).contains(m)).ok_or("a month outside 1 to 12");
    match p["type"].as_str().unwrap_or_default().to_ascii_lowercase().as_str() {
        "daily" => parts.push("FREQ=DAILY".into()),
        "weekly" => {
            parts.push("FREQ=WEEKLY".into());
            let list: Vec<&str> = days.iter().map(|d| day_code(d)).collect::<Result<_, String>>()?;
            if !list.is_empty() {
                parts.push(format!("BYDAY={}", list.join(",")));
            }
            // which weeks count matters only every second week or more
            if interval > 1 {
                parts.push(format!("WKST={}", day_code(p["firstDayOfWeek"].as_str().unwrap_or("sunday"))?));
            }
        }
        "absolutemonthly" => parts.extend(["FREQ=MONTHLY".into(), format!("BYMONTHDAY={}", month_day()?)]),
        "relativemonthly" => {
            parts.push("FREQ=MONTHLY".into());
            by_relative(&mut parts)?;
        }
        "absoluteyearly" => parts.extend(["FREQ=YEARLY".into(), format!("BYMONTH={}", month()?), format!("BYMONTHDAY={}", month_day()?)]),
        "relativeyearly" => {
            parts.extend(["FREQ=YEARLY".into(), format!("BYMONTH={}", month()?)]);
            by_relative(&mut parts)?;
        }
        other => return Err(format!("the recurrence pattern `{other}` is not one Graph documents")),
    }
    if interval > 1 {
        parts.push(format!("INTERVAL={interval}"));
    }
    let r = &rec["range"];
    match r["type"].as_str().unwrap_or("noEnd").to_ascii_lowercase().as_str() {
        "numbered" => parts
            .push(format!("COUNT={}", r["numberOfOccurrences"].as_u64().filter(|n| *n >= 1).ok_or("a numbered range without a count")?)),
        "enddate" => {
            let end = NaiveDate::parse_from_str(r["endDate"].as_str().unwrap_or_default(), "%Y-%m-%d")
                .map_err(|_| "an end date that is no date")?;
            parts.push(match until {
                Some(t) => format!("UNTIL={}", t.format("%Y%m%dT%H%M%SZ")),
                None => format!("UNTIL={}", end.format("%Y%m%d")),
            });
        }
        _ => {}
    }
    Ok(parts.join(";"))
}

/// Whether `d` is the `index`th (1 to 4, or -1 for the last) of its weekday in its month.
fn nth_of_month(d: NaiveDate, index: i32) -> bool {
    if index == -1 {
        return d.checked_add_signed(Duration::days(7)).is_none_or(|w| w.month() != d.month());
    }
    (d.day() as i32 - 1) / 7 + 1 == index
}

/// The dates a pattern gives from the range's start up to `limit` (inclusive), as Outlook
/// counts them: weeks starting on `firstDayOfWeek`, a relative pattern on each of its
/// days' `index`th in the month.
pub fn occurrence_dates(rec: &Value, limit: NaiveDate) -> Result<Vec<NaiveDate>, String> {
    let p = &rec["pattern"];
    let r = &rec["range"];
    let start =
        NaiveDate::parse_from_str(r["startDate"].as_str().unwrap_or_default(), "%Y-%m-%d").map_err(|_| "a range without a start date")?;
    let end = match r["type"].as_str().unwrap_or("noEnd").to_ascii_lowercase().as_str() {
        "enddate" => Some(
            NaiveDate::parse_from_str(r["endDate"].as_str().unwrap_or_default(), "%Y-%m-%d").map_err(|_| "an end date that is no date")?,
        ),
        _ => None,
    };
    let count = r["numberOfOccurrences"].as_u64().filter(|_| r["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("numbered")));
    let interval = p["interval"].as_u64().unwrap_or(1).max(1) as i64;
    let days: Vec<u32> = days_of(p)?.iter().filter_map(|d| weekday_index(d)).collect();
    let index = p["index"].as_str().map(ordinal).transpose()?.unwrap_or(1);
    let first_day = weekday_index(p["firstDayOfWeek"].as_str().unwrap_or("sunday")).unwrap_or(0);
    let week0 = start
        .checked_sub_signed(Duration::days(((start.weekday().num_days_from_sunday() + 7 - first_day) % 7) as i64))
        .ok_or("a start date out of range")?;
    let kind = p["type"].as_str().unwrap_or_default().to_ascii_lowercase();
    let (day_of_month, month) = (p["dayOfMonth"].as_u64().unwrap_or(0) as u32, p["month"].as_u64().unwrap_or(0) as u32);
    let mut out = Vec::new();
    let mut d = start;
    let last = end.map_or(limit, |e| e.min(limit)).min(start.checked_add_signed(Duration::days(100 * 366)).unwrap_or(NaiveDate::MAX));
    while d <= last && count.is_none_or(|c| (out.len() as u64) < c) && out.len() < MAX_OCCURRENCES {
        let months = (d.year() - start.year()) as i64 * 12 + d.month() as i64 - start.month() as i64;
        let years = (d.year() - start.year()) as i64;
        let on_day = days.contains(&d.weekday().num_days_from_sunday());
        let ok = match kind.as_str() {
            "daily" => (d - start).num_days() % interval == 0,
            "weekly" => (d - week0).num_days() / 7 % interval == 0 && on_day,
            "absolutemonthly" => months % interval == 0 && d.day() == day_of_month,
            "relativemonthly" => months % interval == 0 && on_day && nth_of_month(d, index),
            "absoluteyearly" => years % interval == 0 && d.month() == month && d.day() == day_of_month,
            "relativeyearly" => years % interval == 0 && d.month() == month && on_day && nth_of_month(d, index),
            other => return Err(format!("the recurrence pattern `{other}` is not one Graph documents")),
        };
        if ok {
            out.push(d);
        }
        d = d.succ_opt().ok_or("a date out of range")?;
    }
    Ok(out)
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in html.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&").trim().to_owned()
}

fn text_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace("\r\n", "\\n").replace('\n', "\\n")
}

fn person(p: &Value, with_answer: bool) -> Option<Attendee> {
    let address = p["emailAddress"]["address"].as_str().filter(|a| !a.is_empty())?;
    let status = p["status"]["response"].as_str().map(|r| match r {
        "accepted" | "organizer" => "ACCEPTED",
        "declined" => "DECLINED",
        "tentativelyAccepted" => "TENTATIVE",
        _ => "NEEDS-ACTION",
    });
    Some(Attendee {
        address: format!("mailto:{address}"),
        name: p["emailAddress"]["name"].as_str().filter(|n| !n.is_empty() && *n != address).map(str::to_owned),
        role: with_answer
            .then(|| match p["type"].as_str() {
                Some("optional") => "OPT-PARTICIPANT",
                Some("resource") => "NON-PARTICIPANT",
                _ => "REQ-PARTICIPANT",
            })
            .map(str::to_owned),
        status: status.filter(|_| with_answer).map(str::to_owned),
    })
}

/// The zone an event was written in, when ferry knows it.
fn own_zone(g: &Value, field: &str) -> Option<Tz> {
    g[field].as_str().and_then(zone)
}

/// One Graph event (a single one, a series master, an exception) as a part, and the
/// lines the event model has no field for.
fn part_of(g: &Value, uid: &str) -> Result<(EventPart, Vec<String>), String> {
    let s = |f: &str| g[f].as_str().filter(|x| !x.is_empty()).map(str::to_owned);
    let all_day = g["isAllDay"] == true;
    let (start, end) = if all_day {
        (day_of(&g["start"]), day_of(&g["end"]))
    } else {
        let start = instant(&g["start"]).map(|t| when_in(t, own_zone(g, "originalStartTimeZone")));
        let end_zone = own_zone(g, "originalEndTimeZone").or_else(|| own_zone(g, "originalStartTimeZone"));
        (start, instant(&g["end"]).map(|t| when_in(t, end_zone)))
    };
    if start.is_none() {
        return Err(format!("Graph's start {} cannot be read", g["start"]));
    }
    let mut extra = Vec::new();
    let content = g["body"]["content"].as_str().unwrap_or_default();
    let description = if g["body"]["contentType"] == "html" && !content.is_empty() {
        extra.push(format!("X-ALT-DESC;FMTTYPE=text/html:{}", text_escape(content)));
        Some(strip_tags(content))
    } else {
        Some(content.to_owned())
    };
    let mut e = Event {
        uid: uid.to_owned(),
        summary: s("subject"),
        description: description.filter(|d| !d.is_empty()),
        location: g["location"]["displayName"].as_str().filter(|l| !l.is_empty()).map(str::to_owned),
        start,
        end,
        status: match (g["isCancelled"] == true, g["showAs"].as_str()) {
            (true, _) => Some("CANCELLED".into()),
            (false, Some("tentative")) => Some("TENTATIVE".into()),
            _ => None,
        },
        organizer: person(&g["organizer"], false),
        attendees: g["attendees"].as_array().into_iter().flatten().filter_map(|a| person(a, true)).collect(),
        categories: g["categories"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect(),
        ..Default::default()
    };
    if g["isReminderOn"] == true {
        let m = g["reminderMinutesBeforeStart"].as_i64().unwrap_or(15).max(0);
        e.alarms.push(Alarm { action: "DISPLAY".into(), trigger: format!("-PT{m}M"), description: None });
    }
    if let Some(i @ ("high" | "low")) = g["importance"].as_str() {
        extra.push(format!("X-MS-IMPORTANCE:{i}"));
    }
    let part = EventPart {
        event: e,
        recurrence_id: None,
        transparent: matches!(g["showAs"].as_str(), Some("free")),
        class: match g["sensitivity"].as_str() {
            Some("private" | "personal") => Some("PRIVATE".into()),
            Some("confidential") => Some("CONFIDENTIAL".into()),
            _ => None,
        },
        url: None,
    };
    Ok((part, extra))
}

/// Lists one calendar's events page by page; each series is read whole (its instances)
/// when its master is met.
pub struct EventPages {
    pub cfg: Arc<MicrosoftConfig>,
    pub http: Http,
    pub container: String,
    pub next: Option<String>,
    pub pages: u32,
}

impl EventPages {
    pub fn first(cfg: &MicrosoftConfig, calendar: &str) -> String {
        let expand = enc(&format!("{}($filter=id eq '{}')", super::importer::EXT, super::importer::UID_PROP));
        cfg.graph(&format!("/v1.0/me/calendars/{}/events?$top=50&$select={SELECT}&$expand={expand}", enc(calendar)))
    }

    async fn get(&self, what: &str, url: &str) -> Result<Value, ConnectorError> {
        self.cfg.own(url)?;
        api::json(&self.http, what, &|| self.http.request("GET", url).header("Prefer", PREFER)).await.map_err(|(e, _)| e)
    }

    /// The series' occurrences and exceptions between `from` and `to`.
    async fn instances(&self, master: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Value>, ConnectorError> {
        let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut next = Some(self.cfg.graph(&format!(
            "/v1.0/me/events/{}/instances?startDateTime={}&endDateTime={}&$top=500&$select={SELECT}",
            enc(master),
            fmt(from),
            fmt(to)
        )));
        let mut out = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > 1000 {
                return Err(ConnectorError::Fatal("reading a series' instances: more than 1,000 pages".into()));
            }
            let page = self.get("reading a series' instances", &url).await?;
            out.extend(page["value"].as_array().into_iter().flatten().cloned());
            next = page["@odata.nextLink"].as_str().filter(|n| *n != url).map(str::to_owned);
        }
        Ok(out)
    }

    /// A series master with its exceptions (overrides) and cancelled occurrences (EXDATEs).
    async fn series(&self, master: &Value, uid: &str) -> Result<Result<(Vec<EventPart>, Vec<Vec<String>>), String>, ConnectorError> {
        let (mut first, first_extra) = match part_of(master, uid) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let all_day = master["isAllDay"] == true;
        let tz = if all_day { None } else { own_zone(master, "originalStartTimeZone") };
        let Some(start) = instant(&master["start"]) else { return Ok(Err("the series' start cannot be read".into())) };
        let wall = |t: DateTime<Utc>| match tz {
            Some(z) => t.with_timezone(&z).naive_local(),
            None => t.naive_utc(),
        };
        let time_of_day: NaiveTime = if all_day { NaiveTime::MIN } else { wall(start).time() };
        let at = |d: NaiveDate| -> Option<DateTime<Utc>> {
            let local = d.and_time(time_of_day);
            match tz {
                Some(z) => z.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)),
                None => Some(local.and_utc()),
            }
        };
        let rec = &master["recurrence"];
        let open_end =
            !rec["range"]["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("enddate") || t.eq_ignore_ascii_case("numbered"));
        let today = Utc::now().date_naive();
        let horizon = today.with_year(today.year() + OPEN_END_YEARS).unwrap_or(today);
        let ahead = wall(start).date().checked_add_signed(Duration::days(366 * OPEN_END_YEARS as i64)).unwrap_or(NaiveDate::MAX);
        let limit = if open_end { horizon.max(ahead) } else { NaiveDate::MAX };
        let expected = match occurrence_dates(rec, limit) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        let until = match (all_day, rec["range"]["type"].as_str().map(str::to_ascii_lowercase).as_deref()) {
            (false, Some("enddate")) => {
                let end = rec["range"]["endDate"].as_str().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                end.and_then(at)
            }
            _ => None,
        };
        match rrule_of(rec, until) {
            Ok(r) => first.event.rrule = Some(r),
            Err(e) => return Ok(Err(e)),
        }
        let (Some(lo), Some(hi)) = (expected.first().and_then(|d| at(*d)), expected.last().and_then(|d| at(*d))) else {
            // a pattern that gives no occurrence: the series as it is
            return Ok(Ok((vec![first], vec![first_extra])));
        };
        // a moved exception may lie a while away from its original start
        let (from, to) = (lo.checked_sub_signed(Duration::days(31)).unwrap_or(lo), hi.checked_add_signed(Duration::days(32)).unwrap_or(hi));
        let found = self.instances(master["id"].as_str().unwrap_or_default(), from, to).await?;
        let mut listed = HashSet::new();
        let mut last_listed = None;
        let mut parts = vec![];
        let mut extra = vec![];
        for g in &found {
            let Some(orig) = g["originalStart"].as_str().and_then(|o| DateTime::parse_from_rfc3339(o).ok()).map(|o| o.with_timezone(&Utc))
            else {
                continue;
            };
            let key = wall(orig);
            listed.insert(if all_day { key.date().and_time(NaiveTime::MIN) } else { key });
            last_listed = last_listed.max(Some(orig));
            if g["type"] != "exception" {
                continue;
            }
            let (mut p, x) = match part_of(g, uid) {
                Ok(p) => p,
                Err(e) => return Ok(Err(format!("an exception of the series: {e}"))),
            };
            p.recurrence_id = Some(if all_day {
                DateOrDateTime { value: key.date().to_string(), tzid: None, date_only: true }
            } else {
                when_in(orig, tz)
            });
            parts.push(p);
            extra.push(x);
        }
        for d in &expected {
            let Some(t) = at(*d) else { continue };
            // past the last occurrence listed, a series without end may just not be expanded further
            if open_end && last_listed.is_none_or(|l| t > l) {
                continue;
            }
            let key = if all_day { d.and_time(NaiveTime::MIN) } else { wall(t) };
            if !listed.contains(&key) {
                first.event.exdates.push(if all_day {
                    DateOrDateTime { value: d.to_string(), tzid: None, date_only: true }
                } else {
                    when_in(t, tz)
                });
            }
        }
        parts.sort_by(|a, b| a.recurrence_id.as_ref().map(|r| &r.value).cmp(&b.recurrence_id.as_ref().map(|r| &r.value)));
        parts.insert(0, first);
        extra.insert(0, first_extra);
        Ok(Ok((parts, extra)))
    }

    async fn item(&self, g: &Value, location: &str) -> Result<Result<Item, ItemError>, ConnectorError> {
        let id = g["id"].as_str().unwrap_or_default().to_owned();
        let fail = |reason: String| ItemError {
            skipped: false,
            vertical: Vertical::Calendar,
            id: id.clone(),
            location: location.to_owned(),
            reason,
        };
        // the UID the event was written with, as ferry keeps it; else Outlook's own
        let uid = super::importer::uid_of(g).or(g["iCalUId"].as_str()).filter(|u| !u.is_empty()).unwrap_or(&id).to_owned();
        let built = if g.get("recurrence").is_some_and(|r| !r.is_null()) {
            self.series(g, &uid).await?
        } else {
            part_of(g, &uid).map(|(p, x)| (vec![p], vec![x]))
        };
        let (parts, extra) = match built {
            Ok(b) => b,
            Err(e) => return Ok(Err(fail(e))),
        };
        let text = build_calendar(&parts, &ferry_codecs::todo::stamp(g["lastModifiedDateTime"].as_str()), &extra);
        let record = match ferry_codecs::ical::parse_object(text.as_bytes(), 1) {
            Ok(r) => r,
            Err(e) => return Ok(Err(fail(format!("Outlook's event does not make a readable iCalendar object: {e}")))),
        };
        let version = hex::encode(&sha2::Sha256::digest(text.as_bytes())[..12]);
        Ok(Ok(Item::of_record(&id, &self.container, &version, record, "text/calendar", text)))
    }
}

#[async_trait]
impl PageStream for EventPages {
    async fn next_page(&mut self) -> Result<Option<ferry_core::Page>, ConnectorError> {
        let Some(url) = self.next.take() else { return Ok(None) };
        self.pages += 1;
        if self.pages > 100_000 {
            return Err(ConnectorError::Fatal("listing events: more than 100,000 pages".into()));
        }
        let page = self.get("listing events", &url).await?;
        let mut items = Vec::new();
        for (n, g) in page["value"].as_array().into_iter().flatten().enumerate() {
            if g["id"].as_str().is_none_or(str::is_empty) {
                items.push(Err(ItemError {
                    skipped: false,
                    vertical: Vertical::Calendar,
                    id: format!("(no id: event {n} of {url})"),
                    location: url.clone(),
                    reason: "Graph gave an event without an id".into(),
                }));
                continue;
            }
            // occurrences and exceptions come with their series
            if matches!(g["type"].as_str(), Some("occurrence" | "exception")) {
                continue;
            }
            items.push(self.item(g, &url).await?);
        }
        match page["@odata.nextLink"].as_str() {
            Some(n) if n == url => return Err(ConnectorError::Fatal("listing events: Graph gave the same next link again".into())),
            Some(n) => self.next = Some(n.to_owned()),
            None => {}
        }
        Ok(Some(Page { items, cursor: self.next.as_ref().map(|n| format!("full:{n}")) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outlook_patterns_become_rrules_that_come_back_as_the_same_patterns() {
        let mon = DateOrDateTime { value: "2025-03-03T09:00:00".into(), tzid: Some("Europe/Berlin".into()), date_only: false };
        for (rec, rule) in [
            (
                json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"], "firstDayOfWeek": "sunday"},
                "range": {"type": "numbered", "startDate": "2025-03-03", "numberOfOccurrences": 10}}),
                "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
            ),
            (
                json!({"pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["monday"], "firstDayOfWeek": "monday"},
                "range": {"type": "noEnd", "startDate": "2025-03-03"}}),
                "FREQ=WEEKLY;BYDAY=MO;WKST=MO;INTERVAL=2",
            ),
            (
                json!({"pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
                "range": {"type": "noEnd", "startDate": "2025-03-03"}}),
                "FREQ=MONTHLY;BYDAY=-1FR",
            ),
            (
                json!({"pattern": {"type": "absoluteYearly", "interval": 1, "month": 3, "dayOfMonth": 3},
                "range": {"type": "noEnd", "startDate": "2025-03-03"}}),
                "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3",
            ),
            (
                json!({"pattern": {"type": "daily", "interval": 3}, "range": {"type": "noEnd", "startDate": "2025-03-03"}}),
                "FREQ=DAILY;INTERVAL=3",
            ),
        ] {
            let r = rrule_of(&rec, None).unwrap();
            assert_eq!(r, rule);
            let back = super::super::event::recurrence(&r, &mon).unwrap();
            for k in ["type", "interval", "daysOfWeek", "index", "month", "dayOfMonth"] {
                if rec["pattern"].get(k).is_some() {
                    assert_eq!(back["pattern"][k], rec["pattern"][k], "{k} of {rule}");
                }
            }
        }
        // an end date: the last occurrence's instant, which the import reads back as that date in the zone
        let rec = json!({"pattern": {"type": "daily", "interval": 1}, "range": {"type": "endDate", "startDate": "2025-03-03", "endDate": "2025-03-31"}});
        let until = chrono_tz::Europe::Berlin.with_ymd_and_hms(2025, 3, 31, 9, 0, 0).unwrap().with_timezone(&Utc);
        let r = rrule_of(&rec, Some(until)).unwrap();
        assert_eq!(r, "FREQ=DAILY;UNTIL=20250331T070000Z");
        assert_eq!(super::super::event::recurrence(&r, &mon).unwrap()["range"]["endDate"], "2025-03-31");
        assert_eq!(rrule_of(&rec, None).unwrap(), "FREQ=DAILY;UNTIL=20250331");
        assert!(rrule_of(&json!({"pattern": {"type": "hourly"}}), None).unwrap_err().contains("hourly"));
        assert!(rrule_of(&json!({"pattern": {"type": "weekly", "daysOfWeek": ["someday"]}}), None).is_err());
    }

    #[test]
    fn a_pattern_gives_the_dates_outlook_gives() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let weekly = json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "startDate": "2025-03-03", "numberOfOccurrences": 4}});
        assert_eq!(
            occurrence_dates(&weekly, d("2030-01-01")).unwrap(),
            [d("2025-03-03"), d("2025-03-10"), d("2025-03-17"), d("2025-03-24")]
        );
        let last_friday = json!({"pattern": {"type": "relativeMonthly", "interval": 2, "daysOfWeek": ["friday"], "index": "last"},
            "range": {"type": "endDate", "startDate": "2025-01-01", "endDate": "2025-06-30"}});
        assert_eq!(occurrence_dates(&last_friday, d("2030-01-01")).unwrap(), [d("2025-01-31"), d("2025-03-28"), d("2025-05-30")]);
        let open = json!({"pattern": {"type": "daily", "interval": 1}, "range": {"type": "noEnd", "startDate": "2025-01-01"}});
        assert_eq!(occurrence_dates(&open, d("2025-01-10")).unwrap().len(), 10);
        assert!(occurrence_dates(&json!({"pattern": {"type": "daily"}, "range": {}}), d("2025-01-10")).is_err());
        // dates at the edge of the calendar are no reason to panic
        for start in [NaiveDate::MAX - Duration::days(6), NaiveDate::MIN] {
            let start = start.format("%Y-%m-%d").to_string();
            assert!(NaiveDate::parse_from_str(&start, "%Y-%m-%d").is_ok(), "{start}");
            let edge = json!({"pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
                "range": {"type": "noEnd", "startDate": start}});
            let _ = occurrence_dates(&edge, NaiveDate::MAX);
        }
    }

    #[test]
    fn events_keep_their_zone_and_what_outlook_says_of_them() {
        let g = json!({"id": "e1", "iCalUId": "u1", "subject": "Plan", "isAllDay": false,
            "start": {"dateTime": "2025-03-03T08:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2025-03-03T09:30:00.0000000", "timeZone": "UTC"},
            "originalStartTimeZone": "W. Europe Standard Time", "originalEndTimeZone": "W. Europe Standard Time",
            "showAs": "free", "sensitivity": "private", "isReminderOn": true, "reminderMinutesBeforeStart": 10,
            "body": {"contentType": "html", "content": "<p>Bring &amp; share</p>"}, "importance": "high",
            "attendees": [{"type": "optional", "status": {"response": "accepted"}, "emailAddress": {"name": "B", "address": "b@example.org"}}],
            "organizer": {"emailAddress": {"name": "dave", "address": "dave@example.com"}}});
        let (p, extra) = part_of(&g, "u1").unwrap();
        assert_eq!(
            p.event.start.as_ref().map(|s| (s.value.as_str(), s.tzid.as_deref())),
            Some(("2025-03-03T09:00:00", Some("Europe/Berlin")))
        );
        assert_eq!(p.event.end.as_ref().map(|s| s.value.as_str()), Some("2025-03-03T10:30:00"));
        assert!(p.transparent && p.class.as_deref() == Some("PRIVATE"));
        assert_eq!(p.event.alarms[0].trigger, "-PT10M");
        assert_eq!(p.event.description.as_deref(), Some("Bring & share"));
        assert_eq!(p.event.attendees[0].role.as_deref(), Some("OPT-PARTICIPANT"));
        assert!(extra.iter().any(|x| x.starts_with("X-ALT-DESC")) && extra.contains(&"X-MS-IMPORTANCE:high".to_owned()), "{extra:?}");
        let odd = json!({"start": {"dateTime": "2025-03-03T08:00:00", "timeZone": "UTC"}, "originalStartTimeZone": "Customized Time Zone"});
        assert_eq!(part_of(&odd, "x").unwrap().0.event.start.unwrap().value, "2025-03-03T08:00:00Z", "an unknown zone stays UTC");
        assert!(part_of(&json!({"start": "soon"}), "x").is_err());
    }
}
