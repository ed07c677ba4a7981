//! Queries, bodies and ranges that once overflowed the stack or panicked:
//! deep parentheses, deep JSON, deep aggregation trees, open-ended ranges.

use crate::common::{Server, Workspace};

/// `path?params`, URL-encoded.
fn url(path: &str, params: &[(&str, &str)]) -> String {
    let url = reqwest::Url::parse_with_params(&format!("http://x{path}"), params).unwrap();
    format!("{path}?{}", url.query().unwrap_or_default())
}

fn error_of(body: &str) -> (String, String) {
    let value: serde_json::Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("not the JSON error shape ({e}): {body}"));
    (
        value["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        value["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn total(server: &Server, params: &[(&str, &str)]) -> u64 {
    let (status, _, body) = server.send("GET", &url("/v1/search", params), None);
    assert_eq!(status, 200, "{params:?}: {body}");
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    value["total"].as_u64().unwrap()
}

#[test]
fn deep_queries_bodies_and_aggregations_are_400s_and_open_ranges_answer() {
    let ws = Workspace::with_examples();
    ws.ingest();
    let deep = format!("{}acme", "(".repeat(2_000));

    // The CLI refuses it with a message, without aborting.
    let out = ws.run(&["search", &deep]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`q`") && stderr.contains("at most 32"),
        "{stderr}"
    );

    let server = ws.serve();
    for path in [
        url("/v1/search", &[("q", &deep)]),
        url("/v1/export", &[("q", &deep)]),
    ] {
        let (status, _, body) = server.send("GET", &path, None);
        assert_eq!(status, 400, "GET {}: {body}", &path[..20]);
        let (code, message) = error_of(&body);
        assert_eq!(code, "invalid_parameter");
        assert!(
            message.contains("`q`") && message.contains("2000 deep") && message.contains("32"),
            "{message}"
        );
    }
    let body = serde_json::json!({ "q": deep }).to_string();
    let (status, _, answer) = server.send("POST", "/v1/search", Some(&body));
    assert_eq!(status, 400, "{answer}");
    assert!(error_of(&answer).1.contains("at most 32"), "{answer}");

    // JSON nested past serde_json's limit of 128 is a 400, not a stack.
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = format!(r#"{{"q": "acme", "aggs": {nested}}}"#);
    let (status, _, answer) = server.send("POST", "/v1/search", Some(&body));
    assert_eq!(status, 400, "{}", &answer[..answer.len().min(300)]);
    assert_eq!(error_of(&answer).0, "invalid_body");

    // An aggregation tree nested deeper than 8 levels is a 400 naming `aggs`.
    let mut aggs = serde_json::json!({ "top": { "max": { "field": "amount" } } });
    for level in 0..12 {
        aggs = serde_json::json!({
            format!("l{level}"): { "terms": { "field": "stage" }, "aggs": aggs }
        });
    }
    let body = serde_json::json!({ "q": "*", "aggs": aggs }).to_string();
    let (status, _, answer) = server.send("POST", "/v1/search", Some(&body));
    assert_eq!(status, 400, "{answer}");
    let (_, message) = error_of(&answer);
    assert!(
        message.contains("`aggs`") && message.contains("at most 8"),
        "{message}"
    );

    // Open-ended ranges mean "has a value", typed in `q` or as a filter.
    let everything = total(&server, &[("q", "*"), ("group", "none")]);
    let with_amount = total(&server, &[("q", "amount:>=0"), ("group", "none")]);
    assert!(with_amount > 0 && with_amount < everything);
    for params in [
        [("q", "amount:[* TO *]"), ("group", "none")],
        [("filter.amount", ".."), ("group", "none")],
    ] {
        assert_eq!(total(&server, &params), with_amount, "{params:?}");
    }
    assert_eq!(
        total(&server, &[("q", "created:[* TO *]"), ("group", "none")]),
        total(&server, &[("filter.created", ".."), ("group", "none")]),
    );

    // Every answer carries a request id, and the server is still up.
    let (status, _, _) = server.send("GET", "/healthz", None);
    assert_eq!(status, 200);
}
