//! `caldav://user@host[:port][/path]` (calendar events and tasks) and
//! `carddav://user@host[:port][/path]` (contacts), over HTTPS; `caldav+http://` and
//! `carddav+http://` over plain HTTP, only with --insecure. Discovery as clients do it
//! (well-known URI, current-user-principal, home set, collections); resources read in
//! batches with multiget; written under their UID with `If-None-Match: *`; missing
//! calendars and address books created. See docs/connectors/caldav.md.

mod config;
mod discovery;
mod exporter;
mod importer;
mod kind;

pub use config::DavConfig;
pub use kind::Kind;

use crate::Spec;
use ferry_core::{AuthKind, Capabilities, CredentialKind, Vertical};

pub static CALDAV: Capabilities = Capabilities {
    name: "caldav",
    schemes: &["caldav", "caldav+http"],
    address: "caldav://USER@HOST[:PORT]/PATH (TLS; caldav+http:// without)",
    description: "A CalDAV server (Radicale, Xandikos, Nextcloud, iCloud, Fastmail): calendars and task lists",
    exports: &[Vertical::Calendar, Vertical::Tasks],
    imports: &[Vertical::Calendar, Vertical::Tasks],
    auth: AuthKind::Password,
    credentials: &[CredentialKind::Password, CredentialKind::Bearer, CredentialKind::ApiKey],
    incremental: true,
    written_whole: false,
    local: false,
    max_concurrency: 8,
};

pub static CARDDAV: Capabilities = Capabilities {
    name: "carddav",
    schemes: &["carddav", "carddav+http"],
    address: "carddav://USER@HOST[:PORT]/PATH (TLS; carddav+http:// without)",
    description: "A CardDAV server (Radicale, Xandikos, Nextcloud, iCloud, Fastmail): address books",
    exports: &[Vertical::Contacts],
    imports: &[Vertical::Contacts],
    auth: AuthKind::Password,
    credentials: &[CredentialKind::Password, CredentialKind::Bearer, CredentialKind::ApiKey],
    incremental: true,
    written_whole: false,
    local: false,
    max_concurrency: 8,
};

pub const CALDAV_SPEC: Spec = Spec {
    capabilities: &CALDAV,
    exporter: |e, s| Ok(Box::new(exporter::DavExporter::new(DavConfig::from_endpoint(e, s, Kind::Cal)?, s, &CALDAV)?)),
    preflight: None,
    importer: |e, s, _| Ok(Box::new(importer::DavImporter::new(DavConfig::from_endpoint(e, s, Kind::Cal)?, s)?)),
};

pub const CARDDAV_SPEC: Spec = Spec {
    capabilities: &CARDDAV,
    exporter: |e, s| Ok(Box::new(exporter::DavExporter::new(DavConfig::from_endpoint(e, s, Kind::Card)?, s, &CARDDAV)?)),
    preflight: None,
    importer: |e, s, _| Ok(Box::new(importer::DavImporter::new(DavConfig::from_endpoint(e, s, Kind::Card)?, s)?)),
};
