//! Exports against search totals, the store and customer pages; a large
//! export from the server and from the command line.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{csv_rows, export, ndjson, search_ids, search_total};
use crate::common::Workspace;

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
    let cases: [&[(&str, &str)]; 5] = [
        &[("q", "renewal")],
        &[("q", "amount:>1000")],
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
