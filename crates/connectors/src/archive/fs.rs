//! The files of an archive, whatever holds them: a ZIP, the parts of a multi-part set
//! (Google Takeout's `takeout-20240101T000000Z-001.zip`, `-002.zip`, and the newer
//! `takeout-20240101T000000Z-3-001.zip`, or the same as `.tgz`), a `.tgz` / `.tar.gz`, or
//! an extracted folder. Each part is checked as hostile before anything is read (no
//! traversal, no absolute paths, no links, no name twice, bounded size and compression
//! ratio: the package reader's checks), and nothing is extracted to disk: an entry is read
//! where it lies, when it is read. A ZIP or a folder is read at random; a `.tgz` is read
//! through once when opened and then forward, from checkpoints (`tgz/`).

use super::entries::{Builder, Entries, Failed, Repeated};
use super::tgz::{self, TarPart};
use ferry_core::Content;
use ferry_core::content::{BoxRead, ContentSource};
use ferry_package::{Kind, PackageError, PackageFs, UnpackLimits, ZipChecks, ZipFile};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub enum Part {
    /// A ZIP, read at random.
    Zip(ZipFile),
    /// An extracted folder.
    Dir(PathBuf),
    /// A `.tgz` / `.tar.gz`, read forward.
    Tar(TarPart),
}

pub struct ArchiveFs {
    /// What the person named, for messages.
    pub label: String,
    parts: Vec<Part>,
    /// Every file by its path in the archive (parts merged).
    pub entries: Entries,
    /// Files a later part holds again under a path an earlier part has (each part of a
    /// Takeout repeats its `archive_browser.html`): listed, not read twice.
    pub repeated: Repeated,
}

impl ArchiveFs {
    /// Opens what `path` names, with every part checked.
    pub fn open(path: &Path, limits: UnpackLimits) -> Result<ArchiveFs, String> {
        let label = path.display().to_string();
        let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot open {label}: {e}"))?;
        if meta.file_type().is_symlink() {
            return Err(format!("{label} is a symbolic link: name the archive itself"));
        }
        let paths = if meta.is_dir() {
            let parts = parts_in_folder(path)?;
            if parts.is_empty() { vec![path.to_owned()] } else { parts }
        } else {
            sibling_parts(path)?
        };
        let tars: Vec<bool> = paths.iter().map(|p| p.is_file() && (tgz::is_tgz_name(p) || tgz::is_gzip(p))).collect();
        // the checkpoints of all the tar parts together are bounded
        let tar_bytes: u64 = paths.iter().zip(&tars).filter(|(_, t)| **t).filter_map(|(p, _)| p.metadata().ok()).map(|m| m.len()).sum();
        let every = tgz::checkpoint_every(tar_bytes);
        let mut all = Builder::default();
        let mut parts = Vec::with_capacity(paths.len());
        // each part's files join the others' as soon as it is open (each part was held
        // to its limits as it was listed)
        open_parts(&paths, &tars, limits, every, |part, files| {
            all.append(files).map_err(|e| scratch(&label, e))?;
            if all.bytes > limits.max_total_bytes {
                return Err(format!("{label}: its parts hold more than the {} byte limit", limits.max_total_bytes));
            }
            if all.len() > limits.max_files {
                return Err(format!("{label}: more than {} files", limits.max_files));
            }
            parts.push(part);
            Ok(())
        })?;
        let (entries, repeated) = all.finish().map_err(|e| match e {
            // a ZIP's names that differ only in how they are encoded
            Failed::Twice(name, part) => format!("{name}: {} holds this name twice", paths[part].display()),
            Failed::Scratch(e) => scratch(&label, e),
        })?;
        Ok(ArchiveFs { label, parts, entries, repeated })
    }

