//! `GET /openapi.json`: the OpenAPI 3.1 description of every route this
//! server answers, kept by hand in `openapi.json` beside this file and
//! compiled into the binary. `tests/openapi.rs` checks it against the real
//! router, so that a route added without its description fails a test.
//!
//! It must never describe a route the router does not serve, and never be
//! generated at run time from anything but that file.

use std::sync::Arc;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::engine::Rapport;

/// The document, as served.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

pub fn routes() -> Router<Arc<Rapport>> {
    Router::new().route(
        "/openapi.json",
        get(|| async { ([(CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response() }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_json_and_says_openapi_3_1() {
        let doc: serde_json::Value =
            serde_json::from_str(OPENAPI_JSON).expect("openapi.json parses as JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(
            doc["paths"].as_object().is_some_and(|p| !p.is_empty()),
            "openapi.json has paths"
        );
    }
}
