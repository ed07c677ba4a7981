//! The record store: the source of truth, on redb. It keeps normalised records
//! keyed by `source:external_id`, a change log that the index replays, the
//! checkpoint of every ingested file, and small metadata.
//!
//! Every write is one redb transaction and is acknowledged only after it
//! commits. It must never know about tantivy: the index reads the change log,
//! the store does not push to it.

use std::collections::BTreeSet;
use std::path::Path;

use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::record::Record;

/// record id → record (JSON in one zstd frame, or plain JSON written by an
/// older version: see `record_codec`).
const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("records");
/// change sequence number → record id. Only each record's latest change is kept.
const CHANGES: TableDefinition<u64, &str> = TableDefinition::new("changes");
/// record id → its latest change sequence number.
const RECORD_SEQ: TableDefinition<&str, u64> = TableDefinition::new("record_seq");
/// `source\0file` → checkpoint (JSON).
const CHECKPOINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("checkpoints");
/// small named values.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Every table of the store, in one list: snapshots copy exactly these, so a
/// table added to the store must be added here too (the test
/// `every_table_of_the_database_is_listed` fails otherwise).
pub(crate) fn visit_tables<V: snapshot::TableVisitor>(visitor: &mut V) -> Result<(), StoreError> {
    visitor.visit(RECORDS)?;
    visitor.visit(CHANGES)?;
    visitor.visit(RECORD_SEQ)?;
    visitor.visit(CHECKPOINTS)?;
    visitor.visit(META)?;
    visitor.visit(resolution::ASSIGNMENTS)?;
    visitor.visit(resolution::BIRTH)?;
    visitor.visit(resolution::ENTITIES)?;
    visitor.visit(resolution::ALIASES)?;
    visitor.visit(writeback::CUSTOMER_ATTRIBUTES)?;
    visitor.visit(erasure::ERASED_RECORDS)?;
    visitor.visit(erasure::ERASED_KEYS)?;
    visitor.visit(erased_assignments::ERASED_ASSIGNMENTS)?;
    visitor.visit(erased_mentions::ERASED_MENTIONS)?;
    visitor.visit(audit::AUDIT)?;
    visitor.visit(auth::API_KEYS)?;
    visitor.visit(auth::USERS)?;
    visitor.visit(sessions::SESSIONS)?;
    visitor.visit(lockouts::LOCKOUTS)?;
    visitor.visit(sign_in_links::SIGN_IN_LINKS)?;
    Ok(())
}

const META_LAST_SEQ: &str = "last_seq";
const CACHE_BYTES: usize = 128 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the record store {path} is in use by another Rapport process (is `rapport serve` running on this data directory?)"
    )]
    Locked { path: String },
    #[error(
        "the record store {path} is still in use by a transaction: compacting it needs it alone"
    )]
    Busy { path: String },
    #[error("record store: {0}")]
    Db(#[from] redb::Error),
    #[error("record store holds an unreadable value under `{key}`: {message}")]
    Corrupt { key: String, message: String },
    /// A group commit of audit entries failed (the error, as its leader saw it).
    #[error("the audit log could not be written: {0}")]
    AuditBatch(#[source] std::sync::Arc<StoreError>),
    #[error("store file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
}

fn db<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Db(e.into())
}

/// What a file contributed at its last ingest.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Checkpoint {
    /// blake3 of the file's bytes.
    pub hash: String,
    pub records: BTreeSet<String>,
}

pub use crate::record::Change;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ApplyStats {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
    /// Records refused because their person was erased (see `erasure`).
    pub erased: usize,
}

/// A file being replaced batch by batch (see [`Store::begin_file`]).
#[derive(Debug)]
pub struct FileUpdate {
    key: String,
    previous: BTreeSet<String>,
    seen: BTreeSet<String>,
    stats: ApplyStats,
}

impl FileUpdate {
    pub fn stats(&self) -> ApplyStats {
        self.stats
    }
}

pub struct Store {
    db: live_db::LiveDatabase,
}

