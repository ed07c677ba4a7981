//! All the words of a query, each a union of its alternatives (its fields,
//! typo-tolerant forms, ids, the prefix), matched a window of 4,096
//! documents at a time ([`window`]): each word's alternatives mark their
//! documents in the window, only documents every word has are kept, and
//! only those are scored. Terms are read a block of postings at a time
//! ([`leaf`]). Lucene's `DenseConjunctionBulkScorer` works the same way.
//! Tantivy's intersection of unions instead seeks one union to each
//! document of the other and scores every posting of both, which on common
//! words (each matching a third of the records) costs more than the
//! postings themselves.
//!
//! It must never change a result: it matches exactly the documents of
//! `BooleanQuery(Must(union of each word's alternatives), ...)`, and gives
//! each the same score: a union's children summed in their order as
//! tantivy's union sums them, each term scored by the same BM25 function.

pub(crate) mod leaf;
mod marks;
pub(crate) mod window;

use tantivy::query::{
    Bm25Weight, BooleanQuery, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError};

use std::sync::{Arc, OnceLock};

use self::leaf::{Leaf, ScoredTerm, TermLeaf, TermScores};
use self::window::{Node, WindowedConjunction};
use super::corrected_union::{AnyOf, is_union};

/// Every word must match; a word matches when any of its alternatives does.
#[derive(Debug)]
pub(crate) struct WordsConjunction {
    words: Vec<Vec<Box<dyn Query>>>,
}

impl Clone for WordsConjunction {
    fn clone(&self) -> Self {
        WordsConjunction {
            words: self.words.iter().map(|word| copies(word)).collect(),
        }
    }
}

fn copies(queries: &[Box<dyn Query>]) -> Vec<Box<dyn Query>> {
    queries.iter().map(|q| q.box_clone()).collect()
}

/// `queries`, each a word, as one conjunction: a union (a boolean query of
/// `Should` clauses only) becomes a word of its alternatives, a conjunction
/// gives its own words, anything else is a word of one alternative.
pub(crate) fn all_of(queries: &[&dyn Query]) -> WordsConjunction {
    let mut words = Vec::new();
    for query in queries {
        match query.downcast_ref::<WordsConjunction>() {
            Some(conjunction) => words.extend(conjunction.words.iter().map(|word| copies(word))),
            None => words.push(alternatives(*query).unwrap_or_else(|| vec![query.box_clone()])),
        }
    }
    WordsConjunction { words }
}

/// The clauses of a union (a boolean query of `Should` clauses only), when
/// `query` is one.
fn alternatives(query: &dyn Query) -> Option<Vec<Box<dyn Query>>> {
    let union = match query.downcast_ref::<AnyOf>() {
        Some(any_of) => any_of.union(),
        None => query.downcast_ref::<BooleanQuery>()?,
    };
    is_union(union).then(|| union.clauses().iter().map(|(_, q)| q.box_clone()).collect())
}

impl Query for WordsConjunction {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let words = self
            .words
            .iter()
            .map(|alternatives| union_weight(alternatives, &scoring))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(WordsWeight {
            words,
            scoring: scoring.is_scoring_enabled(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a tantivy::Term, bool)) {
        for query in self.words.iter().flatten() {
            query.query_terms(visitor);
        }
    }
}

/// A word's tree of weights.
enum WeightNode {
    /// The term, its unboosted weight, and its scores at boost 1 (made
    /// when a segment first has the term).
    Term(ScoredTerm, Bm25Weight, OnceLock<Arc<TermScores>>),
    Other(Box<dyn Weight>),
    Union(Vec<WeightNode>),
}

fn union_weight(
    alternatives: &[Box<dyn Query>],
    scoring: &EnableScoring<'_>,
) -> tantivy::Result<WeightNode> {
    let children = alternatives
        .iter()
        .map(|q| node_weight(&**q, scoring))
        .collect::<tantivy::Result<Vec<_>>>()?;
    Ok(WeightNode::Union(children))
}

fn node_weight(query: &dyn Query, scoring: &EnableScoring<'_>) -> tantivy::Result<WeightNode> {
    if let Some(term) = query.downcast_ref::<ScoredTerm>()
        && let Some(bm25) = term.bm25(scoring)?
    {
        return Ok(WeightNode::Term(term.clone(), bm25, OnceLock::new()));
    }
    if let Some(alternatives) = alternatives(query) {
        return union_weight(&alternatives, scoring);
    }
    Ok(WeightNode::Other(query.weight(*scoring)?))
}

impl WeightNode {
    /// The node's scorer tree for one segment, its leaves pushed on
    /// `slots`; none when it matches nothing there.
    fn open(
        &self,
        reader: &SegmentReader,
        boost: Score,
        slots: &mut Vec<Leaf>,
    ) -> tantivy::Result<Option<Node>> {
        let leaf = match self {
            WeightNode::Term(term, bm25, scores) => {
                // As `BoostWeight` passes boosts down to `TermWeight`.
                let scores = || {
                    if boost == 1.0 {
                        scores
                            .get_or_init(|| Arc::new(TermScores::new(bm25.boost_by(term.boost))))
                            .clone()
                    } else {
                        Arc::new(TermScores::new(bm25.boost_by(boost * term.boost)))
                    }
                };
                match TermLeaf::open(reader, term, scores)? {
                    Some(leaf) => Leaf::Term(Box::new(leaf)),
                    None => return Ok(None),
                }
            }
            WeightNode::Other(weight) => {
                let scorer = weight.scorer(reader, boost)?;
                if scorer.doc() == TERMINATED {
                    return Ok(None);
                }
                Leaf::Other(scorer)
            }
            WeightNode::Union(children) => {
                let mut nodes = Vec::with_capacity(children.len());
                for child in children {
                    nodes.extend(child.open(reader, boost, slots)?);
                }
                return Ok((!nodes.is_empty()).then_some(Node::Union(nodes)));
            }
        };
        slots.push(leaf);
        Ok(Some(Node::Leaf(slots.len() - 1)))
    }
}

struct WordsWeight {
    words: Vec<WeightNode>,
    scoring: bool,
}

impl WordsWeight {
    /// The scorer for one segment; none when a word matches nothing there.
    fn conjunction(
        &self,
        reader: &SegmentReader,
        boost: Score,
    ) -> tantivy::Result<Option<WindowedConjunction>> {
        let mut slots = Vec::new();
        let mut roots = Vec::with_capacity(self.words.len());
        for word in &self.words {
            match word.open(reader, boost, &mut slots)? {
                Some(root) => roots.push(root),
                None => return Ok(None),
            }
        }
        Ok(Some(WindowedConjunction::new(slots, roots, self.scoring)))
    }
}

impl Weight for WordsWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match self.conjunction(reader, boost)? {
            Some(conjunction) => Box::new(conjunction),
            None => Box::new(EmptyScorer),
        })
    }

    /// Every match of the segment, a window at a time, without a virtual
    /// call per document to move and to score.
    fn for_each(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score),
    ) -> tantivy::Result<()> {
        if let Some(mut conjunction) = self.conjunction(reader, 1.0)? {
            conjunction.for_each_until(TERMINATED, callback);
        }
        Ok(())
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document #{doc} does not match"
            )));
        }
        Ok(Explanation::new(
            "every word matches (sum of the words' BM25 scores)",
            scorer.score(),
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests;
