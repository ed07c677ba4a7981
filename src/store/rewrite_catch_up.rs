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
            // Rows are compared where they lie (no copy of a row that is the
            // same on both sides, which is nearly all of them).
            let raw = |key: &redb::AccessGuard<K>, value: &redb::AccessGuard<V>| -> Raw {
                (
                    K::as_bytes(&key.value()).as_ref().to_vec(),
                    V::as_bytes(&value.value()).as_ref().to_vec(),
                )
            };
            let mut live_rows = live.iter().map_err(db)?;
            let mut copy_rows = copy.iter().map_err(db)?;
            let mut next_live = live_rows.next().transpose().map_err(db)?;
            let mut next_copy = copy_rows.next().transpose().map_err(db)?;
            loop {
                let order = match (&next_live, &next_copy) {
                    (None, None) => break,
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (Some((l, _)), Some((c, _))) => K::compare(
                        K::as_bytes(&l.value()).as_ref(),
                        K::as_bytes(&c.value()).as_ref(),
                    ),
                };
                match order {
                    // Only in the live table: written since the copy began.
                    Ordering::Less => {
                        if let Some((k, v)) = &next_live {
                            upserts.push(raw(k, v));
                        }
                        next_live = live_rows.next().transpose().map_err(db)?;
                    }
                    // Only in the copy: removed since.
                    Ordering::Greater => {
                        if let Some((k, _)) = &next_copy {
                            removals.push(K::as_bytes(&k.value()).as_ref().to_vec());
                        }
                        next_copy = copy_rows.next().transpose().map_err(db)?;
                    }
                    Ordering::Equal => {
                        if let (Some((k, l)), Some((_, c))) = (&next_live, &next_copy)
                            && V::as_bytes(&l.value()).as_ref() != V::as_bytes(&c.value()).as_ref()
                        {
                            upserts.push(raw(k, l));
                        }
                        next_live = live_rows.next().transpose().map_err(db)?;
                        next_copy = copy_rows.next().transpose().map_err(db)?;
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
