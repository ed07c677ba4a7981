//! Phrases searched through a per-segment table of where they occur: a
//! phrase's documents in a segment, each with how often the phrase occurs
//! there, are worked out from positions once and kept in the phrase cache
//! (`caches.rs`, a byte-bounded table of the filter cache's kind); later
//! searches of the phrase read that list as they would read a term's
//! postings. A Japanese word its analyser cuts in several tokens is such a
//! phrase (`請求書` is `請求 書`; in the bigram field, `打ち合わせ` is a phrase
//! of two bigram pairs), and comparing positions was the largest cost of a
//! Japanese word (BENCHMARKS.md, "Japanese search latency (issue 20)").
//!
//! It must never match or score differently from tantivy's
//! `PhraseQuery::new_with_offset` (slop 0): the same documents (deleted
//! ones included, as postings hold them), the same BM25 weight (`for_terms`
//! over the phrase's terms in offset order, boosted the same way), the same
//! fieldnorm and the same phrase frequency; and the same size hint and cost,
//! which tantivy's intersections sort their parts by. An entry is a fact
//! about one immutable segment, so it holds as long as the segment lives.

use std::fmt;
use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{Bm25Weight, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

use super::filter_cache::{CachedValue, FilterCache};

/// What an entry costs besides its two lists.
const ENTRY_BYTES: usize = 64;

/// The documents of one segment where a phrase occurs, in order, and how
/// often it occurs in each.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct PhraseDocs {
    docs: Vec<DocId>,
    counts: Vec<u32>,
}

impl CachedValue for PhraseDocs {
    fn bytes(&self) -> usize {
        ENTRY_BYTES + 4 * (self.docs.capacity() + self.counts.capacity())
    }
}

/// A phrase (terms of one field at relative offsets) read through the
/// phrase cache.
#[derive(Clone)]
pub(crate) struct CachedPhrase {
    terms: Vec<(usize, Term)>,
    /// The terms and offsets as text: equal keys are equal phrases.
    key: Arc<str>,
    cache: Arc<FilterCache<PhraseDocs>>,
}

impl fmt::Debug for CachedPhrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CachedPhrase({:?})", self.terms)
    }
}

impl CachedPhrase {
    /// The phrase of `terms` (sorted by offset, as `PhraseQuery` sorts
    /// them), all of one field, read through `cache`.
    pub(crate) fn new(
        mut terms: Vec<(usize, Term)>,
        cache: &Arc<FilterCache<PhraseDocs>>,
    ) -> CachedPhrase {
        terms.sort_by_key(|&(offset, _)| offset);
        let key = format!("{terms:?}").into();
        CachedPhrase {
            terms,
            key,
            cache: cache.clone(),
        }
    }
}

