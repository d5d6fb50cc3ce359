//! A ZIP opened for reading at random, holding per entry only where its bytes lie (a few
//! dozen bytes, not the ZIP library's full record), so that an archive of hundreds of
//! thousands of files is listed in little memory and an entry is read on the calling
//! thread. The ZIP library opens and checks the ZIP (every local header against the
//! central directory, no overlapping entries, no hidden local header); then its listing is
//! kept and the library's is dropped. Entries are stored or deflated (the only methods
//! ferry's ZIP library is built with); each entry read checks its size and CRC-32.

use crate::PackageError;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// Where one entry's bytes lie and what they must be (32 bytes: an archive's index holds
/// one per file).
#[derive(Debug, Clone, Copy)]
pub struct ZipEntry {
    pub size: u64,
    data_start: u64,
    packed: u64,
    pub crc32: u32,
    method: Method,
}

impl ZipEntry {
    /// Bytes of [`ZipEntry::encode`].
    pub const ENCODED: usize = 29;

    /// Appends the entry as [`ZipEntry::ENCODED`] bytes (an index kept on disk).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.size.to_le_bytes());
        out.extend_from_slice(&self.data_start.to_le_bytes());
        out.extend_from_slice(&self.packed.to_le_bytes());
        out.extend_from_slice(&self.crc32.to_le_bytes());
        out.push(self.method as u8);
    }

    /// An entry from what [`ZipEntry::encode`] wrote; `None` when `b` is not such bytes.
    pub fn decode(b: &[u8]) -> Option<ZipEntry> {
        let b: &[u8; Self::ENCODED] = b.try_into().ok()?;
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let method = [Method::Stored, Method::Deflated, Method::Encrypted, Method::Other].into_iter().find(|m| *m as u8 == b[28])?;
        Some(ZipEntry {
            size: u64_at(0),
            data_start: u64_at(8),
            packed: u64_at(16),
            crc32: u32::from_le_bytes(b[24..28].try_into().expect("4 bytes")),
            method,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Method {
    Stored,
    Deflated,
    /// Said when the entry is read.
    Encrypted,
    /// A method this build does not read: said when the entry is read.
    Other,
}

/// An open ZIP file, shared by the readers of its entries.
#[derive(Clone)]
pub struct ZipFile {
    file: Arc<File>,
}

impl ZipFile {
    /// Opens and checks the ZIP at `path`, handing each entry to `each` in central
    /// directory order: its index, name, whether it is a folder or a link, its size and
    /// packed size, and where it lies. `each` may stop the listing with an error.
    pub fn open(
        path: &std::path::Path,
        mut each: impl FnMut(usize, &str, Kind, u64, ZipEntry) -> Result<(), PackageError>,
    ) -> Result<ZipFile, PackageError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| PackageError::io(format!("cannot open {name}"), e))?;
        let len = file.metadata().map_err(|e| PackageError::io(&name, e))?.len();
        let file = Arc::new(file);
        let shared = crate::fs::SharedFile::new(file.clone(), len);
        let mut archive =
            zip::ZipArchive::new(shared).map_err(|e| PackageError::invalid(&name, format!("not a readable ZIP file: {e}")))?;
        // the ZIP library keeps only the last of two entries with one name: refuse them
        if archive.has_duplicate_names() {
            return Err(PackageError::invalid(&name, "the ZIP holds two entries with the same name (a tampered package?)"));
        }
        // every local header must match its central directory entry, no two entries may
        // share data, and no local header may hide outside the central directory
        archive
            .validate_header_consistency()
            .map_err(|e| PackageError::invalid(&name, format!("the ZIP's entries are inconsistent (a tampered package?): {e}")))?;
        let count = archive.len();
        for i in 0..count {
            let entry = archive.by_index_raw(i).map_err(|e| PackageError::invalid(&name, format!("entry {i}: {e}")))?;
            let entry_name = entry.name().map_err(|e| PackageError::invalid(&name, format!("entry {i}: {e}")))?;
            let kind = if entry.is_symlink() {
                Kind::Link
            } else if entry.is_dir() {
                Kind::Folder
            } else {
                Kind::File
            };
            let method = match entry.compression() {
                _ if entry.encrypted() => Method::Encrypted,
                zip::CompressionMethod::Stored => Method::Stored,
                zip::CompressionMethod::Deflated => Method::Deflated,
                _ => Method::Other,
            };
            // known once the local headers were checked above
            let data_start = entry
                .data_start()
                .ok_or_else(|| PackageError::invalid(&*entry_name, "where its data starts is not known (a damaged ZIP?)"))?;
            let at = ZipEntry { size: entry.size(), crc32: entry.crc32(), data_start, packed: entry.compressed_size(), method };
            let packed = at.packed;
            let entry_name = entry_name.to_string();
            drop(entry);
            each(i, &entry_name, kind, packed, at)?;
        }
        Ok(ZipFile { file })
    }

    /// Reads one entry: exactly its size, its CRC-32 checked at the end (`path` names it
    /// in errors).
    pub fn open_entry(&self, path: &str, at: &ZipEntry) -> Result<Box<dyn Read + Send>, PackageError> {
        let raw = Span { file: self.file.clone(), pos: at.data_start, end: at.data_start.saturating_add(at.packed) };
        let inner: Box<dyn Read + Send> = match at.method {
            // a small buffer for small reads (a large read passes it by); the decoder
            // holds its own input buffer
            Method::Stored => Box::new(io::BufReader::with_capacity(8 << 10, raw)),
            Method::Deflated => Box::new(flate2::read::DeflateDecoder::new(raw)),
            Method::Encrypted => {
                return Err(PackageError::invalid(
                    path,
                    "cannot read this ZIP entry: it is encrypted (ferry reads ZIP entries that are not)",
                ));
            }
            Method::Other => {
                return Err(PackageError::invalid(
                    path,
                    "cannot read this ZIP entry: it is compressed with a method ferry does not read (only stored and deflated)",
                ));
            }
        };
        Ok(Box::new(Checked {
            inner,
            path: path.to_owned(),
            want_size: at.size,
            want_crc: at.crc32,
            read: 0,
            crc: crc32fast::Hasher::new(),
        }))
    }
}

/// What a ZIP entry is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    File,
    Folder,
    Link,
}

