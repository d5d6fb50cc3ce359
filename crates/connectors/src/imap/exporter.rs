use super::config::ImapConfig;
use super::folders::{self, Folder};
use super::session::{DEFAULT_BUDGET, Pool, imap_err};
use crate::Settings;
use async_trait::async_trait;
use bytes::Bytes;
use ferry_codecs::mail_meta::read_meta;
use ferry_core::content::{BoxRead, ContentSource};
use ferry_core::{ConnectorError, Content, Exporter, Item, ItemError, Page, PageStream, Record, Stream, Vertical};
use futures::TryStreamExt;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

/// Messages whose sizes, flags and headers are read in one command.
const BATCH: usize = 200;
/// Messages up to this size are fetched together with the rest of their page, in one
/// FETCH, the first time one of them is read (so unchanged messages of an incremental run
/// cost nothing when their whole page is unchanged); larger ones are streamed in chunks
/// when read, never held whole.
const INLINE_MAX: u64 = 1 << 20;
/// Inline message bytes per page.
const PAGE_BYTES: u64 = 8 << 20;
/// Bytes per FETCH when a large message is streamed.
const CHUNK: u64 = 1 << 20;
/// Largest message ferry accepts from a server.
const MAX_MESSAGE: u64 = 2 << 30;

pub struct ImapExporter {
    pool: Arc<Pool>,
}

impl ImapExporter {
    pub fn new(cfg: ImapConfig, settings: Settings) -> Self {
        ImapExporter { pool: Arc::new(Pool::new(cfg, settings)) }
    }
}

/// What an export saw of a folder when it listed it. From it a later export lists only
/// the messages that are new (UID at or above `next`) or changed (flags: modification
/// sequence above `modseq`, RFC 7162 CONDSTORE), as long as UIDVALIDITY is the same.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
struct Seen {
    validity: u32,
    next: u32,
    modseq: u64,
}

/// Per folder name; kept by the engine between jobs as the export's sync state.
type State = BTreeMap<String, Seen>;

#[async_trait]
impl Exporter for ImapExporter {
    /// The account's folders, read in one pass.
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        Ok(Stream::one("mail", verticals, super::CAPABILITIES.exports))
    }

    async fn pages(&self, stream: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        self.list(stream, cursor, State::new()).await
    }

    /// Folders whose UIDVALIDITY is unchanged since `since` are asked only for new and
    /// changed messages; the others, and any folder of a server without CONDSTORE, are
    /// listed whole (the job ledger then passes over what is unchanged).
    async fn changes(&self, stream: &Stream, cursor: Option<String>, since: String) -> Result<Box<dyn PageStream>, ConnectorError> {
        // a state ferry cannot read (another version's) means: list everything
        self.list(stream, cursor, serde_json::from_str(&since).unwrap_or_default()).await
    }
}

impl ImapExporter {
    async fn list(&self, stream: &Stream, cursor: Option<String>, since: State) -> Result<Box<dyn PageStream>, ConnectorError> {
        if !stream.carries(Vertical::Mail) {
            return Ok(Box::new(Empty));
        }
        let mut lease = self.pool.get().await?;
        let mut all = folders::list(&mut lease).await?.folders;
        drop(lease);
        if let Some(only) = &self.pool.config().folder {
            // the folder as ferry names it (`Projects/2025`) or as the server does
            let under = |name: &str, sep: &str| name == only || name.starts_with(&format!("{only}{sep}"));
            all.retain(|f| under(&f.container, "/") || f.delimiter.as_ref().is_some_and(|d| under(&f.name, d)));
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
        Ok(Box::new(Pages {
            pool: self.pool.clone(),
            folders: all,
            folder,
            after,
            uids: None,
            pending: VecDeque::new(),
            validity: 0,
            state: since.clone(),
            since,
        }))
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
    /// The current folder's UIDs not yet looked at.
    uids: Option<std::vec::IntoIter<u32>>,
    /// Messages looked at but not yet in a page.
    pending: VecDeque<Meta>,
    validity: u32,
    /// What the job lists changes from (empty: everything).
    since: State,
    /// What a later job will list changes from: `since`, updated for each folder listed.
    state: State,
}

/// What one FETCH tells of a message before its body is read.
struct Meta {
    uid: u32,
    size: u64,
    flags: Vec<String>,
    received: Option<chrono::DateTime<chrono::Utc>>,
    header: Bytes,
}

#[async_trait]
impl PageStream for Pages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        loop {
            let Some(folder) = self.folders.get(self.folder).cloned() else { return Ok(None) };
            if self.uids.is_none() {
                let uids = self.listing(&folder).await?;
                self.uids = Some(uids.into_iter());
            }
            if self.pending.is_empty() {
                let batch: Vec<u32> = self.uids.as_mut().expect("set").take(BATCH).collect();
                if batch.is_empty() {
                    self.folder += 1;
                    self.after = 0;
                    self.uids = None;
                    continue;
                }
                self.pending = self.meta(&folder, &batch).await?.into();
                if self.pending.is_empty() {
                    continue;
                }
            }
            // a page: as many messages as fit in PAGE_BYTES (large ones count nothing)
            let mut take = Vec::new();
            let mut bytes = 0;
            while let Some(m) = self.pending.front() {
                let inline = m.size <= INLINE_MAX;
                if !take.is_empty() && inline && bytes + m.size > PAGE_BYTES {
                    break;
                }
                if inline {
                    bytes += m.size;
                }
                take.push(self.pending.pop_front().expect("front"));
            }
            let items = self.items(&folder, take, bytes).await?;
            return Ok(Some(Page { items, cursor: Some(format!("{}:{}", self.folder, self.after)) }));
        }
    }

