//! A point-in-time copy of the whole store: every table listed by
//! [`super::visit_tables`], read inside ONE redb read transaction (so the
//! copy is one consistent view while writers go on committing) and written
//! into a fresh redb file in one write transaction.
//!
//! It must never write to the live database, and never copy only part of the
//! tables: the list lives next to the table definitions and a test checks it
//! against what the database really holds.

use std::path::Path;

use redb::{
    Database, Key, MultimapTableHandle, ReadableDatabase, ReadableTable, TableDefinition,
    TableHandle, Value,
};
use serde::Serialize;

use super::{META, META_LAST_SEQ, RECORDS, Store, StoreError, db, read_u64};

/// Something done once per table of the store (see [`super::visit_tables`]).
pub trait TableVisitor {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        table: TableDefinition<K, V>,
    ) -> Result<(), StoreError>;
}

/// What a store snapshot holds.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StoreSnapshot {
    /// The change sequence number of the copied view.
    pub seq: u64,
    pub records: u64,
    /// Table name → rows copied.
    pub tables: Vec<(String, u64)>,
}

struct Copier<'a> {
    from: &'a redb::ReadTransaction,
    to: &'a redb::WriteTransaction,
    tables: Vec<(String, u64)>,
}

impl TableVisitor for Copier<'_> {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        table: TableDefinition<K, V>,
    ) -> Result<(), StoreError> {
        let source = self.from.open_table(table).map_err(db)?;
        let mut target = self.to.open_table(table).map_err(db)?;
        let mut rows = 0;
        for entry in source.iter().map_err(db)? {
            let (key, value) = entry.map_err(db)?;
            target.insert(key.value(), value.value()).map_err(db)?;
            rows += 1;
        }
        self.tables.push((table.name().to_string(), rows));
        Ok(())
    }
}

/// Collects the names of the listed tables.
#[cfg(test)]
pub(crate) struct TableNames(pub Vec<String>);

#[cfg(test)]
impl TableVisitor for TableNames {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        table: TableDefinition<K, V>,
    ) -> Result<(), StoreError> {
        self.0.push(table.name().to_string());
        Ok(())
    }
}

impl Store {
    /// Copies every table, as one read transaction sees them, into a new redb
    /// file at `path` (which must not exist). Readers are never blocked and
    /// writers never wait: redb keeps the pages of the read view alive until
    /// the copy ends.
    pub fn snapshot_to(&self, path: &Path) -> Result<StoreSnapshot, StoreError> {
        let _span = tracing::info_span!("store_snapshot", path = %path.display()).entered();
        let from = self.db.begin_read().map_err(db)?;
        let target = redb::Builder::new()
            .set_cache_size(64 * 1024 * 1024)
            .create(path)
            .map_err(db)?;
        let to = target.begin_write().map_err(db)?;
        let mut copier = Copier {
            from: &from,
            to: &to,
            tables: Vec::new(),
        };
        super::visit_tables(&mut copier)?;
        let tables = copier.tables;
        to.commit().map_err(db)?;
        let seq = read_u64(&from.open_table(META).map_err(db)?, META_LAST_SEQ)?;
        let records = tables
            .iter()
            .find(|(name, _)| name == RECORDS.name())
            .map_or(0, |(_, rows)| *rows);
        Ok(StoreSnapshot {
            seq,
            records,
            tables,
        })
    }
}

/// The names of the tables a store file really holds.
pub fn tables_in(database: &Database) -> Result<Vec<String>, StoreError> {
    let txn = database.begin_read().map_err(db)?;
    let mut names: Vec<String> = txn
        .list_tables()
        .map_err(db)?
        .map(|t| t.name().to_string())
        .collect();
    names.extend(
        txn.list_multimap_tables()
            .map_err(db)?
            .map(|t| t.name().to_string()),
    );
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Record, RecordKind};

    fn store_with_records(dir: &Path) -> Store {
        let store = Store::open(&dir.join("s.redb")).unwrap();
        let records: Vec<Record> = (0..50)
            .map(|i| {
                let mut r = Record::new("crm", &i.to_string(), RecordKind::Person);
                r.names.push(format!("Person {i}"));
                r
            })
            .collect();
        store.apply_file("crm", "a.csv", "h", &records).unwrap();
        store.set_meta("marker", "kept").unwrap();
        store
    }

    #[test]
    fn every_table_of_the_database_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_records(dir.path());
        let mut listed = TableNames(Vec::new());
        super::super::visit_tables(&mut listed).unwrap();
        let present = tables_in(&store.db.current()).unwrap();
        assert!(!present.is_empty());
        for name in &present {
            assert!(
                listed.0.contains(name),
                "table `{name}` is in the database but not in store::visit_tables: snapshots would lose it"
            );
        }
    }

    #[test]
    fn a_snapshot_holds_every_table_and_opens_as_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_records(dir.path());
        let copy_path = dir.path().join("copy.redb");
        let snapshot = store.snapshot_to(&copy_path).unwrap();
        assert_eq!(snapshot.records, 50);
        assert_eq!(snapshot.seq, store.last_seq().unwrap());
        drop(store);
        let copy = Store::open(&copy_path).unwrap();
        assert_eq!(copy.record_count().unwrap(), 50);
        assert_eq!(copy.last_seq().unwrap(), snapshot.seq);
        assert_eq!(copy.meta("marker").unwrap().as_deref(), Some("kept"));
        assert_eq!(
            copy.get("crm:7").unwrap().unwrap().names,
            vec!["Person 7".to_string()]
        );
        assert_eq!(copy.changes_after(0, 1000).unwrap().len(), 50);
    }

    #[test]
    fn writes_after_the_snapshot_started_are_not_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_records(dir.path());
        let before = store.snapshot_to(&dir.path().join("one.redb")).unwrap();
        store
            .apply_file(
                "crm",
                "b.csv",
                "h",
                &[Record::new("crm", "x", RecordKind::Note)],
            )
            .unwrap();
        let after = store.snapshot_to(&dir.path().join("two.redb")).unwrap();
        assert_eq!((before.records, after.records), (50, 51));
        assert!(after.seq > before.seq);
    }
}
