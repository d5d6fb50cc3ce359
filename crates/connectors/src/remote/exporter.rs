use super::client::{Remote, error};
use super::config::segment;
use super::wire::{Containers, ItemsPage, WireContent, WireItem};
use crate::http::Http;
use async_trait::async_trait;
use ferry_core::content::{BoxRead, ContentSource};
use ferry_core::{Attachment, ConnectorError, Content, Exporter, Item, ItemError, Original, Page, PageStream, Stream, Vertical};
use futures::TryStreamExt;
use std::sync::Arc;

/// Lists a service's containers, one stream each (named `vertical:container id`), and
/// pages through their items with the service's cursors; content is fetched by URL when
/// the destination reads it.
pub struct RemoteExporter {
    remote: Remote,
    /// Each planned stream's container path: its items must claim it.
    paths: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

/// The most containers a service may list for one vertical.
const MAX_CONTAINERS: usize = 100_000;
/// The longest cursor or sync token kept (they go into the job store and into URLs).
const MAX_TOKEN: usize = 4096;
/// Pages in a row with nothing on them before the listing is taken for a loop.
const MAX_EMPTY_PAGES: u32 = 100;

impl RemoteExporter {
    pub fn new(remote: Remote) -> Self {
        RemoteExporter { remote, paths: Default::default() }
    }

    fn stream_parts(stream: &Stream) -> Result<(Vertical, &str), ConnectorError> {
        let (v, id) = stream.name.split_once(':').ok_or_else(|| ConnectorError::Fatal(format!("`{}` is no remote stream", stream.name)))?;
        Ok((v.parse().map_err(ConnectorError::Fatal)?, id))
    }

    fn pager(&self, stream: &Stream, cursor: Option<String>, since: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        let (vertical, id) = Self::stream_parts(stream)?;
        // the cursor says which listing it belongs to: a full one (`full:`), or the changes
        // since a sync token (`chg:`); after a fallback the full listing goes on
        let (since, cursor) = match cursor.as_deref().and_then(|c| c.split_once(':')) {
            Some(("full", c)) => (None, Some(c.to_owned())),
            Some(("chg", c)) => (since, Some(c.to_owned())),
            _ => (since, None),
        };
        let path = self.paths.lock().unwrap_or_else(|e| e.into_inner()).get(&stream.name).cloned();
        Ok(Box::new(Pager {
            remote: self.remote.clone(),
            vertical,
            container: id.to_owned(),
            path,
            cursor,
            since,
            done: false,
            sync: None,
            seen: Default::default(),
            empty: 0,
        }))
    }
}

#[async_trait]
impl Exporter for RemoteExporter {
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        let service = self.remote.service().await?;
        let mut out = Vec::new();
        for v in verticals.iter().filter(|v| service.exports.iter().any(|e| e == v.as_str())) {
            let list: Containers = self.remote.get("listing containers", &format!("containers?vertical={}", segment(v.as_str()))).await?;
            if list.containers.len() > MAX_CONTAINERS {
                return Err(ConnectorError::Fatal(format!("the service lists more than {MAX_CONTAINERS} containers of {v}")));
            }
            let mut seen = std::collections::HashSet::new();
            for c in list.containers {
                if c.vertical != v.as_str() {
                    return Err(ConnectorError::Fatal(format!(
                        "the service listed container `{}` of {} when asked for {v}",
                        c.id, c.vertical
                    )));
                }
                if seen.insert(c.id.clone()) {
                    let name = format!("{v}:{}", c.id);
                    self.paths.lock().unwrap_or_else(|e| e.into_inner()).insert(name.clone(), c.path);
                    out.push(Stream { name, verticals: vec![*v] });
                }
            }
        }
        Ok(out)
    }

    async fn pages(&self, stream: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        self.pager(stream, cursor, None)
    }

    async fn changes(&self, stream: &Stream, cursor: Option<String>, since: String) -> Result<Box<dyn PageStream>, ConnectorError> {
        if !self.remote.service().await?.incremental {
            return self.pages(stream, cursor).await;
        }
        self.pager(stream, cursor, Some(since))
    }
}

/// Pages through one container (or its changes since a sync token).
struct Pager {
    remote: Remote,
    vertical: Vertical,
    container: String,
    /// The container's path, as listed: its items must claim it.
    path: Option<String>,
    cursor: Option<String>,
    /// Lists changes since this sync token; cleared when the service says it expired.
    since: Option<String>,
    done: bool,
    sync: Option<String>,
    /// The cursors given so far (hashed): one given again is a loop.
    seen: std::collections::HashSet<[u8; 32]>,
    /// Pages in a row with nothing on them.
    empty: u32,
}

