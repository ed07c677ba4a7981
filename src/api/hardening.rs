//! Browser-facing hardening on every answer: the Host header checked
//! against the names the server answers to (DNS rebinding: a page on a
//! hostile name that resolves to 127.0.0.1 must not reach the API), and the
//! security headers (no sniffing, no framing, no referrer, nothing from
//! `/v1` kept in caches).
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
    request: Request,
    next: Next,
) -> Response {
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
