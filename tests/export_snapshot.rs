//! Bulk export and snapshots end to end, on real data directories and a real
//! server on 127.0.0.1: exports agree with search and the store at both
//! levels and in both formats, a large export streams to the end (over HTTP
//! and from the command line, with and without a server), and a snapshot
//! taken while searches run restores into a new data directory that answers
//! exactly as the original did.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Server, Workspace};
use serde_json::Value;

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// `GET /v1/export` with these parameters: status, headers, body.
fn export(server: &Server, params: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let url =
        reqwest::Url::parse_with_params(&format!("{}/v1/export", server.base), params).unwrap();
    let response = client().get(url).send().unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().unwrap())
}

fn ndjson(body: &str) -> Vec<Value> {
    body.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect()
}

fn csv_rows(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Total of `/v1/search` (records, not grouped) for the same q and filters.
fn search_total(server: &Server, params: &[(&str, &str)]) -> u64 {
    let mut all: Vec<(&str, &str)> = vec![("group", "none"), ("limit", "1")];
    let has_q = params.iter().any(|(k, _)| *k == "q");
    if !has_q {
        all.push(("q", "*"));
    }
    all.extend_from_slice(params);
    let url = reqwest::Url::parse_with_params(&format!("{}/v1/search", server.base), &all).unwrap();
    let response: Value = client().get(url).send().unwrap().json().unwrap();
    response["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("{response}"))
}

/// Every record id search finds for `q` (paged).
fn search_ids(server: &Server, q: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for offset in (0..).step_by(1000) {
        let offset = offset.to_string();
        let url = reqwest::Url::parse_with_params(
            &format!("{}/v1/search", server.base),
            &[
                ("q", q),
                ("group", "none"),
                ("limit", "1000"),
                ("offset", &offset),
            ],
        )
        .unwrap();
        let response: Value = client().get(url).send().unwrap().json().unwrap();
        let hits = response["hits"].as_array().unwrap();
        ids.extend(hits.iter().map(|h| h["id"].as_str().unwrap().to_string()));
        if hits.len() < 1000 {
            break;
        }
    }
    ids
}

#[test]
fn exports_agree_with_search_at_both_levels_and_in_both_formats() {
    let ws = Workspace::with_examples();
    let server = ws.serve();

    // Everything: the store walked directly; the same ids as search finds.
    let (status, headers, body) = export(&server, &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/x-ndjson");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename=\"rapport-records.ndjson\"")
    );
    let lines = ndjson(&body);
    let (_, health) = server.get("/healthz");
    assert_eq!(
        lines.len() as u64,
        health["index"]["records"].as_u64().unwrap()
    );
    let exported: BTreeSet<String> = lines
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(exported, search_ids(&server, "*"));
    for line in &lines {
        assert_eq!(
            line["id"],
            format!(
                "{}:{}",
                line["source"].as_str().unwrap(),
                line["external_id"].as_str().unwrap()
            )
        );
    }
    // The record as the store holds it, with its customer assignment.
    let acme = lines.iter().find(|l| l["id"] == "crm:ORG-001").unwrap();
    assert_eq!(acme["names"][0], "Acme Robotics Inc.");
    assert!(
        acme["customer_id"]
            .as_str()
            .is_some_and(|c| c.starts_with("org_")),
        "{acme}"
    );
    assert_eq!(acme["provenance"]["file"], "accounts_and_contacts.csv");

    // A query, a filter, both: as many lines as search's total, in both formats.
    let cases: [&[(&str, &str)]; 4] = [
        &[("q", "renewal")],
        &[("filter.kind", "note")],
        &[("q", "東京"), ("filter.kind", "organization,note")],
        &[("q", "acme"), ("filter.country", "us")],
    ];
    for params in cases {
        let total = search_total(&server, params);
        assert!(
            total > 0,
            "{params:?} matches nothing: the case tests nothing"
        );
        let (status, _, body) = export(&server, params);
        assert_eq!(status, 200, "{body}");
        let records = ndjson(&body);
        assert_eq!(records.len() as u64, total, "{params:?}");

        let mut csv_params = params.to_vec();
        csv_params.push(("format", "csv"));
        let (status, headers, body) = export(&server, &csv_params);
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        let (header, rows) = csv_rows(&body);
        assert_eq!(header[0], "id");
        assert_eq!(rows.len() as u64, total, "{params:?}");

        // Customer level: one line per distinct customer of the matches.
        let customers: BTreeSet<String> = records
            .iter()
            .filter_map(|r| r["customer_id"].as_str().map(str::to_string))
            .collect();
        let mut customer_params = params.to_vec();
        customer_params.push(("level", "customer"));
        let (status, _, body) = export(&server, &customer_params);
        assert_eq!(status, 200, "{body}");
        let lines = ndjson(&body);
        let ids: BTreeSet<String> = lines
            .iter()
            .map(|l| l["customer_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), lines.len(), "a customer twice: {body}");
        assert_eq!(ids, customers, "{params:?}");
        customer_params.push(("format", "csv"));
        let (_, _, body) = export(&server, &customer_params);
        let (header, rows) = csv_rows(&body);
        assert_eq!(header[0], "customer_id");
        assert_eq!(rows.len(), customers.len());
    }

    // Customer level, everything: organisations and people without one,
    // with golden values; the page agrees.
    let (_, _, body) = export(&server, &[("level", "customer")]);
    let customers = ndjson(&body);
    let acme_id = acme["customer_id"].as_str().unwrap();
    let line = customers
        .iter()
        .find(|c| c["customer_id"] == acme_id)
        .unwrap();
    let (_, page) = server.get(&format!("/v1/customers/{acme_id}"));
    assert_eq!(line["name"], page["name"], "{line}");
    assert_eq!(line["kind"], "organization");
    assert_eq!(
        line["record_count"].as_u64().unwrap() as usize,
        page["records"].as_array().unwrap().len()
    );

    // Fields: chosen columns in order, `attrs.NAME`, CSV lists joined with `;`.
    let (_, _, body) = export(
        &server,
        &[
            ("fields", "id,emails,attrs.city"),
            ("filter.kind", "person"),
        ],
    );
    for line in ndjson(&body) {
        let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3, "{line}");
        assert!(line.get("attrs.city").is_some(), "{line}");
    }
    let (_, _, body) = export(
        &server,
        &[
            ("fields", "id,tags"),
            ("format", "csv"),
            ("q", "acme robotics"),
        ],
    );
    let (header, rows) = csv_rows(&body);
    assert_eq!(header, vec!["id", "tags"]);
    let org = rows.iter().find(|r| r[0] == "crm:ORG-001").unwrap();
    assert_eq!(org[1], "enterprise;priority;robotics");

    // Mistakes are 400s naming the parameter, before any row.
    let (status, _, body) = export(&server, &[("fields", "id,shoe_size")]);
    assert_eq!(status, 400);
    let error: Value = serde_json::from_str(&body).unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`fields`")
            && message.contains("shoe_size")
            && message.contains("external_id"),
        "{message}"
    );
    let (status, _, body) = export(&server, &[("filter.nope", "1")]);
    assert_eq!(status, 400);
    assert!(body.contains("filter.nope"), "{body}");
    let (status, _, body) = export(&server, &[("filter.amount", "lots")]);
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = export(&server, &[("format", "xml")]);
    assert_eq!(status, 400);
    assert!(body.contains("`format`"), "{body}");
    let (status, _, body) = export(&server, &[("limit", "10")]);
    assert_eq!(status, 400);
    assert!(body.contains("unknown_parameter"), "{body}");
}

/// A CSV export of `n` notes for the generic connector (notes keep
/// resolution cheap, so the test spends its time exporting).
fn write_notes(path: &std::path::Path, n: usize) {
    let mut text = String::from("id,kind,title,country,tags,description\n");
    for i in 0..n {
        text.push_str(&format!(
            "N{i:06},note,Call {i},{},{},\"note {i} {}\"\n",
            ["JP", "US", "DE"][i % 3],
            ["gold", "silver;bronze"][i % 2],
            if i % 10 == 0 { "tenth" } else { "other" }
        ));
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn line_count(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count()
}

#[test]
fn a_large_export_streams_to_the_end_over_http_and_from_the_command_line() {
    const N: usize = 20_000;
    let ws = Workspace::new();
    write_notes(&ws.path().join("notes/notes.csv"), N);
    ws.write_config(&[("notes", "generic-csv", "notes")]);
    ws.ingest();

    // No server: the command line opens the data directory itself.
    let local = ws.path().join("local.ndjson");
    let out = ws.run(&["export", "--output", local.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(line_count(&local), N);

    let server = ws.serve();
    let (status, _, body) = export(&server, &[]);
    assert_eq!(status, 200);
    assert_eq!(body.lines().count(), N);
    assert!(body.ends_with('\n'));
    let (status, _, body) = export(&server, &[("q", "tenth"), ("format", "csv")]);
    assert_eq!(status, 200);
    assert_eq!(body.lines().count(), N / 10 + 1, "header + rows");

    // A server holds the store: the command line goes through it.
    let via_server = ws.path().join("via-server.csv");
    let out = ws.run(&[
        "export",
        "--server",
        &server.base,
        "--format",
        "csv",
        "--filter",
        "country=jp",
        "--fields",
        "id,country",
        "--output",
        via_server.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = search_total(&server, &[("filter.country", "jp")]);
    assert_eq!(line_count(&via_server) as u64, expected + 1);
    // Without --server: the address the server noted in the data directory.
    let noted = ws.path().join("noted.ndjson");
    let out = ws.run(&[
        "export",
        "--q",
        "tenth",
        "--output",
        noted.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(line_count(&noted), N / 10);
    // Its mistakes come back as the server's 400 message.
    let out = ws.run(&["export", "--server", &server.base, "--filter", "nope=1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("filter.nope"));
}

/// What a data directory answers: search ids for some queries and customer
/// pages for the customers they find.
fn answers(server: &Server) -> Vec<Value> {
    let mut out = Vec::new();
    let (_, health) = server.get("/healthz");
    out.push(health["index"]["records"].clone());
    out.push(health["index"]["indexed_documents"].clone());
    for q in ["renewal", "東京", "acme", "invoice", "*"] {
        let hits = server.search(q);
        out.push(hits["total"].clone());
        out.push(Value::from(common::hit_ids(&hits)));
        let mut customers: Vec<String> = hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|h| h["customer_id"].as_str().map(str::to_string))
            .collect();
        customers.sort();
        customers.dedup();
        for id in customers {
            let (status, mut page) = server.get(&format!("/v1/customers/{id}"));
            assert_eq!(status, 200);
            // Resolution may list a customer's records in another order
            // when it runs again on the restored store: compare as sets.
            for list in ["records", "people"] {
                if let Some(items) = page[list].as_array_mut() {
                    items.sort_by_key(|item| item["id"].to_string());
                }
            }
            out.push(page);
        }
    }
    out
}

#[test]
fn a_snapshot_taken_while_serving_restores_everything() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    let before = answers(&server);

    // Searches keep running during the snapshots.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let base = server.base.clone();
    let searching = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut ok, mut failed) = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match client().get(format!("{base}/v1/search?q=acme")).send() {
                    Ok(r) if r.status().is_success() => ok += 1,
                    _ => failed += 1,
                }
            }
            (ok, failed)
        })
    };
    let (status, created) = server.post("/v1/snapshots", r#"{"name": "first"}"#);
    assert_eq!(status, 201, "{created}");
    let first = std::path::PathBuf::from(created["path"].as_str().unwrap());
    assert_eq!(first, ws.path().join("snapshots/first"));
    assert_eq!(created["manifest"]["records"], 38);
    assert!(created["manifest"]["index_seq"].as_u64() <= created["manifest"]["store_seq"].as_u64());
    // A name is one plain folder name in snapshot_dir; never a path.
    for bad in [
        r#"{"name": "../escape"}"#,
        r#"{"name": "a/b"}"#,
        r#"{"name": ".."}"#,
    ] {
        let (status, error) = server.post("/v1/snapshots", bad);
        assert_eq!(status, 400, "{bad}: {error}");
    }
    assert!(!ws.path().join("escape").exists());
    let (status, _) = server.post("/v1/snapshots", r#"{"name": "first"}"#);
    assert_eq!(status, 409);
    let (status, unnamed) = server.post("/v1/snapshots", "");
    assert_eq!(status, 201, "{unnamed}");

    // The command line asks the running server and moves its snapshot to DIR.
    let cli_snapshot = ws.path().join("cli-snapshot");
    let out = ws.run(&[
        "snapshot",
        cli_snapshot.to_str().unwrap(),
        "--server",
        &server.base,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(cli_snapshot.join("manifest.json").is_file());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, failed) = searching.join().unwrap();
    assert!(ok > 0);
    assert_eq!(failed, 0, "searches failed during the snapshots");

    // Restore refuses the data directory the server holds.
    let out = ws.run(&["restore", first.to_str().unwrap(), "--force"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Restored into a new data directory, a server answers as before.
    for snapshot in [&first, &cli_snapshot] {
        let other = Workspace::new();
        other.write_config(&[]);
        let out = other.run(&["restore", snapshot.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let restored = other.serve();
        assert_eq!(answers(&restored), before);
        drop(restored);
        // Not over a directory that holds data, unless forced.
        let out = other.run(&["restore", snapshot.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
        let out = other.run(&["restore", snapshot.to_str().unwrap(), "--force"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // A damaged index copy: the restore rebuilds the index from the store.
    let damaged = ws.path().join("damaged");
    common::copy_dir(&first, &damaged);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(damaged.join("manifest.json")).unwrap())
            .unwrap();
    let index_file = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .find(|p| p.ends_with(".idx"))
        .unwrap();
    std::fs::write(damaged.join(index_file), b"garbage").unwrap();
    let other = Workspace::new();
    other.write_config(&[]);
    let out = other.run(&["restore", damaged.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("rebuilt from the store"));
    let restored = other.serve();
    assert_eq!(answers(&restored), before);
    drop(restored);
    // A damaged store copy is refused.
    std::fs::write(damaged.join("store.redb"), b"garbage").unwrap();
    let out = Workspace::new().run(&[
        "restore",
        damaged.to_str().unwrap(),
        "--data-dir",
        ws.path().join("nowhere").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("store.redb"));
}
