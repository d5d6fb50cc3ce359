use super::append::{Appender, Data, Message};
use super::config::ImapConfig;
use super::exporter::flag_name;
use super::folders::{self, Tree};
use super::session::{DEFAULT_BUDGET, Pool, imap_err};
use crate::Settings;
use async_trait::async_trait;
use ferry_core::content::sha256_hex;
use ferry_core::{ConnectorError, Importer, Item, PutOutcome, Record};
use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

/// A folder's messages by (Message-ID, size): their UID and flags.
type Present = HashMap<(String, u32), (u32, Vec<String>)>;

/// Appends messages. A message already in the destination folder (same Message-ID and
/// size, or, without a Message-ID, the same bytes) is not appended again.
pub struct ImapImporter {
    pool: Pool,
    settings: Settings,
    appender: Appender,
    folders: Mutex<Option<Tree>>,
    created: Mutex<HashSet<String>>,
    /// Per folder: (Message-ID, size) of what it holds, with UID and flags, read once, so
    /// that the check for an existing message costs no round trip.
    present: Mutex<HashMap<String, Present>>,
    /// Bytes of messages held in memory on their way, across all puts (IN_FLIGHT at
    /// most, whatever the concurrency).
    in_flight: tokio::sync::Semaphore,
    /// A private folder (mode 0700) for spooled messages, made on first use and removed
    /// with the importer.
    spool: std::sync::Mutex<Option<tempfile::TempDir>>,
}

/// The Message-ID in a header block, without angle brackets.
fn header_message_id(header: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(header);
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n')).peekable();
    while let Some(l) = lines.next() {
        if l.len() >= 11 && l.is_char_boundary(11) && l[..11].eq_ignore_ascii_case("message-id:") {
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
        ImapImporter {
            pool: Pool::new(cfg, settings.clone()),
            settings,
            appender: Appender::default(),
            folders: Mutex::new(None),
            created: Mutex::new(HashSet::new()),
            present: Mutex::new(HashMap::new()),
            in_flight: tokio::sync::Semaphore::new(IN_FLIGHT as usize),
            spool: std::sync::Mutex::new(None),
        }
    }

    /// A new spool file, created exclusively (O_EXCL, mode 0600) in the importer's private
    /// folder under the temporary directory; removed when the message is done with.
    fn spool_file(&self) -> std::io::Result<tempfile::NamedTempFile> {
        let mut spool = self.spool.lock().unwrap_or_else(|e| e.into_inner());
        if spool.is_none() {
            std::fs::create_dir_all(&self.settings.temp_dir)?;
            #[cfg(unix)]
            let private = {
                use std::os::unix::fs::PermissionsExt;
                std::fs::Permissions::from_mode(0o700)
            };
            let mut b = tempfile::Builder::new();
            b.prefix("imap-spool-");
            #[cfg(unix)]
            b.permissions(private);
            *spool = Some(b.tempdir_in(&self.settings.temp_dir)?);
        }
        tempfile::Builder::new().prefix("message-").tempfile_in(spool.as_ref().expect("made").path())
    }

    /// The server folder for a container, created if missing, and a fidelity warning
    /// when the server makes more levels of it than the container has.
    async fn folder(&self, container: &str) -> Result<(String, Option<String>), ConnectorError> {
        let mut known = self.folders.lock().await;
        if known.is_none() {
            let mut lease = self.pool.get().await?;
            *known = Some(folders::list(&mut lease).await?);
        }
        let list = known.as_ref().expect("listed");
        let name = list.server_name(container);
        let warning = list.split_warning(container);
        if list.folders.iter().any(|f| f.name == name) || self.created.lock().await.contains(&name) {
            return Ok((name, warning));
        }
        let mut lease = self.pool.get().await?;
        lease.allow(DEFAULT_BUDGET);
        if let Err(e) = lease.session.create(&name).await {
            // another connection may have created it meanwhile
            let again = folders::list(&mut lease).await?;
            if !again.folders.iter().any(|f| f.name == name) {
                return Err(imap_err(&format!("creating folder {name}"), e));
            }
        }
        let _ = lease.session.subscribe(&name).await;
        self.created.lock().await.insert(name.clone());
        Ok((name, warning))
    }
}

/// Flags as IMAP stores them: sorted, without duplicates and without `\Recent` (which
/// only the server sets).
fn flag_set(flags: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = flags.filter(|f| !f.eq_ignore_ascii_case("\\Recent")).collect();
    v.sort();
    v.dedup();
    v
}

/// Turns bare LF line ends into CRLF (RFC 5322), leaving CRLF alone, across the chunks of
/// a stream.
#[derive(Default)]
struct Crlf {
    after_cr: bool,
}

impl Crlf {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut start = 0;
        for i in memchr::memchr_iter(b'\n', chunk) {
            let prev_cr = if i == 0 { self.after_cr } else { chunk[i - 1] == b'\r' };
            if !prev_cr {
                out.extend_from_slice(&chunk[start..i]);
                out.extend_from_slice(b"\r\n");
                start = i + 1;
            }
        }
        out.extend_from_slice(&chunk[start..]);
        if let Some(last) = chunk.last() {
            self.after_cr = *last == b'\r';
        }
    }
}