    fn sync_state(&self) -> Option<String> {
        (!self.state.is_empty()).then(|| serde_json::to_string(&self.state).expect("plain data"))
    }
}

impl Pages {
    /// The folder's UIDs after the cursor, sorted: all of them, or, when the folder is
    /// the same as at `since`, those new or changed since. Records what a later job
    /// lists changes from (read before the listing: a change made meanwhile is listed
    /// again next time, never missed).
    async fn listing(&mut self, folder: &Folder) -> Result<Vec<u32>, ConnectorError> {
        let name = &folder.name;
        let mut lease = self.pool.get().await?;
        lease.allow(DEFAULT_BUDGET);
        let status = if lease.condstore {
            Some(
                lease
                    .session
                    .status(name, "(UIDVALIDITY UIDNEXT HIGHESTMODSEQ)")
                    .await
                    .map_err(|e| imap_err(&format!("reading the status of {name}"), e))?,
            )
        } else {
            None
        };
        let mailbox = lease.open_mailbox(name, false).await?;
        self.validity = mailbox.uid_validity.unwrap_or(0);
        lease.allow(DEFAULT_BUDGET);
        let search = |e| imap_err(&format!("searching {name}"), e);
        let mut uids: Vec<u32> = match self.since.get(name).filter(|s| s.validity == self.validity) {
            Some(s) => {
                // "n:*" also names the highest UID when it is below n
                let mut uids: Vec<u32> = lease
                    .session
                    .uid_search(format!("UID {}:*", s.next))
                    .await
                    .map_err(search)?
                    .into_iter()
                    .filter(|u| *u >= s.next)
                    .collect();
                if s.next > 1 {
                    let changed: Result<Vec<async_imap::types::Fetch>, _> =
                        match lease.session.uid_fetch(format!("1:{}", s.next - 1), format!("(UID) (CHANGEDSINCE {})", s.modseq)).await {
                            Ok(stream) => stream.try_collect().await,
                            Err(e) => Err(e),
                        };
                    let changed = changed.map_err(|e| {
                        lease.discard();
                        search(e)
                    })?;
                    uids.extend(changed.iter().filter_map(|f| f.uid).filter(|u| *u < s.next));
                }
                uids
            }
            None => lease.session.uid_search("ALL").await.map_err(search)?.into_iter().collect(),
        };
        uids.retain(|u| *u > self.after);
        uids.sort_unstable();
        uids.dedup();
        if let Some(st) = status
            && st.uid_validity == Some(self.validity)
            && let (Some(next), Some(modseq)) = (st.uid_next, st.highest_modseq)
        {
            self.state.insert(name.clone(), Seen { validity: self.validity, next, modseq });
        } else {
            self.state.remove(name);
        }
        Ok(uids)
    }

    /// Sizes, flags, dates and headers of a batch of messages, in UID order.
    async fn meta(&self, folder: &Folder, uids: &[u32]) -> Result<Vec<Meta>, ConnectorError> {
        let fetched = fetch(
            &self.pool,
            &folder.name,
            self.validity,
            &set_of(uids.iter().copied()),
            "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER])",
            DEFAULT_BUDGET * 4,
        )
        .await
        .map_err(|e| imap_err(&format!("reading {}", folder.name), e))?;
        let mut out: Vec<Meta> = fetched
            .iter()
            .filter_map(|f| {
                let mut flags: Vec<String> =
                    f.flags().filter(|fl| !matches!(fl, async_imap::types::Flag::Recent)).map(|fl| flag_name(&fl)).collect();
                flags.sort();
                Some(Meta {
                    uid: f.uid?,
                    size: f.size.unwrap_or(0) as u64,
                    flags,
                    received: f.internal_date().map(|d| d.with_timezone(&chrono::Utc)),
                    header: Bytes::copy_from_slice(f.header().unwrap_or_default()),
                })
            })
            .collect();
        out.sort_by_key(|m| m.uid);
        Ok(out)
    }

