//! `package:PATH`: ferry's own package (ZIP, `.age`-encrypted ZIP, or directory). Every
//! vertical goes in and comes out, so any source reaches any destination through it.
//! See docs/package-format.md.

mod config;
mod exporter;
mod importer;

pub use config::PackageConfig;

use crate::Spec;
use ferry_core::{AuthKind, Capabilities, Vertical};

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "package",
    schemes: &["package"],
    description: "ferry package: ZIP, age-encrypted ZIP (.age) or directory, with manifest and hashes",
    exports: &Vertical::ALL,
    imports: &Vertical::ALL,
    auth: AuthKind::None,
    // a package is written whole; exports are never incremental
    incremental: false,
    written_whole: true,
    max_concurrency: 8,
};

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, s| Ok(Box::new(exporter::PackageExporter::new(PackageConfig::from_endpoint(e)?, s.clone()))),
    importer: |e, s, source| Ok(Box::new(importer::PackageImporter::new(PackageConfig::from_endpoint(e)?, s.clone(), source.to_owned()))),
};
