//! Completions of customer, person and company names (and the variants a
//! record lists) from their first characters, in English and Japanese,
//! through the `suggest` field's prefixes of whole values and of each word.
//!
//! It must never return a name that does not start with (or have a word that
//! starts with) what was typed, and never the same name twice.

use std::collections::HashSet;

use serde::Serialize;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{TantivyDocument, Term};

use std::collections::BTreeMap;

use super::QueryError;
use super::grouping::{Ranking, TopRecords};
use super::request::Filter;
use super::request::{Order, SortBy};
use crate::index::SearchIndex;
use crate::index::extra_tokenizers::normalize_for_prefix;

pub(crate) const MAX_SUGGESTIONS: usize = 50;
/// Records read to find distinct names.
const CANDIDATE_RECORDS: usize = 64;

#[derive(Debug, Serialize)]
pub struct Suggestion {
    pub text: String,
    /// `customer`, `person` or `company`.
    pub kind: &'static str,
    pub customer_id: Option<String>,
    pub record_id: String,
}

#[derive(Debug, Serialize)]
pub struct SuggestResponse {
    pub q: String,
    pub took_ms: f64,
    pub suggestions: Vec<Suggestion>,
}

impl SearchIndex {
    /// Names starting with `q`, from records within `scope` (the caller's
    /// row-level scope; empty: every record).
    pub fn suggest(
        &self,
        q: &str,
        limit: usize,
        scope: &BTreeMap<String, Filter>,
    ) -> Result<SuggestResponse, QueryError> {
        let _span = tracing::info_span!("suggest", q = %q, limit).entered();
        let started = std::time::Instant::now();
        let folded = normalize_for_prefix(q);
        if folded.is_empty() {
            return Err(QueryError::BadParameter {
                name: "q".into(),
                message: "is empty: give the first characters of a name".into(),
            });
        }
        if limit == 0 || limit > MAX_SUGGESTIONS {
            return Err(QueryError::BadParameter {
                name: "limit".into(),
                message: format!("must be between 1 and {MAX_SUGGESTIONS}, got {limit}"),
            });
        }
        let Some(field) = self.field("suggest") else {
            return Ok(SuggestResponse {
                q: q.to_string(),
                took_ms: 0.0,
                suggestions: Vec::new(),
            });
        };
        let term = |t: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::WithFreqs,
            ))
        };
        let words: Vec<&str> = folded.split(' ').collect();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, term(&folded))];
        if words.len() > 1 {
            let all = BooleanQuery::new(words.iter().map(|w| (Occur::Must, term(w))).collect());
            clauses.push((Occur::Should, Box::new(all)));
        }
        let query = super::with_filters(
            &BooleanQuery::new(clauses),
            &super::filters::scope_queries(self, scope)?,
            None,
        );
        let searcher = self.reader().searcher();
        // By score, equal scores in the order the records were written
        // (tantivy's `TopDocs` would order them by segment and document).
        let by_score = TopRecords {
            ranking: Ranking {
                sort: SortBy::Relevance,
                order: Order::Desc,
                boost_recent: false,
                now_secs: 0,
            },
            n: CANDIDATE_RECORDS,
            segments: self.caches().segments.clone(),
        };
        let (top, _) = searcher.search(&query, &by_score)?;
        let mut prefixes = self.analyzers().prefix_tokenizer();
        // The whole typed text, then each of its words.
        let wanted: Vec<&str> = std::iter::once(folded.as_str())
            .chain(words.iter().copied())
            .collect();
        let mut seen = HashSet::new();
        let mut suggestions = Vec::new();
        for ranked in top {
            let doc: TantivyDocument = searcher.doc(ranked.address)?;
            let text = |name: &str| -> Vec<String> {
                self.field(name)
                    .map(|f| {
                        doc.get_all(f)
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let customer_id = text("customer_id").into_iter().next();
            let record_id = text("id").into_iter().next().unwrap_or_default();
            let is_org = text("kind").first().map(String::as_str) == Some("organization");
            let name_kind = if is_org { "company" } else { "person" };
            let candidates = text("customer_name")
                .into_iter()
                .map(|t| (t, "customer"))
                .chain(text("names").into_iter().map(|t| (t, name_kind)))
                .chain(text("company").into_iter().map(|t| (t, "company")));
            for (candidate, kind) in candidates {
                let found = prefixes.emits(&candidate, &wanted);
                let matches = found[0] || found[1..].iter().all(|hit| *hit);
                if matches && seen.insert(normalize_for_prefix(&candidate)) {
                    suggestions.push(Suggestion {
                        text: candidate,
                        kind,
                        customer_id: customer_id.clone(),
                        record_id: record_id.clone(),
                    });
                }
            }
            if suggestions.len() >= limit {
                break;
            }
        }
        suggestions.truncate(limit);
        Ok(SuggestResponse {
            q: q.to_string(),
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
            suggestions,
        })
    }
}
