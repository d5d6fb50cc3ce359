//! Writes a package. Items are first staged (records appended to the journal, one small
//! row per item in the staging index, content in files named from the item id), so that
//! putting an item twice, or resuming after a crash, leaves one copy. `finish` then streams
//! the staged items, in order, into the final ZIP or directory, and writes the manifest
//! last.
//!
//! The staging belongs to one job and is held by one process (see `staging`); nothing in
//! it is ever opened for writing unless ferry created it just now, exclusively.

use crate::ContentRef;
use crate::assemble::{Plan, Rows, assemble, build_path, check_item, parts_path, zip_time};
use crate::crypt::Encryption;
use crate::index::{IndexRow, StagingIndex};
use crate::journal::Journal;
use crate::layout::safe_container;
use crate::record::AttachedRef;
use crate::record::PackageRecord;
use crate::sink::Sink;
use crate::stagers::Stagers;
use crate::staging::{StagingLock, check_target, create_new_private, partial_path, private_dir};
use crate::{Form, PackageError};
use chrono::{DateTime, Utc};
use ferry_codecs::vcard::{WriteVersion, convert};
use ferry_core::{Content, Item, Record};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncReadExt;

pub struct PackageWriter {
    target: PathBuf,
    staging: PathBuf,
    /// The journal and the index, written together, one page at a time.
    state: Arc<Mutex<StagingState>>,
    encryption: Option<Encryption>,
    job: String,
    /// Content staged at once within a page ([`content_at_once`], read once at open).
    at_once: usize,
    /// Where content is copied (`at_once` threads).
    stagers: Stagers,
    _lock: StagingLock,
}

/// What is staged: the records' journal, the index that points into it, and the rows of
/// the bodies appended since the last sync point.
pub(crate) struct StagingState {
    pub journal: Journal,
    pub index: StagingIndex,
    unsynced: Vec<IndexRow>,
}

impl StagingState {
    /// Appends a page's bodies to the journal; their rows wait for the next sync point.
    fn stage(&mut self, page: Vec<(IndexRow, Vec<u8>)>) -> Result<(), PackageError> {
        let (mut rows, bodies): (Vec<IndexRow>, Vec<Vec<u8>>) = page.into_iter().unzip();
        let spans = self.journal.append(&bodies).map_err(|e| PackageError::io("cannot write the staged records", e))?;
        for (row, span) in rows.iter_mut().zip(spans) {
            row.body = span;
        }
        self.unsynced.extend(rows);
        Ok(())
    }

    /// The sync point: syncs the journal, then adds the waiting rows to the index in one
    /// (durable) transaction, so a row never points at bytes that are not on the disk.
    pub fn sync(&mut self) -> Result<(), PackageError> {
        if self.unsynced.is_empty() {
            return Ok(());
        }
        self.journal.sync().map_err(|e| PackageError::io("cannot write the staged records", e))?;
        self.index.append(&self.unsynced)?;
        self.unsynced.clear();
        Ok(())
    }
}

/// Content staged at once, at most, within a page (files are linked or copied and hashed),
/// and the writer's threads that copy it ([`Stagers`]): twice the cores, from 2 to 8.
/// Hashing is bound by the cores, and every thread that allocates keeps memory of its own.
fn content_at_once() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2).clamp(2, 8)
}

/// A writer that remembers whether a write failed (to tell the staging's failure from
/// the source's).
struct Watched<W> {
    inner: W,
    failed: bool,
}

impl<W: io::Write> io::Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).inspect_err(|_| self.failed = true)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|_| self.failed = true)
    }
}

/// An item ready to stage: its index row (without its place in the journal), its body
/// (the record, then its standard text if it has one) and what `add` will answer.
struct Prepared {
    row: IndexRow,
    body: Vec<u8>,
    added: Added,
}

/// The staged records' file, in the staging folder.
const JOURNAL: &str = "records.log";

/// What `add` did.
pub struct Added {
    pub created: bool,
    pub sha256: Option<String>,
    pub path_hint: String,
    /// What the package's standard files cannot hold exactly (a vCard's conversion to 4.0).
    pub warnings: Vec<String>,
}

fn io_err(ctx: impl Into<String>) -> impl FnOnce(io::Error) -> PackageError {
    let ctx = ctx.into();
    move |e| PackageError::io(ctx, e)
}

