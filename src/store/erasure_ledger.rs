//! The erasure ledger: what each erasure removed (record ids and identifier
//! hashes, never values), kept in `data_dir/erasures.ndjson`, outside every
//! snapshot, and carried over by a restore. Opening a data directory
//! re-applies every ledger entry the store lacks, so a snapshot taken
//! before an erasure never brings the person back.
//!
//! It must never hold personal values, and never skip an entry it cannot
//! read: an unreadable ledger line stops the open with an error naming it.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};

use super::audit::NewAudit;
use super::erasure::{ERASED_KEYS, ERASED_RECORDS, erase_in, identifier_hash, identifiers};
use super::{ChangeLog, RECORDS, Store, StoreError, corrupt, db};
use crate::record::Record;

/// The ledger's file name in the data directory.
pub const LEDGER_FILE: &str = "erasures.ndjson";

/// One erasure as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErasureLedgerEntry {
    pub erasure_id: String,
    pub at: DateTime<Utc>,
    pub customer_id: String,
    /// The records the erasure deleted.
    pub records: Vec<String>,
    /// BLAKE3 hashes of the person's email addresses and phone numbers.
    pub identifier_hashes: Vec<String>,
}

/// Appends `entry` to the ledger in `data_dir` and syncs it to disk.
pub fn append_ledger(data_dir: &Path, entry: &ErasureLedgerEntry) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join(LEDGER_FILE))?;
    let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    line.push(b'\n');
    file.write_all(&line)?;
    file.sync_all()
}

/// Every entry of the ledger in `data_dir` (none when there is no ledger).
pub fn read_ledger(data_dir: &Path) -> Result<Vec<ErasureLedgerEntry>, StoreError> {
    let path = data_dir.join(LEDGER_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(corrupt(&path.display().to_string(), e)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line)
                .map_err(|e| corrupt(&format!("{} line {}", path.display(), n + 1), e))
        })
        .collect()
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
            for id in &entry.records {
                if records.get(id.as_str()).map_err(db)?.is_some() {
                    doomed.insert(id.clone());
                }
            }
            if !hashes.is_empty() {
                for row in records.iter().map_err(db)? {
                    let (key, value) = row.map_err(db)?;
                    let record: Record = serde_json::from_slice(value.value())
                        .map_err(|e| corrupt(key.value(), e))?;
                    if identifiers(&record).any(|i| hashes.contains(&identifier_hash(&i))) {
                        doomed.insert(key.value().to_string());
                    }
                }
            }
        }
        if complete && doomed.is_empty() {
            return Ok(false);
        }
        let all: BTreeSet<String> = doomed.iter().chain(&entry.records).cloned().collect();
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut log = ChangeLog::open(&txn)?;
            let (records_erased, attributes_erased) = erase_in(
                &txn,
                &mut log,
                &all,
                &hashes,
                &entry.customer_id,
                &entry.erasure_id,
            )?;
            let mut details = serde_json::Map::new();
            details.insert("erasure_id".into(), entry.erasure_id.clone().into());
            details.insert("records_erased".into(), records_erased.into());
            details.insert("attributes_erased".into(), attributes_erased.into());
            super::audit::append_in(
                &txn,
                vec![NewAudit {
                    actor: "rapport".into(),
                    action: "erase.reapplied".into(),
                    customer_id: Some(entry.customer_id.clone()),
                    outcome: "ok".into(),
                    details,
                    ..NewAudit::default()
                }],
            )?;
            log.finish()?;
        }
        txn.commit().map_err(db)?;
        tracing::warn!(
            erasure = %entry.erasure_id,
            records = doomed.len(),
            "an erasure the store lacked (restored from an older snapshot?) was applied again"
        );
        Ok(true)
    }
}
