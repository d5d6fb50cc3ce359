//! The job store's interface: jobs and their states, per-vertical export cursors, what
//! happened to every item, and the ledger that maps source items to destination ids
//! across jobs. No database is in this crate: the engine and the application depend on
//! [`JobStore`] alone, and each store (`ferry-store`'s SQLite) implements it.

mod types;

pub use types::*;

use async_trait::async_trait;
use ferry_core::Vertical;
use std::collections::HashMap;

/// What went wrong in a store, whichever database is behind it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no job with id `{0}` (list them with `ferry jobs`)")]
    NoSuchJob(String),
    /// The store cannot be opened or reached, or refused a statement.
    #[error("job store unavailable: {0}")]
    Unavailable(String),
    /// Another process held what this needed for longer than the store waits.
    #[error("job store busy: {0}")]
    Busy(String),
    #[error("job store holds bad data: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[async_trait]
pub trait JobStore: Send + Sync {
    async fn create_job(&self, spec: &JobSpec) -> Result<Job>;
    async fn job(&self, id: &str) -> Result<Job>;
    /// Most recent first.
    async fn jobs(&self, limit: u32) -> Result<Vec<Job>>;
    async fn set_state(&self, id: &str, state: JobState, reason: Option<&str>, worker_pid: Option<u32>) -> Result<()>;

    async fn cursor(&self, job: &str, vertical: Vertical) -> Result<Option<CursorRow>>;
    /// Records one page: its items' outcomes, their ledger entries (under `pair`, when the
    /// destination keeps items from one job to the next) and the cursor after it, all in
    /// one transaction.
    async fn commit_page(
        &self,
        job: &str,
        pair: Option<&str>,
        vertical: Vertical,
        rows: &[ItemRow],
        cursor: Option<&str>,
        done: bool,
    ) -> Result<()>;
    /// Which of `ids` this job has already recorded.
    async fn recorded(&self, job: &str, vertical: Vertical, ids: &[&str]) -> Result<HashMap<String, Outcome>>;
    /// Ledger entries of `ids` for a source/destination pair.
    async fn ledger(&self, pair: &str, vertical: Vertical, ids: &[&str]) -> Result<HashMap<String, LedgerEntry>>;

    async fn report(&self, job: &str) -> Result<Report>;

    /// The source's change-tracking state for a pair, saved after a complete export.
    async fn sync_state(&self, pair: &str, vertical: Vertical) -> Result<Option<String>>;
    async fn set_sync_state(&self, pair: &str, vertical: Vertical, state: &str) -> Result<()>;

    /// Stores a sealed credential for a job (see [`secrets`]).
    async fn put_secret(&self, job: &str, name: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<()>;
    async fn secret(&self, job: &str, name: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>>;
    /// Forgets a job's credentials (when it ends).
    async fn delete_secrets(&self, job: &str) -> Result<()>;
}
