//! Paged reads for bulk export: records (with their customer assignment and attributes, as
//! the index sees them) and customers, a page at a time in key order, each
//! page in its own short read transaction, so that an export of any size
//! needs memory for one page and never pins old pages of the database for
//! the whole length of a slow download.
//!
//! It must never write.

use std::ops::Bound;

use super::resolution::apply_assignment;
use super::resolution_tables::{ASSIGNMENTS, ENTITIES};
use super::writeback::{CUSTOMER_ATTRIBUTES, apply_attributes};
use super::{RECORDS, Store, StoreError, corrupt, db, decode_record};
use crate::record::Record;
use crate::resolve::Entity;

impl Store {
    /// Up to `limit` records with an id after `after` (from the first when
    /// `None`), in id order, with their customer assignment and attributes applied.
    pub fn records_page(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let records = txn.open_table(RECORDS).map_err(db)?;
        let assignments = txn.open_table(ASSIGNMENTS).map_err(db)?;
        let attributes = txn.open_table(CUSTOMER_ATTRIBUTES).map_err(db)?;
        let start = match after {
            Some(id) => Bound::Excluded(id),
            None => Bound::Unbounded,
        };
        let mut out = Vec::with_capacity(limit.min(4096));
        for entry in records
            .range::<&str>((start, Bound::Unbounded))
            .map_err(db)?
        {
            if out.len() >= limit {
                break;
            }
            let (id, bytes) = entry.map_err(db)?;
            let id = id.value().to_string();
            let mut record = decode_record(&id, bytes.value())?;
            if let Some(a) = assignments.get(id.as_str()).map_err(db)? {
                apply_assignment(&mut record, &id, a.value())?;
            }
            apply_attributes(&attributes, &mut record)?;
            out.push((id, record));
        }
        Ok(out)
    }

    /// The records with these ids that still exist, in the order given, with
    /// their customer assignment and attributes applied (one read
    /// transaction).
    pub fn records_by_ids(&self, ids: &[String]) -> Result<Vec<(String, Record)>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let records = txn.open_table(RECORDS).map_err(db)?;
        let assignments = txn.open_table(ASSIGNMENTS).map_err(db)?;
        let attributes = txn.open_table(CUSTOMER_ATTRIBUTES).map_err(db)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(bytes) = records.get(id.as_str()).map_err(db)? {
                let mut record = decode_record(id, bytes.value())?;
                if let Some(a) = assignments.get(id.as_str()).map_err(db)? {
                    apply_assignment(&mut record, id, a.value())?;
                }
                apply_attributes(&attributes, &mut record)?;
                out.push((id.clone(), record));
            }
        }
        Ok(out)
    }

    /// Up to `limit` entities with an id after `after`, in id order.
    pub fn entities_page(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Entity>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(ENTITIES).map_err(db)?;
        let start = match after {
            Some(id) => Bound::Excluded(id),
            None => Bound::Unbounded,
        };
        let mut out = Vec::with_capacity(limit.min(4096));
        for entry in table.range::<&str>((start, Bound::Unbounded)).map_err(db)? {
            if out.len() >= limit {
                break;
            }
            let (id, bytes) = entry.map_err(db)?;
            out.push(
                super::record_codec::decode_json(bytes.value())
                    .map_err(|e| corrupt(id.value(), e))?,
            );
        }
        Ok(out)
    }
}
