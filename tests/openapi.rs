//! The OpenAPI document (`src/api/openapi.json`, served by `GET /openapi.json`)
//! against the real router, on one real server over a copy of examples/:
//! the served document is the file; every documented (method, path) reaches
//! a handler (never the router's 404/405 fallback) and answers with a status
//! the document lists for it; and the documented routes are exactly the
//! router's inventory below, so a route added to one and not the other fails.

use crate::common;

use std::collections::BTreeSet;

use common::{Server, Workspace};
use serde_json::Value;

/// Every route the router serves, as `grep -n '\.route(' src/api/*.rs`
/// shows them (method routers such as `get(..).delete(..)` give one line per
/// method). A route added to the router belongs here and in the document.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/assets/app.css"),
    ("GET", "/assets/app.js"),
    ("GET", "/healthz"),
    ("GET", "/v1/audit"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("POST", "/v1/analyze"),
    ("POST", "/v1/attributes"),
    ("GET", "/v1/connectors"),
    ("POST", "/v1/customers/merge"),
    ("POST", "/v1/erasures"),
    ("GET", "/v1/retention/plan"),
    ("POST", "/v1/retention/run"),
    ("POST", "/v1/customers/never-merge"),
    ("GET", "/v1/customers/{id}"),
    ("POST", "/v1/customers/{id}/split"),
    ("POST", "/v1/customers/{id}/attach"),
    ("GET", "/v1/customers/{id}/timeline"),
    ("GET", "/v1/export"),
    ("GET", "/v1/jobs"),
    ("GET", "/v1/jobs/{id}"),
    ("DELETE", "/v1/jobs/{id}"),
    ("POST", "/v1/notes"),
    ("GET", "/v1/notes/{id}"),
    ("PUT", "/v1/notes/{id}"),
    ("PATCH", "/v1/notes/{id}"),
    ("DELETE", "/v1/notes/{id}"),
    ("GET", "/v1/quality"),
    ("GET", "/v1/customers"),
    ("GET", "/v1/customers/{id}/subject-export"),
    ("POST", "/v1/customers/{id}/rectify"),
    ("GET", "/v1/quality/unattached"),
    ("GET", "/v1/quality/duplicates"),
    ("GET", "/v1/quality/records"),
    ("POST", "/v1/reindex"),
    ("GET", "/v1/search"),
    ("POST", "/v1/search"),
    ("POST", "/v1/snapshots"),
    ("GET", "/v1/suggest"),
    ("GET", "/v1/session"),
    ("POST", "/v1/session"),
    ("DELETE", "/v1/session"),
    ("GET", "/v1/keys"),
    ("POST", "/v1/keys"),
    ("DELETE", "/v1/keys/{id}"),
    ("POST", "/v1/keys/{id}/rotate"),
    ("GET", "/v1/users"),
    ("POST", "/v1/users"),
    ("PATCH", "/v1/users/{name}"),
    ("POST", "/v1/users/{name}/sign-in-link"),
];

/// The operation keys of an OpenAPI path item.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// What stands for every path parameter: names no customer, job or note.
const MISSING_ID: &str = "nonexistent-id";

