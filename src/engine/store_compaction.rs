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

    /// Rewrites the store file when an erasure or a retention purge left
    /// erased values in its freed pages (offline commands call it after
    /// erasing; a server does it at its next start). Whether it rewrote.
    pub fn scrub_store_if_pending(&mut self) -> Result<bool, EngineError> {
        if !self.store.scrub_pending()? {
            return Ok(false);
        }
        let path = self.config.store_path();
        self.store.rewrite_file(&path)?;
        Ok(true)
    }
}
