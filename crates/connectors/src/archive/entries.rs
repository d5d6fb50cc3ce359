//! Every file of an archive by its path, in little memory. Sorted by path, the paths are
//! front-coded: each one is the length of the prefix it shares with the one before, then
//! the rest of it, and every [`RESTART`]th path is written whole, so that a path is found
//! by binary search over the whole ones and a short walk after. Beside them, a list of
//! fixed-size entries (where the file lies, its size and CRC-32). A Takeout's paths share
//! most of their bytes with their neighbours (`Takeout/Google Photos/Photos from 2021/...`),
//! so an archive of hundreds of thousands of files costs a few dozen bytes a file; a file
//! is known after the search by its number in the list.

use ferry_package::ZipEntry;
use std::cmp::Ordering;

/// Every this many paths, one is written whole.
const RESTART: usize = 16;

/// One file of the archive (40 bytes).
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
    pub fn zip(&self) -> Option<&ZipEntry> {
        match &self.at {
            At::Zip(z) => Some(z),
            At::Other { .. } => None,
        }
    }
}

#[derive(Default)]
pub struct Entries {
    /// The front-coded paths, in order.
    names: Vec<u8>,
    /// Where each whole path begins in `names`: path number `k * RESTART`.
    restarts: Vec<usize>,
    list: Vec<Entry>,
}

/// Builds [`Entries`]: files added in any order, then sorted once. The paths are held in
/// pieces of [`CHUNK`] bytes, never moved as they grow, and a part's builder joins the
/// whole archive's without its paths being copied.
#[derive(Default)]
pub struct Builder {
    chunks: Vec<String>,
    /// Each file: its path's piece, start and length; the file.
    list: Vec<(u32, u32, u32, Entry)>,
    /// The files' bytes together.
    pub bytes: u64,
}

/// Bytes of one piece of a [`Builder`]'s paths (a longer path has a piece of its own).
const CHUNK: usize = 1 << 20;

impl Builder {
    pub fn add(&mut self, path: &str, part: usize, size: u64, crc32: Option<u32>, zip: Option<ZipEntry>) {
        if self.chunks.last().is_none_or(|c| c.capacity() - c.len() < path.len()) {
            self.chunks.push(String::with_capacity(CHUNK.max(path.len())));
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
        self.bytes = self.bytes.saturating_add(size);
    }

    /// Takes in another builder's files (a part's), as they are.
    pub fn append(&mut self, other: Builder) {
        let shift = u32::try_from(self.chunks.len()).expect("pieces are counted in u32");
        self.chunks.extend(other.chunks);
        self.list.extend(other.list.into_iter().map(|(c, s, l, e)| (c + shift, s, l, e)));
        self.bytes = self.bytes.saturating_add(other.bytes);
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The index, and the files a later part holds again under a path an earlier part
    /// already has (each with that part).
    pub fn finish(self) -> (Entries, Vec<(String, u64, usize)>) {
        let Builder { chunks, mut list, .. } = self;
        let name = |(chunk, start, len, _): &(u32, u32, u32, Entry)| {
            let (start, len) = (*start as usize, *len as usize);
            &chunks[*chunk as usize][start..start + len]
        };
        // of two files with one path, the earlier part's comes first
        list.sort_unstable_by(|a, b| name(a).cmp(name(b)).then(a.3.part.cmp(&b.3.part)));
        let mut repeated = Vec::new();
        let mut out = Entries { names: Vec::new(), restarts: Vec::new(), list: Vec::with_capacity(list.len()) };
        let mut last: Option<&str> = None;
        for e in &list {
            let path = name(e);
            if last == Some(path) {
                repeated.push((path.to_owned(), e.3.size(), e.3.part as usize));
                continue;
            }
            out.push(path, last.unwrap_or(""), e.3);
            last = Some(path);
        }
        out.names.shrink_to_fit();
        out.restarts.shrink_to_fit();
        out.list.shrink_to_fit();
        (out, repeated)
    }
}

/// A number as LEB128.
fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> usize {
    let (mut n, mut shift) = (0usize, 0);
    loop {
        let b = bytes[*at];
        *at += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            return n;
        }
        shift += 7;
    }
}

impl Entries {
    /// Appends `path` (after `before` in order).
    fn push(&mut self, path: &str, before: &str, e: Entry) {
        let shared = if self.list.len().is_multiple_of(RESTART) {
            self.restarts.push(self.names.len());
            0
        } else {
            let mut n = path.bytes().zip(before.bytes()).take_while(|(a, b)| a == b).count();
            // a path is cut only between characters
            while !path.is_char_boundary(n) {
                n -= 1;
            }
            n
        };
        put_varint(&mut self.names, shared);
        put_varint(&mut self.names, path.len() - shared);
        self.names.extend_from_slice(&path.as_bytes()[shared..]);
        self.list.push(e);
    }

