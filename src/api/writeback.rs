//! Write-back over HTTP: `POST /v1/notes`, `GET`/`PUT`/`PATCH`/`DELETE
//! /v1/notes/{id}` and `POST /v1/attributes` (NDJSON or CSV).
//!
//! Handlers parse, call one `Rapport` write-back operation on a blocking
//! thread and shape JSON. A write is answered once the store has committed
//! it; the index catch-up that follows is waited for at most a second. They
//! must never hold write-back logic.

use crate::api::error::ErrorCode;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::ApiError;
use crate::auth::Identity;
use crate::engine::Rapport;
use crate::writeback::WritebackError;
use crate::writeback::attributes::AttributeFormat;
use crate::writeback::notes::{NewNote, NoteEdit};

type App = Arc<Rapport>;

/// How long a write waits for the index before answering anyway.
const INDEX_WAIT: Duration = Duration::from_secs(1);

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/notes", post(create_note))
        .route(
            "/v1/notes/{id}",
            get(read_note)
                .put(edit_note)
                .patch(edit_note)
                .delete(delete_note),
        )
        .route(
            "/v1/attributes",
            // Its limit is `[server] max_upload_bytes` (limits.rs).
            post(upsert_attributes),
        )
}

impl From<WritebackError> for ApiError {
    fn from(e: WritebackError) -> Self {
        match e {
            WritebackError::Invalid { .. } | WritebackError::Body(_) => {
                ApiError::bad_request(ErrorCode::InvalidBody, e.to_string())
            }
            WritebackError::CustomerNotFound(_) => ApiError {
                status: StatusCode::NOT_FOUND,
                code: ErrorCode::CustomerNotFound,
                message: e.to_string(),
            },
            WritebackError::NoteNotFound(_) => ApiError {
                status: StatusCode::NOT_FOUND,
                code: ErrorCode::NoteNotFound,
                message: e.to_string(),
            },
            WritebackError::Store(s) => ApiError::internal(s),
            WritebackError::Scope(s) => ApiError::internal(s),
        }
    }
}

fn body<T>(b: Result<Json<T>, JsonRejection>, expected: &str) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(|r| {
        ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!("{} (expected {expected})", r.body_text()),
        )
    })
}

const NOTE_SHAPE: &str = r#"{"customer_id", "text", "tags": [...], "date"}"#;

/// A note's author is the caller's identity, never a name in the body.
fn author_from_body(author: Option<&String>) -> Result<(), ApiError> {
    match author {
        Some(_) => Err(ApiError::bad_request(
            ErrorCode::InvalidBody,
            "`author` is not accepted: a note's author is the identity that writes it (your key or sign-in)",
        )),
        None => Ok(()),
    }
}

/// Lets the index catch up with a write, waiting at most [`INDEX_WAIT`].
async fn index_soon(app: App) {
    let task = tokio::task::spawn_blocking(move || app.index_writeback());
    match tokio::time::timeout(INDEX_WAIT, task).await {
        Ok(Ok(Ok(_))) => {}
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "index catch-up after a write-back failed"),
        Ok(Err(e)) => tracing::error!(error = %e, "index catch-up task failed"),
        Err(_) => tracing::info!("the index is busy: the write-back will be searchable shortly"),
    }
}

async fn create_note(
    State(app): State<App>,
    Extension(identity): Extension<Identity>,
    b: Result<Json<NewNote>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut new = body(b, NOTE_SHAPE)?;
    author_from_body(new.author.as_ref())?;
    new.author = Some(identity.actor);
    let writer = app.clone();
    let note = tokio::task::spawn_blocking(move || writer.create_note(&new)).await??;
    index_soon(app).await;
    Ok((StatusCode::CREATED, Json(json!(note))))
}

async fn read_note(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let note = tokio::task::spawn_blocking(move || app.note(&id)).await??;
    Ok(Json(json!(note)))
}

async fn edit_note(
    State(app): State<App>,
    Path(id): Path<String>,
    b: Result<Json<NoteEdit>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let edit = body(b, NOTE_SHAPE)?;
    author_from_body(edit.author.as_ref())?;
    let writer = app.clone();
    let note = tokio::task::spawn_blocking(move || writer.update_note(&id, &edit)).await??;
    index_soon(app).await;
    Ok(Json(json!(note)))
}

async fn delete_note(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let writer = app.clone();
    let deleted = id.clone();
    tokio::task::spawn_blocking(move || writer.delete_note(&id)).await??;
    index_soon(app).await;
    Ok(Json(json!({ "id": deleted, "deleted": true })))
}

async fn upsert_attributes(
    State(app): State<App>,
    identity: Option<Extension<Identity>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    // A scoped identity writes only to customers within its scope; lines
    // for others are rejected as unknown customers (existence not told).
    let scope = match identity {
        Some(Extension(identity)) => super::scope::of(&identity)?,
        None => Default::default(),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let format = AttributeFormat::from_content_type(content_type).ok_or_else(|| ApiError {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: ErrorCode::UnsupportedMediaType,
        message: format!(
            "Content-Type `{content_type}` is not accepted: send application/x-ndjson lines {{\"customer_id\", \"key\", \"value\"}} or text/csv with the header customer_id,key,value"
        ),
    })?;
    // Parsed while it arrives, never buffered whole; a body cut at its limit
    // fails here and the limits layer answers 413.
    let reader = std::io::BufReader::new(super::upload::stream(body));
    let writer = app.clone();
    let report =
        tokio::task::spawn_blocking(move || writer.upsert_attributes(reader, format, &scope))
            .await??;
    index_soon(app).await;
    Ok(Json(json!(report)))
}
