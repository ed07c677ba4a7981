//! Web sessions in the store, so that restarting the server does not sign
//! every member of staff out: the hash of a session's token → whose session
//! it is and when it began and was last used (`auth::sessions` decides what
//! has expired).
//!
//! It must never hold a token: rows are keyed by the BLAKE3 hash the caller
//! passes, and the CSRF token is derived from the session token, not kept.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, corrupt, db, read_json};

/// hash of a session token → [`SavedSession`] (JSON).
pub(super) const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");

/// A web session as stored; times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedSession {
    pub user: String,
    pub created: u64,
    pub last_seen: u64,
}

impl Store {
    pub fn put_session(&self, key: &str, session: &SavedSession) -> Result<(), StoreError> {
        self.put_json(SESSIONS, key, session)
    }

    pub fn session(&self, key: &str) -> Result<Option<SavedSession>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        read_json(&txn.open_table(SESSIONS).map_err(db)?, key)
    }

    /// Deletes the sessions `keep` refuses (all of them with `|_| false`);
    /// answers how many went.
    pub fn remove_sessions(
        &self,
        keep: &dyn Fn(&SavedSession) -> bool,
    ) -> Result<usize, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let removed = {
            let mut table = txn.open_table(SESSIONS).map_err(db)?;
            let mut gone = Vec::new();
            for row in table.iter().map_err(db)? {
                let (key, value) = row.map_err(db)?;
                let key = key.value().to_string();
                // An unreadable row is dropped too: it can open nothing.
                let readable: Option<SavedSession> = serde_json::from_slice(value.value())
                    .map_err(|e| tracing::warn!(error = %corrupt(&key, e), "session row dropped"))
                    .ok();
                if !readable.as_ref().is_some_and(keep) {
                    gone.push(key);
                }
            }
            for key in &gone {
                table.remove(key.as_str()).map_err(db)?;
            }
            gone.len()
        };
        // Nothing ended: no commit (and no fsync) for a scan that changed nothing.
        if removed == 0 {
            txn.abort().map_err(db)?;
        } else {
            txn.commit().map_err(db)?;
        }
        Ok(removed)
    }

    pub fn remove_session(&self, key: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        txn.open_table(SESSIONS)
            .map_err(db)?
            .remove(key)
            .map_err(db)?;
        txn.commit().map_err(db)
    }
}
