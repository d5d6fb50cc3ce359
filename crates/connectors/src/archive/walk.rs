//! The one pass over an archive: each rule of its layout, in order, takes the files it
//! matches that no earlier rule took and hands them to its reader; then every file left
//! is listed as not understood. What a reader claims beside the files its rule gave it
//! (a photo's sidecar, a post's media) is claimed through [`Walk::claim`].

use super::file_set::FileSet;
use super::fs::ArchiveFs;
use super::glob;
use super::layouts::{Layout, Reader};
use crate::pager::Emit;
use ferry_codecs::media::file_media_type;
use ferry_core::model::FileEntry;
use ferry_core::{ConnectorError, Item, ItemError, Record, Vertical};
use std::sync::Arc;

pub struct Walk<'a> {
    pub fs: Arc<ArchiveFs>,
    pub layout: &'static Layout,
    pub verticals: Vec<Vertical>,
    emit: &'a mut Emit,
    claimed: FileSet,
    /// False once nobody listens: every reader stops.
    pub open: bool,
}

/// An item's failure, at `location`.
pub fn fail(vertical: Vertical, id: &str, location: &str, reason: impl Into<String>) -> ItemError {
    ItemError { skipped: false, vertical, id: id.to_owned(), location: location.to_owned(), reason: reason.into() }
}

impl<'a> Walk<'a> {
    pub fn new(fs: Arc<ArchiveFs>, layout: &'static Layout, verticals: Vec<Vertical>, emit: &'a mut Emit) -> Self {
        let claimed = FileSet::for_files(fs.entries.len());
        Walk { fs, layout, verticals, emit, claimed, open: true }
    }

    pub fn wants(&self, v: Vertical) -> bool {
        self.verticals.contains(&v)
    }

    /// Hands an item (or a failure) on; false once nobody listens.
    pub fn send(&mut self, item: Result<Item, ItemError>) -> bool {
        if self.open && !self.emit.emit(item) {
            self.open = false;
        }
        self.open
    }

    /// Marks a file as read by a reader, so it is not listed as not understood.
    pub fn claim(&mut self, path: &str) {
        self.set_claimed(path, true);
    }

    pub fn is_claimed(&self, path: &str) -> bool {
        self.fs.entries.position(path).is_some_and(|i| self.claimed.contains(i))
    }

    fn set_claimed(&mut self, path: &str, to: bool) {
        if let Some(i) = self.fs.entries.position(path) {
            self.claimed.set(i, to);
        }
    }

    /// Gives back a file its rule handed over but the reader does not understand: it is
    /// listed as not understood, unless a later rule takes it.
    pub fn unclaim(&mut self, path: &str) {
        self.set_claimed(path, false);
    }

    /// Runs every rule of the layout, then lists what is left.
    /// A rule's files go to `read` as a set of numbers (a bit each: a rule may take most
    /// of a Takeout's half a million files).
    pub fn run(mut self, read: impl Fn(&mut Walk, Reader, FileSet)) -> Result<(), ConnectorError> {
        for (path, size, part) in self.fs.repeated.clone() {
            let reason = format!("the same path again in part {} of the archive ({size} bytes): the first part's copy is read", part + 1);
            let go_on = self.skipped(&path, reason);
            if !go_on {
                return Ok(());
            }
        }
        for rule in self.layout.rules {
            let pattern = glob::Glob::new(rule.pattern);
            let mut files = FileSet::for_files(self.fs.entries.len());
            for (i, p) in self.fs.entries.keys().enumerate() {
                if !self.claimed.contains(i) && pattern.matches(&p) {
                    self.claimed.set(i, true);
                    files.set(i, true);
                }
            }
            if files.is_empty() {
                continue;
            }
            read(&mut self, rule.reader, files);
            if !self.open {
                return Ok(());
            }
        }
        let fs = self.fs.clone();
        for (i, (path, e)) in fs.entries.iter().enumerate() {
            if self.claimed.contains(i) {
                continue;
            }
            let size = e.size();
            let why = format!(
                "not understood: no rule of the {} ({}) layout reads this file ({size} bytes)",
                self.layout.platform, self.layout.variant
            );
            if !self.keep_file(&path, why) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Lists a file that is not an item (one that repeats another file): a skipped entry
    /// of the files vertical, with why.
    pub fn skipped(&mut self, path: &str, reason: String) -> bool {
        self.send(Err(ItemError { skipped: true, vertical: Vertical::Files, id: path.to_owned(), location: path.to_owned(), reason }))
    }

    /// A file kept as it is (the files vertical), with `why` as its warning; when the
    /// files vertical is not asked for, listed as skipped with `why`.
    pub fn keep_file(&mut self, path: &str, why: String) -> bool {
        if !self.wants(Vertical::Files) {
            return self.skipped(path, format!("{why}; not kept, since the files vertical is not asked for"));
        }
        let item = self.file_item(path).map(|mut i| {
            i.source_warnings.push(why);
            i
        });
        self.send(Ok(item.expect("listed files exist")))
    }

    /// A file of the archive as an item of the files vertical, in its folder.
    pub fn file_item(&self, path: &str) -> Option<Item> {
        let e = self.fs.entries.get(path)?;
        let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
        Some(Item {
            id: path.to_owned(),
            container: folder.to_owned(),
            version: format!("{}-{}", e.size(), e.crc32().map(|c| format!("{c:08x}")).unwrap_or_default()),
            record: Record::File(FileEntry { name: name.to_owned(), modified: None, mode: None }),
            original: None,
            content: Some(self.fs.content(path, file_media_type(name))),
            standard: None,
            attachments: vec![],
            references: vec![],
            source_warnings: vec![],
        })
    }
}
