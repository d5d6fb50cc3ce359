//! `google://[ACCOUNT]`: a Google account through Google's own APIs and an OAuth 2.0
//! token set (`ferry connect google`). So far: contacts, both ways, with the People API
//! (contact groups as containers and categories), incremental by sync token; tasks, both
//! ways, with the Tasks API (task lists as containers); calendars, both ways, with the
//! Calendar API (a series with its exceptions as one item, incremental by sync token);
//! mail, both ways, with the Gmail API (labels as containers and keywords, each message
//! byte for byte, incremental by history id); files, both ways, with the Drive API
//! (folders as containers, Google's documents exported, resumable uploads, incremental
//! by change token); photos and videos, both ways, with the Photos Library API (albums as
//! containers; since March 2025 the API reads only what the app made itself). See
//! docs/connectors/google.md.

mod api;
mod calendar;
mod config;
mod drive;
mod drive_writer;
mod exporter;
pub(crate) mod gmail;
mod gmail_pages;
mod gmail_raw;
mod gmail_writer;
mod importer;
mod people;
mod photos;
mod photos_writer;
pub(crate) mod tasks;
mod upload;

pub use config::GoogleConfig;

use crate::Spec;
use ferry_core::{AuthKind, Capabilities, CredentialKind, Vertical};

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "google",
    schemes: &["google"],
    address: "google://ACCOUNT (a connected Google account; ?api=URL for a stand-in server)",
    description: "A Google account through its own APIs: contacts (People API), calendars (Calendar API), tasks (Tasks API), mail (Gmail API), files (Drive API), photos and videos (Photos Library API: only what ferry put there can be read back)",
    exports: &[Vertical::Contacts, Vertical::Calendar, Vertical::Tasks, Vertical::Mail, Vertical::Media, Vertical::Files],
    imports: &[Vertical::Contacts, Vertical::Calendar, Vertical::Tasks, Vertical::Mail, Vertical::Media, Vertical::Files],
    auth: AuthKind::OAuth2,
    credentials: &[CredentialKind::Bearer],
    incremental: true,
    written_whole: false,
    local: false,
    // Google asks for one user's changes to be sent one after another (People API: "mutate
    // requests for the same user should be sent sequentially"); batches carry the speed
    max_concurrency: 1,
};

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, s| Ok(Box::new(exporter::GoogleExporter::new(GoogleConfig::from_endpoint(e, s)?, s)?)),
    preflight: None,
    importer: |e, s, source| Ok(Box::new(importer::GoogleImporter::new(GoogleConfig::from_endpoint(e, s)?, s, source)?)),
};
