//! Reading the book, whole or through a filter: every record is decoded (on
//! rayon's threads, a chunk of raw values at a time while the next chunk is
//! read, so the read takes both cores while memory holds at most three
//! chunks of raw values besides what is kept)
//! and handed to the caller's `keep`, and only what it keeps is held, so a
//! report that wants a few records of a million never holds the million
//! (the flagged-records list); resolution keeps them all.
//!
//! It must never change what is read or its order: what is kept comes back
//! by birth (first-seen sequence), ties in key order, as
//! [`Store::records_by_birth`] orders the whole book, all from one read
//! transaction.

use std::sync::mpsc::sync_channel;

use rayon::prelude::*;
use redb::{ReadableTable, ReadableTableMetadata};

use super::resolution_tables::BIRTH;
use super::{RECORDS, Store, StoreError, db, decode_record};
use crate::record::Record;

/// Raw values held before a chunk is decoded.
const CHUNK: usize = 4_096;
/// Records a rayon task decodes at a time.
const TASK: usize = 32;

impl Store {
    /// What `keep` makes of each record it keeps, oldest record first.
    pub fn scan_book_by_birth<T, F>(&self, keep: F) -> Result<Vec<T>, StoreError>
    where
        T: Send,
        F: Fn(Record) -> Option<T> + Sync,
    {
        Ok(scan_with_birth(self, keep, false)?
            .into_iter()
            .map(|(_, t)| t)
            .collect())
    }
}

/// What `keep` keeps, each with its record's birth (`u64::MAX` when
/// unknown), by birth, ties in key order.
pub(super) fn scan_with_birth<T, F>(
    store: &Store,
    keep: F,
    whole: bool,
) -> Result<Vec<(u64, T)>, StoreError>
where
    T: Send,
    F: Fn(Record) -> Option<T> + Sync,
{
    let txn = store.db.begin_read().map_err(db)?;
    let records = txn.open_table(RECORDS).map_err(db)?;
    let birth = txn.open_table(BIRTH).map_err(db)?;
    // A read that keeps every record is sized once: growing would hold the
    // old and the new vector at once (at 10M records, 8 and 16 GB).
    let capacity = match whole {
        true => records.len().map_err(db)? as usize,
        false => 0,
    };
    let keep = &keep;
    // This thread reads raw values a chunk at a time while the chunk before
    // is decoded on rayon's threads: one chunk waits in the channel, so at
    // most three are held.
    let (raw_chunks, received_chunks) = sync_channel::<Vec<RawRecord>>(1);
    let (read, decoded) = std::thread::scope(|scope| {
        let decoder = scope.spawn(move || -> Result<Vec<(u64, T)>, StoreError> {
            let mut kept = Vec::with_capacity(capacity);
            for mut raw in received_chunks {
                keep_chunk(&mut raw, keep, &mut kept)?;
            }
            Ok(kept)
        });
        let read = (|| -> Result<(), StoreError> {
            let mut raw: Vec<RawRecord> = Vec::with_capacity(CHUNK);
            for entry in records.iter().map_err(db)? {
                let (id, bytes) = entry.map_err(db)?;
                let born = birth
                    .get(id.value())
                    .map_err(db)?
                    .map(|b| b.value())
                    .unwrap_or(u64::MAX);
                raw.push((born, id.value().to_string(), bytes.value().to_vec()));
                if raw.len() >= CHUNK {
                    let full = std::mem::replace(&mut raw, Vec::with_capacity(CHUNK));
                    // The decoder stopped on an error, which it returns.
                    if raw_chunks.send(full).is_err() {
                        return Ok(());
                    }
                }
            }
            // As above: a refused last chunk means the decoder failed.
            let _ = raw_chunks.send(raw);
            Ok(())
        })();
        // The decoder ends once the last chunk is taken.
        drop(raw_chunks);
        let decoded = decoder
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (read, decoded)
    });
    read?;
    let mut kept = decoded?;
    by_birth(&mut kept);
    Ok(kept)
}

/// Orders `kept` (in key order) by birth, ties in key order, in place: a
/// stable sort of the records themselves would borrow room for half of
/// them (some 440 MB at 1M records), so only (birth, position) pairs are
/// sorted and the records are then moved along the permutation's cycles.
fn by_birth<T>(kept: &mut [(u64, T)]) {
    let mut order: Vec<(u64, usize)> = kept
        .iter()
        .enumerate()
        .map(|(position, (born, _))| (*born, position))
        .collect();
    // Positions are distinct, so the order is total: unstable is stable.
    order.sort_unstable();
    // `from[k]` is where the record that belongs at `k` is now; a slot set
    // to `usize::MAX` is done.
    let mut from: Vec<usize> = order.into_iter().map(|(_, position)| position).collect();
    for start in 0..from.len() {
        let mut at = start;
        while from[at] != usize::MAX {
            let source = from[at];
            from[at] = usize::MAX;
            if source == start {
                break;
            }
            kept.swap(at, source);
            at = source;
        }
    }
}

