//! Building the tantivy documents of one batch of changes on rayon's
//! threads, so that the thread feeding the index writer only hands them
//! over (the writer's own threads do the analysis meanwhile).
//!
//! It must never reorder: documents come back in the changes' order, each
//! with its change's sequence number (`_seq`, by which equal scores are
//! ordered), so a one-thread build writes them in that order.

use rayon::prelude::*;
use tantivy::TantivyDocument;
use tantivy::schema::Field;

use super::document::to_document;
use crate::record::Change;
use crate::schema::SchemaSpec;

/// The document of each change up to sequence number `until` (none for a
/// deletion), in order, with the change's sequence number in `seq_field`;
/// changes after `until` are left out.
pub(super) fn build(
    spec: &SchemaSpec,
    fields: &[Field],
    seq_field: Option<Field>,
    changes: &[Change],
    until: u64,
) -> Vec<Option<TantivyDocument>> {
    let _span = tracing::debug_span!("build_documents", changes = changes.len()).entered();
    let applicable = changes.partition_point(|c| c.seq <= until);
    changes[..applicable]
        .par_iter()
        .map(|change| {
            change.record.as_ref().map(|record| {
                let mut document = to_document(spec, fields, record);
                if let Some(seq_field) = seq_field {
                    document.add_u64(seq_field, change.seq);
                }
                document
            })
        })
        .collect()
}
