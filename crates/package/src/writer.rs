//! Writes a package. Items are first staged (one row per item in a small SQLite file,
//! content in files named from the item id), so that putting an item twice, or resuming
//! after a crash, leaves one copy. `finish` then streams the staged items, in order, into
//! the final ZIP or directory, and writes the manifest last.

use crate::crypt::Encryption;
use crate::layout::{self, safe_container, safe_segment};
use crate::manifest::{FileEntry, Manifest, VerticalSummary};
use crate::record::{ContentRef, PackageRecord, schemas};
use crate::{FORMAT_NAME, FORMAT_VERSION, Form, PackageError, readme};
use chrono::{DateTime, Utc};
use ferry_codecs::contacts_csv::CsvContactsWriter;
use ferry_codecs::ical::CalendarMerger;
use ferry_codecs::mbox::write_message;
use ferry_codecs::vcard::{WriteVersion, build_v4, convert};
use ferry_core::{Item, Record, Vertical};
use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

pub struct PackageWriter {
    target: PathBuf,
    staging: PathBuf,
    db: SqlitePool,
    encryption: Option<Encryption>,
    /// Rows to stage, group-committed by one task (see `commit_rows`).
    rows: tokio::sync::mpsc::Sender<Pending>,
}

/// Rows committed in one staging transaction, at most.
const STAGE_BATCH: usize = 256;

/// One item's staging row, waiting for its transaction; told whether it changed anything.
struct Pending {
    row: serde_json::Value,
    done: tokio::sync::oneshot::Sender<Result<bool, String>>,
}

