//! `web`: what a browser keeps. One record type, `web`, of two kinds: a `bookmark` (its
//! URL, title, the folders it is in, when it was added and changed, its place in its
//! folder, its icon and the other attributes a bookmark file gives) and a history `visit`
//! (its URL, title, time, page transition, the syncing client's id, the page's favicon).
//! Each bookmark is one item, each visit is one item. A bookmark's container is its folder
//! path (`Bookmarks bar/Work`); a visit's is the history it was read from (`History`).
//!
//! Its standard file is the Netscape bookmark file (`<!DOCTYPE NETSCAPE-Bookmark-file-1>`),
//! which every browser imports ([`netscape`]). In a package, each folder is one such file,
//! `web/CONTAINER.html`, its bookmarks in their order inside the folder's own path of
//! `<H3>` folders (a browser importing it makes the same folders); visits are in no
//! bookmark file but in `web/history.csv` and the records. In a folder (`dir:`), each item
//! is a bookmark file of its own under `web/CONTAINER/`. Readers: Google Takeout's Chrome
//! files ([`chrome`]).

pub mod chrome;
pub mod netscape;
#[cfg(test)]
mod tests;

use crate::def::{Codec, Def, DirFile, Frame, Per, StandardForm, Table};
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use ferry_core::content::sha256_hex;
use ferry_core::{Item, ItemError, Original, OtherRecord, Record, Standard, Vertical};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use chrome::{read_chrome_bookmarks, read_chrome_history, read_chrome_reading_list};

pub const WEB: Vertical = Vertical::new("web");

/// The Netscape bookmark file is HTML.
pub const MEDIA_TYPE: &str = "text/html";

pub const DEF: Def = Def {
    vertical: WEB,
    record_type: "web",
    schema: || serde_json::to_value(schemars::schema_for!(Web)).expect("a schema is JSON"),
    records_path: "web/web.jsonl",
    standard: Some(StandardForm { media_type: MEDIA_TYPE, extension: "html", per: Per::Framed(&FOLDER) }),
    recognises,
    codec: Some(Codec { write, read }),
    tables: &TABLES,
    item_files: &[],
};

/// What an item is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A bookmark (a reading list's entry too, in its `Reading list` container).
    #[default]
    Bookmark,
    /// One visit of the browser's history.
    Visit,
}

/// A bookmark or a visit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Web {
    pub kind: Kind,
    /// The address, as the browser gave it.
    pub url: String,
    /// The bookmark's name, or the visited page's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A bookmark's folders, outermost first, with their attributes as the bookmark file
    /// gave them (`ADD_DATE`, `LAST_MODIFIED`, `PERSONAL_TOOLBAR_FOLDER`). The item's
    /// container is their titles joined by `/` (a `/` in a title becomes `∕`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<Folder>,
    /// When the bookmark was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<DateTime<Utc>>,
    /// When the bookmark was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<DateTime<Utc>>,
    /// A bookmark's place among the bookmarks and folders of its folder, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// A bookmark's description (a bookmark file's `<DD>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the page was visited (to the microsecond).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visited: Option<DateTime<Utc>>,
    /// How the browser came to the page, as Chrome names it (`LINK`, `TYPED`,
    /// `AUTO_BOOKMARK`, `RELOAD`, with qualifiers where given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<String>,
    /// Which synced browser made the visit (Chrome's `client_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The page's icon's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favicon_url: Option<String>,
    /// What the source gave that has no field above, by its own name, as written: a
    /// bookmark's other attributes (`ICON`, a data URI; `ICON_URI`, `LAST_VISIT`,
    /// `SHORTCUTURL`, `TAGS`), a visit's other fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// One folder of a bookmark's path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Folder {
    pub title: String,
    /// Its attributes as the bookmark file gave them, by name (`ADD_DATE`, `LAST_MODIFIED`,
    /// `PERSONAL_TOOLBAR_FOLDER`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// One record a web reader found.
pub type Found = crate::found::Found<Web>;

impl crate::found::Typed for Web {
    const VERTICAL: Vertical = WEB;
    const RECORD_TYPE: &'static str = "web";
}

impl Web {
    pub fn of(item: &Item) -> Result<Web, String> {
        match &item.record {
            Record::Other(r) if r.vertical == WEB => r.typed(),
            _ => Err(format!("{} is not a web item", item.id)),
        }
    }

    fn from_record(r: &Record) -> Option<Web> {
        match r {
            Record::Other(o) if o.vertical == WEB => o.typed().ok(),
            _ => None,
        }
    }
}

/// The container a bookmark in these folders is in: their titles joined by `/`, a `/`
/// inside a title written `∕` (U+2215), so that one folder is one level.
pub fn container_of(folders: &[Folder]) -> String {
    folders.iter().map(|f| f.title.replace('/', "\u{2215}")).collect::<Vec<_>>().join("/")
}

