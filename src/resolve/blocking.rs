//! Blocking: which pairs of records are compared at all. Each rule puts
//! records sharing a key (an email, a phone, a rare name word…) into one
//! block; every pair inside a block of at most `max` records is a candidate,
//! and the number of pairs each rule produced is reported.
//!
//! It must never score or link: it only proposes pairs.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

/// Blocks by rule and key, each holding the slots of its records; kept in
/// shards by a hash of the key so that each shard is built on its own core.
pub struct Blocks {
    shards: Vec<Shard>,
}

type Shard = HashMap<(&'static str, String), Vec<usize>>;

/// How many shards the blocks are gathered in (a few per core).
const SHARDS: usize = 16;
/// Profiles whose keys one task finds.
const CHUNK: usize = 4_096;
/// Profiles whose keys are found before they are filed in the shards.
const BATCH: usize = 16 * CHUNK;

/// The shard of a block: FNV-1a of its rule and key. Which shard a block
/// lands in changes nothing in the pairs (they are sorted at the end).
fn shard_of(rule: &str, key: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule.bytes().chain([0]).chain(key.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h % SHARDS as u64) as usize
}

impl Default for Blocks {
    fn default() -> Self {
        Blocks {
            shards: (0..SHARDS).map(|_| Shard::new()).collect(),
        }
    }
}

/// One block key found for one record.
type Keyed = (&'static str, String, usize);

impl Blocks {
    #[cfg(test)]
    pub fn add(&mut self, rule: &'static str, key: String, slot: usize) {
        let shard = shard_of(rule, &key);
        self.shards[shard]
            .entry((rule, key))
            .or_default()
            .push(slot);
    }

    /// The blocks of every profile (slots are indices into `profiles`):
    /// `keys` names one profile's blocks. Keys are found on every core, a
    /// chunk of profiles at a time, and each shard of the blocks is filled
    /// on its own core, chunks in order, so every block lists its slots in
    /// ascending order as [`Blocks::add`] called for each profile would.
    /// The profiles go through in batches, so only one batch's keys wait
    /// to be filed at once (all of a million people's were some hundreds
    /// of MB at the pass's peak).
    pub fn of<P: Sync>(
        profiles: &[(usize, P)],
        keys: impl Fn(&P, &mut dyn FnMut(&'static str, String)) + Sync,
    ) -> Blocks {
        Blocks::of_in_batches(profiles, keys, BATCH)
    }

    /// [`Blocks::of`], `batch` profiles (a multiple of [`CHUNK`]) at a time.
    fn of_in_batches<P: Sync>(
        profiles: &[(usize, P)],
        keys: impl Fn(&P, &mut dyn FnMut(&'static str, String)) + Sync,
        batch: usize,
    ) -> Blocks {
        let _span = tracing::debug_span!("block keys", profiles = profiles.len()).entered();
        let mut blocks = Blocks::default();
        for (b, some) in profiles.chunks(batch.max(1)).enumerate() {
            let first = b * batch.max(1);
            let chunks: Vec<Vec<Vec<Keyed>>> = some
                .par_chunks(CHUNK)
                .enumerate()
                .map(|(c, chunk)| {
                    let mut shards: Vec<Vec<Keyed>> = (0..SHARDS).map(|_| Vec::new()).collect();
                    for (i, (_, p)) in chunk.iter().enumerate() {
                        let slot = first + c * CHUNK + i;
                        keys(p, &mut |rule, key| {
                            shards[shard_of(rule, &key)].push((rule, key, slot));
                        });
                    }
                    shards
                })
                .collect();
            let mut by_shard: Vec<Vec<Vec<Keyed>>> = (0..SHARDS)
                .map(|_| Vec::with_capacity(chunks.len()))
                .collect();
            for chunk in chunks {
                for (shard, keyed) in by_shard.iter_mut().zip(chunk) {
                    shard.push(keyed);
                }
            }
            blocks
                .shards
                .par_iter_mut()
                .zip(by_shard)
                .for_each(|(shard, lists)| {
                    for (rule, key, slot) in lists.into_iter().flatten() {
                        shard.entry((rule, key)).or_default().push(slot);
                    }
                });
        }
        blocks
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
        let _span = tracing::debug_span!("block pairs").entered();
        // Blocks are independent: each yields its pairs on any core. The
        // pairs are sorted at the end and the counts are integer sums, so
        // neither depends on which thread took which block.
        let (mut pairs, counts) = self
            .shards
            .into_par_iter()
            .flat_map(|shard| shard.into_par_iter())
            .fold(
                || (Vec::new(), BTreeMap::new()),
                |(mut pairs, mut counts): Found, ((rule, key), mut slots)| {
                    slots.sort_unstable();
                    slots.dedup();
                    if slots.len() < 2 || slots.len() > max {
                        return (pairs, counts);
                    }
                    if sizes
                        .and_then(|s| s.get(rule, &key))
                        .is_some_and(|n| n as usize > max)
                    {
                        return (pairs, counts);
                    }
                    let before = pairs.len();
                    for (x, &a) in slots.iter().enumerate() {
                        for &b in &slots[x + 1..] {
                            pairs.push((a, b));
                        }
                    }
                    *counts.entry(rule).or_default() += pairs.len() - before;
                    (pairs, counts)
                },
            )
            .reduce(
                || (Vec::new(), BTreeMap::new()),
                |(mut pairs, mut counts): Found, (more, more_counts): Found| {
                    pairs.extend(more);
                    for (rule, n) in more_counts {
                        *counts.entry(rule).or_default() += n;
                    }
                    (pairs, counts)
                },
            );
        pairs.par_sort_unstable();
        pairs.dedup();
        (pairs, counts)
    }
}

/// Pairs found so far, and how many each rule produced.
type Found = (Vec<(usize, usize)>, BTreeMap<&'static str, usize>);

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

    #[test]
    fn blocks_gathered_on_every_core_give_the_pairs_one_thread_gives() {
        // More profiles than one chunk, blocks spanning chunks, a record
        // naming one block twice, and blocks too large to compare.
        let profiles: Vec<(usize, u32)> = (0..10_000u32).map(|i| (i as usize, i)).collect();
        let keys = |p: &u32, add: &mut dyn FnMut(&'static str, String)| {
            add("run", (p / 50).to_string());
            add("far", (p % 4_999).to_string());
            add("far", (p % 4_999).to_string());
            add("wide", (p % 20).to_string());
        };
        let mut one_thread = Blocks::default();
        for (slot, (_, p)) in profiles.iter().enumerate() {
            keys(p, &mut |rule, key| one_thread.add(rule, key, slot));
        }
        let expected = one_thread.pairs_sized(100, None);
        let found = Blocks::of(&profiles, keys).pairs_sized(100, None);
        assert_eq!(found, expected);
        // In batches of one chunk: blocks span batches too.
        let batched = Blocks::of_in_batches(&profiles, keys, CHUNK).pairs_sized(100, None);
        assert_eq!(batched, expected);
        assert_eq!(expected.1.get("run"), Some(&(200 * 1_225)));
        assert!(expected.1.get("far").is_some_and(|&n| n >= 4_999));
        assert_eq!(expected.1.get("wide"), None);
    }
}
