//! What the live generation takes on disk, per field and per part (terms,
//! postings, positions, fast fields, field norms; the document store as a
//! whole), from tantivy's `space_usage`, for `rapport bench ingest`.
//!
//! It must never change the index: it reads the committed segments only.

use std::collections::BTreeMap;

use super::SearchIndex;

/// Bytes of one field, summed over the segments.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FieldBytes {
    pub field: String,
    pub terms: u64,
    pub postings: u64,
    pub positions: u64,
    pub fast: u64,
    pub norms: u64,
}

impl FieldBytes {
    pub fn total(&self) -> u64 {
        self.terms + self.postings + self.positions + self.fast + self.norms
    }
}

/// The index's bytes: per field, the document store, and the whole.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IndexBytes {
    pub fields: Vec<FieldBytes>,
    pub doc_store: u64,
    pub total: u64,
    pub segments: usize,
}

/// Which counter of a field a part of a segment adds to.
type Part = fn(&mut FieldBytes) -> &mut u64;

impl SearchIndex {
    /// Bytes per field of the committed segments, largest first.
    pub fn footprint(&self) -> std::io::Result<IndexBytes> {
        let usage = self.reader().searcher().space_usage()?;
        let mut fields: BTreeMap<String, FieldBytes> = BTreeMap::new();
        let mut doc_store = 0;
        for segment in usage.segments() {
            let parts: [(&tantivy::space_usage::PerFieldSpaceUsage, Part); 5] = [
                (segment.termdict(), |f| &mut f.terms),
                (segment.postings(), |f| &mut f.postings),
                (segment.positions(), |f| &mut f.positions),
                (segment.fast_fields(), |f| &mut f.fast),
                (segment.fieldnorms(), |f| &mut f.norms),
            ];
            for (part, bytes_of) in parts {
                for usage in part.fields() {
                    let entry = fields
                        .entry(usage.field_name().to_string())
                        .or_insert_with(|| FieldBytes {
                            field: usage.field_name().to_string(),
                            ..FieldBytes::default()
                        });
                    *bytes_of(entry) += usage.total().get_bytes();
                }
            }
            doc_store += segment.store().total().get_bytes();
        }
        let mut fields: Vec<FieldBytes> = fields.into_values().collect();
        fields.sort_by_key(|f| std::cmp::Reverse(f.total()));
        Ok(IndexBytes {
            fields,
            doc_store,
            total: usage.total().get_bytes(),
            segments: usage.segments().len(),
        })
    }
}
