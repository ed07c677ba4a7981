//! Who may sign in and which keys exist: the engine's door to the identity
//! tables, for the API (sign-in, key checks, `/v1/keys`) and the CLI
//! (`rapport keys|users`, with or without a running server).
//!
//! It must never decide permissions: roles and checks live in `auth`; this
//! only hands them the store.

use crate::auth::keys::{self, KeyRefusal, KeyView, NewKey};
use crate::auth::links;
use crate::auth::users::{self, UserView};
use crate::auth::{AuthError, Identity, Roles};
use crate::store::UserRecord;
use crate::store::{Store, StoreError};

/// The identity tables of one store.
pub struct Identities<'a> {
    store: &'a Store,
}

impl<'a> Identities<'a> {
    pub(super) fn new(store: &'a Store) -> Self {
        Identities { store }
    }

    /// Whether any key or user exists yet (a first start has none).
    pub fn any(&self) -> Result<bool, StoreError> {
        self.store.has_identities()
    }

    pub fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.store.user(name)
    }

    pub fn add_user(
        &self,
        roles: &Roles,
        name: &str,
        role: &str,
        password: Option<&str>,
        scope: std::collections::BTreeMap<String, String>,
    ) -> Result<UserView, AuthError> {
        users::add(self.store, roles, name, role, password, scope)
    }

    pub fn set_password(&self, name: &str, password: &str) -> Result<UserView, AuthError> {
        users::set_password(self.store, name, password)
    }

    pub fn set_disabled(&self, name: &str, disabled: bool) -> Result<UserView, AuthError> {
        users::set_disabled(self.store, name, disabled)
    }

    /// A one-time sign-in link for an enabled user, valid for `lifetime`.
    pub fn sign_in_link(
        &self,
        name: &str,
        lifetime: std::time::Duration,
    ) -> Result<links::IssuedLink, AuthError> {
        links::issue(self.store, name, lifetime)
    }

    pub fn users(&self) -> Result<Vec<UserView>, AuthError> {
        users::list(self.store)
    }

    pub fn create_key(
        &self,
        roles: &Roles,
        name: &str,
        role: &str,
        expires_in: Option<chrono::Duration>,
        scope: std::collections::BTreeMap<String, String>,
    ) -> Result<NewKey, AuthError> {
        keys::create(self.store, roles, name, role, expires_in, scope)
    }

    pub fn keys(&self) -> Result<Vec<KeyView>, AuthError> {
        keys::list(self.store)
    }

    pub fn revoke_key(&self, id: &str) -> Result<KeyView, AuthError> {
        keys::revoke(self.store, id)
    }

    pub fn rotate_key(&self, roles: &Roles, id: &str) -> Result<NewKey, AuthError> {
        keys::rotate(self.store, roles, id)
    }

    /// The identity a presented API key stands for, or why it is refused.
    pub fn authenticate_key(&self, roles: &Roles, presented: &str) -> Result<Identity, KeyRefusal> {
        keys::authenticate(self.store, roles, presented)
    }
}
