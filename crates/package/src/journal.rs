//! The staged records of a package: `records.log` in the staging folder, an append-only
//! file of record bodies. The staging index (SQLite) keeps, per item, only where its body
//! is, how long it is and its SHA-256, so the index stays small and a page of items is one
//! sequential write plus one small transaction.
//!
//! A body is referenced (its row reaches the index) only after it was written and synced
//! ([`Journal::sync`], once for many pages), so a crash can leave at most unreferenced
//! bytes at the end; a body that does not match its checksum when read
//! back (torn, or changed behind ferry's back) is an error, never silently used. The
//! checksum is a CRC-32: the staging is private to its owner, so it guards against
//! accidents, not forgers, and it costs a fraction of a hash on every pass.

use crate::staging::create_new_private;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// Where a body is: its offset in `records.log`, its length and its CRC-32.
#[derive(Debug, Clone, Default)]
pub(crate) struct Span {
    pub offset: u64,
    pub len: u64,
    pub crc: u32,
}

pub(crate) struct Journal {
    file: File,
    end: u64,
}

impl Journal {
    /// Opens `path`, creating it (exclusively, mode 0600) when `fresh`; never through a link.
    pub fn open(path: &Path, fresh: bool) -> io::Result<Journal> {
        let file = match create_new_private(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && !fresh => {
                OpenOptions::new().read(true).write(true).custom_flags(libc::O_NOFOLLOW).open(path)?
            }
            Err(e) => return Err(e),
        };
        if !file.metadata()?.is_file() {
            return Err(io::Error::other(format!("{} is not a regular file", path.display())));
        }
        let end = file.metadata()?.len();
        Ok(Journal { file, end })
    }

    /// Appends `bodies` in one write; returns where each one is. They are durable after
    /// the next [`Journal::sync`].
    pub fn append(&mut self, bodies: &[Vec<u8>]) -> io::Result<Vec<Span>> {
        let mut spans = Vec::with_capacity(bodies.len());
        let mut offset = self.end;
        for b in bodies {
            spans.push(Span { offset, len: b.len() as u64, crc: crc32fast::hash(b) });
            offset += b.len() as u64;
        }
        let all = bodies.concat();
        self.file.write_all_at(&all, self.end)?;
        self.end = offset;
        Ok(spans)
    }

    /// Makes every body appended so far durable.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

/// Reads bodies back; one per pass over the staging.
pub(crate) struct JournalReader {
    file: File,
}

impl JournalReader {
    pub fn open(path: &Path) -> io::Result<JournalReader> {
        Ok(JournalReader { file: OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path)? })
    }

    /// The body at `span`, checked against its checksum.
    pub fn read(&self, span: &Span) -> io::Result<Vec<u8>> {
        let len = usize::try_from(span.len).map_err(io::Error::other)?;
        let mut buf = vec![0u8; len];
        self.file.read_exact_at(&mut buf, span.offset)?;
        if crc32fast::hash(&buf) != span.crc {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the staged record at byte {} does not match its checksum: the staging was changed", span.offset),
            ));
        }
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_come_back_and_a_changed_one_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.log");
        let mut j = Journal::open(&path, true).unwrap();
        let spans = j.append(&[b"one".to_vec(), b"second".to_vec()]).unwrap();
        drop(j);
        // reopened (a resumed job): appends go after what is there
        let mut j = Journal::open(&path, false).unwrap();
        let more = j.append(&[b"third".to_vec()]).unwrap();
        assert_eq!(more[0].offset, 9);
        let r = JournalReader::open(&path).unwrap();
        assert_eq!(r.read(&spans[1]).unwrap(), b"second");
        assert_eq!(r.read(&more[0]).unwrap(), b"third");
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().write_all_at(b"X", 4).unwrap();
        let e = r.read(&spans[1]).unwrap_err();
        assert!(e.to_string().contains("does not match"), "{e}");
        // a fresh staging never reuses a file that is already there
        assert_eq!(Journal::open(&path, true).err().map(|e| e.kind()), Some(io::ErrorKind::AlreadyExists));
    }

    #[test]
    fn a_link_is_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, b"keep").unwrap();
        let path = dir.path().join("records.log");
        std::os::unix::fs::symlink(&outside, &path).unwrap();
        assert!(Journal::open(&path, false).is_err());
        assert!(Journal::open(&path, true).is_err());
        assert_eq!(std::fs::read(&outside).unwrap(), b"keep");
    }
}
