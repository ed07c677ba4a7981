//! Search: the one engine behind `GET/POST /v1/search` and `rapport search`.
//! A request ([`request`]) is parsed ([`parse`]), turned into a tantivy query
//! ([`query`]) combined with its filters ([`filters`]), collected as records
//! or customer groups ([`grouping`]), rendered with snippets ([`hits`]), and
//! completed with facet counts ([`facets`]) and aggregations ([`aggs`]).
//! Also here: suggestions ([`suggest`]), synonyms ([`synonyms`]) and
//! `analyze` (the tokens a field's analyser produces, like Elasticsearch's
//! _analyze).
//!
//! It must never fail a search because part of the query did not parse: it
//! searches what it understood and says what it ignored.
//!
//! Its modules are `pub(crate)` except the three the property tests read
//! (`parse`, `range_syntax`, `request`); what callers outside the crate need
//! is re-exported below. `unreachable_pub` (denied with clippy's
//! `-D warnings`) keeps every other item `pub(crate)` or private.
#![warn(unreachable_pub)]

pub(crate) mod aggs;
mod cache_budgets;
pub(crate) mod caches;
pub(crate) mod conjunction;
pub(crate) mod corrected_union;
pub(crate) mod customer_set;
pub(crate) mod doc_ords;
pub(crate) mod facet_paths;
pub(crate) mod facets;
pub(crate) mod filter_cache;
pub(crate) mod filtered;
pub(crate) mod filters;
pub(crate) mod fragments;
pub(crate) mod fuzzy;
pub(crate) mod group_collector;
pub(crate) mod group_slots;
pub(crate) mod grouped_facets;
pub(crate) mod grouping;
pub(crate) mod highlight;
pub(crate) mod hits;
pub(crate) mod matching;
pub(crate) mod parallel;
pub mod parse;
pub(crate) mod phrase;
pub(crate) mod query;
pub mod range_syntax;
pub(crate) mod ranked;
pub mod request;
pub(crate) mod segment_cache;
pub(crate) mod snippet_window;
pub(crate) mod suggest;
pub(crate) mod synonyms;
pub(crate) mod top_groups;
mod value_queries;

use std::collections::BTreeMap;

use serde::Serialize;
use tantivy::query::Query;
use tantivy::tokenizer::TokenStream;

use self::facets::{FacetCounts, FacetValue};
use self::group_collector::Groups;
use self::grouped_facets::GroupsAndFacets;
use self::grouping::{Ranking, TopRecords};
use self::hits::{CustomerHit, Hit, Renderer};
use self::parse::Node;
use self::query::QueryBuilder;
pub use self::request::{
    AggLevel, Filter, Grouping, MAX_LIMIT, Order, SearchBody, SearchRequest, SortBy,
};
use super::{Analyzers, IndexError, SearchIndex};
use crate::schema::{FieldType, SchemaSpec};

/// A parsed query (none for an empty one), its warnings, and the filters as
/// queries.
type ParsedQuery = (Option<Node>, Vec<String>, Vec<filters::FieldQuery>);

#[derive(Debug, Serialize)]
pub struct SearchResponse {
    pub query: String,
    /// `customer` or `none`.
    pub group: &'static str,
    /// Number of matching records.
    pub total: usize,
    /// Number of matching customers (grouped mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_customers: Option<usize>,
    pub offset: usize,
    pub limit: usize,
    pub took_ms: f64,
    /// Matching records (`group=none`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hits: Option<Vec<Hit>>,
    /// Matching customers (`group=customer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customers: Option<Vec<CustomerHit>>,
    /// Facet counts by field; they count customers in grouped mode.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub facets: BTreeMap<String, Vec<FacetValue>>,
    /// What facet counts count: `customers` or `records`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facet_counts: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregations: Option<serde_json::Value>,
    /// Parts of the query that could not be understood and were ignored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
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
    #[error("parameter `q` is required: /v1/search?q=words (or `*` for every record)")]
    MissingQuery,
    #[error("parameter `q` is empty: give some words to search for (or `*` for every record)")]
    EmptyQuery,
    #[error("parameter `{name}` {message}")]
    BadParameter { name: String, message: String },
    #[error("{0}")]
    UnknownParameter(String),
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

/// `query` AND every filter except the one on `skip`, the filters as one
/// unscored docset read from the filter cache.
fn with_filters(
    query: &dyn Query,
    filters: &[filters::FieldQuery],
    skip: Option<&str>,
) -> Box<dyn Query> {
    let kept: Vec<_> = filters
        .iter()
        .filter(|(field, _)| Some(field.as_str()) != skip)
        .map(|(_, filter)| filter.clone())
        .collect();
    if kept.is_empty() {
        return query.box_clone();
    }
    Box::new(filtered::Filtered::new(
        query.box_clone(),
        filter_cache::AllFilters::new(kept),
    ))
}

impl SearchIndex {
    /// Whether `name` may be used as `name:value` in a query.
    fn is_query_field(&self, name: &str) -> bool {
        name.strip_prefix("attrs.").is_some_and(|p| !p.is_empty())
            || self.spec().field(name).is_some()
    }

