//! API keys: create (the secret is returned once), list, revoke, rotate,
//! and authenticate a presented `Bearer` key against the store.
//!
//! It must never return or keep a key's secret after `create`/`rotate`
//! hand it back, and never tell a caller more than why a key was refused
//! (unknown, revoked, expired), never the secret it was given.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::secrets::{self, RandomError};
use super::{AuthError, Identity, Roles, Via};
use crate::store::{KeyRecord, Store};

/// What `create` and `rotate` answer: the stored key and its secret, once.
#[derive(Debug, Serialize)]
pub struct NewKey {
    #[serde(flatten)]
    pub key: KeyView,
    /// The whole key, shown this once.
    pub secret: String,
}

/// A key as listed: never its hash or secret.
#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created: DateTime<Utc>,
    pub expires: Option<DateTime<Utc>>,
    pub revoked: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub scope: BTreeMap<String, String>,
}

impl From<&KeyRecord> for KeyView {
    fn from(k: &KeyRecord) -> Self {
        KeyView {
            id: k.id.clone(),
            name: k.name.clone(),
            role: k.role.clone(),
            created: k.created,
            expires: k.expires,
            revoked: k.revoked,
            scope: k.scope.clone(),
        }
    }
}

/// Why a presented key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    #[error("the API key is not valid")]
    Unknown,
    #[error("the API key has been revoked")]
    Revoked,
    #[error("the API key has expired")]
    Expired,
    #[error("the API key's role is not configured")]
    NoRole,
}

impl From<RandomError> for AuthError {
    fn from(e: RandomError) -> Self {
        AuthError::Invalid(e.to_string())
    }
}

pub fn create(
    store: &Store,
    roles: &Roles,
    name: &str,
    role: &str,
    expires_in: Option<chrono::Duration>,
    scope: BTreeMap<String, String>,
) -> Result<NewKey, AuthError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AuthError::Invalid("a key needs a name".into()));
    }
    roles.check(role)?;
    let (id, secret) = secrets::new_key()?;
    let now = Utc::now();
    let record = KeyRecord {
        id,
        name: name.to_string(),
        role: role.to_string(),
        hash: secrets::hash(&secret),
        created: now,
        expires: expires_in.map(|d| now + d),
        revoked: None,
        scope,
    };
    store.put_key(&record)?;
    tracing::info!(key = %record.id, role = %record.role, "API key created");
    Ok(NewKey {
        key: KeyView::from(&record),
        secret,
    })
}

pub fn list(store: &Store) -> Result<Vec<KeyView>, AuthError> {
    Ok(store.keys()?.iter().map(KeyView::from).collect())
}

pub fn revoke(store: &Store, id: &str) -> Result<KeyView, AuthError> {
    let mut record = store
        .key(id)?
        .ok_or_else(|| AuthError::NotFound(format!("no API key `{id}`")))?;
    if record.revoked.is_none() {
        record.revoked = Some(Utc::now());
        store.put_key(&record)?;
        tracing::info!(key = %record.id, "API key revoked");
    }
    Ok(KeyView::from(&record))
}

/// Revokes `id` and creates a key with the same name, role and lifetime.
pub fn rotate(store: &Store, roles: &Roles, id: &str) -> Result<NewKey, AuthError> {
    let old = store
        .key(id)?
        .ok_or_else(|| AuthError::NotFound(format!("no API key `{id}`")))?;
    let lifetime = old.expires.map(|e| e - old.created);
    let new = create(
        store,
        roles,
        &old.name,
        &old.role,
        lifetime,
        old.scope.clone(),
    )?;
    revoke(store, id)?;
    Ok(new)
}

/// The identity of a presented key.
pub fn authenticate(store: &Store, roles: &Roles, presented: &str) -> Result<Identity, KeyRefusal> {
    let id = secrets::key_id(presented).ok_or(KeyRefusal::Unknown)?;
    let record = match store.key(id) {
        Ok(Some(r)) => r,
        Ok(None) => return Err(KeyRefusal::Unknown),
        Err(e) => {
            tracing::error!(error = %e, "reading API keys failed");
            return Err(KeyRefusal::Unknown);
        }
    };
    if !secrets::matches(presented, &record.hash) {
        return Err(KeyRefusal::Unknown);
    }
    if record.revoked.is_some() {
        return Err(KeyRefusal::Revoked);
    }
    if record.expires.is_some_and(|e| e <= Utc::now()) {
        return Err(KeyRefusal::Expired);
    }
    let permissions = roles.get(&record.role).ok_or(KeyRefusal::NoRole)?.clone();
    Ok(Identity {
        actor: format!("key:{}", record.id),
        role: record.role,
        permissions,
        via: Via::Key,
        scope: record.scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_works_until_revoked_and_rotation_issues_a_new_secret() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let roles = Roles::default();
        let key = create(&store, &roles, "ci", "viewer", None, BTreeMap::new()).unwrap();
        assert!(
            !store
                .key(&key.key.id)
                .unwrap()
                .unwrap()
                .hash
                .contains(&key.secret)
        );
        let who = authenticate(&store, &roles, &key.secret).unwrap();
        assert_eq!(who.actor, format!("key:{}", key.key.id));
        let mut wrong = key.secret.clone();
        wrong.pop();
        wrong.push('x');
        assert_eq!(
            authenticate(&store, &roles, &wrong).unwrap_err(),
            KeyRefusal::Unknown
        );
        let new = rotate(&store, &roles, &key.key.id).unwrap();
        assert_eq!(
            authenticate(&store, &roles, &key.secret).unwrap_err(),
            KeyRefusal::Revoked
        );
        assert!(authenticate(&store, &roles, &new.secret).is_ok());
        assert!(create(&store, &roles, "x", "wizard", None, BTreeMap::new()).is_err());
        let expired = create(
            &store,
            &roles,
            "old",
            "viewer",
            Some(chrono::Duration::seconds(-1)),
            BTreeMap::new(),
        );
        assert_eq!(
            authenticate(&store, &roles, &expired.unwrap().secret).unwrap_err(),
            KeyRefusal::Expired
        );
    }
}
