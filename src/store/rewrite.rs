//! Rewriting the store file after an erasure or a retention purge. redb
//! frees the pages of deleted values but leaves their bytes in the file
//! until it reuses them, so an erased email can stay readable in
//! `store.redb` long after the erasure (measured: 31,020 purged addresses
//! after a 99,540-record purge). The erasure, the purge and a re-applied
//! ledger entry mark the store `scrub_pending` in their own transaction;
//! the rewrite copies every table into a new file (as a snapshot does: live
//! values only), brings the copy up to date with what was written while it
//! was made, renames it over the old one and reopens, so the old file,
//! freed pages and all, is gone.
//!
//! A running server rewrites after each erasure or retention run (the
//! engine's store scrub), an offline command before it exits, and opening a
//! data directory when a mark is left. Writers go on while the copy is
//! made, then wait at the store's gate (`live_db`) while the copy catches
//! up with them (`rewrite_catch_up`) and replaces the file, so no commit
//! lands in the old file after the catch-up began. It must never leave the
//! data directory without a whole store file: the copy is synced before
//! the rename, and a crash before it leaves the old file in place.

use std::path::Path;
use std::time::Instant;

use redb::ReadableDatabase;

use super::rewrite_catch_up::CatchUp;
use super::{META, Store, StoreError, db};

/// The meta key an erasure or a purge sets and the rewrite clears.
const SCRUB_PENDING: &str = "scrub_pending";

/// Marks the store for a rewrite, inside the transaction that erased.
pub(super) fn mark_pending(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    let mut meta = txn.open_table(META).map_err(db)?;
    meta.insert(SCRUB_PENDING, b"1".as_slice()).map_err(db)?;
    Ok(())
}

fn io(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::File {
        path: path.display().to_string(),
        source,
    }
}

impl Store {
    /// Whether an erasure or a purge left freed pages to rewrite away.
    pub fn scrub_pending(&self) -> Result<bool, StoreError> {
        Ok(self.meta(SCRUB_PENDING)?.as_deref() == Some("1"))
    }

    /// Rewrites the file at `path` (the one this store opened) as a copy of
    /// its live values, and continues on the new file. The store may be
    /// shared: the copy is made while writers go on; then writers wait at
    /// the gate (see `live_db`) only while the copy is brought up to date
    /// with what they wrote meanwhile (`rewrite_catch_up`) and swapped in;
    /// readers go on reading the old file until their transaction ends.
    pub fn rewrite_file(&self, path: &Path) -> Result<RewrittenFile, StoreError> {
        self.rewrite_file_with(path, || {})
    }

    /// [`Store::rewrite_file`], running `between` after the copy and before
    /// writers are stopped (a test writes there, as a request would).
    pub(crate) fn rewrite_file_with(
        &self,
        path: &Path,
        between: impl FnOnce(),
    ) -> Result<RewrittenFile, StoreError> {
        let _span = tracing::info_span!("store_rewrite", path = %path.display()).entered();
        let before = FileSize::of(path)?;
        let copy = path.with_extension("redb.rewrite");
        if copy.exists() {
            std::fs::remove_file(&copy).map_err(|e| io(&copy, e))?;
        }
        let started = Instant::now();
        // One read transaction's view, while writers go on committing.
        self.snapshot_to(&copy)?;
        let copy_ms = started.elapsed().as_millis() as u64;
        between();
        let mut gated_ms = 0;
        let mut rows_caught_up = 0;
        self.db.replace(|old| {
            let gated = Instant::now();
            let database = super::open_database(&copy)?;
            {
                let live = old.begin_read().map_err(db)?;
                let txn = database.begin_write().map_err(db)?;
                let mut catch_up = CatchUp {
                    live: &live,
                    copy: &txn,
                    rows_changed: 0,
                };
                super::visit_tables(&mut catch_up)?;
                rows_caught_up = catch_up.rows_changed;
                // The mark is cleared in the copy itself, before it replaces
                // the file, so no moment has a new file still marked.
                txn.open_table(META)
                    .map_err(db)?
                    .insert(SCRUB_PENDING, b"0".as_slice())
                    .map_err(db)?;
                txn.commit().map_err(db)?;
            }
            std::fs::rename(&copy, path).map_err(|e| io(path, e))?;
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| io(dir, e))?;
            }
            gated_ms = gated.elapsed().as_millis() as u64;
            // The old database still holds the old (now unlinked) file; it
            // closes for good when its last reader ends.
            Ok::<_, StoreError>(database)
        })?;
        let after = FileSize::of(path)?;
        tracing::info!(
            bytes_before = before.length,
            bytes_after = after.length,
            disk_bytes_before = before.on_disk,
            disk_bytes_after = after.on_disk,
            copy_ms,
            writers_waited_ms = gated_ms,
            rows_caught_up,
            "store file rewritten: freed pages of erased values are gone"
        );
        Ok(RewrittenFile {
            bytes_before: before.length,
            bytes_after: after.length,
            disk_bytes_before: before.on_disk,
            disk_bytes_after: after.on_disk,
            copy_ms,
            writers_waited_ms: gated_ms,
            rows_caught_up,
        })
    }
}

