use super::config::DirConfig;
use super::layout::{classify, collection_container, container_dirs, needs_head};
use crate::pager::{self, Emit};
use async_trait::async_trait;
use bytes::Bytes;
use ferry_codecs::contacts_csv::CsvContactsReader;
use ferry_codecs::ical::IcsReader;
use ferry_codecs::mail_meta::read_meta;
use ferry_codecs::maildir;
use ferry_codecs::mbox::MboxReader;
use ferry_codecs::media::{Sidecar, file_media_type, media_type, read_exif};
use ferry_codecs::vcard::{VcardReader, build_v4};
use ferry_codecs::{CodecError, Limits};
use ferry_core::content::sha256_hex;
use ferry_core::model::{FileEntry, MediaItem};
use ferry_core::{ConnectorError, Content, Exporter, Item, ItemError, Original, PageStream, Record, Vertical};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

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
    async fn pages(&self, vertical: Vertical, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        let meta = std::fs::metadata(&self.cfg.root)
            .map_err(|e| ConnectorError::Fatal(format!("dir: cannot read {}: {e}", self.cfg.root.display())))?;
        if !meta.is_dir() {
            return Err(ConnectorError::Fatal(format!("dir: {} is not a folder", self.cfg.root.display())));
        }
        let cfg = self.cfg.clone();
        Ok(pager::spawn(cursor, move |emit| Walk { cfg, vertical, emit, seen: HashSet::new(), repeated: HashMap::new() }.run()))
    }
}

struct Walk<'a> {
    cfg: DirConfig,
    vertical: Vertical,
    emit: &'a mut Emit,
    /// Hashes of the ids handed out so far, so that two records with one id (a UID used
    /// twice) both go: 8 bytes an item, not the id itself (a walk of a million cards).
    seen: HashSet<u64>,
    /// Ids seen more than once, with how often.
    repeated: HashMap<String, u32>,
}

/// A fixed-key hash of an id: the same on every run, so a renamed duplicate keeps its name.
fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

