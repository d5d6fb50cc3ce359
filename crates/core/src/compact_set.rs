//! A set of 64-bit hashes that costs 8 bytes a member once it is large: recent members
//! in a small hash set, older ones in sorted runs (merged two by two as they pile up,
//! like a binary counter). A hash set of a million members would take 18 MiB and, while
//! it grows, 27 MiB; this one takes 8 MiB, and 16 MiB for the moment of its last merge.
//! [`Occurrences`] counts on top of it: how many times each key came, for readers that
//! name a repeat `…#2` (a key that repeats costs a map entry; one seen once, 8 bytes).

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// Members held in the hash set before they are sorted into a run.
const RECENT: usize = 1 << 14;

#[derive(Default)]
pub struct CompactSet {
    recent: HashSet<u64>,
    /// Sorted, each at least twice as long as the next.
    runs: Vec<Vec<u64>>,
}

impl CompactSet {
    /// Adds `h`; false when it was there already.
    pub fn insert(&mut self, h: u64) -> bool {
        if self.runs.iter().any(|r| r.binary_search(&h).is_ok()) || !self.recent.insert(h) {
            return false;
        }
        if self.recent.len() >= RECENT {
            let mut run: Vec<u64> = self.recent.drain().collect();
            run.sort_unstable();
            while self.runs.last().is_some_and(|last| last.len() <= run.len()) {
                let last = self.runs.pop().expect("checked");
                run = merge(&last, &run);
            }
            self.runs.push(run);
            self.recent.shrink_to(RECENT);
        }
        true
    }
}

/// How many times each key has come: a [`CompactSet`] of their 64-bit hashes, and a map
/// of the keys that came again.
pub struct Occurrences<K> {
    seen: CompactSet,
    repeated: HashMap<K, u32>,
}

impl<K> Default for Occurrences<K> {
    fn default() -> Self {
        Occurrences { seen: CompactSet::default(), repeated: HashMap::new() }
    }
}

impl<K: Hash + Eq> Occurrences<K> {
    /// Counts once more the key whose hash is `h` (`key` makes it, asked only when the
    /// hash came before): how many times it has come, this time included. Two keys with
    /// one hash (one time in 2^64) count as a repeat: the second is named as one, never
    /// dropped.
    pub fn count(&mut self, h: u64, key: impl FnOnce() -> K) -> u32 {
        if self.seen.insert(h) {
            return 1;
        }
        let n = self.repeated.entry(key()).or_insert(1);
        *n += 1;
        *n
    }
}

fn merge(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_is_found_again_across_runs() {
        let mut s = CompactSet::default();
        let n = RECENT as u64 * 5 + 123;
        // spread-out values, inserted once each, then every one found again
        let value = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        assert!((0..n).all(|i| s.insert(value(i))));
        assert!(s.runs.len() >= 2, "the members were sorted into runs");
        assert!(s.runs.windows(2).all(|w| w[0].len() > w[1].len()));
        assert!((0..n).all(|i| !s.insert(value(i))));
        assert!(s.insert(value(n)));
    }

    #[test]
    fn occurrences_count_each_key_and_repeats_of_many_cost_one_entry() {
        let mut o = Occurrences::default();
        assert_eq!(o.count(1, || "a"), 1);
        assert_eq!(o.count(2, || "b"), 1);
        assert_eq!(o.count(1, || "a"), 2);
        assert_eq!((0..1000).map(|_| o.count(2, || "b")).last(), Some(1001));
        assert_eq!(o.repeated.len(), 2);
    }
}
