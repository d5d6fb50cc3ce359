//! The transfer engine. It pulls pages from an exporter, pushes each item to an importer
//! (several at once, each retried on transient errors), and commits what the destination
//! confirmed, page by page, to the job store. A job killed at any point resumes from the
//! last committed page; items the job already recorded are not sent again, and importers
//! are idempotent, so nothing is doubled.

mod progress;
mod retry;
mod run;

pub use progress::{NoProgress, Progress};
pub use retry::{MAX_RETRY_AFTER, RetryPolicy, Throttled};
pub use run::{COMMIT_ROWS, DEFAULT_LEASE_TTL, Engine, EngineError};
pub use tokio_util::sync::CancellationToken;
