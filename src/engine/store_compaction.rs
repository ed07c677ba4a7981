//! Shrinking the store file after a large ingest (see `store::compaction`),
//! and rewriting it after an erasure (see `store::rewrite`).
//!
//! The compaction must never be reachable while the engine is shared (a
//! server, a job): it takes the engine by `&mut`, which only its sole owner
//! has. The rewrite after an erasure (`store::rewrite`) runs while shared.

use super::Compaction;
use super::{EngineError, Rapport};
use crate::store::RewrittenFile;

impl Rapport {
    /// Compacts the store file when a large share of it is free pages (what
    /// a large ingest leaves); a no-op otherwise.
    pub fn compact_store(&mut self) -> Result<Compaction, EngineError> {
        let path = self.config.store_path();
        Ok(self.store.compact_if_wasteful(&path)?)
    }

    /// Rewrites the store file when an erasure or a retention purge left
    /// erased values in its freed pages: an erasure and a retention run call
    /// it before they answer, on a running server too (writers go on while
    /// the file is copied and wait while the copy catches up with them and
    /// is swapped in; readers never wait). Under the ingest lock, so no
    /// pass or erasure writes between the check and the copy; erasures that
    /// queued behind one rewrite find nothing left to do. The rewrite is
    /// audited (`store.rewrite`, with the file's sizes). What it did, if
    /// anything.
    pub fn scrub_store_if_pending(&self) -> Result<Option<RewrittenFile>, EngineError> {
        let _pass = super::lock(&self.ingest_lock);
        if !self.store.scrub_pending()? {
            return Ok(None);
        }
        let rewritten = self.store.rewrite_file(&self.config.store_path())?;
        // Every field of the report, named as it serialises.
        let details = match serde_json::to_value(rewritten) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => serde_json::Map::new(),
        };
        self.store.append_audit(vec![crate::store::NewAudit {
            at: None,
            actor: "rapport".into(),
            action: "store.rewrite".into(),
            customer_id: None,
            targets: Vec::new(),
            outcome: "ok".into(),
            details,
        }])?;
        Ok(Some(rewritten))
    }
}
