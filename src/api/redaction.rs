//! Contact details out of every answer to an identity without
//! `contacts.read` (the default `viewer`): one layer inside the
//! authorisation layer, so no handler can forget it. JSON answers are
//! rewritten through `auth::redact`; the bulk exports, which stream, are
//! refused to such an identity rather than streamed unmasked.
//!
//! It must never pass an unmasked JSON answer to such an identity: an
//! answer it cannot read as JSON is replaced by a 500.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::auth::forbidden;
use crate::api::error::ErrorCode;
use crate::auth::redact::redact_json;
use crate::auth::{Identity, Permission};

/// Largest answer rewritten (search pages, customer pages and timelines are
/// far below it).
const MAX_REWRITTEN_BYTES: usize = 64 << 20;

pub async fn redact(request: Request, next: Next) -> Response {
    let masked = request
        .extensions()
        .get::<Identity>()
        .is_some_and(|i| !i.can(Permission::ContactsRead));
    if !masked {
        return next.run(request).await;
    }
    let route = super::route_template(&request).unwrap_or_default();
    if matches!(route.as_str(), "/v1/export" | "/v1/customers") {
        return forbidden(
            ErrorCode::Forbidden,
            format!(
                "{route} streams contact details in full: it needs the permission `contacts.read` as well"
            ),
        )
        .into_response();
    }
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_REWRITTEN_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return ApiError::internal(format!("reading an answer to redact: {e}")).into_response();
        }
    };
    let mut value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(e) => {
            return ApiError::internal(format!("an answer to redact is not JSON: {e}"))
                .into_response();
        }
    };
    redact_json(&mut value);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(value.to_string()))
}
