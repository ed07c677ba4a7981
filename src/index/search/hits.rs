//! What a returned record looks like: its ids and title, its sort key,
//! highlighted snippets (`<mark>`), and the fields its match came from; and
//! the customer groups built from such records.
//!
//! It must never run a search of its own over the whole index: it only reads
//! the documents of the page being returned and checks them against the
//! per-field clauses the query builder recorded.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Serialize;
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::schema::Value;
use tantivy::{DocAddress, DocSet, Searcher, TantivyDocument};

use super::QueryError;
use super::fragments::Highlighter;
use super::highlight::{LooseTerms, loose_snippet};
use super::parallel::Cores;
use super::query::Built;
use super::ranked::Ranked;
use super::snippet_window::{self, Needles};
use crate::index::SearchIndex;

/// Fields whose snippets are shown with hits, in this order.
const SNIPPET_FIELDS: &[&str] = &["title", "body", "names", "company", "customer_name"];
const SNIPPET_CHARS: usize = 160;
/// Bytes within which the query's terms count as one place of a long text
/// (a fragment of English; a third of one in Japanese).
const SNIPPET_SPAN_BYTES: usize = SNIPPET_CHARS;

#[derive(Debug, Serialize)]
pub struct Hit {
    pub id: String,
    pub kind: String,
    pub source: String,
    pub external_id: String,
    pub customer_id: Option<String>,
    pub person_id: Option<String>,
    pub org_id: Option<String>,
    pub title: Option<String>,
    pub score: f64,
    /// Highlighted fragments (HTML, matches in `<mark>`) by field.
    pub snippets: BTreeMap<String, String>,
    /// The fields the query matched in this record.
    pub matched_fields: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CustomerHit {
    /// The customer's id; `null` for a record that belongs to no customer.
    pub customer_id: Option<String>,
    /// The customer id, or the record id of a record without a customer.
    pub key: String,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub country: Option<String>,
    /// The sort key of the customer's best record.
    pub score: f64,
    pub matching_records: usize,
    /// The best matching records (at most 3).
    pub records: Vec<Hit>,
}

/// Every value of `field` in `doc`, joined by spaces (as the snippet
/// generator reads them).
fn all_text(doc: &TantivyDocument, field: tantivy::schema::Field) -> String {
    let mut text = String::new();
    for value in doc.get_all(field) {
        if let Some(s) = value.as_str() {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(s);
        }
    }
    text
}

/// The words `clauses` search in `field` on their own (not in a phrase).
fn single_terms(
    clauses: Option<&Vec<Box<dyn Query>>>,
    field: tantivy::schema::Field,
) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for clause in clauses.into_iter().flatten() {
        clause.query_terms(&mut |term, in_phrase| {
            if !in_phrase
                && term.field() == field
                && let Some(text) = term.value().as_str()
            {
                out.insert(text.to_string());
            }
        });
    }
    out
}

/// The terms of `query` in `field` that some document holds, each weighed
/// as tantivy's `SnippetGenerator::create` weighs it (rarer is heavier).
fn highlighted_terms(
    searcher: &Searcher,
    query: &dyn Query,
    field: tantivy::schema::Field,
) -> BTreeMap<String, f32> {
    let mut terms = std::collections::BTreeSet::new();
    query.query_terms(&mut |term, _| {
        if term.field() == field {
            terms.insert(term.clone());
        }
    });
    terms
        .into_iter()
        .filter_map(|term| {
            let text = term.value().as_str()?.to_string();
            let doc_freq = searcher.doc_freq(&term).ok()?;
            (doc_freq > 0).then(|| (text, 1.0 / (1.0 + doc_freq as f32)))
        })
        .collect()
}

/// Renders hits for one response (snippet generators and per-field weights
/// are built once and shared by all of its hits).
pub(crate) struct Renderer<'a> {
    index: &'a SearchIndex,
    searcher: &'a Searcher,
    /// Per snippet field: what to mark, and its terms as substrings to
    /// find in long texts (built when a long text needs them).
    generators: Vec<(String, Highlighter, OnceLock<Option<Needles>>)>,
    loose: LooseTerms,
    exact: Vec<(String, Vec<Box<dyn Weight>>)>,
    fuzzy: Vec<(String, Vec<Box<dyn Weight>>)>,
    cores: &'a Cores,
}

