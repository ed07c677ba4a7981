//! The audit trail over real HTTP on a real server: every access to a
//! customer, every write, every refusal and every sign-in attempt is an
//! entry naming the actor from the credential; the log filters and pages;
//! its hash chain verifies through the API and `rapport audit verify`, and
//! an entry changed in the store afterwards is caught.

use crate::common;

use common::{Workspace, client_with};
use serde_json::Value;

fn entries(answer: &Value) -> Vec<Value> {
    answer["entries"].as_array().cloned().unwrap_or_default()
}

#[test]
fn accesses_writes_and_refusals_are_audited_and_the_chain_is_tamper_evident() {
    let ws = Workspace::with_examples();
    let viewer_key = ws.create_key("reader", "viewer", &[]);
    let mut server = ws.serve();
    let admin = server.key.clone().unwrap_or_default();

    // A customer page and its timeline, read as a viewer.
    let (_, found) = server.get("/v1/search?q=Acme&group=customer&limit=1");
    let customer = found["customers"][0]["customer_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!customer.is_empty(), "no customer found for Acme");
    let viewer = client_with(Some(&viewer_key));
    for path in [
        format!("/v1/customers/{customer}"),
        format!("/v1/customers/{customer}/timeline"),
    ] {
        let status = viewer
            .get(format!("{}{path}", server.base))
            .send()
            .unwrap()
            .status();
        assert_eq!(status, 200, "{path}");
    }
    // An export the viewer may not run: refused, and recorded as refused.
    let refused = viewer
        .get(format!("{}/v1/export?q=Acme", server.base))
        .send()
        .unwrap()
        .status();
    assert_eq!(refused, 403);
    // A failed sign-in names the account it was tried on.
    let (status, _) = server.post("/v1/session", r#"{"user": "mallory", "password": "guess"}"#);
    assert_eq!(status, 401);

    server.set_key(&viewer_key);
    let viewer_actor = server.actor();
    server.set_key(&admin);
    let (status, answer) = server.get(&format!("/v1/audit?actor={viewer_actor}"));
    assert_eq!(status, 200, "{answer}");
    let mine = entries(&answer);
    let actions: Vec<(&str, &str)> = mine
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default(),
                e["outcome"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("customer.read", "ok"),
            ("timeline.read", "ok"),
            ("export", "403")
        ],
        "{answer}"
    );
    assert_eq!(mine[0]["customer_id"], customer.as_str());
    assert_eq!(mine[2]["query"], "q=Acme");
    let (_, by_customer) = server.get(&format!("/v1/audit?customer_id={customer}"));
    assert_eq!(entries(&by_customer).len(), 2, "{by_customer}");
    let (_, sign_ins) = server.get("/v1/audit?action=signin");
    let failed = entries(&sign_ins);
    assert_eq!(failed.len(), 1, "{sign_ins}");
    assert_eq!(failed[0]["actor"], "user:mallory");
    assert_eq!(failed[0]["outcome"], "401");

    // An export is recorded twice: when it starts (its query) and when its
    // last row is written (how many lines the file held).
    let (status, _, body) = server.get_text("/v1/export?q=*&format=ndjson");
    assert_eq!(status, 200);
    let lines = body.lines().count() as u64;
    assert!(lines > 3, "{body}");
    let finished = server.wait_for(std::time::Duration::from_secs(20), |s| {
        let (_, answer) = s.get("/v1/audit?action=export.finished");
        entries(&answer)
            .iter()
            .any(|e| e["lines"].as_u64() == Some(lines) && e["query"] == "q=*&format=ndjson")
    });
    assert!(finished, "no export.finished entry with {lines} lines");

    // Paging: `after` and `limit` walk the whole log once.
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let (_, page) = server.get(&format!("/v1/audit?limit=2&after={after}"));
        let page = entries(&page);
        if page.is_empty() {
            break;
        }
        after = page
            .last()
            .and_then(|e| e["seq"].as_u64())
            .unwrap_or(u64::MAX);
        seen.extend(page.into_iter().map(|e| e["seq"].as_u64().unwrap_or(0)));
    }
    assert!(seen.len() >= 4, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[1] == w[0] + 1), "{seen:?}");

    let (_, verified) = server.get("/v1/audit?verify=true&limit=1");
    assert_eq!(verified["chain"]["verified"], true, "{verified}");
    let cli = ws.run(&["audit", "verify"]);
    assert!(cli.status.success(), "{cli:?}");
    assert!(String::from_utf8_lossy(&cli.stdout).contains("intact"));
    // Listing through the running server, filtered by an actor id that
    // holds a `:` (encoded in the query).
    let listed = ws.run(&["audit", "list", "--actor", &viewer_actor, "--json"]);
    assert!(listed.status.success(), "{listed:?}");
    let listed: Vec<Value> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(listed.iter().all(|e| e["actor"] == viewer_actor.as_str()));

    // Nothing personal: the viewer never typed a name, and none is kept.
    let (_, all) = server.get("/v1/audit?limit=1000");
    let text = all.to_string().to_lowercase();
    assert!(!text.contains("acme robotics"), "{text}");
    drop(server);

    // An entry changed behind the server's back breaks the chain.
    let store = match rapport::store::Store::open(&ws.path().join("store/store.redb")) {
        Ok(store) => store,
        Err(e) => panic!("opening the store: {e}"),
    };
    let mut log = store.audit_log().unwrap();
    let second = &mut log[1];
    second.actor = "key:someone-else".into();
    store.tamper_with_audit_for_tests(second).unwrap();
    drop(store);
    let cli = ws.run(&["audit", "verify"]);
    assert_eq!(cli.status.code(), Some(1), "{cli:?}");
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert!(stderr.contains("audit entry 2"), "{stderr}");
}

