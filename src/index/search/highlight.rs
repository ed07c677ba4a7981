//! Highlighting of the matches tantivy's snippet generator cannot see: a
//! word found only within its typo budget (`Smtih` → Smith) and the last
//! word found as a prefix (`Robo` → Robotics). The generator highlights the
//! exact terms of the query; for a hit without any, this looks through the
//! hit's own text for the words the typo-tolerant or prefix clauses
//! accepted and highlights those.
//!
//! It must never read anything but the one hit's text, and never highlight
//! a word the query would not have matched: the same edit distance
//! (transpositions cost one, as in the Levenshtein automaton) and the same
//! case-folded prefix.

use std::collections::{BTreeMap, BTreeSet};

use tantivy::Searcher;
use tantivy::schema::Field;
use tantivy::tokenizer::TokenStream;

use super::fragments::Highlighter;
use crate::index::extra_tokenizers::normalize_for_prefix;

/// Fields the prefix of the last word is searched in (through `suggest`).
const PREFIX_FIELDS: &[&str] = &["names", "company", "customer_name"];

/// The inexact words of a query: typo-tolerant words by field (with their
/// distance) and the prefixes of the last word.
#[derive(Debug, Default, Clone)]
pub(crate) struct LooseTerms {
    pub fuzzy: BTreeMap<String, Vec<(String, u8)>>,
    pub prefixes: Vec<String>,
}

impl LooseTerms {
    pub(crate) fn is_empty(&self) -> bool {
        self.fuzzy.is_empty() && self.prefixes.is_empty()
    }

    /// Whether `field` could hold a loose match at all.
    pub(crate) fn applies_to(&self, field: &str) -> bool {
        self.fuzzy.contains_key(field)
            || (!self.prefixes.is_empty() && PREFIX_FIELDS.contains(&field))
    }

    fn accepts(&self, field: &str, token: &str, surface: &str) -> bool {
        let typo = self.fuzzy.get(field).is_some_and(|words| {
            words
                .iter()
                .any(|(word, distance)| strsim::osa_distance(word, token) <= *distance as usize)
        });
        typo || (PREFIX_FIELDS.contains(&field) && {
            let surface = normalize_for_prefix(surface);
            self.prefixes
                .iter()
                .any(|p| surface.starts_with(p.as_str()) || token.starts_with(p.as_str()))
        })
    }
}

/// The `<mark>`ed snippet of `text` (the hit's `field_name` text) around
/// the words the loose clauses accept; `None` when there are none.
pub(crate) fn loose_snippet(
    searcher: &Searcher,
    field: Field,
    field_name: &str,
    text: &str,
    loose: &LooseTerms,
    max_chars: usize,
) -> Option<String> {
    let mut tokenizer = searcher.index().tokenizer_for_field(field).ok()?;
    let mut terms: BTreeMap<String, f32> = BTreeMap::new();
    {
        let mut stream = tokenizer.token_stream(text);
        while stream.advance() {
            let token = stream.token();
            let surface = text.get(token.offset_from..token.offset_to).unwrap_or("");
            if loose.accepts(field_name, &token.text, surface) {
                terms.insert(token.text.clone(), 1.0);
            }
        }
    }
    if terms.is_empty() {
        return None;
    }
    Highlighter::new(terms, &[], BTreeSet::new(), tokenizer, max_chars).html(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_within_budget_and_prefixes_are_accepted() {
        let loose = LooseTerms {
            fuzzy: BTreeMap::from([("names".to_string(), vec![("smtih".to_string(), 1)])]),
            prefixes: vec!["rob".into()],
        };
        assert!(loose.accepts("names", "smith", "Smith"));
        assert!(!loose.accepts("names", "smythe", "Smythe"));
        assert!(!loose.accepts("body", "smith", "Smith"));
        assert!(loose.accepts("company", "robot", "Robotics"));
        assert!(!loose.accepts("body", "robot", "Robotics"));
    }
}
