//! Pulling an export that needs credentials (issue 18): the request
//! headers named in rapport.toml take their values from environment
//! variables of the server, and the value never reaches the log, the
//! connectors status or the store. A local export server on 127.0.0.1
//! answers 401 without the right header.

use crate::common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{Server, Workspace, hit_ids};

const SECRET: &str = "Basic c3VwcG9ydEBvdXJjby5leGFtcGxlL3Rva2VuOnMzY3IzdA==";

#[derive(Default)]
struct Seen {
    authorised: usize,
    refused: usize,
}

async fn export(State(seen): State<Arc<Mutex<Seen>>>, headers: HeaderMap) -> Response {
    let Ok(mut seen) = seen.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(SECRET) {
        seen.refused += 1;
        return StatusCode::UNAUTHORIZED.into_response();
    }
    seen.authorised += 1;
    "{\"id\": 7, \"subject\": \"Authorised astrolabe ticket\", \"status\": \"open\"}\n"
        .into_response()
}

fn start_export_server(seen: Arc<Mutex<Seen>>) -> (String, tokio::runtime::Runtime) {
    let app = Router::new()
        .route("/api/v2/incremental/tickets.json", get(export))
        .with_state(seen);
    let (address, runtime) = common::serve_router(app);
    (
        format!("http://{address}/api/v2/incremental/tickets.json"),
        runtime,
    )
}

fn config(ws: &Workspace, url: &str, variable: &str) {
    let text = format!(
        "data_dir = \"store\"\n[[sources]]\nname = \"zd\"\nconnector = \"zendesk-export\"\npath = \"pulled\"\npull = {{ url = \"{url}\", every = \"1s\", headers = {{ Authorization = \"{variable}\" }} }}\n"
    );
    std::fs::write(ws.config(), text).unwrap();
}

#[test]
fn a_pull_sends_headers_from_the_environment_and_never_logs_them() {
    let seen: Arc<Mutex<Seen>> = Default::default();
    let (url, _runtime) = start_export_server(seen.clone());
    let ws = Workspace::new();
    config(&ws, &url, "RAPPORT_TEST_ZENDESK_AUTH");
    let key = ws.create_key("tests", "admin", &[]);
    let log = ws.path().join("server.log");
    let mut command = ws.command(&["serve", "--listen", "127.0.0.1:0"]);
    command
        .env("RAPPORT_TEST_ZENDESK_AUTH", SECRET)
        .env("RAPPORT_LOG", "trace,tantivy=warn");
    let mut server =
        Server::start_with_stderr(command, Stdio::from(std::fs::File::create(&log).unwrap()));
    server.set_key(&key);
    let timeout = Duration::from_secs(30);
    assert!(server.wait_for(timeout, |s| hit_ids(&s.search("astrolabe")) == ["zd:7"]));
    assert!(seen.lock().unwrap().authorised >= 1);
    assert_eq!(seen.lock().unwrap().refused, 0);
    let (_, status) = server.get("/v1/connectors");
    assert!(!status.to_string().contains("c3VwcG9ydE"), "{status}");
    drop(server);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("pull"),
        "the trace log says nothing of the pull"
    );
    assert!(!logged.contains("c3VwcG9ydE"), "the secret is in the log");
    for entry in walk(&ws.path().join("store")) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(10).any(|w| w == b"c3VwcG9ydE"),
            "the secret is in {}",
            entry.display()
        );
    }
}

/// Without the variable the pull fails with an error that names the
/// variable (never a value), and the export server refuses nothing
/// because nothing was sent.
#[test]
fn a_missing_credential_variable_is_a_pull_error_naming_it() {
    let seen: Arc<Mutex<Seen>> = Default::default();
    let (url, _runtime) = start_export_server(seen.clone());
    let ws = Workspace::new();
    config(&ws, &url, "RAPPORT_TEST_UNSET_AUTH");
    let mut command = ws.command(&["serve", "--listen", "127.0.0.1:0"]);
    command.env_remove("RAPPORT_TEST_UNSET_AUTH");
    let server = ws.start(command);
    let error = |s: &Server| {
        let (_, status) = s.get("/v1/connectors");
        status["sources"][0]["last_pull"]["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(server.wait_for(Duration::from_secs(30), |s| !error(s).is_empty()));
    let message = error(&server);
    assert!(
        message.contains("RAPPORT_TEST_UNSET_AUTH") && message.contains("Authorization"),
        "{message}"
    );
    assert_eq!(seen.lock().unwrap().authorised, 0);
    assert_eq!(seen.lock().unwrap().refused, 0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
