//! The embedded job store: [`SqliteStore`], one SQLite file in the data directory,
//! implementing [`ferry_jobs::JobStore`] (re-exported here with its types); also the
//! job locks and the sealing of credentials.

pub mod lock;
pub mod secrets;
mod sqlite;

pub use ferry_jobs::*;
pub use sqlite::SqliteStore;
