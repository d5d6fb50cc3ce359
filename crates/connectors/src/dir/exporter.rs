use super::config::DirConfig;
use super::layout::{classify, collection_container, container_dirs, needs_head};
use super::safe::{RegularFileSource, not_regular, open_regular, read_bounded};
use crate::pager::{self, Emit};
use crate::standard_files::{MboxItems, calendar_item, card_item, codec_err};
use async_trait::async_trait;
use bytes::Bytes;
use ferry_codecs::Limits;
use ferry_codecs::contacts_csv::CsvContactsReader;
use ferry_codecs::ical::IcsReader;
use ferry_codecs::mail_meta::read_meta;
use ferry_codecs::maildir;
use ferry_codecs::mbox::MboxReader;
use ferry_codecs::media::{Sidecar, file_media_type, media_type, read_exif_bounded};
use ferry_codecs::vcard::{VcardReader, build_v4};
use ferry_core::compact_set::Occurrences;
use ferry_core::content::sha256_hex;
use ferry_core::model::{FileEntry, MediaItem};
use ferry_core::{Attachment, ConnectorError, Content, Exporter, Item, ItemError, Original, PageStream, Record, Stream, Vertical};
use ferry_verticals::{Codec, DirFile};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct DirExporter {
    cfg: DirConfig,
}

impl DirExporter {
    pub fn new(cfg: DirConfig) -> Self {
        DirExporter { cfg }
    }
}

#[async_trait]
impl Exporter for DirExporter {
    /// The tree is walked once for every vertical asked.
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        Ok(Stream::one("tree", verticals, super::CAPABILITIES.exports))
    }

    async fn pages(&self, stream: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        if stream.verticals.is_empty() {
            return Err(ConnectorError::Fatal(format!("dir: stream `{}` holds no vertical", stream.name)));
        }
        let meta = std::fs::metadata(&self.cfg.root)
            .map_err(|e| ConnectorError::Fatal(format!("dir: cannot read {}: {e}", self.cfg.root.display())))?;
        if !meta.is_dir() {
            return Err(ConnectorError::Fatal(format!("dir: {} is not a folder", self.cfg.root.display())));
        }
        let cfg = self.cfg.clone();
        let verticals = stream.verticals.clone();
        Ok(pager::spawn(cursor, move |emit| Walk { cfg, verticals, emit, seen: Occurrences::default(), item_stems: None }.run()))
    }
}

struct Walk<'a> {
    cfg: DirConfig,
    /// The verticals asked for (never empty).
    verticals: Vec<Vertical>,
    emit: &'a mut Emit,
    /// The ids handed out so far, so that two records with one id (a UID used twice)
    /// both go: 8 bytes an item, not the id itself (a walk of a million cards).
    seen: Occurrences<(Vertical, String)>,
    /// The stems of the item files (those a later vertical recognises) of the last folder
    /// that held a `NAME.attachments/` folder: one listing per folder, not one for each
    /// attachments folder in it.
    item_stems: Option<(PathBuf, HashSet<String>)>,
}

/// A fixed-key hash of a vertical's id: the same on every run, so a renamed duplicate
/// keeps its name.
fn id_hash(v: Vertical, id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    v.hash(&mut h);
    id.hash(&mut h);
    h.finish()
}

fn item_err(vertical: Vertical, id: &str, location: impl Into<String>, e: impl ToString) -> ItemError {
    ItemError { skipped: false, vertical, id: id.to_owned(), location: location.into(), reason: e.to_string() }
}

fn rel_str(rel: &Path) -> String {
    rel.to_string_lossy().replace('\\', "/")
}

/// Size and modification time, as the version of a file-backed item.
fn file_version(meta: &std::fs::Metadata) -> String {
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{mtime}", meta.len())
}