/// Stages rows as they come, all that wait in one transaction (one statement), so that
/// concurrent `add`s share a commit instead of paying one each (a commit writes and
/// locks the WAL: it cost more than the rest of staging a small item).
async fn commit_rows(db: SqlitePool, mut rx: tokio::sync::mpsc::Receiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < STAGE_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let json = serde_json::Value::Array(batch.iter().map(|p| p.row.clone()).collect()).to_string();
        // insert, or update only if something changed; RETURNING names the rows written
        let written = sqlx::query("INSERT INTO items (vertical, id, container, record, content_file, content_size, content_sha, media_type) SELECT json_extract(value, '$.vertical'), json_extract(value, '$.id'), json_extract(value, '$.container'), json_extract(value, '$.record'), json_extract(value, '$.content_file'), json_extract(value, '$.content_size'), json_extract(value, '$.content_sha'), json_extract(value, '$.media_type') FROM json_each(?) WHERE true ON CONFLICT (vertical, id) DO UPDATE SET container = excluded.container, record = excluded.record, content_file = excluded.content_file, content_size = excluded.content_size, content_sha = excluded.content_sha, media_type = excluded.media_type WHERE items.record IS NOT excluded.record OR items.content_sha IS NOT excluded.content_sha RETURNING vertical, id")
            .bind(&json)
            .fetch_all(&db)
            .await;
        match written {
            Ok(rows) => {
                let written: HashSet<(String, String)> = rows.iter().map(|r| (r.get("vertical"), r.get("id"))).collect();
                for p in batch {
                    let key =
                        (p.row["vertical"].as_str().unwrap_or_default().to_owned(), p.row["id"].as_str().unwrap_or_default().to_owned());
                    let _ = p.done.send(Ok(written.contains(&key)));
                }
            }
            Err(e) => {
                for p in batch {
                    let _ = p.done.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// What `add` did.
pub struct Added {
    pub created: bool,
    pub sha256: Option<String>,
    pub path_hint: String,
}

fn io_err(ctx: impl Into<String>) -> impl FnOnce(io::Error) -> PackageError {
    let ctx = ctx.into();
    move |e| PackageError::io(ctx, e)
}

impl PackageWriter {
    /// Opens a writer for `target`; staging lives beside it in `<target>.ferry-partial/`
    /// and survives a crash, so a resumed job continues where it stopped.
    pub async fn open(target: &Path, source: &str, encryption: Option<Encryption>) -> Result<Self, PackageError> {
        if Form::of(target) == Form::EncryptedZip && encryption.is_none() {
            return Err(PackageError::invalid(target.display().to_string(), "a `.age` package needs a passphrase or a recipient"));
        }
        let staging = partial_path(target);
        std::fs::create_dir_all(staging.join("content")).map_err(io_err(format!("cannot create {}", staging.display())))?;
        let opts = SqliteConnectOptions::new()
            .filename(staging.join("staging.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(10));
        // one connection: concurrent puts queue here instead of sleeping on SQLite's lock
        let db = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS items (vertical TEXT NOT NULL, id TEXT NOT NULL, container TEXT NOT NULL, record TEXT NOT NULL, content_file TEXT, content_size INTEGER, content_sha TEXT, media_type TEXT, PRIMARY KEY (vertical, id))").execute(&db).await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)").execute(&db).await?;
        sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES ('created', ?), ('source', ?)")
            .bind(Utc::now().to_rfc3339())
            .bind(source)
            .execute(&db)
            .await?;
        let (rows, rx) = tokio::sync::mpsc::channel(STAGE_BATCH);
        tokio::spawn(commit_rows(db.clone(), rx));
        Ok(PackageWriter { target: target.to_owned(), staging, db, encryption, rows })
    }

    /// Stages one item. Idempotent on (vertical, id).
    pub async fn add(&self, item: &Item) -> Result<Added, PackageError> {
        let v = item.vertical();
        let key = hex::encode(Sha256::digest(format!("{v}\0{}", item.id)));
        let mut content_cols: (Option<String>, Option<i64>, Option<String>, Option<String>) = (None, None, None, None);
        let mut sha = item.known_sha256();
        if let Some(content) = &item.content {
            let rel = format!("content/{}/{}", &key[..2], key);
            let path = self.staging.join(&rel);
            let tmp = self.staging.join(format!("content/{}/.{}.tmp", &key[..2], key));
            tokio::fs::create_dir_all(path.parent().unwrap()).await.map_err(io_err("staging"))?;
            let _ = tokio::fs::remove_file(&tmp).await;
            // a local file is linked into the staging (no copy) and hashed in place
            // (only for ZIP packages: a directory package must not share files with the source)
            let linked = match content.source.local_path() {
                Some(src) if Form::of(&self.target) != Form::Directory => tokio::fs::hard_link(src, &tmp).await.is_ok(),
                _ => false,
            };
            let mut reader = if linked {
                let f = tokio::fs::File::open(&tmp).await.map_err(io_err(format!("reading {}", item.id)))?;
                ferry_core::content::HashingReader::new(
                    Box::pin(tokio::io::BufReader::with_capacity(256 * 1024, f)),
                    content.size,
                    content.sha256.clone(),
                )
            } else {
                content.open_verified().await.map_err(io_err(format!("reading {}", item.id)))?
            };
            let mut out = if linked { None } else { Some(tokio::fs::File::create(&tmp).await.map_err(io_err("staging"))?) };
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = reader.read(&mut buf).await.map_err(io_err(format!("reading {}", item.id)))?;
                if n == 0 {
                    break;
                }
                if let Some(f) = &mut out {
                    tokio::io::AsyncWriteExt::write_all(f, &buf[..n]).await.map_err(io_err("staging"))?;
                }
            }
            if let Some(mut f) = out {
                tokio::io::AsyncWriteExt::flush(&mut f).await.map_err(io_err("staging"))?;
            }
            let (digest, size) = reader.finish().expect("read to the end");
            tokio::fs::rename(&tmp, &path).await.map_err(io_err("staging"))?;
            sha = Some(digest.clone());
            content_cols = (Some(rel), Some(size as i64), Some(digest), Some(content.media_type.clone()));
        }
        let record = serde_json::to_string(&PackageRecord::from_item(item, None)).expect("records serialize");
        let row = serde_json::json!({
            "vertical": v.as_str(), "id": item.id, "container": item.container, "record": record,
            "content_file": content_cols.0, "content_size": content_cols.1, "content_sha": content_cols.2, "media_type": content_cols.3,
        });
        let (done, answer) = tokio::sync::oneshot::channel();
        let staged = match self.rows.send(Pending { row, done }).await {
            Ok(()) => answer.await.unwrap_or_else(|_| Err("the staging task stopped".into())),
            Err(_) => Err("the staging task stopped".into()),
        };
        let changed = staged.map_err(|e| PackageError::Staging(sqlx::Error::Protocol(e)))?;
        let created = changed;
        Ok(Added { created, sha256: sha, path_hint: format!("{v}/{}", safe_container(&item.container)) })
    }

    /// Writes the final package from what is staged, then removes the staging.
    pub async fn finish(&self) -> Result<Manifest, PackageError> {
        let form = Form::of(&self.target);
        let name = self.target.file_name().and_then(|n| n.to_str()).unwrap_or("package");
        let tmp = self.target.with_file_name(format!(".{name}.tmp"));
        let _ = std::fs::remove_dir_all(&tmp);
        let _ = std::fs::remove_file(&tmp);
        let mut sink = match form {
            Form::Directory => Sink::dir(&tmp)?,
            Form::Zip | Form::EncryptedZip => Sink::zip(&tmp)?,
        };
        let meta: BTreeMap<String, String> =
            sqlx::query("SELECT key, value FROM meta").fetch_all(&self.db).await?.iter().map(|r| (r.get("key"), r.get("value"))).collect();
        let created =
            meta.get("created").and_then(|c| DateTime::parse_from_rfc3339(c).ok()).map(|d| d.with_timezone(&Utc)).unwrap_or_else(Utc::now);
        let source = meta.get("source").cloned().unwrap_or_default();
        sink.time = zip_time(created);
        let mut summaries = BTreeMap::new();
        for v in Vertical::ALL {
            if let Some(s) = self.write_vertical(&mut sink, v).await? {
                summaries.insert(v.as_str().to_owned(), s);
            }
        }
        for (file, schema) in schemas() {
            sink.add_bytes(&format!("schemas/{file}"), "application/schema+json", &serde_json::to_vec_pretty(&schema).expect("json"))?;
        }
        let mut manifest = Manifest {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            created,
            generator: format!("ferry {}", env!("CARGO_PKG_VERSION")),
            source,
            verticals: summaries,
            files: Vec::new(),
        };
        let (txt, html) = readme::render(&manifest);
        sink.add_bytes("README.txt", "text/plain; charset=utf-8", txt.as_bytes())?;
        sink.add_bytes("README.html", "text/html; charset=utf-8", html.as_bytes())?;
        manifest.files = sink.entries.clone();
        sink.add_bytes("manifest.json", "application/json", &serde_json::to_vec_pretty(&manifest).expect("json"))?;
        sink.finish()?;
        // swap the finished package into place
        match form {
            Form::Directory => {
                if self.target.exists() {
                    std::fs::remove_dir_all(&self.target).map_err(io_err(format!("cannot replace {}", self.target.display())))?;
                }
                std::fs::rename(&tmp, &self.target).map_err(io_err(format!("cannot move the package to {}", self.target.display())))?;
            }
            Form::Zip => {
                std::fs::rename(&tmp, &self.target).map_err(io_err(format!("cannot move the package to {}", self.target.display())))?
            }
            Form::EncryptedZip => {
                let enc_tmp = self.target.with_file_name(format!(".{name}.age.tmp"));
                crate::crypt::encrypt_file(&tmp, &enc_tmp, self.encryption.as_ref().expect("checked at open"))?;
                std::fs::rename(&enc_tmp, &self.target).map_err(io_err(format!("cannot move the package to {}", self.target.display())))?;
                let _ = std::fs::remove_file(&tmp);
            }
        }
        self.db.close().await;
        std::fs::remove_dir_all(&self.staging).map_err(io_err(format!("cannot remove {}", self.staging.display())))?;
        Ok(manifest)
    }

    async fn write_vertical(&self, sink: &mut Sink, v: Vertical) -> Result<Option<VerticalSummary>, PackageError> {
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM items WHERE vertical = ?").bind(v.as_str()).fetch_one(&self.db).await?.get(0);
        if count == 0 {
            return Ok(None);
        }
        let containers: Vec<String> = sqlx::query("SELECT DISTINCT container FROM items WHERE vertical = ? ORDER BY container")
            .bind(v.as_str())
            .fetch_all(&self.db)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        // pass 1: the standard format, one file per container (media and files as they are)
        let mut namer = Namer::default();
        let mut open_path: Option<String> = None;
        let mut cal: Option<CalendarMerger> = None;
        {
            let mut rows = self.rows(v);
            while let Some(row) = rows.try_next().await? {
                let (rec, staged) = decode_row(&row)?;
                if let Some(path) = layout::standard_path(v, &rec.container)
                    && open_path.as_deref() != Some(&path)
                {
                    if open_path.is_some() {
                        if let Some(c) = cal.take() {
                            c.finish(sink).map_err(io_err("writing calendar"))?;
                        }
                        sink.end_stream()?;
                    }
                    let media_type = match v {
                        Vertical::Contacts => "text/vcard",
                        Vertical::Mail => "application/mbox",
                        _ => "text/calendar",
                    };
                    // mail is mostly attachments that do not compress: stored, like media
                    sink.start_stream(&path, media_type, v != Vertical::Mail)?;
                    if matches!(v, Vertical::Calendar | Vertical::Tasks) {
                        cal = Some(CalendarMerger::begin(sink, &rec.container).map_err(io_err("writing calendar"))?);
                    }
                    open_path = Some(path);
                }
                match &rec.record {
                    Record::Contact(c) => {
                        let original = rec.original().map_err(|e| PackageError::invalid(&rec.id, e))?;
                        let text = original.and_then(|o| convert(&o.bytes, WriteVersion::V4).ok()).unwrap_or_else(|| build_v4(c));
                        sink.write_stream(text.as_bytes())?;
                    }
                    Record::Event(_) | Record::Task(_) => {
                        if let Some(o) = rec.original().map_err(|e| PackageError::invalid(&rec.id, e))? {
                            cal.as_mut().expect("open").add(sink, &o.bytes).map_err(|e| PackageError::invalid(&rec.id, e.to_string()))?;
                        }
                    }
                    Record::Mail(m) => {
                        let (file, _, _) = staged.ok_or_else(|| PackageError::invalid(&rec.id, "message has no content"))?;
                        let bytes = std::fs::read(self.staging.join(&file)).map_err(io_err("reading staged message"))?;
                        write_message(sink, m.envelope_from.as_deref(), m.received, &bytes).map_err(io_err("writing mbox"))?;
                    }
                    Record::Media(_) | Record::File(_) => {
                        let (file, size, sha) = staged.ok_or_else(|| PackageError::invalid(&rec.id, "item has no content"))?;
                        let path = namer.path(v, &rec);
                        let compress = v == Vertical::Files;
                        sink.add_staged(
                            &path,
                            &row.get::<Option<String>, _>("media_type").unwrap_or_default(),
                            &self.staging.join(&file),
                            size,
                            &sha,
                            compress,
                        )?;
                    }
                }
            }
        }
        if open_path.is_some() {
            if let Some(c) = cal.take() {
                c.finish(sink).map_err(io_err("writing calendar"))?;
            }
            sink.end_stream()?;
        }
        // pass 2: the canonical records, with where each item's content is
        let records_path = layout::records_path(v);
        sink.start_stream(records_path, "application/jsonl", true)?;
        let mut namer = Namer::default();
        let mut mbox_index: BTreeMap<String, u64> = BTreeMap::new();
        {
            let mut rows = self.rows(v);
            while let Some(row) = rows.try_next().await? {
                let (mut rec, staged) = decode_row(&row)?;
                if let Some((_, size, sha)) = staged {
                    let media_type: String = row.get::<Option<String>, _>("media_type").unwrap_or_default();
                    rec.content = Some(if v == Vertical::Mail {
                        let path = layout::standard_path(v, &rec.container).expect("mail has an mbox");
                        let i = mbox_index.entry(path.clone()).or_default();
                        let r = ContentRef { path, index: Some(*i), size, sha256: sha, media_type };
                        *i += 1;
                        r
                    } else {
                        ContentRef { path: namer.path(v, &rec), index: None, size, sha256: sha, media_type }
                    });
                }
                let mut line = serde_json::to_vec(&rec).expect("json");
                line.push(b'\n');
                sink.write_stream(&line)?;
            }
        }
        sink.end_stream()?;
        // pass 3: contacts also as CSV
        if v == Vertical::Contacts {
            sink.start_stream(layout::CONTACTS_CSV, "text/csv; charset=utf-8", true)?;
            {
                let mut csv = CsvContactsWriter::new(&mut *sink).map_err(|e| PackageError::invalid(layout::CONTACTS_CSV, e.to_string()))?;
                let mut rows = self.rows(v);
                while let Some(row) = rows.try_next().await? {
                    let (rec, _) = decode_row(&row)?;
                    if let Record::Contact(c) = &rec.record {
                        csv.write(c, &rec.container).map_err(|e| PackageError::invalid(layout::CONTACTS_CSV, e.to_string()))?;
                    }
                }
                csv.finish().map_err(|e| PackageError::invalid(layout::CONTACTS_CSV, e.to_string()))?;
            }
            sink.end_stream()?;
        }
        Ok(Some(VerticalSummary { items: count as u64, containers, records: records_path.into() }))
    }

    fn rows(&self, v: Vertical) -> futures::stream::BoxStream<'_, Result<sqlx::sqlite::SqliteRow, sqlx::Error>> {
        sqlx::query("SELECT * FROM items WHERE vertical = ? ORDER BY container, id").bind(v.as_str()).fetch(&self.db)
    }
}

/// `<target>.ferry-partial`: where a package is staged.
pub fn partial_path(target: &Path) -> PathBuf {
    let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("package");
    target.with_file_name(format!("{name}.ferry-partial"))
}

type Staged = Option<(String, u64, String)>;

fn zip_time(t: DateTime<Utc>) -> zip::DateTime {
    use chrono::{Datelike, Timelike};
    zip::DateTime::from_date_and_time(
        t.year().clamp(1980, 2107) as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or_default()
}

fn decode_row(row: &sqlx::sqlite::SqliteRow) -> Result<(PackageRecord, Staged), PackageError> {
    let rec: PackageRecord =
        serde_json::from_str(row.get::<&str, _>("record")).map_err(|e| PackageError::invalid("staging", e.to_string()))?;
    let staged = match (
        row.get::<Option<String>, _>("content_file"),
        row.get::<Option<i64>, _>("content_size"),
        row.get::<Option<String>, _>("content_sha"),
    ) {
        (Some(f), Some(s), Some(h)) => Some((f, s as u64, h)),
        _ => None,
    };
    Ok((rec, staged))
}

/// Unique, safe file names for media and files, the same on every pass.
#[derive(Default)]
struct Namer {
    used: HashSet<String>,
    container: String,
}

impl Namer {
    fn path(&mut self, v: Vertical, rec: &PackageRecord) -> String {
        if rec.container != self.container {
            self.used.clear();
            self.container = rec.container.clone();
        }
        let name = match &rec.record {
            Record::Media(m) => m.file_name.clone(),
            Record::File(f) => f.name.clone(),
            _ => rec.id.clone(),
        };
        let name = safe_segment(&name);
        let dir =
            if rec.container.is_empty() && v == Vertical::Files { String::new() } else { format!("{}/", safe_container(&rec.container)) };
        let (stem, ext) = match name.rsplit_once('.') {
            Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
            _ => (name.clone(), String::new()),
        };
        let mut candidate = name.clone();
        let mut n = 1;
        while !self.used.insert(candidate.to_lowercase()) {
            n += 1;
            candidate = format!("{stem} ({n}){ext}");
        }
        format!("{}/{dir}{candidate}", v.as_str())
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_raw(buf).map(|_| buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Out {
    Dir(PathBuf),
    Zip(zip::ZipWriter<BufWriter<File>>),
}

struct Open {
    path: String,
    media_type: String,
    hasher: Sha256,
    size: u64,
    file: Option<BufWriter<File>>,
}

/// Where the final package's files go, hashing each as it is written.
struct Sink {
    out: Out,
    /// Modification time of ZIP entries: the package's creation time.
    time: zip::DateTime,
    open: Option<Open>,
    entries: Vec<FileEntry>,
}

impl Sink {
    fn dir(root: &Path) -> Result<Sink, PackageError> {
        std::fs::create_dir_all(root).map_err(io_err(format!("cannot create {}", root.display())))?;
        Ok(Sink { out: Out::Dir(root.to_owned()), time: zip::DateTime::default(), open: None, entries: Vec::new() })
    }

    fn zip(path: &Path) -> Result<Sink, PackageError> {
        let f = File::create(path).map_err(io_err(format!("cannot create {}", path.display())))?;
        Ok(Sink {
            out: Out::Zip(zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, f))),
            time: zip::DateTime::default(),
            open: None,
            entries: Vec::new(),
        })
    }

    fn start_stream(&mut self, path: &str, media_type: &str, compress: bool) -> Result<(), PackageError> {
        assert!(self.open.is_none(), "one package file at a time");
        let file = match &mut self.out {
            Out::Dir(root) => {
                let p = root.join(path);
                std::fs::create_dir_all(p.parent().unwrap()).map_err(io_err(path))?;
                Some(BufWriter::with_capacity(1 << 20, File::create(&p).map_err(io_err(path))?))
            }
            Out::Zip(z) => {
                let method = if compress { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
                // level 1: text compresses almost as well, several times faster
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(method)
                    .compression_level(compress.then_some(1))
                    .large_file(true)
                    .unix_permissions(0o644)
                    .last_modified_time(self.time);
                z.start_file(path, opts).map_err(|e| PackageError::io(path, io::Error::other(e)))?;
                None
            }
        };
        self.open = Some(Open { path: path.into(), media_type: media_type.into(), hasher: Sha256::new(), size: 0, file });
        Ok(())
    }

    fn write_raw(&mut self, buf: &[u8]) -> io::Result<()> {
        let open = self.open.as_mut().ok_or_else(|| io::Error::other("no package file is open"))?;
        open.hasher.update(buf);
        open.size += buf.len() as u64;
        match (&mut self.out, &mut open.file) {
            (Out::Dir(_), Some(f)) => f.write_all(buf),
            (Out::Zip(z), _) => z.write_all(buf),
            _ => unreachable!(),
        }
    }

    fn write_stream(&mut self, buf: &[u8]) -> Result<(), PackageError> {
        let path = self.open.as_ref().map(|o| o.path.clone()).unwrap_or_default();
        self.write_raw(buf).map_err(io_err(path))
    }

    fn end_stream(&mut self) -> Result<(), PackageError> {
        let open = self.open.take().expect("a file is open");
        if let Some(mut f) = open.file {
            f.flush().map_err(io_err(&open.path))?;
        }
        self.entries.push(FileEntry {
            path: open.path,
            size: open.size,
            media_type: open.media_type,
            sha256: hex::encode(open.hasher.finalize()),
        });
        Ok(())
    }

    fn add_bytes(&mut self, path: &str, media_type: &str, bytes: &[u8]) -> Result<(), PackageError> {
        self.start_stream(path, media_type, true)?;
        self.write_stream(bytes)?;
        self.end_stream()
    }

    /// Adds a staged content file whose hash is known. A directory package gets a hard
    /// link (no copy, and the staging copy stays for a retried finish).
    fn add_staged(
        &mut self,
        path: &str,
        media_type: &str,
        staged: &Path,
        size: u64,
        sha: &str,
        compress: bool,
    ) -> Result<(), PackageError> {
        if let Out::Dir(root) = &self.out {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).map_err(io_err(path))?;
            let _ = std::fs::remove_file(&p);
            if std::fs::hard_link(staged, &p).is_err() {
                std::fs::copy(staged, &p).map_err(io_err(path))?;
            }
            self.entries.push(FileEntry { path: path.into(), size, media_type: media_type.into(), sha256: sha.into() });
            return Ok(());
        }
        // the hash is known from staging: copy without hashing again, but check the size
        self.start_stream(path, media_type, compress)?;
        let mut f = File::open(staged).map_err(io_err(path))?;
        let Out::Zip(z) = &mut self.out else { unreachable!() };
        let copied = io::copy(&mut f, z).map_err(io_err(path))?;
        self.open = None;
        if copied != size {
            return Err(PackageError::invalid(path, format!("staged content is {copied} bytes, expected {size}")));
        }
        self.entries.push(FileEntry { path: path.into(), size, media_type: media_type.into(), sha256: sha.into() });
        Ok(())
    }

    fn finish(self) -> Result<(), PackageError> {
        match self.out {
            Out::Dir(_) => Ok(()),
            Out::Zip(z) => {
                let mut w = z.finish().map_err(|e| PackageError::io("finishing ZIP", io::Error::other(e)))?;
                w.flush().map_err(io_err("finishing ZIP"))?;
                w.get_ref().sync_all().map_err(io_err("finishing ZIP"))
            }
        }
    }
}
