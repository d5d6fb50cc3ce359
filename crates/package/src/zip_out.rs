//! A ZIP written front to back in memory that does not grow with the number of files.
//!
//! The zip crate's writer keeps a record of several hundred bytes for every file until the
//! ZIP is finished (its central directory); a package of a large archive holds hundreds of
//! thousands of files. This writer keeps those records in a scratch file instead (ferry's
//! own, created exclusively and unlinked at once) and copies them to the end of the ZIP
//! when it finishes. It never seeks: every entry is followed by a data descriptor, so it
//! writes into the age encryptor as well as into a file. Every entry carries ZIP64 sizes
//! (an entry's size is not known when it starts); the central directory uses ZIP64 fields
//! only where a value does not fit, and a ZIP64 end record only when the count, size or
//! offset of the directory needs one. The zip crate still reads every package back.

use flate2::Compression;
use flate2::write::DeflateEncoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;
const END: u32 = 0x0605_4b50;
const END64: u32 = 0x0606_4b50;
const LOCATOR64: u32 = 0x0706_4b50;
/// Version 4.5: ZIP64.
const VERSION: u16 = 45;
/// Made on Unix (3), by version 4.5 of the specification.
const MADE_BY: u16 = (3 << 8) | VERSION;
/// A data descriptor follows the data (bit 3); the name is UTF-8 (bit 11).
const FLAGS: u16 = 0x0808;
const STORED: u16 = 0;
const DEFLATED: u16 = 8;
/// A regular file, `rw-r--r--`, in the upper half of the external attributes.
const EXTERNAL: u32 = 0o100644 << 16;
/// Where a 16- or 32-bit field says "see the ZIP64 record".
const MAX16: u64 = 0xFFFF;
const MAX32: u64 = 0xFFFF_FFFF;

/// What the central directory needs of one entry, as the scratch file holds it.
struct Record {
    crc: u32,
    method: u16,
    packed: u64,
    size: u64,
    offset: u64,
    name: String,
}

impl Record {
    fn save(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&self.crc.to_le_bytes())?;
        w.write_all(&self.method.to_le_bytes())?;
        w.write_all(&self.packed.to_le_bytes())?;
        w.write_all(&self.size.to_le_bytes())?;
        w.write_all(&self.offset.to_le_bytes())?;
        w.write_all(&(self.name.len() as u16).to_le_bytes())?;
        w.write_all(self.name.as_bytes())
    }

    /// The next record, or `None` at the end of the scratch file.
    fn load(r: &mut impl BufRead) -> io::Result<Option<Record>> {
        if r.fill_buf()?.is_empty() {
            return Ok(None);
        }
        let mut head = [0u8; 32];
        r.read_exact(&mut head)?;
        let u64_at = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().expect("8 bytes"));
        let mut name = vec![0u8; u16::from_le_bytes([head[30], head[31]]) as usize];
        r.read_exact(&mut name)?;
        Ok(Some(Record {
            crc: u32::from_le_bytes(head[0..4].try_into().expect("4 bytes")),
            method: u16::from_le_bytes([head[4], head[5]]),
            packed: u64_at(6),
            size: u64_at(14),
            offset: u64_at(22),
            name: String::from_utf8(name).map_err(|_| io::Error::other("a scratch record's name is not UTF-8"))?,
        }))
    }
}

