//! Why a setting of rapport.toml cannot work: one variant per rule, each
//! naming the key, so `Config::load` can say which line to fix.
//!
//! It must never read the file or the environment; the checks that find
//! these live next to the settings they check.

use crate::auth::RoleError;
use crate::index::settings::IndexSettingError;
use crate::units::DurationError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSetting {
    #[error(transparent)]
    Roles(#[from] RoleError),
    #[error("auth.trusted_proxies: `{0}` is not an address or a network")]
    TrustedProxy(String),
    #[error("auth.trusted_header: `{0}` is not a header name")]
    TrustedHeaderName(String),
    #[error(
        "auth.trusted_header needs auth.trusted_proxies: the addresses of the proxies that set it"
    )]
    TrustedHeaderWithoutProxies,
    #[error("auth.{key}: {source}")]
    SessionDuration {
        key: &'static str,
        source: DurationError,
    },
    #[error("retention.every {0}")]
    RetentionEvery(DurationError),
    #[error("server.cors_origins: `{0}` is not an origin (scheme://host[:port], no path)")]
    CorsOrigin(String),
    #[error("server.tls_cert and server.tls_key go together: set both or neither")]
    HalfTls,
    #[error(transparent)]
    Index(#[from] IndexSettingError),
}
