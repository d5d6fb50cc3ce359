//! `dir:PATH`: a folder of ordinary files. Read: `*.vcf`, `*.ics`, mbox files, maildir
//! folders, `*.eml`, Google/Outlook contacts CSV, photos and videos (with EXIF and
//! Takeout sidecars), and any other file as the files vertical. Written: one file per
//! contact, event and task (as vdirsyncer does), a maildir per mail folder, media and
//! files as they are. See docs/connectors/dir.md.

mod config;
mod exporter;
mod importer;
pub(crate) mod layout;
mod safe;

pub use safe::check_overlap;

pub use config::DirConfig;

use crate::Spec;
use ferry_core::{AuthKind, Capabilities, Vertical};

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "dir",
    schemes: &["dir"],
    description: "A local folder of vCard, iCalendar, mbox/maildir/eml, photo and other files",
    exports: &Vertical::ALL,
    imports: &Vertical::ALL,
    auth: AuthKind::None,
    incremental: true,
    max_concurrency: 8,
};

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, _| Ok(Box::new(exporter::DirExporter::new(DirConfig::from_endpoint(e)?))),
    importer: |e, _, _| Ok(Box::new(importer::DirImporter::new(DirConfig::from_endpoint(e)?)?)),
};

/// For the CLI, before any work: a `dir:` destination inside a `dir:` source (or the
/// other way round, or one folder as both) is a usage error. Other pairs pass; for a
/// package written from a `dir:` source, call [`check_overlap`] on the two paths.
pub fn validate(source: &ferry_core::Endpoint, destination: &ferry_core::Endpoint) -> Result<(), String> {
    if !(CAPABILITIES.schemes.contains(&source.scheme.as_str()) && CAPABILITIES.schemes.contains(&destination.scheme.as_str())) {
        return Ok(());
    }
    let (s, d) =
        (DirConfig::from_endpoint(source).map_err(|e| e.to_string())?, DirConfig::from_endpoint(destination).map_err(|e| e.to_string())?);
    check_overlap(&s.root, &d.root)
}
