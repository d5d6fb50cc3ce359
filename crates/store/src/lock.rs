//! Advisory locks on files (`flock`), released by the kernel when the process ends, even
//! by `kill -9`: a job being run, and the store while its tables are created.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Opens (creating if needed, private, never through a link) a lock file.
pub fn open_lock_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path)
}

/// An exclusive lock held for as long as this value lives.
#[derive(Debug)]
pub struct HeldLock {
    _file: File,
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else holds it; `holder` is what they wrote into the lock file.
    #[error("{what} is in use by {holder}")]
    Held { what: String, holder: String },
    #[error("cannot lock {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl HeldLock {
    /// Takes the lock at `path` without waiting, and writes who holds it (`this process`,
    /// its pid, the time) into the file for whoever finds it taken.
    pub fn try_acquire(path: &Path, what: &str) -> Result<HeldLock, LockError> {
        let io = |source| LockError::Io { path: path.to_owned(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = open_lock_file(path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() { "another ferry process".to_owned() } else { holder.to_owned() };
                return Err(LockError::Held { what: what.to_owned(), holder });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let me = format!(
            "ferry process {} on {} since {}",
            std::process::id(),
            hostname(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        file.set_len(0).and_then(|_| file.rewind()).and_then(|_| file.write_all(me.as_bytes())).map_err(io)?;
        Ok(HeldLock { _file: file, path: path.to_owned() })
    }
}

/// This machine's name, for telling who holds a lock or a lease.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "this machine".into())
}

/// The lock a job is run under: one process at a time runs (or resumes) a job.
pub fn job_lock(data_dir: &Path, job: &str) -> Result<HeldLock, LockError> {
    // job ids are hex; anything else never names a file
    let safe: String = job.chars().filter(char::is_ascii_alphanumeric).collect();
    HeldLock::try_acquire(&data_dir.join("locks").join(format!("job-{safe}.lock")), &format!("job {job}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_told_who_holds_it() {
        let d = tempfile::tempdir().unwrap();
        let first = job_lock(d.path(), "abc123").unwrap();
        match job_lock(d.path(), "abc123") {
            Err(LockError::Held { holder, .. }) => assert!(holder.contains(&std::process::id().to_string()), "{holder}"),
            other => panic!("expected Held, got {other:?}"),
        }
        assert!(job_lock(d.path(), "other").is_ok(), "other jobs are free");
        drop(first);
        assert!(job_lock(d.path(), "abc123").is_ok(), "released when dropped");
    }

    #[test]
    fn a_link_planted_at_the_lock_name_is_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        std::fs::create_dir_all(d.path().join("locks")).unwrap();
        std::os::unix::fs::symlink(&victim, d.path().join("locks/job-j1.lock")).unwrap();
        assert!(job_lock(d.path(), "j1").is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    }
}
