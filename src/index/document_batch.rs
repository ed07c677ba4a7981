//! Building the tantivy documents of one batch of changes on rayon's
//! threads, so that the thread feeding the index writer only hands them
//! over (the writer's own threads do the analysis meanwhile).
//!
//! It must never reorder: documents come back in the changes' order, so
//! segments hold the same documents in the same order as a one-by-one
//! build (the search answers depend on it).

use rayon::prelude::*;
use tantivy::TantivyDocument;
use tantivy::schema::Field;

use super::document::to_document;
use crate::record::Change;
use crate::schema::SchemaSpec;

/// The document of each change up to sequence number `until` (none for a
/// deletion), in order; changes after `until` are left out.
pub(super) fn build(
    spec: &SchemaSpec,
    fields: &[Field],
    changes: &[Change],
    until: u64,
) -> Vec<Option<TantivyDocument>> {
    let _span = tracing::debug_span!("build_documents", changes = changes.len()).entered();
    let applicable = changes.partition_point(|c| c.seq <= until);
    changes[..applicable]
        .par_iter()
        .map(|change| {
            change
                .record
                .as_ref()
                .map(|record| to_document(spec, fields, record))
        })
        .collect()
}
