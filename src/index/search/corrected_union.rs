//! A word's union of fields read from bit words when, in a segment, only
//! the word's corrected forms match: a misspelt common word (`warehosue`)
//! is no term of any field, so every field's clause is a cached set of the
//! documents its corrections match, each scoring a constant. tantivy's
//! buffered union reads such sets a document and a virtual call at a time
//! per field; here the sets' 64-bit words are ORed and each document's
//! score is the constants of the sets holding it, summed in field order.
//! In any other segment (some field holds the typed word itself, the
//! union has fewer than two corrected sets, or none of them is a bitset)
//! tantivy's union is used.
//!
//! It must never change a result: it matches exactly the documents of
//! `BooleanQuery` of the same `Should` clauses, alive ones only, and gives
//! each the same score, summed in the same order as tantivy's `SumCombiner`.

use std::fmt;
use std::sync::Arc;

use tantivy::fastfield::AliveBitSet;
use tantivy::query::{BooleanQuery, EnableScoring, Explanation, Occur, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

use super::conjunction::leaf::ScoredTerm;
use super::filter_cache::MatchingDocs;
use super::fuzzy::SharedFuzzyQuery;

/// The alternatives of one word, any of which may match (a `BooleanQuery`
/// of `Should` clauses), read from bit words where only corrections match.
pub(crate) struct AnyOf {
    union: BooleanQuery,
    leaves: Vec<Leaf>,
}

/// What a clause is made of, in order: a term that must be absent from a
/// segment for the bit-word union to apply, or a corrected set.
#[derive(Clone)]
enum Leaf {
    Exact(Term),
    Corrected(SharedFuzzyQuery),
}

impl AnyOf {
    /// `clauses` as one union read from bit words where it can be, or the
    /// clauses back when some clause is neither a term, a word's corrected
    /// forms, nor a field's pair of the two, or when none is corrected.
    pub(crate) fn of(clauses: Vec<Box<dyn Query>>) -> Result<AnyOf, Vec<Box<dyn Query>>> {
        let mut leaves = Vec::new();
        let known = clauses.iter().all(|q| clause_leaves(&**q, &mut leaves));
        let corrected = leaves.iter().any(|l| matches!(l, Leaf::Corrected(_)));
        if known && corrected {
            let union =
                BooleanQuery::new(clauses.into_iter().map(|q| (Occur::Should, q)).collect());
            Ok(AnyOf { union, leaves })
        } else {
            Err(clauses)
        }
    }

    /// tantivy's union of the same clauses.
    pub(crate) fn union(&self) -> &BooleanQuery {
        &self.union
    }
}

/// Whether `query` is a union: `Should` clauses only, any one enough.
pub(crate) fn is_union(query: &BooleanQuery) -> bool {
    let clauses = query.clauses();
    !clauses.is_empty()
        && query.get_minimum_number_should_match() <= 1
        && clauses.iter().all(|(occur, _)| *occur == Occur::Should)
}

/// Pushes `query`'s leaves on `into`; false when it is of another shape.
/// A field's pair holds terms and at most one corrected set, so that its
/// sum (the set's constant alone, where its terms are absent) is the sum
/// of its leaves.
fn clause_leaves(query: &dyn Query, into: &mut Vec<Leaf>) -> bool {
    if let Some(term) = query.downcast_ref::<ScoredTerm>() {
        into.push(Leaf::Exact(term.term.clone()));
        return true;
    }
    if let Some(fuzzy) = query.downcast_ref::<SharedFuzzyQuery>() {
        into.push(Leaf::Corrected(fuzzy.clone()));
        return true;
    }
    let Some(pair) = query.downcast_ref::<BooleanQuery>() else {
        return false;
    };
    let clauses = pair.clauses();
    let union = is_union(pair);
    let corrected = clauses
        .iter()
        .filter(|(_, q)| q.downcast_ref::<SharedFuzzyQuery>().is_some())
        .count();
    let flat = clauses.iter().all(|(_, q)| {
        q.downcast_ref::<ScoredTerm>().is_some() || q.downcast_ref::<SharedFuzzyQuery>().is_some()
    });
    if !(union && flat && corrected <= 1) {
        return false;
    }
    clauses.iter().all(|(_, q)| clause_leaves(&**q, into))
}

impl Clone for AnyOf {
    fn clone(&self) -> AnyOf {
        AnyOf {
            union: self.union.clone(),
            leaves: self.leaves.clone(),
        }
    }
}

impl fmt::Debug for AnyOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnyOf").field("union", &self.union).finish()
    }
}