/// Counts what is written through it: the offset in the ZIP.
struct Counted<W> {
    inner: W,
    pos: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The entry being written.
struct Open {
    name: String,
    offset: u64,
    data_start: u64,
    crc: crc32fast::Hasher,
    size: u64,
    /// Compressed bytes not yet written out (`None`: stored).
    deflate: Option<DeflateEncoder<Vec<u8>>>,
}

/// A ZIP being written; see the module's comment.
pub(crate) struct ZipOut<W: Write> {
    out: Counted<W>,
    /// The central directory's records, in the scratch file.
    records: BufWriter<File>,
    count: u64,
    open: Option<Open>,
    /// The modification time of every entry.
    time: zip::DateTime,
}

impl<W: Write> ZipOut<W> {
    /// A ZIP written to `out`, which is at `offset` (0 for a new file), every entry
    /// modified at `time`; its records are kept in `scratch`, which must not exist yet (it
    /// is removed at once).
    pub fn new(out: W, offset: u64, scratch: &Path, time: zip::DateTime) -> io::Result<ZipOut<W>> {
        let file = crate::staging::create_new_private(scratch)?;
        std::fs::remove_file(scratch)?;
        Ok(ZipOut {
            out: Counted { inner: out, pos: offset },
            records: BufWriter::with_capacity(64 << 10, file),
            count: 0,
            open: None,
            time,
        })
    }

    /// The modification time of the entries.
    pub fn time(&self) -> zip::DateTime {
        self.time
    }

    /// Starts an entry named `name`, compressed (deflate, level 1) or stored.
    pub fn start(&mut self, name: &str, compress: bool) -> io::Result<()> {
        assert!(self.open.is_none(), "one entry at a time");
        if name.len() > u16::MAX as usize {
            return Err(io::Error::other(format!("a file name of {} bytes is too long for a ZIP", name.len())));
        }
        let offset = self.out.pos;
        let method = if compress { DEFLATED } else { STORED };
        let mut h = Vec::with_capacity(30 + name.len() + 20);
        h.extend_from_slice(&LOCAL.to_le_bytes());
        for v in [VERSION, FLAGS, method, self.time.timepart(), self.time.datepart()] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        // CRC-32 and sizes are in the data descriptor; ZIP64 sizes there (see the extra)
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&(MAX32 as u32).to_le_bytes());
        h.extend_from_slice(&(MAX32 as u32).to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&20u16.to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(&[0u8; 16]);
        self.out.write_all(&h)?;
        self.open = Some(Open {
            name: name.to_owned(),
            offset,
            data_start: self.out.pos,
            crc: crc32fast::Hasher::new(),
            size: 0,
            deflate: compress.then(|| DeflateEncoder::new(Vec::new(), Compression::new(1))),
        });
        Ok(())
    }

    /// Ends the open entry: its data descriptor, and its record in the scratch file.
    pub fn end(&mut self) -> io::Result<()> {
        let open = self.open.take().ok_or_else(|| io::Error::other("no ZIP entry is open"))?;
        let method = match open.deflate {
            Some(d) => {
                self.out.write_all(&d.finish()?)?;
                DEFLATED
            }
            None => STORED,
        };
        let crc = open.crc.finalize();
        let packed = self.out.pos - open.data_start;
        let mut d = Vec::with_capacity(24);
        d.extend_from_slice(&DESCRIPTOR.to_le_bytes());
        d.extend_from_slice(&crc.to_le_bytes());
        d.extend_from_slice(&packed.to_le_bytes());
        d.extend_from_slice(&open.size.to_le_bytes());
        self.out.write_all(&d)?;
        self.push(Record { crc, method, packed, size: open.size, offset: open.offset, name: open.name })
    }

    fn push(&mut self, r: Record) -> io::Result<()> {
        r.save(&mut self.records)?;
        self.count += 1;
        Ok(())
    }

    /// Adds the entries another ZIP of this kind holds, as they are (not compressed again):
    /// `part` is given back by [`ZipOut::into_part`].
    pub fn append(&mut self, part: Part) -> io::Result<()> {
        assert!(self.open.is_none(), "no entry is open");
        let Part { mut file, len, mut records } = part;
        let base = self.out.pos;
        file.seek(SeekFrom::Start(0))?;
        let copied = io::copy(&mut (&mut file).take(len), &mut self.out)?;
        if copied != len {
            return Err(io::Error::other(format!("a part of the package is {copied} bytes, expected {len}")));
        }
        records.seek(SeekFrom::Start(0))?;
        let mut records = BufReader::with_capacity(64 << 10, records);
        while let Some(mut r) = Record::load(&mut records)? {
            r.offset += base;
            self.push(r)?;
        }
        Ok(())
    }