/// The store file's size before and after a rewrite: its length, and the
/// bytes the file system really holds for it. They differ because redb
/// doubles a file's length when a commit finds no free page (a freshly
/// written copy has none), and the new half is a hole until pages are
/// written there: measured at 100k records, a rewrite gives a 320.7 MB
/// file that takes 160.3 MB on disk.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct RewrittenFile {
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub disk_bytes_before: u64,
    pub disk_bytes_after: u64,
    /// How long the copy took (writers went on meanwhile).
    pub copy_ms: u64,
    /// How long writers waited: the copy brought up to date and swapped in.
    pub writers_waited_ms: u64,
    /// Rows written or removed in the copy to bring it up to date.
    pub rows_caught_up: u64,
}

/// A file's length and the bytes allocated to it.
#[derive(Debug, Clone, Copy)]
struct FileSize {
    length: u64,
    on_disk: u64,
}

impl FileSize {
    fn of(path: &Path) -> Result<FileSize, StoreError> {
        let metadata = std::fs::metadata(path).map_err(|e| io(path, e))?;
        Ok(FileSize {
            length: metadata.len(),
            on_disk: allocated_bytes(&metadata),
        })
    }
}

#[cfg(unix)]
fn allocated_bytes(metadata: &std::fs::Metadata) -> u64 {
    // `st_blocks` counts 512-byte units whatever the file system's block.
    std::os::unix::fs::MetadataExt::blocks(metadata) * 512
}

