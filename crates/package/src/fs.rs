//! Read access to a package's files, whether a directory or a ZIP, treating the package
//! as hostile until checked: no path traversal, no absolute paths, no links, bounded
//! total size and compression ratio.

use crate::PackageError;
use crate::layout::check_relative;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use zip::ZipArchive;

#[derive(Debug, Clone, Copy)]
pub struct UnpackLimits {
    /// Sum of all files' sizes.
    pub max_total_bytes: u64,
    /// Largest ratio of unpacked to packed size: of each entry over `ratio_floor` bytes,
    /// and of the whole ZIP (every entry counted) once it unpacks to over `ratio_floor`.
    pub max_ratio: u64,
    pub ratio_floor: u64,
    pub max_files: usize,
    /// Largest `manifest.json` read.
    pub max_manifest_bytes: u64,
}

impl Default for UnpackLimits {
    fn default() -> Self {
        UnpackLimits {
            max_total_bytes: 1 << 40,
            max_ratio: 200,
            ratio_floor: 1 << 20,
            max_files: 10_000_000,
            max_manifest_bytes: 256 << 20,
        }
    }
}

/// A file handle that reads at positions, so that clones share one open file.
#[derive(Clone)]
/// A file read at positions, so that the archive can be cloned cheaply.
pub struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.len as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if new < 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "seek before start"));
        }
        self.pos = new as u64;
        Ok(self.pos)
    }
}

pub enum PackageFs {
    Dir { root: PathBuf, files: BTreeMap<String, u64> },
    Zip { archive: ZipArchive<SharedFile>, files: BTreeMap<String, (usize, u64)>, name: String },
}

impl PackageFs {
    /// Opens and checks a directory or ZIP package (decrypt `.age` packages first).
    pub fn open(path: &Path, limits: UnpackLimits) -> Result<PackageFs, PackageError> {
        let meta = std::fs::symlink_metadata(path).map_err(|e| PackageError::io(format!("cannot open package {}", path.display()), e))?;
        if meta.is_dir() { Self::open_dir(path, limits) } else { Self::open_zip(path, limits) }
    }

    fn open_dir(root: &Path, limits: UnpackLimits) -> Result<PackageFs, PackageError> {
        let mut files = BTreeMap::new();
        let mut total = 0u64;
        for entry in walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name() {
            let entry = entry.map_err(|e| PackageError::invalid(root.display().to_string(), e.to_string()))?;
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            let rel_s = rel.to_string_lossy().replace('\\', "/");
            if entry.path_is_symlink() {
                return Err(PackageError::invalid(rel_s, "symbolic link in package (links are refused)"));
            }
            if !entry.file_type().is_file() {
                continue;
            }
            let rel_s = rel.to_str().ok_or_else(|| PackageError::invalid(rel.display().to_string(), "file name is not UTF-8"))?.to_owned();
            let size = entry.metadata().map_err(|e| PackageError::invalid(&rel_s, e.to_string()))?.len();
            total += size;
            if total > limits.max_total_bytes {
                return Err(PackageError::Limit(format!("package is larger than the {} byte limit", limits.max_total_bytes)));
            }
            files.insert(rel_s, size);
            if files.len() > limits.max_files {
                return Err(PackageError::Limit(format!("package has more than {} files", limits.max_files)));
            }
        }
        Ok(PackageFs::Dir { root: root.to_owned(), files })
    }

