//! A request id for every request: a tracing span carrying it around the
//! whole request (so every log line of the request names it), an
//! `x-request-id` response header, and the body of every 500: `{"error":
//! {"code": "internal", "message": "internal error", "request_id": "…"}}`.
//! The detail of a 500 (an error's text, a panic's message) is logged in the
//! request's span and nowhere else.
//!
//! It must never put the detail of an internal error in a response.

use crate::api::error::ErrorCode;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::Instrument;

/// The response header holding the request id.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

pub use super::error::InternalError;

static NEXT: AtomicU64 = AtomicU64::new(1);

/// `<process start in µs, hex>-<counter>`: unique within a process and,
/// in practice, across restarts.
fn new_id() -> String {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or_default();
        format!("{micros:x}")
    });
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The middleware: the outermost layer of the router.
pub async fn assign(request: Request, next: Next) -> Response {
    let id = new_id();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path()
    );
    let mut response = next.run(request).instrument(span).await;
    if response.extensions().get::<InternalError>().is_some() {
        let body = json!({
            "error": { "code": ErrorCode::Internal.as_str(), "message": "internal error", "request_id": id }
        });
        response = (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response();
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

/// The text of a caught panic, for the log.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "a panic without a message"
    }
}
