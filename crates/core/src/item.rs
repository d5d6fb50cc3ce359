use crate::content::{Content, sha256_hex};
use crate::model::{Contact, Event, FileEntry, MailMessage, MediaItem, Task};
use crate::vertical::Vertical;
use base64::Engine;
use bytes::Bytes;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One record of a vertical, as it travels from exporter to importer.
#[derive(Debug, Clone)]
pub struct Item {
    /// Stable id within the source: the same record has the same id on every export.
    pub id: String,
    /// Address book, calendar, task list, mail folder, album or directory, as a
    /// `/`-separated path; empty for the default container.
    pub container: String,
    /// Changes whenever the record changes (a hash, an ETag, size and time).
    pub version: String,
    pub record: Record,
    /// The standard-format representation the source gave (a vCard, an iCalendar object),
    /// byte for byte, so that what the model does not cover is not lost.
    pub original: Option<Original>,
    /// The bytes of a message, photo or file.
    pub content: Option<Content>,
    /// The item in its vertical's standard format as a package holds it, where the
    /// exporter made it while parsing the original (a contact's vCard 4.0): a package
    /// then does not convert the original again.
    pub standard: Option<Standard>,
}

/// An item's standard form (see [`Item::standard`]) and what it could not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Standard {
    pub text: String,
    /// Fidelity warnings, each naming the property.
    pub warnings: Vec<String>,
}

impl Item {
    pub fn vertical(&self) -> Vertical {
        self.record.vertical()
    }

    /// SHA-256 of what identifies the item's data: the content when there is one (if
    /// already known), else the original.
    pub fn known_sha256(&self) -> Option<String> {
        match (&self.content, &self.original) {
            (Some(c), _) => c.sha256.clone(),
            (None, Some(o)) => Some(sha256_hex(&o.bytes)),
            (None, None) => None,
        }
    }
}

/// The record itself, tagged by vertical.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Contact(Contact),
    Event(Event),
    Task(Task),
    Mail(MailMessage),
    Media(MediaItem),
    File(FileEntry),
}

impl Record {
    pub fn vertical(&self) -> Vertical {
        match self {
            Record::Contact(_) => Vertical::Contacts,
            Record::Event(_) => Vertical::Calendar,
            Record::Task(_) => Vertical::Tasks,
            Record::Mail(_) => Vertical::Mail,
            Record::Media(_) => Vertical::Media,
            Record::File(_) => Vertical::Files,
        }
    }
}

/// Original bytes with their media type (`text/vcard`, `text/calendar`).
#[derive(Debug, Clone, PartialEq)]
pub struct Original {
    pub media_type: String,
    pub bytes: Bytes,
}

/// How an original is written in JSON: as text when it is UTF-8, else as base64.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OriginalJson {
    pub media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

impl From<&Original> for OriginalJson {
    fn from(o: &Original) -> Self {
        match std::str::from_utf8(&o.bytes) {
            Ok(t) => OriginalJson { media_type: o.media_type.clone(), text: Some(t.to_owned()), base64: None },
            Err(_) => OriginalJson {
                media_type: o.media_type.clone(),
                text: None,
                base64: Some(base64::engine::general_purpose::STANDARD.encode(&o.bytes)),
            },
        }
    }
}

impl TryFrom<OriginalJson> for Original {
    type Error = String;
    fn try_from(j: OriginalJson) -> Result<Self, String> {
        let bytes = match (j.text, j.base64) {
            (Some(t), None) => Bytes::from(t),
            (None, Some(b)) => {
                Bytes::from(base64::engine::general_purpose::STANDARD.decode(b).map_err(|e| format!("original is not valid base64: {e}"))?)
            }
            _ => return Err("original needs exactly one of `text` and `base64`".into()),
        };
        Ok(Original { media_type: j.media_type, bytes })
    }
}