/// Each field's recorded clauses, as unscored weights.
fn weights(
    searcher: &Searcher,
    by_field: &BTreeMap<String, Vec<Box<dyn Query>>>,
) -> Vec<(String, Vec<Box<dyn Weight>>)> {
    by_field
        .iter()
        .map(|(field, clauses)| {
            let weights = clauses
                .iter()
                .filter_map(|c| {
                    c.weight(EnableScoring::disabled_from_searcher(searcher))
                        .ok()
                })
                .collect();
            (field.clone(), weights)
        })
        .collect()
}

impl<'a> Renderer<'a> {
    pub(crate) fn new(
        index: &'a SearchIndex,
        searcher: &'a Searcher,
        built: &Built,
        cores: &'a Cores,
    ) -> Renderer<'a> {
        // The clauses recorded per field name the terms to highlight (the
        // query itself may find a phrase through its pairs field instead).
        let highlighted = tantivy::query::BooleanQuery::union(
            built
                .by_field
                .values()
                .flatten()
                .map(|c| c.box_clone())
                .collect(),
        );
        let generators = SNIPPET_FIELDS
            .iter()
            .filter_map(|name| {
                let field = index.field(name)?;
                let terms = highlighted_terms(searcher, &highlighted, field);
                let analyzer = searcher.index().tokenizer_for_field(field).ok()?;
                let phrases = built.phrases.get(*name).map(Vec::as_slice).unwrap_or(&[]);
                let singles = single_terms(built.by_field.get(*name), field);
                let highlighter =
                    Highlighter::new(terms, phrases, singles, analyzer, SNIPPET_CHARS);
                Some((name.to_string(), highlighter, OnceLock::new()))
            })
            .collect();
        Renderer {
            index,
            searcher,
            generators,
            loose: built.loose.clone(),
            exact: weights(searcher, &built.by_field),
            fuzzy: weights(searcher, &built.fuzzy_by_field),
            cores,
        }
    }

    /// The fields of `weights` that match each of `addresses`. Each clause
    /// is checked by its own scorer, moved from one hit of a segment to the
    /// next: a term seeks through its skip list, where a union of the
    /// field's clauses would fill a window of 4,096 documents from every
    /// clause at each hit.
    fn matched(
        &self,
        weights: &[(String, Vec<Box<dyn Weight>>)],
        addresses: &[DocAddress],
    ) -> HashMap<DocAddress, Vec<String>> {
        let mut out: HashMap<DocAddress, Vec<String>> = HashMap::new();
        let mut sorted = addresses.to_vec();
        sorted.sort();
        for (field, clauses) in weights {
            let mut found: Vec<DocAddress> = Vec::new();
            for weight in clauses {
                let mut current: Option<(u32, Box<dyn tantivy::query::Scorer>)> = None;
                for address in &sorted {
                    if found.contains(address) {
                        continue;
                    }
                    if current.as_ref().map(|c| c.0) != Some(address.segment_ord) {
                        let reader = self.searcher.segment_reader(address.segment_ord);
                        current = weight
                            .scorer(reader, 1.0)
                            .ok()
                            .map(|s| (address.segment_ord, s));
                    }
                    if let Some((_, scorer)) = current.as_mut()
                        && scorer.doc() <= address.doc_id
                        && scorer.seek(address.doc_id) == address.doc_id
                    {
                        found.push(*address);
                    }
                }
            }
            for address in found {
                out.entry(address).or_default().push(field.clone());
            }
        }
        out
    }

    pub(crate) fn hits(&self, found: &[Ranked]) -> Result<Vec<Hit>, QueryError> {
        let addresses: Vec<DocAddress> = found.iter().map(|f| f.address).collect();
        let mut matched = self.matched(&self.exact, &addresses);
        let unmatched: Vec<DocAddress> = addresses
            .iter()
            .filter(|a| !matched.contains_key(a))
            .copied()
            .collect();
        if !unmatched.is_empty() && !self.fuzzy.is_empty() {
            matched.extend(self.matched(&self.fuzzy, &unmatched));
        }
        // Reading the documents and cutting their snippets is most of the
        // work: it is spread over the cores this search may use.
        self.cores
            .map(found, |ranked| {
                let doc: TantivyDocument = self.searcher.doc(ranked.address)?;
                let fields = matched.get(&ranked.address).cloned().unwrap_or_default();
                Ok(self.hit(&doc, ranked.key, fields))
            })
            .into_iter()
            .collect()
    }

    pub(crate) fn text(&self, doc: &TantivyDocument, name: &str) -> Option<String> {
        let field = self.index.field(name)?;
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    fn hit(&self, doc: &TantivyDocument, score: f64, mut matched_fields: Vec<String>) -> Hit {
        let mut snippets = BTreeMap::new();
        // Only fields the query matched can have something to highlight;
        // analysing the others again would be wasted time.
        for (name, highlighter, needles) in self
            .generators
            .iter()
            .filter(|(name, _, _)| matched_fields.contains(name))
        {
            let Some(field) = self.index.field(name) else {
                continue;
            };
            let text = all_text(doc, field);
            let needles = || {
                needles
                    .get_or_init(|| Needles::new(highlighter.terms()))
                    .as_ref()
            };
            let part = snippet_window::for_terms(&text, needles, SNIPPET_SPAN_BYTES);
            if let Some(html) = highlighter.html(part) {
                snippets.insert(name.clone(), html);
            }
        }
        if snippets.is_empty() && !self.loose.is_empty() {
            // Matched only by a corrected word or a prefix: highlight those.
            for (name, _, _) in &self.generators {
                if !self.loose.applies_to(name) {
                    continue;
                }
                let Some(field) = self.index.field(name) else {
                    continue;
                };
                let text = all_text(doc, field);
                let html = snippet_window::for_loose(&text)
                    .into_iter()
                    .find_map(|part| {
                        loose_snippet(self.searcher, field, name, part, &self.loose, SNIPPET_CHARS)
                    });
                if let Some(html) = html {
                    snippets.insert(name.clone(), html);
                    matched_fields.push(name.clone());
                }
            }
        }
        matched_fields.sort();
        matched_fields.dedup();
        Hit {
            id: self.text(doc, "id").unwrap_or_default(),
            kind: self.text(doc, "kind").unwrap_or_default(),
            source: self.text(doc, "source").unwrap_or_default(),
            external_id: self.text(doc, "external_id").unwrap_or_default(),
            customer_id: self.text(doc, "customer_id"),
            person_id: self.text(doc, "person_id"),
            org_id: self.text(doc, "org_id"),
            title: self.text(doc, "title"),
            score: if score.is_finite() { score } else { 0.0 },
            snippets,
            matched_fields,
        }
    }

    /// A customer group with its golden fields from its best record.
    pub(crate) fn customer(
        &self,
        group: &super::grouping::Group,
    ) -> Result<CustomerHit, QueryError> {
        let records = self.hits(group.top())?;
        let best: Option<TantivyDocument> = match group.top().first() {
            Some(ranked) => Some(self.searcher.doc(ranked.address)?),
            None => None,
        };
        let field = |golden: &str, own: &str| {
            best.as_ref().and_then(|d| {
                self.text(d, golden)
                    .or_else(|| (!group.is_customer).then(|| self.text(d, own)).flatten())
            })
        };
        let name = field("customer_name", "title").or_else(|| {
            best.as_ref()
                .and_then(|d| self.text(d, "names").or_else(|| self.text(d, "company")))
        });
        Ok(CustomerHit {
            customer_id: group.is_customer.then(|| group.key.clone()),
            key: group.key.clone(),
            name,
            kind: field("customer_kind", "kind"),
            country: field("customer_country", "country"),
            score: if group.best().is_finite() {
                group.best()
            } else {
                0.0
            },
            matching_records: group.count,
            records,
        })
    }
}
