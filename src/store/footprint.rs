//! What each table of the store takes on disk (redb's own accounting of
//! stored, metadata and fragmented bytes), for `rapport bench ingest`.
//!
//! It must never write: one read transaction, statistics only.

use redb::{Key, ReadableTableMetadata, TableDefinition, TableHandle, Value};

use super::snapshot::TableVisitor;
use super::{Store, StoreError, db};

/// Bytes of one table: what its keys and values take, plus its B-tree pages'
/// overhead and the unused space in its pages.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableBytes {
    pub table: String,
    pub rows: u64,
    pub stored: u64,
    pub metadata: u64,
    pub fragmented: u64,
}

struct Measure<'a> {
    txn: &'a redb::ReadTransaction,
    tables: Vec<TableBytes>,
}

impl TableVisitor for Measure<'_> {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        table: TableDefinition<K, V>,
    ) -> Result<(), StoreError> {
        let opened = self.txn.open_table(table).map_err(db)?;
        let stats = opened.stats().map_err(db)?;
        self.tables.push(TableBytes {
            table: table.name().to_string(),
            rows: opened.len().map_err(db)?,
            stored: stats.stored_bytes(),
            metadata: stats.metadata_bytes(),
            fragmented: stats.fragmented_bytes(),
        });
        Ok(())
    }
}

impl Store {
    /// Every table's bytes, as one read transaction sees them.
    pub fn table_bytes(&self) -> Result<Vec<TableBytes>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let mut measure = Measure {
            txn: &txn,
            tables: Vec::new(),
        };
        super::visit_tables(&mut measure)?;
        Ok(measure.tables)
    }
}
