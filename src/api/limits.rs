//! The server's resource limits (`[server]` in rapport.toml): how long a
//! client may take to send its headers and its body, how many connections
//! and requests are served at once (503 with `Retry-After` beyond), and how
//! large a body may be (413 from `Content-Length`, before a byte of the body
//! is read; a body without one is cut at the same size while it is read, and
//! answered 413 too). A body up to a few megabytes over the limit is read
//! to its end and thrown away before the 413 goes out, so that its sender
//! reads the answer instead of a reset connection.
//!
//! It must never let one client hold the server: every wait it allows is
//! bounded, and every refusal is answered at once.

use crate::api::error::ErrorCode;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
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
        // A client that waits for `100 Continue` sends nothing more; one
        // that is already sending a body of a few megabytes is let finish.
        let waits_to_send = request.headers().contains_key(header::EXPECT);
        if !waits_to_send && length <= DRAIN_BYTES as u64 {
            drain(request.into_body()).await;
        }
        return too_large(length.to_string());
    }
    // A body without a (truthful) length is cut at the limit as it is read.
    // Whatever the handler made of the cut (a JSON error, a failed upload),
    // the answer is 413, the same as for an announced length.
    let (parts, body) = request.into_parts();
    let unread = Arc::new(Mutex::new(Some(body)));
    let cut = Arc::new(AtomicBool::new(false));
    let body = CutAtLimit {
        unread: unread.clone(),
        read: 0,
        limit,
        cut: cut.clone(),
    };
    let request = Request::from_parts(parts, axum::body::Body::new(body));
    let response = next.run(request).await;
    if cut.load(Ordering::Relaxed) {
        let rest = unread.lock().ok().and_then(|mut body| body.take());
        if let Some(rest) = rest {
            drain(rest).await;
        }
        return too_large(format!("more than {limit}"));
    }
    drop(permit);
    response
}

/// How much of an over-limit body is read and thrown away before the 413
/// is sent, and for how long. Closing a connection with unread bytes in
/// it resets it, and most clients then report a broken pipe instead of
/// the answer; a body a little over the limit is read to its end so its
/// sender sees the 413. Past these bounds the connection is simply closed.
const DRAIN_BYTES: usize = 8 << 20;
const DRAIN_TIME: Duration = Duration::from_secs(2);

async fn drain(mut rest: axum::body::Body) {
    let reading = async {
        let mut drained = 0usize;
        while let Some(Ok(frame)) = rest.frame().await {
            drained += frame.data_ref().map_or(0, |data| data.len());
            if drained > DRAIN_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, reading).await;
}

/// The request body as the handler sees it: an error once more than
/// `limit` bytes have come, with the rest left unread in `unread` for
/// [`drain`].
struct CutAtLimit {
    unread: Arc<Mutex<Option<axum::body::Body>>>,
    read: usize,
    limit: usize,
    cut: Arc<AtomicBool>,
}

impl http_body::Body for CutAtLimit {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if self.cut.load(Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        let polled = {
            let Ok(mut unread) = self.unread.lock() else {
                return Poll::Ready(None);
            };
            let Some(body) = unread.as_mut() else {
                return Poll::Ready(None);
            };
            Pin::new(body).poll_frame(context)
        };
        let Poll::Ready(Some(Ok(frame))) = polled else {
            return polled;
        };
        self.read += frame.data_ref().map_or(0, |data| data.len());
        if self.read > self.limit {
            self.cut.store(true, Ordering::Relaxed);
            let limit = self.limit;
            return Poll::Ready(Some(Err(axum::Error::new(format!(
                "the body is over the limit of {limit} bytes"
            )))));
        }
        Poll::Ready(Some(Ok(frame)))
    }
}
