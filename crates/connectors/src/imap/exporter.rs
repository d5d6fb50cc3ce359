use super::config::ImapConfig;
use super::folders::{self, Folder};
use super::session::{DEFAULT_BUDGET, Pool, imap_err};
use crate::Settings;
use async_trait::async_trait;
use bytes::Bytes;
use ferry_codecs::mail_meta::read_meta;
use ferry_core::content::{BoxRead, ContentSource};
use ferry_core::{ConnectorError, Content, Exporter, Item, ItemError, Page, PageStream, Record, Vertical};
use futures::TryStreamExt;
use std::sync::Arc;

/// Messages whose headers are read in one command.
const BATCH: usize = 100;
/// Largest message ferry accepts from a server.
const MAX_MESSAGE: u64 = 256 << 20;

pub struct ImapExporter {
    pool: Arc<Pool>,
}

impl ImapExporter {
    pub fn new(cfg: ImapConfig, settings: Settings) -> Self {
        ImapExporter { pool: Arc::new(Pool::new(cfg, settings)) }
    }
}

#[async_trait]
impl Exporter for ImapExporter {
    async fn pages(&self, vertical: Vertical, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        if vertical != Vertical::Mail {
            return Ok(Box::new(Empty));
        }
        let mut lease = self.pool.get().await?;
        let mut all = folders::list(&mut lease).await?;
        drop(lease);
        if let Some(only) = &self.pool.config().folder {
            all.retain(|f| f.name == *only || f.delimiter.as_ref().is_some_and(|d| f.name.starts_with(&format!("{only}{d}"))));
            if all.is_empty() {
                return Err(ConnectorError::Fatal(format!("imap: no folder named {only}")));
            }
        }
        all.retain(|f| f.selectable);
        // cursor: "<folder index>:<last uid>"
        let (folder, after) = cursor
            .as_deref()
            .and_then(|c| c.split_once(':'))
            .and_then(|(f, u)| Some((f.parse().ok()?, u.parse().ok()?)))
            .unwrap_or((0usize, 0u32));
        Ok(Box::new(Pages { pool: self.pool.clone(), folders: all, folder, after, uids: None, validity: 0 }))
    }
}

struct Empty;

#[async_trait]
impl PageStream for Empty {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        Ok(None)
    }
}

struct Pages {
    pool: Arc<Pool>,
    folders: Vec<Folder>,
    folder: usize,
    /// UIDs at or below this one in the current folder are done.
    after: u32,
    /// The current folder's UIDs still to read.
    uids: Option<std::vec::IntoIter<u32>>,
    validity: u32,
}

#[async_trait]
impl PageStream for Pages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        loop {
            let Some(folder) = self.folders.get(self.folder).cloned() else { return Ok(None) };
            if self.uids.is_none() {
                let mut lease = self.pool.get().await?;
                let mailbox = lease.open_mailbox(&folder.name, false).await?;
                self.validity = mailbox.uid_validity.unwrap_or(0);
                lease.allow(DEFAULT_BUDGET);
                let found = lease.session.uid_search("ALL").await.map_err(|e| imap_err(&format!("searching {}", folder.name), e))?;
                let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > self.after).collect();
                uids.sort_unstable();
                self.uids = Some(uids.into_iter());
            }
            let batch: Vec<u32> = self.uids.as_mut().expect("set").take(BATCH).collect();
            if batch.is_empty() {
                self.folder += 1;
                self.after = 0;
                self.uids = None;
                continue;
            }
            let items = self.headers(&folder, &batch).await?;
            self.after = *batch.last().expect("not empty");
            return Ok(Some(Page { items, cursor: Some(format!("{}:{}", self.folder, self.after)) }));
        }
    }
}

