//! The HTTP API (axum): `/healthz`, `/metrics` (Prometheus), `/openapi.json`,
//! the versioned JSON API under `/v1`, and the staff web page at `/` (see
//! `web`).
//! Handlers are thin: parse and check parameters, call one [`Rapport`]
//! operation on a blocking thread, shape the JSON.
//!
//! It must never hold business logic, and never answer a caller's mistake with
//! a 5xx or a panic.

mod audit;
pub mod auth;
mod connectors;
mod customers;
mod erasure;
mod error;
mod export;
mod hardening;
mod identity;
mod jobs;
mod limits;
mod metrics;
mod openapi;
mod rate_limit;
mod redaction;
mod request_id;
mod retention;
mod scope;
mod search;
mod snapshots;
mod tls;
mod upload;
mod users;
mod web;
mod writeback;

use error::ErrorCode;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use limits::ServerLimits;

use crate::engine::Rapport;

type App = Arc<Rapport>;

/// The router with no local CLI token and no sign-in link (benchmarks).
pub fn router(app: App) -> Result<Router, crate::config::InvalidSetting> {
    let auth = Arc::new(auth::AuthState::new(app.clone())?);
    Ok(router_with(app, auth))
}

/// Every route behind [`auth::authorize`], which checks each against the
/// permission table [`auth::required`].
pub fn router_with(app: App, auth: Arc<auth::AuthState>) -> Router {
    let http_metrics = Arc::new(metrics::HttpMetrics::new());
    let limits = app.config().server.clone();
    let auth_config = &app.config().auth;
    let rate_limits = Arc::new(rate_limit::RateLimits::new(
        auth_config.rate_limit,
        auth_config.rate_burst,
    ));
    let routes = Router::new()
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
        .merge(retention::routes())
        .merge(snapshots::routes())
        .merge(web::routes())
        .merge(writeback::routes())
        .merge(identity::routes(auth.clone()))
        .merge(users::routes(auth.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            scope::enforce,
        ))
        .layer(axum::middleware::from_fn(redaction::redact))
        .layer(axum::middleware::from_fn_with_state(
            rate_limits,
            rate_limit::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(auth, auth::authorize))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            audit::record,
        ))
        .with_state(app);
    harden(routes, http_metrics, limits)
}

/// The layers around every route, innermost first: a panic becomes a 500
/// (its message logged), metrics, tracing, the body time limit, CORS for
/// the listed origins only, the Host check and security headers
/// (`hardening.rs`), the limits (in-flight requests, body size:
/// `limits.rs`), and outermost the request id that every log line and
/// every 500 carries.
fn harden(routes: Router, http_metrics: Arc<metrics::HttpMetrics>, limits: ServerLimits) -> Router {
    let body_timeout = limits.body_timeout();
    let hosts = Arc::new(hardening::AllowedHosts(limits.allowed_hosts.clone()));
    let cors = hardening::cors(&limits.cors_origins);
    let guard = Arc::new(limits::Guard::new(limits));
    let routes = routes
        // The body limit is applied per route by the guard below.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(CatchPanicLayer::custom(
            |payload: Box<dyn std::any::Any + Send>| {
                let message = request_id::panic_message(payload.as_ref());
                ApiError::internal(format!("the request handler panicked: {message}"))
                    .into_response()
            },
        ))
        .layer(axum::middleware::from_fn_with_state(
            http_metrics.clone(),
            metrics::track,
        ))
        .layer(axum::Extension(http_metrics))
        .layer(TraceLayer::new_for_http())
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            body_timeout,
        ));
    // No origin listed: no CORS headers at all, so browsers keep other
    // sites' pages from reading any answer.
    let routes = match cors {
        Some(cors) => routes.layer(cors),
        None => routes,
    };
    routes
        .layer(axum::middleware::from_fn_with_state(
            hosts,
            hardening::harden,
        ))
        .layer(axum::middleware::from_fn_with_state(guard, limits::guard))
        .layer(axum::middleware::from_fn(request_id::assign))
}

