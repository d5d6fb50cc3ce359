use crate::Settings;
use crate::service::ServiceAddress;
use ferry_core::{ConnectorError, Endpoint};

/// `google://[ACCOUNT][?api=URL]`: see [`ServiceAddress`].
#[derive(Debug, Clone)]
pub struct GoogleConfig(pub ServiceAddress);

pub const PEOPLE: &str = "https://people.googleapis.com";
pub const CONTACTS_READ: &str = "https://www.googleapis.com/auth/contacts.readonly";
pub const CONTACTS: &str = "https://www.googleapis.com/auth/contacts";
pub const TASKS_API: &str = "https://tasks.googleapis.com";
pub const TASKS_READ: &str = "https://www.googleapis.com/auth/tasks.readonly";
pub const TASKS: &str = "https://www.googleapis.com/auth/tasks";
pub const CALENDAR_API: &str = "https://www.googleapis.com";
pub const CALENDAR_READ: &str = "https://www.googleapis.com/auth/calendar.readonly";
pub const CALENDAR: &str = "https://www.googleapis.com/auth/calendar";
/// Events only: enough to read or write the events of calendars that exist.
pub const CALENDAR_EVENTS: &str = "https://www.googleapis.com/auth/calendar.events";
pub const CALENDAR_EVENTS_READ: &str = "https://www.googleapis.com/auth/calendar.events.readonly";
pub const GMAIL_API: &str = "https://gmail.googleapis.com";
/// Everything in the mailbox (Gmail's "full access" scope).
pub const MAIL: &str = "https://mail.google.com/";
pub const GMAIL_READ: &str = "https://www.googleapis.com/auth/gmail.readonly";
pub const GMAIL_MODIFY: &str = "https://www.googleapis.com/auth/gmail.modify";
pub const GMAIL_INSERT: &str = "https://www.googleapis.com/auth/gmail.insert";
pub const GMAIL_LABELS: &str = "https://www.googleapis.com/auth/gmail.labels";
pub const DRIVE_API: &str = "https://www.googleapis.com";
pub const DRIVE: &str = "https://www.googleapis.com/auth/drive";
pub const DRIVE_READ: &str = "https://www.googleapis.com/auth/drive.readonly";
/// Only the files the app made (or was given).
pub const DRIVE_FILE: &str = "https://www.googleapis.com/auth/drive.file";

pub const PHOTOS_API: &str = "https://photoslibrary.googleapis.com";
/// Upload media and make albums (no reading).
pub const PHOTOS_APPEND: &str = "https://www.googleapis.com/auth/photoslibrary.appendonly";
/// Read the albums and media items the app made (since 31 March 2025 the only reading there is).
pub const PHOTOS_READ_APP: &str = "https://www.googleapis.com/auth/photoslibrary.readonly.appcreateddata";
pub const PHOTOS_EDIT_APP: &str = "https://www.googleapis.com/auth/photoslibrary.edit.appcreateddata";

impl GoogleConfig {
    pub fn from_endpoint(e: &Endpoint, settings: &Settings) -> Result<Self, ConnectorError> {
        Ok(GoogleConfig(ServiceAddress::parse(e, settings, "Google")?))
    }

    /// The URL of `path` on the People API.
    pub fn people(&self, path: &str) -> String {
        format!("{}{path}", self.0.api.as_deref().unwrap_or(PEOPLE))
    }

    /// The URL of `path` on the Tasks API.
    pub fn tasks(&self, path: &str) -> String {
        format!("{}{path}", self.0.api.as_deref().unwrap_or(TASKS_API))
    }

    /// The URL of `path` on the Calendar API.
    pub fn calendar(&self, path: &str) -> String {
        format!("{}{path}", self.0.api.as_deref().unwrap_or(CALENDAR_API))
    }

    /// The URL of `path` on the Gmail API (`/gmail/v1/...`, `/upload/gmail/v1/...`).
    pub fn gmail(&self, path: &str) -> String {
        format!("{}{path}", self.0.api.as_deref().unwrap_or(GMAIL_API))
    }

    /// The URL of `path` on the Drive API (`/drive/v3/...`, `/upload/drive/v3/...`).
    pub fn drive(&self, path: &str) -> String {
        format!("{}{path}", self.0.api.as_deref().unwrap_or(DRIVE_API))
    }

    /// The URL of `path` on the Photos Library API (`/v1/...`).
    pub fn photos(&self, path: &str) -> String {
        format!("{}{path}", self.0.api.as_deref().unwrap_or(PHOTOS_API))
    }

    pub fn require(&self, needed: &[&str], what: &str) -> Result<(), ConnectorError> {
        self.0.require(needed, what)
    }
}
