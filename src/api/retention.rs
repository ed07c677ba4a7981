//! `GET /v1/retention/plan` and `POST /v1/retention/run` (stewards): what
//! the next retention run would purge, by source and reason, and starting
//! one as a job (202 and the job, followed in `/v1/jobs`).
//!
//! It must never purge in the request (the job runs on its own thread), and
//! the plan must never change anything.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{ApiError, App};
use crate::engine::RetentionPlan;
use crate::jobs::JobTrigger;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/retention/plan", get(plan))
        .route("/v1/retention/run", post(run))
}

async fn plan(State(app): State<App>) -> Result<Json<RetentionPlan>, ApiError> {
    let plan = tokio::task::spawn_blocking(move || app.retention_plan()).await??;
    Ok(Json(plan))
}

async fn run(
    State(app): State<App>,
    axum::Extension(identity): axum::Extension<crate::auth::Identity>,
) -> Result<Response, ApiError> {
    let started = tokio::task::spawn_blocking(move || {
        app.start_retention(JobTrigger::Api, &identity.actor)
            .map(|job| job.view())
    })
    .await?
    .map_err(ApiError::internal)?;
    Ok((StatusCode::ACCEPTED, Json(started)).into_response())
}