/// Opens (or creates) the redb file at `path` with the store's settings.
fn open_database(path: &Path) -> Result<Database, StoreError> {
    // redb's default cache is 1 GiB; a smaller one keeps the server's
    // memory bounded while a large export streams through.
    match redb::Builder::new()
        .set_cache_size(CACHE_BYTES)
        .create(path)
    {
        Ok(d) => Ok(d),
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => Err(StoreError::Locked {
            path: path.display().to_string(),
        }),
        Err(e) => Err(db(e)),
    }
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let database = open_database(path)?;
        let txn = database.begin_write().map_err(db)?;
        {
            txn.open_table(RECORDS).map_err(db)?;
            txn.open_table(CHANGES).map_err(db)?;
            txn.open_table(RECORD_SEQ).map_err(db)?;
            txn.open_table(CHECKPOINTS).map_err(db)?;
            txn.open_table(META).map_err(db)?;
            resolution::create_tables(&txn)?;
            writeback::create_tables(&txn)?;
            erasure::create_tables(&txn)?;
            auth::create_tables(&txn)?;
        }
        txn.commit().map_err(db)?;
        Ok(Store {
            db: live_db::LiveDatabase::new(database),
        })
    }

    /// Replaces what `file` of `source` contributed with `records`: the
    /// batch API below in one call (for small files and tests).
    pub fn apply_file(
        &self,
        source: &str,
        file: &str,
        hash: &str,
        records: &[Record],
    ) -> Result<ApplyStats, StoreError> {
        let mut update = self.begin_file(source, file)?;
        self.apply_batch(&mut update, records)?;
        let stats = self.finish_file(update, hash)?;
        self.sync()?;
        Ok(stats)
    }

    /// A write transaction for the batch API. Its commit is not flushed to
    /// disk on its own (redb `Durability::None`): [`Store::sync`], at the end
    /// of an ingest pass, makes every commit before it durable at once. A
    /// crash before that rolls the store back to the last durable commit as
    /// a whole — records, change log and checkpoints together — so the files
    /// are simply read again.
    fn begin_batch_write(&self) -> Result<live_db::WriteTxn, StoreError> {
        let mut txn = self.db.begin_write().map_err(db)?;
        txn.set_durability(redb::Durability::None).map_err(db)?;
        Ok(txn)
    }

    /// Makes every earlier commit durable (one fsync) and returns the last
    /// sequence number, read inside that commit: every change up to it is
    /// on disk, whatever batch commits follow.
    pub fn sync(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let seq = read_u64(&txn.open_table(META).map_err(db)?, META_LAST_SEQ)?;
        txn.commit().map_err(db)?;
        Ok(seq)
    }

    /// Starts replacing what `file` of `source` contributed. Records then go
    /// in with [`Store::apply_batch`], one transaction per batch, so a file of
    /// any size needs memory for one batch (and the set of its record ids);
    /// [`Store::finish_file`] deletes the records the file no longer has and
    /// saves its checkpoint.
    pub fn begin_file(&self, source: &str, file: &str) -> Result<FileUpdate, StoreError> {
        let key = checkpoint_key(source, file);
        let txn = self.db.begin_read().map_err(db)?;
        let checkpoints = txn.open_table(CHECKPOINTS).map_err(db)?;
        let previous = read_checkpoint(&checkpoints, &key)?.unwrap_or_default();
        Ok(FileUpdate {
            key,
            previous: previous.records,
            seen: BTreeSet::new(),
            stats: ApplyStats::default(),
        })
    }

    /// Upserts one batch of a file's records in one transaction.
    pub fn apply_batch(
        &self,
        update: &mut FileUpdate,
        records: &[Record],
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let encoded = record_encode::encode_batch(records);
        let txn = self.begin_batch_write()?;
        {
            let mut log = ChangeLog::open(&txn)?;
            let tombstones = erasure::Tombstones::open(&txn)?;
            for (record, encoded) in records.iter().zip(encoded) {
                let id = record.id();
                if tombstones.covers(&id, record)? {
                    update.stats.erased += 1;
                    continue;
                }
                let encoded = match tombstones.without_erased_mentions(record) {
                    Some(redacted) => record_encode::encode(&redacted),
                    None => encoded,
                }
                .map_err(|message| corrupt(&id, message))?;
                match log.upsert_encoded(&id, &encoded.json, &encoded.stored)? {
                    Upsert::Inserted => update.stats.inserted += 1,
                    Upsert::Updated => update.stats.updated += 1,
                    Upsert::Unchanged => update.stats.unchanged += 1,
                }
                update.seen.insert(id);
            }
            log.finish()?;
        }
        txn.commit().map_err(db)
    }

    /// Ends a file: deletes the records it had before and no longer has, and
    /// saves its checkpoint with `hash`, in one transaction.
    pub fn finish_file(&self, update: FileUpdate, hash: &str) -> Result<ApplyStats, StoreError> {
        let FileUpdate {
            key,
            previous,
            seen,
            mut stats,
        } = update;
        let txn = self.begin_batch_write()?;
        {
            let mut log = ChangeLog::open(&txn)?;
            let mut checkpoints = txn.open_table(CHECKPOINTS).map_err(db)?;
            for gone in previous.difference(&seen) {
                if log.delete(gone)? {
                    stats.deleted += 1;
                }
            }
            write_checkpoint(&mut checkpoints, &key, hash, seen)?;
            log.finish()?;
        }
        txn.commit().map_err(db)?;
        Ok(stats)
    }

    /// Ends a file whose reading broke off: deletes nothing, and saves a
    /// checkpoint that knows every record the file had or got (so a later
    /// pass can delete them) with an empty hash (so the file is read again).
    pub fn abort_file(&self, update: FileUpdate) -> Result<ApplyStats, StoreError> {
        let FileUpdate {
            key,
            mut previous,
            seen,
            stats,
        } = update;
        previous.extend(seen);
        let txn = self.begin_batch_write()?;
        {
            let mut checkpoints = txn.open_table(CHECKPOINTS).map_err(db)?;
            write_checkpoint(&mut checkpoints, &key, "", previous)?;
        }
        txn.commit().map_err(db)?;
        Ok(stats)
    }

    /// Deletes every record `file` contributed and forgets the file.
    pub fn remove_file(&self, source: &str, file: &str) -> Result<usize, StoreError> {
        let key = checkpoint_key(source, file);
        let txn = self.db.begin_write().map_err(db)?;
        let mut deleted = 0;
        {
            let mut log = ChangeLog::open(&txn)?;
            let mut checkpoints = txn.open_table(CHECKPOINTS).map_err(db)?;
            if let Some(previous) = read_checkpoint(&checkpoints, &key)? {
                for id in &previous.records {
                    if log.delete(id)? {
                        deleted += 1;
                    }
                }
            }
            checkpoints.remove(key.as_str()).map_err(db)?;
            log.finish()?;
        }
        txn.commit().map_err(db)?;
        Ok(deleted)
    }

    pub fn checkpoint(&self, source: &str, file: &str) -> Result<Option<Checkpoint>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(CHECKPOINTS).map_err(db)?;
        read_checkpoint(&table, &checkpoint_key(source, file))
    }

    /// Files of `source` that have a checkpoint, as paths relative to its folder.
    pub fn files_of_source(&self, source: &str) -> Result<Vec<String>, StoreError> {
        let prefix = format!("{source}\0");
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(CHECKPOINTS).map_err(db)?;
        let mut files = Vec::new();
        for entry in table.range(prefix.as_str()..).map_err(db)? {
            let (key, _) = entry.map_err(db)?;
            match key.value().strip_prefix(&prefix) {
                Some(file) => files.push(file.to_string()),
                None => break,
            }
        }
        Ok(files)
    }

    pub fn get(&self, id: &str) -> Result<Option<Record>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(RECORDS).map_err(db)?;
        match table.get(id).map_err(db)? {
            Some(bytes) => decode_record(id, bytes.value()).map(Some),
            None => Ok(None),
        }
    }

    pub fn record_count(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(RECORDS).map_err(db)?;
        table.len().map_err(db)
    }

    /// The sequence number of the newest change (0 for an empty store).
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let meta = txn.open_table(META).map_err(db)?;
        read_u64(&meta, META_LAST_SEQ)
    }

    /// Up to `limit` changes with a sequence number above `after`, oldest first.
    pub fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Change>, StoreError> {
        change_read::changes_after(self, after, limit)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(META).map_err(db)?;
        Ok(table
            .get(key)
            .map_err(db)?
            .map(|v| String::from_utf8_lossy(v.value()).into_owned()))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut table = txn.open_table(META).map_err(db)?;
            table.insert(key, value.as_bytes()).map_err(db)?;
        }
        txn.commit().map_err(db)
    }
}

