//! Typo-tolerant term matching with one Levenshtein automaton per typed
//! word, shared by every field the word is searched in and by every weight
//! built from the query (search, facets, matched-field checks). tantivy's
//! `FuzzyTermQuery` builds its automaton again for each of those, which was
//! most of a query's time.
//!
//! The terms an automaton accepts in a segment are remembered per segment
//! ([`super::segment_cache`]): walking the term dictionary was the largest
//! single cost of a one-word query. So are the documents those terms match,
//! in the corrections cache ([`super::filter_cache::FilterCache::corrected_docs`],
//! a byte-bounded table like the filters'): a misspelt surname that is also
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
use std::sync::{Arc, Mutex};

use tantivy::postings::TermInfo;
use tantivy::query::{
    AutomatonWeight, BitSetDocSet, ConstScorer, DfaWrapper, EmptyScorer, EnableScoring,
    Explanation, FuzzyTermQuery, Query, Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, Term};

use super::filter_cache::{CachedFilterScorer, FilterCache, MatchingDocs};
use super::segment_cache::SegmentTables;

/// The automaton for `text` within `distance` edits, built once and kept
/// in the index's table (`kept`): building one took 12–890 µs per word, a
/// tenth of a two-word query, and staff type the same words all day.
pub(crate) fn automaton(
    kept: &AutomataCache,
    field: Field,
    text: &str,
    distance: u8,
) -> Option<Arc<DfaWrapper>> {
    let key = (text.to_string(), distance);
    let built = |key: &(String, u8)| {
        FuzzyTermQuery::new(Term::from_field_text(field, &key.0), key.1, true)
            .automaton()
            .ok()
            .map(Arc::new)
    };
    let Ok(mut table) = kept.table.lock() else {
        return built(&key);
    };
    if let Some(found) = table.get(&key) {
        return Some(found.clone());
    }
    let automaton = built(&key)?;
    table.insert(key, automaton.clone());
    Some(automaton)
}

/// Kept automata, least recently used out first past the `automata_mb`
/// budget (`caches.rs`): one table per index.
pub(crate) struct AutomataCache {
    table: Mutex<KeptAutomata>,
}

impl AutomataCache {
    pub(crate) fn with_budget(budget: usize) -> AutomataCache {
        AutomataCache {
            table: Mutex::new(KeptAutomata::new(budget)),
        }
    }

    /// Bytes (estimated) and automata kept now.
    pub(crate) fn kept(&self) -> (usize, usize) {
        self.table
            .lock()
            .map(|t| (t.bytes, t.table.as_ref().map_or(0, |t| t.len())))
            .unwrap_or((0, 0))
    }
}

/// An upper estimate of an automaton's size: its DFA has a 256-entry row
/// of u32 per state, and measured on English and Japanese words of 6 to
/// 20 characters it had at most 17 states per UTF-8 byte at one edit and
/// 54 at two (transpositions counted as one edit).
fn automaton_bytes(text: &str, distance: u8) -> usize {
    let states_per_byte = if distance <= 1 { 20 } else { 60 };
    (text.len() + 1) * states_per_byte * 256 * 4
}

struct KeptAutomata {
    table: Option<lru::LruCache<(String, u8), Arc<DfaWrapper>>>,
    bytes: usize,
    budget: usize,
}

impl KeptAutomata {
    const fn new(budget: usize) -> KeptAutomata {
        KeptAutomata {
            table: None,
            bytes: 0,
            budget,
        }
    }

    fn get(&mut self, key: &(String, u8)) -> Option<&Arc<DfaWrapper>> {
        self.table.as_mut()?.get(key)
    }

    fn insert(&mut self, key: (String, u8), automaton: Arc<DfaWrapper>) {
        let bytes = automaton_bytes(&key.0, key.1);
        let budget = self.budget;
        if bytes > budget {
            return;
        }
        let table = self.table.get_or_insert_with(lru::LruCache::unbounded);
        if let Some(kept) = table.get_mut(&key) {
            // Built twice by searches that missed at once: same size.
            *kept = automaton;
            return;
        }
        while self.bytes + bytes > budget {
            match table.pop_lru() {
                Some((old, _)) => self.bytes -= automaton_bytes(&old.0, old.1),
                None => break,
            }
        }
        table.put(key, automaton);
        self.bytes += bytes;
    }
}