    /// Decodes the path at `*at` after `buf` (the path before it), moving `*at` past it.
    fn next_path(&self, at: &mut usize, buf: &mut String) {
        let shared = get_varint(&self.names, at);
        let rest = get_varint(&self.names, at);
        buf.truncate(shared);
        // written from whole paths, cut between characters
        buf.push_str(std::str::from_utf8(&self.names[*at..*at + rest]).expect("paths are UTF-8"));
        *at += rest;
    }

    /// Whole path number `k * RESTART`, where it lies.
    fn restart(&self, k: usize) -> &str {
        let mut at = self.restarts[k];
        let shared = get_varint(&self.names, &mut at);
        debug_assert_eq!(shared, 0);
        let len = get_varint(&self.names, &mut at);
        std::str::from_utf8(&self.names[at..at + len]).expect("paths are UTF-8")
    }

    /// The number of the file at `path` (its place in path order).
    pub fn position(&self, path: &str) -> Option<usize> {
        // the last whole path at or before `path`
        let (mut lo, mut hi) = (0, self.restarts.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.restart(mid).cmp(path) {
                Ordering::Equal => return Some(mid * RESTART),
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
            }
        }
        let k = lo.checked_sub(1)?;
        let mut at = self.restarts[k];
        let mut buf = String::new();
        self.next_path(&mut at, &mut buf);
        for i in k * RESTART + 1..((k + 1) * RESTART).min(self.list.len()) {
            self.next_path(&mut at, &mut buf);
            match buf.as_str().cmp(path) {
                Ordering::Less => continue,
                Ordering::Equal => return Some(i),
                Ordering::Greater => return None,
            }
        }
        None
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.position(path).map(|i| &self.list[i])
    }

    pub fn contains_key(&self, path: &str) -> bool {
        self.position(path).is_some()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The path of file number `i`.
    pub fn path(&self, i: usize) -> String {
        let k = i / RESTART;
        let mut at = self.restarts[k];
        let mut buf = String::new();
        for _ in k * RESTART..=i {
            self.next_path(&mut at, &mut buf);
        }
        buf
    }

    /// File number `i`.
    pub fn nth(&self, i: usize) -> &Entry {
        &self.list[i]
    }

    /// Every path, in order.
    pub fn keys(&self) -> impl Iterator<Item = String> + '_ {
        self.iter().map(|(p, _)| p)
    }

    /// Every file with its path, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (String, &Entry)> + '_ {
        let mut at = 0;
        let mut buf = String::new();
        self.list.iter().map(move |e| {
            self.next_path(&mut at, &mut buf);
            (buf.clone(), e)
        })
    }
}

impl std::ops::Index<&str> for Entries {
    type Output = Entry;

    fn index(&self, path: &str) -> &Entry {
        self.get(path).unwrap_or_else(|| panic!("{path}: not a file of the archive"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_found_by_path_and_a_later_parts_copy_is_a_repeat() {
        let mut b = Builder::default();
        b.add("b/2.jpg", 0, 2, Some(7), None);
        b.add("a.html", 0, 1, None, None);
        b.add("b/1.jpg", 1, 3, None, None);
        b.add("a.html", 1, 5, None, None);
        let (e, repeated) = b.finish();
        assert_eq!(e.keys().collect::<Vec<_>>(), ["a.html", "b/1.jpg", "b/2.jpg"]);
        assert_eq!(e.get("a.html").map(|e| (e.part, e.size())), Some((0, 1)));
        assert_eq!(e["b/2.jpg"].crc32(), Some(7));
        assert_eq!(e.position("b/1.jpg"), Some(1));
        assert!(!e.contains_key("b"));
        assert!(!e.contains_key("c"));
        assert!(!e.contains_key(""));
        assert_eq!(repeated, [("a.html".to_owned(), 5, 1)]);
    }

    /// Many paths over several restarts, sharing prefixes cut inside a character: each
    /// is found at its place and comes back whole, and what is not there is not found.
    #[test]
    fn front_coded_paths_come_back_whole_across_restarts() {
        let mut paths: Vec<String> = (0..200).map(|i| format!("Takeout/Google Photos/Fotos de 2021/IMG_{i:04}.jpg")).collect();
        paths.extend((0..40).map(|i| format!("Takeout/Fotos/é{}ü/{i}", if i % 2 == 0 { "à" } else { "á" })));
        paths.push("Z".into());
        paths.push("".into());
        let mut b = Builder::default();
        for (i, p) in paths.iter().enumerate().rev() {
            b.add(p, 0, i as u64, None, None);
        }
        let (e, repeated) = b.finish();
        assert!(repeated.is_empty());
        paths.sort();
        assert_eq!(e.keys().collect::<Vec<_>>(), paths);
        for (i, p) in paths.iter().enumerate() {
            assert_eq!(e.position(p), Some(i), "{p}");
            assert_eq!(e.path(i), *p);
            let missing = format!("{p}~");
            assert!(!e.contains_key(&missing), "{missing}");
        }
        assert!(e.names.len() < paths.iter().map(|p| p.len()).sum::<usize>() / 3, "{} bytes", e.names.len());
        assert_eq!(std::mem::size_of::<Entry>(), 40);
    }
}
