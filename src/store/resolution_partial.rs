//! Incremental resolution, stored: which records changed since the last
//! resolution (what that resolution said about a record or a customer, which
//! the closure of `resolve::plan` reads, is `resolution_view.rs`), and
//! saving a partial resolution —
//! only the records and customers it re-resolved — in one transaction that
//! logs each record whose assignment changed.
//!
//! It must never decide anything, and never save a partial answer over
//! write-back data it cannot re-attach: the engine asks
//! [`Store::has_writeback`] and resolves the whole book instead.

use std::collections::BTreeSet;

use rayon::prelude::*;
use redb::{ReadableTable, ReadableTableMetadata};

use super::resolution::{ALIASES, ASSIGNMENTS, BIRTH, ENTITIES};
use super::{CHANGES, ChangeLog, RECORDS, Store, StoreError, corrupt, db, decode_record};
use crate::record::{NOTES_SOURCE, Record};
use crate::resolve::{Partial, SuspectPair, Unattached};

impl Store {
    /// The ids of the records written or removed after sequence number
    /// `after`, or `None` when there are more than `limit`.
    pub fn changed_since(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Option<BTreeSet<String>>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let changes = txn.open_table(CHANGES).map_err(db)?;
        let mut out = BTreeSet::new();
        for entry in changes.range(after.saturating_add(1)..).map_err(db)? {
            let (_, id) = entry.map_err(db)?;
            out.insert(id.value().to_string());
            if out.len() > limit {
                return Ok(None);
            }
        }
        Ok(Some(out))
    }

    /// Those of the records `ids` the store holds, each with its birth (its
    /// first-seen sequence number; `u64::MAX` when unknown), in the order
    /// of `ids`: an incremental pass reads only these, not the book.
    pub fn records_born<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<(u64, Record)>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let records = txn.open_table(RECORDS).map_err(db)?;
        let birth = txn.open_table(BIRTH).map_err(db)?;
        // Read in order on this thread, decoded (zstd, JSON) on every core.
        let mut raw: Vec<(&str, u64, Vec<u8>)> = Vec::new();
        for id in ids {
            let Some(bytes) = records.get(id).map_err(db)? else {
                continue;
            };
            let born = birth.get(id).map_err(db)?.map_or(u64::MAX, |b| b.value());
            raw.push((id, born, bytes.value().to_vec()));
        }
        raw.into_par_iter()
            .map(|(id, born, bytes)| Ok((born, decode_record(id, &bytes)?)))
            .collect()
    }

    /// Whether notes written through the API or customer attributes exist:
    /// their re-attachment after a resolution needs the whole of it.
    pub fn has_writeback(&self) -> Result<bool, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let records = txn.open_table(super::RECORDS).map_err(db)?;
        let (from, to) = (format!("{NOTES_SOURCE}:"), format!("{NOTES_SOURCE};"));
        let notes = records
            .range(from.as_str()..to.as_str())
            .map_err(db)?
            .next()
            .is_some();
        let attributes = txn
            .open_table(super::writeback::CUSTOMER_ATTRIBUTES)
            .map_err(db)?
            .len()
            .map_err(db)?;
        Ok(notes || attributes > 0)
    }

    /// Saves what `partial` re-resolved over the previous resolution:
    /// its records' assignments, its customers (replacing those it
    /// touched), and the suspects and unattached records that concern them.
    /// Returns how many records' assignments changed (each logged).
    pub fn save_partial_resolution(&self, partial: &Partial) -> Result<usize, StoreError> {
        let replaced: BTreeSet<&str> = partial.replaced_entities();
        let mut suspects: Vec<SuspectPair> = self.suspects()?;
        suspects.retain(|s| !replaced.contains(s.a.as_str()) && !replaced.contains(s.b.as_str()));
        suspects.extend(partial.resolution.suspects.iter().cloned());
        let mut unattached: Vec<Unattached> = self.unattached()?;
        unattached.retain(|u| !partial.records.contains(&u.record));
        unattached.extend(partial.resolution.unattached.iter().cloned());
        let txn = self.db.begin_write().map_err(db)?;
        let mut changed = 0;
        {
            let mut log = ChangeLog::open(&txn)?;
            let mut assignments = txn.open_table(ASSIGNMENTS).map_err(db)?;
            // Encoded on every core, written in key order by this thread.
            let ids: Vec<&String> = partial.records.iter().collect();
            let encoded: Vec<(&String, Option<Vec<u8>>)> = ids
                .par_iter()
                .map(|id| match partial.resolution.assignments.get(*id) {
                    Some(a) => Ok((
                        *id,
                        Some(serde_json::to_vec(a).map_err(|e| corrupt(id, e))?),
                    )),
                    None => Ok((*id, None)),
                })
                .collect::<Result<_, StoreError>>()?;
            for (id, bytes) in encoded {
                let existing = assignments
                    .get(id.as_str())
                    .map_err(db)?
                    .map(|b| b.value().to_vec());
                let logged = match bytes {
                    Some(bytes) => {
                        let differs = existing.as_deref() != Some(bytes.as_slice());
                        if differs {
                            assignments
                                .insert(id.as_str(), bytes.as_slice())
                                .map_err(db)?;
                        }
                        differs
                    }
                    None if existing.is_some() => {
                        assignments.remove(id.as_str()).map_err(db)?;
                        true
                    }
                    None => false,
                };
                if logged && log.records.get(id.as_str()).map_err(db)?.is_some() {
                    log.log(id)?;
                    changed += 1;
                }
            }
            let mut entities = txn.open_table(ENTITIES).map_err(db)?;
            // Touched customers the answer no longer has are removed; those
            // it has are compared with their stored bytes as they are written.
            let kept: BTreeSet<&str> = partial
                .resolution
                .entities
                .iter()
                .map(|e| e.id.as_str())
                .collect();
            for id in &partial.touched {
                if !kept.contains(id.as_str()) {
                    entities.remove(id.as_str()).map_err(db)?;
                }
            }
            super::resolution::put_entities_and_lists(
                txn.open_table(ALIASES).map_err(db)?,
                &mut entities,
                &mut log,
                &partial.resolution.entities,
                &suspects,
                &unattached,
            )?;
            drop((assignments, entities));
            log.finish()?;
        }
        txn.commit().map_err(db)?;
        Ok(changed)
    }
}