enum Upsert {
    Inserted,
    Updated,
    Unchanged,
}

/// The tables one write transaction touches to change records, keeping the
/// change log in step.
struct ChangeLog<'txn> {
    records: redb::Table<'txn, &'static str, &'static [u8]>,
    changes: redb::Table<'txn, u64, &'static str>,
    record_seq: redb::Table<'txn, &'static str, u64>,
    /// record id → the sequence number of its first insert (anchors ids).
    birth: redb::Table<'txn, &'static str, u64>,
    meta: redb::Table<'txn, &'static str, &'static [u8]>,
    last_seq: u64,
}

impl<'txn> ChangeLog<'txn> {
    fn open(txn: &'txn redb::WriteTransaction) -> Result<Self, StoreError> {
        let meta = txn.open_table(META).map_err(db)?;
        let last_seq = read_u64(&meta, META_LAST_SEQ)?;
        Ok(ChangeLog {
            records: txn.open_table(RECORDS).map_err(db)?,
            changes: txn.open_table(CHANGES).map_err(db)?,
            record_seq: txn.open_table(RECORD_SEQ).map_err(db)?,
            birth: txn.open_table(resolution::BIRTH).map_err(db)?,
            meta,
            last_seq,
        })
    }

    fn log(&mut self, id: &str) -> Result<(), StoreError> {
        self.last_seq += 1;
        let old = self.record_seq.insert(id, self.last_seq).map_err(db)?;
        if let Some(old) = old {
            let old = old.value();
            self.changes.remove(old).map_err(db)?;
        }
        self.changes.insert(self.last_seq, id).map_err(db)?;
        Ok(())
    }

