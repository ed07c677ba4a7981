//! What resolution decided, kept in the store: each record's assignment
//! (customer, person, organisation, golden customer fields, evidence), the
//! entities with their golden records, every entity id ever issued (so an id
//! merged away keeps resolving), the steward's overrides and the suspected
//! duplicates. Saving a resolution logs a change for every record whose
//! assignment changed, so the index re-reads exactly those.
//!
//! It must never decide anything: `crate::resolve` does.

use rayon::prelude::*;
use redb::ReadableTable;

use super::encode_ahead::write_encoded_ahead;
use super::record_codec::{self, Encoded};
use super::{ChangeLog, Store, StoreError, corrupt, db, read_json};
use crate::record::Record;
use crate::resolve::{
    Assignment, Entity, ModelReport, Overrides, Resolution, SuspectPair, Unattached,
};

pub(super) use super::resolution_tables::{ALIASES, ASSIGNMENTS, BIRTH, ENTITIES};

const META_OVERRIDES: &str = "overrides";
pub(super) const META_SUSPECTS: &str = "suspects";
pub(super) const META_UNATTACHED: &str = "unattached";
/// The models' m/u estimates of the last full pass, when `[resolve]
/// weights` had them estimated (absent with hand weights).
const META_MODEL: &str = "resolution_model";
/// Assignments and customers are encoded this many at a time, in parallel,
/// a chunk ahead of the one thread that writes them (`encode_ahead.rs`).
const ENCODE_CHUNK: usize = 8_192;

/// Writes `entities` with their aliases, and the suspect pairs and
/// unattached records as the resolution's lists, in the change log's
/// transaction (a full pass and a partial one save them alike).
pub(super) fn put_entities_and_lists(
    mut aliases: redb::Table<'_, &'static str, &'static str>,
    entities: &mut redb::Table<'_, &'static str, &'static [u8]>,
    log: &mut ChangeLog<'_>,
    written: &[Entity],
    suspects: &[SuspectPair],
    unattached: &[Unattached],
) -> Result<(), StoreError> {
    // In id order: ids are hashes, so the order entities come in hops
    // across both B-trees, and each insert there shifted a leaf's bytes
    // (writing them was about half of the save's CPU at 300k records).
    let mut written: Vec<&Entity> = written.iter().collect();
    written.par_sort_unstable_by(|a, b| a.id.cmp(&b.id));
    write_encoded_ahead(
        &written,
        ENCODE_CHUNK,
        |entity| encode_entity(entity),
        |entity, encoded| {
            // A customer stored as it is now is left alone: a partial pass
            // re-resolves thousands whose bytes do not change, and every
            // write copies B-tree pages.
            let same = entities
                .get(entity.id.as_str())
                .map_err(db)?
                .is_some_and(|old| encoded.is_held_by(old.value()));
            if !same {
                entities
                    .insert(entity.id.as_str(), encoded.stored.as_slice())
                    .map_err(db)?;
            }
            let same_alias = aliases
                .get(entity.id.as_str())
                .map_err(db)?
                .is_some_and(|old| old.value() == entity.anchor.as_str());
            if !same_alias {
                aliases
                    .insert(entity.id.as_str(), entity.anchor.as_str())
                    .map_err(db)?;
            }
            Ok(())
        },
    )?;
    let suspects = serde_json::to_vec(suspects).map_err(|e| corrupt(META_SUSPECTS, e))?;
    log.meta
        .insert(META_SUSPECTS, suspects.as_slice())
        .map_err(db)?;
    let unattached = serde_json::to_vec(unattached).map_err(|e| corrupt(META_UNATTACHED, e))?;
    log.meta
        .insert(META_UNATTACHED, unattached.as_slice())
        .map_err(db)?;
    Ok(())
}

/// A customer's JSON and the bytes stored for it (one zstd frame, as a
/// record's: a customer's JSON is 1.7 kB on the benchmark corpus, its
/// members, their evidence and every value seen, and repeats itself).
pub(super) fn encode_entity(entity: &Entity) -> Result<Encoded, StoreError> {
    record_codec::encode_json(entity).map_err(|e| corrupt(&entity.id, e))
}

