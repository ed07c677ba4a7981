//! Keeping write-back in step with a resolution save: notes the resolution
//! did not see are attached, and attributes of customer ids merged away move
//! to the customer that now holds them. Runs inside the save's transaction.
//!
//! It must never change what the resolution decided for records it saw.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use redb::{ReadableTable, WriteTransaction};

use super::super::resolution_tables::{ALIASES, ASSIGNMENTS, ENTITIES};
use super::super::{ChangeLog, StoreError, db, decode_record};
use super::{
    CUSTOMER_ATTRIBUTES, NOTES_SOURCE, attach, attribute_key, note_target, relog_customers,
};
use crate::resolve::Resolution;

/// Called inside [`Store::save_resolution`]'s transaction, after the new
/// assignments and entities are written: attaches the notes the resolution
/// did not see (written after it read the records) and moves the attributes
/// of customer ids merged away to the customer that now holds them.
pub(in crate::store) fn after_resolution(
    txn: &WriteTransaction,
    log: &mut ChangeLog,
    resolution: &Resolution,
) -> Result<(), StoreError> {
    let mut assignments = txn.open_table(ASSIGNMENTS).map_err(db)?;
    let mut entities = txn.open_table(ENTITIES).map_err(db)?;
    // Late notes.
    let (from, to) = (format!("{NOTES_SOURCE}:"), format!("{NOTES_SOURCE};"));
    let mut late: Vec<(String, String)> = Vec::new();
    for entry in log.records.range(from.as_str()..to.as_str()).map_err(db)? {
        let (id, bytes) = entry.map_err(db)?;
        if resolution.assignments.contains_key(id.value()) {
            continue;
        }
        let note = decode_record(id.value(), bytes.value())?;
        if let Some(target) = note_target(&note) {
            late.push((id.value().to_string(), target.to_string()));
        }
    }
    for (id, target) in late {
        let target_assignment = resolution.assignments.get(&target).cloned();
        if attach(
            &mut assignments,
            &mut entities,
            &id,
            &target,
            target_assignment,
        )?
        .is_some()
        {
            log.log(&id)?;
        }
    }
    // Attributes of ids that are no longer entities follow their anchor.
    let mut table = txn.open_table(CUSTOMER_ATTRIBUTES).map_err(db)?;
    let live: HashMap<&str, ()> = resolution
        .entities
        .iter()
        .map(|e| (e.id.as_str(), ()))
        .collect();
    let mut by_owner: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    for entry in table.iter().map_err(db)? {
        let (key, bytes) = entry.map_err(db)?;
        if let Some((owner, name)) = key.value().split_once('\0')
            && !live.contains_key(owner)
        {
            by_owner
                .entry(owner.to_string())
                .or_default()
                .push((name.to_string(), bytes.value().to_vec()));
        }
    }
    let aliases = txn.open_table(ALIASES).map_err(db)?;
    let mut touched = BTreeSet::new();
    for (owner, values) in by_owner {
        let Some(anchor) = aliases.get(owner.as_str()).map_err(db)? else {
            continue;
        };
        let Some(a) = resolution.assignments.get(anchor.value()) else {
            continue;
        };
        let survivor = if owner.starts_with("org_") {
            a.org_id.clone()
        } else {
            a.person_id.clone()
        };
        let Some(survivor) = survivor.filter(|s| *s != owner) else {
            continue;
        };
        for (name, bytes) in values {
            let new_key = attribute_key(&survivor, &name);
            // The survivor's own value wins over the merged-away one.
            if table.get(new_key.as_str()).map_err(db)?.is_none() {
                table
                    .insert(new_key.as_str(), bytes.as_slice())
                    .map_err(db)?;
            }
            table
                .remove(attribute_key(&owner, &name).as_str())
                .map_err(db)?;
        }
        touched.insert(survivor);
    }
    relog_customers(log, &entities, &touched)?;
    Ok(())
}
