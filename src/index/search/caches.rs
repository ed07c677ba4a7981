//! Every cache and pool a search uses, in one struct owned by the live
//! index ([`crate::index::SearchIndex`]): the filter, corrections and
//! phrase tables, the kept automata, the dense doc ordinals, the per-segment memo
//! tables, the search thread pool and the pool of grouped searches'
//! customer tables (`group_slots.rs`). It is sized from `[search_caches]`
//! (`cache_budgets.rs`) and reports each cache's use against its budget as
//! gauges in `/metrics`. A rebuilt generation takes over its live index's
//! caches; two indexes in one process never share entries.
//!
//! It must never change a result: every entry is a fact about one immutable
//! segment, and reading it through the cache or computing it again gives
//! the same answer. Reporting must never change a cache.

use std::sync::Arc;

pub(crate) use super::cache_budgets::CacheBudgets;
use super::cache_budgets::bytes;
use super::doc_ords::DocOrdsCache;
use super::filter_cache::FilterCache;
use super::fuzzy::AutomataCache;
use super::group_slots::SlotPool;
use super::parallel::SearchPool;
use super::phrase::PhraseDocs;
use super::segment_cache::SegmentTables;

/// One index's search caches and pool.
pub(crate) struct SearchCaches {
    budgets: CacheBudgets,
    /// Each filter's matching documents per segment (`filter_cache.rs`).
    pub(crate) filters: Arc<FilterCache>,
    /// The documents typo corrections match per segment (`fuzzy.rs`).
    pub(crate) corrections: Arc<FilterCache>,
    /// Levenshtein automata, shared by every search of the same word.
    pub(crate) automata: AutomataCache,
    /// Where each searched phrase occurs per segment (`phrase.rs`).
    pub(crate) phrases: Arc<FilterCache<PhraseDocs>>,
    /// Term ordinals per document of facet and customer columns.
    pub(crate) doc_ords: DocOrdsCache,
    /// Fuzzy term expansions and customer-id hashes per segment.
    pub(crate) segments: Arc<SegmentTables>,
    /// The threads one search may spread over.
    pub(crate) pool: Arc<SearchPool>,
    /// Grouped searches' per-segment customer tables, for reuse.
    pub(crate) group_slots: Arc<SlotPool>,
}

impl SearchCaches {
    /// Empty caches within `budgets`; the pool starts with the first search.
    pub(crate) fn new(budgets: CacheBudgets) -> SearchCaches {
        SearchCaches {
            budgets,
            filters: Arc::new(FilterCache::with_budget(bytes(budgets.filters_mb))),
            corrections: Arc::new(FilterCache::with_budget(bytes(budgets.corrections_mb))),
            automata: AutomataCache::with_budget(bytes(budgets.automata_mb)),
            phrases: Arc::new(FilterCache::with_budget(bytes(budgets.phrases_mb))),
            doc_ords: DocOrdsCache::with_budget(bytes(budgets.doc_ords_mb)),
            segments: Arc::new(SegmentTables::default()),
            pool: Arc::new(SearchPool::default()),
            group_slots: Arc::new(SlotPool::default()),
        }
    }

    /// Every cache's use now, in a fixed order.
    pub(crate) fn usage(&self) -> Vec<CacheUse> {
        let filters = self.filters.stats();
        let corrections = self.corrections.stats();
        let (automata_bytes, automata_entries) = self.automata.kept();
        let (ords_bytes, ords_entries) = self.doc_ords.kept();
        let phrases = self.phrases.stats();
        let (slots_bytes, slots_entries) = self.group_slots.held();
        vec![
            CacheUse {
                cache: "filters",
                bytes: filters.bytes,
                budget_bytes: bytes(self.budgets.filters_mb),
                entries: filters.entries,
                hits: Some(filters.hits),
                misses: Some(filters.misses),
            },
            CacheUse {
                cache: "corrections",
                bytes: corrections.bytes,
                budget_bytes: bytes(self.budgets.corrections_mb),
                entries: corrections.entries,
                hits: Some(corrections.hits),
                misses: Some(corrections.misses),
            },
            CacheUse {
                cache: "automata",
                bytes: automata_bytes,
                budget_bytes: bytes(self.budgets.automata_mb),
                entries: automata_entries,
                hits: None,
                misses: None,
            },
            CacheUse {
                cache: "doc_ords",
                bytes: ords_bytes,
                budget_bytes: bytes(self.budgets.doc_ords_mb),
                entries: ords_entries,
                hits: None,
                misses: None,
            },
            CacheUse {
                cache: "phrases",
                bytes: phrases.bytes,
                budget_bytes: bytes(self.budgets.phrases_mb),
                entries: phrases.entries,
                hits: Some(phrases.hits),
                misses: Some(phrases.misses),
            },
            CacheUse {
                cache: "group_slots",
                bytes: slots_bytes,
                budget_bytes: super::group_slots::MAX_POOLED_BYTES,
                entries: slots_entries,
                hits: None,
                misses: None,
            },
        ]
    }
}

impl Default for SearchCaches {
    fn default() -> Self {
        SearchCaches::new(CacheBudgets::default())
    }
}

impl std::fmt::Debug for SearchCaches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchCaches")
            .field("budgets", &self.budgets)
            .finish_non_exhaustive()
    }
}

/// One cache's use now.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheUse {
    pub cache: &'static str,
    pub bytes: usize,
    pub budget_bytes: usize,
    pub entries: usize,
    /// Lookups answered from the cache, and those that were not (for the
    /// caches that count them).
    pub hits: Option<u64>,
    pub misses: Option<u64>,
}

#[cfg(test)]
mod tests;
