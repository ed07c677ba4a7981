//! Sign-in lock-outs in the store, so that restarting the server does not
//! hand a guesser a fresh set of tries: a user name → how many sign-ins
//! failed in a row and until when it is locked (`auth::sessions` decides
//! when to lock and for how long).
//!
//! It must never hold a password or anything typed as one, and only names
//! that are locked now: rows whose lock has passed are dropped whenever a
//! new lock is saved, so names guessed long ago do not pile up.

use redb::TableDefinition;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, corrupt, db, read_json};

/// user name → [`SavedLockout`] (JSON).
pub(super) const LOCKOUTS: TableDefinition<&str, &[u8]> = TableDefinition::new("lockouts");

/// A lock-out as stored; `until` is in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedLockout {
    pub failures: u32,
    pub until: u64,
}

impl Store {
    /// Saves `user`'s lock-out, and drops the rows whose lock ended before
    /// `now` (Unix seconds), in one transaction.
    pub fn put_lockout(
        &self,
        user: &str,
        lockout: SavedLockout,
        now: u64,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(&lockout).map_err(|e| corrupt(user, e))?;
        self.insert_dropping_ended(LOCKOUTS, user, &bytes, |value| {
            let saved: Option<SavedLockout> = serde_json::from_slice(value).ok();
            saved.is_none_or(|s| s.until <= now)
        })
    }

    pub fn lockout(&self, user: &str) -> Result<Option<SavedLockout>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        read_json(&txn.open_table(LOCKOUTS).map_err(db)?, user)
    }

    /// Forgets `user`'s lock-out; commits (and syncs) only when there was
    /// one, so a successful sign-in without one costs no write.
    pub fn remove_lockout(&self, user: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let removed = txn
            .open_table(LOCKOUTS)
            .map_err(db)?
            .remove(user)
            .map_err(db)?
            .is_some();
        if removed {
            txn.commit().map_err(db)
        } else {
            txn.abort().map_err(db)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lockout_is_kept_read_back_and_ended_rows_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let old = SavedLockout {
            failures: 5,
            until: 100,
        };
        store.put_lockout("guessed", old, 50).unwrap();
        assert_eq!(store.lockout("guessed").unwrap(), Some(old));
        let new = SavedLockout {
            failures: 6,
            until: 400,
        };
        store.put_lockout("bo", new, 200).unwrap();
        assert_eq!(store.lockout("bo").unwrap(), Some(new));
        assert_eq!(
            store.lockout("guessed").unwrap(),
            None,
            "its lock ended at 100"
        );
        store.remove_lockout("bo").unwrap();
        store.remove_lockout("nobody").unwrap();
        assert_eq!(store.lockout("bo").unwrap(), None);
    }
}
