//! `POST /v1/reindex`, `GET /v1/jobs`, `GET /v1/jobs/{id}` and
//! `DELETE /v1/jobs/{id}`: start a reindex or rebuild job (answered at once
//! with 202 and the job), follow it, list recent jobs, cancel one.
//!
//! It must never run the work in the request (jobs run on their own
//! thread), and never start a second reindex while one is queued or running:
//! that is a 409 `job_running` naming the running job.

use crate::api::error::ErrorCode;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, App};
use crate::engine::{ReindexRequest, StartJobError};
use crate::jobs::{CancelError, JobTrigger};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/reindex", post(reindex))
        .route("/v1/jobs", get(list_jobs))
        .route("/v1/jobs/{id}", get(get_job).delete(cancel_job))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReindexBody {
    source: Option<String>,
    from: Option<String>,
}

const REINDEX_SHAPE: &str = r#"expected {} (everything), {"source": "NAME"} or {"from": "store"}"#;

fn parse_reindex(body: &[u8]) -> Result<ReindexRequest, ApiError> {
    let body: ReindexBody = if body.iter().all(u8::is_ascii_whitespace) {
        ReindexBody::default()
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(
                ErrorCode::InvalidBody,
                format!("reindex body: {e} ({REINDEX_SHAPE})"),
            )
        })?
    };
    match (body.source, body.from) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            ErrorCode::InvalidParameter,
            format!("`source` and `from` cannot be combined ({REINDEX_SHAPE})"),
        )),
        (None, Some(from)) if from == "store" => Ok(ReindexRequest::FromStore),
        (None, Some(from)) => Err(ApiError::bad_request(
            ErrorCode::InvalidParameter,
            format!("`from`: unknown value `{from}` (the only one is \"store\")"),
        )),
        (Some(source), None) if source.trim().is_empty() => Err(ApiError::bad_request(
            ErrorCode::InvalidParameter,
            "`source`: empty source name",
        )),
        (Some(source), None) => Ok(ReindexRequest::Source(source)),
        (None, None) => Ok(ReindexRequest::Everything),
    }
}

async fn reindex(
    State(app): State<App>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let request = parse_reindex(&body)?;
    let started = tokio::task::spawn_blocking(move || {
        app.start_reindex(request, JobTrigger::Api)
            .map(|job| job.view())
    })
    .await?;
    match started {
        Ok(view) => Ok((StatusCode::ACCEPTED, Json(view)).into_response()),
        Err(StartJobError::Running { id, state }) => {
            let message = StartJobError::Running {
                id: id.clone(),
                state,
            }
            .to_string();
            let body = json!({ "error": { "code": ErrorCode::JobRunning.as_str(), "message": message, "job_id": id } });
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Err(e @ StartJobError::UnknownSource(_)) => Err(ApiError::bad_request(
            ErrorCode::InvalidParameter,
            format!("`source`: {e}"),
        )),
        Err(e @ StartJobError::Thread(_)) => Err(ApiError::internal(e)),
    }
}

async fn list_jobs(State(app): State<App>) -> Json<Value> {
    Json(json!({ "jobs": app.jobs().list() }))
}

async fn get_job(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    match app.jobs().get(&id) {
        Some(job) => Ok(Json(job.view()).into_response()),
        None => Err(job_not_found(&id)),
    }
}

async fn cancel_job(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    match app.cancel_job(&id) {
        Ok(view) => Ok((StatusCode::ACCEPTED, Json(view)).into_response()),
        Err(CancelError::NotFound(_)) => Err(job_not_found(&id)),
        Err(e @ CancelError::Finished { .. }) => Err(ApiError {
            status: StatusCode::CONFLICT,
            code: ErrorCode::JobFinished,
            message: e.to_string(),
        }),
    }
}

fn job_not_found(id: &str) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        code: ErrorCode::JobNotFound,
        message: format!("no job with id `{id}` (GET /v1/jobs lists recent jobs)"),
    }
}
