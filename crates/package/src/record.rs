//! The canonical record: one JSON object per line in `<vertical>/*.jsonl`.

use ferry_core::item::OriginalJson;
use ferry_core::{Item, Original, Record};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PackageRecord {
    /// The item's id in the source.
    pub id: String,
    /// Address book, calendar, list, folder, album or directory (`/`-separated).
    pub container: String,
    /// The source's version of the item (hash, ETag, size and time).
    pub version: String,
    pub record: Record,
    /// The standard-format original (vCard, iCalendar), byte for byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<OriginalJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentRef>,
    /// Other items this one points at (a reply's parent, a playlist's tracks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<ferry_core::Reference>,
    /// The item's further content streams (a note's attached files), each a file of the
    /// package.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached: Vec<AttachedRef>,
}

/// One attached file of an item.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct AttachedRef {
    /// Its file name where it came from.
    pub name: String,
    pub content: ContentRef,
}

/// Where an item's content is in the package.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct ContentRef {
    /// File in the package (a photo, a file, or the mbox holding the message).
    pub path: String,
    /// For a message: its position in the mbox, from 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    pub size: u64,
    pub sha256: String,
    pub media_type: String,
}

impl PackageRecord {
    pub fn from_item(item: &Item, content: Option<ContentRef>) -> Self {
        PackageRecord {
            id: item.id.clone(),
            container: item.container.clone(),
            version: item.version.clone(),
            record: item.record.clone(),
            original: item.original.as_ref().map(OriginalJson::from),
            content,
            references: item.references.clone(),
            attached: Vec::new(),
        }
    }

    pub fn original(&self) -> Result<Option<Original>, String> {
        self.original.clone().map(Original::try_from).transpose()
    }
}

/// JSON Schemas of what a package holds, by file name under `schemas/`.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    let mut out = vec![
        ("manifest.schema.json", serde_json::to_value(schemars::schema_for!(crate::Manifest)).unwrap()),
        ("record.schema.json", serde_json::to_value(schemars::schema_for!(PackageRecord)).unwrap()),
    ];
    // each vertical's record, as its module declares it (`contact.schema.json`)
    for def in ferry_verticals::all() {
        let name: &'static str = Box::leak(format!("{}.schema.json", def.record_type).into_boxed_str());
        out.push((name, (def.schema)()));
    }
    for (name, schema) in &mut out {
        if let Some(obj) = schema.as_object_mut() {
            obj.insert("$id".into(), format!("https://ferry.dev/schemas/package/v{}/{name}", crate::FORMAT_VERSION).into());
        }
    }
    out
}
