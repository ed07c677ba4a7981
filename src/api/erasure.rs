//! Erasure over HTTP: `POST /v1/erasures` erases a person on request (GDPR)
//! and answers with the audit entry it wrote; `GET /v1/audit` lists the
//! audit log, oldest first.
//!
//! Handlers parse the body, call the engine on a blocking thread, and
//! shape JSON; they must never decide what belongs to a person (that is
//! `engine::erasure`).

use crate::api::error::ErrorCode;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::ApiError;
use crate::auth::Identity;
use crate::engine::{ErasureError, ErasureRequest, Rapport};

type App = Arc<Rapport>;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/erasures", post(erase))
        .route("/v1/audit", get(audit))
}

impl From<ErasureError> for ApiError {
    fn from(e: ErasureError) -> Self {
        match e {
            ErasureError::Customer(inner) => inner.into(),
            ErasureError::NotAPerson(_) => {
                ApiError::bad_request(ErrorCode::NotAPerson, e.to_string())
            }
            ErasureError::Invalid(m) => ApiError::bad_request(ErrorCode::InvalidBody, m),
            ErasureError::Store(inner) => ApiError::internal(inner),
            ErasureError::Engine(inner) => ApiError::internal(inner),
        }
    }
}

async fn erase(
    State(app): State<App>,
    Extension(identity): Extension<Identity>,
    body: Result<Json<ErasureRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(mut request) = body.map_err(|r| {
        ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!(
                "{} (expected {{\"customer_id\": \"...\", \"reason\": \"...\"}})",
                r.body_text()
            ),
        )
    })?;
    if !request.requested_by.is_empty() {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidBody,
            "`requested_by` is not accepted: the requester is the identity that sends the erasure (your key or sign-in)",
        ));
    }
    request.requested_by = identity.actor;
    let entry = tokio::task::spawn_blocking(move || app.erase_person(&request)).await??;
    Ok((StatusCode::CREATED, Json(json!(entry))))
}

async fn audit(State(app): State<App>) -> Result<Json<Value>, ApiError> {
    let entries = tokio::task::spawn_blocking(move || app.audit_log())
        .await?
        .map_err(ApiError::internal)?;
    Ok(Json(json!({ "entries": entries })))
}
