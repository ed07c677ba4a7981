//! Access control at the HTTP edge: [`required`] is the one table from
//! route (method + template) to what it needs, and [`authorize`] is the one
//! middleware that enforces it before any handler runs. It finds the
//! caller's [`Identity`] (a `Bearer` API key, the server's local CLI token,
//! the user named by a trusted single sign-on proxy, or a session cookie),
//! answers 401 (with `WWW-Authenticate: Bearer`) or
//! 403, refuses cookie-authenticated writes without the session's CSRF token
//! or from another site, and hands the identity to the handler as a request
//! extension.
//!
//! It must never let a request reach a handler whose route is not in the
//! table (unknown method + route pairs are answered 405 here), and never put
//! a presented secret into a log line, an error message or a metric.

use crate::api::error::ErrorCode;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::auth::sessions::{SessionSettings, Sessions};
use crate::auth::{Identity, Permission, Roles, Via, secrets, users};
use crate::engine::Rapport;

/// The cookie a web session travels in.
pub const SESSION_COOKIE: &str = "rapport_session";
/// The header a cookie-authenticated write must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What a route needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the health check, the page shell, the API description, and
    /// the sign-in itself.
    Open,
    /// Any authenticated identity.
    SignedIn,
    Needs(Permission),
}

/// The permission table: every route the router serves, by method and
/// route template. `None` means the pair is not served.
pub fn required(method: &Method, route: &str) -> Option<Access> {
    use Access::{Needs, Open, SignedIn};
    use Permission::*;
    // HEAD runs the GET handler, so it needs what GET needs.
    let m = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    Some(match (m, route) {
        ("GET", "/" | "/assets/app.js" | "/assets/app.css" | "/healthz" | "/openapi.json") => Open,
        ("POST", "/v1/session") => Open,
        ("GET" | "DELETE", "/v1/session") => SignedIn,
        ("GET" | "POST", "/v1/search") | ("GET", "/v1/suggest") | ("POST", "/v1/analyze") => {
            Needs(Search)
        }
        ("GET", "/v1/customers/{id}" | "/v1/customers/{id}/timeline" | "/v1/notes/{id}") => {
            Needs(CustomersRead)
        }
        ("POST", "/v1/notes") | ("PUT" | "PATCH" | "DELETE", "/v1/notes/{id}") => Needs(NotesWrite),
        ("GET", "/v1/export" | "/v1/customers") => Needs(Export),
        ("POST", "/v1/attributes") => Needs(AttributesWrite),
        (
            "POST",
            "/v1/customers/merge"
            | "/v1/customers/never-merge"
            | "/v1/customers/{id}/split"
            | "/v1/customers/{id}/attach"
            | "/v1/customers/{id}/rectify",
        ) => Needs(Merge),
        ("POST", "/v1/erasures" | "/v1/retention/run")
        | ("GET", "/v1/customers/{id}/subject-export" | "/v1/retention/plan") => Needs(Erasure),
        ("GET", "/v1/quality")
        | ("GET", "/v1/quality/unattached" | "/v1/quality/records" | "/v1/quality/duplicates") => {
            Needs(Quality)
        }
        ("GET", "/v1/audit") => Needs(Audit),
        ("POST", "/v1/reindex")
        | ("GET", "/v1/jobs" | "/v1/jobs/{id}")
        | ("DELETE", "/v1/jobs/{id}") => Needs(Reindex),
        ("POST", "/v1/snapshots") => Needs(Snapshots),
        ("GET", "/v1/connectors" | "/metrics") => Needs(Operate),
        ("GET" | "POST", "/v1/keys")
        | ("DELETE", "/v1/keys/{id}")
        | ("POST", "/v1/keys/{id}/rotate") => Needs(Keys),
        ("GET" | "POST", "/v1/users")
        | ("PATCH", "/v1/users/{name}")
        | ("POST", "/v1/users/{name}/sign-in-link") => Needs(Users),
        _ => return None,
    })
}

/// What the middleware and the identity routes share.
pub struct AuthState {
    pub app: Arc<Rapport>,
    pub roles: Roles,
    pub sessions: Sessions,
    /// The hash of the server's local CLI token (`data_dir/server.token`).
    local: Option<String>,
    pub secure_cookie: bool,
    /// `[auth] trusted_header` and the proxies it is believed from.
    trusted: Option<(HeaderName, Vec<ipnet::IpNet>)>,
}

