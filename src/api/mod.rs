//! The HTTP API (axum): `/healthz`, `/metrics` (Prometheus), `/openapi.json`,
//! the versioned JSON API under `/v1`, and the staff web page at `/` (see
//! `web`).
//! Handlers are thin: parse and check parameters, call one [`Rapport`]
//! operation on a blocking thread, shape the JSON.
//!
//! It must never hold business logic, and never answer a caller's mistake with
//! a 5xx or a panic.

pub mod auth;
mod connectors;
mod customers;
mod erasure;
mod error;
mod export;
mod identity;
mod jobs;
mod metrics;
mod openapi;
mod search;
mod snapshots;
mod web;
mod writeback;

use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::engine::Rapport;

type App = Arc<Rapport>;

/// The router with no local CLI token and no sign-in link (benchmarks).
pub fn router(app: App) -> Result<Router, String> {
    let auth = Arc::new(auth::AuthState::new(app.clone())?);
    Ok(router_with(app, auth))
}

/// Every route behind [`auth::authorize`], which checks each against the
/// permission table [`auth::required`].
pub fn router_with(app: App, auth: Arc<auth::AuthState>) -> Router {
    let http_metrics = Arc::new(metrics::HttpMetrics::new());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/analyze", post(analyze))
        .merge(connectors::routes())
        .merge(customers::routes())
        .merge(erasure::routes())
        .merge(jobs::routes())
        .merge(metrics::routes())
        .merge(openapi::routes())
        .merge(search::routes())
        .merge(export::routes())
        .merge(snapshots::routes())
        .merge(web::routes())
        .merge(writeback::routes())
        .merge(identity::routes(auth.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(auth, auth::authorize))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("the request handler panicked").into_response_parts()
        }))
        .layer(axum::middleware::from_fn_with_state(
            http_metrics.clone(),
            metrics::track,
        ))
        .layer(axum::Extension(http_metrics))
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

impl ApiError {
    fn into_response_parts(self) -> axum::response::Response {
        axum::response::IntoResponse::into_response(self)
    }
}

/// Serves until ctrl-c / SIGTERM. Prints the bound address on stdout so that
/// scripts (and tests using port 0) can find it.
pub async fn serve(
    app: App,
    auth: Arc<auth::AuthState>,
    listener: TcpListener,
) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    println!("rapport listening on http://{address}");
    tracing::info!(%address, "listening");
    axum::serve(listener, router_with(app, auth))
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn healthz(State(app): State<App>) -> Result<Json<Value>, ApiError> {
    let status = tokio::task::spawn_blocking(move || app.status()).await??;
    Ok(Json(json!({ "status": "ok", "index": status })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnalyzeBody {
    text: String,
    #[serde(default = "default_analyze_field")]
    field: String,
}

fn default_analyze_field() -> String {
    "body".into()
}

async fn analyze(
    State(app): State<App>,
    body: Result<Json<AnalyzeBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|rejection| {
        ApiError::bad_request(
            "invalid_body",
            format!(
                "{} (expected {{\"text\": \"...\", \"field\": \"body\"}})",
                rejection.body_text()
            ),
        )
    })?;
    let field = body.field.clone();
    let tokens =
        tokio::task::spawn_blocking(move || app.analyze(&body.field, &body.text)).await??;
    Ok(Json(json!({ "field": field, "tokens": tokens })))
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        message: format!("no route for {method} {}", uri.path()),
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: format!("{method} is not allowed on {}", uri.path()),
    }
}