impl Pages {
    /// Reads flags, dates, sizes and headers of a batch; bodies are fetched when read.
    async fn headers(&self, folder: &Folder, uids: &[u32]) -> Result<Vec<Result<Item, ItemError>>, ConnectorError> {
        let mut lease = self.pool.get().await?;
        if lease.selected.as_ref().map(|s| s.0.as_str()) != Some(folder.name.as_str()) {
            lease.open_mailbox(&folder.name, false).await?;
        }
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        lease.allow(DEFAULT_BUDGET * 4);
        let fetched: Vec<_> = lease
            .session
            .uid_fetch(&set, "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER])")
            .await
            .map_err(|e| imap_err(&format!("reading {}", folder.name), e))?
            .try_collect()
            .await
            .map_err(|e| imap_err(&format!("reading {}", folder.name), e))?;
        let container = folder.container();
        let mut out = Vec::new();
        for f in fetched {
            let Some(uid) = f.uid else { continue };
            let id = format!("{}/{}/{uid}", folder.name, self.validity);
            let size = f.size.unwrap_or(0) as u64;
            if size > MAX_MESSAGE {
                out.push(Err(ItemError { id: id.clone(), location: id, reason: format!("message of {size} bytes is over the {MAX_MESSAGE} byte limit") }));
                continue;
            }
            let mut record = read_meta(f.header().unwrap_or_default());
            record.attachments.clear();
            let mut flags: Vec<String> = f
                .flags()
                .filter(|fl| !matches!(fl, async_imap::types::Flag::Recent))
                .map(|fl| flag_name(&fl))
                .collect();
            flags.sort();
            record.flags = flags;
            record.received = f.internal_date().map(|d| d.with_timezone(&chrono::Utc));
            out.push(Ok(Item {
                id,
                container: container.clone(),
                version: format!("{size}:{}", record.flags.join(" ")),
                record: Record::Mail(record),
                original: None,
                content: Some(Content {
                    media_type: "message/rfc822".into(),
                    size: Some(size),
                    sha256: None,
                    source: Arc::new(Body { pool: self.pool.clone(), folder: folder.name.clone(), validity: self.validity, uid, size }),
                }),
            }));
        }
        Ok(out)
    }
}

pub fn flag_name(f: &async_imap::types::Flag<'_>) -> String {
    use async_imap::types::Flag;
    match f {
        Flag::Seen => "\\Seen".into(),
        Flag::Answered => "\\Answered".into(),
        Flag::Flagged => "\\Flagged".into(),
        Flag::Deleted => "\\Deleted".into(),
        Flag::Draft => "\\Draft".into(),
        Flag::Recent => "\\Recent".into(),
        Flag::MayCreate => "\\*".into(),
        Flag::Custom(c) => c.to_string(),
    }
}

/// A message body, fetched from the server when read.
struct Body {
    pool: Arc<Pool>,
    folder: String,
    validity: u32,
    uid: u32,
    size: u64,
}

#[async_trait]
impl ContentSource for Body {
    async fn open(&self) -> std::io::Result<BoxRead> {
        let fail = |e: ConnectorError| std::io::Error::other(e.to_string());
        let mut lease = self.pool.get().await.map_err(fail)?;
        if lease.selected.as_ref().map(|s| s.0.as_str()) != Some(self.folder.as_str()) {
            let mailbox = lease.open_mailbox(&self.folder, false).await.map_err(fail)?;
            if mailbox.uid_validity.unwrap_or(0) != self.validity {
                return Err(std::io::Error::other(format!("{}: UIDVALIDITY changed; export the folder again", self.folder)));
            }
        }
        // the server may send this message and a little framing, no more
        lease.allow(self.size as i64 + 64 * 1024);
        let result: Result<Vec<_>, _> = match lease.session.uid_fetch(self.uid.to_string(), "BODY.PEEK[]").await {
            Ok(stream) => stream.try_collect().await,
            Err(e) => Err(e),
        };
        let fetched = match result {
            Ok(f) => f,
            Err(e) => {
                lease.discard();
                return Err(std::io::Error::other(format!("imap: fetching {} UID {}: {e}", self.folder, self.uid)));
            }
        };
        lease.allow(DEFAULT_BUDGET);
        let body = fetched
            .iter()
            .find_map(|f| f.body())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, format!("{} UID {} is gone from the server", self.folder, self.uid)))?;
        Ok(Box::pin(std::io::Cursor::new(Bytes::copy_from_slice(body))))
    }
}
