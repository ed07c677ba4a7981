//! The search caches' budgets, from `[search_caches]` in rapport.toml. Each
//! live index sizes its own caches from them (`caches.rs`): two indexes in
//! one process have separate caches, each within its own budgets.
//!
//! It must never hold entries, nor keep budgets for the whole process: it
//! only says what a [`super::caches::SearchCaches`] may hold.

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
    /// Where each phrase searched occurs, per segment (`phrase.rs`): a
    /// Japanese word cut in several tokens is a phrase.
    pub phrases_mb: usize,
}

impl Default for CacheBudgets {
    fn default() -> Self {
        CacheBudgets {
            filters_mb: 64,
            corrections_mb: 32,
            automata_mb: 16,
            doc_ords_mb: 512,
            phrases_mb: 32,
        }
    }
}

/// MiB to bytes, saturating.
pub(crate) fn bytes(mb: usize) -> usize {
    mb.saturating_mul(1 << 20)
}
