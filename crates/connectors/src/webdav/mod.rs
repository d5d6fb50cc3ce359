//! `webdavs://user@host[:port]/path` (HTTPS) and `webdav://...` (HTTP, only with
//! --insecure): files and media, export and import; the later verticals' items (a note,
//! a playlist, a conversation) imported as their standard files (a note's Markdown) with
//! their attached files beside them. PROPFIND walks the tree one level at
//! a time, GET and PUT stream, MKCOL makes folders, modification times go along where the
//! server takes them (`X-OC-Mtime`). See docs/connectors/webdav.md.

mod config;
mod exporter;
mod importer;

pub use config::WebDavConfig;

use crate::Spec;
use ferry_core::{AuthKind, Capabilities, CredentialKind, Vertical};

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "webdav",
    schemes: &["webdav", "webdavs"],
    address: "webdavs://USER@HOST[:PORT]/PATH (or webdav:// without TLS)",
    description: "A WebDAV server (Nextcloud, ownCloud, Apache mod_dav, rclone): files and photos",
    exports: &[Vertical::Media, Vertical::Files],
    imports: &[
        Vertical::Media,
        Vertical::Files,
        ferry_verticals::notes::NOTES,
        ferry_verticals::social::SOCIAL,
        ferry_verticals::conversations::CONVERSATIONS,
        ferry_verticals::playlists::PLAYLISTS,
        ferry_verticals::health::HEALTH,
        ferry_verticals::finance::FINANCE,
        ferry_verticals::orders::ORDERS,
        ferry_verticals::web::WEB,
    ],
    auth: AuthKind::Password,
    credentials: &[CredentialKind::Password, CredentialKind::Bearer, CredentialKind::ApiKey],
    incremental: true,
    written_whole: false,
    local: false,
    max_concurrency: 16,
};

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, s| Ok(Box::new(exporter::WebDavExporter::new(WebDavConfig::from_endpoint(e, s)?, s)?)),
    preflight: None,
    importer: |e, s, _| Ok(Box::new(importer::WebDavImporter::new(WebDavConfig::from_endpoint(e, s)?, s)?)),
};
