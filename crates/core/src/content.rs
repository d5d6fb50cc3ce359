//! Content streams: the bytes of a message, photo or file, opened on demand (and opened
//! again on a retry), never required to be in memory.

use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

pub type BoxRead = Pin<Box<dyn AsyncRead + Send>>;

/// Lower-case hex SHA-256.
pub type Sha256Hex = String;

/// Something that can produce the content's bytes, as many times as asked.
#[async_trait]
pub trait ContentSource: Send + Sync {
    async fn open(&self) -> io::Result<BoxRead>;

    /// The local file holding the content, when there is one, so that a local
    /// destination can link it instead of copying.
    fn local_path(&self) -> Option<&std::path::Path> {
        None
    }

    /// The content as a blocking reader, for a source that reads local storage and never
    /// waits on a network (a file of an archive): a destination that copies it on a
    /// blocking thread opens and reads it there (opening may itself read), with no task
    /// and no channel in between. `None` when the source has no such reader (then
    /// [`ContentSource::open`]).
    fn open_blocking(&self) -> Option<io::Result<Box<dyn io::Read + Send>>> {
        None
    }
}

#[async_trait]
impl ContentSource for Bytes {
    async fn open(&self) -> io::Result<BoxRead> {
        Ok(Box::pin(io::Cursor::new(self.clone())))
    }

    fn open_blocking(&self) -> Option<io::Result<Box<dyn io::Read + Send>>> {
        Some(Ok(Box::new(io::Cursor::new(self.clone()))))
    }
}

/// A local file, opened when the content is read.
pub struct FileSource(pub PathBuf);

#[async_trait]
impl ContentSource for FileSource {
    async fn open(&self) -> io::Result<BoxRead> {
        let f = tokio::fs::File::open(&self.0).await?;
        Ok(Box::pin(tokio::io::BufReader::with_capacity(256 * 1024, f)))
    }

    fn local_path(&self) -> Option<&std::path::Path> {
        Some(&self.0)
    }
}

#[derive(Clone)]
pub struct Content {
    pub media_type: String,
    /// Exact size in bytes, where known before reading.
    pub size: Option<u64>,
    /// Known hash; readers check it as the bytes go by.
    pub sha256: Option<Sha256Hex>,
    pub source: Arc<dyn ContentSource>,
}

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Content").field("media_type", &self.media_type).field("size", &self.size).field("sha256", &self.sha256).finish()
    }
}

impl Content {
    pub fn from_bytes(media_type: impl Into<String>, bytes: Bytes) -> Self {
        let sha = sha256_hex(&bytes);
        Content { media_type: media_type.into(), size: Some(bytes.len() as u64), sha256: Some(sha), source: Arc::new(bytes) }
    }

    pub fn from_file(media_type: impl Into<String>, path: PathBuf, size: u64) -> Self {
        Content { media_type: media_type.into(), size: Some(size), sha256: None, source: Arc::new(FileSource(path)) }
    }

    /// Copies the content from `reader` (its [`ContentSource::open_blocking`]) into `out`
    /// (or nowhere), with the checks of [`Content::open_verified`]: its SHA-256 and size.
    pub fn copy_verified(&self, reader: &mut dyn io::Read, out: Option<&mut dyn io::Write>) -> io::Result<(Sha256Hex, u64)> {
        thread_local! {
            /// One buffer per thread, kept: a copy per photo would otherwise allocate and
            /// free (and return to the system) one each time. 64 KiB: every thread that
            /// copies keeps one.
            static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUF.with_borrow_mut(|buf| {
            buf.resize(64 * 1024, 0);
            self.copy_with(buf, reader, out)
        })
    }

    fn copy_with(&self, buf: &mut [u8], reader: &mut dyn io::Read, mut out: Option<&mut dyn io::Write>) -> io::Result<(Sha256Hex, u64)> {
        let mut hasher = Sha256::new();
        let mut read = 0u64;
        loop {
            let n = match reader.read(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            read += n as u64;
            if let Some(size) = self.size
                && read > size
            {
                return Err(io::Error::new(io::ErrorKind::InvalidData, format!("content is longer than the {size} bytes announced")));
            }
            if let Some(o) = &mut out {
                o.write_all(&buf[..n])?;
            }
        }
        let digest = hex::encode(hasher.finalize());
        if let Some(size) = self.size
            && size != read
        {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("content is {read} bytes, expected {size}")));
        }
        if let Some(sha) = &self.sha256
            && *sha != digest
        {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("content SHA-256 is {digest}, expected {sha}")));
        }
        Ok((digest, read))
    }

    /// Opens the stream wrapped in a reader that hashes and counts what passes through
    /// and fails at the end if the size or a known hash does not match.
    pub async fn open_verified(&self) -> io::Result<HashingReader> {
        Ok(HashingReader::new(self.source.open().await?, self.size, self.sha256.clone()))
    }
}

pub fn sha256_hex(data: &[u8]) -> Sha256Hex {
    hex::encode(Sha256::digest(data))
}

/// Hashes and counts the bytes read through it. At end of stream it checks the expected
/// size and hash, turning a mismatch into an `InvalidData` error.
pub struct HashingReader {
    inner: BoxRead,
    hasher: Sha256,
    read: u64,
    expect_size: Option<u64>,
    expect_sha: Option<Sha256Hex>,
    digest: Option<Sha256Hex>,
}

impl HashingReader {
    pub fn new(inner: BoxRead, expect_size: Option<u64>, expect_sha: Option<Sha256Hex>) -> Self {
        HashingReader { inner, hasher: Sha256::new(), read: 0, expect_size, expect_sha, digest: None }
    }

    /// The hash and size, once the stream has been read to its end.
    pub fn finish(&self) -> Option<(Sha256Hex, u64)> {
        self.digest.clone().map(|d| (d, self.read))
    }
}

impl AsyncRead for HashingReader {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match this.inner.as_mut().poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                if new.is_empty() {
                    if this.digest.is_none() {
                        let digest = hex::encode(std::mem::take(&mut this.hasher).finalize());
                        if let Some(size) = this.expect_size
                            && size != this.read
                        {
                            return Poll::Ready(Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!("content is {} bytes, expected {size}", this.read),
                            )));
                        }
                        if let Some(sha) = &this.expect_sha
                            && *sha != digest
                        {
                            return Poll::Ready(Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!("content SHA-256 is {digest}, expected {sha}"),
                            )));
                        }
                        this.digest = Some(digest);
                    }
                } else {
                    this.hasher.update(new);
                    this.read += new.len() as u64;
                    if let Some(size) = this.expect_size
                        && this.read > size
                    {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("content is longer than the {size} bytes announced"),
                        )));
                    }
                }
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}
