//! Access control at the server's edge, on real servers over a copy of
//! examples/: HTTPS from `[server] tls_cert`/`tls_key` (and no plain HTTP
//! beside it), CORS open only to the listed origins, per-identity rate
//! limits answering 429 with `Retry-After`, single sign-on through a
//! trusted proxy header (believed only from the listed proxies), and a
//! user's row-level scope.

use crate::common;

use std::time::Duration;

use common::{Workspace, client_with};
use serde_json::{Value, json};

fn tls_fixture(name: &str) -> String {
    common::repo()
        .join("tests/fixtures/tls")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn tls_serves_https_only_and_marks_the_session_cookie_secure() {
    let ws = Workspace::with_examples();
    ws.write_config_with(
        &[
            ("crm", "generic-csv", "data/crm"),
            ("notes", "notes", "data/notes"),
        ],
        &format!(
            "[server]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
            tls_fixture("cert.pem"),
            tls_fixture("key.pem")
        ),
    );
    ws.ingest();
    ws.add_user("ann", "staff", "ann's long password");
    let server = ws.serve();
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let ca =
        reqwest::Certificate::from_pem(&std::fs::read(tls_fixture("ca.pem")).expect("the test CA"))
            .expect("a PEM certificate");
    let key = server.key.clone().expect("the admin key");
    let https = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let response = https
        .get(format!("{}/v1/search?q=acme", server.base))
        .bearer_auth(&key)
        .send()
        .expect("an HTTPS request to the server");
    assert_eq!(response.status().as_u16(), 200);
    let found: Value = response.json().unwrap();
    assert!(found["total"].as_u64().unwrap_or(0) > 0, "{found}");

    // Plain HTTP on the same port gets no answer from the API.
    let plain = server.base.replacen("https://", "http://", 1);
    let attempt = client_with(Some(&key))
        .get(format!("{plain}/v1/search?q=acme"))
        .timeout(Duration::from_secs(10))
        .send();
    assert!(
        attempt.as_ref().map_or(true, |r| !r.status().is_success()),
        "plain HTTP was served: {:?}",
        attempt.map(|r| r.status())
    );

    // The CLI reaches its own TLS server on the loopback address.
    let listed = ws.run(&["keys", "list", "--json"]);
    assert!(
        listed.status.success(),
        "keys list through the TLS server: {}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains("tests"));

    // Under TLS the session cookie is Secure without any setting.
    let signed_in = https
        .post(format!("{}/v1/session", server.base))
        .header("content-type", "application/json")
        .header("origin", &server.base)
        .header("sec-fetch-site", "same-origin")
        .body(json!({"user": "ann", "password": "ann's long password"}).to_string())
        .send()
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 200);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
}

#[test]
fn cors_answers_only_listed_origins_and_rate_limits_each_identity() {
    let ws = Workspace::with_examples();
    ws.write_config_with(
        &[
            ("crm", "generic-csv", "data/crm"),
            ("notes", "notes", "data/notes"),
        ],
        "[server]\ncors_origins = [\"https://dash.example.com\"]\n\
         [auth]\nrate_limit = 1\nrate_burst = 3\n",
    );
    ws.ingest();
    let other_key = ws.create_key("other", "viewer", &[]);
    let server = ws.serve();
    let anyone = client_with(None);

    // A preflight from the listed origin is answered with its CORS headers.
    let preflight = |origin: &str| {
        anyone
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/search?q=acme", server.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
            .unwrap()
    };
    let allowed = preflight("https://dash.example.com");
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://dash.example.com")
    );
    let allowed_headers = allowed
        .headers()
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );
    // Another origin gets nothing a browser would accept.
    let refused = preflight("https://evil.example.net");
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "{:?}",
        refused.headers()
    );

    // Rate limits: a burst of 3, then 1 per second, per identity.
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..12 {
        let response = server
            .client()
            .get(format!("{}/v1/session", server.base))
            .send()
            .unwrap();
        let status = response.status().as_u16();
        if status == 429 {
            retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let body: Value = response.json().unwrap();
            assert_eq!(body["error"]["code"], "rate_limited", "{body}");
        }
        statuses.push(status);
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    let wait = retry_after.expect("a 429 says when to retry");
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    // Another identity is not slowed by the first one's traffic.
    let other = client_with(Some(&other_key))
        .get(format!("{}/v1/session", server.base))
        .send()
        .unwrap();
    assert_eq!(other.status().as_u16(), 200);
    // After the wait the first identity is served again.
    std::thread::sleep(Duration::from_secs(wait));
    let again = server
        .client()
        .get(format!("{}/v1/session", server.base))
        .send()
        .unwrap();
    assert_eq!(again.status().as_u16(), 200);
}

