//! What a reader of a platform's or a standard file hands on: one record, ready to travel.

use ferry_core::content::sha256_hex;
use ferry_core::{Item, OtherRecord, Record, Reference, Vertical};
use serde::Serialize;

/// A vertical's typed record.
pub trait Typed: Serialize {
    const VERTICAL: Vertical;
    /// The `type` of its records in JSON.
    const RECORD_TYPE: &'static str;

    /// The other items of the same source this record points at.
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }
}

/// One record a reader found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<T> {
    /// Stable id within the source: the format's own id where it has one, else a hash of
    /// what identifies the record. The same input gives the same ids on every run.
    pub id: String,
    /// Container path (`/`-separated); "" for none.
    pub container: String,
    pub record: T,
    /// Files of the source this record attaches, by the path the format gives, without a
    /// leading `/` (a workout's `workout-routes/route_2024-01-02_8.00am.gpx`): the
    /// connector resolves them and attaches them (or warns they are missing).
    pub files: Vec<String>,
    /// What the reader met and could not keep: the item's source warnings.
    pub warnings: Vec<String>,
}

impl<T: Typed> Found<T> {
    /// The item: its record as `Record::Other`, its version the SHA-256 of the record's JSON.
    pub fn into_item(self) -> Item {
        let references = self.record.references();
        let record = OtherRecord::new(T::VERTICAL, T::RECORD_TYPE, &self.record).expect("a vertical's record is a JSON object");
        let record = Record::Other(record);
        let version = sha256_hex(&serde_json::to_vec(&record).expect("a record is JSON"));
        Item {
            id: self.id,
            container: self.container,
            version,
            record,
            original: None,
            content: None,
            standard: None,
            attachments: vec![],
            references,
            source_warnings: self.warnings,
        }
    }
}

/// A stable id from what identifies a record: the first 128 bits of a SHA-256, in hex.
pub fn hash_id(parts: &[&str]) -> String {
    let mut joined = Vec::new();
    for p in parts {
        joined.extend_from_slice(p.as_bytes());
        joined.push(0);
    }
    sha256_hex(&joined)[..32].to_owned()
}
