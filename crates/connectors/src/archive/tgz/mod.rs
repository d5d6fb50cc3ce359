//! A `.tgz` / `.tar.gz` part, read where it lies: a gzip stream cannot be read at random,
//! so it is read once when opened (`index.rs`: every file's path, size, CRC-32 and where
//! its bytes start; every hostile check; a checkpoint of the decompressor every so often,
//! `gunzip.rs`), and a file is then read by a decompressor moved forward to it from the
//! nearest of a small pool of decompressors left where earlier reads stopped, or from the
//! nearest checkpoint (`read.rs`); a small file (a photo's sidecar, a note) is kept from
//! the opening pass while a budget for the whole archive lasts ([`HELD`]). Files read in
//! the archive's order cost one more pass; a file read out of order costs at most the
//! stretch between two checkpoints. Nothing is extracted to disk; memory is bounded by
//! the pool, the checkpoints (a fixed number for the whole archive, [`checkpoint_every`]),
//! the small files kept and the list of files.

mod gunzip;
mod index;
mod read;
#[cfg(test)]
mod tests;

pub use index::TarFile;

use ferry_package::UnpackLimits;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// The most checkpoints kept for a whole archive (each holds a decompressor's state, about
/// 43 KiB).
pub const CHECKPOINTS: u64 = 512;
/// The least stretch of compressed bytes between two checkpoints.
pub const CHECKPOINT_MIN: u64 = 1 << 20;
/// The most bytes of small files kept, for a whole archive.
pub const HELD: u64 = 32 << 20;

/// The stretch of compressed bytes between two checkpoints, for parts of `total` bytes.
pub fn checkpoint_every(total: u64) -> u64 {
    (total / CHECKPOINTS).max(CHECKPOINT_MIN)
}

/// A name that says gzip-compressed tar.
pub fn is_tgz_name(p: &Path) -> bool {
    let name = p.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    name.ends_with(".tgz") || name.ends_with(".tar.gz")
}

/// A file that starts as gzip does, whatever its name.
pub fn is_gzip(p: &Path) -> bool {
    let mut magic = [0u8; 2];
    File::open(p).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && magic == [0x1f, 0x8b]
}

/// A tar that is not compressed (`ustar` at its first header's magic).
pub fn is_plain_tar(p: &Path) -> bool {
    let mut head = [0u8; 263];
    File::open(p).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head[257..262] == b"ustar"
}

pub struct TarPart {
    pub files: BTreeMap<String, TarFile>,
    held: BTreeMap<String, Arc<[u8]>>,
    stream: Arc<read::Stream>,
    name: String,
}

impl Drop for TarPart {
    /// What reading cost beyond one pass (`FERRY_LOG=ferry_connectors=debug`).
    fn drop(&mut self) {
        let (started, skipped, checkpoints) = self.stream.cost();
        let held = self.held.len();
        tracing::debug!(part = %self.name, held, started, skipped, checkpoints, "tgz read: small files held, decompressors started, bytes decompressed only to move forward");
    }
}

impl TarPart {
    /// Reads the part through once, checking it; a checkpoint every `every` bytes of it;
    /// small files kept while `held` (bytes, for all the parts) lasts.
    pub fn open(path: &Path, limits: UnpackLimits, every: u64, held: &AtomicU64) -> Result<TarPart, String> {
        let name = path.display().to_string();
        let file = Arc::new(File::open(path).map_err(|e| format!("cannot open {name}: {e}"))?);
        let index = index::build(file.clone(), &name, limits, every, held)?;
        Ok(TarPart { files: index.files, held: index.held, stream: Arc::new(read::Stream::new(file, index.checkpoints)), name })
    }

    /// Opens a file to read; it yields exactly its listed size, or fails.
    pub fn open_file(&self, path: &str) -> Result<Box<dyn Read + Send>, String> {
        if let Some(bytes) = self.held.get(path) {
            return Ok(Box::new(std::io::Cursor::new(bytes.clone())));
        }
        let f = *self.files.get(path).ok_or_else(|| format!("{path}: no such file in the archive"))?;
        Ok(Box::new(self.stream.open(path, f).map_err(|e| e.to_string())?))
    }
}