impl PackageWriter {
    /// Refuses, before any work, a target that job `job` may not write: see
    /// [`check_target`](crate::staging::check_target); also a staging left by another job.
    pub fn check_target(target: &Path, job: &str) -> Result<(), PackageError> {
        check_target(target, job)?;
        let db = partial_path(target).join("staging.db");
        if db.exists() {
            // read without SQLite: the job is also written, once, beside the database
            match std::fs::read_to_string(partial_path(target).join("job")) {
                Ok(owner) if owner.trim() == job => {}
                Ok(owner) => return Err(foreign_staging(target, owner.trim())),
                Err(_) => return Err(foreign_staging(target, "")),
            }
        }
        Ok(())
    }

    /// Opens a writer for job `job` to `target`; staging lives beside it in
    /// `<target>.ferry-partial/` and survives a crash, so a resumed job continues where it
    /// stopped. Another process holding the staging, or a staging of another job, is refused.
    pub async fn open(target: &Path, source: &str, job: &str, encryption: Option<Encryption>) -> Result<Self, PackageError> {
        if Form::of(target) == Form::EncryptedZip && encryption.is_none() {
            return Err(PackageError::invalid(target.display().to_string(), "a `.age` package needs a passphrase or a recipient"));
        }
        check_target(target, job)?;
        let staging = partial_path(target);
        let fresh = !staging.exists();
        private_dir(&staging)?;
        let lock = StagingLock::acquire(&staging, job)?;
        private_dir(&staging.join("content"))?;
        let db_path = staging.join("staging.db");
        match create_new_private(&db_path) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && !fresh => {}
            Err(e) => return Err(PackageError::io(format!("cannot create {}", db_path.display()), e)),
        }
        match create_new_private(&staging.join("job")) {
            Ok(mut f) => io::Write::write_all(&mut f, job.as_bytes()).map_err(io_err("staging"))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(PackageError::io("staging", e)),
        }
        let index = StagingIndex::open(&db_path)?;
        let meta = index.meta()?;
        match meta.get("job") {
            Some(o) if o != job => return Err(foreign_staging(target, o)),
            None if !meta.is_empty() => return Err(foreign_staging(target, "")),
            _ => {}
        }
        index.init_meta(&[("created", &Utc::now().to_rfc3339()), ("source", source), ("job", job)])?;
        let journal = Journal::open(&staging.join(JOURNAL), fresh).map_err(io_err("cannot open the staged records"))?;
        let state = Arc::new(Mutex::new(StagingState { journal, index, unsynced: Vec::new() }));
        let at_once = content_at_once();
        let stagers = Stagers::new(at_once)?;
        Ok(PackageWriter { target: target.to_owned(), staging, state, encryption, job: job.to_owned(), at_once, stagers, _lock: lock })
    }

    /// Stages one item. Idempotent on (vertical, id). An item the package cannot hold
    /// fails here, alone ([`PackageError::BadItem`]).
    pub async fn add(&self, item: &Item) -> Result<Added, PackageError> {
        self.add_page(&[item]).await.pop().expect("one result per item")
    }

    /// Stages several items in one write: one result per item, in order; they are durable
    /// after the next [`PackageWriter::sync`]. An item that cannot be read or held fails
    /// alone; a staging failure fails them all.
    pub async fn add_page(&self, items: &[&Item]) -> Vec<Result<Added, PackageError>> {
        // (a loop, not a stream combinator: a closure here makes the future fail `Send`)
        let mut running = futures::stream::FuturesOrdered::new();
        let mut prepared = Vec::with_capacity(items.len());
        for item in items {
            if running.len() >= self.at_once
                && let Some(p) = running.next().await
            {
                prepared.push(p);
            }
            running.push_back(self.prepare(item));
        }
        while let Some(p) = running.next().await {
            prepared.push(p);
        }
        let mut page = Vec::new();
        let mut results: Vec<Result<Added, PackageError>> = Vec::with_capacity(prepared.len());
        for p in prepared {
            results.push(p.map(|p| {
                page.push((p.row, p.body));
                p.added
            }));
        }
        let state = self.state.clone();
        let staged = tokio::task::spawn_blocking(move || state.lock().map_err(|_| PackageError::Staging("poisoned".into()))?.stage(page))
            .await
            .unwrap_or_else(|e| Err(PackageError::Staging(e.to_string())));
        match staged {
            Ok(()) => results,
            Err(e) => {
                let why = e.to_string();
                results.into_iter().map(|r| r.and(Err(PackageError::Staging(why.clone())))).collect()
            }
        }
    }

    /// Makes what was staged so far durable: the engine calls it before the job store
    /// records the items as transferred (a page's own staging is not synced: that costs a
    /// disk flush per page).
    pub async fn sync(&self) -> Result<(), PackageError> {
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || state.lock().map_err(|_| PackageError::Staging("poisoned".into()))?.sync())
            .await
            .unwrap_or_else(|e| Err(PackageError::Staging(e.to_string())))
    }

    /// Stages one item's content, if it has any, and its attached files, and returns its
    /// staging row.
    async fn prepare(&self, item: &Item) -> Result<Prepared, PackageError> {
        let v = item.vertical();
        let mut record = PackageRecord::from_item(item, None);
        check_item(&record).map_err(|why| PackageError::BadItem(format!("{}: {why}", item.id)))?;
        let key = hex::encode(Sha256::digest(format!("{v}\0{}", item.id)));
        // the staged content file (path, size, SHA-256) and its media type
        let mut staged = None;
        let mut media_type = None;
        let mut sha = item.known_sha256();
        if let Some(content) = &item.content {
            let (rel, size, digest) = self.stage(content, &format!("content/{}/{}", &key[..2], key), &item.id).await?;
            sha = Some(digest.clone());
            staged = Some((rel, size, digest));
            media_type = Some(content.media_type.clone());
        }
        // attached files: kept for the verticals whose files the package writes one per item
        let keeps_attachments = ferry_verticals::find(v).is_some_and(|d| d.codec.is_some());
        let mut dropped = Vec::new();
        for (i, a) in item.attachments.iter().enumerate() {
            if !keeps_attachments {
                dropped.push(format!("attached file {} not kept: a package keeps no attached files of {v}", a.name));
                continue;
            }
            let (path, size, sha256) = self.stage(&a.content, &format!("content/{}/{}-a{i}", &key[..2], key), &item.id).await?;
            let content = ContentRef { path, index: None, size, sha256, media_type: a.content.media_type.clone() };
            record.attached.push(AttachedRef { name: a.name.clone(), content });
        }
        let mut body = serde_json::to_vec(&record).expect("records serialize");
        // after the record: its standard text, then its CSV row
        let record_end = body.len();
        let warnings = match (&item.record, &item.original) {
            // `finish` writes the card in vCard 4.0: what that loses is said now, per item,
            // and the card is kept as written, after its record (as the exporter made it,
            // when it did)
            (Record::Contact(_), Some(_)) if let Some(s) = &item.standard => {
                body.extend_from_slice(s.text.as_bytes());
                s.warnings.clone()
            }
            (Record::Contact(_), Some(o)) => match convert(&o.bytes, WriteVersion::V4) {
                Ok(c) => {
                    body.extend_from_slice(c.text.as_bytes());
                    c.warnings
                }
                Err(e) => vec![format!("the vCard cannot be converted to 4.0 ({e}); contacts.vcf holds only the fields of its record")],
            },
            // a time zone used but defined nowhere: the times cannot be placed exactly
            (Record::Event(_) | Record::Task(_), Some(o)) => ferry_codecs::ical::timezone_warnings(&o.bytes),
            // a later vertical's standard file, made by its module (kept after the record)
            (Record::Other(_), _)
                if let Some(def) = ferry_verticals::find(v)
                    && let Some(codec) = def.codec =>
            {
                let s = match &item.standard {
                    Some(s) => s.clone(),
                    None => (codec.write)(item).map_err(|e| PackageError::invalid(&item.id, e))?,
                };
                // a framed form's file is made from the records at the end: the item's own
                // file is not kept, what it could not hold is
                if !def.standard.is_some_and(|f| matches!(f.per, ferry_verticals::Per::Framed(_))) {
                    body.extend_from_slice(s.text.as_bytes());
                }
                s.warnings
            }
            _ => Vec::new(),
        };
        // what the files the package makes from the records (a vertical's tables) cannot hold
        let warnings = [warnings, ferry_verticals::table_losses(&item.record), dropped].concat();
        let standard_end = body.len();
        // a contact's CSV row, made now from the record in hand (`finish` would have to read
        // the record back to make it; a row not made here is made there)
        if let Record::Contact(c) = &item.record
            && let Ok(line) = ferry_codecs::contacts_csv::row_bytes(c, &item.container)
        {
            body.extend_from_slice(&line);
        }
        let (std_len, csv_len) = ((standard_end - record_end) as u64, (body.len() - standard_end) as u64);
        let row = IndexRow {
            vertical: v.as_str().to_owned(),
            id: item.id.clone(),
            container: item.container.clone(),
            body: Default::default(),
            std_len,
            csv_len,
            content: staged,
            media_type,
        };
        // the staging is this job's own: whatever it holds, this job put there
        let added = Added { created: true, sha256: sha, path_hint: format!("{v}/{}", safe_container(&item.container)), warnings };
        Ok(Prepared { row, body, added })
    }

    /// Copies (or, for a plain ZIP, links) one content stream into the staging at `rel`,
    /// hashing it on the way; returns its staged path, size and SHA-256.
    async fn stage(&self, content: &Content, rel: &str, id: &str) -> Result<(String, u64, String), PackageError> {
        let path = self.staging.join(rel);
        let dir = path.parent().unwrap().to_owned();
        private_dir(&dir)?;
        // a local file is linked into the staging (no copy) and hashed in place: only for
        // plain ZIP packages (a folder package must not share files with the source, and
        // an encrypted package's staging holds only private copies). The link is made
        // under a new, unique name and is only ever read.
        let linked = match content.source.local_path() {
            Some(src) if Form::of(&self.target) == Form::Zip => {
                tempfile::Builder::new().prefix(".link-").make_in(&dir, |p| std::fs::hard_link(src, p)).ok().map(|t| t.into_temp_path())
            }
            _ => None,
        };
        if linked.is_none()
            && let Some(staged) = self.stage_blocking(content, &path, &dir, rel, id).await?
        {
            return Ok(staged);
        }
        let (tmp, mut out, mut reader) = match linked {
            Some(tmp) => {
                let f = tokio::fs::File::open(&tmp).await.map_err(io_err(format!("reading {id}")))?;
                let reader = ferry_core::content::HashingReader::new(
                    Box::pin(tokio::io::BufReader::with_capacity(256 * 1024, f)),
                    content.size,
                    content.sha256.clone(),
                );
                (tmp, None, reader)
            }
            None => {
                let reader = content.open_verified().await.map_err(io_err(format!("reading {id}")))?;
                // created exclusively (O_EXCL, mode 0600) under a fresh name
                let tmp = tempfile::Builder::new().prefix(".copy-").tempfile_in(&dir).map_err(io_err("staging"))?;
                let (f, tmp) = tmp.into_parts();
                (tmp, Some(tokio::fs::File::from_std(f)), reader)
            }
        };
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader.read(&mut buf).await.map_err(io_err(format!("reading {id}")))?;
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
        tmp.persist(&path).map_err(|e| PackageError::io("staging", e.error))?;
        Ok((rel.to_owned(), size, digest))
    }

    /// Stages content whose source reads it without waiting (an archive's file, bytes in
    /// memory): opened, read, hashed and written on one blocking thread. `None` when the
    /// source has no blocking reader.
    async fn stage_blocking(
        &self,
        content: &Content,
        path: &Path,
        dir: &Path,
        rel: &str,
        id: &str,
    ) -> Result<Option<(String, u64, String)>, PackageError> {
        let (content, path, dir) = (content.clone(), path.to_owned(), dir.to_owned());
        let read_err = format!("reading {id}");
        let staged = self
            .stagers
            .run(move || {
                // opened here: opening may itself read (a `.tgz` moves to the file's place)
                let Some(opened) = content.source.open_blocking() else { return Ok(None) };
                let mut reader = opened.map_err(io_err(read_err.clone()))?;
                // created exclusively (O_EXCL, mode 0600) under a fresh name
                let tmp = tempfile::Builder::new().prefix(".copy-").tempfile_in(&dir).map_err(io_err("staging"))?;
                let (f, tmp) = tmp.into_parts();
                // written in the copy's own large pieces: no buffer in between
                let mut out = Watched { inner: f, failed: false };
                let (digest, size) = content.copy_verified(&mut reader, Some(&mut out)).map_err(|e| {
                    // a failed write is the staging's; a failed read or check is the item's
                    PackageError::io(if out.failed { "staging" } else { read_err.as_str() }, e)
                })?;
                std::io::Write::flush(&mut out.inner).map_err(io_err("staging"))?;
                tmp.persist(&path).map_err(|e| PackageError::io("staging", e.error))?;
                Ok::<_, PackageError>(Some((size, digest)))
            })
            .await??;
        Ok(staged.map(|(size, digest)| (rel.to_owned(), size, digest)))
    }

    /// Writes the final package from what is staged, moves it into place, then removes
    /// the staging. The package is built (and encrypted) on a blocking thread, inside the
    /// staging folder; the rows reach it over a bounded channel.
    pub async fn finish(&self) -> Result<(), PackageError> {
        let state = self.state.clone();
        let (staging, target, encryption, job) = (self.staging.clone(), self.target.clone(), self.encryption.clone(), self.job.clone());
        let build = tokio::task::spawn_blocking(move || {
            let plan = {
                let mut staged = state.lock().map_err(|_| PackageError::Staging("poisoned".into()))?;
                staged.sync()?;
                staged.index.settle()?;
                let meta = staged.index.meta()?;
                let created = meta
                    .get("created")
                    .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
                    .map(|d| d.with_timezone(&Utc))
                    .unwrap_or_else(Utc::now);
                let mut verticals = Vec::new();
                for &v in &ferry_verticals::VERTICALS {
                    let (count, containers) = staged.index.summary(v.as_str())?;
                    if count > 0 {
                        verticals.push((v, count, containers));
                    }
                }
                Plan {
                    staging: staging.clone(),
                    created,
                    source: meta.get("source").cloned().unwrap_or_default(),
                    job: job.clone(),
                    verticals,
                }
            };
            let rows = Rows { state, journal: staging.join(JOURNAL) };
            build_and_place(&plan, rows, &target, &job, encryption.as_ref())
        });
        build.await.map_err(|e| PackageError::io("building the package", io::Error::other(e)))??;
        crate::staging::remove_staging(&self.staging).map_err(io_err(format!("cannot remove {}", self.staging.display())))?;
        Ok(())
    }
}

