//! ferry's controller side: what a company needs to answer a portability (GDPR Article
//! 20) or access (Article 15, CCPA right to know) request from its own databases. The
//! [`map`] of its databases; [`regime`]s as data and the [`scope`] they give; the request
//! [`lifecycle`] and its [`deadline`]s; the hash-chained [`audit`] log.

pub mod deadline;
pub mod kind;
pub mod map;
pub mod regime;
pub mod scope;

pub use kind::{Part, RequestKind};
pub use regime::Regime;
pub mod audit;
pub mod lifecycle;
pub mod store;