impl Walk<'_> {
    fn wants(&self, v: Vertical) -> bool {
        self.verticals.contains(&v)
    }

    /// The vertical asked for that a file of `kind` is read as, and its problems counted
    /// under: an .ics holds events and tasks.
    fn home(&self, kind: Vertical) -> Option<Vertical> {
        if self.wants(kind) {
            Some(kind)
        } else if kind == Vertical::Calendar && self.wants(Vertical::Tasks) {
            Some(Vertical::Tasks)
        } else {
            None
        }
    }

    fn send(&mut self, item: Result<Item, ItemError>) -> bool {
        let item = item.map(|mut i| {
            let n = self.seen.count(id_hash(i.vertical(), &i.id), || (i.vertical(), i.id.clone()));
            if n > 1 {
                i.id = format!("{}~{n}", i.id);
            }
            i
        });
        self.emit.emit(item)
    }

    /// The one walk of the tree: every file is read once, for whichever of the verticals
    /// asked it holds.
    fn run(mut self) -> Result<(), ConnectorError> {
        let root = self.cfg.root.clone();
        // maildirs found so far: their `cur/`, `new/` and `tmp/` are read by `maildir`, and
        // the files beside them are the mail program's own
        let mut maildirs: HashSet<PathBuf> = HashSet::new();
        // in the order the file system lists each folder, read as the walk goes: sorting
        // would hold a whole folder's entries (a million one-card files) in memory. The
        // order is stable while the folder is unchanged, which the cursor needs.
        let mut it = walkdir::WalkDir::new(&root).follow_links(false).into_iter();
        while let Some(entry) = it.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().map(|p| rel_str(p.strip_prefix(&root).unwrap_or(p))).unwrap_or_default();
                    // a folder that cannot be read may hold anything: counted with the files
                    let v = self.verticals.iter().copied().find(|v| *v == Vertical::Files).unwrap_or(self.verticals[0]);
                    if !self.send(Err(item_err(v, &path, &path, format!("cannot read: {e}")))) {
                        return Ok(());
                    }
                    continue;
                }
            };
            let path = entry.path().to_owned();
            let rel = path.strip_prefix(&root).unwrap_or(&path).to_owned();
            let name = entry.file_name().to_string_lossy().into_owned();
            let in_maildir = entry.depth() > 0 && path.parent().is_some_and(|p| maildirs.contains(p));
            let ft = entry.file_type();
            if ft.is_dir() {
                if in_maildir && MAILDIR_OWN_DIRS.contains(&name.as_str()) {
                    it.skip_current_dir();
                } else if self.attachments_of_an_item(&path, &rel) {
                    // read with the item it belongs to
                    it.skip_current_dir();
                } else if maildir::is_maildir(&path) {
                    maildirs.insert(path.clone());
                    if self.wants(Vertical::Mail) && !self.maildir(&path, &rel) {
                        return Ok(());
                    }
                }
                continue;
            }
            if in_maildir && !ft.is_symlink() {
                continue; // a maildir's index, keywords and subscriptions files
            }
            if !ft.is_file() {
                // a link or a special file: reported once, under the vertical it would be in
                let kind = if in_maildir || is_photo_sidecar(&path, &name) {
                    if in_maildir { Vertical::Mail } else { Vertical::Media }
                } else {
                    classify(&name, b"")
                };
                if let Some(v) = self.home(kind)
                    && !self.not_followed(v, &path, &rel)
                {
                    return Ok(());
                }
                continue;
            }
            if name.ends_with(".ferry-tmp") || is_photo_sidecar(&path, &name) {
                continue; // ferry's own unfinished file; a photo's sidecar, read with the photo
            }
            let head = if needs_head(&name) { read_head(&path) } else { Vec::new() };
            // a later vertical's file (a note), as its module recognises it; else the first
            // wave's classification
            let relative = rel_str(&rel);
            let file = DirFile { rel: &relative, name: &name, head: &head };
            let later = ferry_verticals::all().iter().find(|d| d.codec.is_some() && (d.recognises)(&file));
            let kind = later.map_or_else(|| classify(&name, &head), |d| d.vertical);
            if kind == Vertical::Files && self.wants(Vertical::Mail) && maildir::has_info(&name) {
                let id = rel_str(&rel);
                let reason =
                    "named like a maildir message but not in a maildir's cur/ or new/: carried as a file (files vertical), not as mail";
                if !self.send(Err(item_err(Vertical::Mail, &id, &id, reason))) {
                    return Ok(());
                }
            }
            let Some(home) = self.home(kind) else { continue };
            let lower = name.to_ascii_lowercase();
            let go_on = match kind {
                Vertical::Contacts if lower.ends_with(".csv") => self.csv(&path, &rel),
                Vertical::Contacts => self.vcf(&path, &rel),
                Vertical::Calendar | Vertical::Tasks => self.ics(home, &path, &rel),
                Vertical::Mail if lower.ends_with(".eml") => self.eml(&path, &rel),
                Vertical::Mail => self.mbox(&path, &rel),
                Vertical::Media => self.media(&path, &rel, &name),
                Vertical::Files => self.file(&path, &rel, &name),
                _ => match later.and_then(|d| d.codec) {
                    Some(codec) => self.standard_file(home, codec, &path, &rel),
                    None => true,
                },
            };
            if !go_on {
                return Ok(());
            }
        }
        Ok(())
    }

    /// A later vertical's file, read whole (up to the record limit) by its module.
    fn standard_file(&mut self, v: Vertical, codec: Codec, path: &Path, rel: &Path) -> bool {
        let id = rel_str(rel);
        let container = container_dirs(rel, v).join("/");
        let limit = Limits::default().max_record;
        let item = open_regular(path).map_err(|e| item_err(v, &id, &id, format!("cannot open: {e}"))).and_then(|(f, meta)| {
            if meta.len() > limit as u64 {
                return Err(item_err(v, &id, &id, format!("larger than the {limit} byte limit")));
            }
            let mut bytes = Vec::with_capacity(meta.len() as usize);
            f.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(|e| item_err(v, &id, &id, format!("cannot read: {e}")))?;
            if bytes.len() > limit {
                return Err(item_err(v, &id, &id, format!("larger than the {limit} byte limit")));
            }
            (codec.read)(&id, &container, &bytes)
        });
        let item = match item {
            Ok(mut item) => {
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let dir = path.with_file_name(format!("{stem}.attachments"));
                match self.attachments(v, &dir, &rel.with_file_name(format!("{stem}.attachments"))) {
                    Some(a) => {
                        item.attachments = a;
                        Ok(item)
                    }
                    None => return false,
                }
            }
            Err(e) => Err(e),
        };
        self.send(item)
    }

    /// Whether a folder `NAME.attachments` holds the attached files of an item beside it:
    /// a file `NAME.EXT` that a later vertical (one with a codec) recognises.
    fn attachments_of_an_item(&mut self, path: &Path, rel: &Path) -> bool {
        let Some(stem) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".attachments")) else { return false };
        let (Some(parent), Some(rel_parent)) = (path.parent(), rel.parent()) else { return false };
        if self.item_stems.as_ref().is_none_or(|(p, _)| p != parent) {
            self.item_stems = Some((parent.to_owned(), item_stems(parent, rel_parent)));
        }
        self.item_stems.as_ref().is_some_and(|(_, stems)| stems.contains(stem))
    }

    /// The files of an item's `NAME.attachments/` folder, if it has one (in name order);
    /// a link or special file in it is reported. `None` once nobody listens.
    fn attachments(&mut self, v: Vertical, dir: &Path, rel: &Path) -> Option<Vec<Attachment>> {
        let mut out = Vec::new();
        if !std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
            return Some(out);
        }
        let mut entries: Vec<_> = match std::fs::read_dir(dir) {
            Ok(rd) => rd.filter_map(Result::ok).collect(),
            Err(e) => {
                let id = rel_str(rel);
                return self.send(Err(item_err(v, &id, &id, format!("cannot read: {e}")))).then_some(out);
            }
        };
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let p = e.path();
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.is_file() => {
                    out.push(Attachment { name: name.clone(), content: file_content(file_media_type(&name), &p, m.len()) })
                }
                _ => {
                    if !self.not_followed(v, &p, &rel.join(&name)) {
                        return None;
                    }
                }
            }
        }
        Some(out)
    }

    /// Reports a link or special file as a failed item: ferry never follows or opens one.
    fn not_followed(&mut self, vertical: Vertical, path: &Path, rel: &Path) -> bool {
        let id = rel_str(rel);
        let reason = match std::fs::read_link(path) {
            Ok(target) => format!(
                "symbolic link to {} not followed: ferry reads only the files inside the folder; copy the file in if you want it",
                target.display()
            ),
            Err(_) => {
                let what = not_regular(path).unwrap_or("not a regular file");
                format!("{what} not read: ferry reads only regular files")
            }
        };
        self.send(Err(item_err(vertical, &id, &id, reason)))
    }

    /// Opens a file to read; a failure is reported, under `vertical`, and `None` returned.
    fn open(&mut self, vertical: Vertical, path: &Path, rel: &Path) -> Option<BufReader<File>> {
        match open_regular(path) {
            Ok((f, _)) => Some(BufReader::with_capacity(256 * 1024, f)),
            Err(e) => {
                let id = rel_str(rel);
                self.send(Err(item_err(vertical, &id, &id, format!("cannot open: {e}"))));
                None
            }
        }
    }

    fn vcf(&mut self, path: &Path, rel: &Path) -> bool {
        let Some(input) = self.open(Vertical::Contacts, path, rel) else { return true };
        let container = collection_container(rel, Vertical::Contacts);
        let file = rel_str(rel);
        for card in VcardReader::new(input, Limits::default()) {
            let item = card.map(|c| card_item(c, &container)).map_err(|e| codec_err(Vertical::Contacts, &file, e));
            if !self.send(item) {
                return false;
            }
        }
        true
    }

    fn csv(&mut self, path: &Path, rel: &Path) -> bool {
        let Some(input) = self.open(Vertical::Contacts, path, rel) else { return true };
        let container = collection_container(rel, Vertical::Contacts);
        let file = rel_str(rel);
        let reader = match CsvContactsReader::new(input) {
            Ok(r) => r,
            Err(e) => return self.send(Err(codec_err(Vertical::Contacts, &file, e))),
        };
        for (line, row) in reader {
            let item = match row {
                Ok(c) => {
                    let card = build_v4(&c);
                    let sha = sha256_hex(card.as_bytes());
                    Ok(Item {
                        id: format!("{container}/csv-{}", &sha[..24]),
                        container: container.clone(),
                        version: sha,
                        record: Record::Contact(c),
                        original: Some(Original { media_type: "text/vcard".into(), bytes: Bytes::from(card) }),
                        content: None,
                        standard: None,
                        attachments: vec![],
                        references: vec![],
                        source_warnings: vec![],
                    })
                }
                Err(e) => Err(item_err(Vertical::Contacts, &format!("{file}:{line}"), format!("{file} line {line}"), e)),
            };
            if !self.send(item) {
                return false;
            }
        }
        true
    }

    /// An iCalendar file, read once for events and tasks: each object goes as its own
    /// vertical, if asked; a problem with the file counts under `home`.
    fn ics(&mut self, home: Vertical, path: &Path, rel: &Path) -> bool {
        let Some(input) = self.open(home, path, rel) else { return true };
        let file = rel_str(rel);
        let reader = match IcsReader::new(input, Limits::default()) {
            Ok(r) => r,
            Err(e) => return self.send(Err(codec_err(home, &file, e))),
        };
        for obj in reader {
            let item = match obj {
                Ok(o) if !self.wants(o.record.vertical()) => continue,
                Ok(o) => {
                    let container = collection_container(rel, o.record.vertical());
                    Ok(calendar_item(o, container))
                }
                Err(e) => Err(codec_err(home, &file, e)),
            };
            if !self.send(item) {
                return false;
            }
        }
        true
    }

    fn mbox(&mut self, path: &Path, rel: &Path) -> bool {
        let Some(input) = self.open(Vertical::Mail, path, rel) else { return true };
        let container = collection_container(rel, Vertical::Mail);
        let file = rel_str(rel);
        let mut items = MboxItems::new(&file);
        for msg in MboxReader::new(input, self.cfg.mbox, Limits::default()) {
            let item = msg.map(|m| items.item(m, &container)).map_err(|e| codec_err(Vertical::Mail, &file, e));
            if !self.send(item) {
                return false;
            }
        }
        true
    }

    fn message_item(&mut self, path: &Path, id: String, container: String, flags: Vec<String>) -> Result<Item, ItemError> {
        let (f, meta) = open_regular(path).map_err(|e| item_err(Vertical::Mail, &id, &id, format!("cannot open: {e}")))?;
        let limits = Limits::default();
        if meta.len() > limits.max_record as u64 {
            return Err(item_err(Vertical::Mail, &id, &id, format!("message is larger than the {} byte limit", limits.max_record)));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        f.take(limits.max_record as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| item_err(Vertical::Mail, &id, &id, format!("cannot read: {e}")))?;
        if bytes.len() > limits.max_record {
            return Err(item_err(Vertical::Mail, &id, &id, format!("message is larger than the {} byte limit", limits.max_record)));
        }
        let mut record = read_meta(&bytes);
        if !flags.is_empty() {
            record.flags = flags;
        }
        record.received = meta.modified().ok().map(chrono::DateTime::<chrono::Utc>::from);
        let content = Content::from_bytes("message/rfc822", Bytes::from(bytes));
        Ok(Item {
            id,
            container,
            version: format!("{}-{}", content.sha256.as_deref().unwrap_or_default(), record.flags.join(",")),
            record: Record::Mail(record),
            original: None,
            content: Some(content),
            standard: None,
            attachments: vec![],
            references: vec![],
            source_warnings: vec![],
        })
    }

    /// The messages of one maildir (not of the maildirs inside it: the walk finds those).
    fn maildir(&mut self, dir: &Path, rel: &Path) -> bool {
        let container = maildir_container(rel);
        let keywords = read_bounded(&dir.join("dovecot-keywords"), 64 * 1024)
            .map(|b| maildir::parse_keywords(&String::from_utf8_lossy(&b)))
            .unwrap_or_default();
        for sub in ["cur", "new"] {
            let subdir = dir.join(sub);
            match std::fs::symlink_metadata(&subdir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    // `cur` linked elsewhere (to /etc) is not read
                    if !self.not_followed(Vertical::Mail, &subdir, &rel.join(sub)) {
                        return false;
                    }
                    continue;
                }
                Err(_) => continue, // dropped as an empty folder by a copy
            }
            let mut names: Vec<(String, bool)> = Vec::new();
            match std::fs::read_dir(&subdir) {
                Ok(rd) => {
                    for e in rd {
                        let e = match e {
                            Ok(e) => e,
                            Err(err) => {
                                let id = rel_str(&rel.join(sub));
                                if !self.send(Err(item_err(Vertical::Mail, &id, &id, format!("cannot read: {err}")))) {
                                    return false;
                                }
                                continue;
                            }
                        };
                        let name = e.file_name().to_string_lossy().into_owned();
                        if name.starts_with('.') {
                            continue; // not a message (maildir names never start with a dot)
                        }
                        names.push((name, e.file_type().is_ok_and(|t| t.is_file())));
                    }
                }
                Err(e) => {
                    let id = rel_str(&rel.join(sub));
                    if !self.send(Err(item_err(Vertical::Mail, &id, &id, e))) {
                        return false;
                    }
                    continue;
                }
            }
            names.sort();
            for (fname, regular) in names {
                let p = subdir.join(&fname);
                let go_on = if regular {
                    let (unique, flags) = maildir::parse_name_with(&fname, &keywords);
                    let id = if rel.as_os_str().is_empty() { unique.to_owned() } else { format!("{}/{unique}", rel_str(rel)) };
                    let item = self.message_item(&p, id, container.clone(), flags);
                    self.send(item)
                } else {
                    self.not_followed(Vertical::Mail, &p, &rel.join(sub).join(&fname))
                };
                if !go_on {
                    return false;
                }
            }
        }
        true
    }

    fn eml(&mut self, path: &Path, rel: &Path) -> bool {
        let id = rel_str(rel);
        let container = container_dirs(rel, Vertical::Mail).join("/");
        let item = self.message_item(path, id, container, Vec::new());
        self.send(item)
    }

    fn media(&mut self, path: &Path, rel: &Path, name: &str) -> bool {
        let id = rel_str(rel);
        let mut sidecar_problem = None;
        let item = (|| {
            let (f, meta) = open_regular(path).map_err(|e| item_err(Vertical::Media, &id, &id, format!("cannot open: {e}")))?;
            let mut record = MediaItem { file_name: name.to_owned(), ..Default::default() };
            read_exif_bounded(BufReader::new(f), &mut record);
            let mut version = file_version(&meta);
            let sidecar_path = path.with_file_name(format!("{name}.json"));
            match not_regular(&sidecar_path) {
                Some(what) => sidecar_problem = Some(format!("photo sidecar is {what}: not read, the photo goes without it")),
                None if sidecar_path.exists() => match read_bounded(&sidecar_path, SIDECAR_LIMIT) {
                    Ok(bytes) => {
                        let sidecar = Sidecar::parse(&bytes).map_err(|e| item_err(Vertical::Media, &id, format!("{id}.json"), e))?;
                        sidecar.apply(&mut record);
                        version.push_str(&format!("+{}", sha256_hex(&bytes)));
                    }
                    Err(e) => sidecar_problem = Some(format!("photo sidecar not read ({e}): the photo goes without it")),
                },
                None => {}
            }
            Ok(Item {
                id: id.clone(),
                container: container_dirs(rel, Vertical::Media).join("/"),
                version,
                record: Record::Media(record),
                original: None,
                content: Some(file_content(media_type(name).unwrap_or("application/octet-stream"), path, meta.len())),
                standard: None,
                attachments: vec![],
                references: vec![],
                source_warnings: vec![],
            })
        })();
        if !self.send(item) {
            return false;
        }
        match sidecar_problem {
            Some(reason) => {
                let sid = format!("{id}.json");
                self.send(Err(item_err(Vertical::Media, &sid, &sid, reason)))
            }
            None => true,
        }
    }

    fn file(&mut self, path: &Path, rel: &Path, name: &str) -> bool {
        let id = rel_str(rel);
        let item = std::fs::symlink_metadata(path).map_err(|e| item_err(Vertical::Files, &id, &id, e)).map(|meta| {
            use std::os::unix::fs::PermissionsExt;
            Item {
                id: id.clone(),
                container: container_dirs(rel, Vertical::Files).join("/"),
                version: file_version(&meta),
                record: Record::File(FileEntry {
                    name: name.to_owned(),
                    modified: meta.modified().ok().map(chrono::DateTime::<chrono::Utc>::from),
                    mode: Some(meta.permissions().mode() & 0o777),
                }),
                original: None,
                content: Some(file_content(file_media_type(name), path, meta.len())),
                standard: None,
                attachments: vec![],
                references: vec![],
                source_warnings: vec![],
            }
        });
        self.send(item)
    }
}