    /// Opens a file to read; it yields exactly its listed size, or fails.
    pub fn open_file(&self, path: &str) -> Result<Box<dyn Read + Send>, String> {
        let e = self.entries.get(path).ok_or_else(|| format!("{path}: no such file in the archive"))?;
        match &self.parts[e.part as usize] {
            Part::Zip(z) => z.open_entry(path, &e.zip().expect("a ZIP part's entry")).map_err(|e| e.to_string()),
            Part::Dir(root) => {
                // a link put in place since the folder was checked is not followed
                let (f, _) = crate::dir::safe::open_regular(&root.join(path)).map_err(|err| format!("{path}: {err}"))?;
                Ok(Box::new(f.take(e.size())))
            }
            Part::Tar(t) => t.open_file(path),
        }
    }

    /// A file read whole, when it is at most `max` bytes.
    pub fn read_bounded(&self, path: &str, max: u64) -> Result<Vec<u8>, String> {
        let size = self.entries.get(path).map(|e| e.size()).ok_or_else(|| format!("{path}: no such file in the archive"))?;
        if size > max {
            return Err(format!("{path} is {size} bytes, over the {max} byte limit for such a file"));
        }
        let mut out = Vec::with_capacity(size as usize);
        self.open_file(path)?.take(max + 1).read_to_end(&mut out).map_err(|e| format!("{path}: cannot read: {e}"))?;
        Ok(out)
    }

    /// Whether two files of the same size hold the same bytes: by their CRC-32 when both
    /// are known (a ZIP's, or the one a tar's opening pass computed), else (an extracted
    /// folder) read side by side and compared. A file that cannot be read matches none.
    pub fn same_bytes(&self, a: &str, b: &str) -> bool {
        let (Some(ea), Some(eb)) = (self.entries.get(a), self.entries.get(b)) else { return false };
        if ea.size() != eb.size() {
            return false;
        }
        if let (Some(x), Some(y)) = (ea.crc32(), eb.crc32()) {
            return x == y;
        }
        let (Ok(mut ra), Ok(mut rb)) = (self.open_file(a), self.open_file(b)) else { return false };
        let (mut ba, mut bb) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
        loop {
            let n = match read_full(&mut ra, &mut ba) {
                Ok(n) => n,
                Err(_) => return false,
            };
            match read_full(&mut rb, &mut bb[..n.max(1)]) {
                Ok(m) if m == n && ba[..n] == bb[..n] => {}
                _ => return false,
            }
            if n == 0 {
                return true;
            }
        }
    }

    /// A file as an item's content, read when the item is written.
    pub fn content(self: &Arc<Self>, path: &str, media_type: &str) -> Content {
        let size = self.entries.get(path).map(|e| e.size());
        Content {
            media_type: media_type.to_owned(),
            size,
            sha256: None,
            source: Arc::new(EntrySource { fs: self.clone(), path: path.to_owned() }),
        }
    }

    /// The path of a file of an extracted archive (so a local destination can link it):
    /// `None` inside a ZIP or a tar.
    fn local_path(&self, path: &str) -> Option<PathBuf> {
        let e = self.entries.get(path)?;
        match &self.parts[e.part as usize] {
            Part::Dir(root) => Some(root.join(path)),
            Part::Zip(_) | Part::Tar(_) => None,
        }
    }
}

/// What holds the index while it is built and read (see `entries`).
const SCRATCH: &str = "cannot write the archive's index to a scratch file in the temporary folder (TMPDIR)";

fn scratch(label: &str, e: std::io::Error) -> String {
    format!("{label}: {SCRATCH}: {e}")
}

