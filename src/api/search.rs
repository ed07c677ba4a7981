//! The search endpoints: `GET /v1/search` (URL parameters), `POST
//! /v1/search` (a JSON body: the same options, with filters and
//! aggregations as JSON), and `GET /v1/suggest?q=`. Each parses its input,
//! runs one engine call, and returns the engine's JSON, serialised to bytes
//! in one go (no intermediate `Value` tree).
//!
//! Light searches ([`SearchRequest::is_light`]) and suggestions run on the
//! async worker that read the request: they take about a millisecond, and
//! the blocking pool's two thread hand-offs cost 0.3 to 0.8 ms on this
//! 2-core machine (BENCHMARKS.md). Everything else (customer groups,
//! facets, aggregations, whole-index scans) runs on the blocking pool, so
//! that a long query never holds a worker.
//!
//! It must never hold search logic (that is `index::search`), and never
//! answer a bad parameter with anything but a 400 naming it.

use crate::api::error::ErrorCode;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Serialize;

use super::ApiError;
use crate::auth::{Identity, Permission};
use crate::engine::Rapport;
use crate::index::search::{SearchBody, SearchRequest};

type App = Arc<Rapport>;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/search", get(search_get).post(search_post))
        .route("/v1/suggest", get(suggest))
}

/// `value` as a JSON response body.
fn json_bytes(value: &impl Serialize) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(ApiError::internal)
}

fn json_response(bytes: Vec<u8>) -> Response {
    ([(CONTENT_TYPE, "application/json")], bytes).into_response()
}

fn params(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request(ErrorCode::InvalidParameter, e.body_text()))
}

/// A search by an identity without `contacts.read` may not look for a
/// contact detail (see [`crate::auth::redact::contact_search_refusal`]).
fn refuse_contact_search(identity: &Identity, request: &SearchRequest) -> Result<(), ApiError> {
    fn agg_fields<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    if key == "field"
                        && let Some(name) = v.as_str()
                    {
                        out.push(name);
                    }
                    agg_fields(v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| agg_fields(v, out)),
            _ => {}
        }
    }
    let mut fields: Vec<&str> = request.filters.keys().map(String::as_str).collect();
    fields.extend(request.facets.iter().map(String::as_str));
    if let Some(aggs) = &request.aggs {
        agg_fields(aggs, &mut fields);
    }
    match crate::auth::redact::contact_search_refusal(&request.q, &fields) {
        None => Ok(()),
        Some(why) => Err(super::auth::forbidden(
            ErrorCode::Forbidden,
            format!(
                "{why}; searching by contact details needs the permission `contacts.read`, which the role `{}` does not have",
                identity.role
            ),
        )),
    }
}

/// One search, on this worker when it is light, else on the blocking pool.
/// Aggregations need the `aggregate` permission on top of the route's
/// `search` (the only permission that depends on the request's content).
async fn run_search(
    app: App,
    identity: &Identity,
    mut request: SearchRequest,
) -> Result<Vec<u8>, ApiError> {
    request.scope = super::scope::of(identity)?;
    if request.aggs.is_some() && !identity.can(Permission::Aggregate) {
        return Err(super::auth::forbidden(
            ErrorCode::Forbidden,
            format!(
                "the role `{}` does not have the permission `aggregate` that `aggs` needs",
                identity.role
            ),
        ));
    }
    if !identity.can(Permission::ContactsRead) {
        refuse_contact_search(identity, &request)?;
    }
    if request.is_light() {
        return json_bytes(&app.search(&request)?);
    }
    tokio::task::spawn_blocking(move || json_bytes(&app.search(&request)?)).await?
}

async fn search_get(
    State(app): State<App>,
    Extension(identity): Extension<Identity>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = params(query)?;
    let request = SearchRequest::from_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(json_response(run_search(app, &identity, request).await?))
}

async fn search_post(
    State(app): State<App>,
    Extension(identity): Extension<Identity>,
    body: Result<Json<SearchBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|rejection| {
        ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!(
                "{} (expected {{\"q\": \"...\", \"group\", \"limit\", \"offset\", \"sort\", \"order\", \
                 \"boost_recent\", \"filters\", \"facets\", \"facet_size\", \"aggs\", \"aggs_level\"}})",
                rejection.body_text()
            ),
        )
    })?;
    let request = body.into_request()?;
    Ok(json_response(run_search(app, &identity, request).await?))
}

async fn suggest(
    State(app): State<App>,
    Extension(identity): Extension<Identity>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let mut q = None;
    let mut limit = 10;
    for (key, value) in params(query)? {
        match key.as_str() {
            "q" => q = Some(value),
            "limit" => {
                limit = value.trim().parse().map_err(|_| {
                    ApiError::bad_request(
                        ErrorCode::InvalidParameter,
                        format!("parameter `limit` must be a whole number, got `{value}`"),
                    )
                })?
            }
            other => {
                return Err(ApiError::bad_request(
                    ErrorCode::UnknownParameter,
                    format!("unknown parameter `{other}`; /v1/suggest takes q and limit"),
                ));
            }
        }
    }
    let q = q.ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::MissingParameter,
            "parameter `q` is required: /v1/suggest?q=acm",
        )
    })?;
    let scope = super::scope::of(&identity)?;
    Ok(json_response(json_bytes(&app.suggest(&q, limit, &scope)?)?))
}
