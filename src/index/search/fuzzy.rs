//! Typo-tolerant term matching with one Levenshtein automaton per typed
//! word, shared by every field the word is searched in and by every weight
//! built from the query (search, facets, matched-field checks). tantivy's
//! `FuzzyTermQuery` builds its automaton again for each of those, which was
//! most of a query's time.
//!
//! It must never change what matches: the automaton is exactly
//! `FuzzyTermQuery`'s (same distance, transpositions cost one).

use std::fmt;
use std::sync::Arc;

use tantivy::Term;
use tantivy::query::{AutomatonWeight, DfaWrapper, EnableScoring, FuzzyTermQuery, Query, Weight};
use tantivy::schema::Field;

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
}

impl fmt::Debug for SharedFuzzyQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedFuzzyQuery({:?})", self.field)
    }
}

impl Query for SharedFuzzyQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AutomatonWeight::<DfaWrapper>::new(
            self.field,
            self.automaton.clone(),
        )))
    }
}
