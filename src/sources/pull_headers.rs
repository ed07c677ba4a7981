//! The request headers of a pull that carry credentials: each header's
//! value is read from the environment variable `rapport.toml` names
//! (`pull = { url = "…", headers = { Authorization = "ZENDESK_AUTH" } }`),
//! at every fetch, so a rotated secret is picked up without a restart.
//!
//! It must never log, store or put into an error message a header's value:
//! errors name the header and the variable only, and every value is marked
//! sensitive (hidden from reqwest's and hyper's debug output).

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    #[error(
        "the environment variable {var} (for the pull's {header} header) is not set: set it in the server's environment"
    )]
    Missing { header: String, var: String },
    #[error(
        "the environment variable {var} (for the pull's {header} header) does not hold a valid header value (control characters or non-UTF-8?)"
    )]
    BadValue { header: String, var: String },
    #[error("`{header}` in the pull's headers is not a valid HTTP header name")]
    BadName { header: String },
}

/// The headers named in `headers` (header name → variable name), their
/// values read through `var` (the process environment in production).
pub fn from_env(
    headers: &BTreeMap<String, String>,
    var: impl Fn(&str) -> Option<String>,
) -> Result<HeaderMap, HeaderError> {
    let mut out = HeaderMap::new();
    for (header, name) in headers {
        let key =
            HeaderName::from_bytes(header.trim().as_bytes()).map_err(|_| HeaderError::BadName {
                header: header.clone(),
            })?;
        let value = var(name).ok_or_else(|| HeaderError::Missing {
            header: header.clone(),
            var: name.clone(),
        })?;
        let mut value = HeaderValue::from_str(value.trim()).map_err(|_| HeaderError::BadValue {
            header: header.clone(),
            var: name.clone(),
        })?;
        value.set_sensitive(true);
        out.insert(key, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_from_the_named_variables_and_errors_never_show_them() {
        let named = BTreeMap::from([("Authorization".to_string(), "ZD_AUTH".to_string())]);
        let secret = "Bearer s3cr3t-t0ken";
        let headers = from_env(&named, |v| (v == "ZD_AUTH").then(|| secret.to_string())).unwrap();
        assert_eq!(headers["authorization"], secret);
        assert!(headers["authorization"].is_sensitive());
        assert!(!format!("{headers:?}").contains("s3cr3t"));

        let missing = from_env(&named, |_| None).unwrap_err().to_string();
        assert!(
            missing.contains("ZD_AUTH") && missing.contains("Authorization"),
            "{missing}"
        );
        let bad = from_env(&named, |_| Some("Bearer s3cr3t\nx".to_string()))
            .unwrap_err()
            .to_string();
        assert!(bad.contains("ZD_AUTH") && !bad.contains("s3cr3t"), "{bad}");
        let name = BTreeMap::from([("Bad Header".to_string(), "X".to_string())]);
        assert!(from_env(&name, |_| Some("v".into())).is_err());
    }
}
