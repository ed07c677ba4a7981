//! How a record is stored in the `records` table: its JSON compressed as one
//! zstd frame. The frame's own magic number (`28 b5 2f fd`) is the format
//! marker: values written before compression are plain JSON, which always
//! starts with `{`, and are still read as they are (an existing data
//! directory opens unchanged; a record is rewritten compressed the next time
//! it changes).
//!
//! It must never guess: a value that is neither a zstd frame nor JSON is
//! reported as corrupt, and a frame claiming more than `MAX_RECORD_BYTES`
//! is refused rather than allocated.

use std::cell::RefCell;

use crate::record::Record;

/// zstd's frame magic number, little-endian on disk.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// zstd's fastest regular level: a record is small (about 480 bytes of JSON
/// on the benchmark corpus) and compressed on the ingest's critical path.
const LEVEL: i32 = 1;
/// A record's JSON is never near this; a larger claim is damage.
const MAX_RECORD_BYTES: u64 = 256 * 1024 * 1024;

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
    if !is_compressed(bytes) {
        return serde_json::from_slice(bytes).map_err(|e| CodecError(e.to_string()));
    }
    let size = zstd::zstd_safe::get_frame_content_size(bytes)
        .map_err(|_| CodecError("damaged zstd frame header".into()))?
        .ok_or_else(|| CodecError("zstd frame without its content size".into()))?;
    if size > MAX_RECORD_BYTES {
        return Err(CodecError(format!(
            "zstd frame claims {size} bytes, more than a record can hold"
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
        serde_json::from_slice(&json).map_err(|e| CodecError(e.to_string()))
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

    #[test]
    fn refuses_damaged_values() {
        let json = serde_json::to_vec(&record()).expect("json");
        let stored = compress(&json).expect("compressed");
        assert!(decode(&stored[..stored.len() - 3]).is_err(), "truncated");
        assert!(decode(&ZSTD_MAGIC).is_err(), "a bare magic number");
        assert!(decode(b"not json").is_err());
    }
}
