//! Aggregations in Elasticsearch's JSON (terms, range, histogram,
//! date_histogram with `fixed_interval`, stats, avg, sum, min, max,
//! value_count, cardinality, percentiles, and sub-aggregations nested under
//! `aggs`), through tantivy's aggregation module, at record level (over every
//! matching record) or customer level (over one record per matching customer:
//! its best match, which carries the customer's golden fields).
//!
//! It must never answer a bad request with a 500: what tantivy rejects in the
//! request is a [`QueryError::BadParameter`] naming `aggs`.

use serde_json::Value;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::{AggContextParams, AggregationCollector, AggregationLimitsGuard};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::Query;
use tantivy::{DocAddress, Searcher, TantivyError};

use super::QueryError;
use crate::index::SearchIndex;

fn bad(message: String) -> QueryError {
    QueryError::BadParameter {
        name: "aggs".into(),
        message,
    }
}

fn from_tantivy(e: TantivyError) -> QueryError {
    match e {
        TantivyError::AggregationError(_)
        | TantivyError::InvalidArgument(_)
        | TantivyError::FieldNotFound(_)
        | TantivyError::SchemaError(_) => bad(e.to_string()),
        other => QueryError::from(other),
    }
}

/// How many levels of sub-aggregations (`aggs` inside an aggregation) a
/// request may nest: each level multiplies the buckets collected.
pub(crate) const MAX_AGG_DEPTH: usize = 8;

/// The deepest nesting of `aggs`/`aggregations` keys in `aggs`, found
/// without recursion (serde_json already bounds the JSON itself at 128).
fn agg_depth(aggs: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(aggs, 1usize)];
    while let Some((value, level)) = stack.pop() {
        deepest = deepest.max(level);
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let nested = key == "aggs" || key == "aggregations";
                    stack.push((child, level + usize::from(nested)));
                }
            }
            Value::Array(items) => stack.extend(items.iter().map(|item| (item, level))),
            _ => {}
        }
    }
    deepest
}

fn collector(index: &SearchIndex, aggs: &Value) -> Result<AggregationCollector, QueryError> {
    let depth = agg_depth(aggs);
    if depth > MAX_AGG_DEPTH {
        return Err(bad(format!(
            "nests aggregations {depth} levels deep; at most {MAX_AGG_DEPTH} are allowed"
        )));
    }
    let request: Aggregations = serde_json::from_value(aggs.clone())
        .map_err(|e| bad(format!("is not a valid aggregation request: {e}")))?;
    let context = AggContextParams::new(
        AggregationLimitsGuard::default(),
        index.tantivy().tokenizers().clone(),
    );
    Ok(AggregationCollector::from_aggs(request, context))
}

/// Aggregations over every record `query` matches.
pub(crate) fn record_aggs(
    index: &SearchIndex,
    searcher: &Searcher,
    query: &dyn Query,
    aggs: &Value,
) -> Result<Value, QueryError> {
    let collector = collector(index, aggs)?;
    let results = searcher.search(query, &collector).map_err(from_tantivy)?;
    serde_json::to_value(results).map_err(|e| bad(e.to_string()))
}

/// Aggregations over the given records (one per customer).
pub(crate) fn records_aggs(
    index: &SearchIndex,
    searcher: &Searcher,
    records: &[DocAddress],
    aggs: &Value,
) -> Result<Value, QueryError> {
    let collector = collector(index, aggs)?;
    let mut sorted = records.to_vec();
    sorted.sort();
    let mut fruits = Vec::new();
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let ord = ord as u32;
        let mut child = collector.for_segment(ord, reader).map_err(from_tantivy)?;
        for address in sorted.iter().filter(|a| a.segment_ord == ord) {
            child.collect(address.doc_id, 0.0);
        }
        fruits.push(child.harvest());
    }
    let results = collector.merge_fruits(fruits).map_err(from_tantivy)?;
    serde_json::to_value(results).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_aggregation_levels_are_counted() {
        let flat = serde_json::json!({"by_stage": {"terms": {"field": "stage"}}});
        assert_eq!(agg_depth(&flat), 1);
        let mut nested = serde_json::json!({"leaf": {"max": {"field": "amount"}}});
        for level in 0..20 {
            nested = serde_json::json!({
                format!("l{level}"): {"terms": {"field": "stage"}, "aggs": nested}
            });
        }
        assert_eq!(agg_depth(&nested), 21);
    }
}
