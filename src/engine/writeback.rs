//! The engine's write-back operations: notes (create, read, edit, delete) and
//! bulk customer attributes. Each write is one durable store transaction
//! acknowledged after its commit; the index then catches up.
//!
//! It must never hold the ingest lock while waiting: a note written during a
//! long ingest is stored at once and indexed at once, up to the write-back's
//! own durable commit (never past it: the pass's later batches are not on
//! disk yet).

use std::collections::HashMap;

use super::{EngineError, Rapport};
use crate::customers::find_entity;
use crate::store::writeback::{AttributeChange, AttributeOutcome};
use crate::writeback::WritebackError;
use crate::writeback::attributes::{self, AttributeFormat, AttributeReport, Rejected};
use crate::writeback::notes::{self, NewNote, Note, NoteEdit};

impl Rapport {
    /// Stores a new note (durably) and answers with it.
    pub fn create_note(&self, new: &NewNote) -> Result<Note, WritebackError> {
        let _span = tracing::info_span!("note_write", customer = %new.customer_id).entered();
        let target = notes::target_record(&self.store, new.customer_id.trim())?;
        let record = notes::new_record(new, &target)?;
        let assignment = self.store.write_note(&record)?;
        tracing::info!(note = %record.id(), target = %target, "note stored");
        Ok(Note::from_record(
            &record,
            assignment.and_then(|a| a.customer_id),
        ))
    }

    pub fn note(&self, id: &str) -> Result<Note, WritebackError> {
        let record_id = notes::record_id(id);
        let record = self
            .store
            .get(&record_id)?
            .ok_or_else(|| WritebackError::NoteNotFound(id.to_string()))?;
        let customer = self
            .store
            .assignment(&record_id)?
            .and_then(|a| a.customer_id);
        Ok(Note::from_record(&record, customer))
    }

    pub fn update_note(&self, id: &str, edit: &NoteEdit) -> Result<Note, WritebackError> {
        let _span = tracing::info_span!("note_edit", note = %id).entered();
        let record_id = notes::record_id(id);
        let mut record = self
            .store
            .get(&record_id)?
            .ok_or_else(|| WritebackError::NoteNotFound(id.to_string()))?;
        let target = match &edit.customer_id {
            Some(customer) => Some(notes::target_record(&self.store, customer.trim())?),
            None => None,
        };
        notes::edit_record(&mut record, edit, target.as_deref())?;
        let assignment = self.store.write_note(&record)?;
        Ok(Note::from_record(
            &record,
            assignment.and_then(|a| a.customer_id),
        ))
    }

    pub fn delete_note(&self, id: &str) -> Result<(), WritebackError> {
        let _span = tracing::info_span!("note_delete", note = %id).entered();
        if self.store.delete_note(&notes::record_id(id))? {
            Ok(())
        } else {
            Err(WritebackError::NoteNotFound(id.to_string()))
        }
    }

    /// Upserts attribute lines (NDJSON or CSV) read from `body` as it
    /// arrives, in durable transactions of [`attributes::BATCH_LINES`]
    /// lines: memory stays bounded whatever the upload's length. A body
    /// that fails midway keeps the batches written before (upserts are
    /// idempotent: sending it again is safe).
    ///
    /// With a row-level `scope` (a scoped caller's; empty: none), a line for
    /// a customer outside it is rejected as an unknown customer would be.
    pub fn upsert_attributes(
        &self,
        body: impl std::io::BufRead,
        format: AttributeFormat,
        scope: &super::Scope,
    ) -> Result<AttributeReport, WritebackError> {
        let _span = tracing::info_span!("attributes_write", ?format).entered();
        // Each customer id resolves once (an alias to its survivor).
        let mut customers: HashMap<String, Option<String>> = HashMap::new();
        let mut report = AttributeReport::default();
        let mut unknown = attributes::Rejections::default();
        let mut write = |lines: Vec<attributes::AttributeLine>| {
            let mut changes = Vec::with_capacity(lines.len());
            for line in lines {
                let current = match customers.get(&line.customer_id) {
                    Some(found) => found.clone(),
                    None => {
                        let found = match find_entity(&self.store, &line.customer_id) {
                            Ok(entity) => Some(entity.id),
                            Err(crate::customers::CustomerError::NotFound(_)) => None,
                            Err(e) => return Err(e.into()),
                        };
                        let found = match found {
                            Some(id) if !scope.is_empty() => self
                                .customer_in_scope(&id, scope)
                                .map_err(|e| WritebackError::Scope(e.to_string()))?
                                .then_some(id),
                            other => other,
                        };
                        customers.insert(line.customer_id.clone(), found.clone());
                        found
                    }
                };
                match current {
                    Some(customer_id) => changes.push(AttributeChange {
                        customer_id,
                        key: line.key,
                        value: line.value,
                    }),
                    None => unknown.push(Rejected {
                        line: line.line,
                        reason: format!("unknown customer `{}`", line.customer_id),
                    }),
                }
            }
            for outcome in self.store.write_attributes(&changes)? {
                match outcome {
                    AttributeOutcome::Written => report.accepted += 1,
                    AttributeOutcome::Unchanged => report.unchanged += 1,
                    AttributeOutcome::Deleted => report.deleted += 1,
                }
            }
            Ok(())
        };
        let rejected = match format {
            AttributeFormat::Ndjson => attributes::parse_ndjson(body, &mut write)?,
            AttributeFormat::Csv => attributes::parse_csv(body, &mut write)?,
        };
        let rejected = rejected.merge(unknown);
        report.rejected = rejected.listed;
        report.rejected_count = rejected.total;
        tracing::info!(
            accepted = report.accepted,
            unchanged = report.unchanged,
            deleted = report.deleted,
            rejected = report.rejected_count,
            "attributes stored"
        );
        Ok(report)
    }

    /// The attributes of a customer (following merges), by key.
    pub fn customer_attributes(
        &self,
        customer_id: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, WritebackError> {
        let entity = find_entity(&self.store, customer_id)?;
        Ok(self.store.customer_attributes(&entity.id)?)
    }

    /// Brings the index up to date after a write-back; while an ingest pass
    /// is writing, only up to what is durable (the write-back and all before
    /// it). Never waits for the ingest lock.
    pub fn index_writeback(&self) -> Result<(), EngineError> {
        let _pass = match self.ingest_lock.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                // An ingest pass is writing batches that are not yet on
                // disk. The write-back's commit was durable, and so is
                // everything before it: index up to there (re-read under a
                // sync), never past it.
                let durable = self.store.sync()?;
                let _span = tracing::info_span!("index", trigger = "writeback").entered();
                self.index.catch_up_until(&self.store, durable)?;
                tracing::debug!(durable, "indexed a write-back while an ingest pass runs");
                return Ok(());
            }
        };
        let _span = tracing::info_span!("index", trigger = "writeback").entered();
        self.index.catch_up(&self.store)?;
        Ok(())
    }
}
