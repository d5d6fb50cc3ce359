//! Reads a package back into items, checking every message and file against its hash.

use crate::crypt::{Decryption, decrypt_to_temp};
use crate::fs::{PackageFs, UnpackLimits};
use crate::manifest::Manifest;
use crate::record::PackageRecord;
use crate::{FORMAT_NAME, FORMAT_VERSION, Form, PackageError, layout};
use async_trait::async_trait;
use bytes::Bytes;
use ferry_codecs::Limits;
use ferry_codecs::lines::LineReader;
use ferry_codecs::mbox::{Flavor, MboxReader};
use ferry_core::content::{BoxRead, ContentSource, sha256_hex};
use ferry_core::{Attachment, Content, Item, ItemError, Vertical};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

pub struct PackageReader {
    fs: Arc<PackageFs>,
    manifest: Manifest,
    /// path -> (size, SHA-256) as the manifest lists them
    listed: Arc<HashMap<String, (u64, String)>>,
    _decrypted: Option<tempfile::NamedTempFile>,
}

impl PackageReader {
    /// Opens a package; `.age` packages need `decryption` and are decrypted into `tmp_dir`.
    pub fn open(path: &Path, decryption: Option<&Decryption>, tmp_dir: &Path, limits: UnpackLimits) -> Result<Self, PackageError> {
        let decrypted = match Form::of(path) {
            Form::EncryptedZip => {
                let d = decryption.ok_or_else(|| {
                    PackageError::Decrypt(format!("{} is encrypted: give --passphrase-file or --identity", path.display()))
                })?;
                Some(decrypt_to_temp(path, d, tmp_dir)?)
            }
            _ => None,
        };
        let fs = PackageFs::open(decrypted.as_ref().map(|t| t.path()).unwrap_or(path), limits)?;
        let manifest = read_manifest(&fs, limits.max_manifest_bytes)?;
        let listed = Arc::new(manifest.files.iter().map(|f| (f.path.clone(), (f.size, f.sha256.clone()))).collect());
        Ok(PackageReader { fs: Arc::new(fs), manifest, listed, _decrypted: decrypted })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn fs(&self) -> &PackageFs {
        &self.fs
    }

    /// The items of one vertical, in package order, each checked against its hash.
    pub fn items(&self, v: Vertical) -> Result<ItemIter, PackageError> {
        let path = layout::records_path(v);
        if path.is_empty() {
            return Err(PackageError::Invalid {
                path: "manifest.json".into(),
                reason: format!("this ferry does not know the vertical `{v}`"),
            });
        }
        let lines = if self.manifest.verticals.contains_key(v.as_str()) {
            Some(LineReader::new(BufReader::new(HashRead::new(self.fs.open_file(path)?)), Limits::default().max_line * 32))
        } else {
            None
        };
        Ok(ItemIter {
            fs: self.fs.clone(),
            listed: self.listed.clone(),
            vertical: v,
            path: path.to_owned(),
            lines,
            buf: Vec::new(),
            mbox: None,
            last_message: None,
            mboxes_done: HashSet::new(),
            messages_parsed: 0,
            pending: Vec::new(),
        })
    }
}

fn read_manifest(fs: &PackageFs, max: u64) -> Result<Manifest, PackageError> {
    let size = fs.size("manifest.json").ok_or_else(|| PackageError::invalid("manifest.json", "missing: this is not a ferry package"))?;
    if size > max {
        return Err(PackageError::Limit(format!(
            "manifest.json is {size} bytes, over the {max} byte limit (a package of that many files \
                is not supported; a damaged or hostile package?)"
        )));
    }
    // parsed as it is read: the text is never held whole
    let m: Manifest = serde_json::from_reader(BufReader::with_capacity(256 * 1024, fs.open_file("manifest.json")?))
        .map_err(|e| PackageError::invalid("manifest.json", format!("not a valid manifest: {e}")))?;
    if m.format != FORMAT_NAME {
        return Err(PackageError::invalid("manifest.json", format!("format is `{}`, not `{FORMAT_NAME}`", m.format)));
    }
    if m.version > FORMAT_VERSION {
        return Err(PackageError::invalid(
            "manifest.json",
            format!("format version {} is newer than this ferry reads ({FORMAT_VERSION}); upgrade ferry", m.version),
        ));
    }
    for f in &m.files {
        layout::check_relative(&f.path).map_err(|why| PackageError::invalid(&f.path, format!("manifest lists an unsafe path ({why})")))?;
    }
    Ok(m)
}

/// Hashes what is read through it, to compare with the manifest at the end.
pub(crate) struct HashRead<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> HashRead<R> {
    fn new(inner: R) -> Self {
        HashRead { inner, hasher: Sha256::new(), size: 0 }
    }

