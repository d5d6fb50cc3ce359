//! `microsoft://[ACCOUNT]`: a Microsoft 365 or Outlook.com account through Microsoft
//! Graph and an OAuth 2.0 token set: contacts (contact folders as containers), To Do
//! tasks (task lists), Outlook mail (mail folders, each message's MIME) and OneDrive
//! files (folder paths), both ways, incremental by Graph's delta queries; calendar events
//! (calendars as containers, each series with its exceptions and cancelled occurrences
//! one item), both ways, listed in full each time. See docs/connectors/microsoft.md.

mod api;
mod calendar_export;
mod config;
mod contact;
mod delta;
mod drive;
mod event;
mod exporter;
mod importer;
mod mail;
mod quickxor;
mod todo;
mod zones;

pub use config::MicrosoftConfig;

use crate::Spec;
use ferry_core::{AuthKind, Capabilities, CredentialKind, Vertical};

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "microsoft",
    schemes: &["microsoft"],
    address: "microsoft://ACCOUNT (a connected Microsoft account; ?api=URL for a stand-in server)",
    description: "A Microsoft 365 or Outlook.com account through Microsoft Graph: contacts, calendars, To Do tasks, Outlook mail, OneDrive files",
    exports: &[Vertical::Contacts, Vertical::Calendar, Vertical::Tasks, Vertical::Mail, Vertical::Files],
    imports: &[Vertical::Contacts, Vertical::Calendar, Vertical::Tasks, Vertical::Mail, Vertical::Files],
    auth: AuthKind::OAuth2,
    credentials: &[CredentialKind::Bearer],
    incremental: true,
    written_whole: false,
    local: false,
    // Outlook allows four requests at once to one mailbox (api::MAILBOX_CONCURRENCY holds
    // every request of the account to it, the exporter's too)
    max_concurrency: api::MAILBOX_CONCURRENCY,
};

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, s| Ok(Box::new(exporter::MicrosoftExporter::new(MicrosoftConfig::from_endpoint(e, s)?, s)?)),
    preflight: None,
    importer: |e, s, source| Ok(Box::new(importer::MicrosoftImporter::new(MicrosoftConfig::from_endpoint(e, s)?, s, source)?)),
};
