//! File system access that never follows a link nor opens what is not a regular file,
//! and temporary files that are created, never reused. Every read and write of the dir
//! connector goes through here.

use async_trait::async_trait;
use ferry_core::{BoxRead, ContentSource};
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why a path was not opened, when it is a link or a special file.
fn refused(path: &Path, what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{} is {what}: not followed, ferry reads only regular files", path.display()))
}

/// Opens a regular file for reading: a symbolic link is refused (`O_NOFOLLOW`), a FIFO or
/// device does not block the open (`O_NONBLOCK`) and is refused after `fstat`.
pub fn open_regular(path: &Path) -> io::Result<(File, Metadata)> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| if e.raw_os_error() == Some(libc::ELOOP) { refused(path, "a symbolic link") } else { e })?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(refused(path, "not a regular file (a FIFO, device, socket or folder)"));
    }
    Ok((f, meta))
}

/// What sits at `path`, without following a link: a description to report when it is
/// not a regular file, `None` when it is one (or is missing).
pub fn not_regular(path: &Path) -> Option<&'static str> {
    let m = std::fs::symlink_metadata(path).ok()?;
    let t = m.file_type();
    if t.is_file() {
        None
    } else if t.is_symlink() {
        Some("a symbolic link")
    } else if t.is_dir() {
        Some("a folder")
    } else {
        Some("a special file (FIFO, device or socket)")
    }
}

/// Creates `dir` and the folders between `root` and it, never through a link: where a
/// folder should be, a symbolic link (planted to send ferry's writes elsewhere) or
/// anything else that is not a folder is refused. `root` itself, the user's choice, may
/// be a link.
pub fn make_dirs(root: &Path, dir: &Path) -> io::Result<()> {
    let not_ours = |p: &Path, what: &str| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{} is {what} where a folder should be: not followed, left alone", p.display()))
    };
    let rel = dir.strip_prefix(root).map_err(|_| not_ours(dir, "outside the destination"))?;
    let mut cur = root.to_owned();
    for c in rel.components() {
        let std::path::Component::Normal(c) = c else { return Err(not_ours(dir, "a path that leaves its folder")) };
        cur.push(c);
        let found = match std::fs::symlink_metadata(&cur) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => match std::fs::create_dir(&cur) {
                Ok(()) => continue,
                // made meanwhile by another writer: checked like any other
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => std::fs::symlink_metadata(&cur)?,
                Err(e) => return Err(e),
            },
            other => other?,
        };
        if found.file_type().is_symlink() {
            return Err(not_ours(&cur, "a symbolic link"));
        }
        if !found.is_dir() {
            return Err(not_ours(&cur, "a file"));
        }
    }
    Ok(())
}

/// Reads a whole regular file of at most `limit` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let (f, meta) = open_regular(path)?;
    if meta.len() > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("larger than the {limit} byte limit")));
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    f.take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("larger than the {limit} byte limit")));
    }
    Ok(out)
}

/// A file's content, opened on demand through [`open_regular`]: a file swapped for a link
/// or a FIFO between the listing and the read is refused rather than followed.
pub struct RegularFileSource(pub PathBuf);

#[async_trait]
impl ContentSource for RegularFileSource {
    async fn open(&self) -> io::Result<BoxRead> {
        let path = self.0.clone();
        let (f, _) = tokio::task::spawn_blocking(move || open_regular(&path)).await.map_err(io::Error::other)??;
        Ok(Box::pin(tokio::io::BufReader::with_capacity(256 * 1024, tokio::fs::File::from_std(f))))
    }

    fn local_path(&self) -> Option<&Path> {
        Some(&self.0)
    }
}

/// An unpredictable suffix for a temporary name.
fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    format!("{:016x}", h.finish())
}

/// Creates a new temporary file in `dir`, named `.<stem>.<random>.ferry-tmp`: created
/// exclusively (`O_EXCL`, which also refuses a link planted at the name) and with `mode`
/// (masked by the process umask, as every file creation is). The file is locked (`flock`)
/// for as long as it is open, so that another run's [`remove_leftover_temps`] leaves it.
pub fn create_temp(dir: &Path, stem: &str, mode: u32) -> io::Result<(File, PathBuf)> {
    let stem: String = stem.chars().take(100).collect();
    for _ in 0..16 {
        let path = dir.join(format!(".{stem}.{}.ferry-tmp", random_suffix()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode & 0o777)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
        {
            Ok(f) => {
                f.lock()?;
                return Ok((f, path));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("no free temporary name in {}", dir.display())))
}

/// Whether `name` is one [`create_temp`] gives: `.<stem>.<16 hex digits>.ferry-tmp`.
pub fn is_temp_name(name: &str) -> bool {
    let Some(rest) = name.strip_suffix(".ferry-tmp") else { return false };
    let Some((stem, suffix)) = rest.rsplit_once('.') else { return false };
    name.starts_with('.') && stem.len() > 1 && suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Removes the temporary files an interrupted run of ferry left in `dir` (regular files
/// with a [`create_temp`] name only; never a link, never anything else). A temporary file
/// that another process still holds locked (a second run writing into the same folder)
/// is left to it.
pub fn remove_leftover_temps(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        if e.file_type().is_ok_and(|t| t.is_file()) && is_temp_name(&e.file_name().to_string_lossy()) {
            let Ok(f) = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC).open(e.path())
            else {
                continue;
            };
            if f.try_lock().is_ok() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Moves `tmp` to `target` only if nothing is at `target` (no file is replaced); `false`
/// when something is, and then `tmp` is left where it is.
pub fn place_new(tmp: &Path, target: &Path) -> io::Result<bool> {
    match std::fs::hard_link(tmp, target) {
        Ok(()) => {
            std::fs::remove_file(tmp)?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(_) => {
            // a file system without hard links: look, then rename (a narrow race)
            if std::fs::symlink_metadata(target).is_ok() {
                return Ok(false);
            }
            std::fs::rename(tmp, target)?;
            Ok(true)
        }
    }
}

/// The absolute form of a path that may not exist yet: the longest existing ancestor,
/// with links resolved, and the rest appended.
fn resolve(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() { path.to_owned() } else { std::env::current_dir().unwrap_or_default().join(path) };
    let mut abs = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                abs.pop();
            }
            c => abs.push(c),
        }
    }
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(p), Some(n)) => {
                rest.push(n.to_owned());
                cur = p;
            }
            _ => return abs,
        }
    }
}