/// Terms of `field` the shared automaton accepts (constant score).
#[derive(Clone)]
pub(crate) struct SharedFuzzyQuery {
    pub field: Field,
    pub automaton: Arc<DfaWrapper>,
    /// The word and distance the automaton was built from (the cache key).
    pub word: String,
    pub distance: u8,
    /// The index's tables of expanded terms and of corrected documents.
    pub segments: Arc<SegmentTables>,
    pub corrections: Arc<FilterCache>,
    /// Every corrected match scores this (times the boost passed down),
    /// as `BoostQuery` would make it.
    pub boost: Score,
}

impl SharedFuzzyQuery {
    /// The documents of `reader`'s segment (deleted ones included) the
    /// corrected forms match, from the corrections cache.
    pub(crate) fn corrected_docs(
        &self,
        reader: &SegmentReader,
    ) -> tantivy::Result<Arc<MatchingDocs>> {
        let terms = self.segments.fuzzy_terms(
            reader.segment_id(),
            self.field,
            &self.word,
            self.distance,
            || {
                AutomatonWeight::<DfaWrapper>::new(self.field, self.automaton.clone())
                    .get_match_term_infos(reader)
            },
        )?;
        let key = format!("{:?}\u{1f}{}\u{1f}{}", self.field, self.word, self.distance);
        self.corrections
            .corrected_docs(reader.segment_id(), &key, || {
                corrected_docs(reader, self, &terms)
            })
    }
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
        let docs = q.corrected_docs(reader)?;
        if docs.is_empty() {
            return Ok(Box::new(EmptyScorer));
        }
        Ok(Box::new(ConstScorer::new(
            CachedFilterScorer::new(docs, reader.alive_bitset().cloned()),
            boost * q.boost,
        )))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new("SharedFuzzyQuery", scorer.score()))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{STRING, Schema};

    fn field() -> Field {
        let mut schema = Schema::builder();
        schema.add_text_field("name", STRING)
    }

    fn kept() -> AutomataCache {
        AutomataCache::with_budget(crate::index::search::cache_budgets::bytes(16))
    }

    #[test]
    fn a_word_s_automaton_is_built_once_per_distance() {
        let kept = kept();
        let first = automaton(&kept, field(), "procurement", 1);
        let again = automaton(&kept, field(), "procurement", 1);
        let two_edits = automaton(&kept, field(), "procurement", 2);
        let (Some(first), Some(again), Some(two_edits)) = (first, again, two_edits) else {
            panic!("every automaton builds");
        };
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &two_edits));
        // Another index's table builds its own.
        let other = automaton(&self::kept(), field(), "procurement", 1);
        assert!(other.is_some_and(|other| !Arc::ptr_eq(&first, &other)));
    }

    #[test]
    fn kept_automata_stay_within_their_bytes() {
        let budget = crate::index::search::cache_budgets::bytes(16);
        let mut kept = KeptAutomata::new(budget);
        let one = automaton_bytes("warehouse", 2);
        let fits = budget / one;
        let sample = automaton(&self::kept(), field(), "warehouse", 2);
        let Some(sample) = sample else {
            panic!("the automaton builds");
        };
        for n in 0..fits + 10 {
            let word = format!("w{n:08}");
            kept.insert((word, 2), sample.clone());
            assert!(kept.bytes <= budget);
        }
        // The oldest went out first; the newest are still there.
        assert!(kept.get(&("w00000000".to_string(), 2)).is_none());
        let newest = format!("w{:08}", fits + 9);
        assert!(kept.get(&(newest, 2)).is_some());
        // Putting a word back neither counts it twice nor evicts another.
        let before = kept.bytes;
        let newest = format!("w{:08}", fits + 9);
        kept.insert((newest, 2), sample);
        assert_eq!(kept.bytes, before);
    }
}