    fn open_zip(path: &Path, limits: UnpackLimits) -> Result<PackageFs, PackageError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| PackageError::io(format!("cannot open {name}"), e))?;
        let len = file.metadata().map_err(|e| PackageError::io(&name, e))?.len();
        let shared = SharedFile { file: Arc::new(file), pos: 0, len };
        let mut archive = ZipArchive::new(shared).map_err(|e| PackageError::invalid(&name, format!("not a readable ZIP file: {e}")))?;
        if archive.len() > limits.max_files {
            return Err(PackageError::Limit(format!("{name}: more than {} entries", limits.max_files)));
        }
        // the ZIP library keeps only the last of two entries with one name: refuse them
        if archive.has_duplicate_names() {
            return Err(PackageError::invalid(&name, "the ZIP holds two entries with the same name (a tampered package?)"));
        }
        // every local header must match its central directory entry, no two entries may
        // share data, and no local header may hide outside the central directory
        archive
            .validate_header_consistency()
            .map_err(|e| PackageError::invalid(&name, format!("the ZIP's entries are inconsistent (a tampered package?): {e}")))?;
        // what the whole ZIP unpacks to, bounded by the limit and by the ratio to its size
        let budget = limits.max_total_bytes.min(len.saturating_mul(limits.max_ratio).max(limits.ratio_floor));
        let mut files = BTreeMap::new();
        let mut total = 0u64;
        for i in 0..archive.len() {
            let entry = archive.by_index_raw(i).map_err(|e| PackageError::invalid(&name, format!("entry {i}: {e}")))?;
            let entry_name = entry.name().map_err(|e| PackageError::invalid(&name, format!("entry {i}: {e}")))?.to_string();
            if let Err(why) = check_relative(entry_name.trim_end_matches('/')) {
                return Err(PackageError::invalid(&entry_name, format!("unsafe path in ZIP ({why})")));
            }
            if entry.is_symlink() {
                return Err(PackageError::invalid(&entry_name, "symbolic link in ZIP (links are refused)"));
            }
            if entry.is_dir() {
                continue;
            }
            let (size, packed) = (entry.size(), entry.compressed_size());
            total = total.saturating_add(size);
            if total > budget {
                return Err(PackageError::Limit(format!(
                    "{name}: unpacking its entries would write more than {budget} bytes ({}:1 of its \
                        {len} bytes, at most {} in all): a ZIP bomb?",
                    limits.max_ratio, limits.max_total_bytes
                )));
            }
            if size > limits.ratio_floor && size / packed.max(1) > limits.max_ratio {
                return Err(PackageError::Limit(format!(
                    "{entry_name}: expands {}:1 ({packed} to {size} bytes), over the {}:1 limit (a ZIP bomb?)",
                    size / packed.max(1),
                    limits.max_ratio
                )));
            }
            if files.insert(entry_name.clone(), (i, size)).is_some() {
                return Err(PackageError::invalid(&entry_name, "the ZIP holds this name twice"));
            }
        }
        Ok(PackageFs::Zip { archive, files, name })
    }

    /// Every file with its size, by path.
    pub fn files(&self) -> Vec<(String, u64)> {
        match self {
            PackageFs::Dir { files, .. } => files.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            PackageFs::Zip { files, .. } => files.iter().map(|(k, (_, s))| (k.clone(), *s)).collect(),
        }
    }

    pub fn size(&self, path: &str) -> Option<u64> {
        match self {
            PackageFs::Dir { files, .. } => files.get(path).copied(),
            PackageFs::Zip { files, .. } => files.get(path).map(|(_, s)| *s),
        }
    }

    /// The CRC-32 a ZIP records for a file (`None` in a folder).
    pub fn crc32(&self, path: &str) -> Option<u32> {
        match self {
            PackageFs::Dir { .. } => None,
            PackageFs::Zip { archive, files, .. } => {
                let (index, _) = *files.get(path)?;
                archive.clone().by_index_raw(index).ok().map(|e| e.crc32())
            }
        }
    }

    /// The local path of a file, for directory packages.
    pub fn local_path(&self, path: &str) -> Option<PathBuf> {
        match self {
            PackageFs::Dir { root, files } if files.contains_key(path) => Some(root.join(path)),
            _ => None,
        }
    }

    /// Opens a file for reading. It yields exactly the size listed, or fails.
    pub fn open_file(&self, path: &str) -> Result<Box<dyn Read + Send>, PackageError> {
        match self {
            PackageFs::Dir { root, files } => {
                let size = *files.get(path).ok_or_else(|| PackageError::invalid(path, "no such file in the package"))?;
                let f = File::open(root.join(path)).map_err(|e| PackageError::io(path, e))?;
                Ok(Box::new(f.take(size)))
            }
            PackageFs::Zip { archive, files, .. } => {
                let (index, size) = *files.get(path).ok_or_else(|| PackageError::invalid(path, "no such file in the package"))?;
                let mut archive = archive.clone();
                let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(4);
                let path = path.to_owned();
                std::thread::spawn(move || {
                    let mut entry = match archive.by_index(index) {
                        Ok(e) => e,
                        Err(e) => {
                            let _ = tx.send(Err(io::Error::new(io::ErrorKind::InvalidData, format!("{path}: {e}"))));
                            return;
                        }
                    };
                    let mut read = 0u64;
                    loop {
                        let mut buf = vec![0u8; 64 * 1024];
                        match entry.read(&mut buf) {
                            Ok(0) => return,
                            Ok(n) => {
                                read += n as u64;
                                if read > size {
                                    let _ = tx.send(Err(io::Error::new(
                                        io::ErrorKind::InvalidData,
                                        format!("{path}: unpacks to more than the {size} bytes its header says"),
                                    )));
                                    return;
                                }
                                buf.truncate(n);
                                if tx.send(Ok(buf)).is_err() {
                                    return;
                                }
                            }
                            Err(e) => {
                                let _ = tx.send(Err(io::Error::new(e.kind(), format!("{path}: {e}"))));
                                return;
                            }
                        }
                    }
                });
                Ok(Box::new(ChannelReader { rx, buf: Vec::new(), pos: 0 }))
            }
        }
    }
}

struct ChannelReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.buf.len() {
            match self.rx.recv() {
                Ok(Ok(b)) => {
                    self.buf = b;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
