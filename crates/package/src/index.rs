//! The staging index, `staging.db`: one small row per staged item (where its record is in
//! the journal, its content file, its container), in SQLite used synchronously. The
//! staging is private to one process, so there is no pool and no worker thread: a page of
//! items is one transaction, and `finish` reads the rows in package order in chunks, on
//! the thread that builds the package.
//!
//! Rows are only appended (the key is the insertion order), so a page fills the table's
//! last pages instead of dirtying one page of a B-tree per row; an item staged again
//! after a crash is a later row, and [`StagingIndex::settle`] keeps only the last one.

use crate::PackageError;
use crate::journal::Span;
use rusqlite::{Connection, OpenFlags, params};
use std::collections::BTreeMap;
use std::path::Path;

/// One staged item.
#[derive(Debug, Clone)]
pub(crate) struct IndexRow {
    pub vertical: String,
    pub id: String,
    pub container: String,
    /// The record and, after it, its standard text (`std_len` bytes), then its CSV row
    /// (`csv_len` bytes).
    pub body: Span,
    pub std_len: u64,
    pub csv_len: u64,
    /// The staged content file: (path under the staging, size, SHA-256).
    pub content: Option<(String, u64, String)>,
    pub media_type: Option<String>,
}

pub(crate) struct StagingIndex {
    conn: Connection,
}

impl From<rusqlite::Error> for PackageError {
    fn from(e: rusqlite::Error) -> Self {
        PackageError::Staging(e.to_string())
    }
}

/// A staging this ferry cannot finish: it was made by an older one.
fn older_staging(path: &Path) -> PackageError {
    PackageError::Refused(format!(
        "{} was staged by an older ferry, which this one cannot finish: delete its folder and run the export again",
        path.display()
    ))
}

