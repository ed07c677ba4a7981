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
use std::sync::Arc;

use tantivy::columnar::{Cardinality, Column};
use tantivy::{DocAddress, DocId, SegmentReader};

use super::segment_cache::SegmentTables;

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

/// Documents per entry of a segment's table of least sequence numbers.
pub(crate) const SEQ_BLOCK: u32 = 1_024;

/// One segment's sequence numbers, and, when opened with the index's
/// segment tables and every document has one, the least of each block of
/// [`SEQ_BLOCK`] documents.
pub(crate) struct SeqColumn {
    column: Option<Column<u64>>,
    floors: Option<Arc<Vec<u64>>>,
}

impl SeqColumn {
    pub(crate) fn open(reader: &SegmentReader) -> SeqColumn {
        SeqColumn {
            column: reader.fast_fields().u64(SEQ_FIELD).ok(),
            floors: None,
        }
    }

    /// [`SeqColumn::open`], with the blocks' least numbers read once per
    /// segment into `tables` (a segment never changes).
    pub(crate) fn with_floors(reader: &SegmentReader, tables: &SegmentTables) -> SeqColumn {
        let mut seqs = SeqColumn::open(reader);
        if let Some(column) = &seqs.column {
            seqs.floors = tables.seq_floors(reader.segment_id(), || floors_of(column));
        }
        seqs
    }

    /// The sequence number of `doc`. An index written without the field
    /// (only hand-built test indexes) falls back to the document's id.
    #[inline]
    pub(crate) fn seq(&self, doc: DocId) -> u64 {
        self.column
            .as_ref()
            .and_then(|c| c.first(doc))
            .unwrap_or(u64::from(doc))
    }

    /// A number no document of `doc`'s block has a sequence number below
    /// (0 without a table): a record whose key only ties the worst kept
    /// one, in a block whose floor is not earlier than the worst's
    /// sequence number, cannot enter, and its own number need not be read.
    /// Many records tie when scores are constant (a corrected word, a
    /// filter alone).
    #[inline]
    pub(crate) fn floor(&self, doc: DocId) -> u64 {
        self.floors
            .as_ref()
            .and_then(|f| f.get((doc / SEQ_BLOCK) as usize))
            .copied()
            .unwrap_or(0)
    }
}

/// The least sequence number of each block of a segment's documents, when
/// every document has one.
fn floors_of(column: &Column<u64>) -> Option<Vec<u64>> {
    if !matches!(column.get_cardinality(), Cardinality::Full) {
        return None;
    }
    let values = &column.values;
    let count = values.num_vals();
    let mut block = vec![0u64; SEQ_BLOCK as usize];
    let floors = (0..count.div_ceil(SEQ_BLOCK))
        .map(|b| {
            let start = b * SEQ_BLOCK;
            let len = SEQ_BLOCK.min(count - start) as usize;
            values.get_range(u64::from(start), &mut block[..len]);
            block[..len].iter().copied().min().unwrap_or(0)
        })
        .collect();
    Some(floors)
}

#[cfg(test)]
mod tests {
    use tantivy::query::AllQuery;
    use tantivy::schema::{NumericOptions, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;
    use crate::index::search::grouping::{Ranking, TopRecords};
    use crate::index::search::request::{Order, SortBy};

    /// Every record ties (a match-all query scores them alike) and the
    /// sequence numbers run against the documents' order, so the best ten
    /// sit in late blocks: the floors must let them in and keep out the
    /// rest, and must never exceed a document's own number.
    #[test]
    fn ties_are_settled_by_the_earliest_sequence_numbers_whatever_their_block() {
        let mut builder = Schema::builder();
        let seq = builder.add_u64_field(SEQ_FIELD, NumericOptions::default().set_fast());
        let index = Index::create_in_ram(builder.build());
        let count: u64 = 5_000;
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        // A permutation of 1..=count, descending overall, with a zigzag.
        let seq_of = |i: u64| count - ((i * 7_919) % count);
        for i in 0..count {
            let mut doc = TantivyDocument::new();
            doc.add_u64(seq, seq_of(i));
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 1);
        let tables = Arc::new(SegmentTables::default());
        let column = SeqColumn::with_floors(&searcher.segment_readers()[0], &tables);
        assert!(column.floors.is_some(), "every document has a number");
        for doc in 0..count as DocId {
            assert!(column.floor(doc) <= column.seq(doc), "doc {doc}");
        }
        let ranking = Ranking {
            sort: SortBy::Relevance,
            order: Order::Desc,
            boost_recent: false,
            now_secs: 0,
        };
        let (best, total) = searcher
            .search(
                &AllQuery,
                &TopRecords {
                    ranking,
                    n: 10,
                    segments: tables,
                },
            )
            .unwrap();
        assert_eq!(total, count as usize);
        let seqs: Vec<u64> = best.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, (1..=10).collect::<Vec<u64>>());
    }
}
