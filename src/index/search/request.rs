//! What a search asks for, and how it is read from URL parameters (GET and
//! the CLI, which share [`SearchRequest::from_params`]) or a JSON body (POST,
//! [`SearchBody`]). Every bad value becomes [`QueryError::BadParameter`],
//! naming the parameter, which the API answers with a 400.
//!
//! It must never touch the index: it only reads and checks what was asked.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::QueryError;

pub const MAX_LIMIT: usize = 1000;
/// The deepest page a light request ([`SearchRequest::is_light`]) reaches.
pub const LIGHT_PAGE: usize = 100;
pub const MAX_OFFSET: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grouping {
    Customer,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortBy {
    Relevance,
    Date,
    Amount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Desc,
    Asc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AggLevel {
    Records,
    Customers,
}

/// One filter: a value, one of several values, or a range.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Values(Vec<String>),
    Range {
        gte: Option<String>,
        gt: Option<String>,
        lte: Option<String>,
        lt: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The query text; `*` (or nothing, with filters) matches every record.
    pub q: String,
    pub limit: usize,
    pub offset: usize,
    pub group: Grouping,
    pub sort: SortBy,
    pub order: Order,
    pub boost_recent: bool,
    /// Field name (or `attrs.path`) → filter.
    pub filters: BTreeMap<String, Filter>,
    pub facets: Vec<String>,
    pub facet_size: usize,
    /// Elasticsearch aggregation JSON.
    pub aggs: Option<Value>,
    pub aggs_level: AggLevel,
    /// The caller's scope (row-level security): filters every answer obeys,
    /// totals, facets and aggregations included. Set by the server from the
    /// identity, never from parameters; never dropped by a facet's own
    /// filter being left out of its count.
    pub scope: BTreeMap<String, Filter>,
}

impl SearchRequest {
    pub fn new(q: impl Into<String>) -> SearchRequest {
        SearchRequest {
            q: q.into(),
            limit: 10,
            offset: 0,
            group: Grouping::Customer,
            sort: SortBy::Relevance,
            order: Order::Desc,
            boost_recent: false,
            filters: BTreeMap::new(),
            scope: BTreeMap::new(),
            facets: Vec::new(),
            facet_size: 20,
            aggs: None,
            aggs_level: AggLevel::Records,
        }
    }

    /// Reads URL-style parameters: q, limit, offset, group, sort, order,
    /// boost_recent, facets (comma list), facet_size, aggs (JSON),
    /// aggs_level, and `filter.FIELD=VALUE` where VALUE is `a`, `a,b` or a
    /// range `lo..hi` (either end may be left out).
    pub fn from_params<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<SearchRequest, QueryError> {
        let mut request = SearchRequest::new("");
        let mut has_q = false;
        for (key, value) in params {
            match key {
                "q" => {
                    request.q = value.to_string();
                    has_q = true;
                }
                "limit" => request.limit = number("limit", value)?,
                "offset" => request.offset = number("offset", value)?,
                "group" => request.group = word("group", value, "customer or none")?,
                "sort" => request.sort = word("sort", value, "relevance, date or amount")?,
                "order" => request.order = word("order", value, "desc or asc")?,
                "aggs_level" => {
                    request.aggs_level = word("aggs_level", value, "records or customers")?
                }
                "boost_recent" => {
                    request.boost_recent = match value {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => return Err(bad("boost_recent", "must be true or false")),
                    }
                }
                "facets" => request.facets.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|f| !f.is_empty())
                        .map(str::to_string),
                ),
                "facet_size" => request.facet_size = number("facet_size", value)?,
                "aggs" => {
                    request.aggs = Some(
                        serde_json::from_str(value)
                            .map_err(|e| bad("aggs", &format!("is not valid JSON: {e}")))?,
                    )
                }
                _ => match filter_param(key, value) {
                    Some((field, filter)) => {
                        request.filters.insert(field, filter);
                    }
                    None => {
                        return Err(QueryError::UnknownParameter(format!(
                            "unknown parameter `{key}`; search takes q, limit, offset, group, sort, order, \
                             boost_recent, facets, facet_size, aggs, aggs_level and filter.FIELD"
                        )));
                    }
                },
            }
        }
        if !has_q {
            if !request.wants_more_than_hits() {
                return Err(QueryError::MissingQuery);
            }
            request.q = "*".into();
        }
        request.check()?;
        Ok(request)
    }

    /// True when filters, facets or aggregations make a query without words
    /// meaningful (a dashboard's "everything, counted").
    fn wants_more_than_hits(&self) -> bool {
        !self.filters.is_empty() || !self.facets.is_empty() || self.aggs.is_some()
    }

    /// Whether this request is one of the short ones staff type all day: a
    /// page of at most [`LIGHT_PAGE`] records for some words, without
    /// customer groups, facets or aggregations. Its cost follows the words'
    /// posting lists (about a millisecond at 100k records), not the size of
    /// the whole index.
    pub fn is_light(&self) -> bool {
        self.group == Grouping::None
            && self.facets.is_empty()
            && self.aggs.is_none()
            && self.offset + self.limit <= LIGHT_PAGE
            && !matches!(self.q.trim(), "" | "*")
    }

    pub fn check(&self) -> Result<(), QueryError> {
        if self.q.trim().is_empty() && !self.wants_more_than_hits() {
            return Err(QueryError::EmptyQuery);
        }
        // `limit=0` (Elasticsearch's `size: 0`) answers totals, facets and
        // aggregations without a page of hits: what dashboards send.
        if self.limit > MAX_LIMIT {
            return Err(bad(
                "limit",
                &format!("must be between 0 and {MAX_LIMIT}, got {}", self.limit),
            ));
        }
        if self.offset > MAX_OFFSET {
            return Err(bad("offset", &format!("must be at most {MAX_OFFSET}")));
        }
        if self.facet_size == 0 || self.facet_size > MAX_LIMIT {
            return Err(bad(
                "facet_size",
                &format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        Ok(())
    }
}

fn bad(name: &str, message: &str) -> QueryError {
    QueryError::BadParameter {
        name: name.to_string(),
        message: message.to_string(),
    }
}

fn number(name: &str, raw: &str) -> Result<usize, QueryError> {
    raw.trim()
        .parse()
        .map_err(|_| bad(name, &format!("must be a whole number, got `{raw}`")))
}

fn word<T: serde::de::DeserializeOwned>(
    name: &str,
    raw: &str,
    allowed: &str,
) -> Result<T, QueryError> {
    serde_json::from_value(Value::String(raw.trim().to_lowercase()))
        .map_err(|_| bad(name, &format!("must be {allowed}, got `{raw}`")))
}

/// A `filter.FIELD=VALUE` URL parameter as a field and its filter; `None`
/// for any other key.
pub fn filter_param(key: &str, value: &str) -> Option<(String, Filter)> {
    let field = key.strip_prefix("filter.").filter(|f| !f.is_empty())?;
    Some((field.to_string(), filter_from_text(value)))
}

/// `a`, `a,b`, `lo..hi`, `lo..`, `..hi`; a value holding a comma (or
/// starting with a quote) is written in double quotes, CSV-style:
/// `"Acme, Inc.",Globex` (a doubled `""` inside quotes is one quote).
pub fn filter_from_text(raw: &str) -> Filter {
    let quoted = raw.trim_start().starts_with('"');
    if !quoted && let Some((lo, hi)) = raw.split_once("..") {
        let end = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        return Filter::Range {
            gte: end(lo),
            gt: None,
            lte: end(hi),
            lt: None,
        };
    }
    Filter::Values(filter_values(raw))
}

/// The values of a comma-separated list, honouring CSV quotes (the csv
/// crate reads the one line); an unbalanced quote is taken literally.
fn filter_values(raw: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_reader(raw.as_bytes());
    let fields = match reader.records().next() {
        Some(Ok(record)) if raw.contains('"') => {
            record.iter().map(str::to_string).collect::<Vec<_>>()
        }
        _ => raw.split(',').map(|v| v.trim().to_string()).collect(),
    };
    fields.into_iter().filter(|v| !v.is_empty()).collect()
}

/// The JSON body of `POST /v1/search`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    #[serde(default)]
    pub q: String,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    pub group: Option<Grouping>,
    pub sort: Option<SortBy>,
    pub order: Option<Order>,
    #[serde(default)]
    pub boost_recent: bool,
    #[serde(default)]
    pub filters: BTreeMap<String, Value>,
    #[serde(default)]
    pub facets: Vec<String>,
    pub facet_size: Option<usize>,
    pub aggs: Option<Value>,
    pub aggs_level: Option<AggLevel>,
}

impl SearchBody {
    pub fn into_request(self) -> Result<SearchRequest, QueryError> {
        let mut request = SearchRequest::new(self.q);
        request.limit = self.limit.unwrap_or(request.limit);
        request.offset = self.offset.unwrap_or(0);
        request.group = self.group.unwrap_or(Grouping::Customer);
        request.sort = self.sort.unwrap_or(SortBy::Relevance);
        request.order = self.order.unwrap_or(Order::Desc);
        request.boost_recent = self.boost_recent;
        request.facets = self.facets;
        request.facet_size = self.facet_size.unwrap_or(request.facet_size);
        request.aggs = self.aggs;
        request.aggs_level = self.aggs_level.unwrap_or(AggLevel::Records);
        for (field, value) in self.filters {
            let filter = filter_from_json(&field, value)?;
            request.filters.insert(field, filter);
        }
        request.check()?;
        Ok(request)
    }
}

fn scalar(field: &str, value: &Value) -> Result<String, QueryError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(bad(
            &format!("filters.{field}"),
            "values must be strings, numbers or booleans",
        )),
    }
}

