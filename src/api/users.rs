//! Staff users for admins over HTTP (`users` permission): `GET /v1/users`
//! lists them, `POST /v1/users` adds one (with a password, or `"sso": true`
//! for single sign-on only, and an optional row-level scope), `PATCH
//! /v1/users/{name}` sets a password or disables and enables, and `POST
//! /v1/users/{name}/sign-in-link` issues a one-time sign-in link (shown
//! once). The CLI's `rapport users` goes through these while a server holds
//! the store.
//!
//! It must never echo a password or its hash, and never accept a password
//! anywhere but the JSON body.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use super::auth::AuthState;
use crate::api::error::ErrorCode;
use crate::auth::Identity;

type Auth = Arc<AuthState>;

pub fn routes(auth: Auth) -> Router<Arc<crate::engine::Rapport>> {
    Router::new()
        .route("/v1/users", get(list_users).post(add_user))
        .route("/v1/users/{name}", patch(update_user))
        .route("/v1/users/{name}/sign-in-link", post(sign_in_link))
        .layer(Extension(auth))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    role: String,
    #[serde(default)]
    password: Option<String>,
    /// Signs in only through the single sign-on proxy: no password.
    #[serde(default)]
    sso: bool,
    #[serde(default)]
    scope: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    /// How long the link stays valid (`15m`, `24h`, at most `7d`).
    #[serde(default)]
    valid: Option<String>,
}

/// How long a link stays valid when the request does not say.
const DEFAULT_LINK_LIFETIME: std::time::Duration = std::time::Duration::from_secs(15 * 60);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserChange {
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    disabled: Option<bool>,
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>, expected: &str) -> Result<T, ApiError> {
    body.map(|Json(b)| b).map_err(|r| {
        ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!("{} (expected {expected})", r.body_text()),
        )
    })
}

async fn list_users(Extension(auth): Extension<Auth>) -> Result<Json<Value>, ApiError> {
    let users = tokio::task::spawn_blocking(move || auth.app.identities().users()).await??;
    Ok(Json(json!({ "users": users })))
}

async fn add_user(
    Extension(auth): Extension<Auth>,
    Extension(identity): Extension<Identity>,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = json_body(
        body,
        r#"{"name", "role", "password"} or {"name", "role", "sso": true}"#,
    )?;
    if body.sso == body.password.is_some() {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidBody,
            "give a `password`, or `\"sso\": true` for a user who signs in only through the single sign-on proxy",
        ));
    }
    crate::engine::parse_scope(&body.scope)
        .map_err(|e| ApiError::bad_request(ErrorCode::InvalidBody, format!("scope: {e}")))?;
    let user = tokio::task::spawn_blocking(move || {
        auth.app.identities().add_user(
            &auth.roles,
            &body.name,
            &body.role,
            body.password.as_deref(),
            body.scope,
        )
    })
    .await??;
    tracing::info!(actor = %identity.actor, user = %user.name, "user added over HTTP");
    Ok((StatusCode::CREATED, Json(json!(user))))
}

async fn update_user(
    Extension(auth): Extension<Auth>,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
    body: Result<Json<UserChange>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let change = json_body(body, r#"{"password": "…"} or {"disabled": true}"#)?;
    if change.password.is_none() && change.disabled.is_none() {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidBody,
            "nothing to change: give `password` or `disabled`",
        ));
    }
    let user = tokio::task::spawn_blocking(move || {
        let identities = auth.app.identities();
        let mut user = None;
        if let Some(password) = &change.password {
            user = Some(identities.set_password(&name, password)?);
        }
        if let Some(disabled) = change.disabled {
            user = Some(identities.set_disabled(&name, disabled)?);
        }
        Ok::<_, crate::auth::AuthError>(user)
    })
    .await??;
    tracing::info!(actor = %identity.actor, "user changed over HTTP");
    Ok(Json(json!(user)))
}

async fn sign_in_link(
    Extension(auth): Extension<Auth>,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: LinkRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LinkRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(
                ErrorCode::InvalidBody,
                format!("{e} (expected nothing, or {{\"valid\": \"30m\"}})"),
            )
        })?
    };
    let lifetime = match &request.valid {
        None => DEFAULT_LINK_LIFETIME,
        Some(text) => crate::units::parse_duration(text)
            .map_err(|e| ApiError::bad_request(ErrorCode::InvalidBody, format!("valid: {e}")))?,
    };
    let link =
        tokio::task::spawn_blocking(move || auth.app.identities().sign_in_link(&name, lifetime))
            .await??;
    tracing::info!(actor = %identity.actor, user = %link.user, "sign-in link issued over HTTP");
    Ok((StatusCode::CREATED, Json(json!(link))))
}
