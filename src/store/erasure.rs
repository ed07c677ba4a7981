//! Erasure of a person on request (GDPR art. 17) in the store: their
//! records go, with their write-back attributes, in one durable
//! transaction that also leaves tombstones, so that reading the same export
//! again, or a new one carrying their email address or phone number, does
//! not bring them back; and an entry in the audit log says who asked, when
//! and why.
//!
//! It must never keep what it erases: tombstones hold record ids and the
//! BLAKE3 hashes of email addresses and phone numbers, never the values,
//! and the audit entry names the customer id and counts, never personal
//! data.

use std::collections::BTreeSet;

use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};

use super::audit::{AuditEntry, NewAudit};
use super::erasure_ledger::ErasureLedgerEntry;
use super::resolution_tables::{ASSIGNMENTS, ENTITIES};
use super::writeback::CUSTOMER_ATTRIBUTES;
use super::{ChangeLog, RECORDS, Store, StoreError, corrupt, db};
use crate::normalize::mention_hashes::HashedMentions;
use crate::normalize::mentions::Mentions;
use crate::record::Record;

/// record id → the erasure that removed it.
pub(super) const ERASED_RECORDS: TableDefinition<&str, &str> =
    TableDefinition::new("erased_records");
/// hash of an identifier (`email:…`, `phone:…`) → the erasure that blocked it.
pub(super) const ERASED_KEYS: TableDefinition<&str, &str> = TableDefinition::new("erased_keys");

pub(super) fn create_tables(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(ERASED_RECORDS).map_err(db)?;
    txn.open_table(ERASED_KEYS).map_err(db)?;
    txn.open_table(super::erased_assignments::ERASED_ASSIGNMENTS)
        .map_err(db)?;
    txn.open_table(super::erased_mentions::ERASED_MENTIONS)
        .map_err(db)?;
    txn.open_table(super::audit::AUDIT).map_err(db)?;
    Ok(())
}

/// What to erase: the records that describe or are attached to the person,
/// and their identifiers (records anywhere else that carry one go too).
#[derive(Debug, Clone)]
pub struct Erasure {
    pub customer_id: String,
    pub records: BTreeSet<String>,
    pub identifiers: BTreeSet<String>,
    pub requested_by: String,
    pub reason: String,
    /// The person's details as other records' free text may mention them;
    /// replaced by `[erased]` in the titles and bodies of records that stay.
    pub mentions: Mentions,
}

/// `record` with the person's mentions replaced in its title and body, or
/// `None` when it mentions them nowhere.
pub(super) fn without_mentions(record: &Record, mentions: &Mentions) -> Option<Record> {
    if mentions.is_empty() {
        return None;
    }
    redacted_with(record, &|text| mentions.redact(text))
}

/// `record` with its title and body passed through `redact`, or `None` when
/// neither changed.
fn redacted_with(record: &Record, redact: &dyn Fn(&str) -> Option<String>) -> Option<Record> {
    let title = record.title.as_deref().and_then(redact);
    let body = record.body.as_deref().and_then(redact);
    if title.is_none() && body.is_none() {
        return None;
    }
    let mut cleaned = record.clone();
    if title.is_some() {
        cleaned.title = title;
    }
    if body.is_some() {
        cleaned.body = body;
    }
    Some(cleaned)
}

/// The identifiers of a record that tombstones can match, normalised:
/// `email:` + lower-case address, `phone:` + the stored (E.164) number.
pub fn identifiers(record: &Record) -> impl Iterator<Item = String> + '_ {
    let emails = record
        .emails
        .iter()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .map(|e| format!("email:{e}"));
    let phones = record
        .phones
        .iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .map(|p| format!("phone:{p}"));
    emails.chain(phones)
}

fn hashed(identifier: &str) -> String {
    blake3::hash(identifier.as_bytes()).to_hex().to_string()
}

/// The tombstones an ingest batch checks its records against.
pub(super) struct Tombstones<'txn> {
    records: redb::Table<'txn, &'static str, &'static str>,
    keys: redb::Table<'txn, &'static str, &'static str>,
    /// No erasure ever happened: nothing to check.
    none: bool,
    /// Erased people's mentions, redacted from what is written.
    mentions: Option<HashedMentions>,
}

