use ferry_core::{ConnectorError, Endpoint};
use std::path::PathBuf;

/// `package:PATH`: `.zip` is a ZIP file, `.age` an age-encrypted ZIP, anything else a
/// directory.
#[derive(Debug, Clone)]
pub struct PackageConfig {
    pub path: PathBuf,
}

impl PackageConfig {
    pub fn from_endpoint(e: &Endpoint) -> Result<Self, ConnectorError> {
        if e.path().is_empty() {
            return Err(ConnectorError::Fatal("package: needs a path, as in package:export.zip".into()));
        }
        Ok(PackageConfig { path: PathBuf::from(e.path()) })
    }
}
