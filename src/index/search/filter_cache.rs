//! The filter cache, like Lucene's query cache and Elasticsearch's node query
//! cache: each `filter.FIELD` clause is evaluated once per (segment, filter)
//! into the set of documents it matches, kept in its index's table bounded
//! by bytes (`caches.rs`) (least recently used out first), and from then on read as a
//! docset that scores nothing (Elasticsearch's filter context).
//!
//! A segment never changes once written, so a set keyed by (segment id,
//! canonical filter) holds for as long as the segment lives; it holds the
//! matches among *all* of the segment's documents, deleted or not (Lucene's
//! core cache key). Deletes are applied when the set is read, against the
//! reader's current alive bitset: it must never let a deleted document match,
//! and never hold a lock while it evaluates a filter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TantivyError};

mod docs;

pub(crate) use self::docs::{CachedFilterScorer, MatchingDocs};

/// What an entry costs besides its documents (key, map slot, counters).
const ENTRY_OVERHEAD: usize = 96;

/// One filter's query and its cache key; searched as part of [`AllFilters`].
#[derive(Clone)]
pub(crate) struct CachedFilter {
    /// The filter's field and exact query, as a string: equal keys compute
    /// equal document sets on the same segment.
    key: Arc<str>,
    inner: Arc<dyn Query>,
    /// The index's filter cache the sets are kept in.
    cache: Arc<FilterCache>,
}

impl CachedFilter {
    /// Wraps the query of the filter on `field`, read through `cache`.
    pub(crate) fn new(
        field: &str,
        inner: Box<dyn Query>,
        cache: &Arc<FilterCache>,
    ) -> CachedFilter {
        let key = format!("{field}\u{1f}{inner:?}").into();
        CachedFilter {
            key,
            inner: Arc::from(inner),
            cache: cache.clone(),
        }
    }
}

impl std::fmt::Debug for CachedFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CachedFilter({:?})", self.inner)
    }
}

/// `scoring` with scoring off: a filter is never scored.
fn unscored<'a>(scoring: &'a EnableScoring<'_>) -> EnableScoring<'a> {
    match scoring.searcher() {
        Some(searcher) => EnableScoring::disabled_from_searcher(searcher),
        None => EnableScoring::disabled_from_schema(scoring.schema()),
    }
}

struct CachedFilterWeight {
    key: Arc<str>,
    inner: Box<dyn Weight>,
    cache: Arc<FilterCache>,
}

impl CachedFilterWeight {
    /// The filter's matches in `reader`'s segment, from the cache or
    /// evaluated now (outside any lock: two racing searches may both
    /// evaluate it, and the second insert wins).
    fn matching_docs(&self, reader: &SegmentReader) -> tantivy::Result<Arc<MatchingDocs>> {
        let key = (reader.segment_id(), self.key.clone());
        self.cache.get_or_compute(key, || {
            let mut scorer = self.inner.scorer(reader, 1.0)?;
            Ok(MatchingDocs::collect(&mut *scorer, reader.max_doc()))
        })
    }
}

/// Several filters ANDed: each one's set comes from the cache, and their
/// intersection is computed per segment and search (a word-wise AND), so that
/// an intersection with the text query probes one docset, not one per filter.
#[derive(Clone, Debug)]
pub(crate) struct AllFilters(Vec<CachedFilter>);

impl Query for AllFilters {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.filters_weight(scoring)?))
    }
}

impl AllFilters {
    pub(crate) fn new(filters: Vec<CachedFilter>) -> AllFilters {
        AllFilters(filters)
    }

    /// The filters' weight, which can also hand out each segment's set.
    pub(super) fn filters_weight(
        &self,
        scoring: EnableScoring<'_>,
    ) -> tantivy::Result<AllFiltersWeight> {
        let parts = self
            .0
            .iter()
            .map(|filter| {
                Ok(CachedFilterWeight {
                    key: filter.key.clone(),
                    inner: filter.inner.weight(unscored(&scoring))?,
                    cache: filter.cache.clone(),
                })
            })
            .collect::<tantivy::Result<_>>()?;
        Ok(AllFiltersWeight(parts))
    }
}

pub(super) struct AllFiltersWeight(Vec<CachedFilterWeight>);

impl AllFiltersWeight {
    /// The documents of `reader`'s segment every filter matches (deleted
    /// ones included: apply the alive bitset when reading them).
    pub(super) fn docs(&self, reader: &SegmentReader) -> tantivy::Result<Arc<MatchingDocs>> {
        let sets = self
            .0
            .iter()
            .map(|part| part.matching_docs(reader))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(match <[_; 1]>::try_from(sets) {
            Ok([only]) => only,
            Err(sets) => Arc::new(MatchingDocs::intersect(&sets, reader.max_doc())),
        })
    }
}

