//! One-time sign-in links (issue 16): issued by an admin over HTTP or by
//! `rapport users link` with the server stopped, they open one session,
//! once, and a restart in between does not lose them; only users may get
//! one, the token is never stored, and every issue is audited.

use crate::common;

use common::{Workspace, client_with, files_holding};
use serde_json::{Value, json};

/// `POST /v1/session` with a link, as the web page sends it.
fn redeem(base: &str, token: &str) -> u16 {
    client_with(None)
        .post(format!("{base}/v1/session"))
        .header("content-type", "application/json")
        .header("origin", base)
        .header("sec-fetch-site", "same-origin")
        .body(json!({ "link": token }).to_string())
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn token_of(url: &str) -> String {
    url.trim()
        .split_once("/#signin=")
        .map(|(_, token)| token.to_string())
        .unwrap_or_else(|| panic!("no link in {url:?}"))
}

#[test]
fn a_sign_in_link_opens_one_session_once_even_across_a_restart() {
    let ws = Workspace::new();
    ws.write_config_with(&[], "");
    ws.add_user("ann", "staff", "ann's long password");

    // With no server: the CLI writes the link to the store.
    let offline = ws.run(&["users", "link", "ann", "--valid", "1h"]);
    assert!(
        offline.status.success(),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    let offline_token = token_of(&String::from_utf8_lossy(&offline.stdout));
    let refused = ws.run(&["users", "link", "nobody"]);
    assert!(!refused.status.success(), "a link for a missing user");

    let server = ws.serve();
    // Over HTTP: admins only, for existing users, within seven days.
    let (status, issued) = server.post("/v1/users/ann/sign-in-link", r#"{"valid": "2h"}"#);
    assert_eq!(status, 201, "{issued}");
    let http_token = issued["token"].as_str().unwrap().to_string();
    assert_ne!(http_token, offline_token);
    let (status, _) = server.post("/v1/users/ann/sign-in-link", "");
    assert_eq!(status, 201, "no body: the default lifetime");
    let (status, answer) = server.post("/v1/users/nobody/sign-in-link", "");
    assert_eq!(status, 404, "{answer}");
    let (status, answer) = server.post("/v1/users/ann/sign-in-link", r#"{"valid": "30d"}"#);
    assert_eq!(status, 400, "{answer}");
    let staff = ws.create_key("s", "staff", &[]);
    let forbidden = client_with(Some(&staff))
        .post(format!("{}/v1/users/ann/sign-in-link", server.base))
        .send()
        .unwrap();
    assert_eq!(forbidden.status().as_u16(), 403);
    let (_, audit) = server.get("/v1/audit?action=user.sign_in_link");
    let outcomes: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e: &Value| {
            let actor = e["actor"].as_str().unwrap();
            (
                if actor == "local" { "local" } else { "http" },
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("local", "ok"),
            ("http", "ok"),
            ("http", "ok"),
            ("http", "404"),
            ("http", "400"),
            ("http", "403")
        ],
        "every issue, offline or over HTTP, with its outcome: {audit}"
    );
    drop(server);

    // After a restart both links still open a session, once each.
    let server = ws.serve();
    assert_eq!(redeem(&server.base, &offline_token), 200);
    assert_eq!(redeem(&server.base, &offline_token), 401, "used twice");
    assert_eq!(redeem(&server.base, &http_token), 200);
    assert_eq!(redeem(&server.base, &http_token), 401, "used twice");
    assert_eq!(redeem(&server.base, "0123abcd"), 401);

    let store = ws.path().join("store");
    for token in [&offline_token, &http_token] {
        let holding = files_holding(&store, token.as_bytes());
        assert!(holding.is_empty(), "a link token is stored in {holding:?}");
    }
}
