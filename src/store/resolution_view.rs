//! The previous resolution seen through one read transaction, for the
//! closure of an incremental plan (`resolve::plan`), which looks up the
//! assignment of every record it reaches and the customers they belong to:
//! thousands of lookups at 1M records, each of which, through
//! [`Store::assignment`] and [`Store::entity`], began its own transaction.
//!
//! It must never write, and never outlive the pass that made it (it holds a
//! read transaction, which keeps the pages it sees alive).

use super::erased_assignments::ERASED_ASSIGNMENTS;
use super::resolution::{ASSIGNMENTS, ENTITIES};
use super::{Store, StoreError, db, read_json};
use crate::resolve::{AssignedIds, Assignment, Entity, EntityLinks, Previous};

/// The stored resolution as of one read transaction.
pub struct ResolutionView {
    assignments: redb::ReadOnlyTable<&'static str, &'static [u8]>,
    /// Erased records' assignments, until the resolution after the erasure.
    erased: redb::ReadOnlyTable<&'static str, &'static [u8]>,
    entities: redb::ReadOnlyTable<&'static str, &'static [u8]>,
}

impl Store {
    /// The stored resolution as it is now, for a plan's many lookups.
    pub fn resolution_view(&self) -> Result<ResolutionView, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        Ok(ResolutionView {
            assignments: txn.open_table(ASSIGNMENTS).map_err(db)?,
            erased: txn.open_table(ERASED_ASSIGNMENTS).map_err(db)?,
            entities: txn.open_table(ENTITIES).map_err(db)?,
        })
    }
}

/// A read that fails is logged and counts as absent, which makes the
/// closure smaller: the warning says so, and the next full pass (a steward
/// override, a larger change, a restart with new settings) puts it right.
/// The only `Previous` over the store, so an erased record's set-aside
/// assignment is seen by every plan.
impl Previous for ResolutionView {
    fn assignment(&self, record: &str) -> Option<Assignment> {
        let read = |table: &redb::ReadOnlyTable<&'static str, &'static [u8]>| {
            read_json(table, record)
                .inspect_err(|e| tracing::warn!(record, error = %e, "reading an assignment"))
                .ok()
                .flatten()
        };
        read(&self.assignments).or_else(|| read(&self.erased))
    }

    fn entity(&self, id: &str) -> Option<Entity> {
        read_json(&self.entities, id)
            .inspect_err(|e| tracing::warn!(id, error = %e, "reading a customer"))
            .ok()
            .flatten()
    }

    /// Only the ids are decoded: the plan reads tens of thousands of
    /// assignments at 1M records.
    fn assigned_entities(&self, record: &str) -> Vec<String> {
        let read = |table: &redb::ReadOnlyTable<&'static str, &'static [u8]>| {
            read_json::<AssignedIds>(table, record)
                .inspect_err(|e| tracing::warn!(record, error = %e, "reading an assignment"))
                .ok()
                .flatten()
        };
        read(&self.assignments)
            .or_else(|| read(&self.erased))
            .map(AssignedIds::into_ids)
            .unwrap_or_default()
    }

    /// Only the members' ids, people and organisation are decoded, not
    /// the golden record and the waterfalls.
    fn entity_links(&self, id: &str) -> Option<EntityLinks> {
        read_json(&self.entities, id)
            .inspect_err(|e| tracing::warn!(id, error = %e, "reading a customer"))
            .ok()
            .flatten()
    }
}
