//! Row-level scope (an API key's `scope`): the searches, suggestions and
//! exports of a scoped identity carry its filters (`of`), and this layer
//! keeps it to the routes that honour them: customer pages and timelines
//! answer 404 for a customer outside the scope, exactly as for a missing
//! one, and routes that cannot honour a scope yet (notes, write-back,
//! steward actions, the quality report, the customers list, operations)
//! are refused to it.
//!
//! It must never let a scoped identity reach a route that does not apply
//! its scope: a route not listed here is refused.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
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

pub async fn enforce(State(app): State<Arc<Rapport>>, request: Request, next: Next) -> Response {
    let Some(identity) = request.extensions().get::<Identity>().cloned() else {
        return next.run(request).await;
    };
    if identity.scope.is_empty() {
        return next.run(request).await;
    }
    let route = super::route_template(&request).unwrap_or_default();
    match route.as_str() {
        // These apply the scope themselves.
        "/v1/search" | "/v1/suggest" | "/v1/export" | "/v1/session" | "/v1/analyze" => {
            next.run(request).await
        }
        "/v1/customers/{id}" | "/v1/customers/{id}/timeline"
            if request.method() == axum::http::Method::GET =>
        {
            let id = request
                .uri()
                .path()
                .split('/')
                .nth(3)
                .unwrap_or_default()
                .to_string();
            let scope = match of(&identity) {
                Ok(scope) => scope,
                Err(e) => return e.into_response(),
            };
            let checked =
                tokio::task::spawn_blocking(move || app.customer_in_scope(&id, &scope)).await;
            match checked {
                Ok(Ok(true)) => next.run(request).await,
                Ok(Ok(false)) => ApiError {
                    status: StatusCode::NOT_FOUND,
                    code: ErrorCode::CustomerNotFound,
                    message: "no customer with this id".into(),
                }
                .into_response(),
                Ok(Err(e)) => ApiError::from(e).into_response(),
                Err(e) => ApiError::from(e).into_response(),
            }
        }
        _ => forbidden(
            ErrorCode::Forbidden,
            format!(
                "{} {route} does not apply a row-level scope yet, so a scoped key may not use it",
                request.method()
            ),
        )
        .into_response(),
    }
}
