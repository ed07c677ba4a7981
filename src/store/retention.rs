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
//! When a whole customer goes, the names, email addresses and phone numbers
//! of its people are replaced by `[erased]` in the free text of records
//! that stay, as an erasure does: their retention period is over there too.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use redb::ReadableTable;

use super::audit::{AuditEntry, NewAudit};
use super::erasure::{ERASED_RECORDS, erase_in, without_mentions};
use super::erasure_ledger::ErasureLedgerEntry;
use super::retention_tombstone::{PREFIX, dated};
use super::{ChangeLog, RECORDS, Store, StoreError, corrupt, db};
use crate::normalize::mentions::Mentions;
use crate::record::{Record, RecordKind};

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
        let (part_mentions, redacted) = mentions_to_redact(&txn, parts)?;
        {
            let mut log = ChangeLog::open(&txn)?;
            for (id, record) in &redacted {
                let bytes = serde_json::to_vec(record).map_err(|e| corrupt(id, e))?;
                log.upsert(id, &bytes)?;
            }
            let seq = txn
                .open_table(super::audit::AUDIT)
                .map_err(db)?
                .last()
                .map_err(db)?
                .map_or(1, |(k, _)| k.value() + 1);
            let run_id = format!("{PREFIX}{seq}");
            let no_identifiers = BTreeSet::new();
            let (mut records_purged, mut attributes_purged) = (0, 0);
            for (part, mentions) in parts.iter().zip(&part_mentions) {
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
                        let value = dated(&run_id, date);
                        tombstones.insert(id.as_str(), value.as_str()).map_err(db)?;
                    }
                }
                super::erased_mentions::remember(&txn, &mentions.hashes(), &run_id)?;
                ledger.push(ErasureLedgerEntry {
                    erasure_id: run_id.clone(),
                    at: Utc::now(),
                    customer_id: part.customer_id.clone().unwrap_or_default(),
                    records: doomed.into_iter().collect(),
                    identifier_hashes: Vec::new(),
                    mention_hashes: mentions.hashes(),
                    record_dates: (part.records.iter())
                        .filter_map(|(id, date)| date.map(|d| (id.clone(), d)))
                        .collect(),
                });
            }
            details.insert("records_purged".into(), records_purged.into());
            details.insert("attributes_purged".into(), attributes_purged.into());
            details.insert("mentions_redacted".into(), redacted.len().into());
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
        super::rewrite::mark_pending(&txn)?;
        txn.commit().map_err(db)?;
        Ok((entry, ledger))
    }
}

/// Records to write back with mentions replaced: (record id, record).
type Redacted = Vec<(String, Record)>;

/// The people's details each part's purge removes (only when a whole
/// customer goes: a single expired record's person may still be a customer
/// through others), and the records outside every part whose title or body
/// mentions one of them, with the mentions replaced.
fn mentions_to_redact(
    txn: &redb::WriteTransaction,
    parts: &[RetentionPart],
) -> Result<(Vec<Mentions>, Redacted), StoreError> {
    let records = txn.open_table(RECORDS).map_err(db)?;
    let read = |id: &str| -> Result<Option<Record>, StoreError> {
        match records.get(id).map_err(db)? {
            Some(value) => super::decode_record(id, value.value()).map(Some),
            None => Ok(None),
        }
    };
    let (mut all_emails, mut all_phones, mut all_names) = (Vec::new(), Vec::new(), Vec::new());
    let mut per_part = Vec::with_capacity(parts.len());
    for part in parts {
        let (mut emails, mut phones, mut names) = (Vec::new(), Vec::new(), Vec::new());
        if part.customer_id.is_some() {
            for (id, _) in &part.records {
                if let Some(record) = read(id)?
                    && record.kind == RecordKind::Person
                {
                    emails.extend(record.emails);
                    phones.extend(record.phones);
                    names.extend(record.names);
                }
            }
        }
        per_part.push(Mentions::new(
            emails.iter().map(String::as_str),
            phones.iter().map(String::as_str),
            names.iter().map(String::as_str),
        ));
        all_emails.append(&mut emails);
        all_phones.append(&mut phones);
        all_names.append(&mut names);
    }
    let everyone = Mentions::new(
        all_emails.iter().map(String::as_str),
        all_phones.iter().map(String::as_str),
        all_names.iter().map(String::as_str),
    );
    let mut redacted = Vec::new();
    if !everyone.is_empty() {
        let purged: BTreeSet<&str> = (parts.iter())
            .flat_map(|p| p.records.iter().map(|(id, _)| id.as_str()))
            .collect();
        for row in records.iter().map_err(db)? {
            let (key, value) = row.map_err(db)?;
            let id = key.value();
            if purged.contains(id) {
                continue;
            }
            let record: Record = super::decode_record(id, value.value())?;
            if let Some(cleaned) = without_mentions(&record, &everyone) {
                redacted.push((id.to_string(), cleaned));
            }
        }
    }
    Ok((per_part, redacted))
}
