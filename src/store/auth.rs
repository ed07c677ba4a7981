//! Identities in the store: API keys (by key id) and staff users (by name),
//! each one JSON value in its own table.
//!
//! It must never hold a secret: a key is kept as the BLAKE3 hash of its
//! secret and a password as its argon2id PHC string; the secrets themselves
//! are shown once by the caller and never reach this module.

use chrono::{DateTime, Utc};
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, corrupt, db, read_json};

/// key id → [`KeyRecord`] (JSON).
pub(super) const API_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("api_keys");
/// user name → [`UserRecord`] (JSON).
pub(super) const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");

pub(super) fn create_tables(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(API_KEYS).map_err(db)?;
    txn.open_table(USERS).map_err(db)?;
    txn.open_table(super::sessions::SESSIONS).map_err(db)?;
    txn.open_table(super::lockouts::LOCKOUTS).map_err(db)?;
    txn.open_table(super::sign_in_links::SIGN_IN_LINKS)
        .map_err(db)?;
    Ok(())
}

/// An API key as stored: who it is, what it may do, the hash of its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub id: String,
    pub name: String,
    pub role: String,
    /// BLAKE3 of the secret, hex.
    pub hash: String,
    pub created: DateTime<Utc>,
    #[serde(default)]
    pub expires: Option<DateTime<Utc>>,
    #[serde(default)]
    pub revoked: Option<DateTime<Utc>>,
    /// Row-level scope: field → filter value (as `filter.FIELD` takes it).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scope: std::collections::BTreeMap<String, String>,
}

/// A staff user as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub name: String,
    pub role: String,
    /// argon2id PHC string; `None` until a password is set (a first admin
    /// signs in with a one-time link).
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    pub created: DateTime<Utc>,
    /// Row-level scope: field → filter value; empty: every customer.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scope: std::collections::BTreeMap<String, String>,
}

impl Store {
    pub fn put_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        self.put_json(API_KEYS, &key.id, key)
    }

    pub fn key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        read_json(&txn.open_table(API_KEYS).map_err(db)?, id)
    }

    pub fn keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.all_json(API_KEYS)
    }

    pub fn put_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        self.put_json(USERS, &user.name, user)
    }

    pub fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        read_json(&txn.open_table(USERS).map_err(db)?, name)
    }

    pub fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.all_json(USERS)
    }

    /// True when the store holds at least one key or user.
    pub fn has_identities(&self) -> Result<bool, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let keys = txn.open_table(API_KEYS).map_err(db)?.len().map_err(db)?;
        let users = txn.open_table(USERS).map_err(db)?.len().map_err(db)?;
        Ok(keys + users > 0)
    }

    pub(super) fn put_json<T: Serialize>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|e| corrupt(key, e))?;
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut t = txn.open_table(table).map_err(db)?;
            t.insert(key, bytes.as_slice()).map_err(db)?;
        }
        txn.commit().map_err(db)
    }

    fn all_json<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<&str, &[u8]>,
    ) -> Result<Vec<T>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let t = txn.open_table(table).map_err(db)?;
        t.iter()
            .map_err(db)?
            .map(|row| {
                let (k, v) = row.map_err(db)?;
                serde_json::from_slice(v.value()).map_err(|e| corrupt(k.value(), e))
            })
            .collect()
    }
}
