//! ferry's job stores, implementing [`ferry_jobs::JobStore`] (re-exported here with its
//! types): [`SqliteStore`], one SQLite file in the data directory, for one machine; and
//! [`PostgresStore`], a PostgreSQL database a fleet of workers shares. [`open`] picks one
//! from where the store is. Also the job locks and the sealing of credentials.

mod common;
pub mod lock;
mod postgres;
pub mod secrets;
mod sqlite;

pub use ferry_jobs::*;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use std::path::Path;
use std::sync::Arc;

/// Opens the job store at `location`: the PostgreSQL database of a `postgres://` or
/// `postgresql://` URL; the SQLite store in `data_dir` when `location` is empty; else the
/// SQLite store in the directory `location` names. Another `scheme://` is refused.
pub async fn open(location: &str, data_dir: &Path) -> Result<Arc<dyn JobStore>> {
    let location = location.trim();
    if is_shared(location) {
        return Ok(Arc::new(PostgresStore::connect(location).await?));
    }
    if let Some((scheme, _)) = location.split_once("://") {
        return Err(StoreError::Unavailable(format!(
            "unknown kind of job store `{scheme}://`: give a postgres:// URL, or a directory for the SQLite store"
        )));
    }
    let dir = if location.is_empty() { data_dir } else { Path::new(location) };
    Ok(Arc::new(SqliteStore::open(dir).await?))
}

/// Whether the store at `location` is a database that processes on several machines share
/// (PostgreSQL). Such processes cannot keep out of each other's jobs with file locks: their
/// leases alone do. The SQLite store is one machine's.
pub fn is_shared(location: &str) -> bool {
    let location = location.trim();
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// The directory of the SQLite store at `location` (as [`open`] reads it); none for a
/// shared store.
pub fn local_dir(location: &str, data_dir: &Path) -> Option<std::path::PathBuf> {
    let location = location.trim();
    match location {
        l if is_shared(l) || l.contains("://") => None,
        "" => Some(data_dir.to_owned()),
        l => Some(Path::new(l).to_owned()),
    }
}