impl Weight for AllFiltersWeight {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(CachedFilterScorer::new(
            self.docs(reader)?,
            reader.alive_bitset().cloned(),
        )))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match the filters"
            )));
        }
        Ok(Explanation::new("filters (not scored)", 0.0))
    }
}

type Key = (SegmentId, Arc<str>);

/// What a table of [`FilterCache`] can hold: a value that knows its size.
pub(crate) trait CachedValue {
    /// Bytes the value takes (its heap included).
    fn bytes(&self) -> usize;
}

impl CachedValue for MatchingDocs {
    fn bytes(&self) -> usize {
        MatchingDocs::bytes(self)
    }
}

struct Entry<V> {
    docs: Arc<V>,
    bytes: usize,
    last_used: u64,
}

/// A table of document sets (or other per-segment facts, `V`) bounded by
/// bytes: when an insert passes the budget, the least recently used entries
/// go until a quarter of it is free (entries of merged-away segments are
/// never used again, so they go first).
pub(crate) struct FilterCache<V = MatchingDocs> {
    budget: usize,
    table: Mutex<Table<V>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

struct Table<V> {
    entries: FxHashMap<Key, Entry<V>>,
    bytes: usize,
    clock: u64,
}

/// How the cache has been used, for tests and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FilterCacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
    pub bytes: usize,
}

impl<V: CachedValue> FilterCache<V> {
    pub(crate) fn with_budget(budget: usize) -> FilterCache<V> {
        FilterCache {
            budget,
            table: Mutex::new(Table {
                entries: FxHashMap::default(),
                bytes: 0,
                clock: 0,
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table<V>> {
        // A panic while holding the lock leaves a consistent table (every
        // change is one map call plus a counter): keep using it.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &Key) -> Option<Arc<V>> {
        let mut table = self.lock();
        table.clock += 1;
        let now = table.clock;
        let found = table.entries.get_mut(key).map(|entry| {
            entry.last_used = now;
            entry.docs.clone()
        });
        drop(table);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The value under `key`, or the one `compute` makes (outside any lock:
    /// two racing searches may both compute it, and the second insert wins).
    fn get_or_compute(
        &self,
        key: Key,
        compute: impl FnOnce() -> tantivy::Result<V>,
    ) -> tantivy::Result<Arc<V>> {
        if let Some(found) = self.get(&key) {
            return Ok(found);
        }
        let docs = Arc::new(compute()?);
        self.insert(key, docs.clone());
        Ok(docs)
    }

    fn insert(&self, key: Key, docs: Arc<V>) {
        let bytes = docs.bytes() + key.1.len() + ENTRY_OVERHEAD;
        if bytes > self.budget {
            return;
        }
        let mut table = self.lock();
        table.clock += 1;
        let last_used = table.clock;
        let entry = Entry {
            docs,
            bytes,
            last_used,
        };
        if let Some(replaced) = table.entries.insert(key, entry) {
            table.bytes -= replaced.bytes;
        }
        table.bytes += bytes;
        if table.bytes > self.budget {
            let target = self.budget - self.budget / 4;
            let mut by_age: Vec<(u64, Key)> = table
                .entries
                .iter()
                .map(|(key, entry)| (entry.last_used, key.clone()))
                .collect();
            by_age.sort_unstable_by_key(|(used, _)| *used);
            for (_, key) in by_age {
                if table.bytes <= target {
                    break;
                }
                if let Some(evicted) = table.entries.remove(&key) {
                    table.bytes -= evicted.bytes;
                }
            }
        }
    }

    pub(crate) fn stats(&self) -> FilterCacheStats {
        let table = self.lock();
        FilterCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: table.entries.len(),
            bytes: table.bytes,
        }
    }

    /// The value `key` names for `segment`, from this table or computed by
    /// `compute` outside any lock (the corrections and phrase caches).
    pub(crate) fn segment_value(
        &self,
        segment: SegmentId,
        key: &str,
        compute: impl FnOnce() -> tantivy::Result<V>,
    ) -> tantivy::Result<Arc<V>> {
        self.get_or_compute((segment, key.into()), compute)
    }
}

impl FilterCache {
    /// The documents of `segment` that `key` (a typed word, its field and
    /// its edit distance) matches through its corrected forms, from this
    /// table (the corrections cache) or computed by `compute` outside any
    /// lock. Like a filter's set, it holds deleted documents too: read it
    /// through [`CachedFilterScorer`], which applies the alive bitset.
    pub(crate) fn corrected_docs(
        &self,
        segment: SegmentId,
        key: &str,
        compute: impl FnOnce() -> tantivy::Result<MatchingDocs>,
    ) -> tantivy::Result<Arc<MatchingDocs>> {
        self.segment_value(segment, key, compute)
    }
}

#[cfg(test)]
mod tests;
