//! Read access to a package's files, whether a directory or a ZIP, treating the package
//! as hostile until checked: no path traversal, no absolute paths, no links, bounded
//! total size and compression ratio.

use crate::PackageError;
use crate::layout::check_relative;
pub use crate::zip_entries::{Kind, Span, ZipEntry, ZipFile};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// A file read at positions, so that clones share one open file.
#[derive(Clone)]
pub struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl SharedFile {
    pub fn new(file: Arc<File>, len: u64) -> SharedFile {
        SharedFile { file, pos: 0, len }
    }
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
    Zip { zip: ZipFile, files: BTreeMap<String, ZipEntry> },
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
        let len = std::fs::metadata(path).map_err(|e| PackageError::io(format!("cannot open {name}"), e))?.len();
        let mut checks = ZipChecks::new(name, len, limits);
        let mut files = BTreeMap::new();
        let zip = ZipFile::open(path, |i, entry_name, kind, packed, at| {
            checks.check(i, entry_name, kind, packed, at.size)?;
            if kind == Kind::File && files.insert(entry_name.to_owned(), at).is_some() {
                return Err(PackageError::invalid(entry_name, "the ZIP holds this name twice"));
            }
            Ok(())
        })?;
        Ok(PackageFs::Zip { zip, files })
    }

    /// Every file with its size, by path.
    pub fn files(&self) -> Vec<(String, u64)> {
        match self {
            PackageFs::Dir { files, .. } => files.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            PackageFs::Zip { files, .. } => files.iter().map(|(k, e)| (k.clone(), e.size)).collect(),
        }
    }

    pub fn size(&self, path: &str) -> Option<u64> {
        match self {
            PackageFs::Dir { files, .. } => files.get(path).copied(),
            PackageFs::Zip { files, .. } => files.get(path).map(|e| e.size),
        }
    }

    /// The CRC-32 a ZIP records for a file (`None` in a folder).
    pub fn crc32(&self, path: &str) -> Option<u32> {
        match self {
            PackageFs::Dir { .. } => None,
            PackageFs::Zip { files, .. } => files.get(path).map(|e| e.crc32),
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
                // a link put in place since the folder was checked is not followed
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                    .open(root.join(path))
                    .map_err(|e| PackageError::io(path, e))?;
                Ok(Box::new(f.take(size)))
            }
            PackageFs::Zip { zip, files } => {
                let at = files.get(path).ok_or_else(|| PackageError::invalid(path, "no such file in the package"))?;
                zip.open_entry(path, at)
            }
        }
    }
}

/// The checks of a ZIP's entries, the ZIP treated as hostile: each a safe relative path
/// and no link, and what they unpack to within the ZIP's budget and the ratio limit.
pub struct ZipChecks {
    name: String,
    len: u64,
    limits: UnpackLimits,
    budget: u64,
    total: u64,
}

impl ZipChecks {
    /// For the ZIP at `path`, `len` bytes long.
    pub fn new(name: String, len: u64, limits: UnpackLimits) -> ZipChecks {
        // what the whole ZIP unpacks to, bounded by the limit and by the ratio to its size
        let budget = limits.max_total_bytes.min(len.saturating_mul(limits.max_ratio).max(limits.ratio_floor));
        ZipChecks { name, len, limits, budget, total: 0 }
    }

    /// Checks the `index`th entry (the first is 0).
    pub fn check(&mut self, index: usize, entry_name: &str, kind: Kind, packed: u64, size: u64) -> Result<(), PackageError> {
        let limits = self.limits;
        if index >= limits.max_files {
            return Err(PackageError::Limit(format!("{}: more than {} entries", self.name, limits.max_files)));
        }
        if let Err(why) = check_relative(entry_name.trim_end_matches('/')) {
            return Err(PackageError::invalid(entry_name, format!("unsafe path in ZIP ({why})")));
        }
        match kind {
            Kind::Link => return Err(PackageError::invalid(entry_name, "symbolic link in ZIP (links are refused)")),
            Kind::Folder => return Ok(()),
            Kind::File => {}
        }
        self.total = self.total.saturating_add(size);
        if self.total > self.budget {
            return Err(PackageError::Limit(format!(
                "{}: unpacking its entries would write more than {} bytes ({}:1 of its \
                    {} bytes, at most {} in all): a ZIP bomb?",
                self.name, self.budget, limits.max_ratio, self.len, limits.max_total_bytes
            )));
        }
        if size > limits.ratio_floor && size / packed.max(1) > limits.max_ratio {
            return Err(PackageError::Limit(format!(
                "{entry_name}: expands {}:1 ({packed} to {size} bytes), over the {}:1 limit (a ZIP bomb?)",
                size / packed.max(1),
                limits.max_ratio
            )));
        }
        Ok(())
    }
}