    /// Reads what is left and returns the size and hash of the whole.
    fn finish(&mut self) -> std::io::Result<(u64, String)> {
        std::io::copy(self, &mut std::io::sink())?;
        Ok((self.size, hex::encode(self.hasher.clone().finalize())))
    }
}

impl<R: Read> Read for HashRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

type Lines = LineReader<BufReader<HashRead<Box<dyn Read + Send>>>>;
type MboxState = (String, MboxReader<BufReader<HashRead<Box<dyn Read + Send>>>>, u64);

pub struct ItemIter {
    fs: Arc<PackageFs>,
    listed: Arc<HashMap<String, (u64, String)>>,
    /// Errors found at the end of a file, reported before the iteration ends.
    pending: Vec<ItemError>,
    vertical: Vertical,
    path: String,
    lines: Option<Lines>,
    buf: Vec<u8>,
    mbox: Option<MboxState>,
    /// The message last read from `mbox`, for records that point at it again.
    last_message: Option<Vec<u8>>,
    mboxes_done: HashSet<String>,
    /// Messages parsed from mboxes so far (each is parsed once).
    pub(crate) messages_parsed: u64,
}

impl ItemIter {
    fn item(&mut self, line_no: u64) -> Result<Item, ItemError> {
        let location = format!("{} line {line_no}", self.path);
        let vertical = self.vertical;
        let err = |id: &str, reason: String| ItemError { skipped: false, vertical, id: id.to_owned(), location: location.clone(), reason };
        let rec: PackageRecord =
            serde_json::from_slice(&self.buf).map_err(|e| err(&format!("line-{line_no}"), format!("not a valid record: {e}")))?;
        if rec.record.vertical() != self.vertical {
            return Err(err(&rec.id, format!("a {} record in the {} file", rec.record.vertical(), self.vertical)));
        }
        let original = rec.original().map_err(|e| err(&rec.id, e))?;
        let content = match &rec.content {
            None => None,
            Some(c) if self.vertical == Vertical::Mail => {
                let index = c.index.ok_or_else(|| err(&rec.id, "message without its index in the mbox".into()))?;
                let bytes = self.message(&c.path, index).map_err(|e| err(&rec.id, e))?;
                let mut bytes = bytes;
                // mbox cannot keep a message without a final newline; the record knows the size
                if bytes.len() as u64 == c.size + 1 && bytes.ends_with(b"\n") {
                    bytes.pop();
                }
                let got = sha256_hex(&bytes);
                if got != c.sha256 || bytes.len() as u64 != c.size {
                    return Err(err(
                        &rec.id,
                        format!("message {index} of {} does not match its SHA-256 (the package was altered)", c.path),
                    ));
                }
                Some(Content {
                    media_type: c.media_type.clone(),
                    size: Some(c.size),
                    sha256: Some(got),
                    source: Arc::new(Bytes::from(bytes)),
                })
            }
            Some(c) => {
                layout::check_relative(&c.path).map_err(|why| err(&rec.id, format!("unsafe content path ({why})")))?;
                if self.fs.size(&c.path) != Some(c.size) {
                    return Err(err(&rec.id, format!("{} is missing or not {} bytes", c.path, c.size)));
                }
                if self.listed.get(&c.path) != Some(&(c.size, c.sha256.clone())) {
                    return Err(err(&rec.id, format!("{} is not what the manifest lists (the package was altered)", c.path)));
                }
                Some(Content {
                    media_type: c.media_type.clone(),
                    size: Some(c.size),
                    sha256: Some(c.sha256.clone()),
                    source: Arc::new(EntrySource { fs: self.fs.clone(), path: c.path.clone() }),
                })
            }
        };
        let mut attachments = Vec::with_capacity(rec.attached.len());
        for a in &rec.attached {
            let c = &a.content;
            layout::check_relative(&c.path).map_err(|why| err(&rec.id, format!("unsafe attachment path ({why})")))?;
            if self.listed.get(&c.path) != Some(&(c.size, c.sha256.clone())) || self.fs.size(&c.path) != Some(c.size) {
                return Err(err(&rec.id, format!("attached file {} is missing or not what the manifest lists", c.path)));
            }
            attachments.push(Attachment {
                name: a.name.clone(),
                content: Content {
                    media_type: c.media_type.clone(),
                    size: Some(c.size),
                    sha256: Some(c.sha256.clone()),
                    source: Arc::new(EntrySource { fs: self.fs.clone(), path: c.path.clone() }),
                },
            });
        }
        Ok(Item {
            id: rec.id,
            container: rec.container,
            version: rec.version,
            record: rec.record,
            original,
            content,
            standard: None,
            attachments,
            references: rec.references,
            source_warnings: vec![],
        })
    }

