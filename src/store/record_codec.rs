//! How a record (the `records` table) and a customer (the `entities` table)
//! are stored: their JSON compressed as one zstd frame. The frame's own magic
//! number (`28 b5 2f fd`) is the format marker: values written before
//! compression are plain JSON, which always starts with `{`, and are still
//! read as they are (an existing data directory opens unchanged; a value is
//! rewritten compressed the next time it changes).
//!
//! It must never guess: a value that is neither a zstd frame nor JSON is
//! reported as corrupt, and a frame claiming more than `MAX_VALUE_BYTES`
//! is refused rather than allocated.

use std::cell::RefCell;

use crate::record::Record;

/// zstd's frame magic number, little-endian on disk.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// zstd's fastest regular level: a record is small (about 480 bytes of JSON
/// on the benchmark corpus) and compressed on the ingest's critical path.
const LEVEL: i32 = 1;
/// No stored JSON is near this; a larger claim is damage.
const MAX_VALUE_BYTES: u64 = 256 * 1024 * 1024;

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// A record value that could not be encoded or decoded (the message says why).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct CodecError(String);

/// The bytes stored for `record`'s JSON (`json`, as `serde_json::to_vec`
/// wrote it): one zstd frame recording its content size. Deterministic for a
/// given JSON, so equal records give equal bytes.
pub(crate) fn compress(json: &[u8]) -> Result<Vec<u8>, CodecError> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(zstd::bulk::Compressor::new(LEVEL).map_err(io)?);
        }
        match cell.as_mut() {
            Some(compressor) => compressor.compress(json).map_err(io),
            None => Err(CodecError("no zstd compressor".into())),
        }
    })
}

/// A value's JSON and the bytes stored for it.
pub(crate) struct Encoded {
    pub json: Vec<u8>,
    pub stored: Vec<u8>,
}

impl Encoded {
    /// True when `existing` (a stored value) holds this JSON already.
    pub(crate) fn is_held_by(&self, existing: &[u8]) -> bool {
        holds(existing, &self.json, &self.stored)
    }
}

/// `value`'s JSON and the bytes stored for it ([`compress`]ed).
pub(crate) fn encode_json<T: serde::Serialize>(value: &T) -> Result<Encoded, CodecError> {
    let json = serde_json::to_vec(value).map_err(|e| CodecError(e.to_string()))?;
    let stored = compress(&json)?;
    Ok(Encoded { json, stored })
}

/// True when a stored value holds exactly `json` (compressed as `stored`
/// would be by [`compress`], or written as plain JSON by an older version).
pub(crate) fn holds(existing: &[u8], json: &[u8], compressed: &[u8]) -> bool {
    if is_compressed(existing) {
        existing == compressed
    } else {
        existing == json
    }
}

fn is_compressed(bytes: &[u8]) -> bool {
    bytes.starts_with(&ZSTD_MAGIC)
}

/// The record a stored value holds, in either format.
pub(crate) fn decode(bytes: &[u8]) -> Result<Record, CodecError> {
    decode_json(bytes)
}

/// What a stored value's JSON holds, in either format.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let json = plain(bytes)?;
    serde_json::from_slice(&json).map_err(|e| CodecError(e.to_string()))
}

/// A stored value's JSON bytes: decompressed when it is a zstd frame, as it
/// is otherwise.
fn plain(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, CodecError> {
    if !is_compressed(bytes) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let size = zstd::zstd_safe::get_frame_content_size(bytes)
        .map_err(|_| CodecError("damaged zstd frame header".into()))?
        .ok_or_else(|| CodecError("zstd frame without its content size".into()))?;
    if size > MAX_VALUE_BYTES {
        return Err(CodecError(format!(
            "zstd frame claims {size} bytes, more than a stored value can hold"
        )));
    }
    DECOMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(zstd::bulk::Decompressor::new().map_err(io)?);
        }
        let Some(decompressor) = cell.as_mut() else {
            return Err(CodecError("no zstd decompressor".into()));
        };
        let json = decompressor.decompress(bytes, size as usize).map_err(io)?;
        Ok(std::borrow::Cow::Owned(json))
    })
}