impl Query for CachedPhrase {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let Some((_, first)) = self.terms.first() else {
            return Err(TantivyError::InvalidArgument(
                "a phrase without terms".into(),
            ));
        };
        let entry = scoring.schema().get_field_entry(first.field());
        let positions = entry
            .field_type()
            .get_index_record_option()
            .is_some_and(IndexRecordOption::has_positions);
        if !positions {
            return Err(TantivyError::SchemaError(format!(
                "Applied phrase query on field {:?}, which does not have positions indexed",
                entry.name()
            )));
        }
        let terms: Vec<Term> = self.terms.iter().map(|(_, t)| t.clone()).collect();
        let bm25 = match scoring {
            EnableScoring::Enabled {
                statistics_provider,
                ..
            } => Some(Bm25Weight::for_terms(statistics_provider, &terms)?),
            EnableScoring::Disabled { .. } => None,
        };
        Ok(Box::new(CachedPhraseWeight {
            phrase: self.clone(),
            bm25,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for (_, term) in &self.terms {
            visitor(term, true);
        }
    }
}

struct CachedPhraseWeight {
    phrase: CachedPhrase,
    bm25: Option<Bm25Weight>,
}

/// Tantivy's estimate of an intersection's size (`query/size_hint.rs`,
/// private there): the sizes in the order its intersection sorts them.
fn estimate_intersection(sizes: &[u32], max_docs: u32) -> u32 {
    if max_docs == 0 {
        return 0;
    }
    let Some((&first, rest)) = sizes.split_first() else {
        return 0;
    };
    let mut co_loc_factor: f64 = 1.3;
    let mut estimate = first as f64;
    let mut smallest = estimate;
    for &size in rest {
        co_loc_factor = (co_loc_factor - 0.1).max(1.0);
        estimate *= (size as f64 / max_docs as f64) * co_loc_factor;
        smallest = smallest.min(size as f64);
    }
    estimate.round().min(smallest) as u32
}

impl CachedPhraseWeight {
    fn scorer_of(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<PhraseListing> {
        let terms = &self.phrase.terms;
        let field = terms[0].1.field();
        let inverted = reader.inverted_index(field)?;
        let mut infos = Vec::with_capacity(terms.len());
        for (offset, term) in terms {
            // As `PhraseWeight`: a term the segment lacks matches nothing.
            let Some(info) = inverted.get_term_info(term)? else {
                return Ok(PhraseListing::empty());
            };
            infos.push((*offset, info));
        }
        let docs =
            self.phrase
                .cache
                .segment_value(reader.segment_id(), &self.phrase.key, || {
                    let mut postings = Vec::with_capacity(infos.len());
                    for (offset, info) in &infos {
                        postings.push((
                            *offset,
                            inverted.read_postings_from_terminfo(
                                info,
                                IndexRecordOption::WithFreqsAndPositions,
                            )?,
                        ));
                    }
                    Ok(phrase_docs(postings))
                })?;
        let fieldnorms = match &self.bm25 {
            Some(_) => reader.fieldnorms_readers().get_field(field)?,
            None => None,
        }
        .unwrap_or_else(|| FieldNormReader::constant(reader.max_doc(), 1));
        // `PhraseScorer`'s hints: its intersection's estimate over the
        // terms' postings (sorted by their length, as the intersection
        // sorts them), divided by ten per term; the cost the inverse.
        let mut sizes: Vec<u32> = infos.iter().map(|(_, info)| info.doc_freq).collect();
        sizes.sort();
        let estimate = if sizes.len() >= 2 {
            estimate_intersection(&sizes, fieldnorms.num_docs())
        } else {
            sizes.first().copied().unwrap_or(0)
        };
        let n = terms.len() as u32;
        Ok(PhraseListing {
            docs: Some(docs),
            at: 0,
            bm25: self.bm25.as_ref().map(|w| w.boost_by(boost)),
            fieldnorms,
            size_hint: estimate / (10 * n),
            cost: estimate as u64 * 10 * n as u64,
        })
    }
}

/// Every document where the phrase of `postings` (each a term's postings
/// at its offset in the phrase) occurs, with how often: the positions `p`
/// where each term `i` is at `p + offset_i`, as `PhraseScorer` counts them.
fn phrase_docs(mut postings: Vec<(usize, SegmentPostings)>) -> PhraseDocs {
    let mut out = PhraseDocs::default();
    let max_offset = postings.iter().map(|(o, _)| *o).max().unwrap_or(0);
    let mut common: Vec<u32> = Vec::new();
    let mut positions: Vec<u32> = Vec::new();
    let Some(mut target) = postings.iter().map(|(_, p)| p.doc()).max() else {
        return out;
    };
    while target != TERMINATED {
        // Every term's postings moved to the first document all hold.
        let mut aligned = true;
        for (_, p) in postings.iter_mut() {
            let doc = if p.doc() < target {
                p.seek(target)
            } else {
                p.doc()
            };
            if doc != target {
                target = doc;
                aligned = false;
                break;
            }
        }
        if !aligned {
            continue;
        }
        for (i, (offset, p)) in postings.iter_mut().enumerate() {
            let shift = (max_offset - *offset) as u32;
            if i == 0 {
                p.positions_with_offset(shift, &mut common);
            } else {
                p.positions_with_offset(shift, &mut positions);
                retain_common(&mut common, &positions);
            }
            if common.is_empty() {
                break;
            }
        }
        if !common.is_empty() {
            out.docs.push(target);
            out.counts.push(common.len() as u32);
        }
        target = postings[0].1.advance();
    }
    out.docs.shrink_to_fit();
    out.counts.shrink_to_fit();
    out
}

/// Keeps the values of `left` (sorted, distinct) that `right` (sorted) holds.
fn retain_common(left: &mut Vec<u32>, right: &[u32]) {
    let mut j = 0;
    left.retain(|&value| {
        while j < right.len() && right[j] < value {
            j += 1;
        }
        j < right.len() && right[j] == value
    });
}

impl Weight for CachedPhraseWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let listing = self.scorer_of(reader, boost)?;
        Ok(if listing.docs.is_none() {
            Box::new(EmptyScorer)
        } else {
            Box::new(listing)
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer_of(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "Document #({doc}) does not match"
            )));
        }
        let mut explanation = Explanation::new("Phrase Scorer", scorer.score());
        if let Some(bm25) = &self.bm25 {
            explanation.add_detail(
                bm25.explain(scorer.fieldnorms.fieldnorm_id(doc), scorer.phrase_count()),
            );
        }
        Ok(explanation)
    }
}

/// One segment's list of a phrase, read as postings.
struct PhraseListing {
    /// None when a term of the phrase is not in the segment.
    docs: Option<Arc<PhraseDocs>>,
    at: usize,
    bm25: Option<Bm25Weight>,
    fieldnorms: FieldNormReader,
    size_hint: u32,
    cost: u64,
}

impl PhraseListing {
    fn empty() -> PhraseListing {
        PhraseListing {
            docs: None,
            at: 0,
            bm25: None,
            fieldnorms: FieldNormReader::constant(0, 1),
            size_hint: 0,
            cost: 0,
        }
    }

    fn list(&self) -> &[DocId] {
        self.docs.as_ref().map_or(&[], |d| d.docs.as_slice())
    }

    fn phrase_count(&self) -> u32 {
        self.docs
            .as_ref()
            .and_then(|d| d.counts.get(self.at).copied())
            .unwrap_or(0)
    }
}

impl DocSet for PhraseListing {
    fn advance(&mut self) -> DocId {
        self.at += 1;
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let list = self.list();
        if self.at >= list.len() || list[self.at] >= target {
            return self.doc();
        }
        let found = list[self.at..].partition_point(|&d| d < target);
        self.at += found;
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.list().get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        self.size_hint
    }

    fn cost(&self) -> u64 {
        self.cost
    }
}

impl Scorer for PhraseListing {
    fn score(&mut self) -> Score {
        match &self.bm25 {
            Some(bm25) => bm25.score(
                self.fieldnorms.fieldnorm_id(self.doc()),
                self.phrase_count(),
            ),
            None => 1.0,
        }
    }
}

#[cfg(test)]
mod tests;
