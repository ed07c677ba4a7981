//! The leaves of a windowed conjunction: a term read a block of postings at
//! a time and scored from a table of its BM25 scores, or any other scorer,
//! read and scored through its `Scorer` calls. Also the query a term is
//! searched with ([`ScoredTerm`]), so that the conjunction can recognise it.
//!
//! A term leaf must never score differently from tantivy's `TermScorer`:
//! it reads the same postings with the same options and calls the same
//! `Bm25Weight::score` with the same fieldnorm and frequency.

use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{Bm25Weight, BoostWeight, EnableScoring, Query, Scorer, TermQuery, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

use super::marks::{Marks, Sink};

/// Postings per block (tantivy's `COMPRESSION_BLOCK_SIZE`).
const BLOCK: usize = 128;

/// A term with a boost: tantivy's `BoostQuery(TermQuery)`, which a windowed
/// conjunction reads block by block instead.
#[derive(Clone, Debug)]
pub(crate) struct ScoredTerm {
    pub term: Term,
    pub option: IndexRecordOption,
    pub boost: Score,
}

impl ScoredTerm {
    pub(crate) fn new(term: Term, option: IndexRecordOption, boost: Score) -> ScoredTerm {
        ScoredTerm {
            term,
            option,
            boost,
        }
    }

    /// `TermQuery::new(term, option)`, unboosted.
    pub(crate) fn exact(term: Term, option: IndexRecordOption) -> ScoredTerm {
        ScoredTerm::new(term, option, 1.0)
    }

    /// The term's BM25 weight before boosts, when scoring is enabled and
    /// the term's field is indexed (else the conjunction uses
    /// [`Query::weight`], as tantivy would).
    pub(crate) fn bm25(&self, scoring: &EnableScoring<'_>) -> tantivy::Result<Option<Bm25Weight>> {
        if !scoring
            .schema()
            .get_field_entry(self.term.field())
            .is_indexed()
        {
            return Ok(None);
        }
        match scoring {
            EnableScoring::Enabled {
                statistics_provider,
                ..
            } => Ok(Some(Bm25Weight::for_terms(
                *statistics_provider,
                std::slice::from_ref(&self.term),
            )?)),
            EnableScoring::Disabled { .. } => Ok(None),
        }
    }
}

impl Query for ScoredTerm {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let term = TermQuery::new(self.term.clone(), self.option).weight(scoring)?;
        Ok(if self.boost == 1.0 {
            term
        } else {
            Box::new(BoostWeight::new(term, self.boost))
        })
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        visitor(&self.term, false);
    }
}

/// Term frequencies whose scores are looked up rather than computed.
const TABLED_FREQS: usize = 4;

/// A term's BM25 weight with its boosts applied, and its score for one to
/// four occurrences at every fieldnorm id (most postings have few).
pub(crate) struct TermScores {
    bm25: Bm25Weight,
    table: [[Score; 256]; TABLED_FREQS],
}

impl TermScores {
    pub(crate) fn new(bm25: Bm25Weight) -> TermScores {
        let mut table = [[0.0; 256]; TABLED_FREQS];
        for (freq, row) in (1u32..).zip(table.iter_mut()) {
            for (id, score) in row.iter_mut().enumerate() {
                *score = bm25.score(id as u8, freq);
            }
        }
        TermScores { bm25, table }
    }
}

/// A term's postings in one segment, walked as `SegmentPostings` walks
/// them (an index within the current block, blocks padded with
/// `TERMINATED`).
pub(crate) struct TermLeaf {
    postings: BlockSegmentPostings,
    cursor: usize,
    fieldnorms: FieldNormReader,
    scores: Arc<TermScores>,
}

impl TermLeaf {
    /// The leaf of `term` in `reader` (none when the segment lacks it),
    /// scored by `scores()`.
    pub(crate) fn open(
        reader: &SegmentReader,
        term: &ScoredTerm,
        scores: impl FnOnce() -> Arc<TermScores>,
    ) -> tantivy::Result<Option<TermLeaf>> {
        let field = term.term.field();
        let Some(postings) = reader
            .inverted_index(field)?
            .read_block_postings(&term.term, term.option)?
        else {
            return Ok(None);
        };
        let fieldnorms = match reader.fieldnorms_readers().get_field(field)? {
            Some(fieldnorms) => fieldnorms,
            None => FieldNormReader::constant(reader.max_doc(), 1),
        };
        if postings.doc(0) == TERMINATED {
            return Ok(None);
        }
        let leaf = TermLeaf {
            postings,
            cursor: 0,
            fieldnorms,
            scores: scores(),
        };
        Ok(Some(leaf))
    }

