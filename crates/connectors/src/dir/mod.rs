//! `dir:PATH`: a folder of ordinary files. Read: `*.vcf`, `*.ics`, mbox files, maildir
//! folders, `*.eml`, Google/Outlook contacts CSV, photos and videos (with EXIF and
//! Takeout sidecars), and any other file as the files vertical. Written: one file per
//! contact, event and task (as vdirsyncer does), a maildir per mail folder, media and
//! files as they are. See docs/connectors/dir.md.

mod config;
mod exporter;
mod importer;
pub(crate) mod layout;
pub(crate) mod safe;

pub use safe::check_overlap;

pub use config::DirConfig;

use crate::Spec;
use ferry_core::{AuthKind, Capabilities};

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "dir",
    schemes: &["dir"],
    address: "dir:PATH",
    description: "A local folder of vCard, iCalendar, mbox/maildir/eml, photo and other files",
    // every vertical of the registry: each declares how a folder and a package hold it
    exports: &ferry_verticals::VERTICALS,
    imports: &ferry_verticals::VERTICALS,
    auth: AuthKind::None,
    credentials: &[],
    incremental: true,
    written_whole: false,
    local: true,
    max_concurrency: 8,
};

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, _| Ok(Box::new(exporter::DirExporter::new(DirConfig::from_endpoint(e)?))),
    preflight: None,
    importer: |e, _, _| Ok(Box::new(importer::DirImporter::new(DirConfig::from_endpoint(e)?)?)),
};
