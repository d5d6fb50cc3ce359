//! `package:PATH`: ferry's own package (ZIP, `.age`-encrypted ZIP, or directory). Every
//! vertical goes in and comes out, so any source reaches any destination through it.
//! See docs/package-format.md.

mod config;
mod exporter;
mod importer;

pub use config::PackageConfig;

use crate::Spec;
use ferry_core::{AuthKind, Capabilities};

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "package",
    schemes: &["package"],
    address: "package:PATH.zip (or .age when encrypted)",
    description: "ferry package: ZIP, age-encrypted ZIP (.age) or directory, with manifest and hashes",
    // every vertical of the registry: each declares how a folder and a package hold it
    exports: &ferry_verticals::VERTICALS,
    imports: &ferry_verticals::VERTICALS,
    auth: AuthKind::None,
    credentials: &[],
    // a package is written whole; exports are never incremental
    incremental: false,
    written_whole: true,
    local: true,
    max_concurrency: 8,
};

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, s| Ok(Box::new(exporter::PackageExporter::new(PackageConfig::from_endpoint(e)?, s.clone()))),
    // a target that is not this job's to write is refused before any work
    preflight: Some(|e, job| {
        let cfg = PackageConfig::from_endpoint(e)?;
        ferry_package::PackageWriter::check_target(&cfg.path, job).map_err(|e| ferry_core::ConnectorError::Fatal(e.to_string()))
    }),
    importer: |e, s, source| Ok(Box::new(importer::PackageImporter::new(PackageConfig::from_endpoint(e)?, s.clone(), source.to_owned()))),
};
