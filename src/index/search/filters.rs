//! Filters: equality, lists and ranges on any indexed field (keyword, text,
//! number, date), on the customer's golden fields copied onto records, and on
//! loose attributes (`attrs.plan`). Values are analysed like the field's
//! values, so `country=jp` matches `JP`.
//!
//! It must never ignore a filter it cannot apply: a bad field or value is a
//! [`QueryError::BadParameter`] naming `filter.FIELD`, because a silently
//! dropped filter shows wrong numbers on a dashboard.

use std::collections::BTreeMap;
use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;

use super::QueryError;
use super::filter_cache::CachedFilter;
use super::request::Filter;
use super::value_queries::{attrs_query, exact_value_query};
use crate::index::SearchIndex;
use crate::normalize::parse_date;
use crate::schema::{FieldType, TokenizerKind};

fn bad(field: &str, message: String) -> QueryError {
    QueryError::BadParameter {
        name: format!("filter.{field}"),
        message,
    }
}

/// A filter's field name and its query, read through the filter cache.
pub(crate) type FieldQuery = (String, CachedFilter);

/// One query per filter, keyed by field name (facets leave out their own).
/// Each is read through the filter cache: evaluated once per segment, and
/// not scored (Elasticsearch's filter context).
pub(crate) fn filter_queries(
    index: &SearchIndex,
    filters: &BTreeMap<String, Filter>,
) -> Result<Vec<FieldQuery>, QueryError> {
    filters
        .iter()
        .map(|(field, filter)| {
            // A list means any of its values: in one order, `JP,US` and
            // `US,JP` are one query and one filter-cache entry.
            let query = match filter {
                Filter::Values(values) => {
                    let mut values = values.clone();
                    values.sort();
                    values.dedup();
                    filter_query(index, field, &Filter::Values(values))?
                }
                range => filter_query(index, field, range)?,
            };
            Ok((
                field.clone(),
                CachedFilter::new(field, query, &index.caches().filters),
            ))
        })
        .collect()
}

/// The filters of a caller's scope, named `scope:FIELD` so that a facet's
/// disjunctive count (which leaves out the facet's own filter by name)
/// never leaves one out.
pub(crate) fn scope_queries(
    index: &SearchIndex,
    scope: &BTreeMap<String, Filter>,
) -> Result<Vec<FieldQuery>, QueryError> {
    Ok(filter_queries(index, scope)?
        .into_iter()
        .map(|(field, query)| (format!("scope:{field}"), query))
        .collect())
}

/// The query for one filter on `name` (also used for ranges typed in `q`).
pub(crate) fn filter_query(
    index: &SearchIndex,
    name: &str,
    filter: &Filter,
) -> Result<Box<dyn Query>, QueryError> {
    if let Some(path) = name.strip_prefix("attrs.") {
        return attrs_filter(index, path, filter);
    }
    let spec = index.spec().field(name).ok_or_else(|| {
        let known: Vec<&str> = index
            .spec()
            .fields
            .iter()
            .filter(|f| f.field_type != FieldType::Json)
            .map(|f| f.name.as_str())
            .collect();
        bad(
            name,
            format!(
                "unknown field `{name}`; filterable: {}, attrs.NAME",
                known.join(", ")
            ),
        )
    })?;
    let field = index
        .field(name)
        .ok_or_else(|| bad(name, format!("unknown field `{name}`")))?;
    match (spec.field_type, filter) {
        (FieldType::Text | FieldType::Keyword, Filter::Values(values)) => {
            let kind = spec.analyzer().unwrap_or(TokenizerKind::Keyword);
            let mut analyzer = index.analyzers().analyzer(kind);
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for value in values {
                let mut stream = analyzer.token_stream(value);
                let mut tokens = Vec::new();
                while let Some(t) = stream.next() {
                    tokens.push(t.text.clone());
                }
                let q: Box<dyn Query> = match tokens.len() {
                    0 => continue,
                    1 => Box::new(TermQuery::new(
                        Term::from_field_text(field, &tokens[0]),
                        IndexRecordOption::Basic,
                    )),
                    _ => Box::new(PhraseQuery::new(
                        tokens
                            .iter()
                            .map(|t| Term::from_field_text(field, t))
                            .collect(),
                    )),
                };
                clauses.push((Occur::Should, q));
            }
            if clauses.is_empty() {
                return Err(bad(name, "needs at least one value".into()));
            }
            Ok(Box::new(BooleanQuery::new(clauses)))
        }
        (FieldType::F64 | FieldType::I64 | FieldType::Date, Filter::Values(values)) => {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for value in values {
                let q = exact_value_query(field, spec.field_type, value).ok_or_else(|| {
                    bad(
                        name,
                        format!(
                            "`{value}` is not a valid {} value",
                            type_name(spec.field_type)
                        ),
                    )
                })?;
                clauses.push((Occur::Should, q));
            }
            if clauses.is_empty() {
                return Err(bad(name, "needs at least one value".into()));
            }
            Ok(Box::new(BooleanQuery::new(clauses)))
        }
        (FieldType::F64 | FieldType::I64 | FieldType::Date, Filter::Range { gte, gt, lte, lt }) => {
            let term = |raw: &str| -> Result<Term, QueryError> {
                let invalid = || {
                    bad(
                        name,
                        format!(
                            "`{raw}` is not a valid {} value",
                            type_name(spec.field_type)
                        ),
                    )
                };
                Ok(match spec.field_type {
                    FieldType::F64 => {
                        Term::from_field_f64(field, raw.trim().parse().map_err(|_| invalid())?)
                    }
                    FieldType::I64 => {
                        Term::from_field_i64(field, raw.trim().parse().map_err(|_| invalid())?)
                    }
                    _ => Term::from_field_date(
                        field,
                        tantivy::DateTime::from_timestamp_secs(
                            parse_date(raw).map_err(|_| invalid())?.timestamp(),
                        ),
                    ),
                })
            };
            let lower = match (gte, gt) {
                (Some(v), _) => Bound::Included(term(v)?),
                (None, Some(v)) => Bound::Excluded(term(v)?),
                _ => Bound::Unbounded,
            };
            let upper = match (lte, lt) {
                (Some(v), _) if spec.field_type == FieldType::Date && v.trim().len() == 10 => {
                    // A bare end date includes that whole day.
                    let day = parse_date(v)
                        .map_err(|_| bad(name, format!("`{v}` is not a valid date")))?;
                    Bound::Excluded(Term::from_field_date(
                        field,
                        tantivy::DateTime::from_timestamp_secs(day.timestamp() + 86_400),
                    ))
                }
                (Some(v), _) => Bound::Included(term(v)?),
                (None, Some(v)) => Bound::Excluded(term(v)?),
                _ => Bound::Unbounded,
            };
            // `[* TO *]` and `..` mean "has a value". tantivy's RangeQuery
            // takes its field from a bound (and panics without one), so the
            // open low end becomes the type's lowest value.
            let lower = match (lower, &upper) {
                (Bound::Unbounded, Bound::Unbounded) => {
                    Bound::Included(lowest_value(field, spec.field_type))
                }
                (lower, _) => lower,
            };
            Ok(Box::new(RangeQuery::new(lower, upper)))
        }
        (FieldType::Json, _) => Err(bad(name, "filter a loose attribute as attrs.NAME".into())),
        (_, Filter::Range { .. }) => Err(bad(
            name,
            format!(
                "ranges apply to number and date fields; `{name}` is a {}",
                type_name(spec.field_type)
            ),
        )),
    }
}