    /// Message `index` of the mbox at `path`. The mboxes are read once, front to back: the
    /// records of one mbox follow its messages (as ferry writes them); a record that points
    /// back (other than at the message just read) fails instead of reading the mbox again.
    fn message(&mut self, path: &str, index: u64) -> Result<Vec<u8>, String> {
        if let Some((p, _, next)) = &self.mbox
            && p == path
            && index + 1 == *next
            && let Some(last) = &self.last_message
        {
            return Ok(last.clone());
        }
        let reopen = match &self.mbox {
            Some((p, _, next)) if p == path => {
                if *next > index {
                    return Err(format!("points back to message {index} of {path}, which was already read (records out of mbox order)"));
                }
                false
            }
            _ => true,
        };
        if reopen {
            if self.mboxes_done.contains(path) {
                return Err(format!("points back into {path}, which was already read (records out of mbox order)"));
            }
            self.finish_mbox();
            let r = self.fs.open_file(path).map_err(|e| e.to_string())?;
            self.mbox = Some((path.to_owned(), MboxReader::new(BufReader::new(HashRead::new(r)), Flavor::Mboxrd, Limits::default()), 0));
        }
        let (_, reader, next) = self.mbox.as_mut().expect("opened");
        loop {
            let m = reader
                .next()
                .ok_or_else(|| format!("{path} holds fewer than {} messages", index + 1))?
                .map_err(|e| format!("{path}: {e}"))?;
            *next += 1;
            self.messages_parsed += 1;
            if *next - 1 == index {
                self.last_message = Some(m.bytes.clone());
                return Ok(m.bytes);
            }
        }
    }
}

impl ItemIter {
    /// Compares a whole file with the manifest; a difference becomes a pending error.
    fn check_listed(&mut self, path: &str, got: std::io::Result<(u64, String)>) {
        let problem = match (got, self.listed.get(path)) {
            (Err(e), _) => Some(format!("cannot be read to its end: {e}")),
            (Ok(_), None) => Some("is not listed in the manifest".to_owned()),
            (Ok((size, sha)), Some((lsize, lsha))) if size != *lsize || sha != *lsha => Some(format!(
                "does not match the manifest ({size} bytes, SHA-256 {sha}; listed {lsize} bytes, {lsha}): the package was altered"
            )),
            _ => None,
        };
        if let Some(reason) = problem {
            self.pending.push(ItemError {
                skipped: false,
                vertical: self.vertical,
                id: path.to_owned(),
                location: path.to_owned(),
                reason,
            });
        }
    }

    fn finish_mbox(&mut self) {
        self.last_message = None;
        if let Some((path, reader, _)) = self.mbox.take() {
            self.mboxes_done.insert(path.clone());
            let mut inner = reader.into_inner();
            let got = inner.get_mut().finish();
            self.check_listed(&path, got);
        }
    }
}

impl Iterator for ItemIter {
    type Item = Result<Item, ItemError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.pending.pop() {
                return Some(Err(e));
            }
            let lines = self.lines.as_mut()?;
            self.buf.clear();
            let line_no = lines.line_no + 1;
            match lines.read_line(&mut self.buf) {
                Ok(false) => {
                    let mut lines = self.lines.take().expect("present").into_inner();
                    let got = lines.get_mut().finish();
                    let path = self.path.clone();
                    self.check_listed(&path, got);
                    self.finish_mbox();
                    continue;
                }
                Ok(true) if self.buf.iter().all(u8::is_ascii_whitespace) => continue,
                Ok(true) => return Some(self.item(line_no)),
                Err(e) => {
                    return Some(Err(ItemError {
                        skipped: false,
                        vertical: self.vertical,
                        id: format!("line-{line_no}"),
                        location: self.path.clone(),
                        reason: e.to_string(),
                    }));
                }
            }
        }
    }
}

