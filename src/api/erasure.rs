//! Erasure over HTTP: `POST /v1/erasures` erases a person on request (GDPR)
//! and answers with the audit entry it wrote; `GET /v1/audit` lists the
//! audit log, oldest first.
//!
//! Handlers parse the body, call the engine on a blocking thread, and
//! shape JSON; they must never decide what belongs to a person (that is
//! `engine::erasure`).

use crate::api::error::ErrorCode;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::ApiError;
use crate::auth::Identity;
use crate::engine::{AuditQuery, ErasureError, ErasureRequest, Rapport};

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
            ErasureError::Ledger(inner) => ApiError::internal(inner),
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

/// `GET /v1/audit`: entries filtered by `actor`, `action`, `customer_id`,
/// `from` and `to` (RFC 3339), paged by `after` (a sequence number) and
/// `limit` (default 100, at most 1,000); `verify=true` also walks the whole
/// chain and says whether it holds.
async fn audit(
    State(app): State<App>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let mut query = AuditQuery {
        limit: 100,
        ..AuditQuery::default()
    };
    let mut verify = false;
    let bad = |name: &str, message: String| {
        ApiError::bad_request(
            ErrorCode::InvalidParameter,
            format!("parameter `{name}` {message}"),
        )
    };
    let time = |name: &str, value: &str| {
        chrono::DateTime::parse_from_rfc3339(value)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| bad(name, format!("must be an RFC 3339 time ({e})")))
    };
    for (name, value) in params {
        match name.as_str() {
            "actor" => query.actor = Some(value),
            "action" => query.action = Some(value),
            "customer_id" => query.customer_id = Some(value),
            "from" => query.from = Some(time("from", &value)?),
            "to" => query.to = Some(time("to", &value)?),
            "after" => {
                query.after = value
                    .parse()
                    .map_err(|_| bad("after", "must be a sequence number".into()))?
            }
            "limit" => {
                query.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| bad("limit", "must be between 1 and 1000".into()))?
            }
            "verify" => verify = value == "true",
            _ => {
                return Err(ApiError::bad_request(
                    ErrorCode::UnknownParameter,
                    format!(
                        "unknown parameter `{name}`; the audit log takes actor, action, customer_id, from, to, after, limit and verify"
                    ),
                ));
            }
        }
    }
    let (entries, chain) = tokio::task::spawn_blocking(move || {
        let entries = app.audit_entries(&query)?;
        let chain = if verify {
            Some(app.verify_audit()?)
        } else {
            None
        };
        Ok::<_, crate::store::StoreError>((entries, chain))
    })
    .await?
    .map_err(ApiError::internal)?;
    let next_after = entries.last().map(|e| e.seq);
    let mut answer = json!({ "entries": entries, "next_after": next_after });
    if let Some(chain) = chain {
        answer["chain"] = match chain {
            Ok(checked) => json!({ "verified": true, "entries": checked }),
            Err(e) => json!({ "verified": false, "error": e.to_string() }),
        };
    }
    Ok(Json(answer))
}
