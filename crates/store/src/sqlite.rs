use crate::common::{self, REPORT_LIST_LIMIT};
use crate::{
    Account, ApiToken, CursorRow, ItemProblem, ItemRow, Job, JobSpec, JobState, JobStore, Lease, LedgerEntry, Outcome, Report, Result,
    StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::Vertical;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// A database error as the store's own: what went wrong, not which driver.
trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(|e| match &e {
            sqlx::Error::PoolTimedOut => StoreError::Busy(e.to_string()),
            sqlx::Error::Database(d) if d.message().contains("locked") || d.message().contains("busy") => StoreError::Busy(e.to_string()),
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnNotFound(_)
            | sqlx::Error::TypeNotFound { .. } => StoreError::Corrupt(e.to_string()),
            _ => StoreError::Unavailable(e.to_string()),
        })
    }
}

impl<T> Db<T> for std::result::Result<T, sqlx::migrate::MigrateError> {
    fn db(self) -> Result<T> {
        self.map_err(|e| StoreError::Unavailable(format!("migrating the job store: {e}")))
    }
}

/// The embedded job store: one SQLite file, WAL mode, migrations applied on open.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) `ferry.db` in `data_dir`.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create data directory {}: {e}", data_dir.display())))?;
        let opts = SqliteConnectOptions::new()
            .filename(data_dir.join("ferry.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // 1 MiB of pages per connection (SQLite's default is 2 MiB), so the pool's 8
            // connections keep a million-item job under 64 MiB (no slower: bench/README.md);
            // 8, not 4: a server's readers must not queue behind jobs waiting to write
            .pragma("cache_size", "-1024")
            .busy_timeout(Duration::from_secs(10));
        // concurrent first runs on a new data directory: one creates the tables, the
        // others wait for it here instead of failing on "table jobs already exists"
        let lock = crate::lock::open_lock_file(&data_dir.join("ferry.db.lock"))
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", data_dir.join("ferry.db.lock").display())))?;
        let lock = tokio::task::spawn_blocking(move || lock.lock().map(|_| lock))
            .await
            .map_err(|e| StoreError::Corrupt(e.to_string()))?
            .map_err(|e| StoreError::Unavailable(format!("cannot lock the job store: {e}")))?;
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await.db()?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await.db()?;
        drop(lock);
        Ok(SqliteStore { pool })
    }

    fn row_to_job(r: &sqlx::sqlite::SqliteRow) -> Result<Job> {
        Ok(Job {
            id: r.get("id"),
            spec: JobSpec {
                source: r.get("source"),
                destination: r.get("destination"),
                verticals: common::verticals(r.get("verticals"))?,
                options: common::options(r.get("options"))?,
                owner: r.get("owner"),
            },
            state: JobState::from_str(r.get::<&str, _>("state")).map_err(StoreError::Corrupt)?,
            reason: r.get("reason"),
            worker: r.get("worker"),
            lease_expires_at: r.get::<Option<&str>, _>("lease_expires_at").map(time).transpose()?,
            cancel_requested: r.get::<i64, _>("cancel_requested") != 0,
            created_at: time(r.get("created_at"))?,
            updated_at: time(r.get("updated_at"))?,
        })
    }

    /// Why a write under `lease` found it not current: the job as it is now says.
    async fn lost<'c, E: sqlx::SqliteExecutor<'c>>(&self, ex: E, lease: &Lease) -> StoreError {
        let row = sqlx::query("SELECT fence, worker, lease_expires_at FROM jobs WHERE id = ?").bind(&lease.job).fetch_optional(ex).await;
        match row.db() {
            Ok(Some(r)) => {
                let expires = r.get::<Option<&str>, _>("lease_expires_at").and_then(|t| time(t).ok());
                common::lease_lost(lease, r.get("fence"), r.get("worker"), expires)
            }
            Ok(None) => StoreError::NoSuchJob(lease.job.clone()),
            Err(e) => e,
        }
    }

    /// Checks, as the first statement of a write transaction, that `lease` is the job's
    /// current one and unexpired; the transaction then holds SQLite's write lock, so no
    /// one takes the job over before it ends.
    async fn fence(&self, tx: &mut sqlx::SqliteConnection, lease: &Lease, t: &str) -> Result<()> {
        let n = sqlx::query("UPDATE jobs SET updated_at = ?1 WHERE id = ?2 AND fence = ?3 AND lease_expires_at > ?1")
            .bind(t)
            .bind(&lease.job)
            .bind(lease.fence)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        if n == 0 {
            return Err(self.lost(&mut *tx, lease).await);
        }
        Ok(())
    }

    /// A write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`):
    /// what it reads stays true until it commits.
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.db()
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Times are kept as RFC 3339 text in UTC with milliseconds, which sorts as it compares.
fn now() -> String {
    stamp(Utc::now())
}

fn time(t: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).map(|d| d.with_timezone(&Utc)).map_err(|e| StoreError::Corrupt(format!("a time `{t}`: {e}")))
}