    /// Stores the record whose JSON is `json` (compressed: `record_codec`).
    fn upsert(&mut self, id: &str, json: &[u8]) -> Result<Upsert, StoreError> {
        let bytes = record_codec::compress(json).map_err(|e| corrupt(id, e))?;
        self.upsert_encoded(id, json, &bytes)
    }

    /// [`ChangeLog::upsert`] with the stored bytes already made from `json`.
    fn upsert_encoded(
        &mut self,
        id: &str,
        json: &[u8],
        bytes: &[u8],
    ) -> Result<Upsert, StoreError> {
        let outcome = match self.records.get(id).map_err(db)? {
            Some(existing) if record_codec::holds(existing.value(), json, bytes) => {
                return Ok(Upsert::Unchanged);
            }
            Some(_) => Upsert::Updated,
            None => Upsert::Inserted,
        };
        self.records.insert(id, bytes).map_err(db)?;
        if matches!(outcome, Upsert::Inserted) {
            self.birth.insert(id, self.last_seq + 1).map_err(db)?;
        }
        self.log(id)?;
        Ok(outcome)
    }

    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        let existed = self.records.remove(id).map_err(db)?.is_some();
        if existed {
            self.log(id)?;
        }
        Ok(existed)
    }

    fn finish(mut self) -> Result<(), StoreError> {
        let bytes = self.last_seq.to_le_bytes();
        self.meta
            .insert(META_LAST_SEQ, bytes.as_slice())
            .map_err(db)?;
        Ok(())
    }
}

