//! `microsoft://[ACCOUNT]`: a Microsoft 365 or Outlook.com account through Microsoft
//! Graph and an OAuth 2.0 token set. So far: contacts (contact folders as containers) and
//! To Do tasks (task lists as containers), both ways, incremental by Graph's delta query;
//! calendar events (calendars as containers, series with their exceptions) into Outlook.
//! See docs/connectors/microsoft.md.

mod api;
mod config;
mod contact;
mod event;
mod exporter;
mod importer;
mod todo;

pub use config::MicrosoftConfig;

use crate::Spec;
use ferry_core::{AuthKind, Capabilities, CredentialKind, Vertical};

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "microsoft",
    schemes: &["microsoft"],
    address: "microsoft://ACCOUNT (a connected Microsoft account; ?api=URL for a stand-in server)",
    description: "A Microsoft 365 or Outlook.com account through Microsoft Graph: contacts, To Do tasks, calendars (import)",
    exports: &[Vertical::Contacts, Vertical::Tasks],
    imports: &[Vertical::Contacts, Vertical::Calendar, Vertical::Tasks],
    auth: AuthKind::OAuth2,
    credentials: &[CredentialKind::Bearer],
    incremental: true,
    written_whole: false,
    local: false,
    // Outlook allows four requests at once to one mailbox
    max_concurrency: 4,
};

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, s| Ok(Box::new(exporter::MicrosoftExporter::new(MicrosoftConfig::from_endpoint(e, s)?, s)?)),
    preflight: None,
    importer: |e, s, source| Ok(Box::new(importer::MicrosoftImporter::new(MicrosoftConfig::from_endpoint(e, s)?, s, source)?)),
};
