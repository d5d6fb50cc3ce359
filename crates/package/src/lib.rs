//! The ferry package: a ZIP file or a directory (optionally age-encrypted) holding, per
//! vertical, the standard format other software imports and ferry's canonical JSON Lines
//! records, with a manifest that lists every file's size, media type and SHA-256.
//! See `docs/package-format.md`.

mod assemble;
pub mod crypt;
mod fs;
mod index;
mod journal;
pub mod layout;
pub mod manifest;
mod reader;
mod readme;
pub mod record;
mod sink;
mod stagers;
mod staging;
mod verify;
mod writer;
mod zip_entries;
mod zip_out;

pub use fs::{Kind, PackageFs, Span, UnpackLimits, ZipChecks, ZipEntry, ZipFile};
pub use manifest::{FileEntry, Manifest, VerticalSummary};
pub use reader::{PackageReader, sync_to_async};
pub use record::{ContentRef, PackageRecord};
pub use verify::{VerifyReport, verify};
pub use writer::{Added, PackageWriter};

pub const FORMAT_NAME: &str = "ferry-package";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The package is damaged, hostile or not a ferry package; says which file.
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("{0}")]
    Limit(String),
    #[error("cannot decrypt the package: {0}")]
    Decrypt(String),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// Another process is writing this package now; says who.
    #[error("{0}")]
    Busy(String),
    /// The target (or a staging left there) is not this job's to write; says why.
    #[error("{0}")]
    Refused(String),
    /// One item the package cannot hold; that item fails, the job goes on.
    #[error("{0}")]
    BadItem(String),
    #[error("package staging: {0}")]
    Staging(String),
}

impl PackageError {
    pub fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        PackageError::Invalid { path: path.into(), reason: reason.into() }
    }
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        PackageError::Io { context: context.into(), source }
    }
}

/// How a package is stored, from its path: `.zip` is a ZIP file, `.age` an encrypted
/// ZIP, anything else a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Directory,
    Zip,
    EncryptedZip,
}

impl Form {
    pub fn of(path: &std::path::Path) -> Form {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("zip") => Form::Zip,
            Some("age") => Form::EncryptedZip,
            _ => Form::Directory,
        }
    }
}
