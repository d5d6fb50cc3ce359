//! Turns a blocking producer of items (a directory walk, a package reader) into pages:
//! the producer runs on its own thread and hands items over a bounded channel, so at
//! most a page or two is in memory. The cursor is the number of items handed out, and
//! a resumed export skips that many.

use async_trait::async_trait;
use ferry_core::{ConnectorError, Item, ItemError, Page, PageStream};
use tokio::sync::mpsc;

pub const PAGE_ITEMS: usize = 200;
/// A page also ends once the items in it hold this many bytes in memory (with the page
/// read ahead, the batches waiting and the one being filled, about 3.5 MiB of items are
/// held at once: a Takeout's mail at 4 MiB pages held 14 MiB).
pub const PAGE_BYTES: usize = 1 << 20;
/// Items cross the channel in batches of at most this many (a wake-up per item cost more
/// than parsing a small one) ...
const BATCH_ITEMS: usize = 64;
/// ... or this many bytes in memory.
const BATCH_BYTES: usize = 256 << 10;
/// Batches waiting between the producer thread and the pages.
const CHANNEL_BATCHES: usize = 4;

pub enum Msg {
    Items(Vec<Result<Item, ItemError>>),
    Fatal(ConnectorError),
}

/// Hands items to the pager; returns false once nobody listens (stop producing).
pub struct Emit {
    tx: mpsc::Sender<Msg>,
    skip: u64,
    batch: Vec<Result<Item, ItemError>>,
    batch_bytes: usize,
}

impl Emit {
    pub fn emit(&mut self, item: Result<Item, ItemError>) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            return true;
        }
        self.batch_bytes += in_memory_size(&item);
        self.batch.push(item);
        if self.batch.len() < BATCH_ITEMS && self.batch_bytes < BATCH_BYTES {
            return !self.tx.is_closed();
        }
        self.flush()
    }

    /// Sends what is batched.
    fn flush(&mut self) -> bool {
        self.batch_bytes = 0;
        if self.batch.is_empty() {
            return true;
        }
        self.tx.blocking_send(Msg::Items(std::mem::take(&mut self.batch))).is_ok()
    }
}

/// Bytes an item holds in memory: its original, and a mail message's content.
fn in_memory_size(item: &Result<Item, ItemError>) -> usize {
    let Ok(i) = item else { return 0 };
    let original = i.original.as_ref().map_or(0, |o| o.bytes.len());
    let message = match (&i.content, i.vertical()) {
        (Some(c), ferry_core::Vertical::Mail) => c.size.unwrap_or(0) as usize,
        _ => 0,
    };
    original + message
}

pub fn spawn<F>(cursor: Option<String>, produce: F) -> Box<dyn PageStream>
where
    F: FnOnce(&mut Emit) -> Result<(), ConnectorError> + Send + 'static,
{
    let start: u64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let fatal_tx = tx.clone();
    std::thread::spawn(move || {
        let mut emit = Emit { tx, skip: start, batch: Vec::new(), batch_bytes: 0 };
        let produced = produce(&mut emit);
        // what was read before a fatal error is handed out first
        emit.flush();
        if let Err(e) = produced {
            let _ = fatal_tx.blocking_send(Msg::Fatal(e));
        }
    });
    Box::new(Pager { rx, position: start, queue: Default::default(), fatal: None })
}

struct Pager {
    rx: mpsc::Receiver<Msg>,
    position: u64,
    /// Items received and not yet in a page.
    queue: std::collections::VecDeque<Result<Item, ItemError>>,
    /// A fatal error that follows the queued items.
    fatal: Option<ConnectorError>,
}

#[async_trait]
impl PageStream for Pager {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        let mut items = Vec::new();
        let mut bytes = 0usize;
        while items.len() < PAGE_ITEMS && bytes < PAGE_BYTES {
            if let Some(i) = self.queue.pop_front() {
                bytes += in_memory_size(&i);
                items.push(i);
                continue;
            }
            if let Some(e) = self.fatal.take() {
                if items.is_empty() {
                    return Err(e);
                }
                self.fatal = Some(e);
                break;
            }
            match self.rx.recv().await {
                Some(Msg::Items(batch)) => self.queue.extend(batch),
                Some(Msg::Fatal(e)) => self.fatal = Some(e),
                None => break,
            }
        }
        if items.is_empty() {
            return Ok(None);
        }
        self.position += items.len() as u64;
        Ok(Some(Page { items, cursor: Some(self.position.to_string()) }))
    }
}