impl Query for AnyOf {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AnyOfWeight {
            union: self.union.weight(scoring)?,
            leaves: self.leaves.clone(),
            scoring: scoring.is_scoring_enabled(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.union.query_terms(visitor);
    }
}

struct AnyOfWeight {
    /// tantivy's union of the same clauses.
    union: Box<dyn Weight>,
    leaves: Vec<Leaf>,
    scoring: bool,
}

impl AnyOfWeight {
    /// The bit-word union of `reader`'s segment, when none of the exact
    /// terms is there and at least two corrected sets are not empty.
    fn corrected_union(
        &self,
        reader: &SegmentReader,
        boost: Score,
    ) -> tantivy::Result<Option<CorrectedUnion>> {
        if !self.scoring {
            return Ok(None);
        }
        for leaf in &self.leaves {
            if let Leaf::Exact(term) = leaf
                && reader
                    .inverted_index(term.field())?
                    .get_term_info(term)?
                    .is_some()
            {
                return Ok(None);
            }
        }
        let mut sets = Vec::new();
        for leaf in &self.leaves {
            if let Leaf::Corrected(fuzzy) = leaf {
                let docs = fuzzy.corrected_docs(reader)?;
                if !docs.is_empty() {
                    // As `SharedFuzzyWeight` scores it with this boost.
                    sets.push((docs, boost * fuzzy.boost));
                }
            }
        }
        // Lists only: tantivy's union reads them as fast (measured at 10M,
        // a misspelt surname in 2 % of the records was 17 % slower here).
        if sets.len() < 2 || !sets.iter().any(|(docs, _)| docs.is_dense()) {
            return Ok(None);
        }
        Ok(Some(CorrectedUnion::new(
            sets,
            reader.alive_bitset().cloned(),
            reader.max_doc(),
        )))
    }
}

impl Weight for AnyOfWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        match self.corrected_union(reader, boost)? {
            Some(union) => Ok(Box::new(union)),
            None => self.union.scorer(reader, boost),
        }
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.union.explain(reader, doc)
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        match self.corrected_union(reader, 1.0)? {
            Some(mut union) => {
                let mut count = 0;
                union.for_each_until(TERMINATED, &mut |_, _| count += 1);
                Ok(count)
            }
            None => self.union.count(reader),
        }
    }

    fn for_each(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score),
    ) -> tantivy::Result<()> {
        match self.corrected_union(reader, 1.0)? {
            Some(mut union) => {
                union.for_each_until(TERMINATED, callback);
                Ok(())
            }
            None => self.union.for_each(reader, callback),
        }
    }

    fn for_each_no_score(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(&[DocId]),
    ) -> tantivy::Result<()> {
        // Scoring is off here, so the bit-word union never applies.
        self.union.for_each_no_score(reader, callback)
    }

    fn for_each_pruning(
        &self,
        threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        match self.corrected_union(reader, 1.0)? {
            Some(mut union) => {
                let mut threshold = threshold;
                union.for_each_until(TERMINATED, &mut |doc, score| {
                    if score > threshold {
                        threshold = callback(doc, score);
                    }
                });
                Ok(())
            }
            None => self.union.for_each_pruning(threshold, reader, callback),
        }
    }
}

/// A collector that can pass over a block of documents none of which
/// could enter its best, counting them only.
pub(crate) trait BlockSink {
    /// Documents per block; blocks start at multiples of it.
    const BLOCK: DocId;
    /// Whether a document of `doc`'s block scoring at most `bound` could
    /// still enter.
    fn may_enter(&mut self, doc: DocId, bound: Score) -> bool;
    /// `count` matching documents passed over.
    fn passed_over(&mut self, count: usize);
    fn collect(&mut self, doc: DocId, score: Score);
}

