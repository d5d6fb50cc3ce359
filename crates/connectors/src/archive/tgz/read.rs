//! Reading one file of a `.tgz`: a decompressor is taken from a small pool of those that
//! stopped at or before the file's start (the one nearest it), or started at the nearest
//! checkpoint before it when that is nearer, and moved forward to it; never back. When
//! the reader is dropped, its decompressor goes back to the pool where it stopped, so
//! that files read in the archive's order cost one pass in all.

use super::gunzip::{Checkpoint, Gunzip};
use super::index::TarFile;
use std::fs::File;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Decompressors kept, per part, between reads.
pub const POOL: usize = 4;

pub struct Stream {
    file: Arc<File>,
    checkpoints: Vec<Checkpoint>,
    /// Least recently used first.
    idle: Mutex<Vec<Gunzip>>,
    /// Decompressors started (at the beginning or at a checkpoint), and the bytes they and
    /// the pooled ones decompressed only to move forward: what reading costs beyond the
    /// files' own bytes.
    started: AtomicU64,
    skipped: AtomicU64,
}

impl Stream {
    pub fn new(file: Arc<File>, checkpoints: Vec<Checkpoint>) -> Stream {
        Stream { file, checkpoints, idle: Mutex::new(Vec::new()), started: AtomicU64::new(0), skipped: AtomicU64::new(0) }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Gunzip>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the pooled decompressors stand.
    #[cfg(test)]
    pub fn pooled(&self) -> Vec<u64> {
        self.idle().iter().map(Gunzip::position).collect()
    }

    /// Decompressors started, bytes decompressed only to move forward, checkpoints.
    pub fn cost(&self) -> (u64, u64, usize) {
        (self.started.load(Ordering::Relaxed), self.skipped.load(Ordering::Relaxed), self.checkpoints.len())
    }

    /// A decompressor at `at`.
    fn at(&self, at: u64) -> io::Result<Gunzip> {
        let pooled = {
            let mut idle = self.idle();
            let best = idle.iter().enumerate().filter(|(_, g)| g.position() <= at).max_by_key(|(_, g)| g.position()).map(|(i, _)| i);
            best.map(|i| idle.remove(i))
        };
        let checkpoint = self.checkpoints.partition_point(|c| c.out <= at).checked_sub(1).map(|i| &self.checkpoints[i]);
        let mut gz = match (pooled, checkpoint) {
            (Some(g), c) if c.is_none_or(|c| g.position() >= c.out) => g,
            (g, Some(c)) => {
                if let Some(g) = g {
                    self.give_back(g);
                }
                self.started.fetch_add(1, Ordering::Relaxed);
                Gunzip::resume(self.file.clone(), c)?
            }
            (_, None) => {
                self.started.fetch_add(1, Ordering::Relaxed);
                Gunzip::new(self.file.clone())?
            }
        };
        self.skipped.fetch_add(at - gz.position(), Ordering::Relaxed);
        gz.skip(at - gz.position())?;
        Ok(gz)
    }

    fn give_back(&self, gz: Gunzip) {
        let mut idle = self.idle();
        idle.push(gz);
        if idle.len() > POOL {
            idle.remove(0);
        }
    }

    /// `file`'s bytes (`path` in messages); they are checked against its CRC-32 when read
    /// to the end.
    pub fn open(self: &Arc<Self>, path: &str, file: TarFile) -> io::Result<EntryReader> {
        let gz = self.at(file.offset).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
        Ok(EntryReader {
            stream: self.clone(),
            gz: Some(gz),
            left: file.size,
            crc: crc32fast::Hasher::new(),
            crc32: file.crc32,
            path: path.to_owned(),
        })
    }
}

pub struct EntryReader {
    stream: Arc<Stream>,
    gz: Option<Gunzip>,
    left: u64,
    crc: crc32fast::Hasher,
    crc32: u32,
    path: String,
}

impl Read for EntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let Some(gz) = self.gz.as_mut() else {
            return Err(io::Error::other(format!("{}: an earlier read failed", self.path)));
        };
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = match gz.read(&mut buf[..want]) {
            Ok(0) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{}: the archive ends inside this file", self.path))),
            Ok(n) => Ok(n),
            Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", self.path))),
        }
        .inspect_err(|_| self.gz = None)?;
        self.crc.update(&buf[..n]);
        self.left -= n as u64;
        if self.left == 0 && self.crc.clone().finalize() != self.crc32 {
            self.gz = None;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: its bytes are not those the archive held when it was opened (was the file changed?)", self.path),
            ));
        }
        Ok(n)
    }
}

impl Drop for EntryReader {
    fn drop(&mut self) {
        if let Some(gz) = self.gz.take() {
            self.stream.give_back(gz);
        }
    }
}
