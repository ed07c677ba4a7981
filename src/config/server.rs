//! `[server]` of rapport.toml: the HTTP server's resource limits (timeouts,
//! connections, requests in flight, body sizes), the names and origins it
//! answers, and its TLS certificate. The API enforces them (api/limits.rs,
//! api/hardening.rs, api/tls.rs); this file only says what they are.
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
    /// Origins whose pages may call the API from a browser (CORS), e.g.
    /// `https://dashboards.example.com`; empty: none (closed).
    pub cors_origins: Vec<String>,
    /// PEM certificate chain: with `tls_key`, the server speaks HTTPS only.
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<std::path::PathBuf>,
    /// Whether the server reads the book's statistics in the background
    /// once it is up and after each full resolution pass, so that the
    /// first change after them re-resolves only what it touches. They
    /// stay resident (about 1.7 GiB at 1M records); `false` keeps that
    /// memory free, and the first change then reads the book itself.
    pub warm_book_statistics: bool,
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
            cors_origins: Vec::new(),
            tls_cert: None,
            tls_key: None,
            warm_book_statistics: true,
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

    /// What cannot be served: a CORS origin that is not `scheme://host[:port]`,
    /// half a TLS configuration.
    pub fn check(&self) -> Result<(), super::InvalidSetting> {
        for origin in &self.cors_origins {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            let valid = rest.is_some_and(|host| {
                !host.is_empty()
                    && !host.contains('/')
                    && host.chars().all(|c| c.is_ascii_graphic())
            });
            if !valid {
                return Err(super::InvalidSetting::CorsOrigin(origin.clone()));
            }
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(super::InvalidSetting::HalfTls);
        }
        Ok(())
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
