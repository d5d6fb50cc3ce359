//! Every file of an archive by its path, in memory that does not grow with the archive.
//! The index lies in a scratch file (created unlinked, so nothing is left behind): the
//! files sorted by path in blocks of [`BLOCK`], each path front-coded (the length of the
//! prefix it shares with the one before, then the rest; a block's first path whole), each
//! with its fixed-size entry (where the file lies, its size and CRC-32). Memory holds only
//! each block's first path and where the block lies: a path is found by binary search over
//! those and one read of its block (from the page cache, at a few microseconds). A file is
//! known after the search by its number in path order.
//!
//! The [`Builder`] sorts the files it is given in runs of a few megabytes, each written to
//! a scratch file as soon as it is full, and merges the runs into the index: an archive of
//! a million files is listed in the same few megabytes as one of a thousand.

use ferry_package::{Span, ZipEntry};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// Paths in one block of the index (one read finds a file).
const BLOCK: usize = 16;
/// Bytes of paths and entries a [`Builder`] holds before it writes them as a sorted run.
const SPILL: usize = 4 << 20;
/// Bytes of one piece of a [`Builder`]'s paths (a longer path has a piece of its own).
const CHUNK: usize = 256 << 10;
/// Read buffer of each run while the runs are merged.
const RUN_BUFFER: usize = 16 << 10;

/// One file of the archive.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    at: At,
    pub part: u32,
}

/// Where a file lies: in a ZIP (which records its size and CRC-32), or elsewhere.
#[derive(Debug, Clone, Copy)]
enum At {
    Zip(ZipEntry),
    Other { size: u64, crc32: Option<u32> },
}

impl Entry {
    pub fn size(&self) -> u64 {
        match self.at {
            At::Zip(z) => z.size,
            At::Other { size, .. } => size,
        }
    }

    /// CRC-32 of its bytes, where the archive records it (ZIP, and a tar's opening pass):
    /// with the size, what tells two copies of a photo apart without reading them.
    pub fn crc32(&self) -> Option<u32> {
        match self.at {
            At::Zip(z) => Some(z.crc32),
            At::Other { crc32, .. } => crc32,
        }
    }

    /// Where it lies in a ZIP part.
    pub fn zip(&self) -> Option<ZipEntry> {
        match self.at {
            At::Zip(z) => Some(z),
            At::Other { .. } => None,
        }
    }

    /// Appends the entry's bytes: its part, a tag, then the ZIP entry or size and CRC-32.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.part.to_le_bytes());
        match self.at {
            At::Zip(z) => {
                out.push(2);
                z.encode(out);
            }
            At::Other { size, crc32 } => {
                out.push(u8::from(crc32.is_some()));
                out.extend_from_slice(&size.to_le_bytes());
                out.extend_from_slice(&crc32.unwrap_or(0).to_le_bytes());
            }
        }
    }

    fn decode(r: &mut impl Read) -> io::Result<Entry> {
        let mut head = [0u8; 5];
        r.read_exact(&mut head)?;
        let part = u32::from_le_bytes(head[..4].try_into().expect("4 bytes"));
        let at = match head[4] {
            2 => {
                let mut b = [0u8; ZipEntry::ENCODED];
                r.read_exact(&mut b)?;
                At::Zip(ZipEntry::decode(&b).ok_or_else(|| damaged("a ZIP entry"))?)
            }
            tag @ (0 | 1) => {
                let mut b = [0u8; 12];
                r.read_exact(&mut b)?;
                let crc32 = u32::from_le_bytes(b[8..].try_into().expect("4 bytes"));
                At::Other { size: u64::from_le_bytes(b[..8].try_into().expect("8 bytes")), crc32: (tag == 1).then_some(crc32) }
            }
            _ => return Err(damaged("an entry's tag")),
        };
        Ok(Entry { at, part })
    }
}

fn damaged(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("the archive's index (a scratch file) is damaged at {what}"))
}

