use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

/// `manifest.json`: what the package is and every file in it.
// `F`: the writer lists the files from a `FileList`; a reader holds them in a `Vec`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Manifest<F = Vec<FileEntry>> {
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
    pub files: F,
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

/// The files a package writer has written, one JSON line each in a scratch file (ferry's
/// own, created exclusively and unlinked at once): a package of a large archive lists
/// hundreds of thousands, and the list is read once, into `manifest.json`.
pub(crate) struct FileList {
    out: BufWriter<File>,
}

impl FileList {
    /// A list kept in `scratch`, which must not exist yet.
    pub fn new(scratch: &Path) -> Result<FileList, crate::PackageError> {
        let shown = || format!("cannot create {}", scratch.display());
        let file = crate::staging::create_new_private(scratch).map_err(|e| crate::PackageError::io(shown(), e))?;
        std::fs::remove_file(scratch).map_err(|e| crate::PackageError::io(shown(), e))?;
        Ok(FileList { out: BufWriter::with_capacity(64 << 10, file) })
    }

    pub fn push(&mut self, entry: &FileEntry) -> Result<(), crate::PackageError> {
        let mut line = serde_json::to_vec(entry).expect("a file entry is JSON");
        line.push(b'\n');
        self.out.write_all(&line).map_err(|e| crate::PackageError::io("listing the package's files", e))
    }

    /// Adds what `other` lists after what this one does.
    pub fn append(&mut self, other: FileList) -> Result<(), crate::PackageError> {
        let err = |e| crate::PackageError::io("listing the package's files", e);
        let mut from = other.out.into_inner().map_err(|e| err(e.into_error()))?;
        from.seek(SeekFrom::Start(0)).map_err(err)?;
        io::copy(&mut from, &mut self.out).map_err(err)?;
        Ok(())
    }

    /// The list, to be serialized once as the manifest's `files`.
    pub fn finish(self) -> Result<ListedFiles, crate::PackageError> {
        let err = |e| crate::PackageError::io("listing the package's files", e);
        let mut file = self.out.into_inner().map_err(|e| err(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(err)?;
        Ok(ListedFiles(std::cell::RefCell::new(Some(file))))
    }
}

/// A [`FileList`] read back as a JSON array while the manifest is serialized (once).
pub(crate) struct ListedFiles(std::cell::RefCell<Option<File>>);

impl Serialize for ListedFiles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let file = self.0.borrow_mut().take().ok_or_else(|| S::Error::custom("the file list is read once"))?;
        let mut seq = s.serialize_seq(None)?;
        for line in BufReader::with_capacity(64 << 10, file).lines() {
            let line = line.map_err(S::Error::custom)?;
            let entry: FileEntry = serde_json::from_str(&line).map_err(S::Error::custom)?;
            seq.serialize_element(&entry)?;
        }
        seq.end()
    }
}
