//! Write-back data in the store: notes typed by staff and attributes
//! (scores, flags, segments) written by analysts.
//!
//! A note is an ordinary record of source [`NOTES_SOURCE`] with a `record`
//! link to the record its customer id was issued for; this module attaches
//! it to that record's customer in the same transaction that writes it, and
//! again in every resolution save that did not see it, so a resolution that
//! started before the note was written never detaches it. Attributes live in
//! their own table, keyed by customer id, follow merges when a resolution is
//! saved, and are copied into `attrs` of each of the customer's records when
//! the index reads the change log.
//!
//! It must never decide which customer a note belongs to beyond following the
//! link the caller chose, and never write to the index.

use std::collections::BTreeSet;

use redb::{ReadableTable, TableDefinition};
use serde_json::{Map, Value};

use super::resolution_tables::{ASSIGNMENTS, ENTITIES};
use super::{ChangeLog, RECORDS, Store, StoreError, corrupt, db, decode_record, read_json};
use crate::record::Record;
use crate::resolve::{Assignment, Entity, Member};

pub use crate::record::{NOTE_LINK, NOTES_SOURCE};

/// `customer_id\0key` → the attribute's value (JSON).
pub(super) const CUSTOMER_ATTRIBUTES: TableDefinition<&str, &[u8]> =
    TableDefinition::new("customer_attributes");

pub(super) fn create_tables(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(CUSTOMER_ATTRIBUTES).map_err(db)?;
    Ok(())
}

fn attribute_key(customer: &str, key: &str) -> String {
    format!("{customer}\0{key}")
}

/// The half-open key range of one customer's attributes.
pub(super) fn customer_range(customer: &str) -> (String, String) {
    (format!("{customer}\0"), format!("{customer}\u{1}"))
}

/// One attribute change: `value: None` deletes the key.
#[derive(Debug, Clone)]
pub struct AttributeChange {
    pub customer_id: String,
    pub key: String,
    pub value: Option<Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AttributeOutcome {
    #[default]
    Unchanged,
    Written,
    Deleted,
}

type BytesTable<'txn> = redb::Table<'txn, &'static str, &'static [u8]>;

fn note_target(note: &Record) -> Option<&str> {
    note.links
        .iter()
        .find(|l| l.rel == NOTE_LINK)
        .map(|l| l.target.as_str())
}

fn write_entity(entities: &mut BytesTable, entity: &Entity) -> Result<(), StoreError> {
    let bytes = super::record_codec::encode_json(entity).map_err(|e| corrupt(&entity.id, e))?;
    entities
        .insert(entity.id.as_str(), bytes.stored.as_slice())
        .map_err(db)?;
    Ok(())
}

/// The entity a record assigned like `a` is a member of or attached to.
fn holder(a: &Assignment) -> Option<&str> {
    a.person_id.as_deref().or(a.org_id.as_deref())
}

/// Removes `note_id` from the attachments of the entity its assignment names.
fn detach(
    assignments: &mut BytesTable,
    entities: &mut BytesTable,
    note_id: &str,
) -> Result<(), StoreError> {
    let Some(old) = read_json::<Assignment>(assignments, note_id)? else {
        return Ok(());
    };
    assignments.remove(note_id).map_err(db)?;
    if let Some(holder) = holder(&old)
        && let Some(mut entity) = read_json::<Entity>(entities, holder)?
    {
        entity.attached.retain(|m| m.record != note_id);
        write_entity(entities, &entity)?;
    }
    Ok(())
}

/// Attaches `note_id` where `target` is now, copying its assignment.
/// Returns the assignment, or None when the target has none (gone).
fn attach(
    assignments: &mut BytesTable,
    entities: &mut BytesTable,
    note_id: &str,
    target: &str,
    target_assignment: Option<Assignment>,
) -> Result<Option<Assignment>, StoreError> {
    let Some(mut assignment) = target_assignment else {
        return Ok(None);
    };
    let why = format!("written for the customer of {target}");
    assignment.evidence = vec![why.clone()];
    let bytes = serde_json::to_vec(&assignment).map_err(|e| corrupt(note_id, e))?;
    assignments.insert(note_id, bytes.as_slice()).map_err(db)?;
    if let Some(holder) = holder(&assignment)
        && let Some(mut entity) = read_json::<Entity>(entities, holder)?
    {
        entity.attached.retain(|m| m.record != note_id);
        entity.attached.push(Member {
            record: note_id.to_string(),
            evidence: vec![why],
            matches: Vec::new(),
        });
        write_entity(entities, &entity)?;
    }
    Ok(Some(assignment))
}

/// Every record of an entity (and of its people, for an organisation).
fn entity_records(entities: &BytesTable, id: &str) -> Result<Vec<String>, StoreError> {
    let Some(entity) = read_json::<Entity>(entities, id)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut all = vec![entity];
    for person in all[0].people.clone() {
        if let Some(p) = read_json::<Entity>(entities, &person)? {
            all.push(p);
        }
    }
    for e in &all {
        for m in e.members.iter().chain(e.attached.iter()) {
            out.push(m.record.clone());
        }
    }
    Ok(out)
}

/// Re-logs every record of the given customers, so the index re-reads them
/// with their attributes.
fn relog_customers(
    log: &mut ChangeLog,
    entities: &BytesTable,
    customers: &BTreeSet<String>,
) -> Result<usize, StoreError> {
    let mut logged = 0;
    for customer in customers {
        for record in entity_records(entities, customer)? {
            if log.records.get(record.as_str()).map_err(db)?.is_some() {
                log.log(&record)?;
                logged += 1;
            }
        }
    }
    Ok(logged)
}

impl Store {
    /// Writes (inserts or replaces) a note and attaches it to the customer of
    /// its `record` link, in one durable transaction. Returns the note's
    /// assignment (None if the linked record has no customer).
    pub fn write_note(&self, note: &Record) -> Result<Option<Assignment>, StoreError> {
        let id = note.id();
        let bytes = serde_json::to_vec(note).map_err(|e| corrupt(&id, e))?;
        let txn = self.db.begin_write().map_err(db)?;
        let assignment;
        {
            let mut log = ChangeLog::open(&txn)?;
            let mut assignments = txn.open_table(ASSIGNMENTS).map_err(db)?;
            let mut entities = txn.open_table(ENTITIES).map_err(db)?;
            detach(&mut assignments, &mut entities, &id)?;
            assignment = match note_target(note) {
                Some(target) => {
                    let target_assignment = read_json::<Assignment>(&assignments, target)?;
                    attach(
                        &mut assignments,
                        &mut entities,
                        &id,
                        target,
                        target_assignment,
                    )?
                }
                None => None,
            };
            if matches!(log.upsert(&id, &bytes)?, super::Upsert::Unchanged) {
                // The same text still re-logs: its assignment may have moved.
                log.log(&id)?;
            }
            log.finish()?;
        }
        txn.commit().map_err(db)?;
        Ok(assignment)
    }

