//! The document sets the filter cache holds, and the docset that reads one
//! back: a sorted list when few documents of the segment match, one bit per
//! document otherwise.
//!
//! A set holds matches among all of a segment's documents, deleted or not;
//! the reader must never yield a document its alive bitset says is deleted.

use std::sync::Arc;

use tantivy::fastfield::AliveBitSet;
use tantivy::query::Scorer;
use tantivy::{DocId, DocSet, Score, SeekDangerResult, TERMINATED};

/// The documents of one segment a filter matches: a sorted list when few
/// match, one bit per document otherwise.
#[derive(Debug, PartialEq)]
pub(crate) enum MatchingDocs {
    Sparse(Vec<DocId>),
    Dense { words: Vec<u64>, len: u32 },
}

impl MatchingDocs {
    /// Every document `docs` yields (deleted ones included), for a segment
    /// of `max_doc` documents.
    pub(crate) fn collect(docs: &mut dyn DocSet, max_doc: DocId) -> MatchingDocs {
        let mut list = Vec::new();
        let mut doc = docs.doc();
        while doc != TERMINATED {
            list.push(doc);
            doc = docs.advance();
        }
        Self::from_sorted(list, max_doc)
    }

    /// The sorted, distinct `list` in the smaller of the two forms.
    pub(super) fn from_sorted(list: Vec<DocId>, max_doc: DocId) -> MatchingDocs {
        // 32 bits per listed doc against 1 bit per doc of the segment.
        if list.len() < (max_doc as usize).div_ceil(32) {
            return MatchingDocs::Sparse(list);
        }
        let mut words = vec![0u64; (max_doc as usize).div_ceil(64)];
        for &doc in &list {
            if let Some(word) = words.get_mut(doc as usize / 64) {
                *word |= 1 << (doc % 64);
            }
        }
        MatchingDocs::Dense {
            words,
            len: list.len() as u32,
        }
    }

    /// The documents every one of `sets` holds, for a segment of `max_doc`
    /// documents: the smallest list filtered, or the bit words ANDed.
    pub(crate) fn intersect(sets: &[Arc<MatchingDocs>], max_doc: DocId) -> MatchingDocs {
        // A list if there is one (then each document is looked up in the
        // others), else the smallest bitset.
        let Some(smallest) = sets.iter().min_by_key(|set| (set.is_dense(), set.len())) else {
            return MatchingDocs::Sparse(Vec::new());
        };
        let others = || sets.iter().filter(|set| !Arc::ptr_eq(set, smallest));
        match &**smallest {
            MatchingDocs::Sparse(list) => {
                let kept = list
                    .iter()
                    .copied()
                    .filter(|&doc| others().all(|set| set.contains(doc)))
                    .collect();
                MatchingDocs::Sparse(kept)
            }
            MatchingDocs::Dense { words, .. } => {
                // Every set is dense: a list would have been chosen first.
                let mut anded = words.clone();
                for set in others() {
                    if let MatchingDocs::Dense { words, .. } = &**set {
                        for (into, word) in anded.iter_mut().zip(words) {
                            *into &= word;
                        }
                    }
                }
                let len = anded.iter().map(|w| w.count_ones()).sum::<u32>();
                if (len as usize) < (max_doc as usize).div_ceil(32) {
                    return MatchingDocs::Sparse(dense_docs(&anded).collect());
                }
                MatchingDocs::Dense { words: anded, len }
            }
        }
    }

    /// Whether the set is a bitset (it holds many of the segment's
    /// documents) rather than a sorted list.
    pub(crate) fn is_dense(&self) -> bool {
        matches!(self, MatchingDocs::Dense { .. })
    }

    /// Whether `doc` is in the set.
    pub(crate) fn contains(&self, doc: DocId) -> bool {
        match self {
            MatchingDocs::Sparse(list) => list.binary_search(&doc).is_ok(),
            MatchingDocs::Dense { words, .. } => words
                .get(doc as usize / 64)
                .is_some_and(|word| word >> (doc % 64) & 1 == 1),
        }
    }

    /// How many documents match (deleted ones included).
    pub(crate) fn len(&self) -> u32 {
        match self {
            MatchingDocs::Sparse(list) => list.len() as u32,
            MatchingDocs::Dense { len, .. } => *len,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        match self {
            MatchingDocs::Sparse(list) => list.capacity() * 4,
            MatchingDocs::Dense { words, .. } => words.capacity() * 8,
        }
    }
}

/// The documents whose bits are set in `words`, in order.
fn dense_docs(words: &[u64]) -> impl Iterator<Item = DocId> + '_ {
    words.iter().enumerate().flat_map(|(i, &word)| {
        let mut bits = word;
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let doc = (i * 64) as DocId + bits.trailing_zeros();
                bits &= bits - 1;
                doc
            })
        })
    })
}

