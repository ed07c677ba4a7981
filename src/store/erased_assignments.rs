//! The assignments of erased records, set aside by the erasure until the
//! resolution that follows it has read them: an incremental plan finds the
//! customers a change reached through the changed records' previous
//! assignments, and an erased record's would otherwise be gone, leaving its
//! customer's suspect pairs and golden records naming the person.
//!
//! It must never outlive that resolution: the engine clears the table after
//! every resolution it saves, and clearing marks the store for a rewrite so
//! the file does not keep the bytes in its freed pages.

use redb::{ReadableTableMetadata, TableDefinition};

use super::{Store, StoreError, db};

/// erased record id → its assignment as it was stored (JSON).
pub(super) const ERASED_ASSIGNMENTS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("erased_assignments");

/// Moves `record`'s assignment, if it has one, from `assignments` to the
/// set-aside table, inside the erasure's transaction.
pub(super) fn set_aside(
    assignments: &mut redb::Table<&str, &[u8]>,
    set_aside: &mut redb::Table<&str, &[u8]>,
    record: &str,
) -> Result<(), StoreError> {
    let taken = assignments
        .remove(record)
        .map_err(db)?
        .map(|bytes| bytes.value().to_vec());
    if let Some(bytes) = taken {
        set_aside.insert(record, bytes.as_slice()).map_err(db)?;
    }
    Ok(())
}

impl Store {
    /// Forgets the set-aside assignments once a resolution has been saved;
    /// commits (and marks the store for a rewrite) only when there were any.
    pub fn clear_erased_assignments(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let had = {
            let mut table = txn.open_table(ERASED_ASSIGNMENTS).map_err(db)?;
            let had = !table.is_empty().map_err(db)?;
            if had {
                table.retain(|_, _| false).map_err(db)?;
            }
            had
        };
        if had {
            super::rewrite::mark_pending(&txn)?;
            txn.commit().map_err(db)
        } else {
            txn.abort().map_err(db)
        }
    }
}
