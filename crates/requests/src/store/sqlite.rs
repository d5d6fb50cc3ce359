//! The request store in one SQLite file.

use super::{DrpLink, Result, StoreError, new_entry, parse_record, record, verify_all};
use crate::audit::{self, Entry, Head};
use crate::lifecycle::{Request, Transition};
use crate::verification::CodeRecord;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::time::Duration;

#[derive(Clone)]
pub struct SqliteRequests {
    pool: SqlitePool,
}

impl SqliteRequests {
    /// Opens (creating if needed) the SQLite file at `path`, migrated.
    pub async fn open(path: &Path) -> Result<SqliteRequests> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteRequests { pool })
    }

    /// The pool, for reports and tests.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Stores a new request and audits its receipt.
    pub async fn create(&self, request: &Request, actor: &str, at: DateTime<Utc>) -> Result<Entry> {
        let rec = record(request);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let inserted = sqlx::query(
            "INSERT INTO requests (id, regime, kind, state, received, record) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&request.id)
        .bind(&request.regime)
        .bind(request.kind.as_str())
        .bind(request.state.as_str())
        .bind(request.received.to_string())
        .bind(&rec)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Exists(request.id.clone()));
        }
        let entry = append(&mut tx, new_entry(request, None, actor, at, &rec)).await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// Stores `request` after `step`, if the stored one is still where the step began,
    /// and audits the step.
    pub async fn record(&self, request: &Request, step: &Transition, actor: &str, at: DateTime<Utc>) -> Result<Entry> {
        let rec = record(request);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let updated = sqlx::query("UPDATE requests SET state = ?, record = ? WHERE id = ? AND state = ?")
            .bind(request.state.as_str())
            .bind(&rec)
            .bind(&request.id)
            .bind(step.from.as_str())
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM requests WHERE id = ?").bind(&request.id).fetch_optional(&mut *tx).await?;
            return Err(match exists {
                None => StoreError::NotFound(request.id.clone()),
                Some(_) => StoreError::Conflict { id: request.id.clone(), expected: step.from.to_string() },
            });
        }
        let entry = append(&mut tx, new_entry(request, Some(step), actor, at, &rec)).await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// The request `id`.
    pub async fn request(&self, id: &str) -> Result<Option<Request>> {
        let row = sqlx::query("SELECT record FROM requests WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.map(|r| parse_record(id, r.get("record"))).transpose()
    }

    /// Keeps the link of a DRP request to its ferry request; a DRP id or a ferry request
    /// already linked is [`StoreError::Exists`].
    pub async fn put_drp(&self, link: &DrpLink) -> Result<()> {
        let inserted = sqlx::query(
            "INSERT INTO drp_requests (drp_id, agent_id, request_id, agent_request_id, status_callback, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(&link.drp_id)
        .bind(&link.agent_id)
        .bind(&link.request_id)
        .bind(&link.agent_request_id)
        .bind(&link.status_callback)
        .bind(link.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Exists(format!("DRP {} (or its request {})", link.drp_id, link.request_id)));
        }
        Ok(())
    }

    /// The link of DRP request `drp_id`.
    pub async fn drp(&self, drp_id: &str) -> Result<Option<DrpLink>> {
        let row = sqlx::query("SELECT * FROM drp_requests WHERE drp_id = ?").bind(drp_id).fetch_optional(&self.pool).await?;
        row.map(|r| row_to_drp(&r)).transpose()
    }

    /// Keeps a new verification code for its request (replacing an older one).
    pub async fn put_code(&self, rec: &CodeRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO verification_codes (request_id, sent_to, code_hash, sent_at, expires_at, attempts) VALUES (?, ?, ?, ?, ?, 0) \
             ON CONFLICT (request_id) DO UPDATE SET sent_to = excluded.sent_to, code_hash = excluded.code_hash, \
             sent_at = excluded.sent_at, expires_at = excluded.expires_at, attempts = 0",
        )
        .bind(&rec.request)
        .bind(&rec.sent_to)
        .bind(&rec.hash)
        .bind(rec.sent_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .bind(rec.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Counts one answer to request `id`'s code, before it is checked (so that answers
    /// given at once cannot exceed the limit together): the code as it was before it.
    pub async fn answer_code(&self, id: &str) -> Result<Option<CodeRecord>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query("SELECT * FROM verification_codes WHERE request_id = ?").bind(id).fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Ok(None) };
        sqlx::query("UPDATE verification_codes SET attempts = attempts + 1 WHERE request_id = ?").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Some(row_to_code(&row)?))
    }

    /// Forgets request `id`'s code (once confirmed).
    pub async fn drop_code(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM verification_codes WHERE request_id = ?").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Audits something done to request `request` that is no step of its lifecycle (a code
    /// sent, a wrong answer, a download), with the hash of its record as it stands.
    pub async fn note(&self, request: &Request, action: &str, reason: Option<&str>, actor: &str, at: DateTime<Utc>) -> Result<Entry> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query("SELECT record FROM requests WHERE id = ?").bind(&request.id).fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Err(StoreError::NotFound(request.id.clone())) };
        let rec: String = row.get("record");
        let mut new = new_entry(request, None, actor, at, &rec);
        new.action = action.to_owned();
        new.reason = reason.map(str::to_owned);
        let entry = append(&mut tx, new).await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// Every request, by id.
    pub async fn requests(&self) -> Result<Vec<Request>> {
        let rows = sqlx::query("SELECT id, record FROM requests ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(|r| parse_record(r.get("id"), r.get("record"))).collect()
    }

    /// The audit entries of request `id`, in order.
    pub async fn history(&self, id: &str) -> Result<Vec<Entry>> {
        let rows = sqlx::query("SELECT * FROM audit_entries WHERE request_id = ? ORDER BY seq").bind(id).fetch_all(&self.pool).await?;
        rows.iter().map(row_to_entry).collect()
    }

    /// The whole audit log, in order.
    pub async fn entries(&self) -> Result<Vec<Entry>> {
        let rows = sqlx::query("SELECT * FROM audit_entries ORDER BY seq").fetch_all(&self.pool).await?;
        rows.iter().map(row_to_entry).collect()
    }

    /// Verifies the audit log (against `head`, the last head known, if given) and every
    /// request's record against it; returns the head.
    pub async fn verify(&self, head: Option<&Head>) -> Result<Option<Head>> {
        let entries = self.entries().await?;
        let records: Vec<(String, String)> = sqlx::query("SELECT id, record FROM requests ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| (r.get("id"), r.get("record")))
            .collect();
        verify_all(&entries, &records, head)
    }
}

async fn append(tx: &mut sqlx::SqliteConnection, new: audit::NewEntry) -> Result<Entry> {
    let last = sqlx::query("SELECT * FROM audit_entries ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *tx).await?;
    let last = last.as_ref().map(row_to_entry).transpose()?;
    let entry = audit::chain(last.as_ref(), new);
    sqlx::query(
        "INSERT INTO audit_entries (seq, at, actor, request_id, action, reason, data_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(entry.seq)
    .bind(entry.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    .bind(&entry.actor)
    .bind(&entry.request)
    .bind(&entry.action)
    .bind(&entry.reason)
    .bind(&entry.data_hash)
    .bind(&entry.prev)
    .bind(&entry.hash)
    .execute(&mut *tx)
    .await?;
    Ok(entry)
}

fn row_to_entry(r: &sqlx::sqlite::SqliteRow) -> Result<Entry> {
    let seq: i64 = r.get("seq");
    let at: String = r.get("at");
    let at = DateTime::parse_from_rfc3339(&at)
        .map_err(|e| StoreError::Corrupt(format!("(audit entry {seq})"), format!("time `{at}`: {e}")))?
        .with_timezone(&Utc);
    Ok(Entry {
        seq,
        at,
        actor: r.get("actor"),
        request: r.get("request_id"),
        action: r.get("action"),
        reason: r.get("reason"),
        data_hash: r.get("data_hash"),
        prev: r.get("prev_hash"),
        hash: r.get("hash"),
    })
}

fn row_to_drp(r: &sqlx::sqlite::SqliteRow) -> Result<DrpLink> {
    let t: String = r.get("created_at");
    let created_at = DateTime::parse_from_rfc3339(&t)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(r.get::<String, _>("request_id"), format!("drp_requests.created_at `{t}`: {e}")))?;
    Ok(DrpLink {
        drp_id: r.get("drp_id"),
        agent_id: r.get("agent_id"),
        request_id: r.get("request_id"),
        agent_request_id: r.get("agent_request_id"),
        status_callback: r.get("status_callback"),
        created_at,
    })
}

fn row_to_code(r: &sqlx::sqlite::SqliteRow) -> Result<CodeRecord> {
    let time = |col: &str| -> Result<DateTime<Utc>> {
        let t: String = r.get(col);
        DateTime::parse_from_rfc3339(&t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| StoreError::Corrupt(r.get::<String, _>("request_id"), format!("{col} `{t}`: {e}")))
    };
    let attempts: i64 = r.get("attempts");
    Ok(CodeRecord {
        request: r.get("request_id"),
        sent_to: r.get("sent_to"),
        hash: r.get("code_hash"),
        sent_at: time("sent_at")?,
        expires_at: time("expires_at")?,
        attempts: u32::try_from(attempts).unwrap_or(0),
    })
}
