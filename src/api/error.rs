//! The one shape of every error the HTTP API returns:
//! `{"error": {"code": "...", "message": "..."}}`, with a 4xx status for the
//! caller's mistakes and 5xx only for Rapport's own failures.
//!
//! A 500 `internal` says only "internal error" and the request id; its
//! detail goes to the log (`request_id.rs`).
//!
//! It must never leak a panic, an internal error's text or a stack trace to
//! the caller.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::request_id::InternalError;
use crate::engine::EngineError;
use crate::index::search::QueryError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    /// Rapport's own failure: the detail is logged here (in the request's
    /// span) and the caller gets only "internal error" and the request id
    /// (`request_id.rs`).
    pub fn internal(message: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %message, "internal error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: message.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() && self.code == "internal" {
            let mut response = self.status.into_response();
            response.extensions_mut().insert(InternalError);
            return response;
        }
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::EmptyQuery | QueryError::BadLimit(_) | QueryError::BadParameter { .. } => {
                ApiError::bad_request("invalid_parameter", e.to_string())
            }
            QueryError::MissingQuery => ApiError::bad_request("missing_parameter", e.to_string()),
            QueryError::UnknownParameter(_) => {
                ApiError::bad_request("unknown_parameter", e.to_string())
            }
            QueryError::UnknownField(..) => ApiError::bad_request("unknown_field", e.to_string()),
            QueryError::Index(inner) => ApiError::internal(inner),
        }
    }
}

/// A body that could not be read: 413 `body_too_large` over the route's
/// limit (axum's own answer would be plain text), else 400 `invalid_body`.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "body_too_large"
        } else {
            "invalid_body"
        };
        ApiError {
            status,
            code,
            message: rejection.body_text(),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        ApiError::internal(e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("request task failed: {e}"))
    }
}
