//! Every file of an archive by its path, in little memory: the paths one after another in
//! one string, and beside them a list sorted by path of fixed-size entries (where the file
//! lies, its size and CRC-32). An archive of hundreds of thousands of files costs about its
//! paths' bytes plus some 60 bytes a file; a file is found by binary search and known
//! afterwards by its number in the list.

use ferry_package::ZipEntry;

/// One file of the archive.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    name_start: usize,
    name_len: u32,
    pub part: u32,
    pub size: u64,
    /// CRC-32 of its bytes, where the archive records it (ZIP, and a tar's opening pass):
    /// with the size, what tells two copies of a photo apart without reading them.
    pub crc32: Option<u32>,
    /// Where it lies in a ZIP part.
    pub zip: Option<ZipEntry>,
}

#[derive(Default)]
pub struct Entries {
    names: String,
    list: Vec<Entry>,
}

/// Builds [`Entries`]: files added in any order, then sorted once.
#[derive(Default)]
pub struct Builder {
    names: String,
    list: Vec<Entry>,
}

impl Builder {
    pub fn add(&mut self, path: &str, part: usize, size: u64, crc32: Option<u32>, zip: Option<ZipEntry>) {
        let name_start = self.names.len();
        self.names.push_str(path);
        let name_len = u32::try_from(path.len()).expect("a path under 4 GiB");
        self.list.push(Entry { name_start, name_len, part: part as u32, size, crc32, zip });
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The index, and the files a later part holds again under a path an earlier part
    /// already has (each with that part).
    pub fn finish(self) -> (Entries, Vec<(String, u64, usize)>) {
        let Builder { names, mut list } = self;
        let name = |e: &Entry| &names[e.name_start..e.name_start + e.name_len as usize];
        // stable: of two files with one path, the earlier part's comes first
        list.sort_by(|a, b| name(a).cmp(name(b)).then(a.part.cmp(&b.part)));
        let mut repeated = Vec::new();
        let mut kept: Vec<Entry> = Vec::with_capacity(list.len());
        for e in list {
            match kept.last() {
                Some(last) if name(last) == name(&e) => repeated.push((name(&e).to_owned(), e.size, e.part as usize)),
                _ => kept.push(e),
            }
        }
        kept.shrink_to_fit();
        let mut names = names;
        names.shrink_to_fit();
        (Entries { names, list: kept }, repeated)
    }
}

impl Entries {
    fn name(&self, e: &Entry) -> &str {
        &self.names[e.name_start..e.name_start + e.name_len as usize]
    }

    /// The number of the file at `path` (its place in path order).
    pub fn position(&self, path: &str) -> Option<usize> {
        self.list.binary_search_by(|e| self.name(e).cmp(path)).ok()
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
    pub fn path(&self, i: usize) -> &str {
        self.name(&self.list[i])
    }

    /// File number `i`.
    pub fn nth(&self, i: usize) -> &Entry {
        &self.list[i]
    }

    /// Every path, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|e| self.name(e))
    }

    /// Every file with its path, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.list.iter().map(|e| (self.name(e), e))
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
        assert_eq!(e.get("a.html").map(|e| (e.part, e.size)), Some((0, 1)));
        assert_eq!(e["b/2.jpg"].crc32, Some(7));
        assert_eq!(e.position("b/1.jpg"), Some(1));
        assert!(!e.contains_key("b"));
        assert!(!e.contains_key("c"));
        assert_eq!(repeated, [("a.html".to_owned(), 5, 1)]);
    }
}
