use crate::{CursorRow, ItemProblem, ItemRow, Job, JobSpec, JobState, JobStore, LedgerEntry, Outcome, Report, Result, StoreError};
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

/// Failures and warnings listed in a report, at most, per vertical.
const REPORT_LIST_LIMIT: i64 = 1000;

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
            // 1 MiB of pages per connection (SQLite's default is 2 MiB), so the pool's 4
            // connections keep a million-item job under 64 MiB (no slower: bench/README.md)
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
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await.db()?;
        sqlx::migrate!("./migrations").run(&pool).await.db()?;
        drop(lock);
        Ok(SqliteStore { pool })
    }

    fn row_to_job(r: &sqlx::sqlite::SqliteRow) -> Result<Job> {
        let verticals: Vec<Vertical> =
            serde_json::from_str(r.get::<&str, _>("verticals")).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let options = serde_json::from_str(r.get::<&str, _>("options")).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let time = |c: &str| -> Result<DateTime<Utc>> {
            DateTime::parse_from_rfc3339(r.get::<&str, _>(c)).map(|d| d.with_timezone(&Utc)).map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        Ok(Job {
            id: r.get("id"),
            spec: JobSpec { source: r.get("source"), destination: r.get("destination"), verticals, options },
            state: JobState::from_str(r.get::<&str, _>("state")).map_err(StoreError::Corrupt)?,
            reason: r.get("reason"),
            worker_pid: r.get::<Option<i64>, _>("worker_pid").map(|p| p as u32),
            created_at: time("created_at")?,
            updated_at: time("updated_at")?,
        })
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn json_ids(ids: &[&str]) -> String {
    serde_json::to_string(ids).expect("strings serialize")
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn create_job(&self, spec: &JobSpec) -> Result<Job> {
        let id = uuid::Uuid::now_v7().simple().to_string()[..16].to_owned();
        let t = now();
        sqlx::query(
            "INSERT INTO jobs (id, source, destination, verticals, options, state, created_at, \
            updated_at) VALUES (?, ?, ?, ?, ?, 'created', ?, ?)",
        )
        .bind(&id)
        .bind(&spec.source)
        .bind(&spec.destination)
        .bind(serde_json::to_string(&spec.verticals).expect("serializes"))
        .bind(serde_json::to_string(&spec.options).expect("serializes"))
        .bind(&t)
        .bind(&t)
        .execute(&self.pool)
        .await
        .db()?;
        self.job(&id).await
    }

    async fn job(&self, id: &str) -> Result<Job> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = ?").bind(id).fetch_optional(&self.pool).await.db()?;
        match row {
            Some(r) => Self::row_to_job(&r),
            None => Err(StoreError::NoSuchJob(id.to_owned())),
        }
    }

    async fn jobs(&self, limit: u32) -> Result<Vec<Job>> {
        let rows = sqlx::query("SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?")
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(Self::row_to_job).collect()
    }

    async fn set_state(&self, id: &str, state: JobState, reason: Option<&str>, worker_pid: Option<u32>) -> Result<()> {
        let n = sqlx::query("UPDATE jobs SET state = ?, reason = ?, worker_pid = ?, updated_at = ? WHERE id = ?")
            .bind(state.as_str())
            .bind(reason)
            .bind(worker_pid.map(|p| p as i64))
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

    async fn cursor(&self, job: &str, vertical: Vertical) -> Result<Option<CursorRow>> {
        let row = sqlx::query("SELECT cursor, done FROM job_cursors WHERE job_id = ? AND vertical = ?")
            .bind(job)
            .bind(vertical.as_str())
            .fetch_optional(&self.pool)
            .await
            .db()?;
        Ok(row.map(|r| CursorRow { cursor: r.get("cursor"), done: r.get::<i64, _>("done") != 0 }))
    }

    async fn commit_page(
        &self,
        job: &str,
        pair: Option<&str>,
        vertical: Vertical,
        rows: &[ItemRow],
        cursor: Option<&str>,
        done: bool,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.db()?;
        let t = now();
        // the whole page in three statements: rows travel as one JSON array, written
        // straight from the rows (a tree of JSON values would cost several times the text)
        #[derive(serde::Serialize)]
        struct RowJson<'a> {
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
                    source_id: &r.source_id,
                    outcome: r.outcome.as_str(),
                    reason: r.reason.as_deref(),
                    dest_id: r.dest_id.as_deref(),
                    sha256: r.sha256.as_deref(),
                    version: &r.version,
                    ledger: matches!(r.outcome, Outcome::Transferred | Outcome::AlreadyPresent) && r.dest_id.is_some(),
                })
                .collect::<Vec<_>>(),
        )
        .expect("rows serialize");
        sqlx::query(
            "INSERT INTO job_items (job_id, vertical, source_id, outcome, reason, dest_id, sha256) \
            SELECT ?1, ?2, json_extract(value, '$.source_id'), json_extract(value, '$.outcome'), json_extract(value, \
            '$.reason'), json_extract(value, '$.dest_id'), json_extract(value, '$.sha256') FROM json_each(?3) \
            WHERE true ON CONFLICT (job_id, vertical, source_id) DO UPDATE SET outcome = excluded.outcome, \
            reason = excluded.reason, dest_id = excluded.dest_id, sha256 = excluded.sha256",
        )
        .bind(job)
        .bind(vertical.as_str())
        .bind(&json)
        .execute(&mut *tx)
        .await
        .db()?;
        if let Some(pair) = pair {
            sqlx::query(
                "INSERT INTO ledger (pair, vertical, source_id, version, sha256, dest_id, job_id, \
            updated_at) SELECT ?1, ?2, json_extract(value, '$.source_id'), json_extract(value, '$.version'), \
            json_extract(value, '$.sha256'), json_extract(value, '$.dest_id'), ?3, ?4 FROM json_each(?5) \
            WHERE json_extract(value, '$.ledger') ON CONFLICT (pair, vertical, source_id) DO UPDATE \
            SET version = excluded.version, sha256 = excluded.sha256, dest_id = excluded.dest_id, job_id \
            = excluded.job_id, updated_at = excluded.updated_at",
            )
            .bind(pair)
            .bind(vertical.as_str())
            .bind(job)
            .bind(&t)
            .bind(&json)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        let warnings: Vec<serde_json::Value> =
            rows.iter().flat_map(|r| r.warnings.iter().map(|w| serde_json::json!({"source_id": r.source_id, "warning": w}))).collect();
        if !warnings.is_empty() {
            sqlx::query(
                "INSERT INTO job_warnings (job_id, vertical, source_id, warning) SELECT ?1, \
                ?2, json_extract(value, '$.source_id'), json_extract(value, '$.warning') FROM json_each(?3)",
            )
            .bind(job)
            .bind(vertical.as_str())
            .bind(serde_json::Value::Array(warnings).to_string())
            .execute(&mut *tx)
            .await
            .db()?;
        }
        sqlx::query(
            "INSERT INTO job_cursors (job_id, vertical, cursor, done) VALUES (?, ?, ?, ?) ON \
            CONFLICT (job_id, vertical) DO UPDATE SET cursor = excluded.cursor, done = excluded.done",
        )
        .bind(job)
        .bind(vertical.as_str())
        .bind(cursor)
        .bind(done as i64)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query("UPDATE jobs SET updated_at = ? WHERE id = ?").bind(&t).bind(job).execute(&mut *tx).await.db()?;
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
        rows.iter()
            .map(|r| Ok((r.get::<String, _>("source_id"), Outcome::from_str(r.get::<&str, _>("outcome")).map_err(StoreError::Corrupt)?)))
            .collect()
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
            let v = Vertical::from_str(r.get::<&str, _>("vertical")).map_err(StoreError::Corrupt)?;
            let n = r.get::<i64, _>("n") as u64;
            let e = report.verticals.entry(v).or_default();
            e.found += n;
            match Outcome::from_str(r.get::<&str, _>("outcome")).map_err(StoreError::Corrupt)? {
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

    async fn sync_state(&self, pair: &str, vertical: Vertical) -> Result<Option<String>> {
        let row = sqlx::query("SELECT state FROM sync_state WHERE pair = ? AND vertical = ?")
            .bind(pair)
            .bind(vertical.as_str())
            .fetch_optional(&self.pool)
            .await
            .db()?;
        Ok(row.map(|r| r.get("state")))
    }

    async fn set_sync_state(&self, pair: &str, vertical: Vertical, state: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO sync_state (pair, vertical, state) VALUES (?, ?, ?) ON CONFLICT (pair, \
            vertical) DO UPDATE SET state = excluded.state",
        )
        .bind(pair)
        .bind(vertical.as_str())
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
}