/// Messages up to this size are held in memory on their way; larger ones are spooled to
/// a temporary file.
const IN_MEMORY: usize = 8 << 20;
/// Message bytes all puts together hold in memory at once.
const IN_FLIGHT: u32 = 64 << 20;

/// The memory a message of `size` bytes (if known) may take on its way: its size with
/// room for CRLF line ends, at most IN_MEMORY. A message that grows past it is spooled.
fn reservation(size: Option<u64>) -> u32 {
    let cap = IN_MEMORY as u64;
    size.map_or(cap, |n| n.saturating_add(n / 16).saturating_add(4096).min(cap)) as u32
}
/// Bytes compared when looking for a copy of a message without a Message-ID.
const PREFIX: usize = 1 << 20;

impl ImapImporter {
    /// The message with CRLF line ends, its SHA-256 and the SHA-256 of its first PREFIX
    /// bytes. Up to `in_memory` bytes are kept in memory; a longer message is spooled.
    async fn read(&self, content: &ferry_core::Content, in_memory: usize) -> Result<(Data, String, String), ConnectorError> {
        let fail = |e: std::io::Error| ConnectorError::transient(format!("reading the message: {e}"));
        let mut reader = content.open_verified().await.map_err(fail)?;
        let mut crlf = Crlf::default();
        let (mut whole, mut prefix) = (Sha256::new(), Sha256::new());
        let (mut len, mut mem, mut out) = (0usize, Vec::new(), Vec::new());
        let mut file: Option<(tokio::fs::File, tempfile::TempPath)> = None;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf).await.map_err(fail)?;
            if n == 0 {
                break;
            }
            out.clear();
            crlf.push(&buf[..n], &mut out);
            whole.update(&out);
            if len < PREFIX {
                prefix.update(&out[..out.len().min(PREFIX - len)]);
            }
            len += out.len();
            if file.is_none() && len > in_memory {
                let spool = self.spool_file().map_err(|e| ConnectorError::from_io("spooling a large message", e))?;
                let (f, path) = spool.into_parts();
                let mut f = tokio::fs::File::from_std(f);
                f.write_all(&mem).await.map_err(|e| ConnectorError::from_io("spooling a large message", e))?;
                mem = Vec::new();
                file = Some((f, path));
            }
            match &mut file {
                Some((f, _)) => f.write_all(&out).await.map_err(|e| ConnectorError::from_io("spooling a large message", e))?,
                None => mem.extend_from_slice(&out),
            }
        }
        let data = match file {
            Some((mut f, path)) => {
                f.flush().await.map_err(|e| ConnectorError::from_io("spooling a large message", e))?;
                Data::File(path, len as u64)
            }
            None => Data::Memory(mem),
        };
        Ok((data, hex::encode(whole.finalize()), hex::encode(prefix.finalize())))
    }

    /// The UID and flags of the message in `folder` with this Message-ID and size, if
    /// there is one (the folder's list is read once).
    async fn by_message_id(&self, folder: &str, id: &str, size: u64) -> Result<Option<(u32, Vec<String>)>, ConnectorError> {
        let mut present = self.present.lock().await;
        if !present.contains_key(folder) {
            let mut lease = self.pool.get().await?;
            // a fresh look, also after a broken APPEND
            lease.open_mailbox(folder, false).await?;
            lease.allow(DEFAULT_BUDGET * 4);
            let all: Vec<_> = lease
                .session
                .uid_fetch("1:*", "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                .await
                .map_err(|e| imap_err(&format!("reading {folder}"), e))?
                .try_collect()
                .await
                .map_err(|e| imap_err(&format!("reading {folder}"), e))?;
            let map = all
                .iter()
                .filter_map(|f| Some(((header_message_id(f.header()?)?, f.size?), (f.uid?, flag_set(f.flags().map(|fl| flag_name(&fl)))))))
                .collect();
            present.insert(folder.to_owned(), map);
        }
        Ok(present[folder].get(&(id.to_owned(), size as u32)).cloned())
    }

    /// Sets a present message's flags to the source's.
    async fn set_flags(&self, folder: &str, uid: u32, flags: &[String]) -> Result<(), ConnectorError> {
        let mut lease = self.pool.get().await?;
        if lease.selected.as_ref() != Some(&(folder.to_owned(), true)) {
            lease.open_mailbox(folder, true).await?;
        }
        let list = format!("({})", flags.join(" "));
        lease.allow(DEFAULT_BUDGET);
        let r: Result<Vec<_>, _> = match lease.session.uid_store(uid.to_string(), format!("FLAGS.SILENT {list}")).await {
            Ok(stream) => stream.try_collect().await,
            Err(e) => Err(e),
        };
        r.map(drop).map_err(|e| imap_err(&format!("setting the flags of {folder} UID {uid}"), e))
    }

    /// The UID of a message in `folder` of the same size whose first PREFIX bytes hash
    /// to `prefix` (for messages without a Message-ID).
    async fn same_bytes(&self, folder: &str, size: u64, prefix: &str) -> Result<Option<u32>, ConnectorError> {
        let mut lease = self.pool.get().await?;
        // a fresh look: messages appended since the folder was opened must be seen
        lease.open_mailbox(folder, false).await?;
        let query = format!("LARGER {} SMALLER {}", size.saturating_sub(1), size + 1);
        let candidates = lease.session.uid_search(&query).await.map_err(|e| imap_err(&format!("searching {folder}"), e))?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let set = candidates.iter().take(50).map(u32::to_string).collect::<Vec<_>>().join(",");
        lease.allow(DEFAULT_BUDGET.max(PREFIX as i64 * 51));
        let fetched: Vec<_> = lease
            .session
            .uid_fetch(&set, format!("(UID BODY.PEEK[]<0.{PREFIX}>)"))
            .await
            .map_err(|e| imap_err(&format!("reading {folder}"), e))?
            .try_collect()
            .await
            .map_err(|e| imap_err(&format!("reading {folder}"), e))?;
        lease.allow(DEFAULT_BUDGET);
        Ok(fetched.iter().find(|f| f.body().is_some_and(|b| sha256_hex(b) == prefix)).and_then(|f| f.uid))
    }
}

