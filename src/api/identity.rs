//! Identity routes: web sign-in (`POST /v1/session` with a user name and
//! password, or a one-time link token), who am I (`GET /v1/session`),
//! sign-out (`DELETE /v1/session`), and API keys for admins (`/v1/keys`).
//!
//! Handlers only parse, call `auth`, and shape JSON and cookies. They must
//! never echo a password, key or token back except the one new secret a
//! caller asked for, and never say whether a user name exists.

use crate::api::error::ErrorCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use super::auth::{AuthState, SESSION_COOKIE, cross_site, forbidden, session_cookie};
use crate::auth::{AuthError, Identity, parse_expiry, users};

type Auth = Arc<AuthState>;

pub fn routes(auth: Auth) -> Router<Arc<crate::engine::Rapport>> {
    Router::new()
        .route("/v1/session", get(whoami).post(sign_in).delete(sign_out))
        .route("/v1/keys", get(list_keys).post(create_key))
        .route("/v1/keys/{id}", delete(revoke_key))
        .route("/v1/keys/{id}/rotate", post(rotate_key))
        .layer(Extension(auth))
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Invalid(m) => ApiError::bad_request(ErrorCode::InvalidBody, m),
            AuthError::NotFound(m) => ApiError {
                status: StatusCode::NOT_FOUND,
                code: ErrorCode::NotFoundIdentity,
                message: m,
            },
            AuthError::Store(s) => ApiError::internal(s),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    password: Option<String>,
    /// A one-time sign-in link's token.
    #[serde(default)]
    link: Option<String>,
}

fn sign_in_failed() -> ApiError {
    ApiError {
        status: StatusCode::UNAUTHORIZED,
        code: ErrorCode::SignInFailed,
        message: "wrong user name or password, or the link was used or has expired".into(),
    }
}

fn locked(wait: Duration) -> Response {
    let secs = wait.as_secs().max(1);
    let mut response = ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: ErrorCode::LockedOut,
        message: format!("too many failed sign-ins for this user: try again in {secs} s"),
    }
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// Signs in, and names the user the attempt was for (`user:NAME`) as the
/// actor of its audit entry, whether it succeeded or not.
async fn sign_in(
    auth: Extension<Auth>,
    headers: HeaderMap,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Response {
    let attempted = body
        .as_ref()
        .ok()
        .and_then(|Json(b)| b.user.as_deref())
        .map(|u| format!("user:{}", u.trim()));
    let mut response = sign_in_checked(auth, headers, body).await.into_response();
    if let Some(actor) = attempted {
        response.extensions_mut().insert(super::audit::Actor(actor));
    }
    response
}

async fn sign_in_checked(
    Extension(auth): Extension<Auth>,
    headers: HeaderMap,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    if cross_site(&headers) {
        return Err(forbidden(
            ErrorCode::CsrfRefused,
            "sign-in must come from this site".into(),
        ));
    }
    let Json(body) = body.map_err(|r| {
        ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!(
                "{} (expected {{\"user\": \"...\", \"password\": \"...\"}} or {{\"link\": \"...\"}})",
                r.body_text()
            ),
        )
    })?;
    let user = match (body.user, body.password, body.link) {
        (None, None, Some(link)) => auth
            .sessions
            .redeem_link(&link)
            .ok_or_else(sign_in_failed)?,
        (Some(user), Some(password), None) => {
            let user = user.trim().to_string();
            if let Some(wait) = auth.sessions.locked(&user) {
                return Ok(locked(wait));
            }
            let checker = auth.clone();
            let name = user.clone();
            let ok = tokio::task::spawn_blocking(move || {
                let record = checker.app.identities().user(&name)?;
                let usable = record.as_ref().filter(|u| !u.disabled);
                Ok::<_, crate::store::StoreError>(users::verify(usable, &password))
            })
            .await?
            .map_err(ApiError::internal)?;
            if !ok {
                tracing::warn!(user = %user, "failed sign-in");
                if let Some(wait) = auth.sessions.failed(&user) {
                    return Ok(locked(wait));
                }
                return Err(sign_in_failed());
            }
            auth.sessions.succeeded(&user);
            user
        }
        _ => {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidBody,
                "send {\"user\", \"password\"} or {\"link\"}",
            ));
        }
    };
    let record = auth
        .app
        .identities()
        .user(&user)
        .map_err(ApiError::internal)?;
    let identity = record
        .as_ref()
        .and_then(|u| users::identity(u, &auth.roles, crate::auth::Via::Session))
        .ok_or_else(sign_in_failed)?;
    let opened = auth.sessions.open(&user).map_err(ApiError::internal)?;
    tracing::info!(actor = %identity.actor, "signed in");
    let max_age = auth.sessions.settings().absolute.as_secs();
    let secure = if auth.secure_cookie { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        opened.token
    );
    let mut response = (
        StatusCode::OK,
        Json(json!({
            "actor": identity.actor,
            "role": identity.role,
            "csrf_token": opened.csrf,
        })),
    )
        .into_response();
    let value = HeaderValue::from_str(&cookie).map_err(ApiError::internal)?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    Ok(response)
}