/// When a lease taken now for `ttl` ends, as stored and as the lease carries it.
fn expiry(ttl: Duration) -> (String, DateTime<Utc>) {
    let text = stamp(Utc::now() + chrono::Duration::milliseconds(common::ttl_millis(ttl)));
    let at = time(&text).expect("a time just written reads back");
    (text, at)
}

fn json_ids(ids: &[&str]) -> String {
    serde_json::to_string(ids).expect("strings serialize")
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn create_job(&self, spec: &JobSpec) -> Result<Job> {
        let t = now();
        for _ in 0..common::ID_DRAWS {
            let id = common::new_job_id();
            let n = sqlx::query(
                "INSERT INTO jobs (id, owner, source, destination, verticals, options, state, created_at, \
                updated_at) VALUES (?, ?, ?, ?, ?, ?, 'created', ?, ?) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&id)
            .bind(&spec.owner)
            .bind(&spec.source)
            .bind(&spec.destination)
            .bind(serde_json::to_string(&spec.verticals).expect("serializes"))
            .bind(serde_json::to_string(&spec.options).expect("serializes"))
            .bind(&t)
            .bind(&t)
            .execute(&self.pool)
            .await
            .db()?
            .rows_affected();
            if n == 1 {
                return self.job(&id).await;
            }
        }
        Err(StoreError::Busy("no free job id was drawn; try again".into()))
    }

    async fn job(&self, id: &str) -> Result<Job> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = ?").bind(id).fetch_optional(&self.pool).await.db()?;
        match row {
            Some(r) => Self::row_to_job(&r),
            None => Err(StoreError::NoSuchJob(id.to_owned())),
        }
    }

    async fn jobs(&self, owner: Option<&str>, limit: u32) -> Result<Vec<Job>> {
        let rows = match owner {
            None => sqlx::query("SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?").bind(limit as i64),
            Some(o) => {
                sqlx::query("SELECT * FROM jobs WHERE owner = ? ORDER BY created_at DESC, rowid DESC LIMIT ?").bind(o).bind(limit as i64)
            }
        }
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(Self::row_to_job).collect()
    }

    async fn set_state(&self, id: &str, state: JobState, reason: Option<&str>, lease: Option<&Lease>) -> Result<()> {
        let t = now();
        let Some(lease) = lease else {
            let n = sqlx::query("UPDATE jobs SET state = ?, reason = ?, updated_at = ? WHERE id = ?")
                .bind(state.as_str())
                .bind(reason)
                .bind(&t)
                .bind(id)
                .execute(&self.pool)
                .await
                .db()?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NoSuchJob(id.to_owned()));
            }
            return Ok(());
        };
        if lease.job != id {
            return Err(StoreError::LeaseLost(format!("a lease on job {} was given for job {id}", lease.job)));
        }
        let n =
            sqlx::query("UPDATE jobs SET state = ?1, reason = ?2, updated_at = ?3 WHERE id = ?4 AND fence = ?5 AND lease_expires_at > ?3")
                .bind(state.as_str())
                .bind(reason)
                .bind(&t)
                .bind(id)
                .bind(lease.fence)
                .execute(&self.pool)
                .await
                .db()?
                .rows_affected();
        if n == 0 {
            return Err(self.lost(&self.pool, lease).await);
        }
        Ok(())
    }

    async fn acquire(&self, id: &str, worker: &str, ttl: Duration, take_over: bool) -> Result<(Job, Lease)> {
        let mut tx = self.write().await?;
        let t = now();
        let row = sqlx::query("SELECT worker, lease_expires_at FROM jobs WHERE id = ?").bind(id).fetch_optional(&mut *tx).await.db()?;
        let Some(row) = row else {
            return Err(StoreError::NoSuchJob(id.to_owned()));
        };
        let holder: Option<String> = row.get("worker");
        let live = row.get::<Option<&str>, _>("lease_expires_at").is_some_and(|e| e > t.as_str());
        if let Some(holder) = holder.filter(|h| live && h != worker && !take_over) {
            return Err(StoreError::Busy(holder));
        }
        let (until, expires_at) = expiry(ttl);
        let row = sqlx::query("UPDATE jobs SET worker = ?, fence = fence + 1, lease_expires_at = ? WHERE id = ? RETURNING *")
            .bind(worker)
            .bind(&until)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        let lease = Lease { job: id.to_owned(), worker: worker.to_owned(), fence: row.get("fence"), expires_at };
        Ok((Self::row_to_job(&row)?, lease))
    }

    async fn claim(&self, worker: &str, ttl: Duration) -> Result<Option<(Job, Lease)>> {
        let mut tx = self.write().await?;
        let t = now();
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE state IN ('queued', 'running') AND (state = 'queued' OR lease_expires_at <= ?) \
            ORDER BY created_at, rowid LIMIT 1",
        )
        .bind(&t)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let Some(id) = id else {
            return Ok(None);
        };
        let (until, expires_at) = expiry(ttl);
        let row = sqlx::query(
            "UPDATE jobs SET state = 'running', reason = NULL, worker = ?, fence = fence + 1, lease_expires_at = ?, \
            updated_at = ? WHERE id = ? RETURNING *",
        )
        .bind(worker)
        .bind(&until)
        .bind(&t)
        .bind(&id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        let lease = Lease { job: id, worker: worker.to_owned(), fence: row.get("fence"), expires_at };
        Ok(Some((Self::row_to_job(&row)?, lease)))
    }

    async fn heartbeat(&self, lease: &mut Lease, ttl: Duration) -> Result<bool> {
        let (until, expires_at) = expiry(ttl);
        let cancel: Option<i64> = sqlx::query_scalar(
            "UPDATE jobs SET lease_expires_at = ?1 WHERE id = ?2 AND fence = ?3 AND lease_expires_at > ?4 RETURNING cancel_requested",
        )
        .bind(&until)
        .bind(&lease.job)
        .bind(lease.fence)
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .db()?;
        match cancel {
            Some(c) => {
                lease.expires_at = expires_at;
                Ok(c != 0)
            }
            None => Err(self.lost(&self.pool, lease).await),
        }
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        sqlx::query("UPDATE jobs SET worker = NULL, lease_expires_at = NULL WHERE id = ? AND fence = ?")
            .bind(&lease.job)
            .bind(lease.fence)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn request_cancel(&self, id: &str) -> Result<()> {
        let n = sqlx::query("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await
            .db()?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NoSuchJob(id.to_owned()));
        }
        Ok(())
    }

    async fn cursor(&self, job: &str, stream: &str) -> Result<Option<CursorRow>> {
        let row = sqlx::query("SELECT cursor, done FROM job_cursors WHERE job_id = ? AND stream = ?")
            .bind(job)
            .bind(stream)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        Ok(row.map(|r| CursorRow { cursor: r.get("cursor"), done: r.get::<i64, _>("done") != 0 }))
    }

    async fn commit_page(
        &self,
        lease: Option<&Lease>,
        job: &str,
        pair: Option<&str>,
        stream: &str,
        rows: &[ItemRow],
        cursor: Option<&str>,
        done: bool,
    ) -> Result<()> {
        let t = now();
        let mut tx = self.write().await?;
        match lease {
            Some(l) if l.job != job => return Err(StoreError::LeaseLost(format!("a lease on job {} was given for job {job}", l.job))),
            Some(l) => self.fence(&mut tx, l, &t).await?,
            None => {
                let n = sqlx::query("UPDATE jobs SET updated_at = ? WHERE id = ?").bind(&t).bind(job).execute(&mut *tx).await.db()?;
                if n.rows_affected() == 0 {
                    return Err(StoreError::NoSuchJob(job.to_owned()));
                }
            }
        }
        // the whole page in three statements: rows travel as one JSON array, written
        // straight from the rows (a tree of JSON values would cost several times the text)
        #[derive(serde::Serialize)]
        struct RowJson<'a> {
            vertical: &'a str,
            source_id: &'a str,
            outcome: &'a str,
            reason: Option<&'a str>,
            dest_id: Option<&'a str>,
            sha256: Option<&'a str>,
            version: &'a str,
            ledger: bool,
        }
        let json = serde_json::to_string(
            &rows
                .iter()
                .map(|r| RowJson {
                    vertical: r.vertical.as_str(),
                    source_id: &r.source_id,
                    outcome: r.outcome.as_str(),
                    reason: r.reason.as_deref(),
                    dest_id: r.dest_id.as_deref(),
                    sha256: r.sha256.as_deref(),
                    version: &r.version,
                    ledger: common::goes_to_ledger(r),
                })
                .collect::<Vec<_>>(),
        )
        .expect("rows serialize");
        sqlx::query(
            "INSERT INTO job_items (job_id, vertical, source_id, outcome, reason, dest_id, sha256, fence) \
            SELECT ?1, json_extract(value, '$.vertical'), json_extract(value, '$.source_id'), json_extract(value, '$.outcome'), \
            json_extract(value, '$.reason'), json_extract(value, '$.dest_id'), json_extract(value, '$.sha256'), ?3 \
            FROM json_each(?2) WHERE true ON CONFLICT (job_id, vertical, source_id) DO UPDATE SET outcome = excluded.outcome, \
            reason = excluded.reason, dest_id = excluded.dest_id, sha256 = excluded.sha256, fence = excluded.fence",
        )
        .bind(job)
        .bind(&json)
        .bind(lease.map(|l| l.fence))
        .execute(&mut *tx)
        .await
        .db()?;
        if let Some(pair) = pair {
            sqlx::query(
                "INSERT INTO ledger (pair, vertical, source_id, version, sha256, dest_id, job_id, \
            updated_at) SELECT ?1, json_extract(value, '$.vertical'), json_extract(value, '$.source_id'), \
            json_extract(value, '$.version'), json_extract(value, '$.sha256'), json_extract(value, '$.dest_id'), ?2, ?3 \
            FROM json_each(?4) WHERE json_extract(value, '$.ledger') ON CONFLICT (pair, vertical, source_id) DO UPDATE \
            SET version = excluded.version, sha256 = excluded.sha256, dest_id = excluded.dest_id, job_id \
            = excluded.job_id, updated_at = excluded.updated_at",
            )
            .bind(pair)
            .bind(job)
            .bind(&t)
            .bind(&json)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        let warnings: Vec<serde_json::Value> = rows
            .iter()
            .flat_map(|r| {
                r.warnings.iter().map(|w| serde_json::json!({"vertical": r.vertical.as_str(), "source_id": r.source_id, "warning": w}))
            })
            .collect();
        if !warnings.is_empty() {
            sqlx::query(
                "INSERT INTO job_warnings (job_id, vertical, source_id, warning) SELECT ?1, json_extract(value, '$.vertical'), \
                json_extract(value, '$.source_id'), json_extract(value, '$.warning') FROM json_each(?2)",
            )
            .bind(job)
            .bind(serde_json::Value::Array(warnings).to_string())
            .execute(&mut *tx)
            .await
            .db()?;
        }
        sqlx::query(
            "INSERT INTO job_cursors (job_id, stream, cursor, done) VALUES (?, ?, ?, ?) ON \
            CONFLICT (job_id, stream) DO UPDATE SET cursor = excluded.cursor, done = excluded.done",
        )
        .bind(job)
        .bind(stream)
        .bind(cursor)
        .bind(done as i64)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn recorded(&self, job: &str, vertical: Vertical, ids: &[&str]) -> Result<HashMap<String, Outcome>> {
        let rows = sqlx::query(
            "SELECT source_id, outcome FROM job_items WHERE job_id = ? AND vertical = ? AND source_id IN (SELECT value FROM json_each(?))",
        )
        .bind(job)
        .bind(vertical.as_str())
        .bind(json_ids(ids))
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(|r| Ok((r.get::<String, _>("source_id"), common::outcome(r.get("outcome"))?))).collect()
    }

    async fn ledger(&self, pair: &str, vertical: Vertical, ids: &[&str]) -> Result<HashMap<String, LedgerEntry>> {
        let rows = sqlx::query(
            "SELECT source_id, version, sha256, dest_id FROM ledger WHERE pair = \
            ? AND vertical = ? AND source_id IN (SELECT value FROM json_each(?))",
        )
        .bind(pair)
        .bind(vertical.as_str())
        .bind(json_ids(ids))
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(rows
            .iter()
            .map(|r| (r.get("source_id"), LedgerEntry { version: r.get("version"), sha256: r.get("sha256"), dest_id: r.get("dest_id") }))
            .collect())
    }

    async fn report(&self, job_id: &str) -> Result<Report> {
        let job = self.job(job_id).await?;
        let mut report = Report {
            job_id: job.id.clone(),
            state: Some(job.state),
            reason: job.reason.clone(),
            dry_run: job.spec.options.dry_run,
            ..Default::default()
        };
        for v in &job.spec.verticals {
            report.verticals.entry(*v).or_default();
        }
        let rows = sqlx::query("SELECT vertical, outcome, COUNT(*) AS n FROM job_items WHERE job_id = ? GROUP BY vertical, outcome")
            .bind(job_id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        for r in rows {
            let v = common::vertical(r.get("vertical"))?;
            let n = r.get::<i64, _>("n") as u64;
            let e = report.verticals.entry(v).or_default();
            e.found += n;
            match common::outcome(r.get("outcome"))? {
                Outcome::Transferred => e.transferred += n,
                Outcome::AlreadyPresent => e.already_present += n,
                Outcome::Skipped => e.skipped += n,
                Outcome::Failed => e.failed += n,
            }
        }
        for (v, entry) in report.verticals.iter_mut() {
            let rows = sqlx::query(
                "SELECT source_id, reason FROM job_items WHERE job_id = ? AND vertical \
                = ? AND outcome IN ('failed', 'skipped') ORDER BY rowid LIMIT ?",
            )
            .bind(job_id)
            .bind(v.as_str())
            .bind(REPORT_LIST_LIMIT)
            .fetch_all(&self.pool)
            .await
            .db()?;
            entry.failures = rows
                .iter()
                .map(|r| ItemProblem { item: r.get("source_id"), reason: r.get::<Option<String>, _>("reason").unwrap_or_default() })
                .collect();
            let rows = sqlx::query("SELECT source_id, warning FROM job_warnings WHERE job_id = ? AND vertical = ? ORDER BY rowid LIMIT ?")
                .bind(job_id)
                .bind(v.as_str())
                .bind(REPORT_LIST_LIMIT)
                .fetch_all(&self.pool)
                .await
                .db()?;
            entry.fidelity_warnings = rows.iter().map(|r| ItemProblem { item: r.get("source_id"), reason: r.get("warning") }).collect();
        }
        Ok(report)
    }

    async fn sync_state(&self, pair: &str, stream: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT state FROM sync_state WHERE pair = ? AND stream = ?")
            .bind(pair)
            .bind(stream)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        Ok(row.map(|r| r.get("state")))
    }

    async fn set_sync_state(&self, pair: &str, stream: &str, state: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO sync_state (pair, stream, state) VALUES (?, ?, ?) ON CONFLICT (pair, \
            stream) DO UPDATE SET state = excluded.state",
        )
        .bind(pair)
        .bind(stream)
        .bind(state)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn put_secret(&self, job: &str, name: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO job_secrets (job_id, name, nonce, ciphertext) VALUES (?, ?, ?, ?) ON \
            CONFLICT (job_id, name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext",
        )
        .bind(job)
        .bind(name)
        .bind(nonce)
        .bind(ciphertext)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn secret(&self, job: &str, name: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let row = sqlx::query("SELECT nonce, ciphertext FROM job_secrets WHERE job_id = ? AND name = ?")
            .bind(job)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        Ok(row.map(|r| (r.get("nonce"), r.get("ciphertext"))))
    }

    async fn delete_secrets(&self, job: &str) -> Result<()> {
        sqlx::query("DELETE FROM job_secrets WHERE job_id = ?").bind(job).execute(&self.pool).await.db()?;
        Ok(())
    }

    async fn create_api_token(&self, name: &str, hash: &[u8]) -> Result<ApiToken> {
        let id = common::new_job_id();
        let t = now();
        sqlx::query("INSERT INTO api_tokens (id, name, hash, created_at) VALUES (?, ?, ?, ?)")
            .bind(&id)
            .bind(name)
            .bind(hash)
            .bind(&t)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(ApiToken { id, name: name.to_owned(), created_at: time(&t)?, revoked_at: None })
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query("SELECT id, name, created_at, revoked_at FROM api_tokens ORDER BY created_at, rowid")
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(api_token).collect()
    }

    async fn api_token(&self, hash: &[u8]) -> Result<Option<ApiToken>> {
        let row = sqlx::query("SELECT id, name, created_at, revoked_at FROM api_tokens WHERE hash = ? AND revoked_at IS NULL")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.as_ref().map(api_token).transpose()
    }

    async fn revoke_api_token(&self, id: &str) -> Result<bool> {
        let n = sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await
            .db()?
            .rows_affected();
        Ok(n == 1)
    }

    async fn put_account(&self, a: &Account) -> Result<()> {
        sqlx::query("INSERT INTO accounts (id, owner, provider, label, nonce, ciphertext, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(&a.id)
            .bind(&a.owner)
            .bind(&a.provider)
            .bind(&a.label)
            .bind(&a.nonce)
            .bind(&a.ciphertext)
            .bind(now())
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn accounts(&self, owner: Option<&str>) -> Result<Vec<Account>> {
        let rows = sqlx::query("SELECT * FROM accounts WHERE owner IS ? ORDER BY created_at, rowid")
            .bind(owner)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(account).collect()
    }

    async fn account(&self, id: &str) -> Result<Option<Account>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = ?").bind(id).fetch_optional(&self.pool).await.db()?;
        row.as_ref().map(account).transpose()
    }

    async fn update_account(&self, id: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<bool> {
        let n = sqlx::query("UPDATE accounts SET nonce = ?, ciphertext = ? WHERE id = ?")
            .bind(nonce)
            .bind(ciphertext)
            .bind(id)
            .execute(&self.pool)
            .await
            .db()?
            .rows_affected();
        Ok(n == 1)
    }

    async fn delete_account(&self, id: &str) -> Result<bool> {
        Ok(sqlx::query("DELETE FROM accounts WHERE id = ?").bind(id).execute(&self.pool).await.db()?.rows_affected() == 1)
    }
}

fn api_token(r: &sqlx::sqlite::SqliteRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.get("id"),
        name: r.get("name"),
        created_at: time(r.get("created_at"))?,
        revoked_at: r.get::<Option<&str>, _>("revoked_at").map(time).transpose()?,
    })
}

fn account(r: &sqlx::sqlite::SqliteRow) -> Result<Account> {
    Ok(Account {
        id: r.get("id"),
        owner: r.get("owner"),
        provider: r.get("provider"),
        label: r.get("label"),
        created_at: time(r.get("created_at"))?,
        nonce: r.get("nonce"),
        ciphertext: r.get("ciphertext"),
    })
}
