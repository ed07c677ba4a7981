//! One-time sign-in links in the store, so that a link printed at a first
//! start, or issued by an admin for a colleague, still works after the
//! server restarts: the hash of a link's token → whose link it is and when
//! it expires (`auth::sessions` issues and redeems them).
//!
//! It must never hold a token (rows are keyed by the hash the caller
//! passes), and a link must open at most one session: taking a row removes
//! it in the same transaction that reads it.

use redb::TableDefinition;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, corrupt, db};

/// hash of a link token → [`SavedLink`] (JSON).
pub(super) const SIGN_IN_LINKS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("sign_in_links");

/// A sign-in link as stored; `expires` is in Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedLink {
    pub user: String,
    pub expires: u64,
}

impl Store {
    /// Saves a link under `key`, and drops the links that expired before
    /// `now` (Unix seconds), in one transaction.
    pub fn put_sign_in_link(
        &self,
        key: &str,
        link: &SavedLink,
        now: u64,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(link).map_err(|e| corrupt(key, e))?;
        self.insert_dropping_ended(SIGN_IN_LINKS, key, &bytes, |value| {
            let saved: Option<SavedLink> = serde_json::from_slice(value).ok();
            saved.is_none_or(|s| s.expires <= now)
        })
    }

    /// Removes and answers the link saved under `key`, if any (expired or
    /// not: the caller decides); commits only when there was one.
    pub fn take_sign_in_link(&self, key: &str) -> Result<Option<SavedLink>, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let taken = {
            let mut table = txn.open_table(SIGN_IN_LINKS).map_err(db)?;
            let removed = table.remove(key).map_err(db)?;
            removed.map(|value| serde_json::from_slice::<SavedLink>(value.value()))
        };
        match taken {
            None => {
                txn.abort().map_err(db)?;
                Ok(None)
            }
            Some(parsed) => {
                txn.commit().map_err(db)?;
                parsed.map(Some).map_err(|e| corrupt(key, e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_taken_once_and_expired_rows_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let old = SavedLink {
            user: "ann".into(),
            expires: 100,
        };
        store.put_sign_in_link("h-old", &old, 50).unwrap();
        let new = SavedLink {
            user: "bo".into(),
            expires: 900,
        };
        store.put_sign_in_link("h-new", &new, 200).unwrap();
        assert_eq!(
            store.take_sign_in_link("h-old").unwrap(),
            None,
            "it expired at 100 and a later save dropped it"
        );
        assert_eq!(store.take_sign_in_link("h-new").unwrap(), Some(new));
        assert_eq!(
            store.take_sign_in_link("h-new").unwrap(),
            None,
            "taken twice"
        );
    }
}
