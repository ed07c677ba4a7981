//! Access control over real HTTP, on real servers over a copy of examples/:
//! the authorization matrix generated from openapi.json (every documented
//! operation × no credential, a wrong, revoked or expired key, and a key of
//! each role → 401, 403 or an answer from the handler), web sign-in with
//! its cookie flags, CSRF refusals and lock-out, keys over the CLI while a
//! server runs, secrets kept out of /metrics, and the refusal to listen
//! beyond loopback before any identity exists.

use crate::common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{Server, Workspace, client_with, files_holding};
use serde_json::{Value, json};

/// The default roles, as README documents them (each adds to the one before).
const ROLES: &[(&str, &[&str])] = &[
    ("viewer", &["search", "customers.read"]),
    ("staff", &["contacts.read", "notes.write"]),
    ("analyst", &["export", "aggregate", "attributes.write"]),
    ("steward", &["merge", "erasure", "quality"]),
    (
        "admin",
        &[
            "keys",
            "users",
            "reindex",
            "snapshots",
            "restore",
            "audit",
            "operate",
        ],
    ),
];

fn permissions_of(role: &str) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for (name, added) in ROLES {
        out.extend(added.iter().copied());
        if *name == role {
            return out;
        }
    }
    panic!("unknown role {role}");
}

/// Bodies that would start real work with `{}` (as in tests/openapi.rs).
fn body_for(method: &str, path: &str) -> Option<&'static str> {
    match (method, path) {
        ("POST", "/v1/reindex") => Some(r#"{"from": "nowhere"}"#),
        ("POST", "/v1/snapshots") => Some(r#"{"name": "../nonexistent"}"#),
        ("POST" | "PUT" | "PATCH", _) => Some("{}"),
        _ => None,
    }
}

fn call(
    client: &reqwest::blocking::Client,
    base: &str,
    method: &str,
    path: &str,
) -> reqwest::blocking::Response {
    let url = format!("{base}{}", path.replace("{id}", "nonexistent-id"));
    let mut request = client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
    if let Some(body) = body_for(method, path) {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    request
        .send()
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

fn operations(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(permission) = op["x-permission"].as_str() {
                out.push((method.to_uppercase(), path.clone(), permission.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_route_answers_each_credential_as_its_permission_says() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("src/api/openapi.json")).unwrap(),
    )
    .unwrap();
    let ops = operations(&doc);
    assert!(ops.len() > 30, "{} operations", ops.len());

    let ws = Workspace::with_examples();
    ws.ingest();
    let expiring_made = Instant::now();
    let expired = ws.create_key("soon", "admin", &["--expires", "1s"]);
    let revoked = ws.create_key("gone", "admin", &[]);
    let revoked_id = revoked[4..16].to_string();
    let out = ws.run(&["keys", "revoke", &revoked_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let role_keys: Vec<(&str, String)> = ROLES
        .iter()
        .map(|(role, _)| (*role, ws.create_key(role, role, &[])))
        .collect();
    let mut wrong = role_keys[0].1.clone();
    wrong.replace_range(20..28, "00000000");
    // The server logs everything it can (debug) into a file read at the end.
    let log_path = ws.path().join("server.log");
    let mut command = ws.command(&["serve", "--listen", "127.0.0.1:0"]);
    command.env("RAPPORT_LOG", "debug");
    let admin = ws.create_key("tests", "admin", &[]);
    let mut server =
        Server::start_with_stderr(command, std::fs::File::create(&log_path).unwrap().into());
    server.set_key(&admin);
    while expiring_made.elapsed() < Duration::from_millis(1200) {
        std::thread::sleep(Duration::from_millis(100));
    }

    let refused: [(&str, reqwest::blocking::Client); 4] = [
        ("no credential", client_with(None)),
        ("a wrong key", client_with(Some(&wrong))),
        ("a revoked key", client_with(Some(&revoked))),
        ("an expired key", client_with(Some(&expired))),
    ];
    let mut checked = 0;
    for (method, path, permission) in &ops {
        for (what, client) in &refused {
            let response = call(client, &server.base, method, path);
            let status = response.status().as_u16();
            if permission == "open" {
                assert!(
                    status != 401 && status != 403,
                    "{method} {path} is open, yet {what} got {status}"
                );
                continue;
            }
            assert_eq!(status, 401, "{method} {path} with {what}");
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            assert!(
                challenge.starts_with("Bearer"),
                "{method} {path}: {challenge}"
            );
            let body: Value = response.json().unwrap_or(Value::Null);
            assert_eq!(
                body["error"]["code"], "unauthorized",
                "{method} {path}: {body}"
            );
            checked += 1;
        }
        for (role, key) in &role_keys {
            let allowed = matches!(permission.as_str(), "open" | "signed-in")
                || permissions_of(role).contains(permission.as_str());
            let response = call(&client_with(Some(key)), &server.base, method, path);
            let status = response.status().as_u16();
            let body: Value = response.json().unwrap_or(Value::Null);
            if allowed {
                assert!(
                    status != 401 && status != 403,
                    "{method} {path} ({permission}) as {role}: {status} {body}"
                );
            } else {
                assert_eq!(
                    (status, body["error"]["code"].as_str()),
                    (403, Some("forbidden")),
                    "{method} {path} ({permission}) as {role}: {body}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked} calls");

    // Aggregations need `aggregate` on top of `search`.
    let staff = &role_keys[1].1;
    let analyst = &role_keys[2].1;
    let aggs =
        "/v1/search?q=*&aggs=%7B%22k%22%3A%7B%22terms%22%3A%7B%22field%22%3A%22kind%22%7D%7D%7D";
    let status = |key: &str| {
        client_with(Some(key))
            .get(format!("{}{aggs}", server.base))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(status(staff), 403, "staff asking for aggregations");
    assert_eq!(status(analyst), 200, "an analyst asking for aggregations");

    // The secrets never show in /metrics.
    let (status, _, metrics) = server.get_text("/metrics");
    assert_eq!(status, 200);
    for (_, key) in &role_keys {
        assert!(!metrics.contains(&key[4..]), "a key's secret in /metrics");
    }
    assert!(!metrics.contains("rpk_"), "a key in /metrics");

    // Nor in the server's log, even at debug level.
    drop(server);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("/v1/search"), "the log holds the requests");
    for key in role_keys
        .iter()
        .map(|(_, k)| k)
        .chain([&wrong, &revoked, &expired, &admin])
    {
        assert!(
            !log.contains(&key[17..]),
            "a key's secret in the server log"
        );
    }
    assert!(!log.contains("rpk_"), "a key in the server log");
}

/// `POST /v1/session` as a browser on `base` would send it.
fn sign_in(base: &str, user: &str, password: &str) -> reqwest::blocking::Response {
    client_with(None)
        .post(format!("{base}/v1/session"))
        .header("content-type", "application/json")
        .header("origin", base)
        .header("sec-fetch-site", "same-origin")
        .body(json!({"user": user, "password": password}).to_string())
        .send()
        .unwrap()
}

#[test]
fn staff_sign_in_sets_a_strict_cookie_needs_csrf_for_writes_and_locks_out_guessing() {
    let ws = Workspace::with_examples();
    ws.add_user("ann", "staff", "ann's long password");
    ws.add_user("bo", "viewer", "bo's long password");
    let server = ws.serve();
    let base = server.base.clone();
    let host = base.trim_start_matches("http://").to_string();

    // A wrong password: 401, and no cookie.
    let response = sign_in(&base, "ann", "not the password");
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers().get("set-cookie").is_none());
    // An unknown user reads the same.
    let unknown: Value = sign_in(&base, "nobody", "whatever it is").json().unwrap();
    assert_eq!(unknown["error"]["code"], "sign_in_failed");

    // The right one: a cookie that scripts cannot read, never sent cross-site.
    let response = sign_in(&base, "ann", "ann's long password");
    assert_eq!(response.status().as_u16(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "no TLS here, so not Secure: {cookie}"
    );
    let session: Value = response.json().unwrap();
    let csrf = session["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(session["actor"], "user:ann");
    let token = cookie.split(';').next().unwrap().to_string();

    let with_cookie = |method: reqwest::Method, path: &str| {
        client_with(None)
            .request(method, format!("{base}{path}"))
            .header("cookie", &token)
            .header("host", &host)
    };
    // Reads need only the cookie.
    let read = with_cookie(reqwest::Method::GET, "/v1/search?q=acme")
        .send()
        .unwrap();
    assert_eq!(read.status().as_u16(), 200);
    let (_, acme) = server.get("/v1/search?q=Acme%20Robotics&filter.kind=organization");
    let acme = acme["customers"][0]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let note = json!({"customer_id": acme, "text": "Cookie note: velvetorbit"}).to_string();
    let post = |extra: &[(&str, &str)]| {
        let mut request = with_cookie(reqwest::Method::POST, "/v1/notes")
            .header("content-type", "application/json")
            .body(note.clone());
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap_or(Value::Null))
    };
    // A write without the CSRF token, or from another site, is refused.
    let (status, body) = post(&[]);
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("csrf_refused")),
        "{body}"
    );
    let (status, body) = post(&[("x-csrf-token", &csrf), ("origin", "http://evil.example")]);
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("csrf_refused")),
        "{body}"
    );
    let (status, body) = post(&[("x-csrf-token", &csrf), ("sec-fetch-site", "cross-site")]);
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("csrf_refused")),
        "{body}"
    );
    let (status, body) = post(&[("x-csrf-token", "0".repeat(64).as_str())]);
    assert_eq!(status, 403, "a wrong CSRF token: {body}");
    // With it, from this site: written, by ann.
    let (status, body) = post(&[
        ("x-csrf-token", &csrf),
        ("origin", &base),
        ("sec-fetch-site", "same-origin"),
    ]);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["author"], "user:ann");
    // A sign-in posted from another site is refused too.
    let cross = client_with(None)
        .post(format!("{base}/v1/session"))
        .header("content-type", "application/json")
        .header("sec-fetch-site", "cross-site")
        .body(json!({"user": "ann", "password": "ann's long password"}).to_string())
        .send()
        .unwrap();
    assert_eq!(cross.status().as_u16(), 403);

    // Sign-out ends the session.
    let out = with_cookie(reqwest::Method::DELETE, "/v1/session")
        .header("x-csrf-token", &csrf)
        .send()
        .unwrap();
    assert_eq!(out.status().as_u16(), 200);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = with_cookie(reqwest::Method::GET, "/v1/search?q=acme")
        .send()
        .unwrap();
    assert_eq!(after.status().as_u16(), 401);

    // Guessing: after 5 failures the user name is locked, even for the
    // right password, with Retry-After; another user is not affected.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(sign_in(&base, "bo", "a wrong guess!").status().as_u16());
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 429]);
    let locked = sign_in(&base, "bo", "bo's long password");
    assert_eq!(locked.status().as_u16(), 429);
    assert!(locked.headers().get("retry-after").is_some());
    assert_eq!(
        sign_in(&base, "ann", "ann's long password")
            .status()
            .as_u16(),
        200
    );
}

