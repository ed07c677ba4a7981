//! Bringing a copy of the store up to date with the live database, table by
//! table: the second phase of the rewrite after an erasure (`rewrite`).
//! The copy is made while writers go on; then, with the writers' gate
//! closed, each table of the copy is walked beside the live one in key
//! order and made equal to it (rows added, changed or gone since the copy
//! began). Writers wait only for this walk, not for the whole copy.
//!
//! It must never write to the live database, and never leave a table of the
//! copy different from the live one: every table [`super::visit_tables`]
//! lists is walked whole.

use std::cmp::Ordering;

use redb::{Key, ReadableTable, TableDefinition, Value};

use super::snapshot::TableVisitor;
use super::{StoreError, db};

/// Walks every table of `live` beside the same table of `copy` and applies
/// the differences to `copy`.
pub(super) struct CatchUp<'a> {
    pub live: &'a redb::ReadTransaction,
    pub copy: &'a redb::WriteTransaction,
    /// Rows written or removed in the copy.
    pub rows_changed: u64,
}

type Raw = (Vec<u8>, Vec<u8>);

impl TableVisitor for CatchUp<'_> {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        table: TableDefinition<K, V>,
    ) -> Result<(), StoreError> {
        let live = self.live.open_table(table).map_err(db)?;
        let mut copy = self.copy.open_table(table).map_err(db)?;
        let mut upserts: Vec<Raw> = Vec::new();
        let mut removals: Vec<Vec<u8>> = Vec::new();
        {
            let raw = |entry: Result<
                (redb::AccessGuard<K>, redb::AccessGuard<V>),
                redb::StorageError,
            >| {
                entry.map_err(db).map(|(k, v)| {
                    (
                        K::as_bytes(&k.value()).as_ref().to_vec(),
                        V::as_bytes(&v.value()).as_ref().to_vec(),
                    )
                })
            };
            let mut live_rows = live.iter().map_err(db)?.map(raw);
            let mut copy_rows = copy.iter().map_err(db)?.map(raw);
            let mut next_live = live_rows.next().transpose()?;
            let mut next_copy = copy_rows.next().transpose()?;
            loop {
                let order = match (&next_live, &next_copy) {
                    (None, None) => break,
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (Some((l, _)), Some((c, _))) => K::compare(l, c),
                };
                match order {
                    // Only in the live table: written since the copy began.
                    Ordering::Less => {
                        upserts.extend(next_live.take());
                        next_live = live_rows.next().transpose()?;
                    }
                    // Only in the copy: removed since.
                    Ordering::Greater => {
                        removals.extend(next_copy.take().map(|(k, _)| k));
                        next_copy = copy_rows.next().transpose()?;
                    }
                    Ordering::Equal => {
                        if let (Some(l), Some(c)) = (next_live.take(), next_copy.take())
                            && l.1 != c.1
                        {
                            upserts.push(l);
                        }
                        next_live = live_rows.next().transpose()?;
                        next_copy = copy_rows.next().transpose()?;
                    }
                }
            }
        }
        self.rows_changed += (upserts.len() + removals.len()) as u64;
        for key in &removals {
            copy.remove(K::from_bytes(key)).map_err(db)?;
        }
        for (key, value) in &upserts {
            copy.insert(K::from_bytes(key), V::from_bytes(value))
                .map_err(db)?;
        }
        Ok(())
    }
}
