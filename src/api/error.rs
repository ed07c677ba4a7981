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

use crate::engine::EngineError;
use crate::index::search::QueryError;

/// Every `error.code` the API answers with: one list, so a client can rely
/// on the set and a handler cannot invent a new spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidBody,
    InvalidParameter,
    UnknownParameter,
    MissingParameter,
    UnknownField,
    InvalidRequest,
    InvalidName,
    NotAPerson,
    UnsupportedMediaType,
    BodyTooLarge,
    Unauthorized,
    Forbidden,
    CsrfRefused,
    SignInFailed,
    LockedOut,
    NotFoundIdentity,
    MethodNotAllowed,
    NotFound,
    CustomerNotFound,
    NoteNotFound,
    JobNotFound,
    JobFinished,
    SnapshotExists,
    JobRunning,
    Overloaded,
    RateLimited,
    HostNotAllowed,
    Internal,
}

impl ErrorCode {
    /// Every code, in the order of the enum (openapi.json lists the same).
    pub const ALL: &[ErrorCode] = &[
        ErrorCode::InvalidBody,
        ErrorCode::InvalidParameter,
        ErrorCode::UnknownParameter,
        ErrorCode::MissingParameter,
        ErrorCode::UnknownField,
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidName,
        ErrorCode::NotAPerson,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::BodyTooLarge,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::CsrfRefused,
        ErrorCode::SignInFailed,
        ErrorCode::LockedOut,
        ErrorCode::NotFoundIdentity,
        ErrorCode::MethodNotAllowed,
        ErrorCode::NotFound,
        ErrorCode::CustomerNotFound,
        ErrorCode::NoteNotFound,
        ErrorCode::JobNotFound,
        ErrorCode::JobFinished,
        ErrorCode::SnapshotExists,
        ErrorCode::JobRunning,
        ErrorCode::Overloaded,
        ErrorCode::RateLimited,
        ErrorCode::HostNotAllowed,
        ErrorCode::Internal,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::UnknownParameter => "unknown_parameter",
            ErrorCode::MissingParameter => "missing_parameter",
            ErrorCode::UnknownField => "unknown_field",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::NotAPerson => "not_a_person",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CsrfRefused => "csrf_refused",
            ErrorCode::SignInFailed => "sign_in_failed",
            ErrorCode::LockedOut => "locked_out",
            ErrorCode::NotFoundIdentity => "not_found_identity",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::CustomerNotFound => "customer_not_found",
            ErrorCode::NoteNotFound => "note_not_found",
            ErrorCode::JobNotFound => "job_not_found",
            ErrorCode::JobFinished => "job_finished",
            ErrorCode::SnapshotExists => "snapshot_exists",
            ErrorCode::JobRunning => "job_running",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::HostNotAllowed => "host_not_allowed",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Put on a response whose detail was logged: the body is replaced by the
/// generic internal error naming the request id.
#[derive(Clone, Copy, Debug)]
pub struct InternalError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> ApiError {
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
            code: ErrorCode::Internal,
            message: message.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() && self.code == ErrorCode::Internal {
            let mut response = self.status.into_response();
            response.extensions_mut().insert(InternalError);
            return response;
        }
        let body = json!({ "error": { "code": self.code.as_str(), "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::EmptyQuery | QueryError::BadParameter { .. } => {
                ApiError::bad_request(ErrorCode::InvalidParameter, e.to_string())
            }
            QueryError::MissingQuery => {
                ApiError::bad_request(ErrorCode::MissingParameter, e.to_string())
            }
            QueryError::UnknownParameter(_) => {
                ApiError::bad_request(ErrorCode::UnknownParameter, e.to_string())
            }
            QueryError::UnknownField(..) => {
                ApiError::bad_request(ErrorCode::UnknownField, e.to_string())
            }
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
            ErrorCode::BodyTooLarge
        } else {
            ErrorCode::InvalidBody
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

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn openapi_lists_exactly_the_error_codes_the_api_answers_with() {
        let document: serde_json::Value =
            serde_json::from_str(include_str!("openapi.json")).expect("openapi.json is JSON");
        let listed: Vec<&str> =
            document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
                ["enum"]
                .as_array()
                .expect("Error.code has an enum")
                .iter()
                .filter_map(|v| v.as_str())
                .collect();
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, codes);
    }

    /// The code an export ends with when it fails after its first byte is
    /// documented with the export route.
    #[test]
    fn openapi_documents_the_export_streams_error_code() {
        let code = crate::export::rows::STREAM_ERROR_CODE;
        let document = include_str!("openapi.json");
        assert!(
            document.contains(&format!("\\\"code\\\": \\\"{code}\\\"")),
            "openapi.json does not document `{code}`"
        );
    }

    /// Handlers name an error code through [`ErrorCode`], never as a string
    /// literal of their own (test code and comments aside).
    #[test]
    fn no_api_file_but_this_one_spells_an_error_code() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        let mut found = Vec::new();
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).expect("src/api is readable") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("error.rs") {
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap_or_default();
                for c in ErrorCode::ALL {
                    if line.contains(&format!("\"{}\"", c.as_str())) {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
        assert!(files > 10, "read {files} files of {}", dir.display());
        assert!(
            found.is_empty(),
            "error codes spelt out:\n{}",
            found.join("\n")
        );
    }
}
