//! The standard files of the response package: the rows of a table the dataset map says
//! are of a vertical ([`crate::map::Vertical`]) written, one record per row as the rows
//! stream in, as vCard 4.0 (contacts, RFC 6350) or iCalendar (events, RFC 5545). The
//! records are made by `ferry-codecs` (its vCard and VEVENT writers: escaping of `\`,
//! `,`, `;` and line breaks, folding at 75 octets on character boundaries, CRLF).
//!
//! Only the columns the part delivers feed a record: a left-out column is not in the
//! rows at all and a withheld one is never read, so a field mapped to either is simply
//! absent, as is a field whose value is null or empty.

use crate::extract::TableOut;
use crate::map::{Vertical, VerticalKind};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use ferry_codecs::vevent::{self, EventPart};
use ferry_core::model::{Address, Contact, ContactName, DateOrDateTime, Event, TypedValue};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A table's vertical resolved against the columns the part delivers.
#[derive(Debug, Clone)]
pub struct Fields {
    pub kind: VerticalKind,
    /// Standard field → index of its column in the rows, for delivered (not withheld) columns only.
    pub columns: Vec<(&'static str, usize)>,
    /// Date-times without an offset are UTC.
    pub naive_utc: bool,
    /// `database/table`, for the UIDs made for events without one.
    pub place: String,
}

impl Fields {
    /// The fields of `vertical` that `table`'s rows deliver.
    pub fn new(vertical: &Vertical, table: &TableOut) -> Fields {
        let columns = vertical
            .mapping()
            .into_iter()
            .filter(|(field, _)| vertical.kind.fields().contains(field))
            .filter_map(|(field, column)| {
                let i = table.columns.iter().position(|c| c.name == column && c.withheld.is_none())?;
                Some((field, i))
            })
            .collect();
        Fields { kind: vertical.kind, columns, naive_utc: vertical.naive_utc(), place: format!("{}/{}", table.database, table.table) }
    }

    /// Standard field → column, for the manifest and the schema.
    pub fn described(&self, table: &TableOut) -> Vec<(String, String)> {
        self.columns.iter().map(|(f, i)| (f.to_string(), table.columns[*i].name.clone())).collect()
    }

    fn text(&self, values: &[Value], field: &str) -> Option<String> {
        let (_, i) = self.columns.iter().find(|(f, _)| *f == field)?;
        text(values.get(*i)?)
    }

    fn value<'a>(&self, values: &'a [Value], field: &str) -> Option<&'a Value> {
        let (_, i) = self.columns.iter().find(|(f, _)| *f == field)?;
        values.get(*i).filter(|v| !v.is_null())
    }

    /// The opening of the file (the VCALENDAR's first lines for events).
    pub fn begin(&self) -> String {
        match self.kind {
            VerticalKind::Contacts => String::new(),
            VerticalKind::Events => vevent::calendar_begin(),
        }
    }

    /// The end of the file.
    pub fn end(&self) -> String {
        match self.kind {
            VerticalKind::Contacts => String::new(),
            VerticalKind::Events => vevent::calendar_end(),
        }
    }

    /// One row as a record (a VCARD, a VEVENT); `None` when the row cannot be one: a
    /// contact with no name, email or phone to show, an event without a start that is a
    /// date or a date-time. `stamp` is the events' DTSTAMP, `YYYYMMDDTHHMMSSZ`.
    pub fn record(&self, values: &[Value], stamp: &str) -> Option<String> {
        match self.kind {
            VerticalKind::Contacts => self.vcard(values),
            VerticalKind::Events => self.vevent(values, stamp),
        }
    }

    fn vcard(&self, values: &[Value]) -> Option<String> {
        let get = |f: &str| self.text(values, f);
        let email = get("email");
        let phone = get("phone");
        let organization = get("organization");
        let formatted_name = get("full_name").or_else(|| email.clone()).or_else(|| phone.clone()).or_else(|| organization.clone())?;
        let (family, given) = (get("family_name"), get("given_name"));
        let name = (family.is_some() || given.is_some()).then(|| ContactName {
            family: family.unwrap_or_default(),
            given: given.unwrap_or_default(),
            ..Default::default()
        });
        let address = Address {
            street: get("street").unwrap_or_default(),
            locality: get("locality").unwrap_or_default(),
            region: get("region").unwrap_or_default(),
            postal_code: get("postal_code").unwrap_or_default(),
            country: get("country").unwrap_or_default(),
            ..Default::default()
        };
        let has_address =
            [&address.street, &address.locality, &address.region, &address.postal_code, &address.country].iter().any(|s| !s.is_empty());
        let typed = |v: Option<String>| v.map(|value| TypedValue { value, ..Default::default() }).into_iter().collect();
        let contact = Contact {
            uid: get("uid"),
            formatted_name,
            name,
            emails: typed(email),
            phones: typed(phone),
            addresses: if has_address { vec![address] } else { Vec::new() },
            organization,
            note: get("note"),
            vcard_version: "4.0".into(),
            ..Default::default()
        };
        Some(ferry_codecs::vcard::build_v4(&contact))
    }

    fn vevent(&self, values: &[Value], stamp: &str) -> Option<String> {
        let start = self.value(values, "start").and_then(|v| time(v, self.naive_utc))?;
        let end = self.value(values, "end").and_then(|v| time(v, self.naive_utc)).filter(|end| end.fits_after(&start));
        let uid = self.text(values, "uid").unwrap_or_else(|| {
            // an event needs a UID: one made from the row, the same each time
            let mut h = Sha256::new();
            h.update(self.place.as_bytes());
            for v in values {
                h.update([0]);
                h.update(v.to_string().as_bytes());
            }
            format!("{}@ferry", &hex::encode(h.finalize())[..32])
        });
        let event = Event {
            uid,
            summary: self.text(values, "summary"),
            description: self.text(values, "description"),
            location: self.text(values, "location"),
            start: Some(start.value()),
            end: end.map(|e| e.value()),
            ..Default::default()
        };
        Some(vevent::vevent(&EventPart { event, ..Default::default() }, stamp, &[]))
    }
}