/// Refuses a destination folder inside the source folder (it would be read as it grows)
/// or a source inside the destination (it would be written as it is read), and one
/// folder as both. A usage error, for before any work starts.
pub fn check_overlap(source: &Path, destination: &Path) -> Result<(), String> {
    let (s, d) = (resolve(source), resolve(destination));
    if s == d {
        Err(format!("the source and the destination are the same folder ({})", s.display()))
    } else if d.starts_with(&s) {
        Err(format!("the destination {} is inside the source {}: it would be read as it is written", d.display(), s.display()))
    } else if s.starts_with(&d) {
        Err(format!("the source {} is inside the destination {}: it would be written as it is read", s.display(), d.display()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_made_below_the_root_and_never_through_a_link() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("dest");
        let elsewhere = t.path().join("elsewhere");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        make_dirs(&root, &root.join("notes/a/b")).unwrap();
        assert!(root.join("notes/a/b").is_dir());
        make_dirs(&root, &root.join("notes/a/b")).unwrap();

        std::os::unix::fs::symlink(&elsewhere, root.join("notes/x.attachments")).unwrap();
        let e = make_dirs(&root, &root.join("notes/x.attachments/deeper")).unwrap_err();
        assert!(e.to_string().contains("a symbolic link"), "{e}");
        assert!(!elsewhere.join("deeper").exists(), "nothing is made through the link");

        std::fs::write(root.join("notes/file"), b"kept").unwrap();
        let e = make_dirs(&root, &root.join("notes/file/sub")).unwrap_err();
        assert!(e.to_string().contains("a file"), "{e}");
        assert_eq!(std::fs::read(root.join("notes/file")).unwrap(), b"kept");

        assert!(make_dirs(&root, &root.join("notes/../../escape")).is_err());
        assert!(make_dirs(&root, &elsewhere.join("x")).is_err());
        assert!(!t.path().join("escape").exists());
    }

    #[test]
    fn a_temporary_file_still_being_written_is_not_taken_for_a_leftover() {
        let t = tempfile::tempdir().unwrap();
        let (open, open_path) = create_temp(t.path(), "a.txt", 0o600).unwrap();
        let (left, left_path) = create_temp(t.path(), "b.txt", 0o600).unwrap();
        drop(left);
        remove_leftover_temps(t.path());
        assert!(open_path.exists(), "held by its writer: kept");
        assert!(!left_path.exists(), "nobody holds it: removed");
        drop(open);
    }

    #[test]
    fn links_and_fifos_are_not_opened() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("real"), "x").unwrap();
        std::os::unix::fs::symlink(t.path().join("real"), t.path().join("link")).unwrap();
        let fifo = t.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(open_regular(&t.path().join("real")).is_ok());
        let e = open_regular(&t.path().join("link")).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        // returns at once instead of waiting for a writer
        let e = open_regular(&fifo).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert_eq!(not_regular(&fifo), Some("a special file (FIFO, device or socket)"));
        assert!(read_bounded(Path::new("/dev/zero"), 1024).is_err());
    }

    #[test]
    fn temp_files_never_reuse_a_planted_name() {
        let t = tempfile::tempdir().unwrap();
        let (_, a) = create_temp(t.path(), "x.txt", 0o600).unwrap();
        let (_, b) = create_temp(t.path(), "x.txt", 0o600).unwrap();
        assert_ne!(a, b);
        assert!(is_temp_name(&a.file_name().unwrap().to_string_lossy()), "{a:?}");
        assert!(!is_temp_name(".x.txt.ferry-tmp") && !is_temp_name("x.0123456789abcdef.ferry-tmp"));
        std::fs::write(t.path().join("target"), "user's").unwrap();
        assert!(!place_new(&a, &t.path().join("target")).unwrap());
        assert_eq!(std::fs::read_to_string(t.path().join("target")).unwrap(), "user's");
        assert!(place_new(&a, &t.path().join("fresh")).unwrap());
        assert!(!a.exists());
    }

    #[test]
    fn overlapping_folders_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        std::fs::create_dir(&src).unwrap();
        assert!(check_overlap(&src, &src.join("out/new")).unwrap_err().contains("inside the source"));
        assert!(check_overlap(&src.join("mail"), &src).unwrap_err().contains("inside the destination"));
        assert!(check_overlap(&src, &src.join(".")).is_err());
        assert!(check_overlap(&src, &t.path().join("src2")).is_ok());
        // through a link to the source
        std::os::unix::fs::symlink(&src, t.path().join("alias")).unwrap();
        assert!(check_overlap(&src, &t.path().join("alias/out")).is_err());
    }
}