/// A number as LEB128.
fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn get_varint(r: &mut impl Read) -> io::Result<usize> {
    let (mut n, mut shift) = (0usize, 0);
    loop {
        let mut b = [0u8];
        r.read_exact(&mut b)?;
        if shift > 56 {
            return Err(damaged("a length"));
        }
        n |= usize::from(b[0] & 0x7f) << shift;
        if b[0] < 0x80 {
            return Ok(n);
        }
        shift += 7;
    }
}

/// Reads `len` bytes of a path onto `buf`.
fn read_path(r: &mut impl Read, buf: &mut String, len: usize) -> io::Result<()> {
    let mut bytes = std::mem::take(buf).into_bytes();
    let start = bytes.len();
    bytes.resize(start + len, 0);
    r.read_exact(&mut bytes[start..])?;
    *buf = String::from_utf8(bytes).map_err(|_| damaged("a path"))?;
    Ok(())
}

thread_local! {
    /// The block this thread read last: its index's id, its number, its bytes.
    static LAST_BLOCK: std::cell::RefCell<(u64, usize, Vec<u8>)> = const { std::cell::RefCell::new((0, 0, Vec::new())) };
}

/// Tells one index from another (for [`LAST_BLOCK`]); 0 is none.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The index: every file by its path, in path order.
pub struct Entries {
    id: u64,
    /// The blocks, one after another.
    file: File,
    /// Where each block starts in `file`, and where the last ends.
    blocks: Vec<u64>,
    /// Each block's first path, whole, one after another.
    firsts: Vec<u8>,
    /// Where each first path starts in `firsts`, and where the last ends.
    first_at: Vec<usize>,
    len: usize,
}

impl Entries {
    /// The first path of block `k`.
    fn first(&self, k: usize) -> &str {
        // written from a whole path
        std::str::from_utf8(&self.firsts[self.first_at[k]..self.first_at[k + 1]]).expect("paths are UTF-8")
    }

    /// Walks block `k`: each file's number, path and entry, until `f` breaks.
    fn walk_block(&self, k: usize, mut f: impl FnMut(usize, &str, Entry) -> ControlFlow<()>) {
        let (start, end) = (self.blocks[k], self.blocks[k + 1]);
        let read = LAST_BLOCK.with_borrow_mut(|last| {
            // a file is looked up several times in a row (claimed, read, its content):
            // the block read last on this thread is read again from here
            if (last.0, last.1) != (self.id, k) {
                last.0 = 0;
                last.2.resize((end - start) as usize, 0);
                self.file.read_exact_at(&mut last.2, start)?;
                (last.0, last.1) = (self.id, k);
            }
            let mut r = last.2.as_slice();
            let mut buf = String::new();
            for i in k * BLOCK..((k + 1) * BLOCK).min(self.len) {
                let shared = get_varint(&mut r)?;
                let rest = get_varint(&mut r)?;
                if shared > buf.len() || !buf.is_char_boundary(shared) {
                    return Err(damaged("a shared prefix"));
                }
                buf.truncate(shared);
                read_path(&mut r, &mut buf, rest)?;
                let e = Entry::decode(&mut r)?;
                if f(i, &buf, e).is_break() {
                    break;
                }
            }
            Ok(())
        });
        // the scratch file is ferry's own, written just before: failing to read it back
        // is the machine's failure, not the archive's
        if let Err(e) = read {
            panic!("cannot read the archive's index back from its scratch file: {e}");
        }
    }

