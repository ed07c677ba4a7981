//! `POST /v1/snapshots`: writes a consistent snapshot of store and index
//! into the configured `snapshot_dir` while the server keeps serving. The
//! body is optional: `{"name": "nightly"}`; by default the name is made
//! from the time.
//!
//! It must never let a caller choose a path: a name is one plain folder
//! name inside `snapshot_dir` (no `/`, no `..`).

use crate::api::error::ErrorCode;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::engine::Rapport;
use crate::snapshot::{self, SnapshotError};

type App = Arc<Rapport>;

pub fn routes() -> Router<App> {
    Router::new().route("/v1/snapshots", post(create))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SnapshotBody {
    name: Option<String>,
}

impl From<SnapshotError> for ApiError {
    fn from(e: SnapshotError) -> Self {
        match e {
            SnapshotError::BadName(_) => {
                ApiError::bad_request(ErrorCode::InvalidName, e.to_string())
            }
            SnapshotError::Exists(_) => ApiError {
                status: StatusCode::CONFLICT,
                code: ErrorCode::SnapshotExists,
                message: e.to_string(),
            },
            other => ApiError::internal(other),
        }
    }
}

async fn create(
    State(app): State<App>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body?;
    let body: SnapshotBody = if body.iter().all(u8::is_ascii_whitespace) {
        SnapshotBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(
                ErrorCode::InvalidBody,
                format!("{e} (expected nothing, or {{\"name\": \"nightly\"}})"),
            )
        })?
    };
    let name = body.name.unwrap_or_else(snapshot::default_name);
    snapshot::check_name(&name)?;
    let target = app.config().snapshot_dir().join(&name);
    if target.exists() {
        return Err(SnapshotError::Exists(format!("snapshot `{name}`")).into());
    }
    let path = target.display().to_string();
    let manifest = tokio::task::spawn_blocking(move || app.snapshot(&target)).await??;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "name": name, "path": path, "manifest": manifest })),
    ))
}