fn write_checkpoint(
    checkpoints: &mut redb::Table<&'static str, &'static [u8]>,
    key: &str,
    hash: &str,
    records: BTreeSet<String>,
) -> Result<(), StoreError> {
    let checkpoint = Checkpoint {
        hash: hash.to_string(),
        records,
    };
    let bytes = serde_json::to_vec(&checkpoint).map_err(|e| StoreError::Corrupt {
        key: key.replace('\0', "/"),
        message: e.to_string(),
    })?;
    checkpoints.insert(key, bytes.as_slice()).map_err(db)?;
    Ok(())
}

fn checkpoint_key(source: &str, file: &str) -> String {
    format!("{source}\0{file}")
}

fn read_checkpoint(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<Checkpoint>, StoreError> {
    match table.get(key).map_err(db)? {
        Some(bytes) => serde_json::from_slice(bytes.value())
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                key: key.replace('\0', "/"),
                message: e.to_string(),
            }),
        None => Ok(None),
    }
}

fn read_u64(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<u64, StoreError> {
    match table.get(key).map_err(db)? {
        Some(bytes) => {
            let raw: [u8; 8] = bytes.value().try_into().map_err(|_| StoreError::Corrupt {
                key: key.to_string(),
                message: "expected 8 bytes".into(),
            })?;
            Ok(u64::from_le_bytes(raw))
        }
        None => Ok(0),
    }
}

fn decode_record(id: &str, bytes: &[u8]) -> Result<Record, StoreError> {
    record_codec::decode(bytes).map_err(|e| corrupt(id, e))
}

/// The error for a value under `key` that cannot be read back.
fn corrupt(key: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        key: key.to_string(),
        message: e.to_string(),
    }
}

/// The JSON value stored under `key` in a table of bytes, if there is one.
impl Store {
    /// Inserts `bytes` under `key` into a small table of things that end
    /// (lock-outs, sign-in links), and drops in the same transaction every
    /// row `ended` says has ended, so such tables never grow with time.
    fn insert_dropping_ended(
        &self,
        table: redb::TableDefinition<&str, &[u8]>,
        key: &str,
        bytes: &[u8],
        ended: impl Fn(&[u8]) -> bool,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut rows = txn.open_table(table).map_err(db)?;
            let mut gone = Vec::new();
            for row in rows.iter().map_err(db)? {
                let (saved_key, value) = row.map_err(db)?;
                if ended(value.value()) {
                    gone.push(saved_key.value().to_string());
                }
            }
            for saved_key in &gone {
                rows.remove(saved_key.as_str()).map_err(db)?;
            }
            rows.insert(key, bytes).map_err(db)?;
        }
        txn.commit().map_err(db)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match table.get(key).map_err(db)? {
        Some(bytes) => record_codec::decode_json(bytes.value())
            .map(Some)
            .map_err(|e| corrupt(key, e)),
        None => Ok(None),
    }
}

mod audit;
mod auth;
mod book_scan;
mod erased_assignments;
mod erased_mentions;
mod erasure;
mod erasure_ledger;
mod export;
mod footprint;
mod live_db;
mod lockouts;
pub use footprint::TableBytes;
pub use lockouts::SavedLockout;
mod change_read;
mod compaction;
mod encode_ahead;
mod record_codec;
mod record_encode;
pub use compaction::Compaction;
mod resolution;
mod resolution_partial;
mod resolution_tables;
mod resolution_view;
pub use resolution_view::ResolutionView;
mod retention;
mod retention_tombstone;
mod rewrite;
mod rewrite_catch_up;
mod sessions;
mod sign_in_links;
pub use rewrite::RewrittenFile;
pub use sessions::SavedSession;
pub use sign_in_links::SavedLink;
pub mod snapshot;
pub mod writeback;

pub use audit::{AuditEntry, AuditQuery, ChainBreak, NewAudit, verify_chain};
pub use auth::{KeyRecord, UserRecord};
pub use erasure::{Erasure, identifiers};
pub use erasure_ledger::{ErasureLedgerEntry, LEDGER_FILE, append_ledger, read_ledger};
pub use retention::RetentionPart;

#[cfg(test)]
mod tests;
