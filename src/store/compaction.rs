//! Giving back the free pages redb keeps after a large ingest. redb writes
//! copy-on-write and reuses freed pages, but never shrinks its file on its
//! own: after 100,000 records a third of the file is free pages. When the
//! free part passes a threshold, the file is compacted (redb's `compact`,
//! which moves pages down and truncates the file).
//!
//! It must never run while anything else uses the database: it needs the
//! store exclusively (`&mut`), which only a caller that owns the engine
//! outright (the `rapport ingest` command, the benchmark) has.

use std::path::Path;

use super::{Store, StoreError, db};

/// Compact only when at least this much of the file is free...
const MIN_FREE_BYTES: u64 = 32 * 1024 * 1024;
/// ...and it is at least this share of the file.
const MIN_FREE_SHARE: f64 = 0.2;

/// What a compaction found and did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Compaction {
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// False when the free part was under the threshold (nothing was done).
    pub compacted: bool,
}

impl Store {
    /// Compacts the store file at `path` (the file this store opened) when
    /// its free pages are at least `MIN_FREE_BYTES` and `MIN_FREE_SHARE` of
    /// it.
    pub fn compact_if_wasteful(&mut self, path: &Path) -> Result<Compaction, StoreError> {
        self.compact_when_free(path, MIN_FREE_BYTES)
    }

    fn compact_when_free(&mut self, path: &Path, min_free: u64) -> Result<Compaction, StoreError> {
        let bytes_before = file_len(path)?;
        let used = {
            let txn = self.db.begin_write().map_err(db)?;
            let stats = txn.stats().map_err(db)?;
            let used = stats.allocated_pages() * stats.page_size() as u64;
            txn.abort().map_err(db)?;
            used
        };
        let free = bytes_before.saturating_sub(used);
        if free < min_free || (free as f64) < MIN_FREE_SHARE * bytes_before as f64 {
            return Ok(Compaction {
                bytes_before,
                bytes_after: bytes_before,
                compacted: false,
            });
        }
        let _span = tracing::info_span!("store_compaction", bytes_before, free).entered();
        // `compact` moves a bounded amount per call; it answers false once
        // nothing more can move.
        let Some(database) = self.db.exclusive() else {
            return Err(StoreError::Busy {
                path: path.display().to_string(),
            });
        };
        while database.compact().map_err(|e| db(redb::Error::from(e)))? {}
        let bytes_after = file_len(path)?;
        tracing::info!(bytes_before, bytes_after, "store file compacted");
        Ok(Compaction {
            bytes_before,
            bytes_after,
            compacted: true,
        })
    }
}

fn file_len(path: &Path) -> Result<u64, StoreError> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| StoreError::Corrupt {
            key: path.display().to_string(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    fn records(n: usize, text: &str) -> Vec<Record> {
        (0..n)
            .map(|i| {
                serde_json::from_value(serde_json::json!({
                    "source": "crm", "external_id": i.to_string(), "kind": "person",
                    // Hex of a hash chain: text zstd cannot shrink to nothing.
                    "body": format!("{text} {i} {}", noise(i)),
                }))
                .expect("a record")
            })
            .collect()
    }

    fn noise(i: usize) -> String {
        let mut out = String::new();
        let mut hash = blake3::hash(&i.to_le_bytes());
        while out.len() < 2_000 {
            out.push_str(&hash.to_hex());
            hash = blake3::hash(hash.as_bytes());
        }
        out
    }

    #[test]
    fn a_file_with_many_free_pages_shrinks_and_keeps_every_record() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("s.redb");
        let mut store = Store::open(&path).expect("a store");
        // Each batch replaces the previous one's values: the old pages are
        // freed (the file keeps them).
        for round in 0..4 {
            store
                .apply_file(
                    "crm",
                    "a.csv",
                    &format!("h{round}"),
                    &records(1_000, &format!("round {round}")),
                )
                .expect("a batch");
        }
        let outcome = store.compact_when_free(&path, 0).expect("compaction");
        assert!(outcome.compacted, "{outcome:?}");
        assert!(outcome.bytes_after < outcome.bytes_before, "{outcome:?}");
        assert_eq!(outcome.bytes_after, file_len(&path).expect("length"));
        assert_eq!(store.record_count().expect("count"), 1_000);
        let kept = store.get("crm:7").expect("read").expect("the record");
        assert!(kept.body.as_deref().unwrap_or("").starts_with("round 3 7 "));
        let again = store.compact_when_free(&path, 0).expect("a second look");
        assert!(!again.compacted, "nothing left to give back: {again:?}");
        drop(store);
        let reopened = Store::open(&path).expect("reopened");
        assert_eq!(reopened.record_count().expect("count"), 1_000);
    }
}
