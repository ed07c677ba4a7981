//! Every record a query and filters match, for bulk export: the same query
//! and filters `/v1/search` builds (so the counts agree), walked segment by
//! segment with a tantivy `Weight`/`Scorer` and handed out in batches of
//! record ids, or of distinct customer ids, in id order. Nothing holds all
//! the hits: memory is one batch, plus one bit per distinct record (or
//! customer) id of each segment.
//!
//! It must never score, sort or load documents: ids come from fast fields.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use tantivy::columnar::StrColumn;
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{DocSet, Searcher, SegmentReader, TERMINATED};

use super::parse::Node;
use super::query::QueryBuilder;
use super::request::Filter;
use super::{QueryError, with_filters};
use crate::index::SearchIndex;

/// Ids handed out per call of the batch callback.
pub(crate) const BATCH: usize = 1_000;

/// The records a query matches, on one searcher (a point-in-time view).
pub struct Matches {
    searcher: Searcher,
    weight: Box<dyn Weight>,
    /// Parts of the query that were ignored, as search reports them.
    pub warnings: Vec<String>,
}

impl SearchIndex {
    /// The records that `q` (empty: every record) and `filters` match, as
    /// `/v1/search` finds them, including its fallback to "any word" when no
    /// record has every word. A bad filter is a 400-style error, before any
    /// output.
    pub fn matches(
        &self,
        q: &str,
        filters: &BTreeMap<String, Filter>,
        scope: &BTreeMap<String, Filter>,
    ) -> Result<Matches, QueryError> {
        let (root, mut warnings, filters) = self.parsed_query(q, filters, scope)?;
        let searcher = self.reader().searcher();
        let mut built = QueryBuilder::new(self, &self.synonyms, true).build(root.as_ref());
        let mut query: Box<dyn Query> = with_filters(&*built.query, &filters, None);
        if matches!(root, Some(Node::And(_))) && query.count(&searcher)? == 0 {
            built = QueryBuilder::new(self, &self.synonyms, false).build(root.as_ref());
            query = with_filters(&*built.query, &filters, None);
            warnings.push(
                "no record matched every word: showing records that match some of them".into(),
            );
        }
        warnings.append(&mut built.warnings);
        let weight = query.weight(EnableScoring::disabled_from_searcher(&searcher))?;
        Ok(Matches {
            searcher,
            weight,
            warnings,
        })
    }
}

/// Calls `on_doc` for every live matching document of one segment.
fn each_match<E: From<QueryError>>(
    weight: &dyn Weight,
    reader: &SegmentReader,
    mut on_doc: impl FnMut(u32) -> Result<(), E>,
) -> Result<(), E> {
    let mut scorer = weight.scorer(reader, 1.0).map_err(QueryError::from)?;
    let alive = reader.alive_bitset();
    let mut doc = scorer.doc();
    while doc != TERMINATED {
        if alive.is_none_or(|a| a.is_alive(doc)) {
            on_doc(doc)?;
        }
        doc = scorer.advance();
    }
    Ok(())
}

fn column(reader: &SegmentReader, name: &str) -> Result<Option<StrColumn>, QueryError> {
    Ok(reader.fast_fields().str(name)?)
}

/// The strings of `ords` (sorted and deduplicated here), in one dictionary pass.
fn strings(column: &StrColumn, ords: &mut Vec<u64>) -> Result<Vec<String>, QueryError> {
    ords.sort_unstable();
    ords.dedup();
    let mut out = Vec::with_capacity(ords.len());
    column
        .dictionary()
        .sorted_ords_to_term_cb(ords, |bytes| {
            out.push(String::from_utf8_lossy(bytes).into_owned());
        })
        .map_err(|e| QueryError::Index(crate::index::IndexError::Tantivy(e.into())))?;
    Ok(out)
}

