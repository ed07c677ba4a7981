//! What each search cache holds now, against its budget
//! (`cache_budgets.rs`), reported as gauges in `/metrics`.
//!
//! It must never change a cache: it only reads their sizes and counters.

pub(crate) use super::cache_budgets::{CacheBudgets, configure};
use super::cache_budgets::{budgets, bytes};

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
pub(crate) fn usage() -> Vec<CacheUse> {
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
