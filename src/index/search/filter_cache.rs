//! The filter cache, like Lucene's query cache and Elasticsearch's node query
//! cache: each `filter.FIELD` clause is evaluated once per (segment, filter)
//! into the set of documents it matches, kept in a process-wide table bounded
//! by bytes (least recently used out first), and from then on read as a
//! docset that scores nothing (Elasticsearch's filter context).
//!
//! A segment never changes once written, so a set keyed by (segment id,
//! canonical filter) holds for as long as the segment lives; it holds the
//! matches among *all* of the segment's documents, deleted or not (Lucene's
//! core cache key). Deletes are applied when the set is read, against the
//! reader's current alive bitset: it must never let a deleted document match,
//! and never hold a lock while it evaluates a filter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashMap;
use tantivy::fastfield::AliveBitSet;
use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, TERMINATED, TantivyError};

/// Bytes of cached document sets kept across all segments and filters.
const BUDGET_BYTES: usize = 64 * 1024 * 1024;

/// What an entry costs besides its documents (key, map slot, counters).
const ENTRY_OVERHEAD: usize = 96;

/// A filter query whose matches are cached per segment and that scores 0.
pub struct CachedFilter {
    /// The filter's field and exact query, as a string: equal keys compute
    /// equal document sets on the same segment.
    key: Arc<str>,
    inner: Box<dyn Query>,
}

impl CachedFilter {
    /// Wraps the query of the filter on `field`.
    pub fn new(field: &str, inner: Box<dyn Query>) -> CachedFilter {
        let key = format!("{field}\u{1f}{inner:?}").into();
        CachedFilter { key, inner }
    }
}

impl Clone for CachedFilter {
    fn clone(&self) -> Self {
        CachedFilter {
            key: self.key.clone(),
            inner: self.inner.box_clone(),
        }
    }
}

impl std::fmt::Debug for CachedFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CachedFilter({:?})", self.inner)
    }
}

impl Query for CachedFilter {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        // The filter itself is never scored.
        let unscored = match scoring.searcher() {
            Some(searcher) => EnableScoring::disabled_from_searcher(searcher),
            None => EnableScoring::disabled_from_schema(scoring.schema()),
        };
        Ok(Box::new(CachedFilterWeight {
            key: self.key.clone(),
            inner: self.inner.weight(unscored)?,
        }))
    }
}

struct CachedFilterWeight {
    key: Arc<str>,
    inner: Box<dyn Weight>,
}

impl CachedFilterWeight {
    /// The filter's matches in `reader`'s segment, from the cache or
    /// evaluated now (outside any lock: two racing searches may both
    /// evaluate it, and the second insert wins).
    fn matching_docs(&self, reader: &SegmentReader) -> tantivy::Result<Arc<MatchingDocs>> {
        let key = (reader.segment_id(), self.key.clone());
        if let Some(found) = global().get(&key) {
            return Ok(found);
        }
        let mut scorer = self.inner.scorer(reader, 1.0)?;
        let docs = Arc::new(MatchingDocs::collect(&mut *scorer, reader.max_doc()));
        global().insert(key, docs.clone());
        Ok(docs)
    }
}

impl Weight for CachedFilterWeight {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let docs = self.matching_docs(reader)?;
        Ok(Box::new(CachedFilterScorer::new(
            docs,
            reader.alive_bitset().cloned(),
        )))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match the filter"
            )));
        }
        Ok(Explanation::new("filter (not scored)", 0.0))
    }
}

/// The documents of one segment a filter matches: a sorted list when few
/// match, one bit per document otherwise.
#[derive(Debug, PartialEq)]
pub enum MatchingDocs {
    Sparse(Vec<DocId>),
    Dense { words: Vec<u64>, len: u32 },
}

impl MatchingDocs {
    /// Every document `docs` yields (deleted ones included), for a segment
    /// of `max_doc` documents.
    pub fn collect(docs: &mut dyn DocSet, max_doc: DocId) -> MatchingDocs {
        let mut list = Vec::new();
        let mut doc = docs.doc();
        while doc != TERMINATED {
            list.push(doc);
            doc = docs.advance();
        }
        Self::from_sorted(list, max_doc)
    }

    /// The sorted, distinct `list` in the smaller of the two forms.
    fn from_sorted(list: Vec<DocId>, max_doc: DocId) -> MatchingDocs {
        // 32 bits per listed doc against 1 bit per doc of the segment.
        if list.len() < (max_doc as usize).div_ceil(32) {
            return MatchingDocs::Sparse(list);
        }
        let mut words = vec![0u64; (max_doc as usize).div_ceil(64)];
        for &doc in &list {
            words[doc as usize / 64] |= 1 << (doc % 64);
        }
        MatchingDocs::Dense {
            words,
            len: list.len() as u32,
        }
    }

