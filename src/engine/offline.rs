//! The data directory for administrative commands while no server runs:
//! the store alone (no index, no dictionary), or word that a server holds
//! it, so the command can ask the server instead.
//!
//! It must never write records or touch the index: only identities, the
//! audit log's entries about them and status are read or changed here.

use crate::config::Config;
use crate::sources::status::{self, ConnectorStatus};
use crate::store::{Store, StoreError};

use super::EngineError;
use super::identities::Identities;

/// The store of a data directory no server holds.
pub struct Offline {
    store: Store,
}

/// What opening the data directory found.
pub enum DataDir {
    /// No server holds it: commands work on it directly.
    Free(Offline),
    /// A server holds it: commands go through its API.
    HeldByServer,
}

impl DataDir {
    /// Opens the store of `config`'s data directory (creating the folder),
    /// or finds it held by a server.
    pub fn open(config: &Config) -> Result<DataDir, EngineError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| EngineError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        match Store::open(&config.store_path()) {
            Ok(store) => Ok(DataDir::Free(Offline { store })),
            Err(StoreError::Locked { .. }) => Ok(DataDir::HeldByServer),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a server holds the data directory now (without creating it).
    pub fn held_by_server(config: &Config) -> bool {
        let path = config.store_path();
        path.exists() && matches!(Store::open(&path), Err(StoreError::Locked { .. }))
    }
}

impl Offline {
    pub fn identities(&self) -> Identities<'_> {
        Identities::new(&self.store)
    }

    /// Walks the audit log's whole chain (see [`crate::store::verify_chain`]).
    pub fn verify_audit(&self) -> Result<Result<usize, crate::store::ChainBreak>, StoreError> {
        Ok(crate::store::verify_chain(&self.store.audit_log()?))
    }

    /// Appends entries to the audit log: identity changes made from the
    /// command line, which no request's middleware sees.
    pub fn record_audit(
        &self,
        new: Vec<crate::store::NewAudit>,
    ) -> Result<Vec<crate::store::AuditEntry>, StoreError> {
        self.store.append_audit(new)
    }

    pub fn audit_entries(
        &self,
        query: &crate::store::AuditQuery,
    ) -> Result<Vec<crate::store::AuditEntry>, StoreError> {
        self.store.audit_entries(query)
    }

    /// Each configured source's status as the store last recorded it.
    pub fn connector_status(&self, config: &Config) -> Result<Vec<ConnectorStatus>, StoreError> {
        status::collect(&self.store, &config.sources, |_| None)
    }
}
