//! Bulk export: what `GET /v1/export` and `rapport export` ask for (query,
//! filters, level, fields, format), read from URL-style parameters with the
//! same `q` and `filter.FIELD` syntax and errors as search, and the columns
//! each level offers. Rows are encoded by [`rows`].
//!
//! It must never read the store or the index: the engine walks them
//! (`engine::export`) and hands rows to a [`rows::RowWriter`].

pub mod attached;
pub mod rows;

use std::collections::BTreeMap;

use crate::index::search::QueryError;
use crate::index::search::request::{Filter, filter_param};
use crate::record::consent::{self, Channel};

/// Columns of `level=record`: the record's id, then the stored record's
/// fields (with its customer assignment), in this order. `attrs.NAME` picks
/// one loose attribute.
pub const RECORD_FIELDS: &[&str] = &[
    "id",
    "source",
    "external_id",
    "kind",
    "customer_id",
    "person_id",
    "org_id",
    "customer_name",
    "customer_kind",
    "customer_country",
    "customer_ref",
    "title",
    "body",
    "names",
    "emails",
    "phones",
    "company",
    "country",
    "stage",
    "owner",
    "tags",
    "amount",
    "currency",
    "created",
    "updated",
    "links",
    "attrs",
    "provenance",
    "quality",
];

/// Columns of `level=customer`: the golden record of each customer. Customer
/// attributes (scores, flags written back by analysts) belong here as new
/// columns, filled in [`rows::customer_row`].
pub const CUSTOMER_FIELDS: &[&str] = &[
    "customer_id",
    "kind",
    "name",
    "emails",
    "phones",
    "country",
    "company",
    "owner",
    "tags",
    "org_id",
    "people",
    "record_count",
    "golden",
    "attrs",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Record,
    Customer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ndjson,
    Csv,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The query text; `None` (or `*`) with no filters exports everything.
    pub q: Option<String>,
    pub filters: BTreeMap<String, Filter>,
    pub level: Level,
    /// Selected columns, in order; `None`: every column of the level.
    pub fields: Option<Vec<String>>,
    pub format: Format,
    /// The caller's scope (see `SearchRequest::scope`): set by the server.
    pub scope: BTreeMap<String, Filter>,
    /// The purpose the export is declared for (`marketing`, `profiling`,
    /// ...): customers who opted out of it are left out and counted.
    pub purpose: Option<String>,
    /// Keep those who opted out anyway (`include_opted_out=true`).
    pub include_opted_out: bool,
    /// `attached=false`: only the records resolution attached to no
    /// customer, with their reason; `attached=true`: only attached ones.
    pub attached: Option<bool>,
}

fn bad(name: &str, message: String) -> QueryError {
    QueryError::BadParameter {
        name: name.to_string(),
        message,
    }
}