impl<'txn> Tombstones<'txn> {
    pub(super) fn open(txn: &'txn redb::WriteTransaction) -> Result<Self, StoreError> {
        let records = txn.open_table(ERASED_RECORDS).map_err(db)?;
        let keys = txn.open_table(ERASED_KEYS).map_err(db)?;
        let none = records.is_empty().map_err(db)? && keys.is_empty().map_err(db)?;
        let mentions = if none {
            None
        } else {
            super::erased_mentions::load(txn)?
        };
        Ok(Tombstones {
            records,
            keys,
            none,
            mentions,
        })
    }

    /// `record` with erased people's mentions replaced in its title and
    /// body, or `None` when it mentions none of them.
    pub(super) fn without_erased_mentions(&self, record: &Record) -> Option<Record> {
        let mentions = self.mentions.as_ref()?;
        redacted_with(record, &|text| mentions.redact(text))
    }

    /// Whether `record` was erased, or carries an erased person's identifier.
    pub(super) fn covers(&self, id: &str, record: &Record) -> Result<bool, StoreError> {
        if self.none {
            return Ok(false);
        }
        if let Some(tombstone) = self.records.get(id).map_err(db)? {
            // A retention purge keeps out the record as it was; a version
            // updated since in its source is new data.
            match super::retention_tombstone::purged_as_of(tombstone.value()) {
                Some(as_of) if record.updated.or(record.created).is_some_and(|d| d > as_of) => {}
                _ => return Ok(true),
            }
        }
        for identifier in identifiers(record) {
            if self
                .keys
                .get(hashed(&identifier).as_str())
                .map_err(db)?
                .is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Store {
    /// Erases `erasure.records` and every other record carrying one of
    /// `erasure.identifiers`, the customer's attributes and resolution
    /// entry, leaves tombstones for all of them, and appends the audit
    /// entry, in one durable transaction. The records' deletions go to the
    /// change log, so the index drops them when it catches up.
    pub fn erase(&self, erasure: &Erasure) -> Result<(AuditEntry, ErasureLedgerEntry), StoreError> {
        let _span = tracing::info_span!("erase", customer = %erasure.customer_id).entered();
        let hashes: BTreeSet<String> = erasure.identifiers.iter().map(|i| hashed(i)).collect();
        let mut doomed = erasure.records.clone();
        let mut redacted: Vec<(String, Record)> = Vec::new();
        // The scan runs inside the write transaction: redb serialises
        // writers, so a note or any other write that races the erasure is
        // either seen here or made after it (and then refused or attached
        // to nothing).
        let txn = self.db.begin_write().map_err(db)?;
        // Every other record that carries one of the person's identifiers;
        // notes written about one of the doomed records; the others that
        // mention them, with the mentions replaced.
        {
            let records = txn.open_table(RECORDS).map_err(db)?;
            let mut notes: Vec<(String, Vec<String>)> = Vec::new();
            for row in records.iter().map_err(db)? {
                let (key, value) = row.map_err(db)?;
                let record: Record = super::decode_record(key.value(), value.value())?;
                let id = key.value();
                if identifiers(&record).any(|i| erasure.identifiers.contains(&i)) {
                    doomed.insert(id.to_string());
                    continue;
                }
                if record.source == crate::record::NOTES_SOURCE {
                    let targets = (record.links.iter())
                        .filter(|l| l.rel == crate::record::NOTE_LINK)
                        .map(|l| l.target.clone())
                        .collect();
                    notes.push((id.to_string(), targets));
                }
                if !doomed.contains(id)
                    && let Some(cleaned) = without_mentions(&record, &erasure.mentions)
                {
                    redacted.push((id.to_string(), cleaned));
                }
            }
            for (id, targets) in notes {
                if targets.iter().any(|t| doomed.contains(t)) {
                    doomed.insert(id);
                }
            }
            redacted.retain(|(id, _)| !doomed.contains(id));
        }
        let entry;
        let ledger;
        {
            let mut log = ChangeLog::open(&txn)?;
            let seq = txn
                .open_table(super::audit::AUDIT)
                .map_err(db)?
                .last()
                .map_err(db)?
                .map_or(1, |(k, _)| k.value() + 1);
            let erasure_id = format!("erasure-{seq}");
            let mut mentions_redacted = 0;
            for (id, record) in &redacted {
                let bytes = serde_json::to_vec(record).map_err(|e| corrupt(id, e))?;
                log.upsert(id, &bytes)?;
                mentions_redacted += 1;
            }
            let (records_erased, attributes_erased) = erase_in(
                &txn,
                &mut log,
                &doomed,
                &hashes,
                Some(&erasure.customer_id),
                &erasure_id,
            )?;
            ledger = ErasureLedgerEntry {
                erasure_id: erasure_id.clone(),
                at: chrono::Utc::now(),
                customer_id: erasure.customer_id.clone(),
                records: doomed.iter().cloned().collect(),
                identifier_hashes: hashes.iter().cloned().collect(),
                mention_hashes: erasure.mentions.hashes(),
                record_dates: Default::default(),
            };
            super::erased_mentions::remember(&txn, &ledger.mention_hashes, &erasure_id)?;
            let mut details = serde_json::Map::new();
            details.insert("requested_by".into(), erasure.requested_by.clone().into());
            details.insert("reason".into(), erasure.reason.clone().into());
            details.insert("records_erased".into(), records_erased.into());
            details.insert("attributes_erased".into(), attributes_erased.into());
            details.insert("identifiers_blocked".into(), hashes.len().into());
            details.insert("mentions_redacted".into(), mentions_redacted.into());
            entry = super::audit::append_one_in(
                &txn,
                NewAudit {
                    actor: erasure.requested_by.clone(),
                    action: "erase".into(),
                    customer_id: Some(erasure.customer_id.clone()),
                    outcome: "ok".into(),
                    details,
                    ..NewAudit::default()
                },
            )?;
            log.finish()?;
        }
        super::rewrite::mark_pending(&txn)?;
        txn.commit().map_err(db)?;
        tracing::info!(
            customer = %erasure.customer_id,
            records = ?entry.details.get("records_erased"),
            identifiers = ?entry.details.get("identifiers_blocked"),
            "erased"
        );
        Ok((entry, ledger))
    }
}

impl Store {
    /// Records outside `doomed` whose title or text mentions the person of a
    /// ledger entry, found by the entry's mention hashes, with the mentions
    /// replaced.
    fn redactions_from_hashes(
        &self,
        entry: &ErasureLedgerEntry,
        doomed: &BTreeSet<String>,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        let mentions = HashedMentions::from_hashes(&entry.mention_hashes);
        if mentions.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.db.begin_read().map_err(db)?;
        let records = txn.open_table(RECORDS).map_err(db)?;
        let mut out = Vec::new();
        for row in records.iter().map_err(db)? {
            let (key, value) = row.map_err(db)?;
            let id = key.value();
            if doomed.contains(id) || entry.records.iter().any(|r| r == id) {
                continue;
            }
            let record: Record = super::decode_record(id, value.value())?;
            if let Some(cleaned) = redacted_with(&record, &|text| mentions.redact(text)) {
                out.push((id.to_string(), cleaned));
            }
        }
        Ok(out)
    }
}

/// Deletes `doomed` records with their tombstones (`erasure_id`), blocks
/// the identifier `hashes`, and drops the customer's entity and
/// attributes (when a whole customer goes), inside `txn`: the part of an
/// erasure that a restore re-applies from the ledger. Returns the records
/// and attributes removed.
pub(super) fn erase_in(
    txn: &redb::WriteTransaction,
    log: &mut ChangeLog,
    doomed: &BTreeSet<String>,
    hashes: &BTreeSet<String>,
    customer_id: Option<&str>,
    erasure_id: &str,
) -> Result<(usize, usize), StoreError> {
    let mut assignments = txn.open_table(ASSIGNMENTS).map_err(db)?;
    let mut set_aside = txn
        .open_table(super::erased_assignments::ERASED_ASSIGNMENTS)
        .map_err(db)?;
    let mut entities = txn.open_table(ENTITIES).map_err(db)?;
    let mut attributes = txn.open_table(CUSTOMER_ATTRIBUTES).map_err(db)?;
    let mut erased_records = txn.open_table(ERASED_RECORDS).map_err(db)?;
    let mut erased_keys = txn.open_table(ERASED_KEYS).map_err(db)?;
    let mut records_erased = 0;
    for id in doomed {
        if log.delete(id)? {
            records_erased += 1;
        }
        log.birth.remove(id.as_str()).map_err(db)?;
        super::erased_assignments::set_aside(&mut assignments, &mut set_aside, id)?;
        erased_records.insert(id.as_str(), erasure_id).map_err(db)?;
    }
    for hash in hashes {
        erased_keys.insert(hash.as_str(), erasure_id).map_err(db)?;
    }
    let Some(customer_id) = customer_id else {
        return Ok((records_erased, 0));
    };
    entities.remove(customer_id).map_err(db)?;
    let (from, to) = super::writeback::customer_range(customer_id);
    let attribute_keys: Vec<String> = attributes
        .range(from.as_str()..to.as_str())
        .map_err(db)?
        .map(|row| row.map(|(k, _)| k.value().to_string()).map_err(db))
        .collect::<Result<_, _>>()?;
    for key in &attribute_keys {
        attributes.remove(key.as_str()).map_err(db)?;
    }
    Ok((records_erased, attribute_keys.len()))
}

impl Store {
    /// Re-applies one ledger entry if the store lacks it (a restored
    /// snapshot older than the erasure): its records and every record
    /// carrying one of its identifiers are deleted with tombstones, and an
    /// audit entry says so. Returns whether anything changed.
    pub fn reapply_erasure(&self, entry: &ErasureLedgerEntry) -> Result<bool, StoreError> {
        let hashes: BTreeSet<String> = entry.identifier_hashes.iter().cloned().collect();
        let mut doomed: BTreeSet<String> = BTreeSet::new();
        let mut complete = true;
        {
            let txn = self.db.begin_read().map_err(db)?;
            let erased_records = txn.open_table(ERASED_RECORDS).map_err(db)?;
            let erased_keys = txn.open_table(ERASED_KEYS).map_err(db)?;
            for id in &entry.records {
                complete &= erased_records.get(id.as_str()).map_err(db)?.is_some();
            }
            for hash in &hashes {
                complete &= erased_keys.get(hash.as_str()).map_err(db)?.is_some();
            }
            let records = txn.open_table(RECORDS).map_err(db)?;
            // A retention purge the store already holds: a record of it
            // present again is a newer version its tombstone let in.
            let retention = entry
                .erasure_id
                .starts_with(super::retention_tombstone::PREFIX);
            for id in &entry.records {
                let applied = erased_records.get(id.as_str()).map_err(db)?.is_some();
                if records.get(id.as_str()).map_err(db)?.is_some() && !(retention && applied) {
                    doomed.insert(id.clone());
                }
            }
            if !hashes.is_empty() {
                for row in records.iter().map_err(db)? {
                    let (key, value) = row.map_err(db)?;
                    let record: Record = super::decode_record(key.value(), value.value())?;
                    if identifiers(&record).any(|i| hashes.contains(&hashed(&i))) {
                        doomed.insert(key.value().to_string());
                    }
                }
            }
        }
        if complete && doomed.is_empty() {
            return Ok(false);
        }
        // The store lacks this erasure: its mentions elsewhere are back too.
        let redacted = self.redactions_from_hashes(entry, &doomed)?;
        let all: BTreeSet<String> = doomed.iter().chain(&entry.records).cloned().collect();
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut log = ChangeLog::open(&txn)?;
            for (id, record) in &redacted {
                let bytes = serde_json::to_vec(record).map_err(|e| corrupt(id, e))?;
                log.upsert(id, &bytes)?;
            }
            let (records_erased, attributes_erased) = erase_in(
                &txn,
                &mut log,
                &all,
                &hashes,
                // A retention run's records that left their customer in place.
                Some(entry.customer_id.as_str()).filter(|c| !c.is_empty()),
                &entry.erasure_id,
            )?;
            super::erased_mentions::remember(&txn, &entry.mention_hashes, &entry.erasure_id)?;
            // A retention run's tombstones keep their dates, as the run wrote them.
            let mut tombstones = txn.open_table(ERASED_RECORDS).map_err(db)?;
            for (id, date) in &entry.record_dates {
                let value = super::retention_tombstone::dated(&entry.erasure_id, date);
                tombstones.insert(id.as_str(), value.as_str()).map_err(db)?;
            }
            drop(tombstones);
            let mut details = serde_json::Map::new();
            details.insert("erasure_id".into(), entry.erasure_id.clone().into());
            details.insert("mentions_redacted".into(), redacted.len().into());
            details.insert("records_erased".into(), records_erased.into());
            details.insert("attributes_erased".into(), attributes_erased.into());
            super::audit::append_one_in(
                &txn,
                NewAudit {
                    actor: "rapport".into(),
                    action: "erase.reapplied".into(),
                    customer_id: Some(entry.customer_id.clone()),
                    outcome: "ok".into(),
                    details,
                    ..NewAudit::default()
                },
            )?;
            log.finish()?;
        }
        super::rewrite::mark_pending(&txn)?;
        txn.commit().map_err(db)?;
        tracing::warn!(
            erasure = %entry.erasure_id,
            records = doomed.len(),
            "an erasure the store lacked (restored from an older snapshot?) was applied again"
        );
        Ok(true)
    }
}
