//! The job store's interface: jobs and their states, the leases under which workers run
//! them, per-stream export cursors, what happened to every item, and the ledger that maps
//! source items to destination ids across jobs. No database is in this crate: the engine
//! and the application depend on [`JobStore`] alone, and each store (`ferry-store`'s
//! SQLite and PostgreSQL) implements it.

mod types;

pub use types::*;

use async_trait::async_trait;
use ferry_core::Vertical;
use std::collections::HashMap;
use std::time::Duration;

/// What went wrong in a store, whichever database is behind it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no job with id `{0}` (list them with `ferry jobs`)")]
    NoSuchJob(String),
    /// The store cannot be opened or reached, or refused a statement.
    #[error("job store unavailable: {0}")]
    Unavailable(String),
    /// Another process held what this needed for longer than the store waits; or, from
    /// [`JobStore::acquire`], another worker holds the job (the message says who).
    #[error("job store busy: {0}")]
    Busy(String),
    #[error("job store holds bad data: {0}")]
    Corrupt(String),
    /// A write under a lease that is no longer the job's current one, or that expired:
    /// nothing was written, and the holder must stop working on the job.
    #[error("{0}; another worker may run the job now")]
    LeaseLost(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[async_trait]
pub trait JobStore: Send + Sync {
    async fn create_job(&self, spec: &JobSpec) -> Result<Job>;
    async fn job(&self, id: &str) -> Result<Job>;
    /// Most recent first; only `owner`'s jobs when one is given.
    async fn jobs(&self, owner: Option<&str>, limit: u32) -> Result<Vec<Job>>;
    /// Sets a job's state. Under a lease the change is fenced: refused with
    /// [`StoreError::LeaseLost`] unless the lease is the job's current one and unexpired.
    async fn set_state(&self, id: &str, state: JobState, reason: Option<&str>, lease: Option<&Lease>) -> Result<()>;

    /// Takes a given job for `worker` (a description such as `ferry worker 1234 on
    /// host`) for `ttl`. Refused with [`StoreError::Busy`], naming the holder, while
    /// another worker's lease on it is live, unless `take_over`: the caller has proof that
    /// the holder is gone (the embedded CLI holds a kernel file lock on the job). A worker
    /// that holds the job already (the same description) takes it again. Any earlier
    /// lease on the job is lost from then on. The job's state is left as it is.
    async fn acquire(&self, id: &str, worker: &str, ttl: Duration, take_over: bool) -> Result<(Job, Lease)>;
    /// Takes the oldest job a worker may run, if any: one `queued`, or one `running`
    /// whose lease expired (its worker died). The job is set `running`. Concurrent
    /// claimers never take one job twice.
    async fn claim(&self, worker: &str, ttl: Duration) -> Result<Option<(Job, Lease)>>;
    /// Renews a live, current lease for `ttl` from now (updating `lease.expires_at`);
    /// [`StoreError::LeaseLost`] if it expired or was superseded. Returns whether a
    /// cancel was requested ([`JobStore::request_cancel`]).
    async fn heartbeat(&self, lease: &mut Lease, ttl: Duration) -> Result<bool>;
    /// Lets the job go, if the lease is still its current one; nothing happens (and no
    /// error) when it was lost already.
    async fn release(&self, lease: &Lease) -> Result<()>;
    /// Asks the job's worker to cancel it: it sees the request in its next heartbeat.
    async fn request_cancel(&self, id: &str) -> Result<()>;

    /// Where a stream of the job's export stands.
    async fn cursor(&self, job: &str, stream: &str) -> Result<Option<CursorRow>>;
    /// Records one page of a stream: its items' outcomes (of any vertical), their ledger
    /// entries (under `pair`, when the destination keeps items from one job to the next)
    /// and the stream's cursor after it, all in one transaction. Under a lease, the
    /// lease is checked in that transaction: a lost or expired lease writes nothing
    /// ([`StoreError::LeaseLost`]).
    #[allow(clippy::too_many_arguments)]
    async fn commit_page(
        &self,
        lease: Option<&Lease>,
        job: &str,
        pair: Option<&str>,
        stream: &str,
        rows: &[ItemRow],
        cursor: Option<&str>,
        done: bool,
    ) -> Result<()>;
    /// Which of `ids` this job has already recorded.
    async fn recorded(&self, job: &str, vertical: Vertical, ids: &[&str]) -> Result<HashMap<String, Outcome>>;
    /// Ledger entries of `ids` for a source/destination pair.
    async fn ledger(&self, pair: &str, vertical: Vertical, ids: &[&str]) -> Result<HashMap<String, LedgerEntry>>;

    async fn report(&self, job: &str) -> Result<Report>;

    /// The source's change-tracking state of a stream for a pair, saved after a complete
    /// export.
    async fn sync_state(&self, pair: &str, stream: &str) -> Result<Option<String>>;
    async fn set_sync_state(&self, pair: &str, stream: &str, state: &str) -> Result<()>;

    /// Stores a sealed credential for a job (see `ferry_store::secrets`).
    async fn put_secret(&self, job: &str, name: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<()>;
    async fn secret(&self, job: &str, name: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>>;
    /// Forgets a job's credentials (when it ends).
    async fn delete_secrets(&self, job: &str) -> Result<()>;

    /// Keeps a new operator API token under its SHA-256 (`hash`, 32 bytes) and a name.
    async fn create_api_token(&self, name: &str, hash: &[u8]) -> Result<ApiToken>;
    /// Every API token, revoked ones too, oldest first.
    async fn api_tokens(&self) -> Result<Vec<ApiToken>>;
    /// The unrevoked token with this SHA-256, if any.
    async fn api_token(&self, hash: &[u8]) -> Result<Option<ApiToken>>;
    /// Revokes a token by id; false if there is no such unrevoked token.
    async fn revoke_api_token(&self, id: &str) -> Result<bool>;

    /// Keeps a connected account (its id, owner, provider, label and sealed token set;
    /// `created_at` is the store's).
    async fn put_account(&self, account: &Account) -> Result<()>;
    /// The accounts of `owner` (none: the command line's), oldest first.
    async fn accounts(&self, owner: Option<&str>) -> Result<Vec<Account>>;
    async fn account(&self, id: &str) -> Result<Option<Account>>;
    /// Replaces an account's sealed token set (after a refresh).
    async fn update_account(&self, id: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<bool>;
    /// Forgets an account; false if there was none.
    async fn delete_account(&self, id: &str) -> Result<bool>;
}
