//! Connectors end to end through the real binary: every format ingested and
//! searched, status in the CLI, manifest checks, a watched folder of a
//! running server followed through drops, changes and deletes, and an export
//! pulled over HTTP from a local server with ETag handling.

use crate::common;

use std::time::Duration;

use common::{Workspace, copy_dir, hit_ids, repo};

fn fixtures() -> std::path::PathBuf {
    repo().join("tests/fixtures/connectors")
}

fn source(name: &str, connector: &str, path: &str, extra: &str) -> String {
    format!(
        "[[sources]]\nname = \"{name}\"\nconnector = \"{connector}\"\npath = \"{path}\"\n{extra}\n"
    )
}

fn write_config(ws: &Workspace, sources: &[String]) {
    let text = format!(
        "data_dir = \"store\"\nwatch_debounce_ms = 200\n{}",
        sources.join("")
    );
    std::fs::write(ws.config(), text).unwrap();
}

#[test]
fn every_connector_ingests_and_its_records_are_searchable() {
    let ws = Workspace::new();
    copy_dir(&fixtures(), &ws.path().join("in"));
    let sources = [
        ("sf", "salesforce-export", "in/salesforce"),
        ("hub", "hubspot-export", "in/hubspot"),
        ("zd", "zendesk-export", "in/zendesk"),
        ("mail", "mbox", "in/mbox"),
        ("eml", "eml", "in/eml"),
        ("cards", "vcard", "in/vcard"),
        ("sjis", "generic-csv", "in/shift-jis"),
        ("json", "generic-json", "in/generic-json"),
    ];
    write_config(
        &ws,
        &sources
            .iter()
            .map(|(n, c, p)| source(n, c, p, ""))
            .collect::<Vec<_>>(),
    );
    let report = ws.ingest();
    let inserted: Vec<u64> = (0..sources.len())
        .map(|i| report["sources"][i]["inserted"].as_u64().unwrap())
        .collect();
    assert_eq!(inserted, vec![12, 5, 4, 5, 3, 5, 2, 2], "{report}");
    let errors: Vec<u64> = (0..sources.len())
        .map(|i| report["sources"][i]["error_count"].as_u64().unwrap())
        .collect();
    // mbox and eml: their messages' stub PDF attachment is a warning each.
    assert_eq!(errors, vec![0, 0, 1, 2, 1, 1, 0, 0], "{report}");

    for (query, id) in [
        ("indemnity", "sf:0025g00000NoteAAAA"),
        ("k.tanaka@nitto-seiki.example.jp", "sf:0035g00000TanakAAB"),
        ("maria.gonzalez@cedarpeak.example", "hub:contact-51"),
        ("firmware", "zd:1201"),
        ("再発行", "zd:1202"),
        ("再発行", "mail:20240510100000.ABCD@nitto-seiki.example.jp"),
        ("ブース番号", "eml:evt-20240513@minato-denshi.example.jp"),
        ("ProMat", "cards:5A9F6C1E-0B7D-4F4B-9E0C-1D2F3A4B5C6D"),
        ("見積書", "sjis:J-1"),
        ("edi", "json:C-1"),
    ] {
        let response = ws.search(query);
        assert!(
            hit_ids(&response).contains(&id.to_string()),
            "{query} → {response}"
        );
    }

    // The status survives the process: the CLI reads it from the store.
    let out = ws.run(&["connectors", "status", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let zd = &status[2];
    assert_eq!(zd["source"], "zd");
    assert_eq!(zd["state"], "idle");
    assert_eq!(zd["last_run"]["trigger"], "ingest");
    assert_eq!(zd["last_run"]["report"]["files_seen"], 2);
    assert_eq!(zd["last_run"]["report"]["inserted"], 4);
    let error = &zd["last_run"]["report"]["errors"][0];
    assert_eq!(error["file"], "tickets-export.json");
    assert_eq!(error["line"], 2);
    assert!(
        error["reason"].as_str().unwrap().contains("malformed JSON"),
        "{error}"
    );
    let text = ws.run(&["connectors", "status"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("tickets-export.json:2"), "{text}");
}

#[test]
fn connectors_check_previews_a_sample_and_names_unmatched_columns() {
    let ws = Workspace::new();
    let sample = fixtures().join("salesforce/Contact.csv");
    let out = ws.run(&[
        "connectors",
        "check",
        "salesforce-export",
        "--sample",
        sample.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("0035g00000JonSmAAB") && stdout.contains("\"rel\": \"account\""),
        "{stdout}"
    );

    let manifest = ws.path().join("mine.toml");
    std::fs::write(
        &manifest,
        "name='mine'\nformat='csv'\nextensions=['csv']\nkind='person'\n[fields]\nexternal_id='Id'\nemails='E-mail Address'\n",
    )
    .unwrap();
    let out = ws.run(&[
        "connectors",
        "check",
        manifest.to_str().unwrap(),
        "--sample",
        sample.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("unknown field: `emails` maps `E-mail Address`"),
        "{stdout}"
    );

    std::fs::write(
        &manifest,
        "name='mine'\nformat='csv'\nextensions=['csv']\nkind='person'\n[fields]\nmood='x'\n",
    )
    .unwrap();
    let out = ws.run(&["connectors", "check", manifest.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("maps `mood`, which is not a record field"),
        "{stderr}"
    );
}

#[test]
fn a_large_csv_goes_in_batches_and_vanished_rows_are_deleted() {
    let ws = Workspace::new();
    let folder = ws.path().join("big");
    std::fs::create_dir_all(&folder).unwrap();
    let rows = |n: usize| {
        let mut s = String::from("id,name,email\n");
        for i in 0..n {
            s.push_str(&format!("R-{i},Row {i},row{i}@example.com\n"));
        }
        s
    };
    std::fs::write(folder.join("rows.csv"), rows(2_500)).unwrap();
    write_config(&ws, &[source("big", "generic-csv", "big", "")]);
    assert_eq!(ws.ingest()["sources"][0]["inserted"], 2_500);
    std::fs::write(folder.join("rows.csv"), rows(1_200)).unwrap();
    let second = ws.ingest();
    assert_eq!(second["sources"][0]["deleted"], 1_300, "{second}");
    assert_eq!(second["sources"][0]["unchanged"], 1_200, "{second}");
    assert_eq!(ws.search("row2400@example.com")["total"], 0);
    assert_eq!(ws.search("row1100@example.com")["total"], 1);
}

fn ids(server: &common::Server, q: &str) -> Vec<String> {
    hit_ids(&server.search(q))
}

#[test]
fn a_watched_folder_follows_drops_changes_and_deletes() {
    let ws = Workspace::new();
    let folder = ws.path().join("watched");
    std::fs::create_dir_all(&folder).unwrap();
    write_config(
        &ws,
        &[source("live", "generic-csv", "watched", "watch = true")],
    );
    let server = ws.serve();
    let timeout = Duration::from_secs(15);
    assert!(
        server.wait_for(
            timeout,
            |s| s.get("/v1/connectors").1["sources"][0]["state"] == "watching"
        ),
        "{}",
        server.get("/v1/connectors").1
    );

    // Drop a file.
    std::fs::write(
        folder.join("people.csv"),
        "id,name,email\nW-1,Wanda Watch,wanda@example.com\nW-2,Walter Watch,walter@example.com\n",
    )
    .unwrap();
    assert!(server.wait_for(timeout, |s| ids(s, "wanda@example.com") == ["live:W-1"]));
    assert!(ids(&server, "walter@example.com").contains(&"live:W-2".to_string()));

    // Change a row and remove another.
    std::fs::write(
        folder.join("people.csv"),
        "id,name,email\nW-1,Wanda Renamed,wanda@example.com\n",
    )
    .unwrap();
    assert!(server.wait_for(timeout, |s| ids(s, "renamed") == ["live:W-1"]));
    assert!(server.wait_for(timeout, |s| ids(s, "walter@example.com").is_empty()));
    let (_, status) = server.get("/v1/connectors");
    let run = &status["sources"][0]["last_run"];
    assert_eq!(run["trigger"], "watch", "{status}");
    assert_eq!(run["report"]["updated"], 1, "{status}");
    assert_eq!(run["report"]["deleted"], 1, "{status}");

    // A folder created with a file in it at once.
    std::fs::create_dir_all(folder.join("2024/06")).unwrap();
    std::fs::write(
        folder.join("2024/06/more.csv"),
        "id,name\nW-9,Nested Newcomer\n",
    )
    .unwrap();
    assert!(server.wait_for(timeout, |s| ids(s, "newcomer") == ["live:W-9"]));

    // A binary file is an error in the status, not a stop.
    std::fs::write(folder.join("photo.csv"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    assert!(server.wait_for(timeout, |s| {
        let (_, status) = s.get("/v1/connectors");
        status["sources"][0]["last_run"]["report"]["errors"]
            .as_array()
            .is_some_and(|e| {
                e.iter().any(|e| {
                    e["file"] == "photo.csv"
                        && e["reason"].as_str().unwrap_or("").contains("binary")
                })
            })
    }));

    // Delete a file: its records leave the index.
    std::fs::remove_file(folder.join("people.csv")).unwrap();
    assert!(server.wait_for(timeout, |s| ids(s, "wanda@example.com").is_empty()));
    assert_eq!(ids(&server, "newcomer"), ["live:W-9"]);
}

#[test]
fn a_file_still_being_written_is_read_when_complete() {
    use std::io::Write;
    let ws = Workspace::new();
    let folder = ws.path().join("watched");
    std::fs::create_dir_all(&folder).unwrap();
    write_config(
        &ws,
        &[source("live", "generic-csv", "watched", "watch = true")],
    );
    let server = ws.serve();
    let timeout = Duration::from_secs(15);
    assert!(server.wait_for(
        timeout,
        |s| s.get("/v1/connectors").1["sources"][0]["state"] == "watching"
    ));
    // Written in pieces 80 ms apart (inside the 200 ms debounce), each piece
    // ending in the middle of a row.
    let mut file = std::fs::File::create(folder.join("slow.csv")).unwrap();
    let mut text = String::from("id,name,email\n");
    for i in 0..15 {
        text.push_str(&format!("S-{i},Slow Writer {i},slow{i}@example.com\n"));
    }
    for piece in text.as_bytes().chunks(37) {
        file.write_all(piece).unwrap();
        file.flush().unwrap();
        std::thread::sleep(Duration::from_millis(80));
    }
    drop(file);
    assert!(server.wait_for(timeout, |s| ids(s, "slow14@example.com") == ["live:S-14"]));
    assert_eq!(server.search("slow")["total"], 15);
    // Each row was written to the store once: no half-written row was read
    // first and corrected later. (15 inserts, then resolution assigns each
    // person to a customer: one more change each.)
    let (_, health) = server.get("/healthz");
    assert_eq!(health["index"]["store_seq"], 30, "{health}");
}

#[test]
fn a_watched_folder_that_appears_later_is_picked_up() {
    let ws = Workspace::new();
    write_config(
        &ws,
        &[source("late", "vcard", "later/cards", "watch = true")],
    );
    let server = ws.serve();
    let (_, status) = server.get("/v1/connectors");
    assert_eq!(
        status["sources"][0]["last_run"]["report"]["failed"]
            .as_str()
            .map(|f| f.contains("does not exist")),
        Some(true),
        "{status}"
    );
    // The folder and its file appear at once (inotify sees no file event).
    std::fs::create_dir_all(ws.path().join("later/cards")).unwrap();
    std::fs::write(
        ws.path().join("later/cards/team.vcf"),
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:late-1\r\nFN:Latecomer Lia\r\nEND:VCARD\r\n",
    )
    .unwrap();
    assert!(
        server.wait_for(Duration::from_secs(15), |s| ids(s, "latecomer")
            == ["late:late-1"])
    );
    assert_eq!(
        server.get("/v1/connectors").1["sources"][0]["state"],
        "watching"
    );

    // The folder is removed (its records stay: a missing folder is a failed
    // read, not an empty one) and comes back with another file.
    std::fs::remove_dir_all(ws.path().join("later")).unwrap();
    assert!(server.wait_for(Duration::from_secs(15), |s| {
        s.get("/v1/connectors").1["sources"][0]["state"] != "watching"
    }));
    assert_eq!(ids(&server, "latecomer"), ["late:late-1"]);
    std::fs::create_dir_all(ws.path().join("later/cards")).unwrap();
    std::fs::write(
        ws.path().join("later/cards/more.vcf"),
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:late-2\r\nFN:Returning Rui\r\nEND:VCARD\r\n",
    )
    .unwrap();
    assert!(
        server.wait_for(Duration::from_secs(15), |s| ids(s, "returning")
            == ["late:late-2"])
    );
    // team.vcf is not in the folder that came back: its card goes too.
    assert!(server.wait_for(Duration::from_secs(15), |s| ids(s, "latecomer").is_empty()));
}

/// A tiny export server: serves `body` with an ETag; answers 304 to a
/// matching If-None-Match, and counts both.
mod export_server {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;

    #[derive(Default)]
    pub struct Export {
        pub body: String,
        pub etag: String,
        pub full: usize,
        pub not_modified: usize,
    }

    pub type Shared = Arc<Mutex<Export>>;

    async fn serve(State(export): State<Shared>, headers: HeaderMap) -> Response {
        let mut export = export.lock().unwrap();
        let tag = format!("\"{}\"", export.etag);
        if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
            export.not_modified += 1;
            return StatusCode::NOT_MODIFIED.into_response();
        }
        export.full += 1;
        ([("etag", tag)], export.body.clone()).into_response()
    }

    pub fn start(export: Shared) -> (String, tokio::runtime::Runtime) {
        let app = Router::new()
            .route("/exports/tickets.json", get(serve))
            .with_state(export);
        let (address, runtime) = super::common::serve_router(app);
        (format!("http://{address}/exports/tickets.json"), runtime)
    }
}

#[test]
fn pull_fetches_an_export_with_etags_and_ingests_it() {
    let export: export_server::Shared = Default::default();
    {
        let mut e = export.lock().unwrap();
        e.body =
            "{\"id\": 1, \"subject\": \"Pulled teleporter ticket\", \"status\": \"open\"}\n".into();
        e.etag = "v1".into();
    }
    let (url, _runtime) = export_server::start(export.clone());
    let ws = Workspace::new();
    write_config(
        &ws,
        &[source(
            "zd",
            "zendesk-export",
            "pulled",
            &format!("pull = {{ url = \"{url}\", every = \"1s\" }}"),
        )],
    );
    let server = ws.serve();
    let timeout = Duration::from_secs(20);
    assert!(server.wait_for(timeout, |s| ids(s, "teleporter") == ["zd:1"]));
    assert!(ws.path().join("pulled/tickets.json").is_file());
    // Later fetches send the ETag and get 304s.
    assert!(server.wait_for(timeout, |_| export.lock().unwrap().not_modified >= 2));
    assert_eq!(export.lock().unwrap().full, 1);
    let (_, status) = server.get("/v1/connectors");
    let pull = &status["sources"][0]["last_pull"];
    assert_eq!(pull["etag"], "\"v1\"", "{status}");
    assert!(pull["not_modified"].as_u64().unwrap() >= 1, "{status}");

    // A new export replaces the old one: its ticket appears, the old one goes.
    {
        let mut e = export.lock().unwrap();
        e.body =
            "{\"id\": 2, \"subject\": \"Pulled hovercraft ticket\", \"status\": \"new\"}\n".into();
        e.etag = "v2".into();
    }
    assert!(server.wait_for(timeout, |s| ids(s, "hovercraft") == ["zd:2"]));
    assert!(server.wait_for(timeout, |s| ids(s, "teleporter").is_empty()));
    // No partial file is left behind.
    let names: Vec<String> = std::fs::read_dir(ws.path().join("pulled"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["tickets.json"]);
}
