//! Staff users: add, set a password, disable, and check a password
//! (argon2id with a random salt, the PHC string stored).
//!
//! It must never keep or log a password, and never tell a caller whether a
//! user name exists when a sign-in fails.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, Params};
use chrono::Utc;
use serde::Serialize;

use super::secrets;
use super::{AuthError, Identity, Roles, Via};
use crate::store::{Store, UserRecord};

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub name: String,
    pub role: String,
    pub has_password: bool,
    pub disabled: bool,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scope: std::collections::BTreeMap<String, String>,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        UserView {
            name: u.name.clone(),
            role: u.role.clone(),
            has_password: u.password_hash.is_some(),
            disabled: u.disabled,
            scope: u.scope.clone(),
        }
    }
}

fn hasher() -> Argon2<'static> {
    // argon2id, OWASP's 19 MiB / 2 passes / 1 lane.
    Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        Params::default(),
    )
}

pub fn hash_password(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AuthError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD} characters"
        )));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AuthError::Invalid(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::Invalid(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Invalid(format!("hashing the password failed: {e}")))
}

fn valid_name(name: &str) -> Result<&str, AuthError> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(AuthError::Invalid(format!(
            "`{name}` is not a user name (letters, digits, . _ - @; at most 64)"
        )));
    }
    Ok(name)
}

/// Adds a user; `password` may be `None` for one who signs in by a link or
/// through the single sign-on proxy. `scope` limits the customers the user
/// sees (as a key's scope does).
pub fn add(
    store: &Store,
    roles: &Roles,
    name: &str,
    role: &str,
    password: Option<&str>,
    scope: std::collections::BTreeMap<String, String>,
) -> Result<UserView, AuthError> {
    let name = valid_name(name)?;
    roles.check(role)?;
    if store.user(name)?.is_some() {
        return Err(AuthError::Invalid(format!("user `{name}` already exists")));
    }
    let record = UserRecord {
        name: name.to_string(),
        role: role.to_string(),
        password_hash: password.map(hash_password).transpose()?,
        disabled: false,
        created: Utc::now(),
        scope,
    };
    store.put_user(&record)?;
    tracing::info!(user = %record.name, role = %record.role, "user added");
    Ok(UserView::from(&record))
}

fn existing(store: &Store, name: &str) -> Result<UserRecord, AuthError> {
    store
        .user(name)?
        .ok_or_else(|| AuthError::NotFound(format!("no user `{name}`")))
}

pub fn set_password(store: &Store, name: &str, password: &str) -> Result<UserView, AuthError> {
    let mut user = existing(store, name)?;
    user.password_hash = Some(hash_password(password)?);
    store.put_user(&user)?;
    tracing::info!(user = %user.name, "password changed");
    Ok(UserView::from(&user))
}

pub fn set_disabled(store: &Store, name: &str, disabled: bool) -> Result<UserView, AuthError> {
    let mut user = existing(store, name)?;
    user.disabled = disabled;
    store.put_user(&user)?;
    tracing::info!(user = %user.name, disabled, "user updated");
    Ok(UserView::from(&user))
}

pub fn list(store: &Store) -> Result<Vec<UserView>, AuthError> {
    Ok(store.users()?.iter().map(UserView::from).collect())
}

/// The identity of an enabled user whose role exists, signed in `via` a
/// session or the single sign-on proxy.
pub fn identity(user: &UserRecord, roles: &Roles, via: Via) -> Option<Identity> {
    if user.disabled {
        return None;
    }
    Some(Identity {
        actor: format!("user:{}", user.name),
        role: user.role.clone(),
        permissions: roles.get(&user.role)?.clone(),
        via,
        scope: user.scope.clone(),
    })
}

/// True when `password` is the user's. A missing user or password still
/// costs one hash, so the time taken does not say which.
pub fn verify(user: Option<&UserRecord>, password: &str) -> bool {
    let stored = user.and_then(|u| u.password_hash.as_deref());
    match stored.and_then(|s| PasswordHash::new(s).ok()) {
        Some(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        None => {
            let _ = hash_password(&secrets::random_hex(8).unwrap_or_default());
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_with_argon2id_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let roles = Roles::default();
        add(
            &store,
            &roles,
            "ann",
            "staff",
            Some("correct horse battery"),
            Default::default(),
        )
        .unwrap();
        let stored = store.user("ann").unwrap().unwrap();
        let hash = stored.password_hash.clone().unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(verify(Some(&stored), "correct horse battery"));
        assert!(!verify(Some(&stored), "correct horse batterY"));
        assert!(!verify(None, "correct horse battery"));
        assert!(add(&store, &roles, "ann", "staff", None, Default::default()).is_err());
        assert!(
            add(
                &store,
                &roles,
                "bo",
                "staff",
                Some("short"),
                Default::default()
            )
            .is_err()
        );
        let disabled = set_disabled(&store, "ann", true).unwrap();
        assert!(disabled.disabled);
        assert!(identity(&store.user("ann").unwrap().unwrap(), &roles, Via::Session).is_none());
    }
}
