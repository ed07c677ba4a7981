//! Typo-tolerant term matching with one Levenshtein automaton per typed
//! word, shared by every field the word is searched in and by every weight
//! built from the query (search, facets, matched-field checks). tantivy's
//! `FuzzyTermQuery` builds its automaton again for each of those, which was
//! most of a query's time.
//!
//! The terms an automaton accepts in a segment are remembered per segment
//! ([`super::segment_cache`]): walking the term dictionary was the largest
//! single cost of a one-word query. So are the documents those terms match,
//! in the corrections cache ([`super::filter_cache::corrected_docs`], a
//! byte-bounded table like the filters'): a misspelt surname that is also
//! in note bodies would otherwise read all of Smith's postings again on
//! every query.
//!
//! It matches the corrected forms only: the typed word itself is always
//! searched by an exact clause next to it (query.rs), so leaving it out here
//! changes no match and keeps a word without near neighbours from scanning
//! its own postings twice.
//!
//! It must never change what matches: the automaton is exactly
//! `FuzzyTermQuery`'s (same distance, transpositions cost one).

use std::fmt;
use std::sync::Arc;

use tantivy::postings::TermInfo;
use tantivy::query::{
    AutomatonWeight, BitSetDocSet, ConstScorer, DfaWrapper, EmptyScorer, EnableScoring,
    Explanation, FuzzyTermQuery, Query, Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, Term};

use super::filter_cache::{self, CachedFilterScorer, MatchingDocs};
use super::segment_cache;

/// Builds the automaton for `text` within `distance` edits.
pub fn automaton(field: Field, text: &str, distance: u8) -> Option<Arc<DfaWrapper>> {
    FuzzyTermQuery::new(Term::from_field_text(field, text), distance, true)
        .automaton()
        .ok()
        .map(Arc::new)
}

/// Terms of `field` the shared automaton accepts (constant score).
#[derive(Clone)]
pub struct SharedFuzzyQuery {
    pub field: Field,
    pub automaton: Arc<DfaWrapper>,
    /// The word and distance the automaton was built from (the cache key).
    pub word: String,
    pub distance: u8,
}

impl fmt::Debug for SharedFuzzyQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedFuzzyQuery({:?})", self.field)
    }
}

impl Query for SharedFuzzyQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(SharedFuzzyWeight {
            query: self.clone(),
        }))
    }
}

struct SharedFuzzyWeight {
    query: SharedFuzzyQuery,
}

/// The documents of `reader`'s segment (deleted ones included) that the
/// corrected forms of `q`'s word among `terms` match. The word itself is
/// left to the exact clause searched next to this one: a corrected match
/// adds nothing where the exact one matched.
fn corrected_docs(
    reader: &SegmentReader,
    q: &SharedFuzzyQuery,
    terms: &[TermInfo],
) -> tantivy::Result<MatchingDocs> {
    let inverted_index = reader.inverted_index(q.field)?;
    let exact = inverted_index.get_term_info(&Term::from_field_text(q.field, &q.word))?;
    let mut docs = BitSet::with_max_value(reader.max_doc());
    for term_info in terms.iter().filter(|info| Some(*info) != exact.as_ref()) {
        let mut postings = inverted_index
            .read_block_postings_from_terminfo(term_info, IndexRecordOption::Basic)?;
        loop {
            let block = postings.docs();
            if block.is_empty() {
                break;
            }
            for &doc in block {
                docs.insert(doc);
            }
            postings.advance();
        }
    }
    Ok(MatchingDocs::collect(
        &mut BitSetDocSet::from(docs),
        reader.max_doc(),
    ))
}

impl Weight for SharedFuzzyWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let q = &self.query;
        let terms =
            segment_cache::fuzzy_terms(reader.segment_id(), q.field, &q.word, q.distance, || {
                AutomatonWeight::<DfaWrapper>::new(q.field, q.automaton.clone())
                    .get_match_term_infos(reader)
            })?;
        let key = format!("{:?}\u{1f}{}\u{1f}{}", q.field, q.word, q.distance);
        let docs = filter_cache::corrected_docs(reader.segment_id(), &key, || {
            corrected_docs(reader, q, &terms)
        })?;
        if docs.is_empty() {
            return Ok(Box::new(EmptyScorer));
        }
        Ok(Box::new(ConstScorer::new(
            CachedFilterScorer::new(docs, reader.alive_bitset().cloned()),
            boost,
        )))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new("SharedFuzzyQuery", 1.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )))
        }
    }
}
