//! TLS for the HTTP server: `[server] tls_cert` and `tls_key` (PEM) become a
//! rustls acceptor (ring provider, TLS 1.2 and 1.3, ALPN h2 and http/1.1)
//! that the accept loop wraps around every connection.
//!
//! It must never serve plain HTTP when a certificate is configured, and
//! never start with a certificate or key it cannot read: the error names the
//! file and the setting.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::api::ServerLimits;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("[server] {setting}: {path}: {reason}")]
    File {
        setting: &'static str,
        path: String,
        reason: String,
    },
    #[error("[server] tls_cert and tls_key go together: set both or neither")]
    Half,
    #[error("[server] tls_cert/tls_key: {0}")]
    Config(String),
}

/// The acceptor of the configured certificate, or `None` for plain HTTP.
pub fn acceptor(limits: &ServerLimits) -> Result<Option<TlsAcceptor>, TlsError> {
    let (cert, key) = match (&limits.tls_cert, &limits.tls_key) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        _ => return Err(TlsError::Half),
    };
    let chain = certificates(cert)?;
    let key = private_key(key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

fn file_error(setting: &'static str, path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        setting,
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error("tls_cert", path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error("tls_cert", path, e))?;
    if chain.is_empty() {
        return Err(file_error("tls_cert", path, "holds no PEM certificate"));
    }
    Ok(chain)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| file_error("tls_key", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_a_configuration_and_unreadable_files_are_refused_with_the_setting() {
        let mut limits = ServerLimits::default();
        assert!(acceptor(&limits).unwrap().is_none());
        limits.tls_cert = Some("/nonexistent/cert.pem".into());
        assert!(matches!(acceptor(&limits), Err(TlsError::Half)));
        limits.tls_key = Some("/nonexistent/key.pem".into());
        let message = acceptor(&limits).err().unwrap().to_string();
        assert!(
            message.contains("tls_cert") && message.contains("/nonexistent/cert.pem"),
            "{message}"
        );
    }
}
