//! The search caches' budgets, from `[search_caches]` in rapport.toml. The
//! caches are process-wide: one server serves one data directory, and a
//! rebuilt generation's segments are new keys the old ones make room for.
//! The budgets are read when a cache is first used; the engine sets them
//! when it opens, before any search.
//!
//! It must never hold entries: each cache keeps its own, within the budget
//! read here (`caches.rs` reports what they hold).

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
pub(crate) fn configure(budgets: CacheBudgets) -> bool {
    *BUDGETS.get_or_init(|| budgets) == budgets
}

pub(crate) fn budgets() -> CacheBudgets {
    *BUDGETS.get_or_init(CacheBudgets::default)
}

/// MiB to bytes, saturating.
pub(crate) fn bytes(mb: usize) -> usize {
    mb.saturating_mul(1 << 20)
}