#[async_trait]
impl Importer for ImapImporter {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let Record::Mail(m) = &item.record else { return Err(ConnectorError::Item("not a mail message".into())) };
        let content = item.content.as_ref().ok_or_else(|| ConnectorError::Item("message without content".into()))?;
        // what this message may hold in memory until it is stored, out of IN_FLIGHT
        let reserved = reservation(content.size);
        let _memory = self.in_flight.acquire_many(reserved).await.expect("never closed");
        // IMAP carries messages with CRLF line ends; mbox and maildir files often have LF
        let (data, sha, prefix) = self.read(content, reserved as usize).await?;
        let size = data.len();
        let (folder, warning) = self.folder(&item.container).await?;
        let warnings: Vec<String> = warning.into_iter().collect();
        let mid = m.message_id.as_deref().map(|id| id.trim_matches(['<', '>']).to_owned()).filter(|id| !id.is_empty());
        let already = |dest_id: String| Ok(PutOutcome { dest_id, created: false, warnings: warnings.clone(), sha256: Some(sha.clone()) });
        let wanted = flag_set(m.flags.iter().cloned());
        match &mid {
            Some(id) => {
                let mut found = self.by_message_id(&folder, id, size).await?;
                if found.as_ref().is_some_and(|(uid, flags)| *uid == 0 && *flags != wanted) {
                    // appended by this run, UID unknown: read the folder again
                    self.present.lock().await.remove(&folder);
                    found = self.by_message_id(&folder, id, size).await?;
                }
                if let Some((uid, flags)) = found {
                    if flags == wanted {
                        return already(format!("{folder}#<{id}>"));
                    }
                    // the same message with other flags (read, answered, labelled since)
                    self.set_flags(&folder, uid, &wanted).await?;
                    if let Some(map) = self.present.lock().await.get_mut(&folder) {
                        map.insert((id.clone(), size as u32), (uid, wanted));
                    }
                    return Ok(PutOutcome { dest_id: format!("{folder}#<{id}>"), created: true, warnings, sha256: Some(sha) });
                }
            }
            None => {
                if let Some(uid) = self.same_bytes(&folder, size, &prefix).await? {
                    return already(format!("{folder}/{uid}"));
                }
            }
        }
        let flags = format!("({})", wanted.join(" "));
        let date = m.received.or(m.date).map(|d| format!("\"{}\"", d.format("%d-%b-%Y %H:%M:%S +0000")));
        if let Err(e) = self.appender.append(&self.pool, &folder, Message { flags, date, data }).await {
            if e.is_transient() {
                // the server may have stored it before the connection broke: look again
                // before a retry appends it
                self.present.lock().await.remove(&folder);
            }
            return Err(e);
        }
        if let Some(id) = mid.clone()
            && let Some(map) = self.present.lock().await.get_mut(&folder)
        {
            // the UID is not known without UIDPLUS; 0 makes a later flag change look again
            map.insert((id, size as u32), (0, wanted));
        }
        Ok(PutOutcome {
            dest_id: format!("{folder}#{}", m.message_id.clone().unwrap_or_else(|| sha[..16].to_owned())),
            created: true,
            warnings,
            sha256: Some(sha),
        })
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(chunks: &[&[u8]]) -> Vec<u8> {
        let mut c = Crlf::default();
        let mut out = Vec::new();
        chunks.iter().for_each(|ch| c.push(ch, &mut out));
        out
    }

