//! The job store on PostgreSQL, for a fleet of workers sharing one database: the same
//! behaviour as [`crate::SqliteStore`], with the server's clock for leases and row locks
//! (`FOR UPDATE SKIP LOCKED`) so that concurrent workers never claim one job twice.

use crate::common::{self, REPORT_LIST_LIMIT};
use crate::{
    Account, ApiToken, CursorRow, ItemProblem, ItemRow, Job, JobSpec, JobState, JobStore, Lease, LedgerEntry, Outcome, Report, Result,
    StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::Vertical;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Connection, PgConnection, PgPool, Row};
use std::collections::HashMap;
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
            sqlx::Error::Database(d) => match d.code().as_deref().unwrap_or("") {
                // serialization failure, deadlock, lock timeout, statement timeout
                "40001" | "40P01" | "55P03" | "57014" => StoreError::Busy(e.to_string()),
                // data that does not fit what the store keeps
                c if c.starts_with("22") || c.starts_with("23") => StoreError::Corrupt(e.to_string()),
                // connection exceptions, the server shutting down, too many connections and
                // everything else: the store refused or cannot be reached
                _ => StoreError::Unavailable(e.to_string()),
            },
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

/// A job's columns as [`PostgresStore::row_to_job`] reads them.
macro_rules! job {
    () => {
        "id, owner, source, destination, verticals::text AS verticals, options::text AS options, state, reason, \
        worker, fence, lease_expires_at, cancel_requested, created_at, updated_at"
    };
}

/// The job store in a PostgreSQL database, its tables created or brought up to date on
/// connecting.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`,
    /// with the usual parameters such as `sslmode`) and migrates it.
    pub async fn connect(url: &str) -> Result<Self> {
        // the URL may hold a password: it is not repeated in errors
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("the PostgreSQL URL cannot be read: {}", redact(&e.to_string(), url))))?
            .application_name("ferry")
            // a row lock held longer than this is reported as busy, not waited for forever;
            // and a transaction left open by a stalled client (a worker stopped inside a
            // commit, its machine suspended) is ended by the server, so the job's row lock
            // it holds does not keep the job from the next worker
            .options([("lock_timeout", "10s"), ("idle_in_transaction_session_timeout", "10s")]);
        // one connection first: a server that cannot be reached or refuses the login says
        // so at once (the pool would retry a refused connection until it times out)
        let unreachable = |e: sqlx::Error| match e.into_store() {
            StoreError::Unavailable(m) | StoreError::Busy(m) => {
                StoreError::Unavailable(format!("cannot connect to PostgreSQL: {}", redact(&m, url)))
            }
            other => other,
        };
        let first = PgConnection::connect_with(&opts).await.map_err(unreachable)?;
        let pool = PgPoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(10)).connect_lazy_with(opts);
        first.close().await.db()?;
        // concurrent first connections: sqlx's migrator holds an advisory lock meanwhile
        sqlx::migrate!("./migrations/postgres").run(&pool).await.db()?;
        Ok(PostgresStore { pool })
    }

    /// Closes the store's connections (they close on drop too, but not at once).
    pub async fn close(&self) {
        self.pool.close().await
    }

    fn row_to_job(r: &PgRow) -> Result<Job> {
        Ok(Job {
            id: r.try_get("id").db()?,
            spec: JobSpec {
                source: r.try_get("source").db()?,
                destination: r.try_get("destination").db()?,
                verticals: common::verticals(r.try_get("verticals").db()?)?,
                options: common::options(r.try_get("options").db()?)?,
                owner: r.try_get("owner").db()?,
            },
            state: JobState::from_str(r.try_get("state").db()?).map_err(StoreError::Corrupt)?,
            reason: r.try_get("reason").db()?,
            worker: r.try_get("worker").db()?,
            lease_expires_at: r.try_get("lease_expires_at").db()?,
            cancel_requested: r.try_get("cancel_requested").db()?,
            created_at: r.try_get("created_at").db()?,
            updated_at: r.try_get("updated_at").db()?,
        })
    }

    /// Why a write under `lease` found it not current: the job as it is now says.
    async fn lost<'c, E: sqlx::PgExecutor<'c>>(&self, ex: E, lease: &Lease) -> StoreError {
        let row = sqlx::query("SELECT fence, worker, lease_expires_at FROM jobs WHERE id = $1").bind(&lease.job).fetch_optional(ex).await;
        match row.db() {
            Ok(Some(r)) => common::lease_lost(
                lease,
                r.get("fence"),
                r.get::<Option<&str>, _>("worker"),
                r.get::<Option<DateTime<Utc>>, _>("lease_expires_at"),
            ),
            Ok(None) => StoreError::NoSuchJob(lease.job.clone()),
            Err(e) => e,
        }
    }
}

