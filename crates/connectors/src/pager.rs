//! Turns a blocking producer of items (a directory walk, a package reader) into pages:
//! the producer runs on its own thread and hands items over a bounded channel, so at
//! most a page or two is in memory. The cursor is the number of items handed out, and
//! a resumed export skips that many.

use async_trait::async_trait;
use ferry_core::{ConnectorError, Item, ItemError, Page, PageStream};
use tokio::sync::mpsc;

pub const PAGE_ITEMS: usize = 200;
/// A page also ends once the items in it hold this many bytes in memory.
pub const PAGE_BYTES: usize = 4 << 20;
/// Items waiting between the producer thread and the pages.
const CHANNEL_ITEMS: usize = 32;

// an item crosses the channel once; boxing it would cost an allocation per item
#[allow(clippy::large_enum_variant)]
pub enum Msg {
    Item(Result<Item, ItemError>),
    Fatal(ConnectorError),
}

/// Hands items to the pager; returns false once nobody listens (stop producing).
pub struct Emit {
    tx: mpsc::Sender<Msg>,
    skip: u64,
}

impl Emit {
    pub fn emit(&mut self, item: Result<Item, ItemError>) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            return true;
        }
        self.tx.blocking_send(Msg::Item(item)).is_ok()
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
    let (tx, rx) = mpsc::channel(CHANNEL_ITEMS);
    let fatal_tx = tx.clone();
    std::thread::spawn(move || {
        let mut emit = Emit { tx, skip: start };
        if let Err(e) = produce(&mut emit) {
            let _ = fatal_tx.blocking_send(Msg::Fatal(e));
        }
    });
    Box::new(Pager { rx, position: start, held: None })
}

struct Pager {
    rx: mpsc::Receiver<Msg>,
    position: u64,
    held: Option<Msg>,
}

#[async_trait]
impl PageStream for Pager {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        let mut items = Vec::new();
        let mut bytes = 0usize;
        while items.len() < PAGE_ITEMS && bytes < PAGE_BYTES {
            let msg = match self.held.take() {
                Some(m) => m,
                None => match self.rx.recv().await {
                    Some(m) => m,
                    None => break,
                },
            };
            match msg {
                Msg::Item(i) => {
                    bytes += in_memory_size(&i);
                    items.push(i);
                }
                Msg::Fatal(e) if items.is_empty() => return Err(e),
                fatal @ Msg::Fatal(_) => {
                    self.held = Some(fatal);
                    break;
                }
            }
        }
        if items.is_empty() {
            return Ok(None);
        }
        self.position += items.len() as u64;
        Ok(Some(Page { items, cursor: Some(self.position.to_string()) }))
    }
}
