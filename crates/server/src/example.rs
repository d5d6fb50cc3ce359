//! The example account people can try the service with: written from the binary into
//! the data directory, in a folder named by its content's hash, so that a folder once
//! written is never changed (a job reading it can be resumed after an upgrade).

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/example_account.rs"));

/// Writes the example account below `data_dir/example/` unless it is there, and returns
/// its folder.
pub fn install(data_dir: &Path) -> std::io::Result<PathBuf> {
    let mut h = Sha256::new();
    for (name, bytes) in FILES {
        h.update(name.as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    let base = data_dir.join("example");
    let dir = base.join(&hex::encode(h.finalize())[..16]);
    // a folder of that name was renamed into place whole
    if dir.is_dir() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&base)?;
    // written beside, then renamed into place whole
    let tmp = base.join(format!(".writing-{}", hex::encode(rand::random::<[u8; 8]>())));
    std::fs::create_dir(&tmp)?;
    for (name, bytes) in FILES {
        let path = tmp.join(name);
        std::fs::create_dir_all(path.parent().expect("below the folder"))?;
        std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?.write_all(bytes)?;
    }
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        // another process put it there first: theirs is the same
        Err(_) if dir.is_dir() => {
            std::fs::remove_dir_all(&tmp)?;
            Ok(dir)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_account_is_written_once_and_whole() {
        let t = tempfile::tempdir().unwrap();
        let a = super::install(t.path()).unwrap();
        let b = super::install(t.path()).unwrap();
        assert_eq!(a, b);
        assert!(super::FILES.len() > 20, "the whole account is embedded");
        for (name, bytes) in super::FILES {
            assert_eq!(&std::fs::read(a.join(name)).unwrap(), bytes, "{name}");
        }
    }
}