/// A record as read: its birth, id and stored bytes.
type RawRecord = (u64, String, Vec<u8>);

/// Decodes `raw` in parallel, appends what `keep` keeps to `kept` in key
/// order, and empties `raw`.
fn keep_chunk<T: Send>(
    raw: &mut Vec<RawRecord>,
    keep: &(dyn Fn(Record) -> Option<T> + Sync),
    kept: &mut Vec<(u64, T)>,
) -> Result<(), StoreError> {
    let decoded: Vec<Result<Option<(u64, T)>, StoreError>> = raw
        .par_iter()
        .with_min_len(TASK)
        .map(|(born, id, bytes)| Ok(keep(decode_record(id, bytes)?).map(|t| (*born, t))))
        .collect();
    raw.clear();
    for one in decoded {
        if let Some(item) = one? {
            kept.push(item);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{QualityIssue, RecordKind};

    fn flagged_every_seventh(prefix: &str, count: usize) -> Vec<Record> {
        (0..count)
            .map(|i| {
                let mut record = Record::new("crm", &format!("{prefix}{i:05}"), RecordKind::Person);
                if i % 7 == 0 {
                    record.quality.push(QualityIssue {
                        field: "email".into(),
                        reason: format!("planted {prefix}{i}"),
                    });
                }
                record
            })
            .collect()
    }

    #[test]
    fn the_order_by_birth_is_a_stable_sort_done_in_place() {
        // Many ties (unknown births among them) and long cycles.
        let mut seed = 0x2545_f491_u64;
        let kept: Vec<(u64, usize)> = (0..5_000)
            .map(|position| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let born = match seed % 10 {
                    0 => u64::MAX,
                    _ => seed % 700,
                };
                (born, position)
            })
            .collect();
        let mut stable = kept.clone();
        stable.sort_by_key(|(born, _)| *born);
        let mut in_place = kept;
        by_birth(&mut in_place);
        assert_eq!(in_place, stable);
        let mut few = vec![(3, 'a'), (1, 'b'), (3, 'c'), (0, 'd')];
        by_birth(&mut few);
        assert_eq!(few, vec![(0, 'd'), (1, 'b'), (3, 'a'), (3, 'c')]);
    }

    #[test]
    fn a_filtered_scan_keeps_what_the_whole_read_would_in_birth_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        // Born first but last in key order, and more than one chunk in all,
        // so birth order and key order differ across chunks.
        store
            .apply_file("crm", "late.csv", "h1", &flagged_every_seventh("z", 3_000))
            .unwrap();
        store
            .apply_file("crm", "early.csv", "h2", &flagged_every_seventh("a", 3_000))
            .unwrap();
        let scanned = store
            .scan_book_by_birth(|r| (!r.quality.is_empty()).then(|| r.id()))
            .unwrap();
        let whole: Vec<String> = store
            .records_by_birth()
            .unwrap()
            .into_iter()
            .filter(|r| !r.quality.is_empty())
            .map(|r| r.id())
            .collect();
        assert_eq!(scanned.len(), 2 * 3_000_usize.div_ceil(7));
        assert_eq!(scanned, whole);
        assert_eq!(scanned.first().map(String::as_str), Some("crm:z00000"));
    }

    #[test]
    fn a_record_that_cannot_be_decoded_is_named_and_the_read_stops() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        // Three chunks and more, the bad value in the last: the read is
        // chunks ahead of the decoding when it fails.
        store
            .apply_file("crm", "book.csv", "h1", &flagged_every_seventh("a", 14_000))
            .unwrap();
        let txn = store.db.begin_write().unwrap();
        {
            let mut records = txn.open_table(RECORDS).unwrap();
            records
                .insert("crm:a13000", b"not a stored record".as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
        match store.scan_book_by_birth(|r| Some(r.id())) {
            Err(StoreError::Corrupt { key, .. }) => assert_eq!(key, "crm:a13000"),
            Err(other) => panic!("not the bad record's error: {other}"),
            Ok(kept) => panic!("{} records read past a bad one", kept.len()),
        }
    }
}
