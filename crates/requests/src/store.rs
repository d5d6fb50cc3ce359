//! Where requests and their audit log are kept: [`SqliteRequests`], one SQLite file, or
//! [`PostgresRequests`], a PostgreSQL database of its own (the migrations are in this
//! crate's `migrations/`). Each step of a request and its audit entry are written in one
//! transaction; [`verify`](SqliteRequests::verify) checks the chain and that every
//! request's record is the one its last entry hashed.

mod postgres;
mod sqlite;

pub use postgres::PostgresRequests;
pub use sqlite::SqliteRequests;

use crate::audit::{self, AuditError, Entry, Head, NewEntry};
use crate::lifecycle::{Request, Transition};
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("request store: {0}")]
    Db(String),
    #[error("request {0} is not in the store")]
    NotFound(String),
    #[error("request {0} is already in the store")]
    Exists(String),
    #[error("request {id} changed meanwhile: it is no longer {expected}")]
    Conflict { id: String, expected: String },
    #[error("the stored record of request {0} cannot be read: {1}")]
    Corrupt(String, String),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Db(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> StoreError {
        StoreError::Db(format!("migrating: {e}"))
    }
}

/// A Data Rights Protocol request's link to its ferry request (src/drp.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrpLink {
    /// The id the agent knows the request by (the DRP `request_id`).
    pub drp_id: String,
    /// The agent that manages it.
    pub agent_id: String,
    /// The ferry request.
    pub request_id: String,
    /// The agent's own id for it, given back in every status.
    pub agent_request_id: Option<String>,
    /// Where status changes are posted.
    pub status_callback: Option<String>,
    /// Kept to the microsecond.
    pub created_at: DateTime<Utc>,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A request as stored: its JSON record.
fn record(request: &Request) -> String {
    serde_json::to_string(request).expect("a request serializes")
}

fn parse_record(id: &str, text: &str) -> Result<Request> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(id.to_string(), e.to_string()))
}

/// The audit entry of a step: `received` for a new request, else the transition.
fn new_entry(request: &Request, step: Option<&Transition>, actor: &str, at: DateTime<Utc>, record: &str) -> NewEntry {
    NewEntry {
        at,
        actor: actor.to_string(),
        request: request.id.clone(),
        action: step.map_or_else(|| "received".to_string(), Transition::action),
        reason: step.and_then(|t| t.reason.clone()),
        data_hash: Some(audit::data_hash(record.as_bytes())),
    }
}

/// Checks the chain, then that each request's record matches its last entry's hash.
fn verify_all(entries: &[Entry], records: &[(String, String)], head: Option<&Head>) -> Result<Option<Head>> {
    let head = audit::verify(entries, head)?;
    for (id, text) in records {
        let last = entries.iter().rev().find(|e| &e.request == id);
        let ok = last.is_some_and(|e| e.data_hash.as_deref() == Some(audit::data_hash(text.as_bytes()).as_str()));
        if !ok {
            return Err(AuditError::RecordChanged { request: id.clone(), seq: last.map_or(0, |e| e.seq) }.into());
        }
    }
    Ok(head)
}