    /// Ends the ZIP: the central directory and the end records; gives back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        assert!(self.open.is_none(), "no entry is open");
        let start = self.out.pos;
        let mut records = self.records.into_inner().map_err(|e| e.into_error())?;
        records.seek(SeekFrom::Start(0))?;
        let mut records = BufReader::with_capacity(64 << 10, records);
        let mut h = Vec::with_capacity(256);
        while let Some(r) = Record::load(&mut records)? {
            h.clear();
            central(&mut h, &r, self.time);
            self.out.write_all(&h)?;
        }
        let size = self.out.pos - start;
        let end64_at = self.out.pos;
        let zip64 = self.count >= MAX16 || size >= MAX32 || start >= MAX32;
        let mut e = Vec::with_capacity(98);
        if zip64 {
            e.extend_from_slice(&END64.to_le_bytes());
            e.extend_from_slice(&44u64.to_le_bytes());
            e.extend_from_slice(&MADE_BY.to_le_bytes());
            e.extend_from_slice(&VERSION.to_le_bytes());
            e.extend_from_slice(&[0u8; 8]);
            for v in [self.count, self.count, size, start] {
                e.extend_from_slice(&v.to_le_bytes());
            }
            e.extend_from_slice(&LOCATOR64.to_le_bytes());
            e.extend_from_slice(&0u32.to_le_bytes());
            e.extend_from_slice(&end64_at.to_le_bytes());
            e.extend_from_slice(&1u32.to_le_bytes());
        }
        e.extend_from_slice(&END.to_le_bytes());
        e.extend_from_slice(&[0u8; 4]);
        let count = self.count.min(MAX16) as u16;
        e.extend_from_slice(&count.to_le_bytes());
        e.extend_from_slice(&count.to_le_bytes());
        e.extend_from_slice(&(size.min(MAX32) as u32).to_le_bytes());
        e.extend_from_slice(&(start.min(MAX32) as u32).to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        self.out.write_all(&e)?;
        self.out.flush()?;
        Ok(self.out.inner)
    }
}

impl ZipOut<BufWriter<File>> {
    /// Stops without the central directory: what was written and the records, for
    /// [`ZipOut::append`] into another ZIP.
    pub fn into_part(self) -> io::Result<Part> {
        assert!(self.open.is_none(), "no entry is open");
        let len = self.out.pos;
        let records = self.records.into_inner().map_err(|e| e.into_error())?;
        let file = self.out.inner.into_inner().map_err(|e| e.into_error())?;
        Ok(Part { file, len, records })
    }
}

impl<W: Write> Write for ZipOut<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let open = self.open.as_mut().ok_or_else(|| io::Error::other("no ZIP entry is open"))?;
        open.crc.update(buf);
        open.size += buf.len() as u64;
        match &mut open.deflate {
            Some(d) => {
                d.write_all(buf)?;
                let pending = d.get_mut();
                if pending.len() >= 64 << 10 {
                    self.out.write_all(pending)?;
                    pending.clear();
                }
            }
            None => self.out.write_all(buf)?,
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A ZIP's entries without their directory, written by one thread to be added to the
/// package by another.
pub(crate) struct Part {
    file: File,
    len: u64,
    records: File,
}

/// One central directory header; ZIP64 fields only for the values that need them.
fn central(h: &mut Vec<u8>, r: &Record, time: zip::DateTime) {
    let mut extra = Vec::new();
    for v in [r.size, r.packed, r.offset] {
        if v >= MAX32 {
            extra.extend_from_slice(&v.to_le_bytes());
        }
    }
    h.extend_from_slice(&CENTRAL.to_le_bytes());
    for v in [MADE_BY, VERSION, FLAGS, r.method, time.timepart(), time.datepart()] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.extend_from_slice(&r.crc.to_le_bytes());
    h.extend_from_slice(&(r.packed.min(MAX32) as u32).to_le_bytes());
    h.extend_from_slice(&(r.size.min(MAX32) as u32).to_le_bytes());
    h.extend_from_slice(&(r.name.len() as u16).to_le_bytes());
    let extra_len = if extra.is_empty() { 0 } else { 4 + extra.len() as u16 };
    h.extend_from_slice(&extra_len.to_le_bytes());
    // comment length, disk, internal attributes
    h.extend_from_slice(&[0u8; 6]);
    h.extend_from_slice(&EXTERNAL.to_le_bytes());
    h.extend_from_slice(&(r.offset.min(MAX32) as u32).to_le_bytes());
    h.extend_from_slice(r.name.as_bytes());
    if !extra.is_empty() {
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        h.extend_from_slice(&extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Kind;
    use crate::zip_entries::ZipFile;

    fn time() -> zip::DateTime {
        zip::DateTime::from_date_and_time(2026, 11, 30, 12, 34, 56).unwrap()
    }

    fn body(n: usize) -> Vec<u8> {
        (0..n as u32).map(|i| (i * 7 % 251) as u8).collect()
    }

    /// Every entry as ferry's own reader gets it (checked by size and CRC-32).
    fn read_back(path: &Path) -> Vec<(String, Vec<u8>)> {
        let mut listed = Vec::new();
        let zip = ZipFile::open(path, |_, name, kind, _, at| {
            assert_eq!(kind, Kind::File);
            listed.push((name.to_owned(), at));
            Ok(())
        })
        .unwrap();
        listed
            .iter()
            .map(|(name, at)| {
                let mut out = Vec::new();
                zip.open_entry(name, at).unwrap().read_to_end(&mut out).unwrap();
                (name.clone(), out)
            })
            .collect()
    }

    /// Python's `zipfile` and Info-ZIP's `unzip` (readers written apart from the zip
    /// crate) test every entry's CRC-32; Python counts them.
    fn other_readers_count(path: &Path) -> usize {
        let unzip = std::process::Command::new("unzip").arg("-tqq").arg(path).output().expect("unzip runs (the test script installs it)");
        assert!(unzip.status.success(), "{}{}", String::from_utf8_lossy(&unzip.stdout), String::from_utf8_lossy(&unzip.stderr));
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(len(z.infolist()))"])
            .arg(path)
            .output()
            .expect("python3 runs (the test script installs it)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
    }

    /// As the package's sink opens one: a part is read back by `append`.
    fn new_zip(path: &Path, scratch: &Path) -> ZipOut<BufWriter<File>> {
        ZipOut::new(BufWriter::new(crate::staging::create_new_private(path).unwrap()), 0, scratch, time()).unwrap()
    }

    fn add(z: &mut ZipOut<impl Write>, name: &str, bytes: &[u8], compress: bool) {
        z.start(name, compress).unwrap();
        for chunk in bytes.chunks(100_000) {
            z.write_all(chunk).unwrap();
        }
        z.end().unwrap();
    }

    #[test]
    fn stored_deflated_empty_and_appended_entries_read_back_in_two_readers() {
        let t = tempfile::tempdir().unwrap();
        let (p, part_path) = (t.path().join("a.zip"), t.path().join("part"));
        let mut z = new_zip(&p, &t.path().join("a.records"));
        let big = body(700_000);
        add(&mut z, "media/IMG_0001.jpg", &big, false);
        add(&mut z, "notes/Ünïcode name.md", &big.repeat(3), true);
        add(&mut z, "empty.txt", b"", true);
        add(&mut z, "empty.bin", b"", false);
        let mut part = new_zip(&part_path, &t.path().join("part.records"));
        add(&mut part, "records/notes.jsonl", b"{\"a\":1}\n", true);
        add(&mut part, "records/raw.bin", &big[..1000], false);
        z.append(part.into_part().unwrap()).unwrap();
        add(&mut z, "manifest.json", b"{}", true);
        z.finish().unwrap();

        let got = read_back(&p);
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "media/IMG_0001.jpg",
                "notes/Ünïcode name.md",
                "empty.txt",
                "empty.bin",
                "records/notes.jsonl",
                "records/raw.bin",
                "manifest.json"
            ]
        );
        assert_eq!(got[0].1, big);
        assert_eq!(got[1].1, big.repeat(3));
        assert!(got[2].1.is_empty() && got[3].1.is_empty());
        assert_eq!(got[5].1, big[..1000]);
        assert_eq!(other_readers_count(&p), 7);

        let mut z = zip::ZipArchive::new(File::open(&p).unwrap()).unwrap();
        let e = z.by_name("notes/Ünïcode name.md").unwrap();
        assert_eq!(e.compression(), zip::CompressionMethod::Deflated);
        assert!(e.compressed_size() < e.size() / 10, "level 1 still compresses: {}", e.compressed_size());
        assert_eq!(e.last_modified(), Some(time()));
        assert_eq!(e.unix_mode(), Some(0o100644));
        drop(e);
        assert_eq!(z.by_name("media/IMG_0001.jpg").unwrap().compression(), zip::CompressionMethod::Stored);
        // the scratch files are gone from the folder already
        let left: Vec<_> = std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }

    #[test]
    fn more_entries_than_a_zip_counts_get_the_zip64_end_record() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("many.zip");
        let mut z = new_zip(&p, &t.path().join("records"));
        let n = 70_000;
        for i in 0..n {
            add(&mut z, &format!("f/{i}"), format!("{i}").as_bytes(), false);
        }
        z.finish().unwrap();
        let bytes = std::fs::read(&p).unwrap();
        let end = &bytes[bytes.len() - 22..];
        assert_eq!(&end[8..10], &[0xff, 0xff], "the 16-bit count says: see ZIP64");
        let got = read_back(&p);
        assert_eq!(got.len(), n);
        assert_eq!(got[n - 1], (format!("f/{}", n - 1), format!("{}", n - 1).into_bytes()));
        assert_eq!(other_readers_count(&p), n);
    }

    #[test]
    fn entries_past_four_gibibytes_get_zip64_offsets() {
        // a sparse file: the ZIP starts 5 GiB in, as a package's last entries do
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("far.zip");
        let start = 5u64 << 30;
        let mut f = File::create(&p).unwrap();
        f.seek(SeekFrom::Start(start)).unwrap();
        let mut z = ZipOut::new(BufWriter::new(f), start, &t.path().join("records"), time()).unwrap();
        add(&mut z, "far/a.txt", &body(5000), true);
        add(&mut z, "far/b.bin", &body(300), false);
        z.finish().unwrap();
        let got = read_back(&p);
        assert_eq!(got, [("far/a.txt".to_owned(), body(5000)), ("far/b.bin".to_owned(), body(300))]);
        assert_eq!(other_readers_count(&p), 2);
    }

    #[test]
    fn a_name_too_long_for_a_zip_is_refused_before_anything_is_written() {
        let t = tempfile::tempdir().unwrap();
        let mut z = ZipOut::new(Vec::new(), 0, &t.path().join("records"), time()).unwrap();
        let e = z.start(&"a".repeat(70_000), false).unwrap_err();
        assert!(e.to_string().contains("too long"), "{e}");
        assert!(z.out.inner.is_empty());
    }

    #[test]
    fn the_scratch_file_is_never_opened_through_a_link() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, b"keep me").unwrap();
        std::os::unix::fs::symlink(&victim, t.path().join("records")).unwrap();
        assert!(ZipOut::new(Vec::new(), 0, &t.path().join("records"), time()).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    }
}