/// The lowest value a number or date field can hold, as a range bound.
fn lowest_value(field: tantivy::schema::Field, t: FieldType) -> Term {
    match t {
        FieldType::F64 => Term::from_field_f64(field, f64::NEG_INFINITY),
        FieldType::I64 => Term::from_field_i64(field, i64::MIN),
        _ => Term::from_field_date(field, tantivy::DateTime::MIN),
    }
}

fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Text => "text",
        FieldType::Keyword => "keyword",
        FieldType::F64 | FieldType::I64 => "number",
        FieldType::Date => "date (e.g. 2024-05-20)",
        FieldType::Json => "json",
    }
}

fn attrs_filter(
    index: &SearchIndex,
    path: &str,
    filter: &Filter,
) -> Result<Box<dyn Query>, QueryError> {
    let name = format!("attrs.{path}");
    let field = index
        .field("attrs")
        .ok_or_else(|| bad(&name, "this schema has no attrs field".into()))?;
    match filter {
        Filter::Values(values) => {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for value in values {
                let q = attrs_query(index, field, path, value)
                    .map_err(|m| bad(&name, m.to_string()))?;
                clauses.push((Occur::Should, q));
            }
            if clauses.is_empty() {
                return Err(bad(&name, "needs at least one value".into()));
            }
            Ok(Box::new(BooleanQuery::new(clauses)))
        }
        Filter::Range { gte, gt, lte, lt } => {
            let (open, low) = match (gte, gt) {
                (Some(v), _) => ("[", v.as_str()),
                (None, Some(v)) => ("{", v.as_str()),
                _ => ("[", "*"),
            };
            let (high, close) = match (lte, lt) {
                (Some(v), _) => (v.as_str(), "]"),
                (None, Some(v)) => (v.as_str(), "}"),
                _ => ("*", "]"),
            };
            let parser = QueryParser::for_index(index.tantivy(), vec![field]);
            let parse = |range: String| {
                parser
                    .parse_query(&range)
                    .map_err(|e| bad(&name, format!("bad range: {e}")))
            };
            // One bound per range query: tantivy 0.27 panics on a JSON range
            // whose bounds are different number types (`0.5..1`).
            if low == "*" || high == "*" {
                return parse(format!("{name}:{open}{low} TO {high}{close}"));
            }
            let lower = parse(format!("{name}:{open}{low} TO *]"))?;
            let upper = parse(format!("{name}:[* TO {high}{close}"))?;
            Ok(Box::new(BooleanQuery::intersection(vec![lower, upper])))
        }
    }
}