#[cfg(not(unix))]
fn allocated_bytes(metadata: &std::fs::Metadata) -> u64 {
    metadata.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Record, RecordKind};

    #[test]
    fn a_rewrite_leaves_no_deleted_value_in_the_file_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let store = Store::open(&path).unwrap();
        let records: Vec<Record> = (0..200)
            .map(|i| Record::new("crm", &i.to_string(), RecordKind::Person))
            .collect();
        store.apply_file("crm", "a.csv", "h", &records).unwrap();
        // Values written raw (meta), then replaced: their old bytes stay in
        // the freed pages.
        for i in 0..50 {
            let secret = format!("secret-{i:03}-{}", "x".repeat(200));
            store.set_meta(&format!("k{i}"), &secret).unwrap();
        }
        for i in 0..50 {
            store.set_meta(&format!("k{i}"), "gone").unwrap();
        }
        let holds = |needle: &[u8]| {
            let bytes = std::fs::read(&path).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        };
        assert!(
            holds(b"secret-049-"),
            "the premise: freed pages keep old bytes"
        );
        let txn = store.db.begin_write().unwrap();
        mark_pending(&txn).unwrap();
        txn.commit().unwrap();
        assert!(store.scrub_pending().unwrap());
        store.rewrite_file(&path).unwrap();
        assert!(!store.scrub_pending().unwrap());
        assert!(!holds(b"secret-0"), "a replaced value is still in the file");
        assert_eq!(store.meta("k7").unwrap().as_deref(), Some("gone"));
        assert_eq!(store.record_count().unwrap(), 200);
        assert!(!path.with_extension("redb.rewrite").exists());
        // The store goes on working on the new file.
        store
            .apply_file("crm", "b.csv", "h", &records[..5])
            .unwrap();
        assert!(store.get("crm:3").unwrap().is_some());
    }

    #[test]
    fn what_writers_commit_while_the_copy_is_made_is_in_the_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let store = Store::open(&path).unwrap();
        let batch = |file: &str, from: usize, to: usize| -> Vec<Record> {
            (from..to)
                .map(|i| {
                    let mut r = Record::new("crm", &i.to_string(), RecordKind::Person);
                    r.names.push(format!("person {i} of {file}"));
                    r
                })
                .collect()
        };
        store
            .apply_file("crm", "a.csv", "h1", &batch("a", 0, 300))
            .unwrap();
        store
            .apply_file("crm", "b.csv", "h2", &batch("b", 300, 400))
            .unwrap();
        store.set_meta("kept", "before").unwrap();
        store.set_meta("changed", "before").unwrap();
        let txn = store.db.begin_write().unwrap();
        mark_pending(&txn).unwrap();
        txn.commit().unwrap();
        let seq_before = store.last_seq().unwrap();

        // As requests would while the copy is made: new records, a changed
        // one, a file gone, a meta key changed and one added.
        let rewritten = store
            .rewrite_file_with(&path, || {
                store
                    .apply_file("crm", "c.csv", "h3", &batch("c", 400, 450))
                    .unwrap();
                let mut changed = batch("a", 0, 300);
                changed[7].names = vec!["renamed while copying".into()];
                store.apply_file("crm", "a.csv", "h4", &changed).unwrap();
                store.remove_file("crm", "b.csv").unwrap();
                store.set_meta("changed", "after").unwrap();
                store.set_meta("added", "during").unwrap();
            })
            .unwrap();

        assert!(rewritten.rows_caught_up > 0, "{rewritten:?}");
        assert!(!store.scrub_pending().unwrap());
        assert_eq!(store.record_count().unwrap(), 350);
        assert!(store.get("crm:420").unwrap().is_some(), "a record added");
        assert!(store.get("crm:350").unwrap().is_none(), "a record removed");
        let renamed = store.get("crm:7").unwrap().unwrap();
        assert_eq!(renamed.names, vec!["renamed while copying".to_string()]);
        assert_eq!(store.meta("kept").unwrap().as_deref(), Some("before"));
        assert_eq!(store.meta("changed").unwrap().as_deref(), Some("after"));
        assert_eq!(store.meta("added").unwrap().as_deref(), Some("during"));
        assert!(store.last_seq().unwrap() > seq_before, "the change log too");
        // Reopened from the file alone, it holds the same.
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.record_count().unwrap(), 350);
        assert_eq!(store.meta("added").unwrap().as_deref(), Some("during"));
        assert!(!path.with_extension("redb.rewrite").exists());
    }

    #[test]
    fn a_rewrite_gives_back_the_disk_space_of_deleted_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let store = Store::open(&path).unwrap();
        let records: Vec<Record> = (0..3000)
            .map(|i| {
                let mut record = Record::new("crm", &i.to_string(), RecordKind::Note);
                record.body = Some(format!("note {i} {}", "long text ".repeat(100)));
                record
            })
            .collect();
        store.apply_file("crm", "a.csv", "h", &records).unwrap();
        // The file now holds 100 of the 3,000 records.
        store
            .apply_file("crm", "a.csv", "h2", &records[..100])
            .unwrap();
        let txn = store.db.begin_write().unwrap();
        mark_pending(&txn).unwrap();
        txn.commit().unwrap();
        let rewritten = store.rewrite_file(&path).unwrap();
        assert!(rewritten.disk_bytes_after <= rewritten.bytes_after);
        assert!(
            rewritten.disk_bytes_after * 4 < rewritten.disk_bytes_before,
            "{rewritten:?}"
        );
        assert_eq!(store.record_count().unwrap(), 100);
    }
}
