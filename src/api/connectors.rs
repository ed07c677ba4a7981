//! `GET /v1/connectors`: per configured source, its state (idle, running,
//! watching, failed), the report of its last run (files seen, records
//! inserted, updated, unchanged and deleted, error count and the latest
//! errors with file, line and reason) and its last pull.
//!
//! It must never run a source; it only reports.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::ApiError;
use crate::engine::Rapport;

pub fn routes() -> Router<Arc<Rapport>> {
    Router::new().route("/v1/connectors", get(connectors))
}

async fn connectors(State(app): State<Arc<Rapport>>) -> Result<Json<Value>, ApiError> {
    let sources = tokio::task::spawn_blocking(move || app.connectors_status()).await??;
    Ok(Json(json!({ "sources": sources })))
}