    /// The page's items; small messages share one batch fetch, large ones stream.
    async fn items(&mut self, folder: &Folder, take: Vec<Meta>, inline_bytes: u64) -> Result<Vec<Result<Item, ItemError>>, ConnectorError> {
        let batch = Arc::new(Batch {
            pool: self.pool.clone(),
            folder: folder.name.clone(),
            validity: self.validity,
            uids: take.iter().filter(|m| m.size <= INLINE_MAX).map(|m| m.uid).collect(),
            bytes: inline_bytes,
            bodies: tokio::sync::Mutex::new(None),
        });
        let container = folder.container.clone();
        let mut out = Vec::new();
        for m in take {
            self.after = m.uid;
            let id = format!("{}/{}/{}", folder.name, self.validity, m.uid);
            if m.size > MAX_MESSAGE {
                out.push(Err(ItemError {
                    skipped: false,
                    vertical: Vertical::Mail,
                    id: id.clone(),
                    location: id,
                    reason: format!("message of {} bytes is over the {MAX_MESSAGE} byte limit", m.size),
                }));
                continue;
            }
            let mut record = read_meta(&m.header);
            record.attachments.clear();
            record.flags = m.flags;
            record.received = m.received;
            let source: Arc<dyn ContentSource> = if m.size <= INLINE_MAX {
                Arc::new(Inline { batch: batch.clone(), uid: m.uid })
            } else {
                Arc::new(Body { pool: self.pool.clone(), folder: folder.name.clone(), validity: self.validity, uid: m.uid, size: m.size })
            };
            out.push(Ok(Item {
                id,
                container: container.clone(),
                version: format!("{}:{}", m.size, record.flags.join(" ")),
                record: Record::Mail(record),
                original: None,
                content: Some(Content { media_type: "message/rfc822".into(), size: Some(m.size), sha256: None, source }),
                standard: None,
                attachments: vec![],
                references: vec![],
                source_warnings: vec![],
            }));
        }
        Ok(out)
    }
}

/// One FETCH on a session that has `folder` open, with what the server may send bounded
/// by `budget`. A session that opens the folder checks that its UIDVALIDITY is still
/// `validity`: UIDs of another validity name other messages.
async fn fetch(
    pool: &Pool,
    folder: &str,
    validity: u32,
    set: &str,
    what: &str,
    budget: i64,
) -> Result<Vec<async_imap::types::Fetch>, async_imap::error::Error> {
    let io = |e: ConnectorError| async_imap::error::Error::Io(std::io::Error::other(e.to_string()));
    let mut lease = pool.get().await.map_err(io)?;
    if lease.selected.as_ref().map(|s| s.0.as_str()) != Some(folder) {
        let mailbox = lease.open_mailbox(folder, false).await.map_err(io)?;
        if mailbox.uid_validity.unwrap_or(0) != validity {
            return Err(async_imap::error::Error::Io(std::io::Error::other(format!(
                "{folder}: UIDVALIDITY changed during the export; run it again"
            ))));
        }
    }
    lease.allow(budget);
    let result = match lease.session.uid_fetch(set, what).await {
        Ok(stream) => stream.try_collect().await,
        Err(e) => Err(e),
    };
    match result {
        Ok(f) => {
            lease.allow(DEFAULT_BUDGET);
            Ok(f)
        }
        Err(e) => {
            lease.discard();
            Err(e)
        }
    }
}

/// The small messages of one page, fetched in one command the first time one is read.
struct Batch {
    pool: Arc<Pool>,
    folder: String,
    validity: u32,
    uids: Vec<u32>,
    bytes: u64,
    bodies: tokio::sync::Mutex<Option<HashMap<u32, Result<Bytes, String>>>>,
}

