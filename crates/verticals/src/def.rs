use ferry_core::{Item, ItemError, Standard, Vertical};
use std::path::Path;

/// A vertical's declaration.
#[derive(Clone, Copy)]
pub struct Def {
    pub vertical: Vertical,
    /// The `type` of its records in JSON (`contact`, `note`).
    pub record_type: &'static str,
    /// The JSON Schema of its record (written to `schemas/` and into every package).
    pub schema: fn() -> serde_json::Value,
    /// The package's JSON Lines of its records.
    pub records_path: &'static str,
    /// Its standard format, where it has one (vCard, iCalendar, mbox, Markdown).
    pub standard: Option<StandardForm>,
    /// Whether a `dir:` file is of this vertical (a later vertical's files, such as
    /// Markdown notes, are told apart from plain files this way; the first wave's are
    /// classified by the `dir` connector itself, and say `false` here).
    pub recognises: fn(&DirFile) -> bool,
    /// An item to and from its standard file, for a vertical that has no reader and
    /// writer of its own elsewhere.
    pub codec: Option<Codec>,
    /// CSV files a package also holds, made from the records (the files another service's
    /// import page takes).
    pub tables: &'static [Table],
    /// Further files a package holds per item, beside its standard file (a playlist's
    /// `.m3u8` beside its `.xspf`); only for a vertical whose standard form is per item.
    pub item_files: &'static [ItemFile],
}

/// A further file of one item in a package, made from its record, named as the item's
/// standard file is with its own extension (`Road trip.xspf`, `Road trip.m3u8`). Only a
/// package writes it: a `dir:` folder holds the standard file alone.
#[derive(Clone, Copy)]
pub struct ItemFile {
    pub media_type: &'static str,
    /// File extension, without the dot (not the standard file's own).
    pub extension: &'static str,
    /// The file's text; none for a record it does not take.
    pub write: fn(&ferry_core::Record) -> Option<String>,
}

/// One file of a package made from the records: a CSV file, a row or more per record it
/// takes; for a path ending in `.jsonl`, a JSON Lines file, a JSON object a line; for one
/// ending in `.json`, a JSON document whose rows are an array's elements (an
/// ActivityStreams collection: `header` opens it, `separator` goes between two rows,
/// `footer` closes it). What a record's rows cannot hold of it is said by
/// [`crate::table_losses`].
#[derive(Clone, Copy)]
pub struct Table {
    /// Its path in the package.
    pub path: &'static str,
    /// Its first line (with its line end), or empty for a file without one.
    pub header: &'static str,
    /// The lines (each with its line end) a record gives; none for a record it does not take.
    pub rows: fn(&ferry_core::Record) -> Vec<String>,
    /// Written between two rows (`,\n` in a JSON array); empty for CSV and JSON Lines.
    pub separator: &'static str,
    /// Its last line, or empty.
    pub footer: &'static str,
}

/// How a vertical's standard format is laid out in a package and a folder.
#[derive(Clone, Copy, Debug)]
pub struct StandardForm {
    pub media_type: &'static str,
    /// File extension, without the dot.
    pub extension: &'static str,
    pub per: Per,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Per {
    /// One file holds a container's items (an address book's `.vcf`, a folder's mbox).
    Container,
    /// One file per item (a note's `.md`).
    Item,
    /// In a package, one file per container made by the [`Frame`] from its items' records
    /// (a FHIR Bundle, an account's OFX statement); in a folder, one file per item, made
    /// by the vertical's [`Codec`] (the file of a container of one).
    Framed(&'static Frame),
}

/// How a package makes a container's file from its items' records: the head, each item's
/// part (with the separator between two parts), the tail. What the head and the tail say
/// of the whole container (its period, its currency, its balance) is gathered over its
/// records first, in a pass of its own, into a small JSON value.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Folds one record into what the head and the tail need; `None` when they need
    /// nothing but the container's name (no pass is made then).
    pub gather: Option<fn(&mut serde_json::Value, &ferry_core::Record)>,
    pub head: fn(container: &str, gathered: &serde_json::Value) -> String,
    /// An item's part, from its id and record; `None` for an item the file does not hold
    /// as a part (an account's own record, which the head and the tail hold).
    pub part: fn(id: &str, record: &ferry_core::Record) -> Option<String>,
    pub separator: &'static str,
    pub tail: fn(container: &str, gathered: &serde_json::Value) -> String,
    /// The parts' order within their container (a bookmark's place in its folder), where it
    /// is not the items' package order: the package then holds one container's parts at a
    /// time until its end, and a container none of whose items gives a part has no file.
    pub order: Option<fn(&ferry_core::Record) -> u64>,
}

/// A frame is one declaration of one vertical: the same frame is the same `static`.
impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for Frame {}

/// A file met in a `dir:` source.
pub struct DirFile<'a> {
    /// Relative to the folder read, `/`-separated.
    pub rel: &'a str,
    pub name: &'a str,
    /// Its first bytes (up to 512).
    pub head: &'a [u8],
}

impl DirFile<'_> {
    /// The folder at the top of its path (`notes` for `notes/Work/idea.md`).
    pub fn top(&self) -> Option<&str> {
        self.rel.split_once('/').map(|(t, _)| t)
    }

    pub fn extension(&self) -> Option<String> {
        Path::new(self.name).extension().map(|e| e.to_string_lossy().to_ascii_lowercase())
    }
}

/// A later vertical's item as one standard-format file, both ways.
#[derive(Clone, Copy)]
pub struct Codec {
    /// The item's file: its text, and what the format could not hold (fidelity
    /// warnings). An error fails the item with that reason.
    pub write: fn(&Item) -> Result<Standard, String>,
    /// The item a file holds. `id` and `container` are where the file was found; `bytes`
    /// is the whole file (bounded by the caller).
    pub read: fn(id: &str, container: &str, bytes: &[u8]) -> Result<Item, ItemError>,
}
