//! Blocking: which pairs of records are compared at all. Each rule puts
//! records sharing a key (an email, a phone, a rare name word…) into one
//! block; every pair inside a block of at most `max` records is a candidate,
//! and the number of pairs each rule produced is reported.
//!
//! It must never score or link: it only proposes pairs.

use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub struct Blocks {
    blocks: HashMap<(&'static str, String), Vec<usize>>,
}

impl Blocks {
    pub fn add(&mut self, rule: &'static str, key: String, slot: usize) {
        self.blocks.entry((rule, key)).or_default().push(slot);
    }

    /// The distinct candidate pairs (slot indices, smaller first) of the
    /// blocks of 2 to `max` records, and the pairs each rule produced.
    ///
    /// A block is also skipped when the whole book's block
    /// of the same rule and key (`sizes`) holds more than `max` records: a
    /// subset of the book then compares exactly the pairs a full pass does.
    pub fn pairs_sized(
        self,
        max: usize,
        sizes: Option<&BlockSizes>,
    ) -> (Vec<(usize, usize)>, BTreeMap<&'static str, usize>) {
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        let mut blocks: Vec<_> = self.blocks.into_iter().collect();
        blocks.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for ((rule, key), mut slots) in blocks {
            slots.sort_unstable();
            slots.dedup();
            if slots.len() < 2 || slots.len() > max {
                continue;
            }
            if sizes
                .and_then(|s| s.get(rule, &key))
                .is_some_and(|n| n as usize > max)
            {
                continue;
            }
            for (x, &a) in slots.iter().enumerate() {
                for &b in &slots[x + 1..] {
                    pairs.push((a, b));
                    *counts.entry(rule).or_default() += 1;
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        (pairs, counts)
    }
}

/// How many records of the whole book each block holds, by a hash of its
/// rule and key (records counted once per block).
#[derive(Debug, Default, PartialEq)]
pub struct BlockSizes(HashMap<u64, u32>);

/// A stable 64-bit hash of a block's rule and key.
pub fn block_hash(rule: &str, key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    rule.hash(&mut h);
    key.hash(&mut h);
    h.finish()
}

impl BlockSizes {
    /// Counts one more record in the block `hash`.
    pub fn add_hash(&mut self, hash: u64) {
        *self.0.entry(hash).or_default() += 1;
    }

    /// Takes one record out of the block `hash` (an incremental update);
    /// an empty block is forgotten, as if never counted.
    pub fn remove_hash(&mut self, hash: u64) {
        if let Some(n) = self.0.get_mut(&hash) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.0.remove(&hash);
            }
        }
    }

    pub fn get(&self, rule: &str, key: &str) -> Option<u32> {
        self.0.get(&block_hash(rule, key)).copied()
    }

    pub fn of_hash(&self, hash: u64) -> u32 {
        self.0.get(&hash).copied().unwrap_or(0)
    }
}

/// Whether two lists share a value; `None` when either is empty (missing
/// is neither agreement nor disagreement).
pub fn shares<T: PartialEq>(a: &[T], b: &[T]) -> Option<bool> {
    if a.is_empty() || b.is_empty() {
        None
    } else {
        Some(a.iter().any(|x| b.contains(x)))
    }
}

/// Whether two optional values are equal; `None` when either is missing.
pub fn same<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> Option<bool> {
    Some(a.as_ref()? == b.as_ref()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_give_each_pair_once_and_skip_oversized_blocks() {
        let mut blocks = Blocks::default();
        for slot in [0, 1, 2] {
            blocks.add("email", "a@x.io".into(), slot);
        }
        blocks.add("phone", "+1".into(), 0);
        blocks.add("phone", "+1".into(), 1);
        for slot in 0..5 {
            blocks.add("word", "common".into(), slot);
        }
        let (pairs, counts) = blocks.pairs_sized(4, None);
        assert_eq!(pairs, vec![(0, 1), (0, 2), (1, 2)]);
        assert_eq!(counts.get("email"), Some(&3));
        assert_eq!(counts.get("phone"), Some(&1));
        assert_eq!(counts.get("word"), None, "a block of 5 > 4 is skipped");
    }
}
