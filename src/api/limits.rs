//! The server's resource limits (`[server]` in rapport.toml): how long a
//! client may take to send its headers and its body, how many connections
//! and requests are served at once (503 with `Retry-After` beyond), and how
//! large a body may be (413 from `Content-Length`, before a byte of the body
//! is read; a body without one is cut at the same size while it is read, and
//! answered 413 too).
//!
//! It must never let one client hold the server: every wait it allows is
//! bounded, and every refusal is answered at once.

use crate::api::error::ErrorCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;

use super::ApiError;

pub use crate::config::ServerLimits;

/// What the request guard needs: the limits and the in-flight permits.
pub struct Guard {
    pub limits: ServerLimits,
    in_flight: Arc<Semaphore>,
}

impl Guard {
    pub fn new(limits: ServerLimits) -> Guard {
        let in_flight = Arc::new(Semaphore::new(limits.max_in_flight.max(1)));
        Guard { limits, in_flight }
    }
}

/// 503 `overloaded` with `Retry-After: 1`.
pub fn overloaded(what: &str) -> Response {
    let mut response = ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: ErrorCode::Overloaded,
        message: format!("the server is at its limit of {what}; retry in a second"),
    }
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The middleware: refuses a request over the in-flight limit (503) or
/// announcing a body over its route's limit (413), and holds a permit while
/// the request is handled.
pub async fn guard(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let Ok(permit) = guard.in_flight.clone().try_acquire_owned() else {
        return overloaded(&format!(
            "{} requests in flight ([server] max_in_flight)",
            guard.limits.max_in_flight
        ));
    };
    let limit = guard.limits.body_limit(request.uri().path());
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let path = request.uri().path().to_string();
    let too_large = |length: String| {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: ErrorCode::BodyTooLarge,
            message: format!(
                "the body is {length} bytes; {path} takes at most {limit} ([server] limits)"
            ),
        }
        .into_response()
    };
    if let Some(length) = announced
        && length > limit as u64
    {
        return too_large(length.to_string());
    }
    // A body without a (truthful) length is cut at the limit as it is read.
    // Whatever the handler made of the cut (a JSON error, a failed upload),
    // the answer is 413, the same as for an announced length.
    let cut = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let seen = cut.clone();
    let body = http_body_util::Limited::new(body, limit).map_err(move |e| {
        if e.is::<http_body_util::LengthLimitError>() {
            seen.store(true, Ordering::Relaxed);
        }
        e
    });
    let request = Request::from_parts(parts, axum::body::Body::new(body));
    let response = next.run(request).await;
    if cut.load(Ordering::Relaxed) {
        return too_large(format!("more than {limit}"));
    }
    drop(permit);
    response
}