/// Reads a cached set as a scorer: skips deleted documents, scores 0.
pub(crate) struct CachedFilterScorer {
    docs: Arc<MatchingDocs>,
    alive: Option<AliveBitSet>,
    /// Position in a sparse list (unused when dense).
    position: usize,
    doc: DocId,
}

impl CachedFilterScorer {
    pub(crate) fn new(docs: Arc<MatchingDocs>, alive: Option<AliveBitSet>) -> CachedFilterScorer {
        let mut scorer = CachedFilterScorer {
            docs,
            alive,
            position: 0,
            doc: 0,
        };
        scorer.doc = scorer.first_at_or_after(0);
        scorer.doc = scorer.skip_deleted(scorer.doc);
        scorer
    }

    /// The first listed document at or after `target`, deleted or not.
    fn first_at_or_after(&mut self, target: DocId) -> DocId {
        match &*self.docs {
            MatchingDocs::Sparse(list) => {
                let rest = &list[self.position.min(list.len())..];
                self.position += rest.partition_point(|&d| d < target);
                list.get(self.position).copied().unwrap_or(TERMINATED)
            }
            MatchingDocs::Dense { words, .. } => {
                let mut word = target as usize / 64;
                let Some(&first) = words.get(word) else {
                    return TERMINATED;
                };
                let mut bits = first & (u64::MAX << (target % 64));
                loop {
                    if bits != 0 {
                        return (word * 64) as DocId + bits.trailing_zeros();
                    }
                    word += 1;
                    match words.get(word) {
                        Some(&next) => bits = next,
                        None => return TERMINATED,
                    }
                }
            }
        }
    }

    /// The next document after `doc` (the current one).
    fn next_after(&mut self, doc: DocId) -> DocId {
        match &*self.docs {
            MatchingDocs::Sparse(list) => {
                self.position += 1;
                list.get(self.position).copied().unwrap_or(TERMINATED)
            }
            MatchingDocs::Dense { .. } => self.first_at_or_after(doc + 1),
        }
    }

    /// `doc`, or the first live document after it.
    fn skip_deleted(&mut self, mut doc: DocId) -> DocId {
        while doc != TERMINATED && self.alive.as_ref().is_some_and(|a| a.is_deleted(doc)) {
            doc = self.next_after(doc);
        }
        doc
    }
}

impl DocSet for CachedFilterScorer {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            let next = self.next_after(self.doc);
            self.doc = self.skip_deleted(next);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc < target {
            let found = self.first_at_or_after(target);
            self.doc = self.skip_deleted(found);
        }
        self.doc
    }

    /// Jumps straight to `target`'s bit in a dense set instead of walking
    /// to the next match: an intersection probes it at the candidates the
    /// text query leads with.
    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        if target >= TERMINATED {
            return SeekDangerResult::SeekLowerBound(TERMINATED);
        }
        if let MatchingDocs::Dense { words, .. } = &*self.docs {
            let Some(word) = words.get(target as usize / 64) else {
                return SeekDangerResult::SeekLowerBound(TERMINATED);
            };
            let listed = word >> (target % 64) & 1 == 1;
            if listed && self.alive.as_ref().is_none_or(|a| a.is_alive(target)) {
                self.doc = target;
                return SeekDangerResult::Found;
            }
            return SeekDangerResult::SeekLowerBound(target + 1);
        }
        let doc = if self.doc < target {
            self.seek(target)
        } else {
            self.doc
        };
        if doc == target {
            SeekDangerResult::Found
        } else {
            SeekDangerResult::SeekLowerBound(doc)
        }
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.docs.len()
    }

    /// A dense set is probed bit by bit, never worth walking before a
    /// sparser docset: it claims the cost of a walk over the whole segment
    /// (plus its size, so the most selective of several is probed first),
    /// so that intersections lead with the text query and probe the filter.
    fn cost(&self) -> u64 {
        match &*self.docs {
            MatchingDocs::Sparse(list) => list.len() as u64,
            MatchingDocs::Dense { words, len } => words.len() as u64 * 64 + u64::from(*len),
        }
    }
}

impl Scorer for CachedFilterScorer {
    fn score(&mut self) -> Score {
        0.0
    }
}
