//! `GET /v1/export`: every match of a query and filters (or everything), at
//! record or customer level, as NDJSON or CSV, streamed. Rows are produced on
//! a blocking thread into a bounded channel of chunks that the response body
//! drains, so a slow client slows the export down instead of growing memory.
//!
//! It must never answer a bad parameter with anything but a 400 naming it
//! (all checks happen before the first byte), and never pretend a broken
//! export finished: an error after the first byte ends the body with an
//! error line and then aborts it.

use crate::api::error::ErrorCode;
use std::io::Write;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::Response;
use axum::routing::get;
use tokio::sync::mpsc;

use super::ApiError;
use crate::engine::{ExportError, Rapport};
use crate::export::ExportRequest;
use crate::export::rows::{RowError, RowWriter};

type App = Arc<Rapport>;
type Chunk = Result<Bytes, std::io::Error>;

/// Bytes per chunk sent to the response body.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks in flight between the export thread and the client: with
/// `CHUNK_BYTES`, at most about 1 MiB of output waits per export.
const CHUNKS_IN_FLIGHT: usize = 16;

pub fn routes() -> Router<App> {
    Router::new().route("/v1/export", get(export))
}

/// An `io::Write` that sends full chunks into the bounded channel, waiting
/// while it is full; it fails once the client has gone.
struct ChannelWriter {
    buffer: Vec<u8>,
    sender: mpsc::Sender<Chunk>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK_BYTES),
        ));
        self.sender.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the client closed the connection",
            )
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

async fn export(
    State(app): State<App>,
    axum::Extension(identity): axum::Extension<crate::auth::Identity>,
    uri: axum::http::Uri,
    query_params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let query = uri.query().map(str::to_string);
    let Query(params) = query_params
        .map_err(|e| ApiError::bad_request(ErrorCode::InvalidParameter, e.body_text()))?;
    let mut request =
        ExportRequest::from_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    request.scope = super::scope::of(&identity)?;
    let file_name = request.file_name();
    let content_type = request.format.content_type();
    let preparing = app.clone();
    let prepared = tokio::task::spawn_blocking(move || preparing.prepare_export(request)).await??;
    let warnings = prepared.warnings().join("; ");
    let purpose = prepared.request.purpose.clone();
    let actor = identity.actor.clone();
    let (sender, mut receiver) = mpsc::channel::<Chunk>(CHUNKS_IN_FLIGHT);
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let out = ChannelWriter {
            buffer: Vec::with_capacity(CHUNK_BYTES),
            sender: sender.clone(),
        };
        let request = prepared.request.clone();
        let mut writer = RowWriter::new(
            out,
            request.format,
            request.columns(),
            request.fields.is_none(),
        );
        match app.write_export(prepared, &mut writer) {
            Ok(summary) => {
                if let Err(e) = app.audit_purpose_export(&actor, &request, &summary) {
                    tracing::error!(error = %e, "cannot write the purpose export's audit entry");
                }
                let delivered = writer.finish();
                if let Err(e) = &delivered {
                    tracing::info!(error = %e, "export not delivered to the end: the client went away");
                }
                super::audit::export_finished(
                    &app,
                    &identity.actor,
                    query,
                    &summary,
                    delivered.is_ok(),
                );
            }
            Err(ExportError::Row(RowError::Io(e))) => {
                tracing::info!(error = %e, "export stopped: the client went away");
            }
            Err(e) => {
                tracing::error!(error = %e, "export failed after the response started");
                let _ = writer.error_line(&e.to_string());
                let _ = writer.finish();
                let _ = sender.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    let mut response = Response::builder()
        .header(CONTENT_TYPE, content_type)
        .header(
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        );
    if let Some(purpose) = purpose {
        // The count of what was left out is known at the end: it is the
        // body's last line (see `RowWriter::purpose_trailer`).
        response = response
            .header("x-rapport-purpose", purpose)
            .header("x-rapport-left-out", "trailer");
    }
    if !warnings.is_empty()
        && let Ok(value) = axum::http::HeaderValue::from_str(&warnings.replace(['\r', '\n'], " "))
    {
        response = response.header("x-rapport-warnings", value);
    }
    response
        .body(Body::from_stream(stream))
        .map_err(ApiError::internal)
}
