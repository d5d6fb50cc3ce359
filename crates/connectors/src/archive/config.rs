use ferry_core::{ConnectorError, Endpoint};
use std::path::PathBuf;

/// `archive:PATH`: a platform's "download your data" archive: a ZIP, one part of a
/// multi-part set (its sibling parts are found beside it), a `.tgz` / `.tar.gz`, or the
/// folder it was extracted to (or a folder holding the parts).
#[derive(Debug, Clone)]
pub struct ArchiveConfig {
    pub path: PathBuf,
}

impl ArchiveConfig {
    pub fn from_endpoint(e: &Endpoint) -> Result<Self, ConnectorError> {
        if e.path().is_empty() {
            return Err(ConnectorError::Fatal("archive: needs a path, as in archive:takeout-20240101T000000Z-001.zip".into()));
        }
        if e.path().contains('?') {
            return Err(ConnectorError::Fatal("archive: takes no options".into()));
        }
        Ok(ArchiveConfig { path: PathBuf::from(e.path()) })
    }
}
