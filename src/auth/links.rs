//! One-time sign-in links: a random token that opens one web session for an
//! enabled user within a time limit. The first start prints one for the
//! demo's admin; an admin issues them for colleagues (`rapport users link`,
//! `POST /v1/users/{name}/sign-in-link`), e.g. to let someone set a
//! password. They live in the store, so a restart keeps them.
//!
//! It must never keep or log a token: only its hash is stored, and the
//! token is handed to the caller once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::AuthError;
use super::secrets;
use crate::store::{SavedLink, Store};

/// The longest a link may stay valid: it is a bearer credential.
pub const MAX_LINK_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// A new link, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedLink {
    pub user: String,
    /// The secret to put after `#signin=` in the web page's address.
    pub token: String,
    pub expires: DateTime<Utc>,
}

/// Saves a link for `name`, valid for `lifetime`; the user must exist and
/// be enabled.
pub fn issue(store: &Store, name: &str, lifetime: Duration) -> Result<IssuedLink, AuthError> {
    if lifetime.is_zero() || lifetime > MAX_LINK_LIFETIME {
        return Err(AuthError::Invalid(format!(
            "a sign-in link is valid for at most {} days",
            MAX_LINK_LIFETIME.as_secs() / 86_400
        )));
    }
    let user = store
        .user(name)?
        .ok_or_else(|| AuthError::NotFound(format!("no user `{name}`")))?;
    if user.disabled {
        return Err(AuthError::Invalid(format!(
            "user `{name}` is disabled: enable it first (rapport users enable {name})"
        )));
    }
    let token = secrets::token()?;
    let now = super::sessions::unix_now();
    let expires = now.saturating_add(lifetime.as_secs());
    let saved = SavedLink {
        user: user.name.clone(),
        expires,
    };
    store.put_sign_in_link(&secrets::hash(&token), &saved, now)?;
    tracing::info!(user = %user.name, "one-time sign-in link issued");
    Ok(IssuedLink {
        user: user.name,
        token,
        expires: DateTime::from_timestamp(i64::try_from(expires).unwrap_or(i64::MAX), 0)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Roles;

    #[test]
    fn a_link_is_for_an_enabled_user_within_a_week_and_only_its_hash_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let roles = Roles::default();
        crate::auth::users::add(&store, &roles, "ann", "staff", None, Default::default()).unwrap();
        let hour = Duration::from_secs(3600);
        assert!(matches!(
            issue(&store, "nobody", hour),
            Err(AuthError::NotFound(_))
        ));
        assert!(issue(&store, "ann", MAX_LINK_LIFETIME + hour).is_err());
        assert!(issue(&store, "ann", Duration::ZERO).is_err());

        let link = issue(&store, "ann", hour).unwrap();
        assert_eq!(link.user, "ann");
        assert!(link.expires > Utc::now());
        assert_eq!(store.take_sign_in_link(&link.token).unwrap(), None);
        let saved = store
            .take_sign_in_link(&secrets::hash(&link.token))
            .unwrap()
            .unwrap();
        assert_eq!(saved.user, "ann");

        crate::auth::users::set_disabled(&store, "ann", true).unwrap();
        assert!(matches!(
            issue(&store, "ann", hour),
            Err(AuthError::Invalid(_))
        ));
    }
}