fn foreign_staging(target: &Path, owner: &str) -> PackageError {
    let staging = partial_path(target);
    let whose = if owner.is_empty() { "an earlier export".to_owned() } else { format!("job {owner}") };
    PackageError::Refused(format!(
        "{} holds the unfinished staging of {whose}, not of this job: finish it{} or delete {} to give it up, then run this export again",
        staging.display(),
        if owner.is_empty() { String::new() } else { format!(" with `ferry resume {owner}`") },
        staging.display()
    ))
}

/// Builds the package in the staging folder and moves it to `target`; a failed build
/// leaves nothing but the (private) staging.
fn build_and_place(plan: &Plan, rows: Rows, target: &Path, job: &str, encryption: Option<&Encryption>) -> Result<(), PackageError> {
    let build = build_path(&plan.staging);
    let parts = parts_path(&plan.staging);
    // what an interrupted build left in this job's own staging
    let _ = std::fs::remove_dir_all(&build);
    let _ = std::fs::remove_file(&build);
    let _ = std::fs::remove_dir_all(&parts);
    let form = Form::of(target);
    let result = (|| {
        crate::staging::private_dir(&parts)?;
        let mut sink = match form {
            Form::Directory => Sink::dir(&build, &parts)?,
            Form::Zip => Sink::zip(&build, None, &parts, zip_time(plan.created))?,
            Form::EncryptedZip => Sink::zip(&build, Some(encryption.expect("checked at open")), &parts, zip_time(plan.created))?,
        };
        assemble(plan, &rows, &mut sink)?;
        drop(rows);
        sink.finish()?;
        place(&build, target, job, &plan.staging)
    })();
    let _ = std::fs::remove_dir_all(&parts);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&build);
        let _ = std::fs::remove_file(&build);
    }
    result
}

/// Moves the finished package to `target`, checking again that the target may be replaced.
fn place(build: &Path, target: &Path, job: &str, staging: &Path) -> Result<(), PackageError> {
    check_target(target, job)?;
    let moved = io_err(format!("cannot move the package to {}", target.display()));
    let is_dir = std::fs::symlink_metadata(target).map(|m| m.is_dir()).unwrap_or(false);
    if is_dir && std::fs::read_dir(target).map(|mut d| d.next().is_some()).unwrap_or(false) {
        // this job's own earlier package: set it aside, put the new one in, drop the old
        let old = staging.join("previous");
        std::fs::rename(target, &old).map_err(io_err(format!("cannot replace {}", target.display())))?;
        std::fs::rename(build, target).map_err(moved)?;
        let _ = std::fs::remove_dir_all(&old);
        return Ok(());
    }
    // an empty folder is replaced by rename, as is a file
    std::fs::rename(build, target).map_err(moved)
}