impl ExportRequest {
    /// Reads `q`, `filter.FIELD`, `level`, `fields` and `format`.
    pub fn from_params<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ExportRequest, QueryError> {
        let mut request = ExportRequest {
            q: None,
            filters: BTreeMap::new(),
            scope: BTreeMap::new(),
            level: Level::Record,
            fields: None,
            format: Format::Ndjson,
            purpose: None,
            include_opted_out: false,
            attached: None,
        };
        for (key, value) in params {
            match key {
                "q" => request.q = Some(value.to_string()),
                "level" => {
                    request.level = match value.trim().to_lowercase().as_str() {
                        "record" | "records" => Level::Record,
                        "customer" | "customers" => Level::Customer,
                        _ => {
                            return Err(bad(
                                "level",
                                format!("must be record or customer, got `{value}`"),
                            ));
                        }
                    }
                }
                "format" => {
                    request.format = match value.trim().to_lowercase().as_str() {
                        "ndjson" | "jsonl" => Format::Ndjson,
                        "csv" => Format::Csv,
                        _ => {
                            return Err(bad(
                                "format",
                                format!("must be ndjson or csv, got `{value}`"),
                            ));
                        }
                    }
                }
                "fields" => {
                    let fields: Vec<String> = value
                        .split(',')
                        .map(str::trim)
                        .filter(|f| !f.is_empty())
                        .map(str::to_string)
                        .collect();
                    if fields.is_empty() {
                        return Err(bad("fields", "names no field".into()));
                    }
                    request.fields = Some(fields);
                }
                "purpose" => {
                    let purpose = value.trim().to_ascii_lowercase();
                    if consent::channels_of_purpose(&purpose).is_none() {
                        return Err(bad(
                            "purpose",
                            format!(
                                "unknown purpose `{value}`; known: {}",
                                consent::PURPOSES.join(", ")
                            ),
                        ));
                    }
                    request.purpose = Some(purpose);
                }
                "include_opted_out" => {
                    request.include_opted_out = match value.trim() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => {
                            return Err(bad(
                                "include_opted_out",
                                format!("must be true or false, got `{value}`"),
                            ));
                        }
                    }
                }
                "attached" => request.attached = Some(attached::parse(value)?),
                _ => match filter_param(key, value) {
                    Some((field, filter)) => {
                        request.filters.insert(field, filter);
                    }
                    None => {
                        return Err(QueryError::UnknownParameter(format!(
                            "unknown parameter `{key}`; export takes q, filter.FIELD, level, fields, format, purpose, include_opted_out and attached"
                        )));
                    }
                },
            }
        }
        request.check_fields()?;
        attached::check(&request)?;
        Ok(request)
    }

    fn check_fields(&self) -> Result<(), QueryError> {
        let Some(fields) = &self.fields else {
            return Ok(());
        };
        let known = self.known_fields();
        for field in fields {
            let loose = field.strip_prefix("attrs.").is_some_and(|p| !p.is_empty());
            let reason = self.level == Level::Record && field == attached::REASON;
            if !loose && !reason && !known.contains(&field.as_str()) {
                let extra = ", attrs.NAME";
                return Err(bad(
                    "fields",
                    format!(
                        "unknown field `{field}`; {} fields: {}{extra}",
                        self.level_name(),
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn known_fields(&self) -> &'static [&'static str] {
        match self.level {
            Level::Record => RECORD_FIELDS,
            Level::Customer => CUSTOMER_FIELDS,
        }
    }

    pub fn level_name(&self) -> &'static str {
        match self.level {
            Level::Record => "record",
            Level::Customer => "customer",
        }
    }

    /// The columns written, in order.
    pub fn columns(&self) -> Vec<String> {
        match &self.fields {
            Some(fields) => fields.clone(),
            None => {
                let mut columns: Vec<String> =
                    self.known_fields().iter().map(|f| f.to_string()).collect();
                if self.attached == Some(false) {
                    columns.push(attached::REASON.to_string());
                }
                columns
            }
        }
    }

    /// True when nothing narrows the export: the store is walked directly.
    pub fn is_everything(&self) -> bool {
        self.filters.is_empty()
            && self.scope.is_empty()
            && self
                .q
                .as_deref()
                .is_none_or(|q| q.trim().is_empty() || q.trim() == "*")
    }

    /// The channels whose opt-outs this export leaves out (none without a
    /// purpose, or with `include_opted_out`).
    pub fn excluded_channels(&self) -> &'static [Channel] {
        match &self.purpose {
            Some(p) if !self.include_opted_out => consent::channels_of_purpose(p).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// `rapport-records.ndjson`, `rapport-customers.csv`.
    pub fn file_name(&self) -> String {
        format!("rapport-{}s.{}", self.level_name(), self.format.extension())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(params: &[(&str, &str)]) -> Result<ExportRequest, QueryError> {
        ExportRequest::from_params(params.iter().copied())
    }

    #[test]
    fn parameters_and_their_errors() {
        let r = parse(&[
            ("q", "acme"),
            ("filter.kind", "note,email"),
            ("format", "csv"),
        ])
        .unwrap();
        assert_eq!(r.format, Format::Csv);
        assert_eq!(r.level, Level::Record);
        assert!(!r.is_everything());
        assert_eq!(r.file_name(), "rapport-records.csv");
        assert!(parse(&[("q", "*")]).unwrap().is_everything());
        assert!(parse(&[]).unwrap().is_everything());
        let err = parse(&[("level", "org")]).unwrap_err().to_string();
        assert!(err.contains("`level`"), "{err}");
        let err = parse(&[("fields", "id,shoe_size")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`fields`") && err.contains("shoe_size") && err.contains("external_id"),
            "{err}"
        );
        let err = parse(&[("level", "customer"), ("fields", "shoe_size")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("customer fields"), "{err}");
        assert!(parse(&[("level", "customer"), ("fields", "name,attrs.score")]).is_ok());
        assert!(parse(&[("fields", "id,attrs.plan")]).is_ok());
        let err = parse(&[("limit", "5")]).unwrap_err().to_string();
        assert!(err.contains("`limit`"), "{err}");
    }
}