    /// The file at `path`: its number (its place in path order) and entry.
    fn find(&self, path: &str) -> Option<(usize, Entry)> {
        // the last block whose first path is at or before `path`
        let (mut lo, mut hi) = (0, self.blocks.len() - 1);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.first(mid) <= path {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let k = lo.checked_sub(1)?;
        let mut found = None;
        self.walk_block(k, |i, p, e| match p.cmp(path) {
            Ordering::Less => ControlFlow::Continue(()),
            Ordering::Equal => {
                found = Some((i, e));
                ControlFlow::Break(())
            }
            Ordering::Greater => ControlFlow::Break(()),
        });
        found
    }

    /// The number of the file at `path` (its place in path order).
    pub fn position(&self, path: &str) -> Option<usize> {
        self.find(path).map(|(i, _)| i)
    }

    pub fn get(&self, path: &str) -> Option<Entry> {
        self.find(path).map(|(_, e)| e)
    }

    pub fn contains_key(&self, path: &str) -> bool {
        self.find(path).is_some()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// File number `i`: its path and entry.
    fn at(&self, i: usize) -> (String, Entry) {
        assert!(i < self.len, "file {i} of {}", self.len);
        let mut out = None;
        self.walk_block(i / BLOCK, |j, p, e| {
            if j < i {
                return ControlFlow::Continue(());
            }
            out = Some((p.to_owned(), e));
            ControlFlow::Break(())
        });
        out.expect("a block holds its files")
    }

    /// The path of file number `i`.
    pub fn path(&self, i: usize) -> String {
        self.at(i).0
    }

    /// File number `i`.
    pub fn nth(&self, i: usize) -> Entry {
        self.at(i).1
    }

    /// Every path, in order.
    pub fn keys(&self) -> impl Iterator<Item = String> + '_ {
        self.iter().map(|(p, _)| p)
    }

    /// Every file with its path, in path order (a block read at a time).
    pub fn iter(&self) -> impl Iterator<Item = (String, Entry)> + '_ {
        (0..self.blocks.len() - 1).flat_map(|k| {
            let mut files = Vec::with_capacity(BLOCK);
            self.walk_block(k, |_, p, e| {
                files.push((p.to_owned(), e));
                ControlFlow::Continue(())
            });
            files
        })
    }
}

/// Writes [`Entries`] from files given in path order.
struct Writer {
    out: BufWriter<File>,
    at: u64,
    blocks: Vec<u64>,
    firsts: Vec<u8>,
    first_at: Vec<usize>,
    len: usize,
    last: String,
    record: Vec<u8>,
}

impl Writer {
    fn new() -> io::Result<Writer> {
        Ok(Writer {
            out: BufWriter::with_capacity(64 << 10, tempfile::tempfile()?),
            at: 0,
            blocks: Vec::new(),
            firsts: Vec::new(),
            first_at: Vec::new(),
            len: 0,
            last: String::new(),
            record: Vec::new(),
        })
    }

    fn push(&mut self, path: &str, e: Entry) -> io::Result<()> {
        let shared = if self.len.is_multiple_of(BLOCK) {
            self.blocks.push(self.at);
            self.first_at.push(self.firsts.len());
            self.firsts.extend_from_slice(path.as_bytes());
            0
        } else {
            let mut n = path.bytes().zip(self.last.bytes()).take_while(|(a, b)| a == b).count();
            // a path is cut only between characters
            while !path.is_char_boundary(n) {
                n -= 1;
            }
            n
        };
        self.record.clear();
        put_varint(&mut self.record, shared);
        put_varint(&mut self.record, path.len() - shared);
        self.record.extend_from_slice(&path.as_bytes()[shared..]);
        e.encode(&mut self.record);
        self.out.write_all(&self.record)?;
        self.at += self.record.len() as u64;
        self.len += 1;
        self.last.clear();
        self.last.push_str(path);
        Ok(())
    }

    fn finish(mut self) -> io::Result<Entries> {
        self.blocks.push(self.at);
        self.first_at.push(self.firsts.len());
        self.firsts.shrink_to_fit();
        self.blocks.shrink_to_fit();
        self.first_at.shrink_to_fit();
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Entries { id, file, blocks: self.blocks, firsts: self.firsts, first_at: self.first_at, len: self.len })
    }
}

/// A sorted run of files in a scratch file: each its path's length, path and entry.
struct Run {
    file: Arc<File>,
    start: u64,
    end: u64,
}

/// Builds [`Entries`]: files added in any order, held in pieces of [`CHUNK`] bytes until
/// [`SPILL`] bytes are held, then sorted and written as a run; the runs are merged once.
pub struct Builder {
    chunks: Vec<String>,
    /// Each file: its path's piece, start and length; the file.
    list: Vec<(u32, u32, u32, Entry)>,
    /// Bytes held in `chunks` and `list`.
    held: usize,
    spill_at: usize,
    runs: Vec<Run>,
    /// This builder's scratch file (made at the first run) and its length.
    scratch: Option<(Arc<File>, u64)>,
    count: usize,
    /// The files' bytes together.
    pub bytes: u64,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::with_spill(SPILL)
    }
}