pub(super) fn create_tables(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(ASSIGNMENTS).map_err(db)?;
    txn.open_table(BIRTH).map_err(db)?;
    txn.open_table(ENTITIES).map_err(db)?;
    txn.open_table(ALIASES).map_err(db)?;
    Ok(())
}

pub(super) fn apply_assignment(
    record: &mut Record,
    id: &str,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let a: Assignment = serde_json::from_slice(bytes).map_err(|e| corrupt(id, e))?;
    record.customer_id = a.customer_id;
    record.person_id = a.person_id;
    record.org_id = a.org_id;
    record.customer_name = a.customer_name;
    record.customer_kind = a.customer_kind;
    record.customer_country = a.customer_country;
    record.search_keys = a.search_keys;
    record.customer_consent = a.consent;
    if let Some(owner) = a.owner {
        // The id the source gave stays searchable (and filterable) as
        // `attrs.owner_id`; the owner field, its facet and filter show the name.
        if let Some(id) = record
            .owner
            .replace(owner)
            .filter(|id| Some(id) != record.owner.as_ref())
        {
            record
                .attrs
                .insert("owner_id".into(), serde_json::Value::String(id));
        }
    }
    if !a.phones.is_empty() {
        for phone in a.phones {
            if !record.phones.contains(&phone) {
                record.phones.push(phone);
            }
        }
        record.attrs.remove("raw_phones");
        record.quality.retain(|q| q.field != "phones");
    }
    Ok(())
}

impl Store {
    /// Every record, oldest first (by first insert), as resolution wants them.
    pub fn records_by_birth(&self) -> Result<Vec<Record>, StoreError> {
        Ok(self
            .records_with_birth()?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    /// [`Store::records_by_birth`], each as `shape` makes it as it is
    /// decoded: a full resolution reads the book as `resolve::BookRecord`s,
    /// so it holds only what it reads and never a whole `Record` vector.
    pub fn records_by_birth_as<T, F>(&self, shape: F) -> Result<Vec<T>, StoreError>
    where
        T: Send,
        F: Fn(Record) -> T + Sync,
    {
        Ok(
            super::book_scan::scan_with_birth(self, |r| Some(shape(r)), true)?
                .into_iter()
                .map(|(_, r)| r)
                .collect(),
        )
    }

    /// [`Store::records_with_birth`], each as `shape` makes it as it is
    /// decoded: the book's statistics read `resolve::BookRecord`s.
    pub fn records_with_birth_as<T, F>(&self, shape: F) -> Result<Vec<(u64, T)>, StoreError>
    where
        T: Send,
        F: Fn(Record) -> T + Sync,
    {
        super::book_scan::scan_with_birth(self, |r| Some(shape(r)), true)
    }

    /// [`Store::records_by_birth`], each with its birth (first-seen
    /// sequence number; `u64::MAX` when unknown).
    pub fn records_with_birth(&self) -> Result<Vec<(u64, Record)>, StoreError> {
        // Decoded on rayon's threads (`book_scan.rs`).
        super::book_scan::scan_with_birth(self, Some, true)
    }

    /// Saves a resolution in one transaction. Returns how many records'
    /// assignments changed (each logged for the index).
    pub fn save_resolution(&self, resolution: &Resolution) -> Result<usize, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let mut changed = 0;
        {
            let mut log = ChangeLog::open(&txn)?;
            let mut assignments = txn.open_table(ASSIGNMENTS).map_err(db)?;
            // Only the ids that lost their assignment are held: each kept
            // one is compared with its stored bytes as it is written (a
            // copy of every stored assignment was hundreds of MB at 1M).
            let mut stale: Vec<String> = Vec::new();
            for entry in assignments.iter().map_err(db)? {
                let (id, _) = entry.map_err(db)?;
                if !resolution.assignments.contains_key(id.value()) {
                    stale.push(id.value().to_string());
                }
            }
            for id in stale {
                assignments.remove(id.as_str()).map_err(db)?;
                if log.records.get(id.as_str()).map_err(db)?.is_some() {
                    log.log(&id)?;
                    changed += 1;
                }
            }
            // In key order, so the B-tree is walked rather than hopped;
            // encoded on every core a chunk ahead of the one thread that
            // writes them, so only three chunks' bytes are held at once.
            let mut in_order: Vec<(&String, &Assignment)> = resolution.assignments.iter().collect();
            in_order.par_sort_unstable_by(|a, b| a.0.cmp(b.0));
            write_encoded_ahead(
                &in_order,
                ENCODE_CHUNK,
                |(id, assignment)| serde_json::to_vec(assignment).map_err(|e| corrupt(id, e)),
                |(id, _), bytes| {
                    let same = assignments
                        .get(id.as_str())
                        .map_err(db)?
                        .is_some_and(|old| old.value() == bytes.as_slice());
                    if !same {
                        assignments
                            .insert(id.as_str(), bytes.as_slice())
                            .map_err(db)?;
                        log.log(id)?;
                        changed += 1;
                    }
                    Ok(())
                },
            )?;
            drop(in_order);
            let mut entities = txn.open_table(ENTITIES).map_err(db)?;
            // Customers no longer resolved go; the others are compared with
            // their stored bytes as they are written.
            let current: std::collections::HashSet<&str> =
                resolution.entities.iter().map(|e| e.id.as_str()).collect();
            entities.retain(|id, _| current.contains(id)).map_err(db)?;
            drop(current);
            put_entities_and_lists(
                txn.open_table(ALIASES).map_err(db)?,
                &mut entities,
                &mut log,
                &resolution.entities,
                &resolution.suspects,
                &resolution.unattached,
            )?;
            drop((assignments, entities));
            let model = &resolution.model;
            if model.organisations.is_some() || model.people.is_some() {
                let bytes = serde_json::to_vec(model).map_err(|e| corrupt(META_MODEL, e))?;
                log.meta.insert(META_MODEL, bytes.as_slice()).map_err(db)?;
            } else {
                log.meta.remove(META_MODEL).map_err(db)?;
            }
            super::writeback::after_resolution(&txn, &mut log, resolution)?;
            log.finish()?;
        }
        txn.commit().map_err(db)?;
        Ok(changed)
    }

    pub fn entity(&self, id: &str) -> Result<Option<Entity>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(ENTITIES).map_err(db)?;
        read_json(&table, id)
    }