/// The documents of several cached sets, each set scoring a constant; a
/// document scores the sum of its sets' constants, in their order.
pub(crate) struct CorrectedUnion {
    sets: Vec<(Arc<MatchingDocs>, Score)>,
    /// A sparse set's position in its list (unused for dense ones).
    positions: Vec<usize>,
    /// Each set's bits in the current word.
    bits: Vec<u64>,
    alive: Option<AliveBitSet>,
    words: usize,
    /// The current word, and its bits not yet yielded.
    word: usize,
    pending: u64,
    doc: DocId,
}

impl CorrectedUnion {
    fn new(
        sets: Vec<(Arc<MatchingDocs>, Score)>,
        alive: Option<AliveBitSet>,
        max_doc: DocId,
    ) -> CorrectedUnion {
        let count = sets.len();
        let mut union = CorrectedUnion {
            sets,
            positions: vec![0; count],
            bits: vec![0; count],
            alive,
            words: (max_doc as usize).div_ceil(64),
            word: 0,
            pending: 0,
            doc: 0,
        };
        union.load(0, 0);
        union.doc = union.next_alive();
        union
    }

    /// Loads word `word`'s bits of every set, those below `from` (a bit
    /// position in the word) left out. A sparse set's position moves past
    /// the word's documents.
    fn load(&mut self, word: usize, from: u32) {
        self.word = word;
        let start = (word * 64) as DocId;
        let end = start.saturating_add(64);
        let mut any = 0;
        for ((set, _), (bits, position)) in self
            .sets
            .iter()
            .zip(self.bits.iter_mut().zip(self.positions.iter_mut()))
        {
            *bits = match &**set {
                MatchingDocs::Dense { words, .. } => words.get(word).copied().unwrap_or(0),
                MatchingDocs::Sparse(list) => {
                    if list.get(*position).is_some_and(|&d| d < start) {
                        *position += list[*position..].partition_point(|&d| d < start);
                    }
                    let mut word_bits = 0u64;
                    while let Some(&doc) = list.get(*position) {
                        if doc >= end {
                            break;
                        }
                        word_bits |= 1 << (doc - start);
                        *position += 1;
                    }
                    word_bits
                }
            };
            any |= *bits;
        }
        self.pending = any & (u64::MAX.checked_shl(from).unwrap_or(0));
    }

    /// The first word after the current one that some set has a document
    /// in: a sparse set's next listed document, a dense set's next
    /// non-zero word (looked for only up to the best found so far).
    fn next_word(&self) -> Option<usize> {
        let mut best = self.words;
        for ((set, _), &position) in self.sets.iter().zip(&self.positions) {
            if let MatchingDocs::Sparse(list) = &**set
                && let Some(&doc) = list.get(position)
            {
                best = best.min(doc as usize / 64);
            }
        }
        for (set, _) in &self.sets {
            if let MatchingDocs::Dense { words, .. } = &**set {
                let from = self.word + 1;
                let until = best.min(words.len());
                if let Some(offset) = words
                    .get(from..until)
                    .and_then(|w| w.iter().position(|&bits| bits != 0))
                {
                    best = from + offset;
                }
            }
        }
        (best < self.words).then_some(best)
    }

    /// The next pending document, loading words as needed; `TERMINATED`
    /// past the last.
    fn next_pending(&mut self) -> DocId {
        loop {
            if self.pending != 0 {
                let bit = self.pending.trailing_zeros();
                self.pending &= self.pending - 1;
                return (self.word * 64) as DocId + bit;
            }
            match self.next_word() {
                Some(next) => self.load(next, 0),
                None => return TERMINATED,
            }
        }
    }

    /// The next pending document that is alive.
    fn next_alive(&mut self) -> DocId {
        loop {
            let doc = self.next_pending();
            if doc == TERMINATED || self.alive.as_ref().is_none_or(|a| a.is_alive(doc)) {
                return doc;
            }
        }
    }

    /// The score of `doc`, a document of the current word.
    fn score_of(&self, doc: DocId) -> Score {
        let bit = doc % 64;
        let mut score = 0.0;
        for ((_, constant), bits) in self.sets.iter().zip(&self.bits) {
            if bits >> bit & 1 == 1 {
                score += constant;
            }
        }
        score
    }

