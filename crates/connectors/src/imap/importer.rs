use super::config::ImapConfig;
use super::folders::{self, Folder};
use super::session::{DEFAULT_BUDGET, Pool, imap_err};
use crate::Settings;
use async_trait::async_trait;
use ferry_core::content::sha256_hex;
use ferry_core::{ConnectorError, Importer, Item, PutOutcome, Record};
use futures::TryStreamExt;
use std::collections::{HashMap, HashSet};
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;

/// Appends messages. A message already in the destination folder (same Message-ID and
/// size, or, without a Message-ID, the same bytes) is not appended again.
pub struct ImapImporter {
    pool: Pool,
    folders: Mutex<Option<Vec<Folder>>>,
    created: Mutex<HashSet<String>>,
    /// Per folder: (Message-ID, size) of what it holds, read once, so that the check for
    /// an existing message costs no round trip.
    present: Mutex<HashMap<String, HashSet<(String, u32)>>>,
}

/// The Message-ID in a header block, without angle brackets.
fn header_message_id(header: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(header);
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n')).peekable();
    while let Some(l) = lines.next() {
        if l.len() > 11 && l[..11].eq_ignore_ascii_case("message-id:") {
            let mut v = l[11..].trim().to_owned();
            while let Some(next) = lines.peek() {
                if next.starts_with([' ', '\t']) {
                    v.push_str(next.trim());
                    lines.next();
                } else {
                    break;
                }
            }
            let v = v.trim().trim_matches(['<', '>']).to_owned();
            return (!v.is_empty()).then_some(v);
        }
    }
    None
}

impl ImapImporter {
    pub fn new(cfg: ImapConfig, settings: Settings) -> Self {
        ImapImporter { pool: Pool::new(cfg, settings), folders: Mutex::new(None), created: Mutex::new(HashSet::new()), present: Mutex::new(HashMap::new()) }
    }

    /// The server folder for a container, created if missing.
    async fn folder(&self, container: &str) -> Result<String, ConnectorError> {
        let mut known = self.folders.lock().await;
        if known.is_none() {
            let mut lease = self.pool.get().await?;
            *known = Some(folders::list(&mut lease).await?);
        }
        let list = known.as_ref().expect("listed");
        let name = folders::server_name(container, list);
        if list.iter().any(|f| f.name == name) || self.created.lock().await.contains(&name) {
            return Ok(name);
        }
        let mut lease = self.pool.get().await?;
        lease.allow(DEFAULT_BUDGET);
        if let Err(e) = lease.session.create(&name).await {
            // another connection may have created it meanwhile
            let again = folders::list(&mut lease).await?;
            if !again.iter().any(|f| f.name == name) {
                return Err(imap_err(&format!("creating folder {name}"), e));
            }
        }
        let _ = lease.session.subscribe(&name).await;
        self.created.lock().await.insert(name.clone());
        Ok(name)
    }
}

/// Turns bare LF line ends into CRLF (RFC 5322), leaving CRLF alone.
fn to_crlf(bytes: Vec<u8>) -> Vec<u8> {
    let bare = bytes.iter().enumerate().any(|(i, b)| *b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'));
    if !bare {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(*b);
    }
    out
}


#[async_trait]
impl Importer for ImapImporter {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let Record::Mail(m) = &item.record else { return Err(ConnectorError::Item("not a mail message".into())) };
        let content = item.content.as_ref().ok_or_else(|| ConnectorError::Item("message without content".into()))?;
        let mut bytes = Vec::new();
        content
            .open_verified()
            .await
            .map_err(|e| ConnectorError::transient(format!("reading the message: {e}")))?
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| ConnectorError::transient(format!("reading the message: {e}")))?;
        // IMAP carries messages with CRLF line ends; mbox and maildir files often have LF
        let bytes = to_crlf(bytes);
        let sha = sha256_hex(&bytes);
        let folder = self.folder(&item.container).await?;
        let mid = m.message_id.as_deref().map(|id| id.trim_matches(['<', '>']).to_owned()).filter(|id| !id.is_empty());
        let mut lease = self.pool.get().await?;
        if lease.selected.as_ref().map(|s| s.0.as_str()) != Some(folder.as_str()) {
            lease.open_mailbox(&folder, false).await?;
        }
        if let Some(id) = &mid {
            let mut present = self.present.lock().await;
            if !present.contains_key(&folder) {
                lease.allow(DEFAULT_BUDGET * 4);
                let all: Vec<_> = lease
                    .session
                    .uid_fetch("1:*", "(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                    .await
                    .map_err(|e| imap_err(&format!("reading {folder}"), e))?
                    .try_collect()
                    .await
                    .map_err(|e| imap_err(&format!("reading {folder}"), e))?;
                let set = all.iter().filter_map(|f| Some((header_message_id(f.header()?)?, f.size?))).collect();
                present.insert(folder.clone(), set);
            }
            if present[&folder].contains(&(id.clone(), bytes.len() as u32)) {
                return Ok(PutOutcome { dest_id: format!("{folder}#<{id}>"), created: false, warnings: vec![], sha256: Some(sha) });
            }
        }
        // without a Message-ID: look for a message of the same size and compare the bytes
        let candidates = if mid.is_none() {
            let query = format!("LARGER {} SMALLER {}", bytes.len().saturating_sub(1), bytes.len() + 1);
            lease.allow(DEFAULT_BUDGET);
            lease.session.uid_search(&query).await.map_err(|e| imap_err(&format!("searching {folder}"), e))?
        } else {
            HashSet::new()
        };
        if !candidates.is_empty() {
            let set = candidates.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let what = if m.message_id.is_some() { "RFC822.SIZE" } else { "BODY.PEEK[]" };
            lease.allow(DEFAULT_BUDGET.max(bytes.len() as i64 * candidates.len() as i64 + (1 << 20)));
            let fetched: Vec<_> = lease
                .session
                .uid_fetch(&set, what)
                .await
                .map_err(|e| imap_err(&format!("reading {folder}"), e))?
                .try_collect()
                .await
                .map_err(|e| imap_err(&format!("reading {folder}"), e))?;
            let present = fetched.iter().find(|f| match f.body() {
                Some(b) => sha256_hex(b) == sha,
                None => f.size == Some(bytes.len() as u32),
            });
            if let Some(f) = present {
                return Ok(PutOutcome { dest_id: format!("{folder}/{}", f.uid.unwrap_or(0)), created: false, warnings: vec![], sha256: Some(sha) });
            }
        }
        let flags: Vec<&str> = m.flags.iter().map(String::as_str).filter(|f| !f.eq_ignore_ascii_case("\\Recent")).collect();
        let flags = format!("({})", flags.join(" "));
        let date = m.received.or(m.date).map(|d| format!("\"{}\"", d.format("%d-%b-%Y %H:%M:%S +0000")));
        lease.allow(DEFAULT_BUDGET);
        if let Err(e) = lease.session.append(&folder, Some(&flags), date.as_deref(), &bytes).await {
            lease.discard();
            return Err(imap_err(&format!("appending to {folder}"), e));
        }
        if let Some(id) = mid
            && let Some(set) = self.present.lock().await.get_mut(&folder)
        {
            set.insert((id, bytes.len() as u32));
        }
        Ok(PutOutcome { dest_id: format!("{folder}#{}", m.message_id.clone().unwrap_or_else(|| sha[..16].to_owned())), created: true, warnings: vec![], sha256: Some(sha) })
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
