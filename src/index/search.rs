//! Queries against the index: free-text search with field boosts from the
//! schema file, paging, highlighted snippets, and `analyze` (the tokens a
//! field's analyser produces, like Elasticsearch's _analyze).
//!
//! It must never fail a search because part of the query did not parse: it
//! searches what it understood and says what it ignored.

use std::collections::BTreeMap;

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::QueryParser;
use tantivy::schema::Value;
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TokenStream;
use tantivy::{DocAddress, Searcher, TantivyDocument};

use super::{Analyzers, IndexError, SearchIndex};
use crate::schema::{FieldType, SchemaSpec};

/// Fields whose snippets are shown with hits, in this order.
const SNIPPET_FIELDS: &[&str] = &["title", "body", "names", "company"];
const SNIPPET_CHARS: usize = 160;
pub const MAX_LIMIT: usize = 1000;

#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub q: String,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Serialize)]
pub struct SearchResponse {
    pub query: String,
    /// Number of matching records.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub took_ms: f64,
    pub hits: Vec<Hit>,
    /// Parts of the query that could not be understood and were ignored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Hit {
    pub id: String,
    pub kind: String,
    pub source: String,
    pub external_id: String,
    pub customer_id: Option<String>,
    pub title: Option<String>,
    pub score: f32,
    /// Highlighted fragments (HTML, matches in `<mark>`) by field.
    pub snippets: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct AnalyzedToken {
    pub token: String,
    pub start: usize,
    pub end: usize,
    pub position: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("parameter `q` is empty: give some words to search for")]
    EmptyQuery,
    #[error("parameter `limit` must be between 1 and {MAX_LIMIT}, got {0}")]
    BadLimit(usize),
    #[error("unknown field `{0}`; fields with text: {1}")]
    UnknownField(String, String),
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl From<tantivy::TantivyError> for QueryError {
    fn from(e: tantivy::TantivyError) -> Self {
        QueryError::Index(IndexError::Tantivy(e))
    }
}

impl SearchIndex {
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, QueryError> {
        let started = std::time::Instant::now();
        let q = request.q.trim();
        if q.is_empty() {
            return Err(QueryError::EmptyQuery);
        }
        if request.limit == 0 || request.limit > MAX_LIMIT {
            return Err(QueryError::BadLimit(request.limit));
        }
        let mut defaults = Vec::new();
        let mut boosts = Vec::new();
        for spec in self.spec().fields.iter().filter(|f| f.search) {
            if let Some(field) = self.field(&spec.name) {
                defaults.push(field);
                boosts.push((field, spec.boost.unwrap_or(1.0)));
            }
        }
        let mut parser = QueryParser::for_index(self.tantivy(), defaults);
        for (field, boost) in boosts {
            parser.set_field_boost(field, boost);
        }
        let (query, errors) = parser.parse_query_lenient(q);
        let warnings = errors.iter().map(|e| format!("ignored: {e}")).collect();

        let searcher = self.reader().searcher();
        let top = TopDocs::with_limit(request.limit)
            .and_offset(request.offset)
            .order_by_score();
        let (docs, total) = searcher.search(&query, &(top, Count))?;

        let generators: Vec<(String, SnippetGenerator)> = SNIPPET_FIELDS
            .iter()
            .filter_map(|name| {
                let field = self.field(name)?;
                let mut generator = SnippetGenerator::create(&searcher, &*query, field).ok()?;
                generator.set_max_num_chars(SNIPPET_CHARS);
                Some((name.to_string(), generator))
            })
            .collect();
        let hits = docs
            .into_iter()
            .map(|(score, address)| self.hit(&searcher, score, address, &generators))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SearchResponse {
            query: request.q.clone(),
            total,
            offset: request.offset,
            limit: request.limit,
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
            hits,
            warnings,
        })
    }

    fn hit(
        &self,
        searcher: &Searcher,
        score: f32,
        address: DocAddress,
        generators: &[(String, SnippetGenerator)],
    ) -> Result<Hit, QueryError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |name: &str| -> Option<String> {
            let field = self.field(name)?;
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let mut snippets = BTreeMap::new();
        for (name, generator) in generators {
            let mut snippet = generator.snippet_from_doc(&doc);
            if !snippet.highlighted().is_empty() {
                snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
                snippets.insert(name.clone(), snippet.to_html());
            }
        }
        Ok(Hit {
            id: text("id").unwrap_or_default(),
            kind: text("kind").unwrap_or_default(),
            source: text("source").unwrap_or_default(),
            external_id: text("external_id").unwrap_or_default(),
            customer_id: text("customer_id"),
            title: text("title"),
            score,
            snippets,
        })
    }

    /// The tokens `field`'s analyser produces for `text`.
    pub fn analyze(&self, field: &str, text: &str) -> Result<Vec<AnalyzedToken>, QueryError> {
        analyze(self.spec(), self.analyzers(), field, text)
    }
}

/// The tokens the analyser of the schema field `field` produces for `text`.
pub fn analyze(
    spec: &SchemaSpec,
    analyzers: &Analyzers,
    field: &str,
    text: &str,
) -> Result<Vec<AnalyzedToken>, QueryError> {
    let analyzer_kind = spec
        .field(field)
        .filter(|f| {
            !matches!(
                f.field_type,
                FieldType::F64 | FieldType::I64 | FieldType::Date
            )
        })
        .and_then(|f| f.analyzer())
        .ok_or_else(|| {
            let names: Vec<&str> = spec
                .fields
                .iter()
                .filter(|f| f.analyzer().is_some())
                .map(|f| f.name.as_str())
                .collect();
            QueryError::UnknownField(field.to_string(), names.join(", "))
        })?;
    let mut analyzer = analyzers.analyzer(analyzer_kind);
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        let t = stream.token();
        tokens.push(AnalyzedToken {
            token: t.text.clone(),
            start: t.offset_from,
            end: t.offset_to,
            position: t.position,
        });
    }
    Ok(tokens)
}