/// Opens one part, checked, with its files.
fn open_part(
    p: &Path,
    index: usize,
    tar: bool,
    limits: UnpackLimits,
    every: u64,
    held: &std::sync::atomic::AtomicU64,
) -> Result<(Part, Builder), String> {
    let mut files = Builder::default();
    if tar {
        let t = TarPart::open(p, limits, every, held)?;
        for (path, f) in &t.files {
            // a tar records no CRC-32: the one the opening pass computed, so that two
            // copies are told apart as in a ZIP
            files.add(path, index, f.size, Some(f.crc32), None).map_err(|e| scratch(&p.display().to_string(), e))?;
        }
        // written out before it waits for the parts before it (opened side by side)
        files.spill().map_err(|e| scratch(&p.display().to_string(), e))?;
        return Ok((Part::Tar(t), files));
    }
    if tgz::is_plain_tar(p) {
        return Err(format!(
            "{}: a tar archive that is not compressed; ferry reads tar archives compressed with gzip (.tgz, .tar.gz): gzip it, or extract it and name the folder",
            p.display()
        ));
    }
    if p.is_dir() {
        let PackageFs::Dir { root, files: listed } = PackageFs::open(p, limits).map_err(|e| e.to_string())? else {
            unreachable!("a folder opens as a folder")
        };
        for (path, size) in &listed {
            files.add(path, index, *size, None, None).map_err(|e| scratch(&p.display().to_string(), e))?;
        }
        return Ok((Part::Dir(root), files));
    }
    let len = p.metadata().map_err(|e| format!("cannot open {}: {e}", p.display()))?.len();
    let mut checks = ZipChecks::new(p.display().to_string(), len, limits);
    let zip = ZipFile::open(p, |i, name, kind, packed, at| {
        checks.check(i, name, kind, packed, at.size)?;
        if kind == Kind::File {
            files.add(name, index, at.size, Some(at.crc32), Some(at)).map_err(|e| PackageError::io(SCRATCH, e))?;
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok((Part::Zip(zip), files))
}

/// Opens every part, checked, and hands each to `done` in part order: the `.tgz` ones
/// (each read through once) side by side, on as many threads as there are cores (at most
/// 4); the first failure, in part order, is the one said.
fn open_parts(
    paths: &[PathBuf],
    tars: &[bool],
    limits: UnpackLimits,
    every: u64,
    mut done: impl FnMut(Part, Builder) -> Result<(), String>,
) -> Result<(), String> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    let held = AtomicU64::new(tgz::HELD);
    let open = |i: usize| open_part(&paths[i], i, tars[i], limits, every, &held);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4).min(tars.iter().filter(|t| **t).count());
    if threads <= 1 {
        for i in 0..paths.len() {
            let (part, files) = open(i)?;
            done(part, files)?;
        }
        return Ok(());
    }
    type Opened = Result<(Part, Builder), String>;
    let results: Vec<Mutex<Option<Opened>>> = paths.iter().map(|_| Mutex::new(None)).collect();
    let (next, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= paths.len() {
                        return;
                    }
                    let r = open(i);
                    failed.fetch_or(r.is_err(), Ordering::Relaxed);
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                }
            });
        }
    });
    for r in results {
        match r.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(r) => {
                let (part, files) = r?;
                done(part, files)?;
            }
            // not opened: a part before it failed, and is said above
            None => return Err("an earlier part failed".into()),
        }
    }
    Ok(())
}

/// A multi-part name's stem and part number: `takeout-20240101T000000Z-001.zip` →
/// (`takeout-20240101T000000Z`, 1, `zip`); `takeout-20240101T000000Z-3-002.tgz` →
/// (`takeout-20240101T000000Z-3`, 2, `tgz`).
fn part_of(name: &str) -> Option<(String, u32, String)> {
    let lower = name.to_ascii_lowercase();
    let ext = ["zip", "tgz", "tar.gz"].into_iter().find(|e| lower.ends_with(&format!(".{e}")))?;
    let base = &name[..name.len() - ext.len() - 1];
    let (stem, number) = base.rsplit_once('-')?;
    if number.len() != 3 || !number.bytes().all(|b| b.is_ascii_digit()) || stem.is_empty() {
        return None;
    }
    Some((stem.to_owned(), number.parse().ok()?, ext.to_owned()))
}

/// The parts of the set `path` belongs to, in number order (just `path` when it is not
/// one part of a set).
fn sibling_parts(path: &Path) -> Result<Vec<PathBuf>, String> {
    let Some((stem, _, ext)) = path.file_name().and_then(|n| n.to_str()).and_then(part_of) else {
        return Ok(vec![path.to_owned()]);
    };
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut parts: Vec<(u32, PathBuf)> = std::fs::read_dir(folder)
        .map_err(|e| format!("cannot list {}: {e}", folder.display()))?
        .filter_map(Result::ok)
        .filter_map(|d| {
            let name = d.file_name().to_str()?.to_owned();
            let (s, n, e) = part_of(&name)?;
            (s == stem && e == ext && d.file_type().is_ok_and(|t| t.is_file())).then(|| (n, d.path()))
        })
        .collect();
    parts.sort();
    Ok(parts.into_iter().map(|(_, p)| p).collect())
}

