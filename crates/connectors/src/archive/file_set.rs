//! A set of an archive's files by number ([`super::entries::Entries::position`]): one bit
//! each, so that a Takeout's half a million files cost 64 KB however many a set holds.

pub struct FileSet {
    words: Vec<u64>,
}

impl FileSet {
    /// An empty set for an archive of `files` files.
    pub fn for_files(files: usize) -> FileSet {
        FileSet { words: vec![0; files.div_ceil(64)] }
    }

    pub fn contains(&self, i: usize) -> bool {
        self.words.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Puts `i` in or takes it out; `i` is a number of the archive the set was made for.
    pub fn set(&mut self, i: usize, to: bool) {
        let w = &mut self.words[i / 64];
        if to {
            *w |= 1 << (i % 64);
        } else {
            *w &= !(1 << (i % 64));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// The numbers in the set, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(at, &w)| {
            let mut rest = w;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    at * 64 + bit
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_put_in_at_word_edges() {
        let mut s = FileSet::for_files(200);
        assert!(s.is_empty());
        for i in [0, 63, 64, 127, 128, 199] {
            s.set(i, true);
        }
        s.set(64, false);
        s.set(65, false);
        assert_eq!(s.iter().collect::<Vec<_>>(), [0, 63, 127, 128, 199]);
        assert!(s.contains(199) && !s.contains(64) && !s.contains(1000));
        assert_eq!(std::mem::size_of_val(&s.words[..]), 4 * 8);
    }
}
