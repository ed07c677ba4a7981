//! Who may do what: permissions, roles (named lists of permissions, the
//! defaults overridable in rapport.toml's `[auth.roles]`), the [`Identity`]
//! a request carries once authenticated, and the operations on API keys
//! (`keys`), staff users (`users`) and web sessions (`sessions`).
//!
//! It must never keep or log a secret: keys and one-time tokens are stored
//! as hashes, passwords as argon2id strings, and every comparison of a
//! secret is constant-time.

pub mod keys;
pub mod links;
pub mod redact;
pub mod secrets;
pub mod sessions;
pub mod users;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::store::StoreError;

/// One thing a route lets its caller do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// Search, suggest, analyze.
    Search,
    /// Customer pages, timelines, reading notes.
    CustomersRead,
    /// Email addresses and phone numbers in full (without it they are
    /// masked everywhere: `auth/redact.rs`).
    ContactsRead,
    /// Write, edit and delete notes.
    NotesWrite,
    /// Bulk export.
    Export,
    /// Aggregations in a search (`aggs`).
    Aggregate,
    /// Attribute write-back.
    AttributesWrite,
    /// Merge, split and never-merge overrides.
    Merge,
    /// Erasure of a person.
    Erasure,
    /// The quality report.
    Quality,
    /// API keys.
    Keys,
    /// Staff users.
    Users,
    /// Reindex and the jobs list.
    Reindex,
    /// Snapshots.
    Snapshots,
    /// Restore (CLI only today).
    Restore,
    /// The audit log.
    Audit,
    /// Connector status and /metrics.
    Operate,
}

