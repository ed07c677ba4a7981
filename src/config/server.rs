//! `[server]` of rapport.toml: the HTTP server's resource limits (timeouts,
//! connections, requests in flight, body sizes). The API enforces them
//! (api/limits.rs); this file only says what they are.
//!
//! It must never enforce anything itself.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerLimits {
    /// Seconds a connection may take to send a request's headers.
    pub header_timeout_secs: u64,
    /// Seconds a request may take to send its body.
    pub body_timeout_secs: u64,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Requests handled at once; more are answered 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// Largest JSON body (search, notes, erasures, analyze, …), in bytes.
    pub max_body_bytes: usize,
    /// Largest `POST /v1/attributes` body, in bytes.
    pub max_upload_bytes: usize,
    /// Largest `text` `POST /v1/analyze` takes, in bytes (its answer is
    /// about 30 times the text).
    pub max_analyze_bytes: usize,
    /// Names the server answers to in `Host` (DNS rebinding); empty: IP
    /// addresses and `localhost` only.
    pub allowed_hosts: Vec<String>,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_timeout_secs: 10,
            body_timeout_secs: 30,
            max_connections: 1024,
            max_in_flight: 256,
            max_body_bytes: 2 * 1024 * 1024,
            max_upload_bytes: 64 * 1024 * 1024,
            max_analyze_bytes: 64 * 1024,
            allowed_hosts: Vec::new(),
        }
    }
}

impl ServerLimits {
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs.max(1))
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs.max(1))
    }

    /// The body limit of the route at `path`.
    pub fn body_limit(&self, path: &str) -> usize {
        if path == "/v1/attributes" {
            self.max_upload_bytes
        } else {
            self.max_body_bytes
        }
    }
}