/// Serves until ctrl-c / SIGTERM. Prints the bound address on stdout so that
/// scripts (and tests using port 0) can find it. Each connection has
/// `[server] header_timeout_secs` to send a request's headers; beyond
/// `max_connections`, a connection is answered 503 and closed.
pub async fn serve(
    app: App,
    auth: Arc<auth::AuthState>,
    listener: TcpListener,
) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    let limits = app.config().server.clone();
    let tls = tls::acceptor(&limits).map_err(|e| std::io::Error::other(e.to_string()))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("rapport listening on {scheme}://{address}");
    tracing::info!(%address, scheme, "listening");
    let service = router_with(app, auth);
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout());
    builder.http2().timer(hyper_util::rt::TokioTimer::new());
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tokio::spawn(refuse_connection(stream, limits.max_connections));
            continue;
        };
        // Each request knows the address it came from (trusted proxies,
        // rate limits of open routes).
        let with_peer = tower_http::add_extension::AddExtension::new(
            service.clone(),
            axum::extract::ConnectInfo(peer),
        );
        let hyper_service = hyper_util::service::TowerToHyperService::new(with_peer);
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let handshake_timeout = limits.header_timeout();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(&builder, watcher, stream, hyper_service).await,
                Some(acceptor) => {
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            serve_connection(&builder, watcher, stream, hyper_service).await
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(permit);
        });
    }
    // Requests under way get a bounded time to finish.
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
            tracing::warn!("connections still open after 10 s; closing them");
        }
    }
    Ok(())
}

/// The router as each connection serves it: with the peer's address.
type PeerService = hyper_util::service::TowerToHyperService<
    tower_http::add_extension::AddExtension<
        Router,
        axum::extract::ConnectInfo<std::net::SocketAddr>,
    >,
>;

/// Serves one connection (plain TCP or TLS) until it closes or the server
/// shuts down.
async fn serve_connection<S>(
    builder: &hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    stream: S,
    service: PeerService,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let connection = builder
        .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(stream), service)
        .into_owned();
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Answers a connection over the limit with a 503 and closes it, without
/// reading its request (bounded: one write, at most a second).
async fn refuse_connection(mut stream: tokio::net::TcpStream, limit: usize) {
    use tokio::io::AsyncWriteExt;
    let body = json!({ "error": {
        "code": ErrorCode::Overloaded.as_str(),
        "message": format!("the server is at its limit of {limit} connections ([server] max_connections); retry in a second"),
    } })
    .to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let write = async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), write).await;
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

/// The route template a request matched (`/v1/customers/{id}`), or `None`
/// for the fallback: what the layers that decide by route look at.
pub(crate) fn route_template(request: &axum::extract::Request) -> Option<String> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
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
            ErrorCode::InvalidBody,
            format!(
                "{} (expected {{\"text\": \"...\", \"field\": \"body\"}})",
                rejection.body_text()
            ),
        )
    })?;
    let limit = app.config().server.max_analyze_bytes;
    if body.text.len() > limit {
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: ErrorCode::BodyTooLarge,
            message: format!(
                "`text` is {} bytes; /v1/analyze takes at most {limit} ([server] max_analyze_bytes)",
                body.text.len()
            ),
        });
    }
    let field = body.field.clone();
    let tokens =
        tokio::task::spawn_blocking(move || app.analyze(&body.field, &body.text)).await??;
    Ok(Json(json!({ "field": field, "tokens": tokens })))
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        code: ErrorCode::NotFound,
        message: format!("no route for {method} {}", uri.path()),
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: ErrorCode::MethodNotAllowed,
        message: format!("{method} is not allowed on {}", uri.path()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real server on 127.0.0.1 with the real layers around a route that
    /// panics: the caller sees the generic 500 with the request id (also in
    /// the header), never the panic's text.
    #[tokio::test]
    async fn a_panic_answers_internal_error_with_a_request_id_and_no_detail() {
        let routes = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("secret detail 42");
                    }
                    "unreachable"
                }),
            )
            .route("/ok", get(|| async { "ok" }));
        let app = harden(
            routes,
            Arc::new(metrics::HttpMetrics::new()),
            ServerLimits::default(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::new();

        let response = client
            .get(format!("http://{address}/boom"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 500);
        let header = response.headers()[request_id::HEADER.as_str()]
            .to_str()
            .unwrap()
            .to_string();
        let body = response.text().await.unwrap();
        assert!(!body.contains("secret"), "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["message"], "internal error");
        assert_eq!(body["error"]["request_id"], header.as_str());

        let ok = client
            .get(format!("http://{address}/ok"))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status().as_u16(), 200);
        let other = ok.headers()[request_id::HEADER.as_str()].to_str().unwrap();
        assert_ne!(other, header, "each request has its own id");
        // The server still serves after the panic.
        assert_eq!(ok.text().await.unwrap(), "ok");
    }
}