trait IntoStore {
    fn into_store(self) -> StoreError;
}

impl IntoStore for sqlx::Error {
    fn into_store(self) -> StoreError {
        Err::<(), _>(self).db().unwrap_err()
    }
}

/// `message` without the password of `url`, should it be in it.
fn redact(message: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?']).next())
        .and_then(|auth| auth.rsplit_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty());
    match password {
        Some(p) => message.replace(p, "***"),
        None => message.to_owned(),
    }
}

fn other_job(lease: &Lease, job: &str) -> StoreError {
    StoreError::LeaseLost(format!("a lease on job {} was given for job {job}", lease.job))
}

#[async_trait]
impl JobStore for PostgresStore {
    async fn create_job(&self, spec: &JobSpec) -> Result<Job> {
        for _ in 0..common::ID_DRAWS {
            let row = sqlx::query(concat!(
                "INSERT INTO jobs (id, owner, source, destination, verticals, options, state) \
                VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, 'created') ON CONFLICT (id) DO NOTHING RETURNING ",
                job!()
            ))
            .bind(common::new_job_id())
            .bind(&spec.owner)
            .bind(&spec.source)
            .bind(&spec.destination)
            .bind(serde_json::to_string(&spec.verticals).expect("serializes"))
            .bind(serde_json::to_string(&spec.options).expect("serializes"))
            .fetch_optional(&self.pool)
            .await
            .db()?;
            if let Some(row) = row {
                return Self::row_to_job(&row);
            }
        }
        Err(StoreError::Busy("no free job id was drawn; try again".into()))
    }

    async fn job(&self, id: &str) -> Result<Job> {
        let row = sqlx::query(concat!("SELECT ", job!(), " FROM jobs WHERE id = $1")).bind(id).fetch_optional(&self.pool).await.db()?;
        match row {
            Some(r) => Self::row_to_job(&r),
            None => Err(StoreError::NoSuchJob(id.to_owned())),
        }
    }

    async fn jobs(&self, owner: Option<&str>, limit: u32) -> Result<Vec<Job>> {
        let rows = match owner {
            None => sqlx::query(concat!("SELECT ", job!(), " FROM jobs ORDER BY created_at DESC, seq DESC LIMIT $1")).bind(limit as i64),
            Some(o) => sqlx::query(concat!("SELECT ", job!(), " FROM jobs WHERE owner = $1 ORDER BY created_at DESC, seq DESC LIMIT $2"))
                .bind(o)
                .bind(limit as i64),
        }
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(Self::row_to_job).collect()
    }

    async fn set_state(&self, id: &str, state: JobState, reason: Option<&str>, lease: Option<&Lease>) -> Result<()> {
        let n = match lease {
            None => sqlx::query("UPDATE jobs SET state = $1, reason = $2, updated_at = clock_timestamp() WHERE id = $3")
                .bind(state.as_str())
                .bind(reason)
                .bind(id)
                .execute(&self.pool)
                .await
                .db()?
                .rows_affected(),
            Some(l) if l.job != id => return Err(other_job(l, id)),
            Some(l) => {
                let n = sqlx::query(
                    "UPDATE jobs SET state = $1, reason = $2, updated_at = clock_timestamp() \
                    WHERE id = $3 AND fence = $4 AND lease_expires_at > clock_timestamp()",
                )
                .bind(state.as_str())
                .bind(reason)
                .bind(id)
                .bind(l.fence)
                .execute(&self.pool)
                .await
                .db()?
                .rows_affected();
                if n == 0 {
                    return Err(self.lost(&self.pool, l).await);
                }
                n
            }
        };
        if n == 0 {
            return Err(StoreError::NoSuchJob(id.to_owned()));
        }
        Ok(())
    }

