//! The engine's erasure of a person on request (GDPR): finds every record
//! of the person (their own records, what is attached to them, notes
//! included) and their email addresses and phone numbers, has the store
//! erase them with tombstones and an audit entry, re-resolves customers
//! without them, and brings the index up to date, so that the next search
//! no longer finds them.
//!
//! It must never erase an organisation (a company is not a data subject:
//! erase its people one by one) unless asked to purge the account, and
//! never run while an ingest pass is writing (it holds the ingest lock), so
//! that a pass cannot write back a record between the scan and the
//! tombstones; write-backs, which take no ingest lock, are caught by the
//! store's scan inside its write transaction.

use std::collections::BTreeSet;

use super::{EngineError, Rapport, lock};
use crate::customers::{CustomerError, find_entity};
use crate::normalize::mentions::Mentions;
use crate::store::{
    AuditEntry, AuditQuery, ChainBreak, Erasure, NewAudit, StoreError, append_ledger, identifiers,
    verify_chain,
};

/// The variable naming a file that holds an erasure between reading the
/// person's records and erasing them while it exists (tests only).
pub const ERASE_HOLD_FILE: &str = "RAPPORT_TEST_ERASE_HOLD";

#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error(transparent)]
    Customer(#[from] CustomerError),
    #[error(
        "customer `{0}` is an organisation: erase one of its people, or send \"organisation\": true to purge the whole account (its records, its people and everything attached)"
    )]
    NotAPerson(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the erasure was made but could not be written to the erasure ledger: {0}")]
    Ledger(std::io::Error),
}

/// What the caller asks (`POST /v1/erasures`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    pub customer_id: String,
    /// Who asks: set from the caller's identity by the API (the body must
    /// not carry it).
    #[serde(default)]
    pub requested_by: String,
    pub reason: String,
    /// `true` to erase an organisation (a B2B account purge: its records,
    /// its people and everything attached); refused without it.
    #[serde(default)]
    pub organisation: bool,
}

impl Rapport {
    /// Erases a person and everything about them; answers with the audit
    /// entry written.
    pub fn erase_person(&self, request: &ErasureRequest) -> Result<AuditEntry, ErasureError> {
        let customer_id = request.customer_id.trim();
        let _span = tracing::info_span!("erase", customer = %customer_id).entered();
        for (name, value) in [
            ("customer_id", customer_id),
            ("requested_by", request.requested_by.trim()),
            ("reason", request.reason.trim()),
        ] {
            if value.is_empty() {
                return Err(ErasureError::Invalid(format!(
                    "`{name}` is required: an erasure names the person, who asked for it and why"
                )));
            }
        }
        let entry = {
            let _pass = lock(&self.ingest_lock);
            let entity = find_entity(&self.store, customer_id)?;
            let organisation = entity.kind != "person";
            if organisation && !request.organisation {
                return Err(ErasureError::NotAPerson(entity.id));
            }
            // A person: their own records and what is attached to them. An
            // organisation (a B2B account purge): its records, its people's
            // and everything attached to any of them.
            let (records, people_records): (BTreeSet<String>, Vec<crate::record::Record>) =
                if organisation {
                    let all = crate::customers::stored_records(&self.store, &entity.id)?;
                    let ids = all.iter().map(|r| r.id()).collect();
                    (ids, all)
                } else {
                    let ids = entity
                        .members
                        .iter()
                        .chain(&entity.attached)
                        .map(|m| m.record.clone())
                        .collect();
                    let mut own = Vec::new();
                    for member in &entity.members {
                        own.extend(self.store.get(&member.record)?);
                    }
                    (ids, own)
                };
            let mut keys = BTreeSet::new();
            let (mut emails, mut phones, mut names) = (Vec::new(), Vec::new(), Vec::new());
            for record in &people_records {
                let about_a_person = record.kind == crate::record::RecordKind::Person;
                if !organisation
                    || about_a_person
                    || record.kind == crate::record::RecordKind::Organization
                {
                    keys.extend(identifiers(record));
                    emails.extend(record.emails.iter().cloned());
                    phones.extend(record.phones.iter().cloned());
                }
                if !organisation || about_a_person {
                    names.extend(record.names.iter().cloned());
                    names.extend(record.title.iter().cloned());
                }
            }
            let mentions = Mentions::new(
                emails.iter().map(String::as_str),
                phones.iter().map(String::as_str),
                names.iter().map(String::as_str),
            );
            // Tests hold the erasure here to race a write against it.
            crate::test_hooks::announce_and_hold(ERASE_HOLD_FILE);
            let (entry, ledger) = self.store.erase(&Erasure {
                customer_id: entity.id.clone(),
                records,
                identifiers: keys,
                requested_by: request.requested_by.trim().to_string(),
                reason: request.reason.trim().to_string(),
                mentions,
            })?;
            // Kept outside the store and every snapshot, so that restoring
            // an older snapshot applies this erasure again.
            append_ledger(&self.config.data_dir, &ledger).map_err(ErasureError::Ledger)?;
            // Incremental when the erasure is small: the erased records'
            // assignments were set aside (not dropped) so the plan finds the
            // customers they were in (tests/erasure_in_a_large_book.rs).
            self.resolve_if_stale()?;
            entry
        };
        self.index
            .catch_up(&self.store)
            .map_err(EngineError::from)?;
        // Deleted documents stay in their segments until a merge: rewrite
        // those segments now, so no index file holds the erased values.
        self.index.purge_deleted().map_err(EngineError::from)?;
        // The same for the store file's freed pages.
        self.scrub_store_if_pending()?;
        Ok(entry)
    }

    /// The audit log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        self.store.audit_log()
    }

    /// The entries `query` admits, oldest first.
    pub fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.store.audit_entries(query)
    }

    /// Appends entries to the audit log durably, in one transaction with
    /// what other requests append meanwhile (group commit).
    pub fn record_audit(&self, new: Vec<NewAudit>) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit.append(&self.store, new)
    }

    /// Walks the whole chain: the number of entries when it holds, or where
    /// it breaks.
    pub fn verify_audit(&self) -> Result<Result<usize, ChainBreak>, StoreError> {
        Ok(verify_chain(&self.store.audit_log()?))
    }
}