impl StagingIndex {
    /// Opens (creating when missing) the index at `path`; never through a link.
    pub fn open(path: &Path) -> Result<StagingIndex, PackageError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // rows are appended only at a sync point (a few per second at most), where they
        // must be durable before the job store records their items
        conn.pragma_update(None, "synchronous", "FULL")?;
        let older: i64 = conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'items'", [], |r| r.get(0))?;
        if older > 0 {
            return Err(older_staging(path));
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY, vertical TEXT NOT NULL, id TEXT NOT NULL, \
            container TEXT NOT NULL, rec_off INTEGER NOT NULL, rec_len INTEGER NOT NULL, rec_crc INTEGER NOT NULL, \
            std_len INTEGER NOT NULL, content_file TEXT, content_size INTEGER, content_sha TEXT, media_type TEXT, \
            csv_len INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )?;
        let has_csv: i64 = conn.query_row("SELECT COUNT(*) FROM pragma_table_info('entries') WHERE name = 'csv_len'", [], |r| r.get(0))?;
        if has_csv == 0 {
            return Err(older_staging(path));
        }
        Ok(StagingIndex { conn })
    }

    pub fn meta(&self) -> Result<BTreeMap<String, String>, PackageError> {
        let mut st = self.conn.prepare("SELECT key, value FROM meta")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sets the keys that are not set yet.
    pub fn init_meta(&self, pairs: &[(&str, &str)]) -> Result<(), PackageError> {
        for (k, v) in pairs {
            self.conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)", params![k, v])?;
        }
        Ok(())
    }

    /// Appends rows, in one transaction.
    pub fn append(&mut self, rows: &[IndexRow]) -> Result<(), PackageError> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare(
                "INSERT INTO entries (vertical, id, container, rec_off, rec_len, rec_crc, std_len, content_file, \
                content_size, content_sha, media_type, csv_len) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for r in rows {
                let (file, size, sha) = match &r.content {
                    Some((f, s, h)) => (Some(f.as_str()), Some(*s as i64), Some(h.as_str())),
                    None => (None, None, None),
                };
                st.execute(params![
                    r.vertical,
                    r.id,
                    r.container,
                    r.body.offset as i64,
                    (r.body.len - r.std_len - r.csv_len) as i64,
                    r.body.crc,
                    r.std_len as i64,
                    file,
                    size,
                    sha,
                    r.media_type,
                    r.csv_len as i64,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Before the package is built: an item staged more than once keeps its last row,
    /// and the rows are sorted once in package order, into an index that holds every
    /// column (each pass then reads it from start to end, never the table).
    pub fn settle(&self) -> Result<(), PackageError> {
        self.conn.execute_batch(
            "CREATE INDEX IF NOT EXISTS entries_key ON entries (vertical, id, seq);
            DELETE FROM entries WHERE EXISTS (SELECT 1 FROM entries AS later WHERE later.vertical = entries.vertical \
                AND later.id = entries.id AND later.seq > entries.seq);
            CREATE INDEX IF NOT EXISTS entries_order ON entries (vertical, container, id, rec_off, rec_len, rec_crc, std_len, \
                content_file, content_size, content_sha, media_type, csv_len);",
        )?;
        Ok(())
    }

    /// A vertical's item count and containers (sorted).
    pub fn summary(&self, vertical: &str) -> Result<(u64, Vec<String>), PackageError> {
        let count: i64 = self.conn.query_row("SELECT COUNT(*) FROM entries WHERE vertical = ?1", [vertical], |r| r.get(0))?;
        let mut st = self.conn.prepare("SELECT DISTINCT container FROM entries WHERE vertical = ?1 ORDER BY container")?;
        let containers = st.query_map([vertical], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok((count as u64, containers))
    }

    /// Up to `limit` rows of `vertical` in package order (container, then id), after
    /// `after` (the last row of the previous chunk).
    pub fn chunk(&self, vertical: &str, after: Option<&(String, String)>, limit: usize) -> Result<Vec<IndexRow>, PackageError> {
        // two statements, so that each is a range scan of the order index
        const COLUMNS: &str =
            "id, container, rec_off, rec_len, rec_crc, std_len, content_file, content_size, content_sha, media_type, csv_len";
        let (c, i) = after.map(|(c, i)| (c.as_str(), i.as_str())).unwrap_or(("", ""));
        let sql = if after.is_some() {
            format!("SELECT {COLUMNS} FROM entries WHERE vertical = ?1 AND (container, id) > (?2, ?3) ORDER BY container, id LIMIT ?4")
        } else {
            format!("SELECT {COLUMNS} FROM entries WHERE vertical = ?1 AND ?2 = ?3 ORDER BY container, id LIMIT ?4")
        };
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map(params![vertical, c, i, limit as i64], |r| {
            let (rec_len, std_len, csv_len) = (r.get::<_, i64>(3)? as u64, r.get::<_, i64>(5)? as u64, r.get::<_, i64>(10)? as u64);
            let content = match (r.get::<_, Option<String>>(6)?, r.get::<_, Option<i64>>(7)?, r.get::<_, Option<String>>(8)?) {
                (Some(f), Some(s), Some(h)) => Some((f, s as u64, h)),
                _ => None,
            };
            Ok(IndexRow {
                vertical: vertical.to_owned(),
                id: r.get(0)?,
                container: r.get(1)?,
                body: Span { offset: r.get::<_, i64>(2)? as u64, len: rec_len + std_len + csv_len, crc: r.get(4)? },
                std_len,
                csv_len,
                content,
                media_type: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, container: &str, offset: u64) -> IndexRow {
        IndexRow {
            vertical: "contacts".into(),
            id: id.into(),
            container: container.into(),
            body: Span { offset, len: 1, crc: 0 },
            std_len: 0,
            csv_len: 0,
            content: None,
            media_type: None,
        }
    }

    #[test]
    fn the_last_row_of_an_item_wins_and_rows_come_in_package_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut ix = StagingIndex::open(&dir.path().join("staging.db")).unwrap();
        ix.append(&[row("b", "home", 1), row("a", "work", 2), row("a", "home", 3)]).unwrap();
        // staged again (after a crash), now in another container
        ix.append(&[row("a", "work", 4), row("c", "home", 5)]).unwrap();
        ix.settle().unwrap();
        assert_eq!(ix.summary("contacts").unwrap(), (3, vec!["home".to_owned(), "work".to_owned()]));
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let chunk = ix.chunk("contacts", after.as_ref(), 2).unwrap();
            let Some(last) = chunk.last() else { break };
            after = Some((last.container.clone(), last.id.clone()));
            seen.extend(chunk.into_iter().map(|r| (r.container, r.id, r.body.offset)));
        }
        let want = [("home", "b", 1), ("home", "c", 5), ("work", "a", 4)];
        assert_eq!(seen, want.map(|(c, i, o)| (c.to_owned(), i.to_owned(), o)));
    }

    #[test]
    fn an_index_of_an_older_ferry_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("staging.db");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE items (id TEXT)").unwrap();
        assert!(matches!(StagingIndex::open(&path), Err(PackageError::Refused(_))));
        // the journal's index before CSV rows were staged
        let path = dir.path().join("before-csv.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE entries (seq INTEGER PRIMARY KEY, vertical TEXT NOT NULL, id TEXT NOT NULL, container TEXT NOT NULL, \
                rec_off INTEGER NOT NULL, rec_len INTEGER NOT NULL, rec_crc INTEGER NOT NULL, std_len INTEGER NOT NULL, \
                content_file TEXT, content_size INTEGER, content_sha TEXT, media_type TEXT)",
            )
            .unwrap();
        assert!(matches!(StagingIndex::open(&path), Err(PackageError::Refused(_))));
    }
}