/// The container of the visits read from a browser's history.
pub const HISTORY: &str = "History";

fn recognises(f: &DirFile) -> bool {
    f.top() == Some("web") && matches!(f.extension().as_deref(), Some("html" | "htm"))
}

/// The item's bookmark file: the file it was read from, if it was one, else made from its
/// record, with what a browser importing it would not take as fidelity warnings.
fn write(item: &Item) -> Result<Standard, String> {
    if let Some(o) = &item.original
        && o.media_type == MEDIA_TYPE
        && let Ok(text) = std::str::from_utf8(&o.bytes)
    {
        return Ok(Standard { text: text.to_owned(), warnings: vec![] });
    }
    let w = Web::of(item)?;
    // a visit's container is the one folder around it, where ferry reads it back from
    let folders = match w.kind {
        Kind::Bookmark => w.folders.clone(),
        Kind::Visit => {
            item.container.split('/').filter(|c| !c.is_empty()).map(|c| Folder { title: c.into(), options: BTreeMap::new() }).collect()
        }
    };
    let mut out = netscape::head(&folders);
    out.push_str(&netscape::entry(&w));
    out.push_str(&netscape::tail(folders.len()));
    Ok(Standard { text: out, warnings: netscape::losses(&w) })
}

/// The most a folder's bookmark file may hold: one item (with its icon).
const MAX_FILE: usize = 4 << 20;

fn read(id: &str, container: &str, bytes: &[u8]) -> Result<Item, ItemError> {
    let err = |reason: String| ItemError { skipped: false, vertical: WEB, id: id.to_owned(), location: id.to_owned(), reason };
    if bytes.len() > MAX_FILE {
        return Err(err(format!("larger than {MAX_FILE} bytes: not one item's bookmark file")));
    }
    let mut found = Vec::new();
    netscape::read(bytes, &[], &mut |f| {
        found.push(f);
        found.len() <= 1
    })
    .map_err(err)?;
    let mut one = match found.len() {
        0 => return Err(err("a bookmark file without a bookmark".into())),
        1 => found.pop().expect("one").map_err(err)?,
        _ => {
            return Err(err(
                "a bookmark file of more than one bookmark: a folder's web file holds one item (a browser's whole export is read from its archive)"
                    .into(),
            ));
        }
    };
    // the folders the file names, else the folder it lies in
    if one.container.is_empty() {
        one.container = container.to_owned();
    }
    let record = OtherRecord::new(WEB, "web", &one.record).map_err(err)?;
    Ok(Item {
        id: id.to_owned(),
        container: one.container,
        version: sha256_hex(bytes),
        record: Record::Other(record),
        original: Some(Original { media_type: MEDIA_TYPE.into(), bytes: Bytes::copy_from_slice(bytes) }),
        content: None,
        standard: None,
        attachments: vec![],
        references: vec![],
        source_warnings: one.warnings,
    })
}

/// A time as ferry writes it: RFC 3339, UTC, to the microsecond where it has one.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A folder's bookmark file in a package: the folder's path of `<H3>` folders (gathered
/// from its first bookmark), its bookmarks in their order, the closings. A container of
/// visits only has no file.
static FOLDER: Frame = Frame {
    gather: Some(|acc, r| {
        if acc.is_null()
            && let Some(w) = Web::from_record(r).filter(|w| w.kind == Kind::Bookmark)
        {
            *acc = serde_json::to_value(&w.folders).expect("folders are JSON");
        }
    }),
    head: |_, g| netscape::head(&serde_json::from_value::<Vec<Folder>>(g.clone()).unwrap_or_default()),
    part: |_, r| Web::from_record(r).filter(|w| w.kind == Kind::Bookmark).map(|w| netscape::entry(&w)),
    separator: "",
    tail: |_, g| netscape::tail(g.as_array().map_or(0, Vec::len)),
    order: Some(|r| Web::from_record(r).and_then(|w| w.position).map_or(u64::MAX, u64::from)),
};

/// A CSV field, quoted when it must be (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// The history as one CSV file, a visit a row, for spreadsheets and history tools.
static TABLES: [Table; 1] = [Table {
    path: "web/history.csv",
    header: "Time,URL,Title,Transition,Client ID,Favicon URL\n",
    rows: |r| {
        let Some(w) = Web::from_record(r).filter(|w| w.kind == Kind::Visit) else { return vec![] };
        let s = |s: &Option<String>| field(s.as_deref().unwrap_or(""));
        let cells =
            [w.visited.map(rfc3339).unwrap_or_default(), field(&w.url), s(&w.title), s(&w.transition), s(&w.client_id), s(&w.favicon_url)];
        vec![cells.join(",") + "\n"]
    },
    separator: "",
    footer: "",
}];
