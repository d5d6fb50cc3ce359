//! `imap://user@host[:port]` (STARTTLS) and `imaps://user@host[:port]` (TLS): mail, export
//! and import. Folders map both ways (hierarchy delimiter to `/`, special-use folders to
//! Sent, Drafts, Trash, Archive, Junk); flags, keywords and INTERNALDATE are kept, messages
//! byte for byte. Several connections work at once. See docs/connectors/imap.md.

mod append;
mod config;
mod exporter;
mod folders;
mod importer;
mod namespace;
mod session;
mod timed;

pub use config::ImapConfig;

use crate::Spec;
use ferry_core::{AuthKind, Capabilities, CredentialKind, Vertical};

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "imap",
    schemes: &["imap", "imaps"],
    address: "imaps://USER@HOST[:PORT] (TLS) or imap://USER@HOST[:PORT] (STARTTLS)",
    description: "An IMAP mail server (STARTTLS on imap://, TLS on imaps://)",
    exports: &[Vertical::Mail],
    imports: &[Vertical::Mail],
    auth: AuthKind::Password,
    credentials: &[CredentialKind::Password],
    incremental: true,
    written_whole: false,
    local: false,
    max_concurrency: 64,
};

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, s| Ok(Box::new(exporter::ImapExporter::new(ImapConfig::from_endpoint(e, s)?, s.clone()))),
    preflight: None,
    importer: |e, s, _| Ok(Box::new(importer::ImapImporter::new(ImapConfig::from_endpoint(e, s)?, s.clone()))),
};