impl Batch {
    /// Fetches bodies many to a command. When the server sends more than it announced,
    /// each message is fetched alone, and the ones that still overflow fail alone.
    async fn load(&self, uids: &[u32], bytes: u64, out: &mut HashMap<u32, Result<Bytes, String>>) -> std::io::Result<()> {
        let budget = bytes as i64 + 4096 * uids.len() as i64 + (1 << 20);
        match fetch(&self.pool, &self.folder, self.validity, &set_of(uids.iter().copied()), "(UID BODY.PEEK[])", budget).await {
            Ok(fetched) => {
                for f in fetched {
                    if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                        out.insert(uid, Ok(Bytes::copy_from_slice(body)));
                    }
                }
                Ok(())
            }
            Err(async_imap::error::Error::Io(e)) if oversize(&e) => {
                if let [uid] = uids {
                    out.insert(*uid, Err(format!("imap: fetching {} UID {uid}: {e}", self.folder)));
                    return Ok(());
                }
                for uid in uids {
                    Box::pin(self.load(&[*uid], INLINE_MAX, out)).await?;
                }
                Ok(())
            }
            Err(e) => Err(std::io::Error::other(format!("imap: reading {}: {e}", self.folder))),
        }
    }
}

/// A small message, read from its page's batch.
struct Inline {
    batch: Arc<Batch>,
    uid: u32,
}

#[async_trait]
impl ContentSource for Inline {
    async fn open(&self) -> std::io::Result<BoxRead> {
        let b = &self.batch;
        let mut bodies = b.bodies.lock().await;
        if bodies.is_none() {
            let mut all = HashMap::new();
            b.load(&b.uids, b.bytes, &mut all).await?;
            *bodies = Some(all);
        }
        match bodies.as_ref().and_then(|m| m.get(&self.uid)) {
            Some(Ok(body)) => Ok(Box::pin(std::io::Cursor::new(body.clone()))),
            Some(Err(e)) => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e.clone())),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} UID {} is gone from the server (UIDVALIDITY {})", b.folder, self.uid, b.validity),
            )),
        }
    }
}

/// The server sent more than the answer could hold: our read budget (InvalidData) or
/// async-imap's buffer limit (which only says so in its message).
fn oversize(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::InvalidData || e.to_string().contains("incoming data too large")
}

/// A UID set: runs of consecutive UIDs as ranges.
fn set_of(uids: impl Iterator<Item = u32>) -> String {
    let mut out = String::new();
    let mut run: Option<(u32, u32)> = None;
    let flush = |out: &mut String, (a, b): (u32, u32)| {
        if !out.is_empty() {
            out.push(',');
        }
        if a == b { out.push_str(&a.to_string()) } else { out.push_str(&format!("{a}:{b}")) }
    };
    for u in uids {
        run = match run {
            Some((a, b)) if u == b + 1 => Some((a, u)),
            Some(r) => {
                flush(&mut out, r);
                Some((u, u))
            }
            None => Some((u, u)),
        };
    }
    if let Some(r) = run {
        flush(&mut out, r);
    }
    out
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

/// A large message, streamed from the server in chunks of CHUNK bytes when read.
struct Body {
    pool: Arc<Pool>,
    folder: String,
    validity: u32,
    uid: u32,
    size: u64,
}

impl Body {
    async fn chunk(&self, offset: u64) -> std::io::Result<Bytes> {
        // the server may send this chunk and a little framing, no more
        let fetched = fetch(
            &self.pool,
            &self.folder,
            self.validity,
            &self.uid.to_string(),
            &format!("BODY.PEEK[]<{offset}.{CHUNK}>"),
            CHUNK as i64 + 64 * 1024,
        )
        .await
        .map_err(|e| std::io::Error::other(format!("imap: fetching {} UID {}: {e}", self.folder, self.uid)))?;
        let body = fetched.iter().find_map(|f| f.body()).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("{} UID {} is gone from the server", self.folder, self.uid))
        })?;
        Ok(Bytes::copy_from_slice(body))
    }
}

#[async_trait]
impl ContentSource for Body {
    async fn open(&self) -> std::io::Result<BoxRead> {
        let this = Body { pool: self.pool.clone(), folder: self.folder.clone(), validity: self.validity, uid: self.uid, size: self.size };
        let chunks = futures::stream::try_unfold((this, 0u64), |(body, offset)| async move {
            if offset >= body.size {
                return Ok(None);
            }
            let chunk = body.chunk(offset).await?;
            if chunk.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("{} UID {} ended at byte {offset} of {}", body.folder, body.uid, body.size),
                ));
            }
            let next = offset + chunk.len() as u64;
            Ok(Some((chunk, (body, next))))
        });
        Ok(Box::pin(tokio_util::io::StreamReader::new(Box::pin(chunks))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_use_ranges_for_runs() {
        assert_eq!(set_of([1, 2, 3, 5, 7, 8].into_iter()), "1:3,5,7:8");
        assert_eq!(set_of([4].into_iter()), "4");
        assert_eq!(set_of(std::iter::empty()), "");
        assert_eq!(set_of([u32::MAX - 1, u32::MAX].into_iter()), format!("{}:{}", u32::MAX - 1, u32::MAX));
    }
}