    async fn acquire(&self, id: &str, worker: &str, ttl: Duration, take_over: bool) -> Result<(Job, Lease)> {
        // one statement: taken only when free (no holder, the holder's lease ended, or the
        // holder is this worker) or taken over
        let row = sqlx::query(concat!(
            "UPDATE jobs SET worker = $2, fence = fence + 1, lease_expires_at = clock_timestamp() + $3 \
            WHERE id = $1 AND ($4 OR worker IS NULL OR worker = $2 OR lease_expires_at IS NULL \
            OR lease_expires_at <= clock_timestamp()) RETURNING ",
            job!()
        ))
        .bind(id)
        .bind(worker)
        .bind(ttl)
        .bind(take_over)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        let Some(row) = row else {
            let holder: Option<Option<String>> =
                sqlx::query_scalar("SELECT worker FROM jobs WHERE id = $1").bind(id).fetch_optional(&self.pool).await.db()?;
            return Err(match holder {
                None => StoreError::NoSuchJob(id.to_owned()),
                Some(h) => StoreError::Busy(h.unwrap_or_else(|| "another worker".into())),
            });
        };
        let job = Self::row_to_job(&row)?;
        let lease = lease_of(&job, worker, row.try_get("fence").db()?)?;
        Ok((job, lease))
    }