    /// How many documents match (deleted ones included).
    pub fn len(&self) -> u32 {
        match self {
            MatchingDocs::Sparse(list) => list.len() as u32,
            MatchingDocs::Dense { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        match self {
            MatchingDocs::Sparse(list) => list.capacity() * 4,
            MatchingDocs::Dense { words, .. } => words.capacity() * 8,
        }
    }
}

/// Reads a cached set as a scorer: skips deleted documents, scores 0.
pub struct CachedFilterScorer {
    docs: Arc<MatchingDocs>,
    alive: Option<AliveBitSet>,
    /// Position in a sparse list (unused when dense).
    position: usize,
    doc: DocId,
}

impl CachedFilterScorer {
    pub fn new(docs: Arc<MatchingDocs>, alive: Option<AliveBitSet>) -> CachedFilterScorer {
        let mut scorer = CachedFilterScorer {
            docs,
            alive,
            position: 0,
            doc: 0,
        };
        scorer.doc = scorer.first_at_or_after(0);
        scorer.doc = scorer.skip_deleted(scorer.doc);
        scorer
    }

    /// The first listed document at or after `target`, deleted or not.
    fn first_at_or_after(&mut self, target: DocId) -> DocId {
        match &*self.docs {
            MatchingDocs::Sparse(list) => {
                let rest = &list[self.position.min(list.len())..];
                self.position += rest.partition_point(|&d| d < target);
                list.get(self.position).copied().unwrap_or(TERMINATED)
            }
            MatchingDocs::Dense { words, .. } => {
                let mut word = target as usize / 64;
                let Some(&first) = words.get(word) else {
                    return TERMINATED;
                };
                let mut bits = first & (u64::MAX << (target % 64));
                loop {
                    if bits != 0 {
                        return (word * 64) as DocId + bits.trailing_zeros();
                    }
                    word += 1;
                    match words.get(word) {
                        Some(&next) => bits = next,
                        None => return TERMINATED,
                    }
                }
            }
        }
    }

    /// The next document after `doc` (the current one).
    fn next_after(&mut self, doc: DocId) -> DocId {
        match &*self.docs {
            MatchingDocs::Sparse(list) => {
                self.position += 1;
                list.get(self.position).copied().unwrap_or(TERMINATED)
            }
            MatchingDocs::Dense { .. } => self.first_at_or_after(doc + 1),
        }
    }

    /// `doc`, or the first live document after it.
    fn skip_deleted(&mut self, mut doc: DocId) -> DocId {
        while doc != TERMINATED && self.alive.as_ref().is_some_and(|a| a.is_deleted(doc)) {
            doc = self.next_after(doc);
        }
        doc
    }
}

impl DocSet for CachedFilterScorer {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            let next = self.next_after(self.doc);
            self.doc = self.skip_deleted(next);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc < target {
            let found = self.first_at_or_after(target);
            self.doc = self.skip_deleted(found);
        }
        self.doc
    }

    /// Jumps straight to `target`'s bit in a dense set instead of walking
    /// to the next match: an intersection probes it at the candidates the
    /// text query leads with.
    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        if target >= TERMINATED {
            return SeekDangerResult::SeekLowerBound(TERMINATED);
        }
        if let MatchingDocs::Dense { words, .. } = &*self.docs {
            let Some(word) = words.get(target as usize / 64) else {
                return SeekDangerResult::SeekLowerBound(TERMINATED);
            };
            let listed = word >> (target % 64) & 1 == 1;
            if listed && self.alive.as_ref().is_none_or(|a| a.is_alive(target)) {
                self.doc = target;
                return SeekDangerResult::Found;
            }
            return SeekDangerResult::SeekLowerBound(target + 1);
        }
        let doc = if self.doc < target {
            self.seek(target)
        } else {
            self.doc
        };
        if doc == target {
            SeekDangerResult::Found
        } else {
            SeekDangerResult::SeekLowerBound(doc)
        }
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.docs.len()
    }

    /// A dense set is probed bit by bit, never worth walking before a
    /// sparser docset: it claims the cost of a walk over the whole segment,
    /// so that intersections lead with the text query and probe the filter.
    fn cost(&self) -> u64 {
        match &*self.docs {
            MatchingDocs::Sparse(list) => list.len() as u64,
            MatchingDocs::Dense { words, .. } => words.len() as u64 * 64,
        }
    }
}

impl Scorer for CachedFilterScorer {
    fn score(&mut self) -> Score {
        0.0
    }
}

type Key = (SegmentId, Arc<str>);

struct Entry {
    docs: Arc<MatchingDocs>,
    bytes: usize,
    last_used: u64,
}

/// A table of document sets bounded by bytes: when an insert passes the
/// budget, the least recently used entries go until a quarter of it is free
/// (entries of merged-away segments are never used again, so they go first).
pub struct FilterCache {
    budget: usize,
    table: Mutex<Table>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct Table {
    entries: FxHashMap<Key, Entry>,
    bytes: usize,
    clock: u64,
}

/// How the cache has been used, for tests and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterCacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
    pub bytes: usize,
}

impl FilterCache {
    pub fn with_budget(budget: usize) -> FilterCache {
        FilterCache {
            budget,
            table: Mutex::new(Table::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding the lock leaves a consistent table (every
        // change is one map call plus a counter): keep using it.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &Key) -> Option<Arc<MatchingDocs>> {
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

    fn insert(&self, key: Key, docs: Arc<MatchingDocs>) {
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

    pub fn stats(&self) -> FilterCacheStats {
        let table = self.lock();
        FilterCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: table.entries.len(),
            bytes: table.bytes,
        }
    }
}

/// The process-wide cache every search, facet count, aggregation and export
/// reads its filters through.
fn global() -> &'static FilterCache {
    static CACHE: OnceLock<FilterCache> = OnceLock::new();
    CACHE.get_or_init(|| FilterCache::with_budget(BUDGET_BYTES))
}

/// How the process-wide filter cache has been used so far.
pub fn stats() -> FilterCacheStats {
    global().stats()
}

#[cfg(test)]
#[path = "filter_cache_tests.rs"]
mod tests;
