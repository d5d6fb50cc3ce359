use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A calendar event (iCalendar VEVENT) with its recurrence overrides: one item per UID,
/// as CalDAV stores it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateOrDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DateOrDateTime>,
    /// ISO 8601 duration, when the event has DURATION instead of an end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// RRULE as written (`FREQ=WEEKLY;BYDAY=MO`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rdates: Vec<DateOrDateTime>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exdates: Vec<DateOrDateTime>,
    /// RECURRENCE-ID of each override that travels with this event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<DateOrDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizer: Option<Attendee>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attendees: Vec<Attendee>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<Alarm>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Time zones the event refers to (TZID values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timezones: Vec<String>,
    /// Properties the model has no field for, by name; kept in the original.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_properties: Vec<String>,
}

/// A date (`2025-01-06`), a floating or UTC date-time (`2025-01-06T09:00:00`,
/// `2025-01-06T09:00:00Z`), with the TZID it is local to, if any.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DateOrDateTime {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tzid: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub date_only: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attendee {
    /// Calendar address, usually `mailto:...`.
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Alarm {
    pub action: String,
    /// TRIGGER as written (`-PT15M`, or a date-time).
    pub trigger: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
