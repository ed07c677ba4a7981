//! Bulk export and snapshots on the engine: `prepare_export` checks a
//! request and fixes what it covers (the whole store, or the matches of a
//! query on one index searcher), `write_export` streams its rows to any
//! writer, and `snapshot` writes a consistent copy of store and index.
//!
//! It must never hold all the rows: records are read from the store a page
//! (or a batch of matching ids) at a time and written out before the next.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::Rapport;
use crate::export::rows::{RowError, RowWriter, customer_row};
use crate::export::{ExportRequest, Level};
use crate::index::search::QueryError;
use crate::index::search::matching::{BATCH, Matches};
use crate::snapshot::{self, Manifest, SnapshotError};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Row(#[from] RowError),
}

/// A checked export request, bound to what it will walk.
pub struct PreparedExport {
    pub request: ExportRequest,
    /// `None`: the whole store, walked directly.
    matches: Option<Matches>,
}

impl PreparedExport {
    pub fn warnings(&self) -> &[String] {
        self.matches.as_ref().map_or(&[], |m| &m.warnings)
    }
}

#[derive(Debug, Default, Serialize)]
pub struct ExportSummary {
    pub lines: u64,
    /// Matching records without a customer (left out at customer level).
    pub unassigned_records: u64,
}

impl Rapport {
    /// Checks the request (filters against the schema) before any output,
    /// so a mistake is still a 400.
    pub fn prepare_export(&self, request: ExportRequest) -> Result<PreparedExport, QueryError> {
        let matches = if request.is_everything() {
            None
        } else {
            let q = request.q.clone().unwrap_or_default();
            Some(
                self.index
                    .snapshot()
                    .matches(&q, &request.filters, &request.scope)?,
            )
        };
        Ok(PreparedExport { request, matches })
    }

    /// Writes every row of the export to `out`. On an error after rows went
    /// out, the caller decides how to end the output ([`RowWriter::error_line`]).
    pub fn write_export<W: Write>(
        &self,
        prepared: PreparedExport,
        writer: &mut RowWriter<W>,
    ) -> Result<ExportSummary, ExportError> {
        let span = tracing::info_span!(
            "export",
            level = prepared.request.level_name(),
            everything = prepared.matches.is_none()
        );
        let _entered = span.enter();
        let started = std::time::Instant::now();
        let mut summary = ExportSummary::default();
        writer.header()?;
        match (&prepared.matches, prepared.request.level) {
            (None, Level::Record) => {
                let mut after: Option<String> = None;
                loop {
                    let page = self.store.records_page(after.as_deref(), BATCH)?;
                    let Some((last, _)) = page.last() else { break };
                    after = Some(last.clone());
                    for (id, record) in &page {
                        writer.record(id, record)?;
                    }
                }
            }
            (None, Level::Customer) => {
                let mut after: Option<String> = None;
                loop {
                    let page = self.store.entities_page(after.as_deref(), BATCH)?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.id.clone());
                    for entity in page.iter().filter(|e| is_customer(e)) {
                        writer.row(&customer_row(
                            entity,
                            self.record_count(entity)?,
                            self.store.customer_attributes(&entity.id)?,
                        ))?;
                    }
                }
            }
            (Some(matches), Level::Record) => {
                matches.for_each_record_batch(|ids| -> Result<(), ExportError> {
                    for (id, record) in self.store.records_by_ids(&ids)? {
                        writer.record(&id, &record)?;
                    }
                    Ok(())
                })?;
            }
            (Some(matches), Level::Customer) => {
                summary.unassigned_records =
                    matches.for_each_customer_batch(|ids| -> Result<(), ExportError> {
                        for id in ids {
                            if let Some(entity) = self.store.entity(&id)? {
                                writer.row(&customer_row(
                                    &entity,
                                    self.record_count(&entity)?,
                                    self.store.customer_attributes(&entity.id)?,
                                ))?;
                            }
                        }
                        Ok(())
                    })?;
            }
        }
        summary.lines = writer.lines();
        tracing::info!(
            lines = summary.lines,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "export done"
        );
        Ok(summary)
    }

    /// Records of a customer: its own and those of its people.
    fn record_count(&self, entity: &crate::resolve::Entity) -> Result<usize, StoreError> {
        let mut n = entity.members.len() + entity.attached.len();
        for person in &entity.people {
            if let Some(p) = self.store.entity(person)? {
                n += p.members.len() + p.attached.len();
            }
        }
        Ok(n)
    }

    /// Writes a snapshot of store and index into `target` (see
    /// [`crate::snapshot`]) while searches and ingest go on.
    pub fn snapshot(&self, target: &Path) -> Result<Manifest, SnapshotError> {
        snapshot::write(&self.store, &self.index.snapshot(), target)
    }
}

/// Customers are organisations, and people without one.
fn is_customer(entity: &crate::resolve::Entity) -> bool {
    !(entity.kind == "person" && entity.org_id.is_some())
}
