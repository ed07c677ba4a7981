//! Browser-facing hardening on every answer: the Host header checked
//! against the names the server answers to (DNS rebinding: a page on a
//! hostile name that resolves to 127.0.0.1 must not reach the API), and the
//! security headers (no sniffing, no framing, no referrer, nothing from
//! `/v1` kept in caches), and CORS opened only to `[server] cors_origins`.
//!
//! It must never loosen a header a handler set: it only adds what is
//! missing.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::api::error::ErrorCode;

/// CORS for the listed origins (bearer keys from dashboards on another
/// origin; cookies are never sent cross-site), or `None` when none is
/// listed. Origins were checked when the configuration was loaded.
pub fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::Method;
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// The names requests may carry in `Host` (`[server] allowed_hosts`); empty:
/// IP addresses and `localhost` only.
pub struct AllowedHosts(pub Vec<String>);

impl AllowedHosts {
    fn admits(&self, host: &str) -> bool {
        let name = host_name(host);
        if self.0.is_empty() {
            return name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok();
        }
        self.0
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(name))
    }
}

/// `example.com:7070` → `example.com`; `[::1]:7070` → `[::1]`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

pub async fn harden(
    State(hosts): State<Arc<AllowedHosts>>,
    mut request: Request,
    next: Next,
) -> Response {
    // HTTP/2 carries the host as the URI's authority: give it a `Host`
    // header, so that every later check (same-site writes) reads one name.
    if !request.headers().contains_key(header::HOST)
        && let Some(value) = request
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    {
        request.headers_mut().insert(header::HOST, value);
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_string()));
    if let Some(host) = host
        && !hosts.admits(&host)
    {
        return ApiError {
            status: StatusCode::MISDIRECTED_REQUEST,
            code: ErrorCode::HostNotAllowed,
            message: format!(
                "this server does not answer to the name `{}`; list it in [server] allowed_hosts",
                host_name(&host)
            ),
        }
        .into_response();
    }
    let api = request.uri().path().starts_with("/v1/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut add = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    add(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    add(header::X_FRAME_OPTIONS, "DENY");
    add(header::REFERRER_POLICY, "no-referrer");
    add(
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    if api {
        add(header::CACHE_CONTROL, "no-store");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_admitted_by_name_without_their_port() {
        let open = AllowedHosts(Vec::new());
        for host in [
            "127.0.0.1:7070",
            "localhost:7070",
            "[::1]:7070",
            "10.0.0.5",
            "LOCALHOST",
        ] {
            assert!(open.admits(host), "{host}");
        }
        assert!(!open.admits("attacker.example:7070"));
        let listed = AllowedHosts(vec!["rapport.corp.example".into()]);
        assert!(listed.admits("rapport.corp.example:443"));
        assert!(listed.admits("Rapport.Corp.Example"));
        assert!(!listed.admits("127.0.0.1:7070"));
    }
}
