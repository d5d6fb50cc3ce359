//! The one pass over a `.tgz` when it is opened: every entry's path, size, CRC-32 and
//! where its bytes start in the decompressed stream, with the hostile checks of the ZIP
//! reader (no traversal, no absolute path, no link, no device, no name twice, bounded
//! total size and compression ratio) and a checkpoint of the decompressor every so often.
//! The tar format (ustar, GNU long names, pax headers) is read by astral-tokio-tar, run
//! here on a plain thread over a reader that never waits.

use super::gunzip::{Checkpoint, Gunzip};
use ferry_package::UnpackLimits;
use ferry_package::layout::check_relative;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio_tar::{Archive, EntryType};

/// The most a tar's headers before one file (its long name, its pax records) may take.
const HEADERS_MAX: u64 = 1 << 20;

/// One file of a tar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TarFile {
    /// Where its bytes start in the decompressed stream.
    pub offset: u64,
    pub size: u64,
    pub crc32: u32,
}

pub struct Index {
    pub files: BTreeMap<String, TarFile>,
    /// The small files' bytes, kept from this pass while `held` allowed.
    pub held: BTreeMap<String, Arc<[u8]>>,
    /// By offset.
    pub checkpoints: Vec<Checkpoint>,
}

/// What the tar reader may read, and what the pass keeps, shared with the reader it reads.
struct Pass {
    gz: Gunzip,
    /// The stream may not be read past this offset now.
    limit: u64,
    /// Why, when it is.
    limit_why: String,
    /// The most the whole stream may unpack to.
    budget: u64,
    budget_why: String,
    /// Why the stream stopped, when the pass stopped it (the tar reader's own message
    /// would hide it).
    refused: Option<String>,
    checkpoints: Vec<Checkpoint>,
    every: u64,
    next_checkpoint: u64,
}

struct Feed(Arc<Mutex<Pass>>);

impl AsyncRead for Feed {
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Poll::Ready(p.read_into(buf))
    }
}

impl Pass {
    fn refuse(&mut self, why: String) -> io::Error {
        self.refused = Some(why.clone());
        io::Error::new(io::ErrorKind::InvalidData, why)
    }

    fn read_into(&mut self, buf: &mut ReadBuf<'_>) -> io::Result<()> {
        let dst = buf.initialize_unfilled();
        if dst.is_empty() {
            return Ok(());
        }
        let room = self.limit.saturating_sub(self.gz.position());
        if room == 0 {
            return Err(self.refuse(self.limit_why.clone()));
        }
        let want = dst.len().min(room.min(usize::MAX as u64) as usize);
        let n = self.gz.read(&mut dst[..want]).inspect_err(|e| self.refused = Some(e.to_string()))?;
        buf.advance(n);
        if self.gz.position() > self.budget {
            return Err(self.refuse(self.budget_why.clone()));
        }
        if self.gz.input_position() >= self.next_checkpoint
            && let Some(c) = self.gz.checkpoint()
        {
            self.checkpoints.push(c);
            self.next_checkpoint = self.gz.input_position() + self.every;
        }
        Ok(())
    }
}

fn lock(p: &Mutex<Pass>) -> std::sync::MutexGuard<'_, Pass> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// A tar path as a path of the archive: `./` in front dropped; `None` for the root itself.
pub fn archive_path(raw: &[u8]) -> Result<Option<String>, String> {
    let s = std::str::from_utf8(raw).map_err(|_| format!("{}: file name is not UTF-8", String::from_utf8_lossy(raw)))?;
    let mut p = s;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.trim_start_matches('/');
    }
    if p.is_empty() || p == "." {
        return Ok(None);
    }
    check_relative(p.trim_end_matches('/')).map_err(|why| format!("{s}: unsafe path in the tar ({why})"))?;
    Ok(Some(p.to_owned()))
}

/// Files of at most this many bytes are kept from the opening pass (a photo's sidecar, a
/// note, a list), while the archive's budget for them lasts: read later at no cost.
pub const HOLD_MAX: u64 = 64 << 10;