    async fn claim(&self, worker: &str, ttl: Duration) -> Result<Option<(Job, Lease)>> {
        // the oldest claimable job that no other claimer has locked; a job another
        // claimer took meanwhile no longer matches when its lock is granted
        let row = sqlx::query(concat!(
            "WITH next AS (SELECT id AS next_id FROM jobs WHERE state IN ('queued', 'running') \
                AND (state = 'queued' OR lease_expires_at <= clock_timestamp()) \
                ORDER BY created_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED) \
            UPDATE jobs SET state = 'running', reason = NULL, worker = $1, fence = jobs.fence + 1, \
                lease_expires_at = clock_timestamp() + $2, updated_at = clock_timestamp() \
            FROM next WHERE jobs.id = next.next_id RETURNING ",
            job!()
        ))
        .bind(worker)
        .bind(ttl)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(None);
        };
        let job = Self::row_to_job(&row)?;
        let lease = lease_of(&job, worker, row.try_get("fence").db()?)?;
        Ok(Some((job, lease)))
    }

    async fn heartbeat(&self, lease: &mut Lease, ttl: Duration) -> Result<bool> {
        let row = sqlx::query(
            "UPDATE jobs SET lease_expires_at = clock_timestamp() + $3 \
            WHERE id = $1 AND fence = $2 AND lease_expires_at > clock_timestamp() RETURNING cancel_requested, lease_expires_at",
        )
        .bind(&lease.job)
        .bind(lease.fence)
        .bind(ttl)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        match row {
            Some(r) => {
                lease.expires_at = r.try_get("lease_expires_at").db()?;
                r.try_get("cancel_requested").db()
            }
            None => Err(self.lost(&self.pool, lease).await),
        }
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        sqlx::query("UPDATE jobs SET worker = NULL, lease_expires_at = NULL WHERE id = $1 AND fence = $2")
            .bind(&lease.job)
            .bind(lease.fence)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn request_cancel(&self, id: &str) -> Result<()> {
        let n = sqlx::query("UPDATE jobs SET cancel_requested = true, updated_at = clock_timestamp() WHERE id = $1")
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
        let row = sqlx::query("SELECT cursor, done FROM job_cursors WHERE job_id = $1 AND stream = $2")
            .bind(job)
            .bind(stream)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.map(|r| Ok(CursorRow { cursor: r.try_get("cursor").db()?, done: r.try_get("done").db()? })).transpose()
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
        let mut tx = self.pool.begin().await.db()?;
        // first the job's row, locked until the commit: under a lease, only while the
        // lease is current and unexpired, so no one takes the job over meanwhile and a
        // lost lease writes nothing
        let found = match lease {
            Some(l) if l.job != job => return Err(other_job(l, job)),
            Some(l) => sqlx::query(
                "UPDATE jobs SET updated_at = clock_timestamp() WHERE id = $1 AND fence = $2 AND lease_expires_at > clock_timestamp()",
            )
            .bind(job)
            .bind(l.fence),
            None => sqlx::query("UPDATE jobs SET updated_at = clock_timestamp() WHERE id = $1").bind(job),
        }
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if found == 0 {
            return Err(match lease {
                Some(l) => self.lost(&mut *tx, l).await,
                None => StoreError::NoSuchJob(job.to_owned()),
            });
        }
        // each statement takes the page as arrays, one per column
        let rows = common::last_of_each(rows);
        if !rows.is_empty() {
            let verticals: Vec<&str> = rows.iter().map(|r| r.vertical.as_str()).collect();
            let ids: Vec<&str> = rows.iter().map(|r| r.source_id.as_str()).collect();
            let outcomes: Vec<&str> = rows.iter().map(|r| r.outcome.as_str()).collect();
            let reasons: Vec<Option<&str>> = rows.iter().map(|r| r.reason.as_deref()).collect();
            let dest_ids: Vec<Option<&str>> = rows.iter().map(|r| r.dest_id.as_deref()).collect();
            let hashes: Vec<Option<&str>> = rows.iter().map(|r| r.sha256.as_deref()).collect();
            sqlx::query(
                "INSERT INTO job_items (job_id, vertical, source_id, outcome, reason, dest_id, sha256, fence) \
                SELECT $1, v, s, o, r, d, h, $8 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                $7::text[]) AS u (v, s, o, r, d, h) \
                ON CONFLICT (job_id, vertical, source_id) DO UPDATE SET outcome = excluded.outcome, \
                reason = excluded.reason, dest_id = excluded.dest_id, sha256 = excluded.sha256, fence = excluded.fence",
            )
            .bind(job)
            .bind(&verticals)
            .bind(&ids)
            .bind(&outcomes)
            .bind(&reasons)
            .bind(&dest_ids)
            .bind(&hashes)
            .bind(lease.map(|l| l.fence))
            .execute(&mut *tx)
            .await
            .db()?;
        }
        if let Some(pair) = pair {
            let kept: Vec<&&ItemRow> = rows.iter().filter(|r| common::goes_to_ledger(r)).collect();
            if !kept.is_empty() {
                let verticals: Vec<&str> = kept.iter().map(|r| r.vertical.as_str()).collect();
                let ids: Vec<&str> = kept.iter().map(|r| r.source_id.as_str()).collect();
                let versions: Vec<&str> = kept.iter().map(|r| r.version.as_str()).collect();
                let hashes: Vec<Option<&str>> = kept.iter().map(|r| r.sha256.as_deref()).collect();
                let dest_ids: Vec<Option<&str>> = kept.iter().map(|r| r.dest_id.as_deref()).collect();
                sqlx::query(
                    "INSERT INTO ledger (pair, vertical, source_id, version, sha256, dest_id, job_id, updated_at) \
                    SELECT $1, v, s, ver, h, d, $2, clock_timestamp() \
                    FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u (v, s, ver, h, d) \
                    ON CONFLICT (pair, vertical, source_id) DO UPDATE SET version = excluded.version, \
                    sha256 = excluded.sha256, dest_id = excluded.dest_id, job_id = excluded.job_id, updated_at = excluded.updated_at",
                )
                .bind(pair)
                .bind(job)
                .bind(&verticals)
                .bind(&ids)
                .bind(&versions)
                .bind(&hashes)
                .bind(&dest_ids)
                .execute(&mut *tx)
                .await
                .db()?;
            }
        }
        let warned: Vec<(&ItemRow, &str)> = rows.iter().flat_map(|r| r.warnings.iter().map(move |w| (*r, w.as_str()))).collect();
        if !warned.is_empty() {
            let verticals: Vec<&str> = warned.iter().map(|(r, _)| r.vertical.as_str()).collect();
            let ids: Vec<&str> = warned.iter().map(|(r, _)| r.source_id.as_str()).collect();
            let warnings: Vec<&str> = warned.iter().map(|(_, w)| *w).collect();
            sqlx::query(
                "INSERT INTO job_warnings (job_id, vertical, source_id, warning) \
                SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[])",
            )
            .bind(job)
            .bind(&verticals)
            .bind(&ids)
            .bind(&warnings)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        sqlx::query(
            "INSERT INTO job_cursors (job_id, stream, cursor, done) VALUES ($1, $2, $3, $4) \
            ON CONFLICT (job_id, stream) DO UPDATE SET cursor = excluded.cursor, done = excluded.done",
        )
        .bind(job)
        .bind(stream)
        .bind(cursor)
        .bind(done)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn recorded(&self, job: &str, vertical: Vertical, ids: &[&str]) -> Result<HashMap<String, Outcome>> {
        // one lookup of the key per id: `source_id = ANY($3)` lets the planner, whose
        // statistics say a job just created has no rows, read all the job's rows and filter
        // them, a cost that grows with the job (LIMIT 1 keeps the lookup from being
        // flattened into such a join; the key is unique)
        let rows = sqlx::query(
            "SELECT j.source_id, j.outcome FROM UNNEST($3::text[]) AS u (id) CROSS JOIN LATERAL \
            (SELECT source_id, outcome FROM job_items WHERE job_id = $1 AND vertical = $2 AND source_id = u.id LIMIT 1) AS j",
        )
        .bind(job)
        .bind(vertical.as_str())
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(|r| Ok((r.try_get::<String, _>("source_id").db()?, common::outcome(r.try_get("outcome").db()?)?))).collect()
    }

    async fn ledger(&self, pair: &str, vertical: Vertical, ids: &[&str]) -> Result<HashMap<String, LedgerEntry>> {
        let rows =
            // one lookup of the key per id, as in `recorded`
            sqlx::query(
                "SELECT l.source_id, l.version, l.sha256, l.dest_id FROM UNNEST($3::text[]) AS u (id) CROSS JOIN LATERAL \
                (SELECT source_id, version, sha256, dest_id FROM ledger WHERE pair = $1 AND vertical = $2 AND source_id = u.id \
                LIMIT 1) AS l",
            )
                .bind(pair)
                .bind(vertical.as_str())
                .bind(ids)
                .fetch_all(&self.pool)
                .await
                .db()?;
        rows.iter()
            .map(|r| {
                let entry = LedgerEntry {
                    version: r.try_get("version").db()?,
                    sha256: r.try_get("sha256").db()?,
                    dest_id: r.try_get("dest_id").db()?,
                };
                Ok((r.try_get("source_id").db()?, entry))
            })
            .collect()
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
        let rows = sqlx::query("SELECT vertical, outcome, COUNT(*) AS n FROM job_items WHERE job_id = $1 GROUP BY vertical, outcome")
            .bind(job_id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        for r in rows {
            let v = common::vertical(r.try_get("vertical").db()?)?;
            let n = r.try_get::<i64, _>("n").db()? as u64;
            let e = report.verticals.entry(v).or_default();
            e.found += n;
            match common::outcome(r.try_get("outcome").db()?)? {
                Outcome::Transferred => e.transferred += n,
                Outcome::AlreadyPresent => e.already_present += n,
                Outcome::Skipped => e.skipped += n,
                Outcome::Failed => e.failed += n,
            }
        }
        for (v, entry) in report.verticals.iter_mut() {
            let rows = sqlx::query(
                "SELECT source_id, reason FROM job_items WHERE job_id = $1 AND vertical = $2 \
                AND outcome IN ('failed', 'skipped') ORDER BY seq LIMIT $3",
            )
            .bind(job_id)
            .bind(v.as_str())
            .bind(REPORT_LIST_LIMIT)
            .fetch_all(&self.pool)
            .await
            .db()?;
            entry.failures = rows
                .iter()
                .map(|r| {
                    Ok(ItemProblem {
                        item: r.try_get("source_id").db()?,
                        reason: r.try_get::<Option<String>, _>("reason").db()?.unwrap_or_default(),
                    })
                })
                .collect::<Result<_>>()?;
            let rows = sqlx::query("SELECT source_id, warning FROM job_warnings WHERE job_id = $1 AND vertical = $2 ORDER BY seq LIMIT $3")
                .bind(job_id)
                .bind(v.as_str())
                .bind(REPORT_LIST_LIMIT)
                .fetch_all(&self.pool)
                .await
                .db()?;
            entry.fidelity_warnings = rows
                .iter()
                .map(|r| Ok(ItemProblem { item: r.try_get("source_id").db()?, reason: r.try_get("warning").db()? }))
                .collect::<Result<_>>()?;
        }
        Ok(report)
    }

    async fn sync_state(&self, pair: &str, stream: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT state FROM sync_state WHERE pair = $1 AND stream = $2")
            .bind(pair)
            .bind(stream)
            .fetch_optional(&self.pool)
            .await
            .db()
    }

    async fn set_sync_state(&self, pair: &str, stream: &str, state: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO sync_state (pair, stream, state) VALUES ($1, $2, $3) \
            ON CONFLICT (pair, stream) DO UPDATE SET state = excluded.state",
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
            "INSERT INTO job_secrets (job_id, name, nonce, ciphertext) VALUES ($1, $2, $3, $4) \
            ON CONFLICT (job_id, name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext",
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
        let row = sqlx::query("SELECT nonce, ciphertext FROM job_secrets WHERE job_id = $1 AND name = $2")
            .bind(job)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.map(|r| Ok((r.try_get("nonce").db()?, r.try_get("ciphertext").db()?))).transpose()
    }

    async fn delete_secrets(&self, job: &str) -> Result<()> {
        sqlx::query("DELETE FROM job_secrets WHERE job_id = $1").bind(job).execute(&self.pool).await.db()?;
        Ok(())
    }

    async fn create_api_token(&self, name: &str, hash: &[u8]) -> Result<ApiToken> {
        let row = sqlx::query("INSERT INTO api_tokens (id, name, hash) VALUES ($1, $2, $3) RETURNING id, name, created_at, revoked_at")
            .bind(common::new_job_id())
            .bind(name)
            .bind(hash)
            .fetch_one(&self.pool)
            .await
            .db()?;
        api_token(&row)
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query("SELECT id, name, created_at, revoked_at FROM api_tokens ORDER BY created_at, seq")
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(api_token).collect()
    }

    async fn api_token(&self, hash: &[u8]) -> Result<Option<ApiToken>> {
        let row = sqlx::query("SELECT id, name, created_at, revoked_at FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.as_ref().map(api_token).transpose()
    }

    async fn revoke_api_token(&self, id: &str) -> Result<bool> {
        let n = sqlx::query("UPDATE api_tokens SET revoked_at = clock_timestamp() WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .execute(&self.pool)
            .await
            .db()?
            .rows_affected();
        Ok(n == 1)
    }

    async fn put_account(&self, a: &Account) -> Result<()> {
        sqlx::query("INSERT INTO accounts (id, owner, provider, label, nonce, ciphertext) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&a.id)
            .bind(&a.owner)
            .bind(&a.provider)
            .bind(&a.label)
            .bind(&a.nonce)
            .bind(&a.ciphertext)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn accounts(&self, owner: Option<&str>) -> Result<Vec<Account>> {
        let rows = sqlx::query("SELECT * FROM accounts WHERE owner IS NOT DISTINCT FROM $1 ORDER BY created_at, seq")
            .bind(owner)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(account).collect()
    }

    async fn account(&self, id: &str) -> Result<Option<Account>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = $1").bind(id).fetch_optional(&self.pool).await.db()?;
        row.as_ref().map(account).transpose()
    }

    async fn update_account(&self, id: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<bool> {
        let n = sqlx::query("UPDATE accounts SET nonce = $1, ciphertext = $2 WHERE id = $3")
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
        Ok(sqlx::query("DELETE FROM accounts WHERE id = $1").bind(id).execute(&self.pool).await.db()?.rows_affected() == 1)
    }
}

fn account(r: &PgRow) -> Result<Account> {
    Ok(Account {
        id: r.try_get("id").db()?,
        owner: r.try_get("owner").db()?,
        provider: r.try_get("provider").db()?,
        label: r.try_get("label").db()?,
        created_at: r.try_get("created_at").db()?,
        nonce: r.try_get("nonce").db()?,
        ciphertext: r.try_get("ciphertext").db()?,
    })
}

fn api_token(r: &PgRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.try_get("id").db()?,
        name: r.try_get("name").db()?,
        created_at: r.try_get("created_at").db()?,
        revoked_at: r.try_get("revoked_at").db()?,
    })
}

/// The lease a take of `job` by `worker` gave, from the job as the take left it.
fn lease_of(job: &Job, worker: &str, fence: i64) -> Result<Lease> {
    let expires_at = job.lease_expires_at.ok_or_else(|| StoreError::Corrupt(format!("job {} was taken without a lease end", job.id)))?;
    Ok(Lease { job: job.id.clone(), worker: worker.to_owned(), fence, expires_at })
}