    #[test]
    fn bare_lf_becomes_crlf_across_chunk_boundaries() {
        assert_eq!(convert(&[b"a\nb\r\nc\n"]), b"a\r\nb\r\nc\r\n");
        assert_eq!(convert(&[b"a\r", b"\nb"]), b"a\r\nb", "a CR ending one chunk pairs with the LF opening the next");
        assert_eq!(convert(&[b"a", b"\n", b"\n"]), b"a\r\n\r\n");
        assert_eq!(convert(&[b"\n"]), b"\r\n");
        assert_eq!(convert(&[b"", b"x\r\r\n"]), b"x\r\r\n");
    }

    #[test]
    fn memory_per_message_is_bounded() {
        assert_eq!(reservation(Some(1600)), 1600 + 100 + 4096);
        assert_eq!(reservation(Some(100 << 20)), IN_MEMORY as u32);
        assert_eq!(reservation(None), IN_MEMORY as u32);
        assert_eq!(reservation(Some(u64::MAX)), IN_MEMORY as u32);
        assert!(IN_FLIGHT as usize >= IN_MEMORY, "one message always fits");
    }

    #[test]
    fn message_id_is_read_from_folded_headers() {
        assert_eq!(header_message_id(b"Subject: x\r\nMessage-ID:\r\n <a@b>\r\n\r\n").as_deref(), Some("a@b"));
        assert_eq!(header_message_id(b"message-id: <>\r\n"), None);
        assert_eq!(header_message_id(b"Subject: x\r\n"), None);
    }
}