/// Reads the whole of `file` (named `name` in messages), checking it; a checkpoint every
/// `every` bytes of the file; small files kept while `held` (bytes, shared by all the
/// parts) lasts.
pub fn build(file: Arc<File>, name: &str, limits: UnpackLimits, every: u64, held: &AtomicU64) -> Result<Index, String> {
    let len = file.metadata().map_err(|e| format!("{name}: {e}"))?.len();
    let budget = len.saturating_mul(limits.max_ratio).max(limits.ratio_floor);
    let files_budget = limits.max_total_bytes.min(budget);
    let pass = Arc::new(Mutex::new(Pass {
        gz: Gunzip::new(file).map_err(|e| format!("{name}: {e}"))?,
        limit: HEADERS_MAX,
        limit_why: String::new(),
        budget,
        budget_why: format!("{name}: unpacks to more than {budget} bytes ({}:1 of its {len} bytes): a tar bomb?", limits.max_ratio),
        refused: None,
        checkpoints: Vec::new(),
        every: every.max(1),
        next_checkpoint: every.max(1),
    }));
    let why = |p: &Arc<Mutex<Pass>>, e: io::Error| -> String {
        lock(p).refused.clone().map(|r| format!("{name}: {r}")).unwrap_or_else(|| format!("{name}: not a readable tar archive: {e}"))
    };
    let mut archive = Archive::new(Feed(pass.clone()));
    let mut kept: BTreeMap<String, Arc<[u8]>> = BTreeMap::new();
    let files = futures::executor::block_on(async {
        let mut entries = archive.entries().map_err(|e| format!("{name}: {e}"))?;
        let mut files: BTreeMap<String, TarFile> = BTreeMap::new();
        let mut total = 0u64;
        loop {
            {
                let mut p = lock(&pass);
                p.limit = p.gz.position().saturating_add(HEADERS_MAX);
                p.limit_why = format!("a tar header (a long name, pax records) over {HEADERS_MAX} bytes");
            }
            let mut entry = match entries.next().await {
                None => break,
                Some(Ok(e)) => e,
                Some(Err(e)) => return Err(why(&pass, e)),
            };
            let kind = entry.header().entry_type();
            // a global pax header holds defaults, not a file (GNU tar names it /tmp/...)
            if kind == EntryType::XGlobalHeader {
                continue;
            }
            let raw = entry.path_bytes().map_err(|e| why(&pass, e))?.into_owned();
            let Some(path) = archive_path(&raw).map_err(|e| format!("{name}: {e}"))? else { continue };
            let refused = match kind {
                EntryType::Regular | EntryType::Continuous if !path.ends_with('/') => None,
                EntryType::Regular | EntryType::Directory => continue,
                EntryType::Symlink => Some("a symbolic link in the tar (links are refused)".to_owned()),
                EntryType::Link => Some("a hard link in the tar (links are refused)".to_owned()),
                EntryType::Char | EntryType::Block => Some("a device in the tar (refused)".to_owned()),
                EntryType::Fifo => Some("a named pipe in the tar (refused)".to_owned()),
                EntryType::GNUSparse => Some("a sparse file in the tar (refused)".to_owned()),
                other => Some(format!("an entry of type '{}' in the tar, which is not a file (refused)", other.as_byte().escape_ascii())),
            };
            if let Some(r) = refused {
                return Err(format!("{name}: {path}: {r}"));
            }
            if let Some(pax) = entry.pax_extensions().await.map_err(|e| why(&pass, e))?
                && pax.flatten().any(|x| x.key_bytes().starts_with(b"GNU.sparse"))
            {
                return Err(format!("{name}: {path}: a sparse file in the tar (refused)"));
            }
            let size = entry.effective_size();
            let offset = entry.raw_file_position();
            let (at, input) = {
                let p = lock(&pass);
                (p.gz.position(), p.gz.input_position())
            };
            if at != offset {
                return Err(format!("{name}: {path}: its bytes are not where the tar says (at {at}, not {offset})"));
            }
            total = total.saturating_add(size);
            if total > files_budget {
                return Err(format!(
                    "{name}: unpacking its files would write more than {files_budget} bytes ({}:1 of its {len} bytes, at most {} in all): a tar bomb?",
                    limits.max_ratio, limits.max_total_bytes
                ));
            }
            {
                let mut p = lock(&pass);
                p.limit = offset.saturating_add(size);
                p.limit_why = format!("{path}: longer than its header says");
            }
            let mut crc = crc32fast::Hasher::new();
            let mut buf = vec![0u8; 64 * 1024];
            let mut read = 0u64;
            let hold = size <= HOLD_MAX && held.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(size)).is_ok();
            let mut bytes = Vec::with_capacity(if hold { size as usize } else { 0 });
            while read < size {
                let n = match entry.read(&mut buf).await {
                    Ok(n) => n,
                    // the stream ended inside the file (the tar reader's words hide it)
                    Err(_) if lock(&pass).gz.finished() => 0,
                    Err(e) => return Err(why(&pass, e)),
                };
                if n == 0 {
                    return Err(format!("{name}: the archive ends inside {path}: the file is truncated"));
                }
                crc.update(&buf[..n]);
                if hold {
                    bytes.extend_from_slice(&buf[..n]);
                }
                read += n as u64;
            }
            let packed = lock(&pass).gz.input_position().saturating_sub(input);
            if size > limits.ratio_floor && size / packed.max(1) > limits.max_ratio {
                return Err(format!(
                    "{name}: {path}: expands {}:1 ({packed} to {size} bytes), over the {}:1 limit (a tar bomb?)",
                    size / packed.max(1),
                    limits.max_ratio
                ));
            }
            if files.insert(path.clone(), TarFile { offset, size, crc32: crc.finalize() }).is_some() {
                return Err(format!("{name}: {path}: the tar holds this name twice"));
            }
            if hold {
                kept.insert(path.clone(), bytes.into());
            }
            if files.len() > limits.max_files {
                return Err(format!("{name}: more than {} files", limits.max_files));
            }
        }
        Ok(files)
    })?;
    drop(archive);
    let pass = Arc::try_unwrap(pass).map_err(|_| format!("{name}: the tar reader is still running"))?;
    let mut pass = pass.into_inner().unwrap_or_else(|e| e.into_inner());
    // past the tar's end: its padding, then the gzip trailer (the whole stream's check sum)
    pass.limit = u64::MAX;
    let mut scratch = vec![0u8; 64 * 1024];
    loop {
        let mut rb = ReadBuf::new(&mut scratch);
        pass.read_into(&mut rb).map_err(|e| format!("{name}: {}", pass.refused.clone().unwrap_or_else(|| e.to_string())))?;
        let got = rb.filled();
        if got.is_empty() {
            break;
        }
        if got.iter().any(|b| *b != 0) {
            return Err(format!("{name}: data after the end of the tar (two archives joined?)"));
        }
    }
    Ok(Index { files, held: kept, checkpoints: pass.checkpoints })
}
