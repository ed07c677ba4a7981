//! The search caches' budgets, from `[search_caches]` in rapport.toml, and
//! what each cache holds now (reported as gauges in `/metrics`).
//!
//! The caches are process-wide: one server serves one data directory, and
//! a rebuilt generation's segments are new keys the old ones make room for.
//! The budgets are read when a cache is first used; the engine sets them
//! when it opens, before any search.
//!
//! It must never hold entries itself: each cache keeps its own, within the
//! budget read here.

use std::sync::OnceLock;

use serde::Deserialize;

/// What each search cache may hold, in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheBudgets {
    /// Each filter's matching documents per segment (`filter_cache.rs`).
    pub filters_mb: usize,
    /// The documents typo corrections match per segment (`fuzzy.rs`).
    pub corrections_mb: usize,
    /// Levenshtein automata, shared by every search of the same word.
    pub automata_mb: usize,
    /// Term ordinals per document of the facet and customer columns
    /// (`doc_ords.rs`), what grouping and facets read.
    pub doc_ords_mb: usize,
}

impl Default for CacheBudgets {
    fn default() -> Self {
        CacheBudgets {
            filters_mb: 64,
            corrections_mb: 32,
            automata_mb: 16,
            doc_ords_mb: 512,
        }
    }
}

static BUDGETS: OnceLock<CacheBudgets> = OnceLock::new();

/// Sets the budgets for this process. The first call wins (a second data
/// directory opened in the same process, as tests do, shares the caches);
/// returns whether `budgets` are the ones in force.
pub fn configure(budgets: CacheBudgets) -> bool {
    *BUDGETS.get_or_init(|| budgets) == budgets
}

pub(super) fn budgets() -> CacheBudgets {
    *BUDGETS.get_or_init(CacheBudgets::default)
}

/// MiB to bytes, saturating.
pub(super) fn bytes(mb: usize) -> usize {
    mb.saturating_mul(1 << 20)
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

/// Every search cache's use, in a fixed order.
pub fn usage() -> Vec<CacheUse> {
    let budgets = budgets();
    let filters = super::filter_cache::stats();
    let corrections = super::filter_cache::corrections_stats();
    let (automata_bytes, automata_entries) = super::fuzzy::kept_automata();
    let (ords_bytes, ords_entries) = super::doc_ords::kept();
    vec![
        CacheUse {
            cache: "filters",
            bytes: filters.bytes,
            budget_bytes: bytes(budgets.filters_mb),
            entries: filters.entries,
            hits: Some(filters.hits),
            misses: Some(filters.misses),
        },
        CacheUse {
            cache: "corrections",
            bytes: corrections.bytes,
            budget_bytes: bytes(budgets.corrections_mb),
            entries: corrections.entries,
            hits: Some(corrections.hits),
            misses: Some(corrections.misses),
        },
        CacheUse {
            cache: "automata",
            bytes: automata_bytes,
            budget_bytes: bytes(budgets.automata_mb),
            entries: automata_entries,
            hits: None,
            misses: None,
        },
        CacheUse {
            cache: "doc_ords",
            bytes: ords_bytes,
            budget_bytes: bytes(budgets.doc_ords_mb),
            entries: ords_entries,
            hits: None,
            misses: None,
        },
    ]
}