    fn check_facet(&self, name: &str) -> Result<(), QueryError> {
        let ok = name.strip_prefix("attrs.").is_some_and(|p| !p.is_empty())
            || self.spec().field(name).is_some_and(|f| {
                f.fast && matches!(f.field_type, FieldType::Keyword | FieldType::Text)
            });
        if ok {
            return Ok(());
        }
        let known: Vec<&str> = self
            .spec()
            .fields
            .iter()
            .filter(|f| f.fast && matches!(f.field_type, FieldType::Keyword | FieldType::Text))
            .map(|f| f.name.as_str())
            .collect();
        Err(QueryError::BadParameter {
            name: "facets".into(),
            message: format!(
                "cannot count `{name}`; facet fields: {}, attrs.NAME",
                known.join(", ")
            ),
        })
    }

    /// The query as searched (synonym forms rewritten, `*` for nothing)
    /// parsed, with its warnings, and the filters as queries: shared by
    /// search and export, so that their counts agree.
    pub(super) fn parsed_query(
        &self,
        q: &str,
        filters: &BTreeMap<String, Filter>,
        scope: &BTreeMap<String, Filter>,
    ) -> Result<ParsedQuery, QueryError> {
        let text = if q.trim().is_empty() {
            "*".to_string()
        } else if self.synonyms.is_empty() {
            q.to_string()
        } else {
            self.synonyms.rewrite_syntax_forms(q)
        };
        let (root, warnings) =
            parse::parse(&text, &|name| self.is_query_field(name)).map_err(|e| {
                QueryError::BadParameter {
                    name: "q".into(),
                    message: e.to_string(),
                }
            })?;
        let mut filters = filters::filter_queries(self, filters)?;
        filters.extend(filters::scope_queries(self, scope)?);
        Ok((root, warnings, filters))
    }

    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, QueryError> {
        let span = tracing::info_span!(
            "search",
            q = %request.q,
            group = ?request.group,
            filters = request.filters.len(),
            facets = request.facets.len(),
            aggs = request.aggs.is_some()
        );
        let _entered = span.enter();
        let started = std::time::Instant::now();
        let cores = parallel::Cores::claim(&self.caches().pool);
        cores.run(|| {
            let _entered = span.enter();
            self.search_with(request, &cores, started)
        })
    }

