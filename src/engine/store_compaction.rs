//! Shrinking the store file after a large ingest (see `store::compaction`).
//!
//! It must never be reachable while the engine is shared (a server, a job):
//! it takes the engine by `&mut`, which only its sole owner has.

use super::Compaction;
use super::{EngineError, Rapport};

impl Rapport {
    /// Compacts the store file when a large share of it is free pages (what
    /// a large ingest leaves); a no-op otherwise.
    pub fn compact_store(&mut self) -> Result<Compaction, EngineError> {
        let path = self.config.store_path();
        Ok(self.store.compact_if_wasteful(&path)?)
    }
}
