//! Reading the whole book (every record with its birth) for resolution:
//! the raw values are copied out of one read transaction a chunk at a time
//! and decoded (decompression, JSON) on rayon's threads, so the read takes
//! both cores while memory holds one chunk of raw values besides the book.
//!
//! It must never change what is read: the records come back as the serial
//! read returned them (key order, then sorted by birth, stable), and it
//! never reads outside the one transaction.

use rayon::prelude::*;
use redb::ReadableTable;

use super::resolution_tables::BIRTH;
use super::{RECORDS, Store, StoreError, db, decode_record};
use crate::record::Record;

/// Raw values held before a chunk is decoded.
const CHUNK: usize = 4_096;
/// Records a rayon task decodes at a time.
const TASK: usize = 32;

/// Every record with its birth (`u64::MAX` when unknown), by birth.
pub(super) fn records_with_birth(store: &Store) -> Result<Vec<(u64, Record)>, StoreError> {
    let txn = store.db.begin_read().map_err(db)?;
    let records = txn.open_table(RECORDS).map_err(db)?;
    let birth = txn.open_table(BIRTH).map_err(db)?;
    let mut out = Vec::new();
    let mut raw: Vec<(u64, String, Vec<u8>)> = Vec::with_capacity(CHUNK);
    for entry in records.iter().map_err(db)? {
        let (id, bytes) = entry.map_err(db)?;
        let born = birth
            .get(id.value())
            .map_err(db)?
            .map(|b| b.value())
            .unwrap_or(u64::MAX);
        raw.push((born, id.value().to_string(), bytes.value().to_vec()));
        if raw.len() >= CHUNK {
            decode_into(&mut raw, &mut out)?;
        }
    }
    decode_into(&mut raw, &mut out)?;
    out.sort_by_key(|(born, _)| *born);
    Ok(out)
}

/// Decodes `raw` in parallel onto the end of `out`, in order, and empties it.
fn decode_into(
    raw: &mut Vec<(u64, String, Vec<u8>)>,
    out: &mut Vec<(u64, Record)>,
) -> Result<(), StoreError> {
    let decoded: Vec<Result<(u64, Record), StoreError>> = raw
        .par_iter()
        .with_min_len(TASK)
        .map(|(born, id, bytes)| Ok((*born, decode_record(id, bytes)?)))
        .collect();
    raw.clear();
    for record in decoded {
        out.push(record?);
    }
    Ok(())
}
