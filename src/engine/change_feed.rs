//! The store as the index's change feed: the one place where the index
//! layer meets the store.
//!
//! It must never filter or reorder changes: the index must see the log as
//! the store wrote it.

use crate::index::{ChangeFeed, ChangeFeedError};
use crate::record::Change;
use crate::store::Store;

impl ChangeFeed for Store {
    fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Change>, ChangeFeedError> {
        Store::changes_after(self, after, limit).map_err(|e| ChangeFeedError(Box::new(e)))
    }

    fn record_count(&self) -> Result<u64, ChangeFeedError> {
        Store::record_count(self).map_err(|e| ChangeFeedError(Box::new(e)))
    }

    fn last_seq(&self) -> Result<u64, ChangeFeedError> {
        Store::last_seq(self).map_err(|e| ChangeFeedError(Box::new(e)))
    }
}