impl AuthState {
    pub fn new(app: Arc<Rapport>) -> Result<AuthState, crate::config::InvalidSetting> {
        let config = &app.config().auth;
        let roles = config.roles()?;
        let settings: SessionSettings = config.session_settings()?;
        // Under TLS the cookie is always `Secure`.
        let secure_cookie = config.secure_cookie || app.config().server.tls_cert.is_some();
        let trusted = config
            .trusted_header()?
            .map(|header| config.trusted_proxies().map(|proxies| (header, proxies)))
            .transpose()?;
        let records: Arc<dyn crate::auth::sessions::SessionRecords> = app.clone();
        Ok(AuthState {
            app,
            roles,
            sessions: Sessions::new(settings).saved_in(records),
            local: None,
            secure_cookie,
            trusted,
        })
    }

    /// Accept `token` as the local CLI's admin credential.
    pub fn with_local_token(mut self, token: &str) -> AuthState {
        self.local = Some(secrets::hash(token));
        self
    }

    /// The identity a request presents, or why it has none. `peer` is the
    /// address the request came from, when known.
    fn identify(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Result<(Identity, Option<String>), ApiError> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let presented = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <key>`"))?;
            if let Some(local) = &self.local
                && secrets::matches(presented, local)
            {
                return Ok((self.local_identity(), None));
            }
            return self
                .app
                .identities()
                .authenticate_key(&self.roles, presented)
                .map(|identity| (identity, None))
                .map_err(|refusal| unauthorized(&refusal.to_string()));
        }
        if let Some(identity) = self.proxied_user(headers, peer)? {
            return Ok((identity, None));
        }
        let Some(token) = session_cookie(headers) else {
            return Err(unauthorized(
                "sign in, or send an API key as `Authorization: Bearer <key>`",
            ));
        };
        let session = self
            .sessions
            .lookup(token)
            .ok_or_else(|| unauthorized("the session has ended: sign in again"))?;
        let user = self
            .app
            .identities()
            .user(&session.user)
            .map_err(ApiError::internal)?;
        let identity = user
            .as_ref()
            .and_then(|u| users::identity(u, &self.roles, Via::Session))
            .ok_or_else(|| unauthorized("this user can no longer sign in"))?;
        Ok((identity, Some(session.csrf)))
    }

    /// The user the single sign-on proxy vouches for, if the request
    /// carries the trusted header. The header from any other address is
    /// refused rather than ignored, so a misrouted request is visible.
    fn proxied_user(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Result<Option<Identity>, ApiError> {
        let Some((header, proxies)) = &self.trusted else {
            return Ok(None);
        };
        let Some(value) = headers.get(header) else {
            return Ok(None);
        };
        let from_proxy = peer.is_some_and(|ip| proxies.iter().any(|net| net.contains(&ip)));
        if !from_proxy {
            tracing::warn!(?peer, header = %header, "trusted header from an address not in [auth] trusted_proxies");
            return Err(unauthorized(&format!(
                "`{header}` is accepted only from the proxies in [auth] trusted_proxies"
            )));
        }
        let name = value
            .to_str()
            .map(str::trim)
            .ok()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| unauthorized(&format!("`{header}` names no user")))?;
        let user = self
            .app
            .identities()
            .user(name)
            .map_err(ApiError::internal)?;
        user.as_ref()
            .and_then(|u| users::identity(u, &self.roles, Via::Proxy))
            .map(Some)
            .ok_or_else(|| {
                unauthorized(&format!(
                    "the single sign-on user `{name}` is not an enabled Rapport user (rapport users add {name} --role ROLE --sso)"
                ))
            })
    }

    fn local_identity(&self) -> Identity {
        Identity {
            actor: "local".into(),
            role: "admin".into(),
            permissions: Permission::ALL.iter().copied().collect(),
            scope: Default::default(),
            via: Via::Local,
        }
    }
}

pub fn unauthorized(message: &str) -> ApiError {
    ApiError {
        status: StatusCode::UNAUTHORIZED,
        code: ErrorCode::Unauthorized,
        message: message.to_string(),
    }
}

pub fn forbidden(code: ErrorCode, message: String) -> ApiError {
    ApiError {
        status: StatusCode::FORBIDDEN,
        code,
        message,
    }
}

/// The session token of the request's cookie, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// A browser request from another site: `Sec-Fetch-Site` says so, or
/// `Origin` names another host than `Host`.
pub fn cross_site(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    match (text("origin"), text("host")) {
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
            origin_host != host
        }
        (Some(_), None) => true,
        _ => false,
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The one gate before every handler (see the module comment).
pub async fn authorize(
    State(auth): State<Arc<AuthState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(route) = request.extensions().get::<MatchedPath>().cloned() else {
        // The router's fallback (404): no handler runs.
        return next.run(request).await;
    };
    let method = request.method().clone();
    let access = match required(&method, route.as_str()) {
        Some(access) => access,
        None => {
            return ApiError {
                status: StatusCode::METHOD_NOT_ALLOWED,
                code: ErrorCode::MethodNotAllowed,
                message: format!("{method} is not allowed on {}", request.uri().path()),
            }
            .into_response();
        }
    };
    if access == Access::Open {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    let (identity, csrf) = match auth.identify(request.headers(), peer) {
        Ok(found) => found,
        Err(error) => {
            let mut response = error.into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rapport\""),
            );
            return response;
        }
    };
    if let Some(csrf) = csrf
        && !is_safe(&method)
    {
        let headers = request.headers();
        let token_ok = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|given| {
                subtle::ConstantTimeEq::ct_eq(given.as_bytes(), csrf.as_bytes()).into()
            });
        if !token_ok || cross_site(headers) {
            return forbidden(
                ErrorCode::CsrfRefused,
                format!(
                    "a signed-in write needs the session's `{CSRF_HEADER}` header and must come from this site"
                ),
            )
            .into_response();
        }
    }
    // The proxy's own sign-in travels with every browser request, as a
    // cookie does: a write from another site is refused.
    if identity.via == Via::Proxy && !is_safe(&method) && cross_site(request.headers()) {
        return forbidden(
            ErrorCode::CsrfRefused,
            "a write signed in through the single sign-on proxy must come from this site".into(),
        )
        .into_response();
    }
    if let Access::Needs(permission) = access
        && !identity.can(permission)
    {
        let mut refused = forbidden(
            ErrorCode::Forbidden,
            format!(
                "the role `{}` does not have the permission `{permission}` that {method} {} needs",
                identity.role,
                route.as_str()
            ),
        )
        .into_response();
        refused
            .extensions_mut()
            .insert(super::audit::Actor(identity.actor.clone()));
        return refused;
    }
    let actor = super::audit::Actor(identity.actor.clone());
    request.extensions_mut().insert(identity);
    let mut response = next.run(request).await;
    response.extensions_mut().insert(actor);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation of openapi.json has an entry in the table, and its
    /// `x-permission` and `security` say what the table says.
    #[test]
    fn the_table_and_the_openapi_document_agree() {
        let doc: serde_json::Value =
            serde_json::from_str(super::super::openapi::OPENAPI_JSON).unwrap();
        let mut count = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Ok(m) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                    continue;
                };
                if !op.is_object() {
                    continue;
                }
                count += 1;
                let access = required(&m, path)
                    .unwrap_or_else(|| panic!("{method} {path} declares no permission"));
                let documented = op["x-permission"].as_str().unwrap_or("<missing>");
                let expected = match access {
                    Access::Open => "open".to_string(),
                    Access::SignedIn => "signed-in".to_string(),
                    Access::Needs(p) => p.to_string(),
                };
                assert_eq!(documented, expected, "{method} {path}: x-permission");
                let security = &op["security"];
                if access == Access::Open {
                    assert_eq!(
                        security,
                        &serde_json::json!([]),
                        "{method} {path}: security"
                    );
                } else {
                    assert!(
                        security.as_array().is_some_and(|s| s.len() == 2),
                        "{method} {path}: security names the bearer key and the session cookie"
                    );
                }
            }
        }
        assert!(count > 30, "{count} operations");
    }
}