impl Matches {
    /// Counts the matches (one pass, nothing kept).
    pub fn count(&self) -> Result<u64, QueryError> {
        let mut n = 0;
        for reader in self.searcher.segment_readers() {
            each_match::<QueryError>(&*self.weight, reader, |_| {
                n += 1;
                Ok(())
            })?;
        }
        Ok(n)
    }

    /// Hands out the ids of every matching record, in id order, [`BATCH`]
    /// at a time (the order does not depend on how the index is cut into
    /// segments).
    pub fn for_each_record_batch<E: From<QueryError>>(
        &self,
        on_batch: impl FnMut(Vec<String>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.for_each_distinct_batch("id", on_batch).map(|_| ())
    }

    /// Hands out the distinct customer ids of the matching records, in id
    /// order, [`BATCH`] at a time; returns how many matching records have no
    /// customer.
    pub fn for_each_customer_batch<E: From<QueryError>>(
        &self,
        on_batch: impl FnMut(Vec<String>) -> Result<(), E>,
    ) -> Result<u64, E> {
        self.for_each_distinct_batch("customer_id", on_batch)
    }

    /// The distinct values of the string fast field `field` over the
    /// matching records, in order, [`BATCH`] at a time; returns how many
    /// matching records have none.
    fn for_each_distinct_batch<E: From<QueryError>>(
        &self,
        field: &str,
        mut on_batch: impl FnMut(Vec<String>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut unassigned = 0;
        let mut cursors = Vec::new();
        for reader in self.searcher.segment_readers() {
            let Some(values) = column(reader, field)? else {
                continue;
            };
            let terms = values.dictionary().num_terms();
            let mut seen = vec![0u64; terms.div_ceil(64)];
            each_match::<QueryError>(&*self.weight, reader, |doc| {
                match values.term_ords(doc).next() {
                    Some(ord) => seen[(ord / 64) as usize] |= 1 << (ord % 64),
                    None => unassigned += 1,
                }
                Ok(())
            })?;
            cursors.push(SegmentCustomers {
                column: values,
                seen,
                next_ord: 0,
                buffer: VecDeque::new(),
            });
        }
        // A k-way merge of each segment's sorted ids, dropping repeats.
        let mut heap = BinaryHeap::new();
        for (i, cursor) in cursors.iter_mut().enumerate() {
            if let Some(id) = cursor.next()? {
                heap.push(Reverse((id, i)));
            }
        }
        let mut batch: Vec<String> = Vec::with_capacity(BATCH);
        let mut previous: Option<String> = None;
        while let Some(Reverse((id, i))) = heap.pop() {
            if let Some(next) = cursors[i].next()? {
                heap.push(Reverse((next, i)));
            }
            if previous.as_ref() == Some(&id) {
                continue;
            }
            previous = Some(id.clone());
            batch.push(id);
            if batch.len() >= BATCH {
                on_batch(std::mem::take(&mut batch))?;
            }
        }
        if !batch.is_empty() {
            on_batch(batch)?;
        }
        Ok(unassigned)
    }
}

/// One segment's matched values (customer or record ids), read from its
/// dictionary in order.
struct SegmentCustomers {
    column: StrColumn,
    /// One bit per dictionary ordinal: set when a matching record has it.
    seen: Vec<u64>,
    next_ord: u64,
    buffer: VecDeque<String>,
}

impl SegmentCustomers {
    fn next(&mut self) -> Result<Option<String>, QueryError> {
        if self.buffer.is_empty() {
            let end = self.seen.len() as u64 * 64;
            let mut ords = Vec::with_capacity(BATCH);
            while self.next_ord < end && ords.len() < BATCH {
                let ord = self.next_ord;
                if self.seen[(ord / 64) as usize] & (1 << (ord % 64)) != 0 {
                    ords.push(ord);
                }
                self.next_ord += 1;
            }
            self.buffer.extend(strings(&self.column, &mut ords)?);
        }
        Ok(self.buffer.pop_front())
    }
}