#[test]
fn keys_are_managed_through_a_running_server_and_serve_stays_on_loopback_without_identities() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    // The CLI talks to the server (it holds the store) with its local token.
    let out = ws.run(&[
        "keys", "create", "--name", "dash", "--role", "viewer", "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("rpk_"));
    let viewer = client_with(Some(&secret));
    let ok = viewer
        .get(format!("{}/v1/search?q=acme", server.base))
        .send()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let listed = ws.run(&["keys", "list", "--json"]);
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed.contains("dash") && !listed.contains(&secret[4..]),
        "{listed}"
    );
    let id = created["id"].as_str().unwrap();
    let out = ws.run(&["keys", "rotate", id, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated: Value = serde_json::from_slice(&out.stdout).unwrap();
    let gone = viewer
        .get(format!("{}/v1/search?q=acme", server.base))
        .send()
        .unwrap();
    assert_eq!(gone.status().as_u16(), 401, "the old secret stops working");
    let new = client_with(rotated["secret"].as_str());
    let ok = new
        .get(format!("{}/v1/search?q=acme", server.base))
        .send()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    drop(server);

    // No identity yet: not on a non-loopback address.
    let fresh = Workspace::new();
    fresh.write_config(&[]);
    let out = fresh.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("loopback"), "{err}");
}

/// A viewer (no `contacts.read`) sees email addresses and phone numbers
/// masked in every answer — record and grouped search, snippets, suggest,
/// customer pages, timelines — and cannot stream them through exports;
/// staff see them in full.
#[test]
fn contact_details_are_masked_for_viewers_everywhere_they_appear() {
    let ws = Workspace::with_examples();
    let viewer_key = ws.create_key("viewer", "viewer", &[]);
    let staff_key = ws.create_key("staff", "staff", &[]);
    let server = ws.serve();
    let viewer = client_with(Some(&viewer_key));
    let staff = client_with(Some(&staff_key));
    let get = |client: &reqwest::blocking::Client, path: &str| -> (u16, String) {
        let response = client.get(format!("{}{path}", server.base)).send().unwrap();
        (
            response.status().as_u16(),
            response.text().unwrap_or_default(),
        )
    };
    let (_, found) = get(&staff, "/v1/search?q=Acme&group=customer&limit=1");
    let found: Value = serde_json::from_str(&found).unwrap_or(Value::Null);
    let acme = found["customers"][0]["customer_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!acme.is_empty(), "{found}");
    let paths = [
        "/v1/search?q=jon.smith%40acmerobotics.com&group=none".to_string(),
        "/v1/search?q=Acme&group=customer".to_string(),
        "/v1/search?q=Acme&group=none&limit=50".to_string(),
        "/v1/suggest?q=Jon".to_string(),
        format!("/v1/customers/{acme}"),
        format!("/v1/customers/{acme}/timeline"),
    ];
    let secrets = [
        "jon.smith@",
        "maria.alvarez@",
        "sales@acmerobotics",
        "5550100",
        "555-0100",
        "555-0134",
        "5550190",
        "555-0190",
    ];
    let mut staff_saw = Vec::new();
    for path in &paths {
        let (status, body) = get(&viewer, path);
        // Looking a person up by a contact detail would tell a viewer who
        // holds it, masked answer or not: refused.
        if path.contains("%40") {
            assert_eq!(status, 403, "{path}: {body}");
            assert!(body.contains("contacts.read"), "{body}");
        } else {
            assert_eq!(status, 200, "{path}: {body}");
        }
        let lower = body.to_lowercase();
        for secret in secrets {
            assert!(
                !lower.contains(secret),
                "viewer got {secret} from {path}: {body}"
            );
        }
        let (status, body) = get(&staff, path);
        assert_eq!(status, 200, "{path}");
        let lower = body.to_lowercase();
        staff_saw.extend(secrets.iter().filter(|s| lower.contains(*s)));
    }
    // What was masked is there in full for staff, so the check above was
    // looking at answers that hold contact details.
    assert!(staff_saw.contains(&"jon.smith@"), "{staff_saw:?}");
    assert!(
        staff_saw.iter().any(|s| s.starts_with("555")),
        "staff saw no phone number: {staff_saw:?}"
    );
    let (_, masked) = get(&viewer, &format!("/v1/customers/{acme}"));
    assert!(masked.contains("***@acmerobotics.com"), "{masked}");
    for path in [
        "/v1/search?q=emails:jon",
        "/v1/search?q=acme&facets=emails",
        "/v1/search?q=acme&filter.phones=%2B14155550134",
        "/v1/search?q=%2B1%20415%20555%200134",
        "/v1/search?q=415-555-0134",
        // The same number typed in parts.
        "/v1/search?q=5550%20AND%201299",
        "/v1/search?q=40%20AND%20(5550%20OR%201299)",
    ] {
        assert_eq!(get(&viewer, path).0, 403, "{path}");
        assert_ne!(get(&staff, path).0, 403, "{path}");
    }
}

/// A key scoped to `customer_country=JP` sees exactly what an unscoped
/// search filtered the same way sees — totals, customers, facet counts,
/// aggregations, suggestions and export rows — never more, whatever
/// filters it adds; a customer page outside the scope is a 404 like a
/// missing one; routes that do not apply a scope yet are refused.
#[test]
fn a_scoped_key_sees_exactly_its_scope_everywhere() {
    let ws = Workspace::with_examples();
    let scoped_key = ws.create_key("jp-desk", "analyst", &["--scope", "customer_country=JP"]);
    let server = ws.serve();
    let scoped = client_with(Some(&scoped_key));
    let get = |client: &reqwest::blocking::Client, path: &str| -> (u16, Value) {
        let response = client.get(format!("{}{path}", server.base)).send().unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    };
    let admin = server.client();
    let aggs =
        r#"{"amounts":{"stats":{"field":"amount"}},"by_source":{"terms":{"field":"source"}}}"#;
    for (mine, reference) in [
        (
            format!("/v1/search?q=*&group=customer&limit=100&facets=source,kind&aggs={aggs}"),
            format!(
                "/v1/search?q=*&group=customer&limit=100&facets=source,kind&aggs={aggs}&filter.customer_country=JP"
            ),
        ),
        (
            "/v1/search?q=*&group=none&limit=100&facets=kind".to_string(),
            "/v1/search?q=*&group=none&limit=100&facets=kind&filter.customer_country=JP"
                .to_string(),
        ),
    ] {
        let (status, got) = get(&scoped, &mine);
        assert_eq!(status, 200, "{mine}: {got}");
        let (_, expected) = get(&admin, &reference);
        for key in [
            "total",
            "total_customers",
            "facets",
            "aggregations",
            "customers",
            "hits",
        ] {
            let strip = |v: &Value| {
                let mut v = v.clone();
                if let Some(items) = v.as_array_mut() {
                    for item in items {
                        if let Some(o) = item.as_object_mut() {
                            o.remove("score");
                            o.remove("snippets");
                        }
                    }
                }
                v
            };
            assert_eq!(strip(&got[key]), strip(&expected[key]), "{mine}: {key}");
        }
    }
    // Asking for another country through a filter finds nothing.
    let (_, other) = get(
        &scoped,
        "/v1/search?q=*&group=none&filter.customer_country=US",
    );
    assert_eq!(other["total"], 0, "{other}");
    // A facet on the scoped field itself counts only the scope (a user's
    // own filter would be left out of its facet's count; the scope never is).
    let (_, countries) = get(
        &scoped,
        "/v1/search?q=*&group=none&limit=0&facets=customer_country",
    );
    let values: Vec<&str> = countries["facets"]["customer_country"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["value"].as_str())
        .collect();
    assert_eq!(values, vec!["JP"], "{countries}");
    let (_, all) = get(&admin, "/v1/search?q=*&group=none&limit=0");
    let (_, jp) = get(&scoped, "/v1/search?q=*&group=none&limit=0");
    let (all, jp) = (
        all["total"].as_u64().unwrap_or(0),
        jp["total"].as_u64().unwrap_or(0),
    );
    assert!(
        jp > 0 && jp < all,
        "JP {jp} of {all}: the scope must select some but not all"
    );

    // Suggestions come only from customers in the scope.
    let (_, in_scope) = get(&scoped, "/v1/search?q=*&group=customer&limit=100");
    let mine: BTreeSet<String> = in_scope["customers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["customer_id"].as_str().map(str::to_string))
        .collect();
    let (_, acme) = get(&scoped, "/v1/suggest?q=Acme");
    assert_eq!(acme["suggestions"], serde_json::json!([]), "{acme}");
    for prefix in ["a", "s", "t", "m"] {
        let (_, answer) = get(&scoped, &format!("/v1/suggest?q={prefix}"));
        for s in answer["suggestions"].as_array().into_iter().flatten() {
            if let Some(id) = s["customer_id"].as_str() {
                assert!(mine.contains(id), "suggested {s} outside the scope");
            }
        }
    }

    // Export rows: the scope's, no more.
    let rows = |client: &reqwest::blocking::Client, path: &str| -> usize {
        let response = client.get(format!("{}{path}", server.base)).send().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        response.text().unwrap_or_default().lines().count()
    };
    assert_eq!(
        rows(&scoped, "/v1/export?format=ndjson"),
        rows(
            &admin,
            "/v1/export?format=ndjson&filter.customer_country=JP"
        )
    );

    // Customer pages: outside the scope, a 404 like a missing customer.
    let (_, us) = get(
        &admin,
        "/v1/search?q=Acme&group=customer&limit=1&filter.customer_country=US",
    );
    let outside = us["customers"][0]["customer_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let inside = mine.iter().next().cloned().unwrap_or_default();
    assert!(!outside.is_empty() && !inside.is_empty());
    let (status, body) = get(&scoped, &format!("/v1/customers/{outside}"));
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "customer_not_found");
    assert_eq!(
        get(&scoped, &format!("/v1/customers/{outside}/timeline")).0,
        404
    );
    assert_eq!(get(&scoped, &format!("/v1/customers/{inside}")).0, 200);
    // A route that does not apply scopes is refused, not served whole.
    assert_eq!(get(&scoped, "/v1/quality").0, 403);
    let note = scoped
        .post(format!("{}/v1/notes", server.base))
        .header("content-type", "application/json")
        .body(format!(r#"{{"customer_id": "{outside}", "text": "x"}}"#))
        .send()
        .unwrap();
    assert_eq!(note.status().as_u16(), 404);
    // The key says what it is scoped to.
    let (_, me) = get(&scoped, "/v1/session");
    assert_eq!(me["scope"]["customer_country"], "JP", "{me}");
}

#[test]
fn a_scoped_steward_writes_only_on_customers_in_its_scope() {
    let ws = Workspace::with_examples();
    let key = ws.create_key("jp-steward", "steward", &["--scope", "customer_country=JP"]);
    let server = ws.serve();
    let admin = server.client();
    let scoped = client_with(Some(&key));
    let first_customer = |country: &str| -> (String, String) {
        let (_, found) = server.get(&format!(
            "/v1/search?q=*&group=customer&limit=1&filter.customer_country={country}"
        ));
        let customer = found["customers"][0]["customer_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let record = found["customers"][0]["records"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(!customer.is_empty() && !record.is_empty(), "{found}");
        (customer, record)
    };
    let (inside, inside_record) = first_customer("JP");
    let (outside, outside_record) = first_customer("US");
    let send = |client: &reqwest::blocking::Client, method: &str, path: &str, body: Value| {
        let response = client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", server.base),
            )
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap_or(Value::Null))
    };

    // Notes: on its own customers, yes; on another's, as if it did not exist.
    let (status, note) = send(
        &scoped,
        "POST",
        "/v1/notes",
        json!({"customer_id": inside, "text": "called back"}),
    );
    assert_eq!(status, 201, "{note}");
    let (status, refused) = send(
        &scoped,
        "POST",
        "/v1/notes",
        json!({"customer_id": outside, "text": "x"}),
    );
    assert_eq!(status, 404, "{refused}");
    assert_eq!(refused["error"]["code"], "customer_not_found");
    let (status, foreign) = send(
        &admin,
        "POST",
        "/v1/notes",
        json!({"customer_id": outside, "text": "admin's note"}),
    );
    assert_eq!(status, 201, "{foreign}");
    let foreign_note = foreign["id"].as_str().unwrap_or_default().to_string();
    for method in ["GET", "PATCH", "DELETE"] {
        let (status, answer) = send(
            &scoped,
            method,
            &format!("/v1/notes/{foreign_note}"),
            json!({"text": "changed"}),
        );
        assert_eq!(status, 404, "{method}: {answer}");
        assert_eq!(answer["error"]["code"], "note_not_found");
    }
    let own_note = note["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        send(
            &scoped,
            "PATCH",
            &format!("/v1/notes/{own_note}"),
            json!({"text": "called back twice"})
        )
        .0,
        200
    );
    // The foreign note is untouched.
    let (_, kept) = send(
        &admin,
        "GET",
        &format!("/v1/notes/{foreign_note}"),
        json!({}),
    );
    assert_eq!(kept["text"], "admin's note", "{kept}");

    // Steward actions naming a customer or record outside the scope: 404.
    for (path, body) in [
        (
            "/v1/customers/merge".to_string(),
            json!({"ids": [inside, outside]}),
        ),
        (
            "/v1/customers/never-merge".to_string(),
            json!({"ids": [inside, outside]}),
        ),
        (
            format!("/v1/customers/{inside}/attach"),
            json!({"records": [outside_record]}),
        ),
        (
            format!("/v1/customers/{outside}/split"),
            json!({"records": [outside_record]}),
        ),
        (
            format!("/v1/customers/{outside}/rectify"),
            json!({"field": "name", "value": "X", "reason": "r"}),
        ),
        (
            "/v1/erasures".to_string(),
            json!({"customer_id": outside, "reason": "request"}),
        ),
    ] {
        let (status, answer) = send(&scoped, "POST", &path, body);
        assert_eq!(status, 404, "{path}: {answer}");
    }
    assert_eq!(
        send(
            &scoped,
            "GET",
            &format!("/v1/customers/{outside}/subject-export"),
            json!({})
        )
        .0,
        404
    );
    assert_eq!(
        send(
            &scoped,
            "GET",
            &format!("/v1/customers/{inside}/subject-export"),
            json!({})
        )
        .0,
        200
    );
    // Nothing moved: the outside customer still holds its record.
    let (status, page) = send(
        &admin,
        "GET",
        &format!("/v1/customers/{outside}"),
        json!({}),
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.to_string().contains(&outside_record), "{page}");
    // Within the scope, the same action goes on.
    let (status, attached) = send(
        &scoped,
        "POST",
        &format!("/v1/customers/{inside}/attach"),
        json!({"records": [inside_record]}),
    );
    assert_ne!(status, 404, "{attached}");
    // An attribute upload is checked line by line: the line for a customer
    // outside the scope is rejected as an unknown customer's would be.
    let upload = scoped
        .post(format!("{}/v1/attributes", server.base))
        .header("content-type", "text/csv")
        .body(format!(
            "customer_id,key,value\n{outside},scoped_score,1\n{inside},scoped_score,2\n"
        ))
        .send()
        .unwrap();
    assert_eq!(upload.status().as_u16(), 200);
    let report: Value = upload.json().unwrap();
    assert_eq!(report["accepted"], 1, "{report}");
    assert_eq!(report["rejected_count"], 1, "{report}");
    assert_eq!(
        report["rejected"][0]["reason"],
        format!("unknown customer `{outside}`"),
        "{report}"
    );
    for (customer, holds) in [(&outside, false), (&inside, true)] {
        let (status, page) = send(
            &admin,
            "GET",
            &format!("/v1/customers/{customer}"),
            json!({}),
        );
        assert_eq!(status, 200, "{page}");
        assert_eq!(page.to_string().contains("scoped_score"), holds, "{page}");
    }
}

/// A web session outlives a restart of the server (staff are not signed
/// out by a deploy), with the same CSRF token; the store keeps neither the
/// session token nor the CSRF token; a sign-out ends it for good, across a
/// restart too.
#[test]
fn a_session_survives_a_restart_and_a_sign_out_ends_it_for_good() {
    let ws = Workspace::with_examples();
    ws.add_user("ann", "staff", "ann's long password");
    let server = ws.serve();
    let response = sign_in(&server.base, "ann", "ann's long password");
    assert_eq!(response.status().as_u16(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    let token = cookie.split(';').next().unwrap().to_string();
    let session: Value = response.json().unwrap();
    let csrf = session["csrf_token"].as_str().unwrap().to_string();
    drop(server);

    let server = ws.serve();
    let base = server.base.clone();
    let host = base.trim_start_matches("http://").to_string();
    let with_cookie = |method: reqwest::Method, path: &str| {
        client_with(None)
            .request(method, format!("{base}{path}"))
            .header("cookie", &token)
            .header("host", &host)
    };
    let me: Value = with_cookie(reqwest::Method::GET, "/v1/session")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(me["actor"], "user:ann", "signed out by the restart: {me}");
    assert_eq!(me["csrf_token"], csrf.as_str(), "{me}");
    let (_, acme) = server.get("/v1/search?q=Acme%20Robotics&filter.kind=organization");
    let acme = acme["customers"][0]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let written = with_cookie(reqwest::Method::POST, "/v1/notes")
        .header("content-type", "application/json")
        .header("x-csrf-token", &csrf)
        .header("origin", &base)
        .header("sec-fetch-site", "same-origin")
        .body(json!({"customer_id": acme, "text": "after the restart: amberloom"}).to_string())
        .send()
        .unwrap();
    assert_eq!(written.status().as_u16(), 201);
    let secret = token.trim_start_matches("rapport_session=");
    for needle in [secret, csrf.as_str()] {
        let holding = files_holding(&ws.path().join("store"), needle.as_bytes());
        assert!(
            holding.is_empty(),
            "a session secret is stored in {holding:?}"
        );
    }

    let out = with_cookie(reqwest::Method::DELETE, "/v1/session")
        .header("x-csrf-token", &csrf)
        .send()
        .unwrap();
    assert_eq!(out.status().as_u16(), 200);
    drop(server);
    let server = ws.serve();
    let after = client_with(None)
        .get(format!("{}/v1/search?q=acme", server.base))
        .header("cookie", &token)
        .header("host", server.base.trim_start_matches("http://"))
        .send()
        .unwrap();
    assert_eq!(
        after.status().as_u16(),
        401,
        "a signed-out session came back"
    );
}

#[test]
fn a_lock_out_outlives_a_restart() {
    let ws = Workspace::new();
    ws.write_config_with(&[], "[auth]\nlockout = \"10m\"\n");
    ws.add_user("bo", "staff", "bo's long password");
    ws.add_user("ann", "staff", "ann's long password");
    let server = ws.serve();
    let statuses: Vec<u16> = (0..5)
        .map(|_| {
            sign_in(&server.base, "bo", "a wrong guess!")
                .status()
                .as_u16()
        })
        .collect();
    assert_eq!(statuses, vec![401, 401, 401, 401, 429]);
    drop(server);

    let server = ws.serve();
    let locked = sign_in(&server.base, "bo", "bo's long password");
    assert_eq!(
        locked.status().as_u16(),
        429,
        "the restart unlocked a guessed name"
    );
    assert!(locked.headers().get("retry-after").is_some());
    assert_eq!(
        sign_in(&server.base, "ann", "ann's long password")
            .status()
            .as_u16(),
        200
    );
    let holding = files_holding(&ws.path().join("store"), b"a wrong guess!");
    assert!(holding.is_empty(), "a guess is stored in {holding:?}");
}