/// A value as text: strings as they are, numbers and booleans written out, null and
/// empty text as nothing, anything else as JSON.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A point in time as iCalendar can hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Time {
    Date(NaiveDate),
    Utc(NaiveDateTime),
    Floating(NaiveDateTime),
}

impl Time {
    fn value(self) -> DateOrDateTime {
        let (value, date_only) = match self {
            Time::Date(d) => (d.format("%Y-%m-%d").to_string(), true),
            Time::Utc(t) => (t.format("%Y-%m-%dT%H:%M:%SZ").to_string(), false),
            Time::Floating(t) => (t.format("%Y-%m-%dT%H:%M:%S").to_string(), false),
        };
        DateOrDateTime { value, tzid: None, date_only }
    }

    /// Whether this can be the DTEND of an event starting at `start`: of the same form,
    /// and later (a date equal to the start date is taken as a one-day event: no DTEND).
    fn fits_after(&self, start: &Time) -> bool {
        match (start, self) {
            (Time::Date(a), Time::Date(b)) => b > a,
            (Time::Utc(a), Time::Utc(b)) | (Time::Floating(a), Time::Floating(b)) => b >= a,
            _ => false,
        }
    }
}

/// A date or date-time column value as iCalendar can hold it: `2025-01-10` a date;
/// with an offset (`2025-01-10T09:00:00+02:00`, `2025-01-10 09:00:00+00`) in UTC;
/// without one (`2025-01-10 09:00:00`, fractions of a second dropped) in UTC when
/// `naive_utc`, else floating. Anything else (a number, a word) is not a time.
pub fn time(v: &Value, naive_utc: bool) -> Option<Time> {
    let s = v.as_str()?.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(Time::Date(d));
    }
    let whole_seconds = |t: NaiveDateTime| t.with_nanosecond_zero();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(Time::Utc(whole_seconds(t.with_timezone(&Utc).naive_utc())));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(Time::Utc(whole_seconds(t.with_timezone(&Utc).naive_utc())));
        }
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            let t = whole_seconds(t);
            return Some(if naive_utc { Time::Utc(t) } else { Time::Floating(t) });
        }
    }
    None
}

trait NoFraction {
    fn with_nanosecond_zero(self) -> Self;
}

impl NoFraction for NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        chrono::Timelike::with_nanosecond(&self, 0).unwrap_or(self)
    }
}

/// A DTSTAMP for `at`.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_of_every_form() {
        let t = |s: &str, utc: bool| time(&json!(s), utc).map(|t| t.value().value);
        assert_eq!(t("2025-01-10", false).as_deref(), Some("2025-01-10"));
        assert_eq!(t("2025-01-10T09:00:00+02:00", false).as_deref(), Some("2025-01-10T07:00:00Z"));
        assert_eq!(t("2025-01-10 09:00:00+00", false).as_deref(), Some("2025-01-10T09:00:00Z"));
        assert_eq!(t("2025-01-10 09:00:00.123456", false).as_deref(), Some("2025-01-10T09:00:00"));
        assert_eq!(t("2025-01-10 09:00:00", true).as_deref(), Some("2025-01-10T09:00:00Z"));
        assert_eq!(t("2025-01-10T09:00:00Z", false).as_deref(), Some("2025-01-10T09:00:00Z"));
        assert_eq!(t("soon", false), None);
        assert_eq!(time(&json!(20250110), false), None);
    }
}