async fn whoami(
    Extension(auth): Extension<Auth>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
) -> Json<Value> {
    let csrf = session_cookie(&headers)
        .and_then(|t| auth.sessions.lookup(t))
        .map(|s| s.csrf);
    Json(json!({
        "actor": identity.actor,
        "role": identity.role,
        "via": identity.via,
        "permissions": identity.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "scope": identity.scope,
        "csrf_token": csrf,
    }))
}

async fn sign_out(Extension(auth): Extension<Auth>, headers: HeaderMap) -> Response {
    if let Some(token) = session_cookie(&headers) {
        auth.sessions.close(token);
    }
    let mut response = Json(json!({ "signed_out": true })).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("rapport_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKeyBody {
    name: String,
    role: String,
    /// `90d`, `12h`; none: the key does not expire.
    #[serde(default)]
    expires: Option<String>,
    /// Row-level scope: field → filter value, e.g. `{"customer_country": "JP"}`.
    #[serde(default)]
    scope: std::collections::BTreeMap<String, String>,
}

async fn list_keys(Extension(auth): Extension<Auth>) -> Result<Json<Value>, ApiError> {
    let keys = tokio::task::spawn_blocking(move || auth.app.identities().keys()).await??;
    Ok(Json(json!({ "keys": keys })))
}

async fn create_key(
    Extension(auth): Extension<Auth>,
    Extension(identity): Extension<Identity>,
    body: Result<Json<NewKeyBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body.map_err(|r| {
        ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!(
                "{} (expected {{\"name\", \"role\", \"expires\": \"90d\"}})",
                r.body_text()
            ),
        )
    })?;
    let expires = body.expires.as_deref().map(parse_expiry).transpose()?;
    crate::engine::parse_scope(&body.scope)
        .map_err(|e| ApiError::bad_request(ErrorCode::InvalidBody, format!("scope: {e}")))?;
    let new = tokio::task::spawn_blocking(move || {
        auth.app
            .identities()
            .create_key(&auth.roles, &body.name, &body.role, expires, body.scope)
    })
    .await??;
    tracing::info!(actor = %identity.actor, key = %new.key.id, "key created over HTTP");
    Ok((StatusCode::CREATED, Json(json!(new))))
}

async fn revoke_key(
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = tokio::task::spawn_blocking(move || auth.app.identities().revoke_key(&id)).await??;
    Ok(Json(json!(key)))
}

async fn rotate_key(
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let new =
        tokio::task::spawn_blocking(move || auth.app.identities().rotate_key(&auth.roles, &id))
            .await??;
    Ok((StatusCode::CREATED, Json(json!(new))))
}