fn filter_from_json(field: &str, value: Value) -> Result<Filter, QueryError> {
    match value {
        Value::Array(values) => Ok(Filter::Values(
            values
                .iter()
                .map(|v| scalar(field, v))
                .collect::<Result<_, _>>()?,
        )),
        Value::Object(map) => {
            let mut range = (None, None, None, None);
            for (key, v) in &map {
                let v = Some(scalar(field, v)?);
                match key.as_str() {
                    "gte" => range.0 = v,
                    "gt" => range.1 = v,
                    "lte" => range.2 = v,
                    "lt" => range.3 = v,
                    _ => {
                        return Err(bad(
                            &format!("filters.{field}"),
                            &format!("unknown range key `{key}` (use gte, gt, lte, lt)"),
                        ));
                    }
                }
            }
            Ok(Filter::Range {
                gte: range.0,
                gt: range.1,
                lte: range.2,
                lt: range.3,
            })
        }
        other => Ok(Filter::Values(vec![scalar(field, &other)?])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(raw: &str) -> Vec<String> {
        match filter_from_text(raw) {
            Filter::Values(v) => v,
            other => panic!("{raw} read as {other:?}"),
        }
    }

    #[test]
    fn filter_lists_ranges_and_quoted_values() {
        assert_eq!(values("us"), ["us"]);
        assert_eq!(values("us, jp,"), ["us", "jp"]);
        assert_eq!(values(r#""Acme, Inc.",Globex"#), ["Acme, Inc.", "Globex"]);
        assert_eq!(values(r#""say ""hi""",x"#), [r#"say "hi""#, "x"]);
        assert_eq!(values(r#""1..2""#), ["1..2"], "a quoted value is no range");
        assert!(matches!(
            filter_from_text("10..20"),
            Filter::Range {
                gte: Some(_),
                lte: Some(_),
                ..
            }
        ));
    }
}