/// A file inside a package, opened when read.
struct EntrySource {
    fs: Arc<PackageFs>,
    path: String,
}

#[async_trait]
impl ContentSource for EntrySource {
    async fn open(&self) -> std::io::Result<BoxRead> {
        if let Some(p) = self.fs.local_path(&self.path) {
            return ferry_core::content::FileSource(p).open().await;
        }
        let fs = self.fs.clone();
        let path = self.path.clone();
        let reader = tokio::task::spawn_blocking(move || fs.open_file(&path))
            .await
            .map_err(std::io::Error::other)?
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        Ok(sync_to_async(reader))
    }
}

/// Reads a blocking reader on a blocking thread, handing the bytes over a small channel.
pub fn sync_to_async(mut reader: Box<dyn Read + Send>) -> BoxRead {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        loop {
            let mut buf = vec![0u8; 128 * 1024];
            match reader.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    Box::pin(tokio_util::io::StreamReader::new(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder package of `n` mail records, record `i` pointing at message `index(i)` of
    /// one mbox of `n` messages.
    fn mail_package(dir: &Path, n: u64, index: impl Fn(u64) -> u64) {
        std::fs::create_dir_all(dir.join("mail")).unwrap();
        let mbox: String = (0..n).map(|i| format!("From a@example.org Mon Jan  6 09:00:00 2025\nSubject: {i}\n\nbody {i}\n\n")).collect();
        let records: String = (0..n)
            .map(|i| {
                let rec = serde_json::json!({"id": format!("m{i}"), "container": "x", "version": "1",
                    "record": {"type": "mail", "flags": [], "to": []},
                    "content": {"path": "mail/x.mbox", "index": index(i), "size": 1, "sha256": "00", "media_type": "message/rfc822"}});
                format!("{rec}\n")
            })
            .collect();
        let file = |path: &str, body: &str| {
            std::fs::write(dir.join(path), body).unwrap();
            serde_json::json!({"path": path, "size": body.len(), "media_type": "x", "sha256": sha256_hex(body.as_bytes())})
        };
        let files = vec![file("mail/x.mbox", &mbox), file("mail/messages.jsonl", &records)];
        let manifest = serde_json::json!({"format": "ferry-package", "version": 1, "created": "2025-01-01T00:00:00Z", "generator": "test",
            "source": "test", "verticals": {"mail": {"items": n, "containers": ["x"], "records": "mail/messages.jsonl"}}, "files": files});
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    }

    fn read_all(dir: &Path) -> (Vec<Result<Item, ItemError>>, u64) {
        let r = PackageReader::open(dir, None, dir, UnpackLimits::default()).unwrap();
        let mut it = r.items(Vertical::Mail).unwrap();
        let items: Vec<_> = it.by_ref().collect();
        (items, it.messages_parsed)
    }

    #[test]
    fn records_pointing_at_one_message_read_the_mbox_once() {
        let t = tempfile::tempdir().unwrap();
        let n = 400;
        mail_package(t.path(), n, |_| n - 1);
        let (items, parsed) = read_all(t.path());
        assert_eq!(items.len() as u64, n);
        // every record reaches its message (each then fails its made-up hash)
        assert!(items.iter().all(|i| i.as_ref().is_err_and(|e| e.reason.contains("does not match its SHA-256"))));
        assert_eq!(parsed, n, "the mbox was parsed again for each record");
    }

    #[test]
    fn records_pointing_back_fail_instead_of_reading_again() {
        let t = tempfile::tempdir().unwrap();
        let n = 300;
        mail_package(t.path(), n, |i| n - 1 - i);
        let (items, parsed) = read_all(t.path());
        assert_eq!(items.len() as u64, n);
        assert_eq!(parsed, n);
        assert!(items.iter().skip(1).all(|i| i.as_ref().is_err_and(|e| e.reason.contains("already read"))));
    }
}