    /// Deletes a note and detaches it. Returns whether it existed.
    pub fn delete_note(&self, id: &str) -> Result<bool, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let existed;
        {
            let mut log = ChangeLog::open(&txn)?;
            let mut assignments = txn.open_table(ASSIGNMENTS).map_err(db)?;
            let mut entities = txn.open_table(ENTITIES).map_err(db)?;
            detach(&mut assignments, &mut entities, id)?;
            existed = log.delete(id)?;
            log.finish()?;
        }
        txn.commit().map_err(db)?;
        Ok(existed)
    }

    /// Applies attribute changes in one durable transaction and re-logs the
    /// records of every customer whose attributes changed. Returns one
    /// outcome per change, in order.
    pub fn write_attributes(
        &self,
        changes: &[AttributeChange],
    ) -> Result<Vec<AttributeOutcome>, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let mut outcomes = Vec::with_capacity(changes.len());
        {
            let mut log = ChangeLog::open(&txn)?;
            let mut table = txn.open_table(CUSTOMER_ATTRIBUTES).map_err(db)?;
            let mut touched = BTreeSet::new();
            for change in changes {
                let key = attribute_key(&change.customer_id, &change.key);
                let outcome = match &change.value {
                    None => match table.remove(key.as_str()).map_err(db)? {
                        Some(_) => AttributeOutcome::Deleted,
                        None => AttributeOutcome::Unchanged,
                    },
                    Some(value) => {
                        let bytes = serde_json::to_vec(value).map_err(|e| corrupt(&key, e))?;
                        let same = table
                            .get(key.as_str())
                            .map_err(db)?
                            .is_some_and(|old| old.value() == bytes.as_slice());
                        if same {
                            AttributeOutcome::Unchanged
                        } else {
                            table.insert(key.as_str(), bytes.as_slice()).map_err(db)?;
                            AttributeOutcome::Written
                        }
                    }
                };
                if outcome != AttributeOutcome::Unchanged {
                    touched.insert(change.customer_id.clone());
                }
                outcomes.push(outcome);
            }
            let entities = txn.open_table(ENTITIES).map_err(db)?;
            relog_customers(&mut log, &entities, &touched)?;
            log.finish()?;
        }
        txn.commit().map_err(db)?;
        Ok(outcomes)
    }

    /// The attributes stored under one customer id, by key.
    pub fn customer_attributes(&self, customer: &str) -> Result<Map<String, Value>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(CUSTOMER_ATTRIBUTES).map_err(db)?;
        read_customer_attributes(&table, customer)
    }

    /// Every note written through the API, by record id.
    pub fn notes(&self) -> Result<Vec<Record>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let records = txn.open_table(RECORDS).map_err(db)?;
        let (from, to) = (format!("{NOTES_SOURCE}:"), format!("{NOTES_SOURCE};"));
        let mut out = Vec::new();
        for entry in records.range(from.as_str()..to.as_str()).map_err(db)? {
            let (id, bytes) = entry.map_err(db)?;
            out.push(decode_record(id.value(), bytes.value())?);
        }
        Ok(out)
    }
}

fn read_customer_attributes(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    customer: &str,
) -> Result<Map<String, Value>, StoreError> {
    let (from, to) = customer_range(customer);
    let mut out = Map::new();
    for entry in table.range(from.as_str()..to.as_str()).map_err(db)? {
        let (key, bytes) = entry.map_err(db)?;
        let key = key.value();
        let name = key.split_once('\0').map(|(_, k)| k).unwrap_or(key);
        let value: Value = serde_json::from_slice(bytes.value()).map_err(|e| corrupt(key, e))?;
        out.insert(name.to_string(), value);
    }
    Ok(out)
}

/// Copies the attributes of a record's customer (then of its person, which
/// win) into its `attrs`, as the index should see them.
pub(super) fn apply_attributes(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    record: &mut Record,
) -> Result<(), StoreError> {
    let mut owners: Vec<String> = record.customer_id.iter().cloned().collect();
    if let Some(person) = &record.person_id
        && record.customer_id.as_ref() != Some(person)
    {
        owners.push(person.clone());
    }
    for owner in owners {
        for (key, value) in read_customer_attributes(table, &owner)? {
            record.attrs.insert(key, value);
        }
    }
    Ok(())
}

mod after_resolution;
pub(super) use after_resolution::after_resolution;

#[cfg(test)]
pub(in crate::store) mod tests;
