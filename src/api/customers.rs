//! The single customer view over HTTP: customer pages, timelines, the
//! data-quality report and steward overrides (merge, split, never merge).
//!
//! Handlers parse and check parameters, call `crate::customers` on a blocking
//! thread, and shape JSON; they must never hold resolution logic.

use crate::api::error::ErrorCode;
use crate::customers::DuplicateKind;
use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use super::audit::BodyTargets;
use crate::customers::{CustomerError, TimelineQuery};
use crate::engine::Rapport;

type App = Arc<Rapport>;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/customers/merge", post(merge))
        .route("/v1/customers/never-merge", post(never_merge))
        .route("/v1/customers/{id}", get(customer))
        .route("/v1/customers/{id}/timeline", get(timeline))
        .route("/v1/customers/{id}/subject-export", get(subject_export))
        .route("/v1/customers/{id}/split", post(split))
        .route("/v1/customers/{id}/attach", post(attach))
        .route("/v1/customers/{id}/rectify", post(rectify))
        .route("/v1/quality", get(quality))
        .route("/v1/customers", get(all_customers))
        .route("/v1/quality/unattached", get(unattached))
        .route("/v1/quality/duplicates", get(duplicates))
        .route("/v1/quality/records", get(flagged))
}

impl From<CustomerError> for ApiError {
    fn from(e: CustomerError) -> Self {
        match e {
            CustomerError::NotFound(_) => ApiError {
                status: StatusCode::NOT_FOUND,
                code: ErrorCode::CustomerNotFound,
                message: e.to_string(),
            },
            CustomerError::Invalid(m) => ApiError::bad_request(ErrorCode::InvalidRequest, m),
            CustomerError::Store(s) => ApiError::internal(s),
        }
    }
}

fn body<T>(b: Result<Json<T>, JsonRejection>, expected: &str) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(|r| {
        ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!("{} (expected {expected})", r.body_text()),
        )
    })
}

/// The customer page. For a scoped identity, the account hierarchy keeps
/// only the parent and children inside its scope, and loses its roll-up
/// (counts over organisations it may not see).
async fn customer(
    State(app): State<App>,
    Extension(identity): Extension<crate::auth::Identity>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let scope = super::scope::of(&identity)?;
    let view = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let mut view = app.customer(&id)?;
        if !scope.is_empty() {
            if let Some(parent) = &view.parent
                && !app.customer_in_scope(&parent.id, &scope)?
            {
                view.parent = None;
            }
            let mut children = Vec::new();
            for child in std::mem::take(&mut view.children) {
                if app.customer_in_scope(&child.id, &scope)? {
                    children.push(child);
                }
            }
            view.children = children;
            view.rollup = None;
        }
        Ok(view)
    })
    .await??;
    Ok(Json(json!(view)))
}

async fn timeline(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut q = TimelineQuery {
        limit: 20,
        ..TimelineQuery::default()
    };
    for (key, value) in &params {
        let bad = |what: &str| {
            ApiError::bad_request(
                ErrorCode::InvalidParameter,
                format!("parameter `{key}` {what}, got `{value}`"),
            )
        };
        match key.as_str() {
            "kind" => q.kind = Some(value.clone()),
            "from" | "to" => {
                let date = crate::normalize::parse_date(value)
                    .map_err(|_| bad("must be a date such as 2024-03-15"))?;
                if key == "from" {
                    q.from = Some(date)
                } else {
                    q.to = Some(date)
                }
            }
            "cursor" => {
                q.cursor = value
                    .parse()
                    .map_err(|_| bad("must be a cursor from a previous page"))?
            }
            "limit" => {
                q.limit = value
                    .parse()
                    .ok()
                    .filter(|l| (1..=500).contains(l))
                    .ok_or_else(|| bad("must be between 1 and 500"))?
            }
            _ => {
                return Err(ApiError::bad_request(
                    ErrorCode::UnknownParameter,
                    format!(
                        "unknown parameter `{key}`; the timeline takes kind, from, to, cursor and limit"
                    ),
                ));
            }
        }
    }
    let page = tokio::task::spawn_blocking(move || app.timeline(&id, &q)).await??;
    Ok(Json(json!(page)))
}

