//! What is checked before a job exists. A problem found here is a usage error (exit 2):
//! the command is wrong, not the data, and no job is created for it.

use anyhow::anyhow;
use ferry_core::Endpoint;
use std::path::PathBuf;

/// A mistake in the command line; `main` exits with code 2 for it.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub fn usage(msg: impl std::fmt::Display) -> anyhow::Error {
    anyhow!(UsageError(msg.to_string()))
}

/// The local path an endpoint names, for connectors that read and write local files.
pub fn local_path(e: &Endpoint) -> Option<PathBuf> {
    matches!(e.scheme.as_str(), "dir" | "package").then(|| {
        let p = e.path();
        PathBuf::from(p.split_once('?').map(|(p, _)| p).unwrap_or(p))
    })
}

/// Checks a source and destination pair of already normalized URIs.
pub fn endpoints(source: &Endpoint, destination: &Endpoint) -> Result<(), anyhow::Error> {
    let src = local_path(source);
    if let Some(p) = &src {
        match std::fs::symlink_metadata(p) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(usage(format!("the source {} does not exist; check the path", p.display())));
            }
            Err(e) => return Err(usage(format!("the source {} cannot be read: {e}", p.display()))),
        }
    }
    // a folder read while written into (or written into while read) grows without end
    if let (Some(s), Some(d)) = (src, local_path(destination))
        && s.is_dir()
    {
        ferry_connectors::dir::check_overlap(&s, &d).map_err(|why| usage(format!("{why}; choose a destination outside it")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Endpoint {
        Endpoint::parse(s).unwrap()
    }

    #[test]
    fn nesting_is_refused_both_ways_and_siblings_pass() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        let s = format!("dir:{}", src.display());
        assert!(endpoints(&ep(&s), &ep(&format!("package:{}/out.zip", src.display()))).is_err());
        assert!(endpoints(&ep(&s), &ep(&format!("dir:{}/sub/new", src.display()))).is_err());
        assert!(endpoints(&ep(&format!("dir:{}/sub", src.display())), &ep(&format!("dir:{}", src.display()))).is_err());
        assert!(endpoints(&ep(&s), &ep(&s)).is_err());
        assert!(endpoints(&ep(&s), &ep(&format!("dir:{}/other", t.path().display()))).is_ok());
        // through a link to the source
        std::os::unix::fs::symlink(&src, t.path().join("alias")).unwrap();
        assert!(endpoints(&ep(&s), &ep(&format!("dir:{}/alias/x", t.path().display()))).is_err());
        assert!(endpoints(&ep(&format!("dir:{}/missing", t.path().display())), &ep("dir:/tmp/x")).is_err());
    }
}
