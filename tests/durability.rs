//! The store is the source of truth: re-ingesting never duplicates, a crash
//! between the store commit and the index commit loses nothing, and a schema
//! change rebuilds the index from the store.

use crate::common;

use common::{Workspace, hit_ids};

fn total(response: &serde_json::Value) -> u64 {
    response["total"].as_u64().unwrap()
}

#[test]
fn reingesting_the_same_files_produces_no_duplicates() {
    let ws = Workspace::with_examples();
    let first = ws.ingest();
    assert_eq!(first["sources"][0]["inserted"], 28, "{first}");
    assert_eq!(first["sources"][1]["inserted"], 10, "{first}");
    let before = total(&ws.search("robotics"));
    assert!(before > 0);

    // Unchanged files are skipped.
    let second = ws.ingest();
    assert_eq!(second["sources"][0]["files_unchanged"], 1, "{second}");
    assert_eq!(second["sources"][0]["inserted"], 0, "{second}");
    assert_eq!(second["indexed_changes"], 0, "{second}");

    // A changed file is read again: its rows are upserted, not duplicated.
    let csv = ws.path().join("data/crm/accounts_and_contacts.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text = text.replace("Jon Smith", "Jonathan Smith");
    std::fs::write(&csv, text).unwrap();
    let third = ws.ingest();
    assert_eq!(third["sources"][0]["inserted"], 0, "{third}");
    assert_eq!(third["sources"][0]["updated"], 1, "{third}");
    assert_eq!(third["sources"][0]["unchanged"], 27, "{third}");
    assert_eq!(total(&ws.search("robotics")), before);
    let email = ws.search("jon.smith@acmerobotics.com");
    assert_eq!(
        hit_ids(&email)
            .iter()
            .filter(|id| *id == "crm:PER-001")
            .count(),
        1
    );
    assert_eq!(total(&ws.search("jonathan")), 1);

    // A row removed from the file removes its record from the index too.
    let text = std::fs::read_to_string(&csv).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("PER-012,"))
        .collect();
    std::fs::write(&csv, kept.join("\n") + "\n").unwrap();
    let fourth = ws.ingest();
    assert_eq!(fourth["sources"][0]["deleted"], 1, "{fourth}");
    assert_eq!(total(&ws.search("rachel@cedarpeak.io")), 0);
}

#[test]
fn a_crash_between_store_and_index_commit_loses_nothing() {
    let ws = Workspace::with_examples();
    let out = ws
        .command(&["ingest"])
        .env("RAPPORT_TEST_CRASH_AFTER_STORE_COMMIT", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(86),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The store has the records, the index does not yet.
    assert_eq!(total(&ws.search("invoice")), 0);

    // Restart with no sources configured: only the store can bring them back.
    ws.write_config(&[]);
    let server = ws.serve();
    let response = server.search("invoice");
    assert!(
        hit_ids(&response).contains(&"notes:2024-04-29-brightwater-billing-dispute.md".into()),
        "{response}"
    );
    let (_, health) = server.get("/healthz");
    assert_eq!(health["index"]["indexed_documents"], 38, "{health}");
    assert_eq!(
        health["index"]["index_seq"], health["index"]["store_seq"],
        "{health}"
    );
}

#[test]
fn a_schema_change_rebuilds_the_index_from_the_store() {
    let ws = Workspace::with_examples();
    ws.ingest();
    let invoices_before = total(&ws.search("invoice"));
    assert!(invoices_before > 0);
    assert!(!hit_ids(&ws.search("company:札幌")).contains(&"crm:ORG-008".into()));

    // Make `city` (a loose attribute) part of the company field's text.
    let schema = std::fs::read_to_string(common::repo().join("index-schema/schema.toml"))
        .unwrap()
        .replace(
            "name = \"company\"\ntype = \"text\"",
            "name = \"company\"\ntype = \"text\"\nfrom = [\"company\", \"attrs\"]",
        );
    assert!(schema.contains("from = [\"company\", \"attrs\"]"));
    std::fs::write(ws.path().join("schema.toml"), schema).unwrap();
    let sources = [
        ("crm", "generic-csv", "data/crm"),
        ("notes", "notes", "data/notes"),
    ];
    ws.write_config_with(&sources, "schema = \"schema.toml\"");

    let out = ws.run(&["ingest", "--json"]);
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("schema file changed"), "{log}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Nothing was re-read from the sources: the index came from the store.
    assert_eq!(report["sources"][0]["files_unchanged"], 1, "{report}");
    assert_eq!(total(&ws.search("invoice")), invoices_before);
    let index_dirs: Vec<_> = std::fs::read_dir(ws.path().join("store/index"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("gen-"))
        .collect();
    assert_eq!(index_dirs.len(), 1, "the old generation is removed");
    // The new field content is searchable: 札幌市 is ORG-008's city attribute.
    assert!(hit_ids(&ws.search("company:札幌")).contains(&"crm:ORG-008".into()));
}