    pub fn entities(&self) -> Result<Vec<Entity>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(ENTITIES).map_err(db)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db)? {
            let (id, bytes) = entry.map_err(db)?;
            out.push(record_codec::decode_json(bytes.value()).map_err(|e| corrupt(id.value(), e))?);
        }
        Ok(out)
    }

    /// The anchor an entity id was issued for, even after a merge.
    pub fn alias_anchor(&self, id: &str) -> Result<Option<String>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(ALIASES).map_err(db)?;
        Ok(table.get(id).map_err(db)?.map(|a| a.value().to_string()))
    }

    pub fn assignment(&self, record_id: &str) -> Result<Option<Assignment>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(ASSIGNMENTS).map_err(db)?;
        read_json(&table, record_id)
    }

    pub fn overrides(&self) -> Result<Overrides, StoreError> {
        match self.meta(META_OVERRIDES)? {
            Some(text) => serde_json::from_str(&text).map_err(|e| corrupt(META_OVERRIDES, e)),
            None => Ok(Overrides::default()),
        }
    }

    pub fn set_overrides(&self, overrides: &Overrides) -> Result<(), StoreError> {
        let text = serde_json::to_string(overrides).map_err(|e| corrupt(META_OVERRIDES, e))?;
        self.set_meta(META_OVERRIDES, &text)
    }

    pub fn suspects(&self) -> Result<Vec<SuspectPair>, StoreError> {
        match self.meta(META_SUSPECTS)? {
            Some(text) => serde_json::from_str(&text).map_err(|e| corrupt(META_SUSPECTS, e)),
            None => Ok(Vec::new()),
        }
    }

    /// The m/u estimates (and blocking pair counts) of the last full pass,
    /// when the settings had them estimated.
    pub fn resolution_model(&self) -> Result<Option<ModelReport>, StoreError> {
        match self.meta(META_MODEL)? {
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| corrupt(META_MODEL, e)),
            None => Ok(None),
        }
    }

    /// The records the last resolution attached to no customer, and why.
    pub fn unattached(&self) -> Result<Vec<Unattached>, StoreError> {
        match self.meta(META_UNATTACHED)? {
            Some(text) => serde_json::from_str(&text).map_err(|e| corrupt(META_UNATTACHED, e)),
            None => Ok(Vec::new()),
        }
    }
}