impl Permission {
    pub const ALL: &[Permission] = &[
        Permission::Search,
        Permission::CustomersRead,
        Permission::ContactsRead,
        Permission::NotesWrite,
        Permission::Export,
        Permission::Aggregate,
        Permission::AttributesWrite,
        Permission::Merge,
        Permission::Erasure,
        Permission::Quality,
        Permission::Keys,
        Permission::Users,
        Permission::Reindex,
        Permission::Snapshots,
        Permission::Restore,
        Permission::Audit,
        Permission::Operate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Search => "search",
            Permission::CustomersRead => "customers.read",
            Permission::ContactsRead => "contacts.read",
            Permission::NotesWrite => "notes.write",
            Permission::Export => "export",
            Permission::Aggregate => "aggregate",
            Permission::AttributesWrite => "attributes.write",
            Permission::Merge => "merge",
            Permission::Erasure => "erasure",
            Permission::Quality => "quality",
            Permission::Keys => "keys",
            Permission::Users => "users",
            Permission::Reindex => "reindex",
            Permission::Snapshots => "snapshots",
            Permission::Restore => "restore",
            Permission::Audit => "audit",
            Permission::Operate => "operate",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A permission name that is none of [`Permission::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission `{0}` (known: {known})", known = Permission::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", "))]
pub struct UnknownPermission(pub String);

/// A role of `[auth.roles]` naming a permission that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[auth.roles] {role}: {source}")]
pub struct RoleError {
    pub role: String,
    pub source: UnknownPermission,
}

impl FromStr for Permission {
    type Err = UnknownPermission;
    fn from_str(s: &str) -> Result<Self, UnknownPermission> {
        Permission::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPermission(s.to_string()))
    }
}

/// The default roles, each adding to the one before.
pub const DEFAULT_ROLES: &[(&str, &[Permission])] = &[
    ("viewer", &[Permission::Search, Permission::CustomersRead]),
    ("staff", &[Permission::ContactsRead, Permission::NotesWrite]),
    (
        "analyst",
        &[
            Permission::Export,
            Permission::Aggregate,
            Permission::AttributesWrite,
        ],
    ),
    (
        "steward",
        &[Permission::Merge, Permission::Erasure, Permission::Quality],
    ),
    (
        "admin",
        &[
            Permission::Keys,
            Permission::Users,
            Permission::Reindex,
            Permission::Snapshots,
            Permission::Restore,
            Permission::Audit,
            Permission::Operate,
        ],
    ),
];

/// Role name → its permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct Roles(BTreeMap<String, BTreeSet<Permission>>);

impl Default for Roles {
    fn default() -> Self {
        let mut roles = BTreeMap::new();
        let mut so_far = BTreeSet::new();
        for (name, added) in DEFAULT_ROLES {
            so_far.extend(added.iter().copied());
            roles.insert(name.to_string(), so_far.clone());
        }
        Roles(roles)
    }
}

impl Roles {
    /// The defaults with the configured roles added or replaced.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<Roles, RoleError> {
        let mut roles = Roles::default();
        for (name, permissions) in overrides {
            let set = permissions
                .iter()
                .map(|p| p.parse::<Permission>())
                .collect::<Result<BTreeSet<_>, _>>()
                .map_err(|source| RoleError {
                    role: name.clone(),
                    source,
                })?;
            roles.0.insert(name.clone(), set);
        }
        Ok(roles)
    }

    pub fn get(&self, role: &str) -> Option<&BTreeSet<Permission>> {
        self.0.get(role)
    }

    pub fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    /// An error naming the known roles when `role` is not one.
    pub fn check(&self, role: &str) -> Result<(), AuthError> {
        match self.get(role) {
            Some(_) => Ok(()),
            None => Err(AuthError::Invalid(format!(
                "unknown role `{role}` (known: {})",
                self.names().join(", ")
            ))),
        }
    }
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Key,
    Session,
    /// The server's own token for the CLI on the same machine.
    Local,
    /// A user signed in by the authenticating reverse proxy
    /// (`[auth] trusted_header`).
    Proxy,
}

/// An authenticated caller: the actor id written into notes, erasures and
/// the audit log, and what its role lets it do.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    /// `key:ID`, `user:NAME` or `local`.
    pub actor: String,
    pub role: String,
    #[serde(skip)]
    pub permissions: BTreeSet<Permission>,
    pub via: Via,
    /// Row-level scope (of a key or a user): field → filter value; empty:
    /// everything.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub scope: BTreeMap<String, String>,
}

impl Identity {
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `90d`, `12h`, `30m`: how long until something expires.
pub fn parse_expiry(text: &str) -> Result<chrono::Duration, AuthError> {
    let duration =
        crate::units::parse_duration(text).map_err(|e| AuthError::Invalid(e.to_string()))?;
    chrono::Duration::from_std(duration)
        .map_err(|_| AuthError::Invalid(format!("`{text}` is too long")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_roles_grow_from_viewer_to_admin() {
        let roles = Roles::default();
        let viewer = roles.get("viewer").unwrap();
        let admin = roles.get("admin").unwrap();
        assert!(viewer.contains(&Permission::Search));
        assert!(!viewer.contains(&Permission::NotesWrite));
        assert!(
            roles
                .get("staff")
                .unwrap()
                .contains(&Permission::NotesWrite)
        );
        assert!(!roles.get("staff").unwrap().contains(&Permission::Export));
        assert!(roles.get("steward").unwrap().contains(&Permission::Export));
        assert_eq!(admin.len(), Permission::ALL.len());
    }

    #[test]
    fn a_configured_role_replaces_the_default_and_unknown_permissions_are_refused() {
        let mut o = BTreeMap::new();
        o.insert("viewer".to_string(), vec!["search".to_string()]);
        let roles = Roles::with_overrides(&o).unwrap();
        assert!(
            !roles
                .get("viewer")
                .unwrap()
                .contains(&Permission::CustomersRead)
        );
        o.insert("x".to_string(), vec!["fly".to_string()]);
        assert!(
            Roles::with_overrides(&o)
                .unwrap_err()
                .to_string()
                .contains("fly")
        );
    }
}