/// Bodies for the calls that would start real work with `{}`: both are
/// refused with a 400 by their handler (still not the fallback).
const SPECIAL_BODIES: &[(&str, &str, &str)] = &[
    // `{}` would start a reindex of every source.
    ("POST", "/v1/reindex", r#"{"from": "nowhere"}"#),
    // `{}` would write a snapshot.
    ("POST", "/v1/snapshots", r#"{"name": "../nonexistent"}"#),
];

struct Answer {
    status: u16,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The router's fallback: 404 `not_found` (`no route for METHOD PATH`)
    /// or 405 `method_not_allowed`. Handlers' own 404s use other codes
    /// (`customer_not_found`, `job_not_found`, `note_not_found`), and no
    /// handler answers 405.
    fn is_fallback(&self) -> bool {
        let body = self.json();
        let code = body["error"]["code"].as_str().unwrap_or_default();
        let message = body["error"]["message"].as_str().unwrap_or_default();
        (self.status == 404 && (code == "not_found" || message.starts_with("no route for ")))
            || self.status == 405
            || code == "method_not_allowed"
    }
}

fn send(server: &Server, method: &str, path: &str, body: Option<&str>) -> Answer {
    let (status, content_type, text) = server.send(method, path, body);
    Answer {
        status,
        content_type,
        text,
    }
}

fn document_on_disk() -> Value {
    let path = common::repo().join("src/api/openapi.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

/// (method in upper case, path, operation) of every documented operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("the document has `paths`");
    let mut out = Vec::new();
    for (path, item) in paths {
        let item = item
            .as_object()
            .unwrap_or_else(|| panic!("path item {path} is not an object"));
        for key in item.keys() {
            if METHODS.contains(&key.as_str()) {
                out.push((key.to_uppercase(), path.clone(), item[key].clone()));
            }
        }
    }
    out
}

/// `path` with every `{param}` replaced by [`MISSING_ID`].
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .unwrap_or_else(|| panic!("unclosed parameter in {path}"));
        out.push_str(MISSING_ID);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Every `$ref` in `value` (all local), collected with where it stands.
fn refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref" {
                    out.push((at.to_string(), v.as_str().unwrap_or_default().to_string()));
                } else {
                    refs(v, &format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The document's own shape: OpenAPI 3.1, every operation with responses,
/// every path parameter declared, every `$ref` pointing at something.
fn document_is_well_formed(doc: &Value) {
    assert_eq!(doc["openapi"], "3.1.0", "openapi version");
    assert!(doc["info"]["title"].is_string(), "info.title");
    assert!(doc["info"]["version"].is_string(), "info.version");
    assert!(
        doc["components"]["schemas"]["Error"].is_object(),
        "components/schemas/Error"
    );
    for (method, path, op) in operations(doc) {
        let responses = op["responses"].as_object();
        assert!(
            responses.is_some_and(|r| !r.is_empty()),
            "{method} {path}: no responses"
        );
        for (status, response) in responses.unwrap() {
            assert!(
                status.len() == 3 && status.parse::<u16>().is_ok(),
                "{method} {path}: response key `{status}` is not a status code"
            );
            assert!(
                response["description"].is_string(),
                "{method} {path} {status}: no description"
            );
        }
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        assert_eq!(
            declared, in_path,
            "{method} {path}: declared path parameters differ from the path's"
        );
    }
    let mut found = Vec::new();
    refs(doc, "#", &mut found);
    assert!(!found.is_empty(), "the document uses no $ref");
    for (at, target) in found {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{at}: $ref `{target}` is not local"));
        assert!(
            doc.pointer(pointer).is_some(),
            "{at}: $ref `{target}` points at nothing"
        );
    }
}

/// Test 1: `GET /openapi.json` serves the file on disk.
fn served_document_is_the_file(server: &Server, doc: &Value) {
    let answer = send(server, "GET", "/openapi.json", None);
    assert_eq!(answer.status, 200, "GET /openapi.json: {}", answer.text);
    assert!(
        answer.content_type.starts_with("application/json"),
        "GET /openapi.json: content-type `{}`",
        answer.content_type
    );
    let served: Value = serde_json::from_str(&answer.text)
        .unwrap_or_else(|e| panic!("GET /openapi.json: not JSON: {e}"));
    assert_eq!(
        &served, doc,
        "GET /openapi.json: differs from src/api/openapi.json"
    );
}

/// Test 2: every documented operation reaches a handler, which answers with
/// a documented status (and content type), errors in the documented shape;
/// and what is not documented does get the fallback.
fn every_documented_operation_is_routed(server: &Server, doc: &Value) {
    for (method, path, op) in operations(doc) {
        let url = concrete(&path);
        let body = match method.as_str() {
            "POST" | "PUT" | "PATCH" => Some(
                SPECIAL_BODIES
                    .iter()
                    .find(|(m, p, _)| *m == method && *p == path)
                    .map_or("{}", |(_, _, b)| *b),
            ),
            _ => None,
        };
        let answer = send(server, &method, &url, body);
        assert!(
            !answer.is_fallback(),
            "{method} {path}: answered by the router's fallback ({} {}): the route is documented but not served",
            answer.status,
            answer.text
        );
        let status = answer.status.to_string();
        let documented = &op["responses"][&status];
        assert!(
            documented.is_object(),
            "{method} {path}: status {status} is not documented (documented: {:?}); body: {}",
            op["responses"]
                .as_object()
                .map(|r| r.keys().cloned().collect::<Vec<_>>()),
            answer.text
        );
        if let Some(content) = documented["content"].as_object() {
            assert!(
                content.contains_key(&answer.content_type),
                "{method} {path}: {status} came as `{}`, documented as {:?}",
                answer.content_type,
                content.keys().collect::<Vec<_>>()
            );
        }
        if answer.status >= 400 && answer.content_type.starts_with("application/json") {
            let error = answer.json();
            assert!(
                error["error"]["code"].is_string() && error["error"]["message"].is_string(),
                "{method} {path}: {status} is not the error shape: {}",
                answer.text
            );
        }
    }

    let unknown = send(server, "GET", "/v1/no-such-route", None);
    assert!(
        unknown.is_fallback() && unknown.status == 404,
        "GET /v1/no-such-route: expected the fallback 404, got {} {}",
        unknown.status,
        unknown.text
    );
    assert_eq!(
        unknown.json()["error"]["message"],
        "no route for GET /v1/no-such-route",
        "GET /v1/no-such-route: fallback message"
    );
    let deeper = concrete("/v1/customers/{id}/no-such-route");
    let unknown = send(server, "GET", &deeper, None);
    assert!(
        unknown.is_fallback() && unknown.status == 404,
        "GET {deeper}: expected the fallback 404, got {} {}",
        unknown.status,
        unknown.text
    );
    let wrong_method = send(server, "DELETE", "/healthz", None);
    assert!(
        wrong_method.is_fallback() && wrong_method.status == 405,
        "DELETE /healthz: expected the fallback 405, got {} {}",
        wrong_method.status,
        wrong_method.text
    );
    assert_eq!(
        wrong_method.json()["error"]["code"],
        "method_not_allowed",
        "DELETE /healthz: fallback code"
    );
}

/// Test 3: the documented routes are exactly the router's inventory.
fn documented_routes_are_the_router_inventory(doc: &Value) {
    let documented: BTreeSet<(String, String)> = operations(doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(ROUTES.len(), expected.len(), "ROUTES lists a route twice");
    let missing: Vec<String> = expected
        .difference(&documented)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    let extra: Vec<String> = documented
        .difference(&expected)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes served but not documented: {missing:?}; documented but not in the router's inventory: {extra:?}"
    );
}

#[test]
fn the_openapi_document_matches_the_router() {
    let doc = document_on_disk();
    document_is_well_formed(&doc);
    documented_routes_are_the_router_inventory(&doc);

    let ws = Workspace::with_examples();
    let server = ws.serve();
    served_document_is_the_file(&server, &doc);
    every_documented_operation_is_routed(&server, &doc);
}
