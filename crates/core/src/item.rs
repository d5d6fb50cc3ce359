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
    /// Further content streams: a note's or a post's attached files.
    pub attachments: Vec<Attachment>,
    /// Other items this one points at: a reply's parent, a playlist's tracks, a post's media.
    pub references: Vec<Reference>,
    /// What the source could not give as it holds it (a Google document exported as
    /// DOCX): fidelity warnings reported with the item wherever it goes.
    pub source_warnings: Vec<String>,
}

/// A named content stream that belongs to an item.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The file name it had (made safe where it is written).
    pub name: String,
    pub content: Content,
}

/// A pointer from one item to another, by the other's id in the same source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Reference {
    /// What the other item is to this one: `reply_to`, `track`, `media`, `attachment`.
    pub rel: String,
    pub vertical: Vertical,
    pub id: String,
}

/// An item's standard form (see [`Item::standard`]) and what it could not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Standard {
    pub text: String,
    /// Fidelity warnings, each naming the property.
    pub warnings: Vec<String>,
}

impl Item {
    /// An item of a record and the standard form it was read as (a vCard, a VTODO), with
    /// no content: what a service API gives.
    pub fn of_record(id: &str, container: &str, version: &str, record: Record, media_type: &str, original: String) -> Item {
        Item {
            id: id.to_owned(),
            container: container.to_owned(),
            version: version.to_owned(),
            record,
            original: Some(Original { media_type: media_type.to_owned(), bytes: original.into() }),
            content: None,
            standard: None,
            attachments: vec![],
            references: vec![],
            source_warnings: vec![],
        }
    }

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

/// The record itself, tagged by its type (`{"type": "contact", ...}`). The first wave's
/// records are typed here; a vertical added since keeps its typed record in its own
/// module and travels here as [`OtherRecord`].
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Contact(Contact),
    Event(Event),
    Task(Task),
    Mail(MailMessage),
    Media(MediaItem),
    File(FileEntry),
    Other(OtherRecord),
}

/// A record of a vertical declared after the first wave, as JSON: `type` (its record
/// type), `vertical`, and its module's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherRecord {
    pub vertical: Vertical,
    pub record_type: String,
    /// The fields, without `type` and `vertical`.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl OtherRecord {
    /// From a module's typed record (which serializes to a JSON object).
    pub fn new<T: Serialize>(vertical: Vertical, record_type: &str, value: &T) -> Result<OtherRecord, String> {
        match serde_json::to_value(value).map_err(|e| e.to_string())? {
            serde_json::Value::Object(mut fields) => {
                fields.remove("type");
                fields.remove("vertical");
                Ok(OtherRecord { vertical, record_type: record_type.to_owned(), fields })
            }
            _ => Err(format!("a {vertical} record is not a JSON object")),
        }
    }

    /// Back to the module's typed record.
    pub fn typed<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_value(serde_json::Value::Object(self.fields.clone()))
            .map_err(|e| format!("not a valid {} record: {e}", self.vertical))
    }
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
            Record::Other(o) => o.vertical,
        }
    }
}

/// The first wave's records as JSON knows them (tag `type`).
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FirstWave {
    Contact(Contact),
    Event(Event),
    Task(Task),
    Mail(MailMessage),
    Media(MediaItem),
    File(FileEntry),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FirstWaveRef<'a> {
    Contact(&'a Contact),
    Event(&'a Event),
    Task(&'a Task),
    Mail(&'a MailMessage),
    Media(&'a MediaItem),
    File(&'a FileEntry),
}

const FIRST_WAVE_TYPES: [&str; 6] = ["contact", "event", "task", "mail", "media", "file"];

impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Record::Contact(r) => FirstWaveRef::Contact(r).serialize(s),
            Record::Event(r) => FirstWaveRef::Event(r).serialize(s),
            Record::Task(r) => FirstWaveRef::Task(r).serialize(s),
            Record::Mail(r) => FirstWaveRef::Mail(r).serialize(s),
            Record::Media(r) => FirstWaveRef::Media(r).serialize(s),
            Record::File(r) => FirstWaveRef::File(r).serialize(s),
            Record::Other(o) => {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(o.fields.len() + 2))?;
                m.serialize_entry("type", &o.record_type)?;
                m.serialize_entry("vertical", &o.vertical)?;
                for (k, v) in &o.fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let serde_json::Value::Object(mut fields) = serde_json::Value::deserialize(d)? else {
            return Err(D::Error::custom("a record is a JSON object"));
        };
        let record_type = match fields.get("type") {
            Some(serde_json::Value::String(t)) => t.clone(),
            _ => return Err(D::Error::custom("a record needs a `type`")),
        };
        if FIRST_WAVE_TYPES.contains(&record_type.as_str()) {
            return Ok(match serde_json::from_value(serde_json::Value::Object(fields)).map_err(D::Error::custom)? {
                FirstWave::Contact(r) => Record::Contact(r),
                FirstWave::Event(r) => Record::Event(r),
                FirstWave::Task(r) => Record::Task(r),
                FirstWave::Mail(r) => Record::Mail(r),
                FirstWave::Media(r) => Record::Media(r),
                FirstWave::File(r) => Record::File(r),
            });
        }
        fields.remove("type");
        let vertical = match fields.remove("vertical") {
            Some(serde_json::Value::String(v)) => v.parse().map_err(D::Error::custom)?,
            _ => return Err(D::Error::custom(format!("a `{record_type}` record needs its `vertical`"))),
        };
        Ok(Record::Other(OtherRecord { vertical, record_type, fields }))
    }
}

impl JsonSchema for Record {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Record".into()
    }

    /// The first wave's records; a later vertical's record is described by its own
    /// schema (`schemas/<vertical>.schema.json`), and carries `type` and `vertical`.
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let known = g.subschema_for::<FirstWave>();
        schemars::json_schema!({
            "anyOf": [
                known,
                { "type": "object", "required": ["type", "vertical"],
                  "properties": { "type": { "type": "string" }, "vertical": { "type": "string" } } }
            ]
        })
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
