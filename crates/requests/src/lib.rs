//! ferry's controller side: what a company needs to answer a portability (GDPR Article
//! 20) or access (Article 15, CCPA right to know) request from its own databases. The
//! [`map`] of its databases and its [`check`] against them; [`regime`]s as data and the
//! [`scope`] they give; the request [`lifecycle`] and its [`deadline`]s; the
//! [`supplementary`] information of an access answer; the hash-chained [`audit`] log and
//! the [`store`] that keeps requests and log; [`extract`]ion of a person's rows and the
//! [`response`] package they are delivered in, with its [`standard`] files. Requests
//! from authorized agents under the Data Rights Protocol ([`drp`]); [`signing`] of
//! direct transfers between ferries.

pub mod audit;
pub mod check;
pub mod deadline;
pub mod drp;
pub mod extract;
pub mod kind;
pub mod lifecycle;
pub mod mailer;
pub mod map;
pub mod regime;
pub mod register;
pub mod response;
pub mod scope;
pub mod signing;
pub mod standard;
pub mod store;
pub mod supplementary;
pub mod verification;

pub use kind::{Part, RequestKind};
pub use regime::Regime;
