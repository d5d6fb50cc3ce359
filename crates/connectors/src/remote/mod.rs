//! `remote://[KEYID@]HOST[:PORT]/BASE` (HTTPS) and `remote+http://…` (only with
//! --insecure): any service that speaks the open ferry connector protocol
//! (docs/connector-protocol.md), in both directions. Every vertical ferry has may move;
//! the service's own description (`GET /`) says which it exports and imports. A token set
//! is sent as a bearer token; a password signs each request (HMAC) and never travels.

mod client;
mod config;
mod exporter;
mod importer;
pub mod openapi;
pub mod sign;
pub mod wire;

pub use config::{RemoteConfig, segment};

use crate::Spec;
use ferry_core::{AuthKind, Capabilities, CredentialKind, Vertical};

/// What any service may carry (every vertical of the registry: a record travels as its
/// JSON): the service's description narrows it.
const ALL: &[Vertical] = &ferry_verticals::VERTICALS;

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "remote",
    schemes: &["remote", "remote+http"],
    address: "remote://[KEYID@]HOST[:PORT]/BASE (or remote+http:// without TLS)",
    description: "Any service speaking the ferry connector protocol (docs/connector-protocol.md)",
    exports: ALL,
    imports: ALL,
    auth: AuthKind::OAuth2,
    credentials: &[CredentialKind::Bearer, CredentialKind::Password, CredentialKind::ApiKey],
    incremental: true,
    written_whole: false,
    local: false,
    max_concurrency: 16,
};

fn open(e: &ferry_core::Endpoint, s: &crate::Settings) -> Result<client::Remote, ferry_core::ConnectorError> {
    client::Remote::new(RemoteConfig::from_endpoint(e, s)?, s)
}

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, s| Ok(Box::new(exporter::RemoteExporter::new(open(e, s)?))),
    preflight: None,
    importer: |e, s, source| Ok(Box::new(importer::RemoteImporter::new(open(e, s)?, source, &s.job_id))),
};