    /// Calls `callback` with each document before `end` from the current
    /// one on, and its score; stops on the first at or past `end`.
    pub(crate) fn for_each_until(&mut self, end: DocId, callback: &mut dyn FnMut(DocId, Score)) {
        while self.doc < end {
            callback(self.doc, self.score_of(self.doc));
            self.doc = self.next_alive();
        }
    }
}

impl CorrectedUnion {
    /// [`CorrectedUnion::for_each_until`] a block at a time: a block whose
    /// best possible score cannot enter `sink` has its documents counted,
    /// not scored. Most blocks of a word corrected in millions of bodies
    /// hold only those bodies' matches, which score below the records that
    /// match in a title or a name too.
    pub(crate) fn collect_blocks_until<S: BlockSink>(&mut self, end: DocId, sink: &mut S) {
        while self.doc < end {
            let block_end = (self.doc / S::BLOCK + 1).saturating_mul(S::BLOCK).min(end);
            if sink.may_enter(self.doc, self.bound_until(block_end)) {
                while self.doc < block_end {
                    sink.collect(self.doc, self.score_of(self.doc));
                    self.doc = self.next_alive();
                }
            } else {
                let count = self.count_until(block_end);
                sink.passed_over(count);
            }
        }
    }

    /// The best score a document from the current one up to `end` can
    /// have: the constants of the sets holding any of them, summed in
    /// order (a sum of positive numbers never falls when a term is added,
    /// rounding included, so no document's score is above it).
    fn bound_until(&self, end: DocId) -> Score {
        let from_bit = self.doc % 64;
        let last_word = (end as usize).div_ceil(64);
        let mut bound = 0.0;
        for (((set, constant), &bits), &position) in
            self.sets.iter().zip(&self.bits).zip(&self.positions)
        {
            let here = bits & (u64::MAX << from_bit) != 0;
            let later = || match &**set {
                MatchingDocs::Dense { words, .. } => words
                    .get(self.word + 1..last_word.min(words.len()))
                    .is_some_and(|w| w.iter().any(|&bits| bits != 0)),
                MatchingDocs::Sparse(list) => list.get(position).is_some_and(|&d| d < end),
            };
            if here || later() {
                bound += constant;
            }
        }
        bound
    }

    /// How many documents there are from the current one (included) up to
    /// `target`, alive ones only; the union is left on the first at or
    /// after `target`.
    fn count_until(&mut self, target: DocId) -> usize {
        if self.doc >= target {
            return 0;
        }
        let mut count = 1;
        loop {
            let word_start = (self.word * 64) as DocId;
            let within = target - word_start < 64;
            let below = if within {
                (1u64 << (target - word_start)) - 1
            } else {
                u64::MAX
            };
            count += self.alive_in(word_start, self.pending & below);
            self.pending &= !below;
            if within || self.pending != 0 {
                break;
            }
            match self.next_word() {
                Some(next) => {
                    self.load(next, 0);
                    if (next * 64) as DocId >= target {
                        break;
                    }
                }
                None => break,
            }
        }
        self.doc = self.next_alive();
        count
    }

    /// How many of the documents `bits` marks in the word starting at
    /// `word_start` are alive.
    fn alive_in(&self, word_start: DocId, bits: u64) -> usize {
        match &self.alive {
            None => bits.count_ones() as usize,
            Some(alive) => {
                let mut bits = bits;
                let mut count = 0;
                while bits != 0 {
                    let doc = word_start + bits.trailing_zeros();
                    bits &= bits - 1;
                    if alive.is_alive(doc) {
                        count += 1;
                    }
                }
                count
            }
        }
    }
}

impl DocSet for CorrectedUnion {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            self.doc = self.next_alive();
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        let word = target as usize / 64;
        if word >= self.words {
            self.doc = TERMINATED;
            return self.doc;
        }
        if word == self.word {
            self.pending &= u64::MAX.checked_shl(target % 64).unwrap_or(0);
        } else {
            self.load(word, target % 64);
        }
        self.doc = self.next_alive();
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.sets
            .iter()
            .map(|(set, _)| set.len())
            .max()
            .unwrap_or(0)
    }
}

impl Scorer for CorrectedUnion {
    fn score(&mut self) -> Score {
        if self.doc == TERMINATED {
            return 0.0;
        }
        self.score_of(self.doc)
    }
}

#[cfg(test)]
mod tests;
