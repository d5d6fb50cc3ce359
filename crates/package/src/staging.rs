//! The staging folder beside a package target, `<target>.ferry-partial/`: private to its
//! owner (0700, files 0600), held by one process at a time through an exclusive lock on
//! `lock`, and belonging to one job. Also the check that a target may be written at all.

use crate::{Form, PackageError};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// `<target>.ferry-partial`: where a package is staged.
pub fn partial_path(target: &Path) -> PathBuf {
    let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("package");
    target.with_file_name(format!("{name}.ferry-partial"))
}

/// Creates `dir` (and missing parents) as private folders, or checks that it is a real
/// folder (not a link) and makes it private.
pub fn private_dir(dir: &Path) -> Result<(), PackageError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| PackageError::io(format!("cannot create {}", dir.display()), e))?;
    let meta = std::fs::symlink_metadata(dir).map_err(|e| PackageError::io(dir.display().to_string(), e))?;
    if !meta.is_dir() {
        return Err(PackageError::invalid(
            dir.display().to_string(),
            "is not a folder (a link?); ferry stages packages only in its own folder",
        ));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| PackageError::io(format!("cannot make {} private", dir.display()), e))?;
    }
    Ok(())
}

/// Opens a file for writing (and reading back) only if it does not exist yet, never
/// through a link, mode 0600.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path)
}

/// Removes a finished staging folder whose lock this process holds: everything but the
/// lock first, then the lock, then the folder unless another export has started staging
/// in it since (it took a fresh lock the moment the old one was gone). Removing the lock
/// early would let that export open this one's half-removed files.
pub fn remove_staging(staging: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(staging)? {
        let entry = entry?;
        if entry.file_name() == "lock" {
            continue;
        }
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    std::fs::remove_file(staging.join("lock"))?;
    match std::fs::remove_dir(staging) {
        Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => Ok(()),
        other => other,
    }
}

/// The exclusive lock on a staging folder, held while a writer is open.
pub struct StagingLock {
    _file: File,
}

impl StagingLock {
    /// Takes the lock of `staging`, or says who holds it.
    pub fn acquire(staging: &Path, job: &str) -> Result<StagingLock, PackageError> {
        let path = staging.join("lock");
        let io = |e| PackageError::io(format!("cannot lock {}", path.display()), e);
        // the folder can be removed by the holder as it finishes: retry on a fresh lock file
        for _ in 0..10 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Err(PackageError::Busy(format!(
                        "{} is in use by {}; wait for it to end (or stop it) and try again",
                        staging.display(),
                        if holder.is_empty() { "another ferry process" } else { holder }
                    )));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
            let same = match std::fs::symlink_metadata(&path) {
                Ok(m) => {
                    let f = file.metadata().map_err(io)?;
                    m.dev() == f.dev() && m.ino() == f.ino()
                }
                Err(_) => false,
            };
            if !same {
                continue;
            }
            file.set_len(0).map_err(io)?;
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            write!(file, "job {job} (process {})", std::process::id()).map_err(io)?;
            return Ok(StagingLock { _file: file });
        }
        Err(PackageError::Busy(format!("{} keeps changing: another ferry process is using it", staging.display())))
    }
}

/// Whether `target` may be written by job `job`: a missing path; for a folder package, an
/// empty folder or a package this job wrote earlier; for a ZIP, a ferry package (it is
/// replaced whole). Anything else is refused, before any work is done.
pub fn check_target(target: &Path, job: &str) -> Result<(), PackageError> {
    let shown = target.display().to_string();
    let meta = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(PackageError::io(format!("cannot check {shown}"), e)),
    };
    if meta.file_type().is_symlink() {
        return Err(PackageError::Refused(format!("{shown} is a symbolic link; give the real path of the package")));
    }
    match Form::of(target) {
        Form::Directory => {
            if !meta.is_dir() {
                return Err(PackageError::Refused(format!("{shown} exists and is not a folder")));
            }
            let empty = std::fs::read_dir(target).map_err(|e| PackageError::io(format!("cannot read {shown}"), e))?.next().is_none();
            if empty || manifest_job(target).as_deref() == Some(job) {
                return Ok(());
            }
            Err(PackageError::Refused(format!(
                "{shown} is not empty and is not a package of this job: ferry writes a folder package \
                    only into a new or empty folder (it would replace what is there); choose another \
                    folder"
            )))
        }
        form => {
            if !meta.is_file() {
                return Err(PackageError::Refused(format!("{shown} exists and is not a file")));
            }
            if is_ferry_file(target, form) {
                return Ok(());
            }
            Err(PackageError::Refused(format!(
                "{shown} exists and is not a ferry package: ferry replaces only its own packages; choose another name"
            )))
        }
    }
}

/// The job recorded in a folder package's manifest.
fn manifest_job(dir: &Path) -> Option<String> {
    let f = File::open(dir.join("manifest.json")).ok()?;
    if f.metadata().ok()?.len() > 64 << 20 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_reader(io::BufReader::new(f)).ok()?;
    (v.get("format")?.as_str()? == crate::FORMAT_NAME).then(|| v.get("job")?.as_str().map(str::to_owned))?
}

/// A ZIP holding a ferry manifest, or an age file (which cannot be looked into).
fn is_ferry_file(path: &Path, form: Form) -> bool {
    let Ok(mut f) = File::open(path) else { return false };
    if form == Form::EncryptedZip {
        let mut head = [0u8; 21];
        return f.read_exact(&mut head).is_ok() && (&head == b"age-encryption.org/v1" || head.starts_with(b"-----BEGIN AGE"));
    }
    let Ok(mut z) = zip::ZipArchive::new(f) else { return false };
    let Ok(m) = z.by_name("manifest.json") else { return false };
    let mut head = Vec::new();
    m.take(4096).read_to_end(&mut head).is_ok() && String::from_utf8_lossy(&head).contains(crate::FORMAT_NAME)
}