    fn search_with(
        &self,
        request: &SearchRequest,
        cores: &parallel::Cores,
        started: std::time::Instant,
    ) -> Result<SearchResponse, QueryError> {
        request.check()?;
        for facet in &request.facets {
            self.check_facet(facet)?;
        }
        let (root, mut warnings, filters) =
            self.parsed_query(&request.q, &request.filters, &request.scope)?;
        let searcher = self.reader().searcher();
        let ranking = Ranking {
            sort: request.sort,
            order: request.order,
            boost_recent: request.boost_recent,
            now_secs: chrono::Utc::now().timestamp(),
        };

        // Facets of fields without a filter of their own are counted in the
        // same pass over the matches as the results.
        let by_customer = request.group == Grouping::Customer;
        let (selected, shared): (Vec<&String>, Vec<&String>) = request
            .facets
            .iter()
            .partition(|f| request.filters.contains_key(f.as_str()));
        // Built once per set of segments, then shared: merges customer
        // groups across segments and counts grouped facets.
        let caches = self.caches();
        let customer_numbers = by_customer.then(|| caches.segments.customer_numbers(&searcher));
        // Only customer-level aggregations need every group; otherwise each
        // piece hands on its best `offset + limit` groups (`top_groups`).
        let every_group = (request.aggs.is_some() && request.aggs_level == AggLevel::Customers)
            || crate::test_hooks::every_group();
        let keep = (!every_group).then_some(request.offset + request.limit);
        let groups_collector = |keep: Option<usize>| Groups {
            ranking,
            customers: customer_numbers.clone(),
            caches: caches.clone(),
            keep,
        };
        let shared_facets = || FacetCounts {
            fields: shared.iter().map(|s| s.to_string()).collect(),
            customers: customer_numbers.clone(),
            caches: caches.clone(),
        };
        let mut shared_counts = None;

        let mut built = QueryBuilder::new(self, &self.synonyms, true).build(root.as_ref());

        let mut query = with_filters(&*built.query, &filters, None);
        let mut groups = None;
        let mut records = None;
        for attempt in 0..2 {
            let found = match request.group {
                Grouping::Customer => {
                    let collector = groups_collector(keep);
                    let fruit = if shared.is_empty() {
                        cores.search(&searcher, &*query, &collector)?
                    } else {
                        let (fruit, counts) = cores.search(
                            &searcher,
                            &*query,
                            &GroupsAndFacets {
                                groups: groups_collector(keep),
                                facets: shared_facets(),
                            },
                        )?;
                        shared_counts = Some(counts);
                        fruit
                    };
                    let page = collector.page(fruit, &searcher, request.offset, request.limit);
                    let empty = page.customers == 0;
                    groups = Some(page);
                    empty
                }
                Grouping::None => {
                    let n = request.offset + request.limit;
                    let (top, total) = if shared.is_empty() {
                        cores.search(
                            &searcher,
                            &*query,
                            &TopRecords {
                                ranking,
                                n,
                                segments: caches.segments.clone(),
                            },
                        )?
                    } else {
                        let (top, counts) = cores.search(
                            &searcher,
                            &*query,
                            &(
                                TopRecords {
                                    ranking,
                                    n,
                                    segments: caches.segments.clone(),
                                },
                                shared_facets(),
                            ),
                        )?;
                        shared_counts = Some(counts);
                        top
                    };
                    records = Some((top, total));
                    total == 0
                }
            };
            // Meilisearch's "last" strategy, simplified: when no record has
            // every word, show the records that have some.
            if attempt == 0 && found && matches!(root, Some(Node::And(_))) {
                built = QueryBuilder::new(self, &self.synonyms, false).build(root.as_ref());
                query = with_filters(&*built.query, &filters, None);
                warnings.push(
                    "no record matched every word: showing records that match some of them".into(),
                );
                continue;
            }
            break;
        }
        warnings.append(&mut built.warnings);

        let renderer = Renderer::new(self, &searcher, &built, cores);
        let mut response = SearchResponse {
            query: request.q.clone(),
            group: match request.group {
                Grouping::Customer => "customer",
                Grouping::None => "none",
            },
            total: 0,
            total_customers: None,
            offset: request.offset,
            limit: request.limit,
            took_ms: 0.0,
            hits: None,
            customers: None,
            facets: BTreeMap::new(),
            facet_counts: None,
            aggregations: None,
            warnings,
        };
        if let Some((top, total)) = &records {
            response.total = *total;
            let page: Vec<_> = top.iter().skip(request.offset).copied().collect();
            response.hits = Some(renderer.hits(&page)?);
        }
        if let Some(page) = &groups {
            response.total = page.records;
            response.total_customers = Some(page.customers);
            let page = cores
                .map(&page.shown, |g| renderer.customer(g))
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?;
            response.customers = Some(page);
        }

        if !request.facets.is_empty() {
            response.facet_counts = Some(if by_customer { "customers" } else { "records" });
            if let Some(counts) = &shared_counts {
                for (i, field) in shared.iter().enumerate() {
                    response
                        .facets
                        .insert(field.to_string(), counts.top(i, request.facet_size));
                }
            }
            for field in selected {
                // Disjunctive: this field's own filter is left out, so the
                // selected value's siblings keep their counts.
                let without = with_filters(&*built.query, &filters, Some(field));
                let counts = cores.search(
                    &searcher,
                    &*without,
                    &FacetCounts {
                        fields: vec![field.clone()],
                        customers: customer_numbers.clone(),
                        caches: caches.clone(),
                    },
                )?;
                response
                    .facets
                    .insert(field.clone(), counts.top(0, request.facet_size));
            }
        }

        if let Some(aggs) = &request.aggs {
            response.aggregations = Some(match request.aggs_level {
                AggLevel::Records => aggs::record_aggs(self, &searcher, &*query, aggs)?,
                AggLevel::Customers => {
                    let all = match groups.as_mut().and_then(|page| page.all.take()) {
                        Some(all) => all,
                        None => {
                            cores
                                .search(&searcher, &*query, &groups_collector(None))?
                                .groups
                        }
                    };
                    let best: Vec<_> = all
                        .iter()
                        .filter_map(|g| g.top().first().map(|t| t.address))
                        .collect();
                    aggs::records_aggs(self, &searcher, &best, aggs)?
                }
            });
        }
        response.took_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::debug!(
            total = response.total,
            took_ms = response.took_ms,
            "search done"
        );
        Ok(response)
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
