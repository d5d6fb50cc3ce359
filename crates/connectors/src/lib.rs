//! Connectors: one folder each, every one with the same shape (`mod.rs` declares the
//! capabilities, `config.rs` reads the URI, `exporter.rs` and `importer.rs` do the work).
//! The registry below maps URI schemes to them.

mod account;
pub mod archive;
pub mod auth;
pub mod caldav;
mod dav;
pub mod dir;
pub mod google;
mod held;
mod http;
pub mod imap;
mod limit;
pub mod mastodon;
pub mod microsoft;
#[cfg(test)]
mod mock;
pub mod net;
pub mod package;
mod pager;
mod parents;
pub mod quota;
pub mod remote;
mod service;
mod standard_files;
pub mod webdav;

use ferry_core::{Capabilities, ConnectorError, Endpoint, Exporter, Importer};
use ferry_package::UnpackLimits;
use ferry_package::crypt::{Decryption, Encryption};
use std::path::PathBuf;
use std::sync::Arc;

pub use ferry_core::{Credential, Secret};

/// What the caller (CLI or server) hands every connector.
#[derive(Clone, Default)]
pub struct Settings {
    /// For temporary files (decrypted packages).
    pub temp_dir: PathBuf,
    pub encryption: Option<Encryption>,
    pub decryption: Option<Decryption>,
    pub unpack_limits: UnpackLimits,
    /// The side's credential (a password, a token set, an API key; kept out of logs and
    /// URIs), shared by all its requests: a refreshed token is seen by every one.
    pub credential: Arc<auth::Provider>,
    /// Requests a second to one HTTP host, for every job of the process (0: the
    /// default, [`DEFAULT_REQUESTS_PER_SECOND`]).
    pub requests_per_second: u32,
    /// Accept any TLS certificate (only by explicit choice).
    pub insecure: bool,
    /// Extra CA certificates (PEM) to trust, such as a self-signed server's.
    pub ca_file: Option<PathBuf>,
    /// Allow endpoints on loopback, private and link-local addresses.
    pub allow_private_network: bool,
    /// Connections to one server at once.
    pub connections: usize,
    /// The job being run: a package destination's staging belongs to it.
    pub job_id: String,
}

pub use limit::DEFAULT_RATE as DEFAULT_REQUESTS_PER_SECOND;

/// Opens a connector's exporter for an endpoint.
pub type OpenExporter = fn(&Endpoint, &Settings) -> Result<Box<dyn Exporter>, ConnectorError>;
/// Opens a connector's importer for an endpoint, given the source's URI.
pub type OpenImporter = fn(&Endpoint, &Settings, &str) -> Result<Box<dyn Importer>, ConnectorError>;

/// Checks, before job `job` (a new one's id is not known yet: any id that is not a job's)
/// does any work, that it may write this destination.
pub type Preflight = fn(&Endpoint, &str) -> Result<(), ConnectorError>;

/// One connector: its capabilities and how to open it.
pub struct Spec {
    pub capabilities: &'static Capabilities,
    pub exporter: OpenExporter,
    pub preflight: Option<Preflight>,
    pub importer: OpenImporter,
}

impl Spec {
    /// The local path a URI of a [`Capabilities::local`] connector names, without its query.
    pub fn local_path(&self, e: &Endpoint) -> Option<PathBuf> {
        self.capabilities.local.then(|| {
            let p = e.path();
            PathBuf::from(p.split_once('?').map(|(p, _)| p).unwrap_or(p))
        })
    }
}

/// Every connector ferry has.
pub fn all() -> &'static [Spec] {
    &[
        dir::SPEC,
        package::SPEC,
        archive::SPEC,
        imap::SPEC,
        caldav::CALDAV_SPEC,
        caldav::CARDDAV_SPEC,
        webdav::SPEC,
        remote::SPEC,
        google::SPEC,
        mastodon::SPEC,
        microsoft::SPEC,
    ]
}

pub fn find(scheme: &str) -> Result<&'static Spec, ConnectorError> {
    all().iter().find(|s| s.capabilities.schemes.contains(&scheme)).ok_or_else(|| {
        let known: Vec<&str> = all().iter().flat_map(|s| s.capabilities.schemes.iter().copied()).collect();
        ConnectorError::Fatal(format!("no connector for `{scheme}:`; known: {}", known.join(", ")))
    })
}

pub fn open_exporter(endpoint: &Endpoint, settings: &Settings) -> Result<Box<dyn Exporter>, ConnectorError> {
    (find(&endpoint.scheme)?.exporter)(endpoint, settings)
}

/// `source` is the URI the data comes from (recorded in packages).
pub fn open_importer(endpoint: &Endpoint, settings: &Settings, source: &str) -> Result<Box<dyn Importer>, ConnectorError> {
    (find(&endpoint.scheme)?.importer)(endpoint, settings, source)
}