/// A folder that holds only the parts of one multi-part set (and nothing else): those
/// parts. Empty when the folder is an extracted archive.
fn parts_in_folder(folder: &Path) -> Result<Vec<PathBuf>, String> {
    let mut stems = std::collections::BTreeSet::new();
    let mut parts = Vec::new();
    for d in std::fs::read_dir(folder).map_err(|e| format!("cannot list {}: {e}", folder.display()))? {
        let d = d.map_err(|e| format!("cannot list {}: {e}", folder.display()))?;
        let name = d.file_name().to_string_lossy().into_owned();
        match part_of(&name) {
            Some((stem, n, ext)) if d.file_type().is_ok_and(|t| t.is_file()) => {
                stems.insert((stem, ext));
                parts.push((n, d.path()));
            }
            _ => return Ok(vec![]),
        }
    }
    if stems.len() > 1 {
        let sets: Vec<String> = stems.iter().map(|(s, e)| format!("{s}-NNN.{e}")).collect();
        return Err(format!("{} holds the parts of more than one archive ({}): name one part", folder.display(), sets.join(", ")));
    }
    parts.sort();
    Ok(parts.into_iter().map(|(_, p)| p).collect())
}

/// A file of the archive, opened when read (and again on a retry).
struct EntrySource {
    fs: Arc<ArchiveFs>,
    path: String,
}

#[async_trait::async_trait]
impl ContentSource for EntrySource {
    async fn open(&self) -> std::io::Result<BoxRead> {
        if let Some(p) = self.fs.local_path(&self.path) {
            return ferry_core::content::FileSource(p).open().await;
        }
        let fs = self.fs.clone();
        let path = self.path.clone();
        let reader = tokio::task::spawn_blocking(move || fs.open_file(&path))
            .await
            .map_err(std::io::Error::other)?
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        Ok(ferry_package::sync_to_async(reader))
    }

    fn open_blocking(&self) -> Option<std::io::Result<Box<dyn Read + Send>>> {
        Some(self.fs.open_file(&self.path).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
    }
}

/// Reads until `buf` is full or the reader ends: how many bytes it holds.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_takeout_part_names_are_understood() {
        assert_eq!(part_of("takeout-20240101T000000Z-001.zip"), Some(("takeout-20240101T000000Z".into(), 1, "zip".into())));
        assert_eq!(part_of("takeout-20260106T162534Z-9-002.zip"), Some(("takeout-20260106T162534Z-9".into(), 2, "zip".into())));
        assert_eq!(part_of("takeout-20240101T000000Z-010.tgz"), Some(("takeout-20240101T000000Z".into(), 10, "tgz".into())));
        assert_eq!(part_of("export.zip"), None);
        assert_eq!(part_of("archive-1.zip"), None);
        assert_eq!(part_of("-001.zip"), None);
    }

    /// In a folder (no CRC-32) the bytes decide; across a 64 KiB read, a last byte that
    /// differs is seen; another size, a missing file never match.
    #[test]
    fn same_bytes_compares_what_a_folder_holds() {
        let t = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut other = big.clone();
        *other.last_mut().unwrap() ^= 1;
        for (name, bytes) in [("a/x.jpg", &big), ("b/x.jpg", &big), ("c/x.jpg", &other), ("d/x.jpg", &big[1..].to_vec())] {
            let p = t.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        let fs = ArchiveFs::open(t.path(), UnpackLimits::default()).unwrap();
        assert_eq!(fs.entries.get("a/x.jpg").unwrap().crc32(), None, "a folder records none");
        assert!(fs.same_bytes("a/x.jpg", "b/x.jpg"));
        assert!(!fs.same_bytes("a/x.jpg", "c/x.jpg"));
        assert!(!fs.same_bytes("a/x.jpg", "d/x.jpg"));
        assert!(!fs.same_bytes("a/x.jpg", "e/x.jpg"));
    }
}
