//! A query restricted to its filters: the query's own matches, kept where
//! the filters' cached set of the segment holds them. When that set is a
//! bitset (it holds many of the segment's documents), the query is read
//! as it would be alone, through its own `for_each` (tantivy's buffered
//! union of a word's fields, the windowed conjunction of several words),
//! and each match is probed in the bitset; Lucene passes such filters as
//! accepted documents. Before, the query and the filter were intersected:
//! tantivy's intersection seeks the query's union to every candidate,
//! which was a third of a filtered one-word search in perf. When the set
//! is a short list, the intersection remains, led by the list.
//!
//! It must never change what matches or how it scores: a match is kept
//! exactly when the filters hold it and it is alive, with the query's own
//! score (filters score nothing).

use std::sync::Arc;

use tantivy::fastfield::AliveBitSet;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight, intersect_scorers};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

use super::filter_cache::{AllFilters, AllFiltersWeight, CachedFilterScorer, MatchingDocs};

/// `query` AND `filters`, the filters unscored.
#[derive(Debug)]
pub(crate) struct Filtered {
    query: Box<dyn Query>,
    filters: AllFilters,
}

impl Clone for Filtered {
    fn clone(&self) -> Filtered {
        Filtered {
            query: self.query.box_clone(),
            filters: self.filters.clone(),
        }
    }
}

impl Filtered {
    pub(crate) fn new(query: Box<dyn Query>, filters: AllFilters) -> Filtered {
        Filtered { query, filters }
    }
}

impl Query for Filtered {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(FilteredWeight {
            query: self.query.weight(scoring)?,
            filters: self.filters.filters_weight(scoring)?,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.query.query_terms(visitor);
    }
}

struct FilteredWeight {
    query: Box<dyn Weight>,
    filters: AllFiltersWeight,
}

impl FilteredWeight {
    /// The scorer for the filters' set `docs` of `reader`'s segment.
    fn scorer_for(
        &self,
        reader: &SegmentReader,
        boost: Score,
        docs: Arc<MatchingDocs>,
    ) -> tantivy::Result<Box<dyn Scorer>> {
        let alive = reader.alive_bitset().cloned();
        let query = self.query.scorer(reader, boost)?;
        if docs.is_dense() {
            return Ok(Box::new(ProbedScorer::new(query, docs, alive)));
        }
        let filter: Box<dyn Scorer> = Box::new(CachedFilterScorer::new(docs, alive));
        Ok(intersect_scorers(vec![query, filter], reader.num_docs()))
    }

    /// Every match through the scorer (the intersection led by a short
    /// list of the filters' documents).
    fn walk(
        &self,
        reader: &SegmentReader,
        docs: Arc<MatchingDocs>,
        callback: &mut dyn FnMut(DocId, Score),
    ) -> tantivy::Result<()> {
        let mut scorer = self.scorer_for(reader, 1.0, docs)?;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            callback(doc, scorer.score());
            doc = scorer.advance();
        }
        Ok(())
    }
}

/// Whether `doc` is in the filters' set and alive.
#[inline]
fn kept(docs: &MatchingDocs, alive: Option<&AliveBitSet>, doc: DocId) -> bool {
    docs.contains(doc) && alive.is_none_or(|a| a.is_alive(doc))
}

impl Weight for FilteredWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        self.scorer_for(reader, boost, self.filters.docs(reader)?)
    }

    fn for_each(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score),
    ) -> tantivy::Result<()> {
        let docs = self.filters.docs(reader)?;
        if !docs.is_dense() {
            return self.walk(reader, docs, callback);
        }
        let alive = reader.alive_bitset();
        self.query.for_each(reader, &mut |doc, score| {
            if kept(&docs, alive, doc) {
                callback(doc, score);
            }
        })
    }

    fn for_each_no_score(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(&[DocId]),
    ) -> tantivy::Result<()> {
        let docs = self.filters.docs(reader)?;
        if !docs.is_dense() {
            return self.walk(reader, docs, &mut |doc, _| callback(&[doc]));
        }
        let alive = reader.alive_bitset();
        let mut kept_docs = Vec::new();
        self.query.for_each_no_score(reader, &mut |block| {
            kept_docs.clear();
            kept_docs.extend(block.iter().copied().filter(|d| kept(&docs, alive, *d)));
            if !kept_docs.is_empty() {
                callback(&kept_docs);
            }
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let docs = self.filters.docs(reader)?;
        if !kept(&docs, reader.alive_bitset(), doc) {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match the filters"
            )));
        }
        self.query.explain(reader, doc)
    }
}

/// The query's scorer, stepping over documents the filters' bitset lacks.
struct ProbedScorer {
    query: Box<dyn Scorer>,
    docs: Arc<MatchingDocs>,
    alive: Option<AliveBitSet>,
}

impl ProbedScorer {
    fn new(query: Box<dyn Scorer>, docs: Arc<MatchingDocs>, alive: Option<AliveBitSet>) -> Self {
        let mut scorer = ProbedScorer { query, docs, alive };
        let first = scorer.query.doc();
        scorer.settle(first);
        scorer
    }

    /// `doc` (the query's current document) or the query's next kept one.
    fn settle(&mut self, mut doc: DocId) -> DocId {
        while doc != TERMINATED && !kept(&self.docs, self.alive.as_ref(), doc) {
            doc = self.query.advance();
        }
        doc
    }
}

impl DocSet for ProbedScorer {
    fn advance(&mut self) -> DocId {
        let next = self.query.advance();
        self.settle(next)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.query.doc() >= target {
            return self.query.doc();
        }
        let found = self.query.seek(target);
        self.settle(found)
    }

    fn doc(&self) -> DocId {
        self.query.doc()
    }

    fn size_hint(&self) -> u32 {
        self.query.size_hint().min(self.docs.len())
    }

    fn cost(&self) -> u64 {
        self.query.cost()
    }
}

impl Scorer for ProbedScorer {
    fn score(&mut self) -> Score {
        self.query.score()
    }
}

#[cfg(test)]
mod tests;
