//! The order of ranked records: the larger sort key first, and among equal
//! keys the record written to the index first, by the store sequence number
//! every document carries in its `_seq` fast field. Equal scores are common
//! (a match-all query, one word in many short titles, a sort by a date many
//! records share), and a segment's position or a document's id within it
//! depends on how the index was written (how many indexing threads, which
//! commits, which merges): ordering ties by the sequence number gives the
//! same answer from every layout of the same records.
//!
//! It must never order by where a document sits (segment ordinal, doc id)
//! except between two documents of one sequence number, which cannot both
//! be alive.

use std::cmp::Ordering;

use tantivy::columnar::Column;
use tantivy::{DocAddress, DocId, SegmentReader};

use crate::schema::SEQ_FIELD;

/// A matching record: its sort key, its sequence number and where it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ranked {
    pub key: f64,
    pub seq: u64,
    pub address: DocAddress,
}

impl Ranked {
    /// Fills unused slots of fixed-size arrays.
    pub(crate) const NONE: Ranked = Ranked {
        key: f64::NEG_INFINITY,
        seq: u64::MAX,
        address: DocAddress {
            segment_ord: 0,
            doc_id: 0,
        },
    };
}

/// Better first: larger key, then earlier sequence number.
pub(crate) fn better_first(a: &Ranked, b: &Ranked) -> Ordering {
    b.key
        .total_cmp(&a.key)
        .then(a.seq.cmp(&b.seq))
        .then(a.address.cmp(&b.address))
}

/// Whether a record of `key` and `seq` goes before one of `other_key` and
/// `other_seq`.
#[inline]
pub(crate) fn precedes(key: f64, seq: u64, other_key: f64, other_seq: u64) -> bool {
    match key.total_cmp(&other_key) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => seq < other_seq,
    }
}

/// One segment's sequence numbers.
pub(crate) struct SeqColumn(Option<Column<u64>>);

impl SeqColumn {
    pub(crate) fn open(reader: &SegmentReader) -> SeqColumn {
        SeqColumn(reader.fast_fields().u64(SEQ_FIELD).ok())
    }

    /// The sequence number of `doc`. An index written without the field
    /// (only hand-built test indexes) falls back to the document's id.
    #[inline]
    pub(crate) fn seq(&self, doc: DocId) -> u64 {
        self.0
            .as_ref()
            .and_then(|c| c.first(doc))
            .unwrap_or(u64::from(doc))
    }
}
