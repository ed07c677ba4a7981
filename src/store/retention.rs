//! Retention purges in the store: what the retention job found expired goes
//! in one durable transaction through the erasure's own deletion
//! (`erase_in`: records, tombstones, the customer's entity and attributes
//! when a whole customer goes), with one audit entry for the run.
//!
//! It must never decide what expired (the engine does, from the
//! configuration), and never block identifiers: retention is not an
//! objection, so a person may come back through a new record. A purged
//! record's tombstone remembers the date it carried, so the same record read
//! again stays out while a version updated since in its source is new data.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use redb::ReadableTable;

use super::audit::{AuditEntry, NewAudit};
use super::erasure::{ERASED_RECORDS, erase_in};
use super::erasure_ledger::ErasureLedgerEntry;
use super::retention_tombstone::PREFIX;
use super::{ChangeLog, Store, StoreError, db};

/// One part of a run: records of one customer purged whole (`customer_id`
/// set), or single records whose customer stays (`None`).
#[derive(Debug, Clone)]
pub struct RetentionPart {
    pub customer_id: Option<String>,
    /// Record id → the record's own date (last update, else creation).
    pub records: Vec<(String, Option<DateTime<Utc>>)>,
}

impl Store {
    /// Purges every part in one transaction and appends one audit entry
    /// (`retention.run`, actor `actor`, with `details`: counts by source and
    /// reason). Returns the entry and the ledger entries to append, so that
    /// a restore of an older snapshot does not bring the records back.
    pub fn purge_retention(
        &self,
        parts: &[RetentionPart],
        actor: &str,
        mut details: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(AuditEntry, Vec<ErasureLedgerEntry>), StoreError> {
        let _span = tracing::info_span!("retention_purge", parts = parts.len()).entered();
        let txn = self.db.begin_write().map_err(db)?;
        let entry;
        let mut ledger = Vec::new();
        {
            let mut log = ChangeLog::open(&txn)?;
            let seq = txn
                .open_table(super::audit::AUDIT)
                .map_err(db)?
                .last()
                .map_err(db)?
                .map_or(1, |(k, _)| k.value() + 1);
            let run_id = format!("{PREFIX}{seq}");
            let no_identifiers = BTreeSet::new();
            let (mut records_purged, mut attributes_purged) = (0, 0);
            for part in parts {
                let doomed: BTreeSet<String> =
                    part.records.iter().map(|(id, _)| id.clone()).collect();
                let (records, attributes) = erase_in(
                    &txn,
                    &mut log,
                    &doomed,
                    &no_identifiers,
                    part.customer_id.as_deref(),
                    &run_id,
                )?;
                records_purged += records;
                attributes_purged += attributes;
                let mut tombstones = txn.open_table(ERASED_RECORDS).map_err(db)?;
                for (id, date) in &part.records {
                    if let Some(date) = date {
                        let value = format!("{run_id}@{}", date.to_rfc3339());
                        tombstones.insert(id.as_str(), value.as_str()).map_err(db)?;
                    }
                }
                ledger.push(ErasureLedgerEntry {
                    erasure_id: run_id.clone(),
                    at: Utc::now(),
                    customer_id: part.customer_id.clone().unwrap_or_default(),
                    records: doomed.into_iter().collect(),
                    identifier_hashes: Vec::new(),
                    mention_hashes: Vec::new(),
                });
            }
            details.insert("records_purged".into(), records_purged.into());
            details.insert("attributes_purged".into(), attributes_purged.into());
            entry = super::audit::append_one_in(
                &txn,
                NewAudit {
                    actor: actor.to_string(),
                    action: "retention.run".into(),
                    outcome: "ok".into(),
                    details,
                    ..NewAudit::default()
                },
            )?;
            log.finish()?;
        }
        txn.commit().map_err(db)?;
        Ok((entry, ledger))
    }
}