/// One run's next file, while the runs are merged: ordered by path, then part, then run.
struct Head {
    path: String,
    entry: Entry,
    run: usize,
}

impl Head {
    fn key(&self) -> (&str, u32, usize) {
        (&self.path, self.entry.part, self.run)
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// Files a later part holds again under a path an earlier part has: each path, size and
/// part.
pub type Repeated = Vec<(String, u64, usize)>;

/// Why [`Builder::finish`] failed.
#[derive(Debug)]
pub enum Failed {
    /// One part holds `.0` twice (part `.1`).
    Twice(String, usize),
    Scratch(io::Error),
}

impl From<io::Error> for Failed {
    fn from(e: io::Error) -> Self {
        Failed::Scratch(e)
    }
}

impl Builder {
    /// A builder that writes a run once it holds `spill_at` bytes.
    fn with_spill(spill_at: usize) -> Builder {
        Builder { chunks: Vec::new(), list: Vec::new(), held: 0, spill_at, runs: Vec::new(), scratch: None, count: 0, bytes: 0 }
    }

    pub fn add(&mut self, path: &str, part: usize, size: u64, crc32: Option<u32>, zip: Option<ZipEntry>) -> io::Result<()> {
        if self.chunks.last().is_none_or(|c| c.capacity() - c.len() < path.len()) {
            let piece = CHUNK.max(path.len());
            self.chunks.push(String::with_capacity(piece));
            self.held += piece;
        }
        let chunk = self.chunks.len() - 1;
        let names = &mut self.chunks[chunk];
        let start = names.len();
        names.push_str(path);
        let at = match zip {
            Some(z) => At::Zip(z),
            None => At::Other { size, crc32 },
        };
        let narrow = |n: usize| u32::try_from(n).expect("a piece is under 4 GiB");
        self.list.push((narrow(chunk), narrow(start), narrow(path.len()), Entry { at, part: narrow(part) }));
        self.held += size_of::<(u32, u32, u32, Entry)>();
        self.count += 1;
        self.bytes = self.bytes.saturating_add(size);
        if self.held >= self.spill_at { self.spill() } else { Ok(()) }
    }

    /// Writes the files held, sorted (by path, then part), as a run (a part's builder,
    /// before it waits for the parts before it).
    pub fn spill(&mut self) -> io::Result<()> {
        if self.list.is_empty() {
            return Ok(());
        }
        let (chunks, list) = (&self.chunks, &mut self.list);
        let name = |(chunk, start, len, _): &(u32, u32, u32, Entry)| {
            let (start, len) = (*start as usize, *len as usize);
            &chunks[*chunk as usize][start..start + len]
        };
        list.sort_unstable_by(|a, b| name(a).cmp(name(b)).then(a.3.part.cmp(&b.3.part)));
        if self.scratch.is_none() {
            self.scratch = Some((Arc::new(tempfile::tempfile()?), 0));
        }
        let (file, end) = self.scratch.as_mut().expect("made above");
        let start = *end;
        // the file is written only here, in order: its own position is its end
        let mut out = BufWriter::with_capacity(64 << 10, &**file);
        let mut record = Vec::new();
        for e in list.iter() {
            record.clear();
            let path = name(e);
            put_varint(&mut record, path.len());
            record.extend_from_slice(path.as_bytes());
            e.3.encode(&mut record);
            out.write_all(&record)?;
            *end += record.len() as u64;
        }
        out.flush()?;
        drop(out);
        self.runs.push(Run { file: file.clone(), start, end: *end });
        self.chunks = Vec::new();
        self.list = Vec::new();
        self.held = 0;
        Ok(())
    }

    /// Takes in another builder's files (a part's).
    pub fn append(&mut self, mut other: Builder) -> io::Result<()> {
        other.spill()?;
        self.runs.append(&mut other.runs);
        self.count += other.count;
        self.bytes = self.bytes.saturating_add(other.bytes);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// The index, and the files a later part holds again under a path an earlier part
    /// already has (each with its size and that part). A path twice in one part fails.
    pub fn finish(mut self) -> Result<(Entries, Repeated), Failed> {
        self.spill()?;
        let mut readers: Vec<BufReader<Span>> =
            self.runs.iter().map(|r| BufReader::with_capacity(RUN_BUFFER, Span::new(r.file.clone(), r.start, r.end))).collect();
        drop(self.runs);
        let next = |r: &mut BufReader<Span>, run: usize| -> io::Result<Option<Head>> {
            if r.fill_buf()?.is_empty() {
                return Ok(None);
            }
            let len = get_varint(r)?;
            let mut path = String::new();
            read_path(r, &mut path, len)?;
            Ok(Some(Head { path, entry: Entry::decode(r)?, run }))
        };
        let mut heap = BinaryHeap::with_capacity(readers.len());
        for (run, r) in readers.iter_mut().enumerate() {
            if let Some(h) = next(r, run)? {
                heap.push(Reverse(h));
            }
        }
        let mut out = Writer::new()?;
        let mut repeated = Vec::new();
        let mut last_part = None;
        while let Some(Reverse(h)) = heap.pop() {
            if out.len > 0 && out.last == h.path {
                if last_part == Some(h.entry.part) {
                    return Err(Failed::Twice(h.path, h.entry.part as usize));
                }
                // of two files with one path, the earlier part's was written
                last_part = Some(h.entry.part);
                repeated.push((h.path.clone(), h.entry.size(), h.entry.part as usize));
            } else {
                out.push(&h.path, h.entry)?;
                last_part = Some(h.entry.part);
            }
            if let Some(n) = next(&mut readers[h.run], h.run)? {
                heap.push(Reverse(n));
            }
        }
        Ok((out.finish()?, repeated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finish(b: Builder) -> (Entries, Repeated) {
        b.finish().unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn files_are_found_by_path_and_a_later_parts_copy_is_a_repeat() {
        let mut b = Builder::default();
        b.add("b/2.jpg", 0, 2, Some(7), None).unwrap();
        b.add("a.html", 0, 1, None, None).unwrap();
        b.add("b/1.jpg", 1, 3, None, None).unwrap();
        b.add("a.html", 1, 5, None, None).unwrap();
        let (e, repeated) = finish(b);
        assert_eq!(e.keys().collect::<Vec<_>>(), ["a.html", "b/1.jpg", "b/2.jpg"]);
        assert_eq!(e.get("a.html").map(|e| (e.part, e.size())), Some((0, 1)));
        assert_eq!(e.get("b/2.jpg").and_then(|e| e.crc32()), Some(7));
        assert_eq!(e.position("b/1.jpg"), Some(1));
        assert!(!e.contains_key("b"));
        assert!(!e.contains_key("c"));
        assert!(!e.contains_key(""));
        assert_eq!(repeated, [("a.html".to_owned(), 5, 1)]);
    }

    /// Many paths over several blocks and several runs, sharing prefixes cut inside a
    /// character, some of them ZIP entries: each is found at its place and comes back
    /// whole with its entry, and what is not there is not found.
    #[test]
    fn paths_come_back_whole_across_blocks_and_runs() {
        let mut paths: Vec<String> = (0..200).map(|i| format!("Takeout/Google Photos/Fotos de 2021/IMG_{i:04}.jpg")).collect();
        paths.extend((0..40).map(|i| format!("Takeout/Fotos/é{}ü/{i}", if i % 2 == 0 { "à" } else { "á" })));
        paths.push("Z".into());
        paths.push("".into());
        let zip = ZipEntry::decode(&[1u8; ZipEntry::ENCODED]).expect("method 1 is deflated");
        // a run every few files
        let mut b = Builder::with_spill(2000);
        for (i, p) in paths.iter().enumerate().rev() {
            b.add(p, i % 3, i as u64, (i % 2 == 0).then_some(i as u32), (i % 5 == 0).then_some(zip)).unwrap();
        }
        assert!(b.runs.len() > 5, "{} runs", b.runs.len());
        let (e, repeated) = finish(b);
        assert!(repeated.is_empty());
        let by_path: std::collections::HashMap<&str, usize> = paths.iter().enumerate().map(|(i, p)| (p.as_str(), i)).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(e.keys().collect::<Vec<_>>(), sorted);
        for (i, p) in sorted.iter().enumerate() {
            assert_eq!(e.position(p), Some(i), "{p}");
            assert_eq!(e.path(i), *p);
            let n = by_path[p.as_str()];
            let got = e.nth(i);
            assert_eq!(got.part as usize, n % 3, "{p}");
            if n.is_multiple_of(5) {
                assert_eq!((got.size(), got.crc32()), (zip.size, Some(zip.crc32)), "{p}");
            } else {
                assert_eq!((got.size(), got.crc32()), (n as u64, n.is_multiple_of(2).then_some(n as u32)), "{p}");
            }
            let missing = format!("{p}~");
            assert!(!e.contains_key(&missing), "{missing}");
        }
        // memory holds a block's first path, not every path
        let whole: usize = paths.iter().map(|p| p.len()).sum();
        assert!(e.firsts.len() < whole / 10, "{} bytes of {whole}", e.firsts.len());
    }

    /// A path twice in one part is refused even when the two copies fall in different
    /// runs; in two parts, the later part's is a repeat.
    #[test]
    fn a_name_twice_in_one_part_fails_across_runs() {
        let mut b = Builder::with_spill(1);
        b.add("a", 0, 1, None, None).unwrap();
        b.add("b", 0, 1, None, None).unwrap();
        b.add("a", 0, 2, None, None).unwrap();
        assert!(b.runs.len() >= 3);
        match b.finish() {
            Err(Failed::Twice(name, 0)) => assert_eq!(name, "a"),
            other => panic!("{:?}", other.map(|(e, r)| (e.len(), r))),
        }
        let mut one = Builder::with_spill(1);
        one.add("a", 1, 9, None, None).unwrap();
        let mut all = Builder::default();
        all.add("a", 0, 1, None, None).unwrap();
        all.append(one).unwrap();
        let (e, repeated) = finish(all);
        assert_eq!((e.len(), e.get("a").map(|e| e.part)), (1, Some(0)));
        assert_eq!(repeated, [("a".to_owned(), 9, 1)]);
    }

    /// A path twice in a later part is refused as in the first; the order in which parts
    /// join does not change which copy wins; two indexes read in turn on one thread do
    /// not mix (each block kept for reading again is its own index's).
    #[test]
    fn later_parts_and_two_indexes_on_one_thread() {
        let mut later = Builder::default();
        later.add("a", 1, 2, None, None).unwrap();
        later.add("a", 1, 3, None, None).unwrap();
        let mut all = Builder::default();
        all.append(later).unwrap();
        all.add("a", 0, 1, None, None).unwrap();
        assert!(matches!(all.finish(), Err(Failed::Twice(name, 1)) if name == "a"));

        let (mut x, mut y) = (Builder::default(), Builder::default());
        let mut part1 = Builder::default();
        part1.add("p", 1, 9, None, None).unwrap();
        x.append(part1).unwrap();
        x.add("p", 0, 1, None, None).unwrap();
        y.add("p", 0, 5, None, None).unwrap();
        let ((x, rx), (y, _)) = (finish(x), finish(y));
        assert_eq!(rx, [("p".to_owned(), 9, 1)]);
        for _ in 0..3 {
            assert_eq!(x.get("p").map(|e| e.size()), Some(1));
            assert_eq!(y.get("p").map(|e| e.size()), Some(5));
        }
    }

    #[test]
    fn an_empty_archive_has_an_empty_index() {
        let (e, repeated) = finish(Builder::default());
        assert_eq!((e.len(), e.keys().count(), repeated.len()), (0, 0, 0));
        assert!(!e.contains_key(""));
    }
}