fn io(e: std::io::Error) -> CodecError {
    CodecError(format!("zstd: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        serde_json::from_value(serde_json::json!({
            "source": "crm", "external_id": "42", "kind": "person",
            "names": ["佐藤 健", "Ken Sato"], "body": "billing dispute about invoice 7",
        }))
        .expect("a record")
    }

    #[test]
    fn reads_compressed_and_plain_json_values_alike() {
        let json = serde_json::to_vec(&record()).expect("json");
        let stored = compress(&json).expect("compressed");
        assert!(is_compressed(&stored));
        assert_ne!(stored, json);
        assert_eq!(decode(&stored).expect("compressed value").id(), "crm:42");
        assert_eq!(decode(&json).expect("plain value").id(), "crm:42");
        assert_eq!(compress(&json).expect("again"), stored, "deterministic");
        assert!(holds(&stored, &json, &stored));
        assert!(holds(&json, &json, &stored), "an old plain value");
        assert!(!holds(&stored, b"{}", &compress(b"{}").expect("other")));
    }

    /// A store written before compression holds plain JSON: it opens, its
    /// records are read by every path, and ingesting the same record again
    /// is no change (the old value is not rewritten for nothing).
    #[test]
    fn a_store_of_plain_json_values_reads_and_is_not_rewritten() {
        use crate::store::Store;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("s.redb");
        let store = Store::open(&path).expect("a store");
        store
            .apply_file("crm", "a.csv", "h1", &[record()])
            .expect("first ingest");
        // Put the value back as an older version wrote it.
        let json = serde_json::to_vec(&record()).expect("json");
        let txn = store.db.begin_write().expect("a write");
        txn.open_table(super::super::RECORDS)
            .expect("records")
            .insert("crm:42", json.as_slice())
            .expect("a plain value");
        txn.commit().expect("commit");
        drop(store);
        let store = Store::open(&path).expect("reopened");
        let read = store.get("crm:42").expect("read").expect("the record");
        assert_eq!(read.names, vec!["佐藤 健", "Ken Sato"]);
        let changes = store.changes_after(0, 10).expect("the change log");
        assert_eq!(changes.len(), 1);
        assert!(changes[0].record.is_some());
        let again = store
            .apply_file("crm", "a.csv", "h2", &[record()])
            .expect("second ingest");
        assert_eq!((again.updated, again.unchanged), (0, 1));
    }

    /// Customers are stored as zstd frames and read back by every path (an
    /// assignment stays plain JSON: 290 bytes, which a frame of its own
    /// barely shrinks, for more CPU than it saves); a customer an older
    /// version wrote as plain JSON still reads, and saving the same
    /// resolution again leaves it as it is and logs no change.
    #[test]
    fn customers_are_stored_compressed_and_plain_ones_still_read() {
        use crate::resolve::{Overrides, Settings, resolve};
        use crate::store::Store;
        use crate::store::resolution::{ASSIGNMENTS, ENTITIES};
        use redb::{ReadableTable, TableDefinition};
        type Bytes = TableDefinition<'static, &'static str, &'static [u8]>;
        // Two organisations, ingested and resolved.
        let (dir, store) = crate::store::writeback::tests::open();
        let path = dir.path().join("s.redb");
        let resolve_and_save = |store: &Store| {
            let records = store.records_by_birth().expect("the book");
            let resolution = resolve(&records, &Settings::default(), &Overrides::default());
            store.save_resolution(&resolution).expect("saved")
        };
        let stored = |store: &Store, table: Bytes| -> Vec<(String, Vec<u8>)> {
            let txn = store.db.begin_read().expect("a read");
            let table = txn.open_table(table).expect("a table");
            table
                .iter()
                .expect("rows")
                .map(|row| {
                    let (id, bytes) = row.expect("a row");
                    (id.value().to_string(), bytes.value().to_vec())
                })
                .collect()
        };
        let customers = stored(&store, ENTITIES);
        assert_eq!(customers.len(), 2);
        assert!(customers.iter().all(|(_, bytes)| is_compressed(bytes)));
        let assignments = stored(&store, ASSIGNMENTS);
        assert_eq!(assignments.len(), 2);
        assert!(assignments.iter().all(|(_, bytes)| bytes.starts_with(b"{")));
        let entities = store.entities().expect("every customer");
        let names: Vec<&str> = entities
            .iter()
            .map(|e| e.golden.fields.get("name").map_or("", |f| f.value.as_str()))
            .collect();
        assert!(
            names.contains(&"Alpha Widgets") && names.contains(&"Bravo Tools"),
            "{names:?}"
        );
        assert_eq!(store.entities_page(None, 10).expect("a page").len(), 2);
        let customer_of_a = store
            .assignment("crm:A")
            .expect("read")
            .and_then(|a| a.customer_id)
            .expect("A's customer");
        let changes = store.changes_after(0, 10).expect("the change log");
        let indexed_a = changes
            .iter()
            .find(|c| c.id == "crm:A")
            .and_then(|c| c.record.as_ref())
            .and_then(|r| r.customer_id.clone());
        assert_eq!(indexed_a.as_deref(), Some(customer_of_a.as_str()));

        // Put one customer back as an older version wrote it.
        let (entity_id, _) = &stored(&store, ENTITIES)[0];
        let entity = store
            .entity(entity_id)
            .expect("read")
            .expect("the customer");
        let entity_json = serde_json::to_vec(&entity).expect("json");
        let txn = store.db.begin_write().expect("a write");
        txn.open_table(ENTITIES)
            .expect("entities")
            .insert(entity_id.as_str(), entity_json.as_slice())
            .expect("a plain value");
        txn.commit().expect("commit");
        drop(store);
        let store = Store::open(&path).expect("reopened");
        assert_eq!(
            store
                .entity(entity_id)
                .expect("read")
                .expect("the customer")
                .id,
            *entity_id
        );
        let records = store
            .records_by_ids(&["crm:A".to_string()])
            .expect("a read");
        assert_eq!(
            records[0].1.customer_id.as_deref(),
            Some(customer_of_a.as_str())
        );
        assert_eq!(resolve_and_save(&store), 0, "nothing changed");
        let plain_kept = |table: Bytes, id: &str, json: &[u8]| {
            let rows = stored(&store, table);
            assert_eq!(
                rows.iter()
                    .find(|(i, _)| i == id)
                    .map(|(_, b)| b.as_slice()),
                Some(json)
            );
            assert!(
                rows.iter()
                    .filter(|(i, _)| i != id)
                    .all(|(_, b)| is_compressed(b))
            );
        };
        plain_kept(ENTITIES, entity_id, &entity_json);
    }

    #[test]
    fn refuses_damaged_values() {
        let json = serde_json::to_vec(&record()).expect("json");
        let stored = compress(&json).expect("compressed");
        assert!(decode(&stored[..stored.len() - 3]).is_err(), "truncated");
        assert!(decode(&ZSTD_MAGIC).is_err(), "a bare magic number");
        assert!(decode(b"not json").is_err());
    }
}
