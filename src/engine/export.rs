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
use crate::record::consent::{self, opted_out};
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
    /// Rows left out because their person or customer opted out of the
    /// export's declared purpose.
    pub left_out: u64,
}

impl Rapport {
    /// Checks the request (filters against the schema) before any output,
    /// so a mistake is still a 400.
    pub fn prepare_export(&self, request: ExportRequest) -> Result<PreparedExport, QueryError> {
        let mut request = request;
        super::record_ids::widen_id_filters(&mut request.filters);
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
        let excluded = prepared.request.excluded_channels();
        let mut left_out = 0u64;
        let mut keep_record = |record: &crate::record::Record| {
            let keep = !opted_out(&record.customer_consent, excluded);
            left_out += u64::from(!keep);
            keep
        };
        let keep_entity = |entity: &crate::resolve::Entity| {
            excluded.is_empty() || !opted_out(&consent::terms(&entity.golden.consent), excluded)
        };
        let attached = self.attached_filter(prepared.request.attached)?;
        writer.header()?;
        match (&prepared.matches, prepared.request.level) {
            (None, Level::Record) => {
                let mut after: Option<String> = None;
                loop {
                    let page = self.store.records_page(after.as_deref(), BATCH)?;
                    let Some((last, _)) = page.last() else { break };
                    after = Some(last.clone());
                    for (id, record) in page.iter().filter(|(_, r)| keep_record(r)) {
                        if attached.keeps(id, record) {
                            writer.record_with_reason(id, record, attached.reason(id))?;
                        }
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
                        if !keep_entity(entity) {
                            summary.left_out += 1;
                            continue;
                        }
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
                        if keep_record(&record) && attached.keeps(&id, &record) {
                            writer.record_with_reason(&id, &record, attached.reason(&id))?;
                        }
                    }
                    Ok(())
                })?;
            }
            (Some(matches), Level::Customer) => {
                summary.unassigned_records =
                    matches.for_each_customer_batch(|ids| -> Result<(), ExportError> {
                        for id in ids {
                            if let Some(entity) = self.store.entity(&id)? {
                                if !keep_entity(&entity) {
                                    left_out += 1;
                                    continue;
                                }
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
        summary.left_out += left_out;
        summary.lines = writer.lines();
        if let Some(purpose) = &prepared.request.purpose {
            writer.purpose_trailer(purpose, summary.left_out)?;
        }
        tracing::info!(
            lines = summary.lines,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "export done"
        );
        Ok(summary)
    }

    /// The `attached` filter of an export, with the list of unattached
    /// records read from the store only when it is asked for.
    fn attached_filter(
        &self,
        want: Option<bool>,
    ) -> Result<crate::export::attached::Attached, StoreError> {
        let unattached = match want {
            Some(_) => self.store.unattached()?,
            None => Vec::new(),
        };
        Ok(crate::export::attached::Attached::new(
            want,
            unattached.into_iter().map(|u| {
                let reason = crate::export::attached::reason_text(&u.reason, &u.candidates);
                (u.record, reason)
            }),
        ))
    }

    /// Audits what an export declared for a purpose left out (the export's
    /// own entry, written when it starts, cannot know the count).
    pub fn audit_purpose_export(
        &self,
        actor: &str,
        request: &ExportRequest,
        summary: &ExportSummary,
    ) -> Result<(), StoreError> {
        let Some(purpose) = &request.purpose else {
            return Ok(());
        };
        let mut details = serde_json::Map::new();
        details.insert("purpose".into(), purpose.as_str().into());
        details.insert("level".into(), request.level_name().into());
        details.insert("rows".into(), summary.lines.into());
        details.insert("left_out".into(), summary.left_out.into());
        details.insert("include_opted_out".into(), request.include_opted_out.into());
        self.store.append_audit(vec![crate::store::NewAudit {
            actor: actor.to_string(),
            action: "export.purpose".into(),
            outcome: "ok".into(),
            details,
            ..Default::default()
        }])?;
        Ok(())
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