#[test]
fn identity_changes_made_at_the_console_are_audited_without_their_secrets() {
    let ws = Workspace::new();
    ws.write_config_with(&[], "");
    let password = "ann's console password";
    let added = ws.run_with_stdin(&["users", "add", "ann", "--role", "staff"], password);
    assert!(added.status.success(), "{added:?}");
    let new_password = "ann's second password";
    let changed = ws.run_with_stdin(&["users", "passwd", "ann"], new_password);
    assert!(changed.status.success(), "{changed:?}");
    for args in [["users", "disable", "ann"], ["users", "enable", "ann"]] {
        let out = ws.run(&args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    let link = ws.run(&["users", "link", "ann"]);
    assert!(link.status.success(), "{link:?}");
    let link = String::from_utf8_lossy(&link.stdout).to_string();
    let token = link
        .trim()
        .rsplit('=')
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(token.len() > 20, "{link}");

    let created = ws.run(&[
        "keys", "create", "--name", "etl", "--role", "analyst", "--json",
    ]);
    assert!(created.status.success(), "{created:?}");
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let key_id = created["id"].as_str().unwrap_or_default().to_string();
    let first_secret = created["secret"].as_str().unwrap_or_default().to_string();
    let rotated = ws.run(&["keys", "rotate", &key_id, "--json"]);
    assert!(rotated.status.success(), "{rotated:?}");
    let rotated: Value = serde_json::from_slice(&rotated.stdout).unwrap();
    let rotated_id = rotated["id"].as_str().unwrap_or_default().to_string();
    let second_secret = rotated["secret"].as_str().unwrap_or_default().to_string();
    let revoked = ws.run(&["keys", "revoke", &rotated_id]);
    assert!(revoked.status.success(), "{revoked:?}");
    // A refused change changes nothing and is not recorded as done.
    let refused = ws.run(&["users", "disable", "nobody"]);
    assert!(!refused.status.success(), "{refused:?}");

    let listed = ws.run(&["audit", "list", "--actor", "local", "--json"]);
    assert!(listed.status.success(), "{listed:?}");
    let text = String::from_utf8_lossy(&listed.stdout).to_string();
    let entries: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let done: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["targets"][0].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("user.create", "ann"),
        ("user.update", "ann"),
        ("user.update", "ann"),
        ("user.update", "ann"),
        ("user.sign_in_link", "ann"),
        ("key.create", key_id.as_str()),
        ("key.rotate", key_id.as_str()),
        ("key.revoke", rotated_id.as_str()),
    ]
    .iter()
    .map(|(a, t)| (a.to_string(), t.to_string()))
    .collect();
    assert_eq!(done, expected, "{text}");
    assert!(
        entries
            .iter()
            .all(|e| e["outcome"] == "ok" && e["via"] == "command line"),
        "{text}"
    );
    for secret in [
        password,
        new_password,
        &token,
        &first_secret,
        &second_secret,
    ] {
        assert!(!text.contains(secret), "a secret in the audit log: {text}");
    }
    let verified = ws.run(&["audit", "verify"]);
    assert!(verified.status.success(), "{verified:?}");
}
