//! Reading a batch of the change log for the index: the raw values are
//! copied out of one read transaction in sequence order, then decoded
//! (decompression, JSON, the record's assignment) on rayon's threads, then
//! given their customer's attributes in order. Decoding was half of the
//! index catch-up's main-thread work.
//!
//! It must never reorder changes (the index applies them in sequence) nor
//! read outside the one transaction (a batch is one consistent view).

use rayon::prelude::*;

use super::{RECORDS, Store, StoreError, db, decode_record, resolution, writeback};
use crate::record::Change;

/// One change as stored: its record's value and assignment, if any.
struct Raw {
    seq: u64,
    id: String,
    value: Option<(Vec<u8>, Option<Vec<u8>>)>,
}

pub(super) fn changes_after(
    store: &Store,
    after: u64,
    limit: usize,
) -> Result<Vec<Change>, StoreError> {
    let txn = store.db.begin_read().map_err(db)?;
    let changes = txn.open_table(super::CHANGES).map_err(db)?;
    let records = txn.open_table(RECORDS).map_err(db)?;
    let assignments = txn.open_table(resolution::ASSIGNMENTS).map_err(db)?;
    let attributes = txn.open_table(writeback::CUSTOMER_ATTRIBUTES).map_err(db)?;
    let mut raw = Vec::with_capacity(limit.min(4096));
    for entry in changes.range(after.saturating_add(1)..).map_err(db)? {
        if raw.len() >= limit {
            break;
        }
        let (seq, id) = entry.map_err(db)?;
        let id = id.value().to_string();
        let value = match records.get(id.as_str()).map_err(db)? {
            Some(bytes) => {
                let assignment = assignments.get(id.as_str()).map_err(db)?;
                Some((
                    bytes.value().to_vec(),
                    assignment.map(|a| a.value().to_vec()),
                ))
            }
            None => None,
        };
        raw.push(Raw {
            seq: seq.value(),
            id,
            value,
        });
    }
    let decoded: Vec<Result<Change, StoreError>> = raw.into_par_iter().map(decode).collect();
    let mut out = Vec::with_capacity(decoded.len());
    for change in decoded {
        let mut change = change?;
        if let Some(record) = &mut change.record {
            writeback::apply_attributes(&attributes, record)?;
        }
        out.push(change);
    }
    Ok(out)
}

fn decode(raw: Raw) -> Result<Change, StoreError> {
    let record = match &raw.value {
        Some((bytes, assignment)) => {
            let mut record = decode_record(&raw.id, bytes)?;
            if let Some(a) = assignment {
                resolution::apply_assignment(&mut record, &raw.id, a)?;
            }
            Some(record)
        }
        None => None,
    };
    Ok(Change {
        seq: raw.seq,
        id: raw.id,
        record,
    })
}
