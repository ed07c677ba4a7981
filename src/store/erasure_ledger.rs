//! The erasure ledger: what each erasure removed (record ids and identifier
//! hashes, never values), kept in `data_dir/erasures.ndjson`, outside every
//! snapshot, and carried over by a restore. Opening a data directory
//! re-applies every ledger entry the store lacks (`Store::reapply_erasure`
//! in `erasure.rs`), so a snapshot taken before an erasure never brings the
//! person back.
//!
//! It must never hold personal values, and never skip an entry it cannot
//! read: an unreadable ledger line stops the open with an error naming it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{StoreError, corrupt};

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
    /// Hashes of the mentions redacted in other records' text
    /// (`Mentions::hashes`), so a restore can redact them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mention_hashes: Vec<String>,
    /// A retention run's records → the date each carried, so that a
    /// re-applied purge keeps its dated tombstones (a version updated since
    /// in its source comes back) rather than keeping them out for good.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub record_dates: BTreeMap<String, DateTime<Utc>>,
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