/// Bytes `pos..end` of a file, read at positions (so that readers share the file): one
/// entry's packed bytes, or a stretch of a scratch file.
pub struct Span {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Span {
    pub fn new(file: Arc<File>, pos: u64, end: u64) -> Span {
        Span { file, pos, end }
    }
}

impl Read for Span {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        if left == 0 {
            return Ok(0);
        }
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let got = self.file.read_at(&mut buf[..n], self.pos)?;
        if got == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file ends before the bytes it should hold (a cut-off file?)"));
        }
        self.pos += got as u64;
        Ok(got)
    }
}

/// An entry's bytes, held to its recorded size and CRC-32.
struct Checked {
    inner: Box<dyn Read + Send>,
    path: String,
    want_size: u64,
    want_crc: u32,
    read: u64,
    crc: crc32fast::Hasher,
}

impl Read for Checked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let bad = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
        let n = self.inner.read(buf).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path)))?;
        self.read += n as u64;
        if self.read > self.want_size {
            return Err(bad(format!("{}: unpacks to more than the {} bytes its header says", self.path, self.want_size)));
        }
        self.crc.update(&buf[..n]);
        if n == 0 || self.read == self.want_size {
            if self.read < self.want_size {
                return Err(bad(format!("{}: ends after {} of its {} bytes (a damaged ZIP?)", self.path, self.read, self.want_size)));
            }
            let crc = self.crc.clone().finalize();
            if crc != self.want_crc {
                return Err(bad(format!("{}: its bytes do not match their CRC-32 (a damaged ZIP?)", self.path)));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A ZIP of one stored and one deflated entry.
    fn write_zip(path: &std::path::Path, body: &[u8]) {
        let mut z = zip::ZipWriter::new(File::create(path).unwrap());
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        z.start_file("a/stored.bin", stored).unwrap();
        z.write_all(body).unwrap();
        let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        z.start_file("a/deflated.txt", deflated).unwrap();
        z.write_all(&body.repeat(4)).unwrap();
        z.finish().unwrap();
    }

    fn entries(path: &std::path::Path) -> (ZipFile, Vec<(String, ZipEntry)>) {
        let mut listed = Vec::new();
        let zip = ZipFile::open(path, |_, name, kind, _, at| {
            assert_eq!(kind, Kind::File);
            listed.push((name.to_owned(), at));
            Ok(())
        })
        .unwrap();
        (zip, listed)
    }

    fn read(zip: &ZipFile, (name, at): &(String, ZipEntry)) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        zip.open_entry(name, at).unwrap().read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn entries_read_back_and_a_changed_byte_fails_its_crc() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.zip");
        let body: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
        write_zip(&p, &body);
        let (zip, listed) = entries(&p);
        assert_eq!(listed.len(), 2);
        assert_eq!(read(&zip, &listed[0]).unwrap(), body);
        assert_eq!(read(&zip, &listed[1]).unwrap(), body.repeat(4));

        // one byte of the stored entry changed on disk: the central directory still agrees
        // with its local header, so the ZIP opens, and the entry fails when read
        let mut bytes = std::fs::read(&p).unwrap();
        let at = listed[0].1.data_start as usize + 1234;
        bytes[at] ^= 0xff;
        std::fs::write(&p, &bytes).unwrap();
        let (zip, listed) = entries(&p);
        let e = read(&zip, &listed[0]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("CRC-32") && e.to_string().contains("a/stored.bin"), "{e}");
    }

    /// An entry written to bytes (an archive's index on disk) reads back as the same
    /// entry, still reading its bytes; bytes that are not an entry are refused.
    #[test]
    fn an_entry_encoded_and_decoded_still_reads() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.zip");
        write_zip(&p, b"some bytes some bytes");
        let (zip, listed) = entries(&p);
        for (name, at) in &listed {
            let mut b = Vec::new();
            at.encode(&mut b);
            assert_eq!(b.len(), ZipEntry::ENCODED);
            let back = ZipEntry::decode(&b).unwrap();
            assert_eq!(
                (back.size, back.crc32, back.data_start, back.packed, back.method),
                (at.size, at.crc32, at.data_start, at.packed, at.method)
            );
            assert_eq!(read(&zip, &(name.clone(), back)).unwrap(), read(&zip, &(name.clone(), *at)).unwrap());
            let mut bad = b.clone();
            bad[28] = 9;
            assert!(ZipEntry::decode(&bad).is_none());
            assert!(ZipEntry::decode(&b[..28]).is_none());
        }
    }

    #[test]
    fn an_entry_that_says_it_is_longer_than_its_bytes_fails() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.zip");
        write_zip(&p, b"hello, world");
        let (zip, listed) = entries(&p);
        let (name, mut at) = listed[1].clone();
        at.size += 10;
        let e = read(&zip, &(name.clone(), at)).unwrap_err();
        assert!(e.to_string().contains("ends after"), "{e}");
        at.size -= 20;
        let e = read(&zip, &(name, at)).unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
    }
}