/// Every customer as one NDJSON line (golden record, people, member
/// records): what `rapport customers export` prints.
async fn all_customers(State(app): State<App>) -> Result<axum::response::Response, ApiError> {
    let lines = tokio::task::spawn_blocking(move || app.customer_export_lines()).await??;
    let mut body = String::new();
    for line in lines {
        body.push_str(&line.to_string());
        body.push('\n');
    }
    Ok(axum::response::IntoResponse::into_response((
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        body,
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rectification {
    field: String,
    value: String,
    reason: String,
}

/// A steward rectifies a golden field (kept across re-ingest and reindex)
/// and sees the customer page as it now reads.
async fn rectify(
    State(app): State<App>,
    Path(id): Path<String>,
    b: Result<Json<Rectification>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let r = body(b, r#"{"field": "name", "value": "…", "reason": "…"}"#)?;
    let show = id.clone();
    apply(app, show, move |app| {
        app.rectify_golden(&id, &r.field, &r.value, &r.reason)
    })
    .await
}

/// Everything held on one customer (a data subject's access or portability
/// request), as one JSON document.
async fn subject_export(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let export = tokio::task::spawn_blocking(move || app.subject_export(&id)).await??;
    Ok(Json(export))
}

async fn quality(State(app): State<App>) -> Result<Json<Value>, ApiError> {
    let report = tokio::task::spawn_blocking(move || app.quality()).await??;
    Ok(Json(json!(report)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ids {
    ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Records {
    records: Vec<String>,
}

/// Applies an override, re-resolves, and answers with the customer page.
async fn apply(
    app: App,
    show: String,
    change: impl FnOnce(&Rapport) -> Result<(), CustomerError> + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    let view = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        change(&app)?;
        app.resolve()?;
        Ok(app.customer(&show)?)
    })
    .await??;
    Ok(Json(json!(view)))
}

/// Applies an override on a list of customer ids and shows the first one.
/// The ids go to the audit entry as its targets, whatever the outcome.
async fn on_ids(
    app: App,
    b: Result<Json<Ids>, JsonRejection>,
    change: fn(&Rapport, &[String]) -> Result<(), CustomerError>,
) -> Response {
    let ids = match body(b, r#"{"ids": ["org_…", "org_…"]}"#) {
        Ok(parsed) => parsed.ids,
        Err(e) => return e.into_response(),
    };
    let targets = BodyTargets(ids.clone());
    let first = ids.first().cloned().unwrap_or_default();
    let mut response = apply(app, first, move |app| change(app, &ids))
        .await
        .into_response();
    response.extensions_mut().insert(targets);
    response
}

async fn merge(State(app): State<App>, b: Result<Json<Ids>, JsonRejection>) -> Response {
    on_ids(app, b, Rapport::merge_customers).await
}

async fn never_merge(State(app): State<App>, b: Result<Json<Ids>, JsonRejection>) -> Response {
    on_ids(app, b, Rapport::never_merge_customers).await
}

/// Applies an override on one customer and a list of record ids, and
/// shows that customer. The customers the records belonged to before the
/// change and those they belong to after it go to the audit entry as its
/// targets (the record ids do not: an external id may be an e-mail
/// address), so that `/v1/audit?customer_id=` finds the split that made a
/// customer, or the attachment that took a record from one.
async fn on_records(
    app: App,
    id: String,
    b: Result<Json<Records>, JsonRejection>,
    change: fn(&Rapport, &str, &[String]) -> Result<(), CustomerError>,
) -> Response {
    let records = match body(b, r#"{"records": ["source:external_id", …]}"#) {
        Ok(parsed) => parsed.records,
        Err(e) => return e.into_response(),
    };
    let done = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let mut customers = app.customers_of_records(&records);
        change(&app, &id, &records)?;
        app.resolve()?;
        for joined in app.customers_of_records(&records) {
            if !customers.contains(&joined) {
                customers.push(joined);
            }
        }
        Ok((json!(app.customer(&id)?), customers))
    })
    .await
    .map_err(ApiError::from)
    .and_then(|outcome| outcome);
    match done {
        Ok((view, customers)) => {
            let mut response = Json(view).into_response();
            response.extensions_mut().insert(BodyTargets(customers));
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn split(
    State(app): State<App>,
    Path(id): Path<String>,
    b: Result<Json<Records>, JsonRejection>,
) -> Response {
    on_records(app, id, b, Rapport::split_customer).await
}

async fn attach(
    State(app): State<App>,
    Path(id): Path<String>,
    b: Result<Json<Records>, JsonRejection>,
) -> Response {
    on_records(app, id, b, Rapport::attach_records).await
}

/// Which quality list a page is of: each takes its own filters besides
/// `offset` and `limit`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    /// `source`
    Unattached,
    /// `source`, `field`
    Flagged,
    /// `kind`, `min_score`
    Duplicates,
}

impl Listing {
    fn parameters(self) -> &'static str {
        match self {
            Listing::Unattached => "source, offset and limit",
            Listing::Flagged => "source, field, offset and limit",
            Listing::Duplicates => "kind, min_score, view, offset and limit",
        }
    }
}

/// A quality list's filters, `offset` and `limit`.
struct Page {
    source: Option<String>,
    field: Option<String>,
    kind: Option<DuplicateKind>,
    min_score: Option<f64>,
    /// `view=grouped`: the duplicates as items (pairs and name groups).
    grouped: bool,
    offset: usize,
    limit: usize,
}

fn page(params: &HashMap<String, String>, listing: Listing) -> Result<Page, ApiError> {
    let mut page = Page {
        source: None,
        field: None,
        kind: None,
        min_score: None,
        grouped: false,
        offset: 0,
        limit: 100,
    };
    for (key, value) in params {
        let bad = |what: &str| {
            ApiError::bad_request(
                ErrorCode::InvalidParameter,
                format!("parameter `{key}` {what}, got `{value}`"),
            )
        };
        match (key.as_str(), listing) {
            ("source", Listing::Unattached | Listing::Flagged) => page.source = Some(value.clone()),
            ("field", Listing::Flagged) => page.field = Some(value.clone()),
            ("kind", Listing::Duplicates) => {
                page.kind = Some(
                    DuplicateKind::named(value)
                        .ok_or_else(|| bad("must be `organization` or `person`"))?,
                )
            }
            ("min_score", Listing::Duplicates) => {
                page.min_score = Some(
                    value
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite())
                        .ok_or_else(|| bad("must be a number of bits"))?,
                )
            }
            ("view", Listing::Duplicates) => {
                page.grouped = match value.as_str() {
                    "pairs" => false,
                    "grouped" => true,
                    _ => return Err(bad("must be `pairs` or `grouped`")),
                }
            }
            ("offset", _) => page.offset = value.parse().map_err(|_| bad("must be a number"))?,
            ("limit", _) => {
                page.limit = value
                    .parse()
                    .ok()
                    .filter(|l| (1..=10_000).contains(l))
                    .ok_or_else(|| bad("must be between 1 and 10000"))?
            }
            _ => {
                return Err(ApiError::bad_request(
                    ErrorCode::UnknownParameter,
                    format!(
                        "unknown parameter `{key}`; this takes {}",
                        listing.parameters()
                    ),
                ));
            }
        }
    }
    Ok(page)
}

/// `GET /v1/quality/unattached?source=&offset=&limit=`: every record
/// resolution attached to no customer, with the reason.
async fn unattached(
    State(app): State<App>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let p = page(&params, Listing::Unattached)?;
    let found = tokio::task::spawn_blocking(move || {
        app.unattached_records(p.source.as_deref(), p.offset, p.limit)
    })
    .await??;
    Ok(Json(json!(found)))
}

/// `GET /v1/quality/duplicates?kind=&min_score=&view=&offset=&limit=`:
/// the suspected duplicates, most likely first; with `view=grouped`, as
/// items (pairs, and groups of namesakes).
async fn duplicates(
    State(app): State<App>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let p = page(&params, Listing::Duplicates)?;
    let found = tokio::task::spawn_blocking(move || -> Result<Value, CustomerError> {
        Ok(if p.grouped {
            json!(app.suspected_duplicate_items(p.kind, p.min_score, p.offset, p.limit)?)
        } else {
            json!(app.suspected_duplicates(p.kind, p.min_score, p.offset, p.limit)?)
        })
    })
    .await??;
    Ok(Json(found))
}

/// `GET /v1/quality/records?source=&field=&offset=&limit=`: every record
/// with a quality issue, with its issues.
async fn flagged(
    State(app): State<App>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let p = page(&params, Listing::Flagged)?;
    let found = tokio::task::spawn_blocking(move || {
        app.flagged_records(p.source.as_deref(), p.field.as_deref(), p.offset, p.limit)
    })
    .await??;
    Ok(Json(json!(found)))
}
