use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `manifest.json`: what the package is and every file in it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Manifest {
    /// Always `ferry-package`.
    pub format: String,
    /// Format version; readers refuse versions newer than they know.
    pub version: u32,
    pub created: DateTime<Utc>,
    /// Program that wrote the package (`ferry 0.1.0`).
    pub generator: String,
    /// Where the data came from (a connector URI, credentials removed).
    pub source: String,
    /// The ferry job that wrote the package (absent in packages from older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Item counts per vertical.
    pub verticals: BTreeMap<String, VerticalSummary>,
    /// Every file in the package except `manifest.json` itself.
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct VerticalSummary {
    pub items: u64,
    /// Address books, calendars, task lists, folders, albums or directories.
    pub containers: Vec<String>,
    /// The JSON Lines file of canonical records.
    pub records: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub media_type: String,
    pub sha256: String,
}
