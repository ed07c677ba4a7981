//! Per-segment memo tables: facts about one immutable tantivy segment that
//! every search would otherwise recompute — the terms a typo-tolerant word
//! expands to in a field, the stable hash of every customer id in the
//! segment's `customer_id` column, and the least sequence number of each
//! block of its documents (`ranked.rs`).
//!
//! It must never hold anything that depends on a request beyond its key
//! (segment id, field, word, distance): a segment never changes once
//! written, so an entry is true for as long as the segment lives. Entries of
//! merged-away segments are simply no longer asked for; each table is
//! cleared when it grows past its bound. The tables belong to one index
//! (`caches.rs`), never to the process.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::postings::TermInfo;
use tantivy::schema::Field;

/// Entries kept per table before it is cleared (a table entry is small:
/// a few term infos, or 8 bytes per customer of one segment).
const MAX_FUZZY_ENTRIES: usize = 4096;
const MAX_HASH_TABLES: usize = 256;
/// Segments whose least sequence numbers are kept (8 bytes per 1,024
/// documents: 80 kB for 10M).
const MAX_FLOOR_TABLES: usize = 256;

type FuzzyKey = (SegmentId, Field, String, u8);
type Table<K, V> = Mutex<FxHashMap<K, Arc<V>>>;

/// Searchers' customer numbers kept (a reload makes a new searcher).
const MAX_NUMBERINGS: usize = 4;

type Numberings = Mutex<Vec<(Vec<SegmentId>, Arc<CustomerNumbers>)>>;

/// One index's per-segment memo tables.
#[derive(Default)]
pub(crate) struct SegmentTables {
    fuzzy: Table<FuzzyKey, Vec<TermInfo>>,
    hashes: Table<(SegmentId, &'static str), Vec<u64>>,
    floors: Table<SegmentId, Vec<u64>>,
    numberings: Numberings,
}

/// The entry of `table` for `key`, if kept.
fn find<K: Eq + Hash, V>(table: &Table<K, V>, key: &K) -> Option<Arc<V>> {
    table.lock().ok()?.get(key).cloned()
}

/// Keeps `value` for `key` in `table`, which starts again once it holds
/// `bound` entries.
fn keep<K: Eq + Hash, V>(table: &Table<K, V>, key: K, value: &Arc<V>, bound: usize) {
    if let Ok(mut table) = table.lock() {
        if table.len() >= bound {
            table.clear();
        }
        table.insert(key, value.clone());
    }
}

/// The group hash of a term of an id column: `customer` keeps customer ids
/// and record ids apart. Every table and every on-the-fly hash uses this.
pub(crate) fn id_hash(bytes: &[u8], customer: bool) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    customer.hash(&mut h);
    bytes.hash(&mut h);
    h.finish()
}

/// One number per distinct customer id across the segments of a searcher:
/// counting distinct customers over several segments becomes setting bits
/// in one table instead of inserting hashes into sets.
#[derive(Debug, Default)]
pub(crate) struct CustomerNumbers {
    /// How many distinct customer ids the searcher's segments hold.
    pub total: usize,
    by_segment: FxHashMap<SegmentId, Vec<u32>>,
}

impl CustomerNumbers {
    /// The number of each customer-id term ordinal of `segment`.
    pub(crate) fn segment(&self, segment: SegmentId) -> &[u32] {
        self.by_segment
            .get(&segment)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

impl SegmentTables {
    /// The terms of `field` in `segment` within `distance` edits of `word`,
    /// computed by `expand` the first time.
    pub(crate) fn fuzzy_terms(
        &self,
        segment: SegmentId,
        field: Field,
        word: &str,
        distance: u8,
        expand: impl FnOnce() -> tantivy::Result<Vec<TermInfo>>,
    ) -> tantivy::Result<Arc<Vec<TermInfo>>> {
        let key = (segment, field, word.to_string(), distance);
        if let Some(found) = find(&self.fuzzy, &key) {
            return Ok(found);
        }
        let terms = Arc::new(expand()?);
        keep(&self.fuzzy, key, &terms, MAX_FUZZY_ENTRIES);
        Ok(terms)
    }

    /// The hash of every term of `column` (the segment's `column_name` column),
    /// by term ordinal; built in one pass over its dictionary the first time.
    pub(crate) fn ord_hashes(
        &self,
        segment: SegmentId,
        column_name: &'static str,
        column: &StrColumn,
        customer: bool,
    ) -> Arc<Vec<u64>> {
        let key = (segment, column_name);
        if let Some(found) = find(&self.hashes, &key) {
            return found;
        }
        let mut hashes = Vec::with_capacity(column.num_terms());
        if let Ok(mut stream) = column.dictionary().stream() {
            while stream.advance() {
                hashes.push(id_hash(stream.key(), customer));
            }
        }
        let hashes = Arc::new(hashes);
        keep(&self.hashes, key, &hashes, MAX_HASH_TABLES);
        hashes
    }

    /// The least sequence number of each block of `segment`'s documents,
    /// computed by `read` the first time (none when not every document has
    /// one).
    pub(crate) fn seq_floors(
        &self,
        segment: SegmentId,
        read: impl FnOnce() -> Option<Vec<u64>>,
    ) -> Option<Arc<Vec<u64>>> {
        if let Some(found) = find(&self.floors, &segment) {
            return Some(found);
        }
        let floors = Arc::new(read()?);
        keep(&self.floors, segment, &floors, MAX_FLOOR_TABLES);
        Some(floors)
    }

    /// The customer numbering of `searcher`'s segments, built from the
    /// per-segment hash tables the first time this set of segments is seen.
    pub(crate) fn customer_numbers(&self, searcher: &tantivy::Searcher) -> Arc<CustomerNumbers> {
        let numberings = &self.numberings;
        let segments: Vec<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        if let Ok(known) = numberings.lock()
            && let Some((_, found)) = known.iter().find(|(ids, _)| *ids == segments)
        {
            return found.clone();
        }
        let mut numbers: FxHashMap<u64, u32> = FxHashMap::default();
        let mut by_segment = FxHashMap::default();
        for reader in searcher.segment_readers() {
            let Ok(Some(column)) = reader.fast_fields().str("customer_id") else {
                continue;
            };
            let hashes = self.ord_hashes(reader.segment_id(), "customer_id", &column, true);
            let mut ords = Vec::with_capacity(hashes.len());
            for hash in hashes.iter() {
                let next = numbers.len() as u32;
                ords.push(*numbers.entry(*hash).or_insert(next));
            }
            by_segment.insert(reader.segment_id(), ords);
        }
        let built = Arc::new(CustomerNumbers {
            total: numbers.len(),
            by_segment,
        });
        if let Ok(mut known) = numberings.lock() {
            if known.len() >= MAX_NUMBERINGS {
                known.remove(0);
            }
            known.push((segments, built.clone()));
        }
        built
    }
}
