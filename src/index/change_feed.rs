//! What the index reads to stay derived from the source of truth: the
//! ordered log of record changes. The engine implements it for the store;
//! tests may implement it over anything.
//!
//! It must never write: the index only follows the feed, it never changes it.

use crate::record::Change;

/// The source of truth's change log, read in sequence order.
pub trait ChangeFeed {
    /// Up to `limit` changes with a sequence number above `after`, oldest
    /// first.
    fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Change>, ChangeFeedError>;

    /// How many records exist now (for progress reports).
    fn record_count(&self) -> Result<u64, ChangeFeedError>;

    /// The sequence number of the latest change now. Every change written
    /// later gets a greater one; at or below it, the log holds at most one
    /// change per record (a record's earlier change leaves the log when it
    /// changes again).
    fn last_seq(&self) -> Result<u64, ChangeFeedError>;
}

/// A change feed that could not be read; the cause is kept as the source.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ChangeFeedError(#[source] pub Box<dyn std::error::Error + Send + Sync>);
