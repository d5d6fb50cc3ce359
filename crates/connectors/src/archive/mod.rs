//! `archive:PATH`: a platform's "download your data" archive (Google Takeout, Mastodon,
//! X, Facebook, Instagram, LinkedIn, ...) as a source. The archive is a ZIP, a `.tgz` /
//! `.tar.gz` (Takeout offers both; older Mastodon exports are `.tar.gz`), the parts of a
//! multi-part set of either, or the folder it was extracted to; which platform, and which
//! dated variant of its layout, is
//! recognised from the files it holds (`layouts.rs`, a table: a renamed folder is a
//! one-line change). Every file is read streaming, where it lies, never extracted to disk
//! (a `.tgz` is read through once more when opened: `tgz/`); every file that no rule of
//! the layout claims is listed in the job's report as not understood (and kept, as a
//! file, when the files vertical is asked for). A source only: nothing is written to an
//! archive. See docs/connectors/archive.md.

mod assistants;
mod config;
mod entries;
mod exporter;
mod facebook;
mod file_set;
mod fit;
mod found;
mod fs;
mod glob;
mod instagram;
mod json;
mod layouts;
mod linkedin;
mod mastodon;
mod messenger;
mod meta;
mod photos;
mod slack;
mod spotify;
mod statements;
mod takeout;
mod tgz;
mod walk;
mod x;

pub use config::ArchiveConfig;
pub use layouts::{LAYOUTS, Layout};

use crate::Spec;
use ferry_core::{AuthKind, Capabilities, ConnectorError};

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "archive",
    schemes: &["archive"],
    address: "archive:PATH",
    description: "A platform's export archive (Google Takeout, Mastodon, X, Facebook, Instagram, LinkedIn, ChatGPT, Claude, Slack, Spotify, Apple Health, bank statements, order history), as a ZIP or a .tgz, its parts, or the folder it was extracted to",
    exports: &ferry_verticals::VERTICALS,
    imports: &[],
    auth: AuthKind::None,
    credentials: &[],
    incremental: false,
    written_whole: false,
    local: true,
    max_concurrency: 1,
};

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, s| Ok(Box::new(exporter::ArchiveExporter::new(ArchiveConfig::from_endpoint(e)?, s))),
    preflight: None,
    importer: |_, _, _| {
        Err(ConnectorError::Fatal(
            "archive: is a source only: a platform's archive is read, never written; write to a package: or dir:".into(),
        ))
    },
};
