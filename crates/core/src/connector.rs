use crate::credential::CredentialKind;
use crate::error::{ConnectorError, ItemError};
use crate::item::Item;
use crate::vertical::Vertical;
use async_trait::async_trait;
use serde::Serialize;

/// How a connector authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    None,
    Password,
    OAuth2,
    Token,
}

/// What a connector can do, declared once next to its code.
#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    pub name: &'static str,
    /// URI schemes it answers to (`dir`, `package`, `imap`, `imaps`).
    pub schemes: &'static [&'static str],
    /// The form of its address, as a person would write it (`imaps://user@host[:port]`):
    /// shown in help and in the server's forms.
    pub address: &'static str,
    pub description: &'static str,
    pub exports: &'static [Vertical],
    pub imports: &'static [Vertical],
    pub auth: AuthKind,
    /// The credentials it takes (empty: none); the first is what `auth` names.
    pub credentials: &'static [CredentialKind],
    /// Whether a later export can list only what changed.
    pub incremental: bool,
    /// As a destination, written whole by every job (a package): it keeps nothing from one
    /// job to the next, so no ledger is kept for it and `--incremental` does not apply.
    pub written_whole: bool,
    /// Its address is a path on this machine (`dir:PATH`, `package:PATH`): made absolute
    /// when a job is created, checked to exist as a source, kept apart from the other side.
    pub local: bool,
    /// Items the importer accepts at once: a ceiling that `--concurrency` cannot exceed.
    pub max_concurrency: usize,
}

/// What a source reads in one pass: a folder tree, an archive, an IMAP account's
/// folders, a set of DAV collections, one record file of a package. Its pages may mix
/// verticals. The name is the same from one run to the next: the job store keeps the
/// stream's cursor, and its change-tracking state, under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub name: String,
    /// The verticals its pages hold: those asked for that it carries.
    pub verticals: Vec<Vertical>,
}

impl Stream {
    /// One stream, `name`, of every vertical asked that the source carries (none if it
    /// carries none of them): for a source read in one pass whatever is asked.
    pub fn one(name: &str, asked: &[Vertical], carried: &[Vertical]) -> Vec<Stream> {
        let verticals: Vec<Vertical> = asked.iter().copied().filter(|v| carried.contains(v)).collect();
        if verticals.is_empty() { vec![] } else { vec![Stream { name: name.to_owned(), verticals }] }
    }

    /// A stream per vertical asked, named after it: for a source that keeps each
    /// vertical apart (a package's record files).
    pub fn per_vertical(asked: &[Vertical]) -> Vec<Stream> {
        asked.iter().map(|v| Stream { name: v.as_str().to_owned(), verticals: vec![*v] }).collect()
    }

    pub fn carries(&self, v: Vertical) -> bool {
        self.verticals.contains(&v)
    }
}

/// A slice of a stream. `cursor`, when set, resumes the stream right after this page.
#[derive(Debug, Default)]
pub struct Page {
    pub items: Vec<Result<Item, ItemError>>,
    pub cursor: Option<String>,
}

#[async_trait]
pub trait PageStream: Send {
    /// The next page, or `None` at the end.
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError>;

    /// Once the stream has ended: the source's change-tracking state (sync tokens),
    /// from which [`Exporter::changes`] lists only what changed since. `None` when the
    /// source keeps no such state.
    fn sync_state(&self) -> Option<String> {
        None
    }
}

#[async_trait]
pub trait Exporter: Send + Sync {
    /// The streams that, each read once, list every item of `verticals` the source holds.
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError>;

    /// Lists one stream page by page, starting after `cursor` if given. Its pages hold
    /// items (and failures) of the stream's verticals only.
    async fn pages(&self, stream: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError>;

    /// Lists only what changed since `since` (a [`PageStream::sync_state`] of an earlier
    /// read of the stream); deletions are not listed. Sources without change tracking
    /// list everything.
    async fn changes(&self, stream: &Stream, cursor: Option<String>, since: String) -> Result<Box<dyn PageStream>, ConnectorError> {
        let _ = since;
        self.pages(stream, cursor).await
    }
}

/// What the destination did with an item.
#[derive(Debug, Clone, Default)]
pub struct PutOutcome {
    /// The item's id at the destination (a path, a URL, a UID).
    pub dest_id: String,
    /// False when the destination already held this exact item.
    pub created: bool,
    /// Fields the destination could not represent.
    pub warnings: Vec<String>,
    /// SHA-256 of the item's data as written.
    pub sha256: Option<String>,
}

#[async_trait]
pub trait Importer: Send + Sync {
    /// Writes one item. Must be idempotent on `(vertical, item.id)`: putting the same item
    /// again, for example after a crash, leaves one copy at the destination.
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError>;

    /// Writes a page's items at once, where that is much cheaper than one by one (a
    /// package stages a whole page in one transaction). Returns one result per item, in
    /// order, or `None` (the default) to have the engine call [`Importer::put`] for each,
    /// several at a time. A transient error is retried by the engine with `put`, alone.
    async fn put_page(&self, items: &[&Item]) -> Option<Vec<Result<PutOutcome, ConnectorError>>> {
        let _ = items;
        None
    }

    /// Makes every item put so far durable. The engine calls it before the job store
    /// records those items, so that a crash never leaves an item recorded as transferred
    /// that the destination lost. The default does nothing: for a destination where a put
    /// is durable when it returns (a server), there is nothing to do.
    async fn sync(&self) -> Result<(), ConnectorError> {
        Ok(())
    }

    /// Called once when every item is in, to assemble and flush.
    async fn finish(&self) -> Result<(), ConnectorError>;
}
