//! ferry's core: the canonical data model of every vertical, the item that carries it,
//! content streams, and the traits every connector implements.

pub mod compact_set;
pub mod connector;
pub mod content;
pub mod credential;
pub mod error;
pub mod item;
pub mod model;
pub mod uri;
pub mod vertical;

pub use connector::{AuthKind, Capabilities, Exporter, Importer, Page, PageStream, PutOutcome, Stream};
pub use content::{BoxRead, Content, ContentSource, Sha256Hex};
pub use credential::{Credential, CredentialKind, Secret, TokenSet};
pub use error::{ConnectorError, ItemError, RECONNECT};
pub use item::{Attachment, Item, Original, OtherRecord, Record, Reference, Standard};
pub use uri::Endpoint;
pub use vertical::Vertical;
