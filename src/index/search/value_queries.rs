//! Queries for one value of one field, shared by the query language and the
//! filters: a quoted phrase under an `attrs.` path, and equality on a number
//! or a date.
//!
//! It must never parse query syntax: callers hand it one field and one value.

use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{Query, QueryParser, RangeQuery};
use tantivy::schema::Field;

use crate::index::SearchIndex;
use crate::normalize::parse_date;
use crate::schema::FieldType;

/// A value tantivy's parser could not turn into a query (a warning).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{query}` could not be searched ({reason}): ignored")]
pub(super) struct UnsearchableValue {
    query: String,
    reason: String,
}

/// `attrs.PATH:"text"` through tantivy's parser, which knows how JSON paths
/// and their values are indexed.
pub(super) fn attrs_query(
    index: &SearchIndex,
    field: Field,
    path: &str,
    text: &str,
) -> Result<Box<dyn Query>, UnsearchableValue> {
    let parser = QueryParser::for_index(index.tantivy(), vec![field]);
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    let name = if path.is_empty() {
        "attrs".to_string()
    } else {
        format!("attrs.{path}")
    };
    parser
        .parse_query(&format!("{name}:\"{escaped}\""))
        .map_err(|e| UnsearchableValue {
            query: format!("{name}:{text}"),
            reason: e.to_string(),
        })
}

/// Equality on a number or date field (a date means that whole day).
pub(super) fn exact_value_query(
    field: Field,
    field_type: FieldType,
    text: &str,
) -> Option<Box<dyn Query>> {
    match field_type {
        FieldType::F64 => {
            let v: f64 = text.trim().parse().ok()?;
            let term = Term::from_field_f64(field, v);
            Some(Box::new(RangeQuery::new(
                Bound::Included(term.clone()),
                Bound::Included(term),
            )))
        }
        FieldType::I64 => {
            let v: i64 = text.trim().parse().ok()?;
            let term = Term::from_field_i64(field, v);
            Some(Box::new(RangeQuery::new(
                Bound::Included(term.clone()),
                Bound::Included(term),
            )))
        }
        FieldType::Date => {
            let day = parse_date(text).ok()?;
            let start = tantivy::DateTime::from_timestamp_secs(day.timestamp());
            let end = tantivy::DateTime::from_timestamp_secs(day.timestamp() + 86_400);
            Some(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_date(field, start)),
                Bound::Excluded(Term::from_field_date(field, end)),
            )))
        }
        _ => None,
    }
}