#[test]
fn a_trusted_proxy_header_signs_in_users_only_from_listed_proxies() {
    let ws = Workspace::with_examples();
    let config = |proxies: &str| {
        ws.write_config_with(
            &[
                ("crm", "generic-csv", "data/crm"),
                ("notes", "notes", "data/notes"),
            ],
            &format!("[auth]\ntrusted_header = \"X-Remote-User\"\ntrusted_proxies = [{proxies}]\n"),
        )
    };
    config("\"127.0.0.1\"");
    ws.ingest();
    let added = ws.run(&[
        "users",
        "add",
        "kim",
        "--role",
        "viewer",
        "--sso",
        "--scope",
        "customer_country=JP",
    ]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    ws.add_user("lee", "staff", "lee's long password");
    ws.run(&["users", "disable", "lee"]);
    let server = ws.serve();
    let as_user = |user: &str, path: &str| {
        let response = client_with(None)
            .get(format!("{}{path}", server.base))
            .header("x-remote-user", user)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap_or(Value::Null))
    };
    let (status, me) = as_user("kim", "/v1/session");
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["actor"], "user:kim");
    assert_eq!(me["via"], "proxy");
    // The user's scope applies: only Japanese customers, as the filter gives.
    let (_, mine) = as_user("kim", "/v1/search?q=*&group=none&limit=0");
    let (_, reference) = server.get("/v1/search?q=*&group=none&limit=0&filter.customer_country=JP");
    let (_, all) = server.get("/v1/search?q=*&group=none&limit=0");
    assert_eq!(mine["total"], reference["total"], "{mine}");
    assert!(mine["total"].as_u64().unwrap_or(0) < all["total"].as_u64().unwrap_or(0));
    // The viewer role still holds: no export.
    assert_eq!(as_user("kim", "/v1/export?q=*").0, 403);
    // Unknown and disabled users are refused.
    assert_eq!(as_user("nobody", "/v1/session").0, 401);
    assert_eq!(as_user("lee", "/v1/session").0, 401);
    // A write from another site is refused as for a cookie.
    let cross = client_with(None)
        .post(format!("{}/v1/notes", server.base))
        .header("x-remote-user", "kim")
        .header("origin", "https://evil.example.net")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(cross.status().as_u16(), 403);
    drop(server);

    // The same header from an address that is not a listed proxy: 401.
    config("\"10.0.0.0/8\"");
    let server = ws.serve();
    let response = client_with(None)
        .get(format!("{}/v1/session", server.base))
        .header("x-remote-user", "kim")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("trusted_proxies"),
        "{body}"
    );
}

#[test]
fn users_are_managed_through_a_running_server() {
    let ws = Workspace::with_examples();
    ws.ingest();
    let server = ws.serve();
    // `rapport users add` while the server holds the store: through
    // /v1/users with the server's local token, the password on stdin.
    ws.add_user("zoe", "viewer", "zoe's long password");
    let sign_in = |password: &str| {
        client_with(None)
            .post(format!("{}/v1/session", server.base))
            .header("content-type", "application/json")
            .header("origin", &server.base)
            .header("sec-fetch-site", "same-origin")
            .body(json!({"user": "zoe", "password": password}).to_string())
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(sign_in("zoe's long password"), 200);
    let disabled = ws.run(&["users", "disable", "zoe"]);
    assert!(
        disabled.status.success(),
        "{}",
        String::from_utf8_lossy(&disabled.stderr)
    );
    assert_eq!(sign_in("zoe's long password"), 401);
    let listed = ws.run(&["users", "list", "--json"]);
    let users: Value = serde_json::from_slice(&listed.stdout).unwrap_or(Value::Null);
    let zoe = users
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["name"] == "zoe")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(zoe["disabled"], true, "{users}");
    assert!(
        !listed.stdout.windows(6).any(|w| w == b"argon2"),
        "a password hash was listed"
    );
    // Over HTTP, only with the `users` permission, and audited.
    let viewer = ws.create_key("v", "viewer", &[]);
    let refused = client_with(Some(&viewer))
        .get(format!("{}/v1/users", server.base))
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let (_, audit) = server.get("/v1/audit?action=user.update");
    assert_eq!(
        audit["entries"].as_array().map(Vec::len),
        Some(1),
        "{audit}"
    );
}
