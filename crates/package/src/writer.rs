//! Writes a package. Items are first staged (one row per item in a small SQLite file,
//! content in files named from the item id), so that putting an item twice, or resuming
//! after a crash, leaves one copy. `finish` then streams the staged items, in order, into
//! the final ZIP or directory, and writes the manifest last.
//!
//! The staging belongs to one job and is held by one process (see `staging`); nothing in
//! it is ever opened for writing unless ferry created it just now, exclusively.

use crate::assemble::{Plan, RowResult, Rows, StagedRow, assemble, build_path, check_item};
use crate::crypt::Encryption;
use crate::layout::safe_container;
use crate::manifest::Manifest;
use crate::record::PackageRecord;
use crate::sink::Sink;
use crate::staging::{StagingLock, check_target, create_new_private, partial_path, private_dir};
use crate::{Form, PackageError};
use chrono::{DateTime, Utc};
use ferry_codecs::vcard::{WriteVersion, convert};
use ferry_core::{Item, Record, Vertical};
use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

pub struct PackageWriter {
    target: PathBuf,
    staging: PathBuf,
    db: SqlitePool,
    encryption: Option<Encryption>,
    job: String,
    _lock: StagingLock,
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
        let written = sqlx::query(
            "INSERT INTO items (vertical, id, container, record, content_file, \
            content_size, content_sha, media_type) SELECT json_extract(value, '$.vertical'), json_extract(value, \
            '$.id'), json_extract(value, '$.container'), json_extract(value, '$.record'), json_extract(value, \
            '$.content_file'), json_extract(value, '$.content_size'), json_extract(value, '$.content_sha'), \
            json_extract(value, '$.media_type') FROM json_each(?) WHERE true ON CONFLICT (vertical, \
            id) DO UPDATE SET container = excluded.container, record = excluded.record, content_file \
            = excluded.content_file, content_size = excluded.content_size, content_sha = excluded.content_sha, \
            media_type = excluded.media_type WHERE items.record IS NOT excluded.record OR items.content_sha \
            IS NOT excluded.content_sha RETURNING vertical, id",
        )
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
        let opts = SqliteConnectOptions::new()
            .filename(&db_path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(10));
        // one connection: concurrent puts queue here instead of sleeping on SQLite's lock
        let db = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS items (vertical TEXT NOT NULL, id TEXT NOT NULL, container \
            TEXT NOT NULL, record TEXT NOT NULL, content_file TEXT, content_size INTEGER, content_sha \
            TEXT, media_type TEXT, PRIMARY KEY (vertical, id))",
        )
        .execute(&db)
        .await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)").execute(&db).await?;
        let owner: Option<String> = sqlx::query("SELECT value FROM meta WHERE key = 'job'").fetch_optional(&db).await?.map(|r| r.get(0));
        let started: bool = sqlx::query("SELECT COUNT(*) FROM meta").fetch_one(&db).await?.get::<i64, _>(0) > 0;
        match owner {
            Some(o) if o != job => return Err(foreign_staging(target, &o)),
            None if started => return Err(foreign_staging(target, "")),
            _ => {}
        }
        sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES ('created', ?), ('source', ?), ('job', ?)")
            .bind(Utc::now().to_rfc3339())
            .bind(source)
            .bind(job)
            .execute(&db)
            .await?;
        let (rows, rx) = tokio::sync::mpsc::channel(STAGE_BATCH);
        tokio::spawn(commit_rows(db.clone(), rx));
        Ok(PackageWriter { target: target.to_owned(), staging, db, encryption, job: job.to_owned(), _lock: lock, rows })
    }

    /// Stages one item. Idempotent on (vertical, id). An item the package cannot hold
    /// fails here, alone ([`PackageError::BadItem`]).
    pub async fn add(&self, item: &Item) -> Result<Added, PackageError> {
        let v = item.vertical();
        let record = PackageRecord::from_item(item, None);
        check_item(&record).map_err(|why| PackageError::BadItem(format!("{}: {why}", item.id)))?;
        let key = hex::encode(Sha256::digest(format!("{v}\0{}", item.id)));
        let mut content_cols: (Option<String>, Option<i64>, Option<String>, Option<String>) = (None, None, None, None);
        let mut sha = item.known_sha256();
        if let Some(content) = &item.content {
            let rel = format!("content/{}/{}", &key[..2], key);
            let path = self.staging.join(&rel);
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
            let (tmp, mut out, mut reader) = match linked {
                Some(tmp) => {
                    let f = tokio::fs::File::open(&tmp).await.map_err(io_err(format!("reading {}", item.id)))?;
                    let reader = ferry_core::content::HashingReader::new(
                        Box::pin(tokio::io::BufReader::with_capacity(256 * 1024, f)),
                        content.size,
                        content.sha256.clone(),
                    );
                    (tmp, None, reader)
                }
                None => {
                    let reader = content.open_verified().await.map_err(io_err(format!("reading {}", item.id)))?;
                    // created exclusively (O_EXCL, mode 0600) under a fresh name
                    let tmp = tempfile::Builder::new().prefix(".copy-").tempfile_in(&dir).map_err(io_err("staging"))?;
                    let (f, tmp) = tmp.into_parts();
                    (tmp, Some(tokio::fs::File::from_std(f)), reader)
                }
            };
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
            tmp.persist(&path).map_err(|e| PackageError::io("staging", e.error))?;
            sha = Some(digest.clone());
            content_cols = (Some(rel), Some(size as i64), Some(digest), Some(content.media_type.clone()));
        }
        let record = serde_json::to_string(&record).expect("records serialize");
        let row = serde_json::json!({
            "vertical": v.as_str(), "id": item.id, "container": item.container, "record": record,
            "content_file": content_cols.0, "content_size": content_cols.1, "content_sha": content_cols.2, "media_type": content_cols.3,
        });
        let (done, answer) = tokio::sync::oneshot::channel();
        let staged = match self.rows.send(Pending { row, done }).await {
            Ok(()) => answer.await.unwrap_or_else(|_| Err("the staging task stopped".into())),
            Err(_) => Err("the staging task stopped".into()),
        };
        let created = staged.map_err(|e| PackageError::Staging(sqlx::Error::Protocol(e)))?;
        let warnings = match (&item.record, &item.original) {
            // `finish` writes the card in vCard 4.0: what that loses is said now, per item
            (Record::Contact(_), Some(o)) => match convert(&o.bytes, WriteVersion::V4) {
                Ok(c) => c.warnings,
                Err(e) => vec![format!("the vCard cannot be converted to 4.0 ({e}); contacts.vcf holds only the fields of its record")],
            },
            // a time zone used but defined nowhere: the times cannot be placed exactly
            (Record::Event(_) | Record::Task(_), Some(o)) => ferry_codecs::ical::timezone_warnings(&o.bytes),
            _ => Vec::new(),
        };
        Ok(Added { created, sha256: sha, path_hint: format!("{v}/{}", safe_container(&item.container)), warnings })
    }

    /// Writes the final package from what is staged, moves it into place, then removes
    /// the staging. The package is built (and encrypted) on a blocking thread, inside the
    /// staging folder; the rows reach it over a bounded channel.
    pub async fn finish(&self) -> Result<Manifest, PackageError> {
        let meta: BTreeMap<String, String> =
            sqlx::query("SELECT key, value FROM meta").fetch_all(&self.db).await?.iter().map(|r| (r.get("key"), r.get("value"))).collect();
        let created =
            meta.get("created").and_then(|c| DateTime::parse_from_rfc3339(c).ok()).map(|d| d.with_timezone(&Utc)).unwrap_or_else(Utc::now);
        let mut verticals = Vec::new();
        for v in Vertical::ALL {
            let count: i64 =
                sqlx::query("SELECT COUNT(*) FROM items WHERE vertical = ?").bind(v.as_str()).fetch_one(&self.db).await?.get(0);
            if count == 0 {
                continue;
            }
            let containers: Vec<String> = sqlx::query("SELECT DISTINCT container FROM items WHERE vertical = ? ORDER BY container")
                .bind(v.as_str())
                .fetch_all(&self.db)
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            verticals.push((v, count as u64, containers));
        }
        let plan = Plan {
            staging: self.staging.clone(),
            created,
            source: meta.get("source").cloned().unwrap_or_default(),
            job: self.job.clone(),
            verticals,
        };
        let (requests, mut asked) = mpsc::channel(1);
        let target = self.target.clone();
        let encryption = self.encryption.clone();
        let job = self.job.clone();
        let build = tokio::task::spawn_blocking(move || build_and_place(&plan, Rows { requests }, &target, &job, encryption.as_ref()));
        while let Some((v, tx)) = asked.recv().await {
            self.send_rows(v, tx).await;
        }
        let manifest = build.await.map_err(|e| PackageError::io("building the package", io::Error::other(e)))??;
        self.db.close().await;
        std::fs::remove_dir_all(&self.staging).map_err(io_err(format!("cannot remove {}", self.staging.display())))?;
        Ok(manifest)
    }

    async fn send_rows(&self, v: Vertical, tx: mpsc::Sender<RowResult>) {
        let mut rows = sqlx::query("SELECT * FROM items WHERE vertical = ? ORDER BY container, id").bind(v.as_str()).fetch(&self.db);
        loop {
            let next = match rows.try_next().await {
                Ok(Some(row)) => decode_row(&row),
                Ok(None) => return,
                Err(e) => Err(e.into()),
            };
            let stop = next.is_err();
            if tx.send(next).await.is_err() || stop {
                return;
            }
        }
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
fn build_and_place(plan: &Plan, rows: Rows, target: &Path, job: &str, encryption: Option<&Encryption>) -> Result<Manifest, PackageError> {
    let build = build_path(&plan.staging);
    let _ = std::fs::remove_dir_all(&build);
    let _ = std::fs::remove_file(&build);
    let form = Form::of(target);
    let result = (|| {
        let mut sink = match form {
            Form::Directory => Sink::dir(&build)?,
            Form::Zip => Sink::zip(&build, None)?,
            Form::EncryptedZip => Sink::zip(&build, Some(encryption.expect("checked at open")))?,
        };
        let manifest = assemble(plan, &rows, &mut sink)?;
        drop(rows);
        sink.finish()?;
        place(&build, target, job, &plan.staging)?;
        Ok(manifest)
    })();
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

fn decode_row(row: &sqlx::sqlite::SqliteRow) -> RowResult {
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
    Ok(StagedRow { rec, staged, media_type: row.get::<Option<String>, _>("media_type").unwrap_or_default() })
}