    #[inline]
    pub(crate) fn doc(&self) -> DocId {
        self.postings.doc(self.cursor)
    }

    pub(crate) fn seek(&mut self, target: DocId) -> DocId {
        if self.doc() >= target {
            return self.doc();
        }
        self.cursor = self.postings.seek(target);
        self.doc()
    }

    /// Reads the documents before `end` into `sink`, moving past them.
    /// The loop has no branch on whether a document is kept: a dropped
    /// one is scored and added as 0, which leaves its sum at 0.
    #[inline]
    pub(crate) fn read_window(&mut self, end: DocId, sink: &mut Sink<'_>) {
        let start = sink.start;
        loop {
            let docs = self.postings.docs();
            let freqs = self.postings.freqs();
            let from = self.cursor.min(docs.len());
            let count = docs[from..].partition_point(|&doc| doc < end);
            let read = &docs[from..from + count];
            let freqs = freqs.get(from..from + count).unwrap_or(&[]);
            let (marks, filter) = (&mut *sink.marks, sink.filter);
            match (sink.sums.as_deref_mut(), sink.touched.as_deref_mut()) {
                (None, _) => {
                    for &doc in read {
                        let delta = (doc - start) as usize;
                        let bit = filter.map_or(1, |f| bit(f, delta));
                        marks[delta / 64] |= bit << (delta % 64);
                    }
                }
                (Some(sums), touched) => match (filter, touched) {
                    (None, None) => self.add(read, freqs, start, marks, sums, None, None),
                    (Some(f), None) => self.add(read, freqs, start, marks, sums, Some(f), None),
                    (None, Some(t)) => self.add(read, freqs, start, marks, sums, None, Some(t)),
                    (Some(f), Some(t)) => {
                        self.add(read, freqs, start, marks, sums, Some(f), Some(t))
                    }
                },
            }
            self.cursor = from + count;
            if self.cursor < BLOCK {
                // Stopped inside the block, or on the padding after the
                // last document (a short block is the last one).
                return;
            }
            self.cursor = 0;
            self.postings.advance();
        }
    }

    /// Marks and scores `docs` (`freqs` beside them, or none): the loop
    /// `read_window` runs, inlined once per kind of sink so that it
    /// checks neither the filter's nor the touched marks' presence per
    /// document.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn add(
        &self,
        docs: &[DocId],
        freqs: &[u32],
        start: DocId,
        marks: &mut Marks,
        sums: &mut [Score],
        filter: Option<&Marks>,
        mut touched: Option<&mut Marks>,
    ) {
        for (k, &doc) in docs.iter().enumerate() {
            let delta = (doc - start) as usize;
            let bit = filter.map_or(1, |f| bit(f, delta));
            marks[delta / 64] |= bit << (delta % 64);
            if let Some(touched) = touched.as_deref_mut() {
                touched[delta / 64] |= bit << (delta % 64);
            }
            let freq = freqs.get(k).copied().unwrap_or(1);
            let score = score(&self.fieldnorms, &self.scores, doc, freq);
            if let Some(sum) = sums.get_mut(delta) {
                *sum += score * bit as Score;
            }
        }
    }

    pub(crate) fn cost(&self) -> u64 {
        u64::from(self.postings.doc_freq())
    }
}

/// 1 when `delta` is marked in `marks`, else 0.
#[inline]
fn bit(marks: &Marks, delta: usize) -> u64 {
    (marks[delta / 64] >> (delta % 64)) & 1
}

/// The BM25 score of `doc` with `freq` occurrences: `TermScorer::score`.
#[inline]
fn score(fieldnorms: &FieldNormReader, scores: &TermScores, doc: DocId, freq: u32) -> Score {
    let id = fieldnorms.fieldnorm_id(doc);
    match scores.table.get((freq as usize).wrapping_sub(1)) {
        Some(row) => row[id as usize],
        None => scores.bm25.score(id, freq),
    }
}

/// One leaf of a word: a term read block by block, or another scorer.
pub(crate) enum Leaf {
    Term(Box<TermLeaf>),
    Other(Box<dyn Scorer>),
}

impl Leaf {
    pub(crate) fn seek(&mut self, target: DocId) -> DocId {
        match self {
            Leaf::Term(term) => term.seek(target),
            Leaf::Other(scorer) => {
                if scorer.doc() >= target {
                    scorer.doc()
                } else {
                    scorer.seek(target)
                }
            }
        }
    }

    pub(crate) fn cost(&self) -> u64 {
        match self {
            Leaf::Term(term) => term.cost(),
            Leaf::Other(scorer) => scorer.cost(),
        }
    }
}