#[async_trait]
impl PageStream for Pager {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        if self.done {
            return Ok(None);
        }
        let limit = self.remote.service().await?.page_size_max.clamp(1, 1000);
        let what = match &self.since {
            Some(_) => "changes",
            None => "items",
        };
        let mut rel = format!("containers/{}/{what}?limit={limit}", segment(&self.container));
        if let Some(s) = &self.since {
            rel.push_str(&format!("&since={}", segment(s)));
        }
        if let Some(c) = &self.cursor {
            rel.push_str(&format!("&cursor={}", segment(c)));
        }
        let url = self.remote.cfg.url(&rel);
        let desc = format!("listing {url}");
        let resp = self.remote.http.send(&desc, &|| self.remote.http.request("GET", &url)).await?;
        if !resp.status().is_success() {
            let (e, code) = error(&desc, resp).await;
            if code.as_deref() == Some("sync_token_expired") && self.since.is_some() {
                // too old a token: list everything; the ledger keeps what moved from moving again
                tracing::info!(container = %self.container, "the sync token expired; listing the container in full");
                self.since = None;
                self.cursor = None;
                return self.next_page().await;
            }
            return Err(e);
        }
        // items one by one: a malformed item fails alone, with its reason
        let page: ItemsPage<serde_json::Value> = super::client::read_json(&desc, resp).await?;
        if page.items.len() + page.failures.len() > limit as usize {
            return Err(ConnectorError::Fatal(format!(
                "{desc}: the service gave {} items and failures for a page of at most {limit}",
                page.items.len() + page.failures.len()
            )));
        }
        for t in [&page.next_cursor, &page.sync_token].into_iter().flatten() {
            if t.len() > MAX_TOKEN {
                return Err(ConnectorError::Fatal(format!("{desc}: a cursor or sync token longer than {MAX_TOKEN} bytes")));
            }
        }
        self.empty = if page.items.is_empty() && page.failures.is_empty() { self.empty + 1 } else { 0 };
        if self.empty > MAX_EMPTY_PAGES {
            return Err(ConnectorError::Fatal(format!("{desc}: {MAX_EMPTY_PAGES} empty pages in a row (it would never end)")));
        }
        let mut items = Vec::with_capacity(page.items.len() + page.failures.len());
        for (n, raw) in page.items.into_iter().enumerate() {
            let id = match raw.get("id").and_then(|i| i.as_str()) {
                Some(id) => id.to_owned(),
                // each unreadable item its own failure
                None => format!("(no id: item {n} of {desc})"),
            };
            items.push(match serde_json::from_value::<WireItem>(raw) {
                Ok(w) => self.item(w, &url),
                Err(e) => Err(ItemError {
                    skipped: false,
                    vertical: self.vertical,
                    id,
                    location: url.clone(),
                    reason: format!("the service gave an item the protocol does not allow: {e}"),
                }),
            });
        }
        for f in page.failures {
            items.push(Err(ItemError { skipped: false, vertical: self.vertical, id: f.id, location: url.clone(), reason: f.reason }));
        }
        match page.next_cursor {
            Some(c) => {
                use sha2::Digest;
                if !self.seen.insert(sha2::Sha256::digest(c.as_bytes()).into()) {
                    return Err(ConnectorError::Fatal(format!("{desc}: the service gave the same cursor again (it would never end)")));
                }
                self.cursor = Some(c);
            }
            None => {
                self.done = true;
                self.sync = page.sync_token;
            }
        }
        let mode = if self.since.is_some() { "chg" } else { "full" };
        Ok(Some(Page { items, cursor: if self.done { None } else { self.cursor.as_ref().map(|c| format!("{mode}:{c}")) } }))
    }

    fn sync_state(&self) -> Option<String> {
        self.sync.clone()
    }
}

impl Pager {
    fn item(&self, w: WireItem, location: &str) -> Result<Item, ItemError> {
        let fail =
            |reason: String| ItemError { skipped: false, vertical: self.vertical, id: w.id.clone(), location: location.to_owned(), reason };
        if matches!(w.id.as_str(), "" | "." | "..") {
            return Err(fail(format!("`{}` is not an item id", w.id)));
        }
        if let Some(p) = &self.path
            && *p != w.container
        {
            return Err(fail(format!("the item claims container `{}` but was listed in `{p}`", w.container)));
        }
        if w.record.vertical() != self.vertical {
            return Err(fail(format!("a {} record in a {} container", w.record.vertical(), self.vertical)));
        }
        let original = w.original.clone().map(Original::try_from).transpose().map_err(&fail)?;
        let content = w.content.as_ref().map(|c| self.content(c)).transpose().map_err(&fail)?;
        let mut attachments = Vec::new();
        for a in &w.attachments {
            attachments.push(Attachment { name: a.name.clone(), content: self.content(&a.content).map_err(&fail)? });
        }
        Ok(Item {
            id: w.id,
            container: w.container,
            version: w.version,
            record: w.record,
            original,
            content,
            standard: None,
            attachments,
            references: w.references,
            source_warnings: vec![],
        })
    }

    fn content(&self, c: &WireContent) -> Result<Content, String> {
        if c.sha256.len() != 64 || !c.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("content hash `{}` is not a SHA-256", c.sha256));
        }
        let sha = c.sha256.to_ascii_lowercase();
        let url = match &c.url {
            Some(u) => self.remote.cfg.content_url(u)?,
            None => self.remote.cfg.url(&format!("content/{sha}")),
        };
        Ok(Content {
            media_type: c.media_type.clone(),
            size: Some(c.size),
            sha256: Some(sha),
            source: Arc::new(Get { http: self.remote.http.clone(), url }),
        })
    }
}

/// A content stream of the service, read when the destination asks for it (and checked
/// against its size and hash as it is read).
struct Get {
    http: Http,
    url: String,
}

#[async_trait]
impl ContentSource for Get {
    async fn open(&self) -> std::io::Result<BoxRead> {
        let what = format!("reading {}", self.url);
        let resp = self.http.send(&what, &|| self.http.request("GET", &self.url)).await.map_err(as_io)?;
        if !resp.status().is_success() {
            return Err(as_io(error(&what, resp).await.0));
        }
        let stream = resp.bytes_stream().map_err(|e| std::io::Error::new(std::io::ErrorKind::Interrupted, e));
        Ok(Box::pin(tokio_util::io::StreamReader::new(stream)))
    }
}

fn as_io(e: ConnectorError) -> std::io::Error {
    let kind = if e.is_transient() { std::io::ErrorKind::Interrupted } else { std::io::ErrorKind::Other };
    std::io::Error::new(kind, e.to_string())
}