/// A file's bytes, read when the item is written, never through a link.
fn file_content(media_type: &str, path: &Path, size: u64) -> Content {
    Content { media_type: media_type.to_owned(), size: Some(size), sha256: None, source: Arc::new(RegularFileSource(path.to_owned())) }
}

/// Folders of a maildir that are not other maildirs.
const MAILDIR_OWN_DIRS: [&str; 4] = ["cur", "new", "tmp", "courierimapkeywords"];

/// Largest photo sidecar read (Takeout's are a few kilobytes).
const SIDECAR_LIMIT: u64 = 1 << 20;

/// The stems (`NAME` of `NAME.EXT`) of the regular files in `dir` that a later vertical
/// (one with a codec) recognises as its items.
fn item_stems(dir: &Path, rel: &Path) -> HashSet<String> {
    let later: Vec<_> = ferry_verticals::all().iter().filter(|d| d.codec.is_some()).collect();
    let Ok(rd) = std::fs::read_dir(dir) else { return HashSet::new() };
    rd.filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let relative = rel_str(&rel.join(&name));
            let file = DirFile { rel: &relative, name: &name, head: b"" };
            let (stem, _) = name.rsplit_once('.')?;
            later.iter().any(|d| (d.recognises)(&file)).then(|| stem.to_owned())
        })
        .collect()
}

/// Whether `name` is a photo's Takeout sidecar (`IMG_1.jpg.json` beside `IMG_1.jpg`).
fn is_photo_sidecar(path: &Path, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".json")
        && media_type(&name[..name.len() - 5]).is_some()
        && std::fs::symlink_metadata(path.with_file_name(&name[..name.len() - 5])).is_ok_and(|m| m.is_file())
}

/// The mail folder a maildir stands for: its path, a Maildir++ folder (`.Archive.2012`)
/// as the folders its name holds (`Archive/2012`).
fn maildir_container(rel: &Path) -> String {
    container_dirs(&rel.join("x"), Vertical::Mail)
        .into_iter()
        .map(|s| if s.starts_with('.') { maildir::plusplus_folder(&s) } else { s })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

fn read_head(path: &Path) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let n = open_regular(path).and_then(|(mut f, _)| f.read(&mut buf)).unwrap_or(0);
    buf.truncate(n);
    buf
}