fn item_err(id: &str, location: impl Into<String>, e: impl ToString) -> ItemError {
    ItemError { id: id.to_owned(), location: location.into(), reason: e.to_string() }
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
    fn send(&mut self, item: Result<Item, ItemError>) -> bool {
        let item = item.map(|mut i| {
            if !self.seen.insert(id_hash(&i.id)) {
                // seen before (or, one time in 2^64, an id with the same hash: renamed all the same)
                let n = self.repeated.entry(i.id.clone()).or_insert(1);
                *n += 1;
                i.id = format!("{}~{n}", i.id);
            }
            i
        });
        self.emit.emit(item)
    }

    fn run(mut self) -> Result<(), ConnectorError> {
        let root = self.cfg.root.clone();
        // in the order the file system lists each folder, read as the walk goes: sorting
        // would hold a whole folder's entries (a million one-card files) in memory. The
        // order is stable while the folder is unchanged, which the cursor needs.
        let mut it = walkdir::WalkDir::new(&root).follow_links(false).into_iter();
        while let Some(entry) = it.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().map(|p| rel_str(p.strip_prefix(&root).unwrap_or(p))).unwrap_or_default();
                    if !self.send(Err(item_err(&path, &path, format!("cannot read: {e}")))) {
                        return Ok(());
                    }
                    continue;
                }
            };
            let path = entry.path().to_owned();
            let rel = path.strip_prefix(&root).unwrap_or(&path).to_owned();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path_is_symlink() {
                if classify(&name, b"") == self.vertical {
                    let target = std::fs::read_link(&path).map(|t| t.display().to_string()).unwrap_or_default();
                    let id = rel_str(&rel);
                    if !self.send(Err(item_err(&id, &id, format!("symbolic link to {target} not followed: ferry reads only the files inside the folder; copy the file in if you want it")))) {
                        return Ok(());
                    }
                }
                continue;
            }
            if entry.file_type().is_dir() {
                if entry.depth() > 0 && maildir::is_maildir(&path) {
                    it.skip_current_dir();
                    if self.vertical == Vertical::Mail && !self.maildir(&path, &rel) {
                        return Ok(());
                    }
                }
                continue;
            }
            if !entry.file_type().is_file() || name.ends_with(".ferry-tmp") {
                continue;
            }
            if name.to_ascii_lowercase().ends_with(".json")
                && media_type(&name[..name.len() - 5]).is_some()
                && path.with_file_name(&name[..name.len() - 5]).is_file()
            {
                continue; // a photo's sidecar, read with the photo
            }
            let head = if needs_head(&name) { read_head(&path) } else { Vec::new() };
            let kind = classify(&name, &head);
            let wanted = kind == self.vertical || (kind == Vertical::Calendar && self.vertical == Vertical::Tasks);
            if !wanted {
                continue;
            }
            let go_on = match self.vertical {
                Vertical::Contacts if name.to_ascii_lowercase().ends_with(".csv") => self.csv(&path, &rel),
                Vertical::Contacts => self.vcf(&path, &rel),
                Vertical::Calendar | Vertical::Tasks => self.ics(&path, &rel),
                Vertical::Mail if name.to_ascii_lowercase().ends_with(".eml") => self.eml(&path, &rel),
                Vertical::Mail => self.mbox(&path, &rel),
                Vertical::Media => self.media(&path, &rel, &name),
                Vertical::Files => self.file(&path, &rel, &name),
            };
            if !go_on {
                return Ok(());
            }
        }
        Ok(())
    }

    fn open(&mut self, path: &Path, rel: &Path) -> Option<BufReader<File>> {
        match File::open(path) {
            Ok(f) => Some(BufReader::with_capacity(256 * 1024, f)),
            Err(e) => {
                let id = rel_str(rel);
                self.send(Err(item_err(&id, &id, format!("cannot open: {e}"))));
                None
            }
        }
    }

    fn vcf(&mut self, path: &Path, rel: &Path) -> bool {
        let Some(input) = self.open(path, rel) else { return true };
        let container = collection_container(rel, Vertical::Contacts);
        let file = rel_str(rel);
        for card in VcardReader::new(input, Limits::default()) {
            let item = match card {
                Ok(c) => {
                    let sha = sha256_hex(&c.original);
                    let id = format!("{container}/{}", c.contact.uid.clone().unwrap_or_else(|| format!("sha-{}", &sha[..24])));
                    Ok(Item {
                        id,
                        container: container.clone(),
                        version: sha,
                        record: Record::Contact(c.contact),
                        original: Some(Original { media_type: "text/vcard".into(), bytes: Bytes::from(c.original) }),
                        content: None,
                    })
                }
                Err(e) => Err(codec_err(&file, e)),
            };
            if !self.send(item) {
                return false;
            }
        }
        true
    }

    fn csv(&mut self, path: &Path, rel: &Path) -> bool {
        let Some(input) = self.open(path, rel) else { return true };
        let container = collection_container(rel, Vertical::Contacts);
        let file = rel_str(rel);
        let reader = match CsvContactsReader::new(input) {
            Ok(r) => r,
            Err(e) => return self.send(Err(codec_err(&file, e))),
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
                    })
                }
                Err(e) => Err(item_err(&format!("{file}:{line}"), format!("{file} line {line}"), e)),
            };
            if !self.send(item) {
                return false;
            }
        }
        true
    }

    fn ics(&mut self, path: &Path, rel: &Path) -> bool {
        let Some(input) = self.open(path, rel) else { return true };
        let container = collection_container(rel, self.vertical);
        let file = rel_str(rel);
        let reader = match IcsReader::new(input, Limits::default()) {
            Ok(r) => r,
            Err(e) => return self.send(Err(codec_err(&file, e))),
        };
        for obj in reader {
            let item = match obj {
                Ok(o) if o.record.vertical() != self.vertical => continue,
                Ok(o) => Ok(Item {
                    id: format!("{container}/{}", o.uid),
                    container: container.clone(),
                    version: sha256_hex(&o.original),
                    record: o.record,
                    original: Some(Original { media_type: "text/calendar".into(), bytes: Bytes::from(o.original) }),
                    content: None,
                }),
                // broken objects are reported once, with the events
                Err(_) if self.vertical == Vertical::Tasks => continue,
                Err(e) => Err(codec_err(&file, e)),
            };
            if !self.send(item) {
                return false;
            }
        }
        true
    }

    fn mbox(&mut self, path: &Path, rel: &Path) -> bool {
        let Some(input) = self.open(path, rel) else { return true };
        let container = collection_container(rel, Vertical::Mail);
        let file = rel_str(rel);
        let mut seen: HashMap<String, u32> = HashMap::new();
        for msg in MboxReader::new(input, self.cfg.mbox, Limits::default()) {
            let item = match msg {
                Ok(m) => {
                    let mut record = read_meta(&m.bytes);
                    let content = Content::from_bytes("message/rfc822", Bytes::from(m.bytes));
                    let sha = content.sha256.clone().expect("hashed from bytes");
                    let n = seen.entry(sha[..16].to_owned()).or_default();
                    *n += 1;
                    let id = if *n == 1 { format!("{file}#{}", &sha[..16]) } else { format!("{file}#{}~{n}", &sha[..16]) };
                    record.received = m.received;
                    record.envelope_from = m.envelope_from;
                    Ok(Item {
                        id,
                        container: container.clone(),
                        version: sha,
                        record: Record::Mail(record),
                        original: None,
                        content: Some(content),
                    })
                }
                Err(e) => Err(codec_err(&file, e)),
            };
            if !self.send(item) {
                return false;
            }
        }
        true
    }

    fn message_item(&mut self, path: &Path, id: String, container: String, flags: Vec<String>) -> Result<Item, ItemError> {
        let meta = std::fs::metadata(path).map_err(|e| item_err(&id, &id, e))?;
        let limits = Limits::default();
        if meta.len() > limits.max_record as u64 {
            return Err(item_err(&id, &id, format!("message is larger than the {} byte limit", limits.max_record)));
        }
        let bytes = std::fs::read(path).map_err(|e| item_err(&id, &id, format!("cannot read: {e}")))?;
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
        })
    }

    fn maildir(&mut self, dir: &Path, rel: &Path) -> bool {
        let segs: Vec<String> = container_dirs(&rel.join("x"), Vertical::Mail)
            .into_iter()
            .map(|s| s.strip_prefix('.').map(str::to_owned).unwrap_or(s))
            .collect();
        let container = segs.join("/");
        for sub in ["cur", "new"] {
            let mut names: Vec<PathBuf> = match std::fs::read_dir(dir.join(sub)) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
                    .collect(),
                Err(e) => {
                    let id = rel_str(&rel.join(sub));
                    if !self.send(Err(item_err(&id, &id, e))) {
                        return false;
                    }
                    continue;
                }
            };
            names.sort();
            for p in names {
                let fname = p.file_name().unwrap().to_string_lossy().into_owned();
                let (unique, flags) = maildir::parse_name(&fname);
                let id = format!("{}/{unique}", rel_str(rel));
                let item = self.message_item(&p, id, container.clone(), flags);
                if !self.send(item) {
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
        let item = (|| {
            let meta = std::fs::metadata(path).map_err(|e| item_err(&id, &id, e))?;
            let mut record = MediaItem { file_name: name.to_owned(), ..Default::default() };
            if let Ok(f) = File::open(path) {
                read_exif(&mut BufReader::new(f), &mut record);
            }
            let mut version = file_version(&meta);
            let sidecar_path = path.with_file_name(format!("{name}.json"));
            if let Ok(bytes) = std::fs::read(&sidecar_path) {
                let sidecar = Sidecar::parse(&bytes).map_err(|e| item_err(&id, format!("{id}.json"), e))?;
                sidecar.apply(&mut record);
                version.push_str(&format!("+{}", sha256_hex(&bytes)));
            }
            Ok(Item {
                id: id.clone(),
                container: container_dirs(rel, Vertical::Media).join("/"),
                version,
                record: Record::Media(record),
                original: None,
                content: Some(Content::from_file(media_type(name).unwrap_or("application/octet-stream"), path.to_owned(), meta.len())),
            })
        })();
        self.send(item)
    }

    fn file(&mut self, path: &Path, rel: &Path, name: &str) -> bool {
        let id = rel_str(rel);
        let item = std::fs::metadata(path).map_err(|e| item_err(&id, &id, e)).map(|meta| {
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
                content: Some(Content::from_file(file_media_type(name), path.to_owned(), meta.len())),
            }
        });
        self.send(item)
    }
}

fn read_head(path: &Path) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let n = File::open(path).and_then(|mut f| f.read(&mut buf)).unwrap_or(0);
    buf.truncate(n);
    buf
}

fn codec_err(file: &str, e: CodecError) -> ItemError {
    let (id, location) = match &e {
        CodecError::Syntax { line, .. }
        | CodecError::LineTooLong { line, .. }
        | CodecError::RecordTooLarge { line, .. }
        | CodecError::InvalidUtf8 { line } => (format!("{file}:{line}"), format!("{file} line {line}")),
        _ => (format!("{file}:?"), file.to_owned()),
    };
    let reason = match &e {
        CodecError::Syntax { reason, .. } => reason.clone(),
        CodecError::LineTooLong { limit, .. } => format!("line longer than the {limit} byte limit; the record is skipped"),
        CodecError::RecordTooLarge { limit, .. } => format!("record larger than the {limit} byte limit; it is skipped"),
        CodecError::InvalidUtf8 { .. } => "not valid UTF-8, and no CHARSET says what it is".into(),
        CodecError::Io(e) => format!("cannot read: {e}"),
    };
    ItemError { id, location, reason }
}
