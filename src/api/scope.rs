//! Row-level scope (of a key or a user): the searches, suggestions and
//! exports of a scoped identity carry its filters (`of`), and this layer
//! keeps it to the routes that honour them. Reads and writes that name
//! customers — pages, timelines, subject exports, notes, merges, splits,
//! attachments, rectifications, erasures — go on only when every customer
//! and record they name (path, body) is in the scope; otherwise 404,
//! exactly as for a missing one; attribute uploads check each line's
//! customer themselves. Routes that cannot honour a scope (the quality
//! report, the customers list, operations) are refused to it.
//!
//! It must never let a scoped identity reach a route that does not apply
//! its scope: a route not listed here is refused.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::auth::forbidden;
use crate::api::error::ErrorCode;
use crate::auth::Identity;
use crate::engine::{Rapport, Scope, parse_scope};

/// The identity's scope as filters (empty: unscoped).
pub fn of(identity: &Identity) -> Result<Scope, ApiError> {
    parse_scope(&identity.scope).map_err(|e| {
        ApiError::internal(format!(
            "the scope of {} cannot be read: {e}",
            identity.actor
        ))
    })
}

/// The customers and records a request reads or changes, by route: the
/// path's `{id}` (a customer, or a note whose customer counts), and the
/// body's `customer_id`, `ids` (customers) and `records`. `None`: the route
/// does not honour a scope here (searches apply it themselves; others are
/// refused).
struct Targets {
    customers: Vec<String>,
    records: Vec<String>,
    note: Option<String>,
}

/// Routes a scoped identity may use and what they name; `Some(true)` when
/// the body names targets too.
fn targeted(method: &Method, route: &str) -> Option<bool> {
    match (method.as_str(), route) {
        (
            "GET" | "HEAD",
            "/v1/customers/{id}"
            | "/v1/customers/{id}/timeline"
            | "/v1/customers/{id}/subject-export",
        ) => Some(false),
        ("GET" | "HEAD" | "DELETE" | "PUT" | "PATCH", "/v1/notes/{id}")
        | ("POST", "/v1/customers/{id}/rectify") => Some(false),
        (
            "POST",
            "/v1/customers/{id}/split"
            | "/v1/customers/{id}/attach"
            | "/v1/customers/merge"
            | "/v1/customers/never-merge"
            | "/v1/notes"
            | "/v1/erasures",
        ) => Some(true),
        _ => None,
    }
}

fn path_id(request: &Request) -> String {
    request
        .uri()
        .path()
        .split('/')
        .nth(3)
        .unwrap_or_default()
        .to_string()
}

/// Reads the names of customers and records from a JSON body (a body that
/// is not JSON names none: its handler refuses it before any write).
fn body_targets(body: &[u8], targets: &mut Targets) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    let strings = |key: &str| -> Vec<String> {
        match &value[key] {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    targets.customers.extend(strings("customer_id"));
    targets.customers.extend(strings("ids"));
    targets.records.extend(strings("records"));
}

fn not_in_scope(note: bool) -> Response {
    let (code, message) = if note {
        (ErrorCode::NoteNotFound, "no note with this id")
    } else {
        (ErrorCode::CustomerNotFound, "no customer with this id")
    };
    ApiError {
        status: StatusCode::NOT_FOUND,
        code,
        message: message.into(),
    }
    .into_response()
}

pub async fn enforce(State(app): State<Arc<Rapport>>, request: Request, next: Next) -> Response {
    let Some(identity) = request.extensions().get::<Identity>().cloned() else {
        return next.run(request).await;
    };
    if identity.scope.is_empty() {
        return next.run(request).await;
    }
    let route = super::route_template(&request).unwrap_or_default();
    if matches!(
        route.as_str(),
        "/v1/search"
            | "/v1/suggest"
            | "/v1/export"
            | "/v1/session"
            | "/v1/analyze"
            | "/v1/attributes"
    ) {
        // These apply the scope themselves.
        return next.run(request).await;
    }
    let Some(reads_body) = targeted(request.method(), &route) else {
        return forbidden(
            ErrorCode::Forbidden,
            format!(
                "{} {route} does not apply a row-level scope, so a scoped identity may not use it",
                request.method()
            ),
        )
        .into_response();
    };
    let scope = match of(&identity) {
        Ok(scope) => scope,
        Err(e) => return e.into_response(),
    };
    let mut targets = Targets {
        customers: Vec::new(),
        records: Vec::new(),
        note: None,
    };
    if route.starts_with("/v1/notes/") {
        targets.note = Some(path_id(&request));
    } else if route.contains("{id}") {
        targets.customers.push(path_id(&request));
    }
    let request = if reads_body {
        let (parts, body) = request.into_parts();
        let limit = app.config().server.max_body_bytes;
        let bytes = match axum::body::to_bytes(body, limit).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return ApiError::bad_request(
                    ErrorCode::InvalidBody,
                    format!("the body could not be read (at most {limit} bytes)"),
                )
                .into_response();
            }
        };
        body_targets(&bytes, &mut targets);
        Request::from_parts(parts, axum::body::Body::from(bytes))
    } else {
        request
    };
    let is_note = targets.note.is_some();
    let checked = tokio::task::spawn_blocking(move || {
        app.targets_in_scope(
            targets.note.as_deref(),
            &targets.customers,
            &targets.records,
            &scope,
        )
    })
    .await;
    match checked {
        Ok(Ok(true)) => next.run(request).await,
        Ok(Ok(false)) => not_in_scope(is_note),
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
