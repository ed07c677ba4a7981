//! The foundation end to end: the example data ingested into a real data
//! directory and searched through the real server on 127.0.0.1.

use crate::common;

use common::{Workspace, copy_dir, hit_ids, repo};

#[test]
fn example_data_is_searchable_over_http() {
    let ws = Workspace::with_examples();
    let server = ws.serve();

    let (status, health) = server.get("/healthz");
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["index"]["records"], 38, "{health}");
    assert_eq!(health["index"]["indexed_documents"], 38, "{health}");
    assert_eq!(health["index"]["japanese"], "ipadic", "{health}");

    // Records land on their customer: the opportunity whose `company` column
    // names Acme Robotics is one of Acme's records, not a customer of its own,
    // and every record of the demo is attached.
    let renewal = ws.search_grouped("renewal");
    let acme = renewal["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["records"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == "crm:OPP-001")
        })
        .unwrap_or_else(|| panic!("no group holds crm:OPP-001: {renewal}"));
    assert_eq!(acme["name"], "Acme Robotics Inc.", "{renewal}");
    assert!(acme["customer_id"].as_str().unwrap().starts_with("org_"));
    let (status, quality) = server.get("/v1/quality");
    assert_eq!(status, 200, "{quality}");
    assert_eq!(quality["unattached"], serde_json::json!([]), "{quality}");

    // English stemming: the billing-dispute note says only "invoices" and "invoiced".
    let invoice = server.search("invoice");
    assert!(
        hit_ids(&invoice).contains(&"notes:2024-04-29-brightwater-billing-dispute.md".into()),
        "{invoice}"
    );

    // Japanese: 東京 finds notes that say 東京都, with a highlighted snippet.
    let tokyo = server.search("東京");
    let ids = hit_ids(&tokyo);
    for expected in [
        "notes:2024-05-10-minato-denshi-new-site.md",
        "notes:2024-04-18-nitto-seiki-shodan-memo.md",
        "crm:ORG-002",
    ] {
        assert!(
            ids.contains(&expected.to_string()),
            "{expected} missing: {tokyo}"
        );
    }
    let memo = tokyo["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "notes:2024-04-18-nitto-seiki-shodan-memo.md")
        .unwrap();
    let snippet = memo["snippets"]["body"].as_str().unwrap();
    assert!(snippet.contains("<mark>東京</mark>都"), "{snippet}");
    // No note without 東京 matches.
    assert!(!ids.iter().any(|id| id.contains("brightwater")), "{tokyo}");

    // An exact email finds its person first.
    let email = server.search("jon.smith@acmerobotics.com");
    assert_eq!(
        hit_ids(&email).first().map(String::as_str),
        Some("crm:PER-001"),
        "{email}"
    );

    // Mixed-language note: found by an English word and by a Japanese word.
    let english = server.search("rollout");
    let japanese = server.search("役員");
    for response in [&english, &japanese] {
        assert!(
            hit_ids(response).contains(&"notes:nitto-seiki-weekly-sync.txt".into()),
            "{response}"
        );
    }
}

#[test]
fn http_errors_are_json_with_a_code_and_4xx() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    for (path, status, code) in [
        ("/v1/search", 400, "missing_parameter"),
        ("/v1/search?q=", 400, "invalid_parameter"),
        ("/v1/search?q=x&limit=abc", 400, "invalid_parameter"),
        ("/v1/search?q=x&limit=1001", 400, "invalid_parameter"),
        ("/v1/search?q=x&colour=red", 400, "unknown_parameter"),
        ("/v1/nothing", 404, "not_found"),
        ("/v1/analyze", 405, "method_not_allowed"),
    ] {
        let (got, body) = server.get(path);
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let (status, body) = server.post("/v1/analyze", "{\"text\": ");
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_body");
    let (status, body) = server.post("/v1/analyze", r#"{"text": "x", "field": "amount"}"#);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "unknown_field");
    // A query that does not parse still searches its words and says so.
    let (status, body) = server.get("/v1/search?q=invoice%20AND%20(");
    assert_eq!(status, 200, "{body}");
    assert!(body["total"].as_u64().unwrap() >= 1, "{body}");
}

#[test]
fn analyze_shows_the_tokens_of_a_field() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    let (status, body) = server.post(
        "/v1/analyze",
        r#"{"text": "Shipped invoices to 東京都", "field": "body"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let tokens: Vec<&str> = body["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap())
        .collect();
    assert_eq!(tokens, vec!["ship", "invoic", "to", "東京", "都"]);
    // The CLI prints the same tokens.
    let out = ws.run(&[
        "analyze",
        "--field",
        "body",
        "--json",
        "Shipped invoices to 東京都",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, body["tokens"]);
    // Keyword fields keep the whole value.
    let (_, body) = server.post(
        "/v1/analyze",
        r#"{"text": "Jon.Smith@Acme.com", "field": "emails"}"#,
    );
    assert_eq!(body["tokens"][0]["token"], "jon.smith@acme.com", "{body}");
}

/// True when `rapport ingest` resolved customers (its log says so).
fn ingest_resolves(ws: &Workspace) -> bool {
    let out = ws.run(&["ingest", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).contains("resolved customers")
}

#[test]
fn resolution_runs_again_only_when_records_or_settings_changed() {
    let ws = Workspace::with_examples();
    assert!(ingest_resolves(&ws), "the first ingest resolves");
    let before = ws.search("Acme");
    assert!(
        !ingest_resolves(&ws),
        "an ingest that changed nothing does not resolve the whole book again"
    );
    assert_eq!(ws.search("Acme")["total"], before["total"]);

    // A changed file: its records changed, so resolution runs.
    let note = ws
        .path()
        .join("data/notes/2024-05-20-acme-renewal-meeting.md");
    let text = std::fs::read_to_string(&note).unwrap();
    std::fs::write(&note, format!("{text}\nFollow-up planned.\n")).unwrap();
    assert!(ingest_resolves(&ws), "a changed record resolves again");
    assert!(!ingest_resolves(&ws));

    // Changed resolution settings: resolves again, with nothing else changed.
    ws.write_config_with(
        &[
            ("crm", "generic-csv", "data/crm"),
            ("notes", "notes", "data/notes"),
        ],
        "[resolve]\nlink_offset = 1.0\n",
    );
    assert!(ingest_resolves(&ws), "changed settings resolve again");
    assert!(!ingest_resolves(&ws));
}

#[test]
fn paging_through_equal_scores_shows_every_customer_once() {
    // 240 organisations and 240 of their notes that match `*` equally: the
    // pages of a grouped search must tile the customers exactly.
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path().join("crm")).unwrap();
    let mut csv = String::from("id,kind,name,email,country,owner,description\n");
    for i in 0..240 {
        let owner = if i < 12 { "\"Ito, Ken\"" } else { "Mori" };
        csv.push_str(&format!(
            "ORG-{i:03},organization,Tilecorp {i:03} Holdings,info@tile{i:03}.example,JP,{owner},Account {i}\n"
        ));
    }
    std::fs::write(ws.path().join("crm/accounts.csv"), csv).unwrap();
    ws.write_config(&[("crm", "generic-csv", "crm")]);
    ws.ingest();
    let server = ws.serve();
    for (group, total_key, id_of) in [
        ("customer", "total_customers", "customer_id"),
        ("none", "total", "id"),
    ] {
        let mut seen = std::collections::BTreeSet::new();
        let mut total = None;
        for page in 0..5 {
            let (status, body) = server.get(&format!(
                "/v1/search?q=*&group={group}&limit=50&offset={}",
                page * 50
            ));
            assert_eq!(status, 200, "{body}");
            total = body[total_key].as_u64();
            let items = body[if group == "customer" {
                "customers"
            } else {
                "hits"
            }]
            .as_array()
            .cloned()
            .unwrap_or_default();
            for item in items {
                let id = item[id_of].as_str().unwrap_or_default().to_string();
                assert!(seen.insert(id.clone()), "{id} on two pages ({group})");
            }
        }
        assert_eq!(total, Some(240), "{group}");
        assert_eq!(seen.len(), 240, "every {group} result on some page");
    }

    // A facet value holding a comma is filtered on in CSV quotes, alone or
    // in a list.
    let (_, body) = server.get("/v1/search?q=*&group=none&facets=owner&limit=1");
    let owners = body["facets"]["owner"].to_string();
    assert!(owners.contains("Ito, Ken"), "{owners}");
    for filter in ["%22Ito,%20Ken%22", "%22Ito,%20Ken%22,Nobody"] {
        let (status, body) =
            server.get(&format!("/v1/search?q=*&group=none&filter.owner={filter}"));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total"], 12, "{filter}: {body}");
    }
}

/// `bench ingest --search-beside` searches the engine from a second thread
/// while it ingests: every search is answered, none fails, and the report
/// splits them by the stage they ran in.
#[test]
fn the_ingest_benchmark_answers_searches_beside_the_ingest() {
    let ws = Workspace::new();
    ws.write_config(&[]);
    let dir = ws.path().join("bench");
    let out = ws.run(&[
        "bench",
        "ingest",
        "--records",
        "3000",
        "--search-beside",
        "1",
        "--json",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["searchable_records"], 3000, "{report}");
    let beside = &report["searches_beside"];
    let answered = beside["answered"].as_u64().unwrap();
    assert!(answered > 0, "{beside}");
    assert_eq!(beside["failed"], 0, "{beside}");
    let stages = beside["by_stage"].as_array().unwrap();
    let names: Vec<&str> = stages
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "read + normalise + store",
            "resolve",
            "index (catch-up)",
            "all"
        ]
    );
    assert_eq!(stages[3]["searches"].as_u64(), Some(answered), "{beside}");
    let in_stages: u64 = stages[..3]
        .iter()
        .map(|s| s["searches"].as_u64().unwrap())
        .sum();
    assert!(in_stages <= answered, "{beside}");
}

/// `bench reindex` rebuilds the index from the store into a new generation
/// with nothing searching (`--no-search`) or with a paced searching thread,
/// and says which it measured.
#[test]
fn the_reindex_benchmark_rebuilds_with_or_without_searches() {
    let ws = Workspace::new();
    ws.write_config(&[]);
    let dir = ws.path().join("bench");
    let rebuild = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["bench", "reindex", "--records", "2000", "--json", "--dir"];
        args.push(dir.to_str().unwrap());
        args.extend_from_slice(extra);
        let out = ws.run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let alone = rebuild(&["--no-search"]);
    assert_eq!(alone["rebuild_state"], "succeeded", "{alone}");
    assert_ne!(
        alone["generation_before"], alone["generation_after"],
        "{alone}"
    );
    assert_eq!(alone["search_pause_ms"], serde_json::Value::Null, "{alone}");
    assert_eq!(alone["searches_during_rebuild"], 0, "{alone}");
    let paced = rebuild(&["--search-pause-ms", "1"]);
    assert_eq!(paced["rebuild_state"], "succeeded", "{paced}");
    assert_eq!(paced["search_pause_ms"], 1, "{paced}");
    assert!(
        paced["searches_during_rebuild"].as_u64().unwrap() > 0,
        "{paced}"
    );
    assert_eq!(paced["search_errors_during_rebuild"], 0, "{paced}");
}

/// `bench attach --keep` leaves the labelled book with a rapport.toml that
/// reads it: `rapport ingest` then reads every source without an error and
/// as many notes as the benchmark scored.
#[test]
fn the_attach_benchmark_keeps_a_book_that_rapport_reads() {
    let ws = Workspace::new();
    ws.write_config(&[]);
    let book = ws.path().join("book");
    let out = ws.run(&[
        "bench",
        "attach",
        "--book",
        "40",
        "--json",
        "--keep",
        book.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = report["by_source"]["notes note"]["total"].as_u64().unwrap();
    assert!(notes > 0, "{report}");
    let again = ws.run(&[
        "bench",
        "attach",
        "--book",
        "40",
        "--keep",
        book.to_str().unwrap(),
    ]);
    assert!(
        !again.status.success(),
        "a second book written over the first"
    );

    let config = book.join("rapport.toml");
    let ingest = ws.run(&["ingest", "--json", "--config", config.to_str().unwrap()]);
    assert!(
        ingest.status.success(),
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&ingest.stdout).unwrap();
    let sources = summary["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 7, "{summary}");
    for source in sources {
        assert_eq!(source["error_count"], 0, "{source}");
        assert!(source["inserted"].as_u64().unwrap() > 0, "{source}");
    }
    let read_notes = sources.iter().find(|s| s["source"] == "notes").unwrap();
    assert_eq!(read_notes["inserted"].as_u64(), Some(notes), "{summary}");
}

/// The ingest benchmark writes the corpus as CSV and NDJSON exports, reads
/// them through the stock connectors into a fresh data directory, and
/// reports every stage and what each part takes on disk.
#[test]
fn the_ingest_benchmark_reads_both_formats_and_reports_stages_and_bytes() {
    let ws = Workspace::new();
    ws.write_config(&[]);
    let dir = ws.path().join("bench-ingest");
    let out = ws.run(&[
        "bench",
        "ingest",
        "--records",
        "300",
        "--format",
        "mixed",
        "--json",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Every record went through a connector and is found by a search.
    assert_eq!(report["records"], 300);
    assert_eq!(report["searchable_records"], 300, "{report}");
    assert!(dir.join("input/csv/part-0000.csv").is_file());
    assert!(dir.join("input/ndjson/part-0001.ndjson").is_file());
    let stages: Vec<&str> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    for expected in [
        "read (parse only)",
        "read + normalise (connectors)",
        "store (ingest pass minus read + normalise)",
        "resolve",
        "index (catch-up)",
    ] {
        assert!(stages.contains(&expected), "{expected} missing: {stages:?}");
    }
    // A fresh book resolves in a full pass: its book read, linking and
    // save are timed apart, and together they are the resolve stage.
    let seconds = |name: &str| {
        report["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == name)
            .and_then(|s| s["seconds"].as_f64())
            .unwrap_or_else(|| panic!("no {name} in {report}"))
    };
    let parts = seconds("resolve: read the book")
        + seconds("resolve: link, build, assign")
        + seconds("resolve: save");
    assert!(
        (parts - seconds("resolve")).abs() < 1e-6,
        "{parts} against {}",
        seconds("resolve")
    );
    assert!(seconds("resolve: save") > 0.0, "{report}");
    // Each stage of the ingest call has the largest resident set sampled in
    // it, which no stage can exceed the process's peak with; the stages
    // measured apart have none.
    let peak_rss_mb = report["peak_rss_mb"].as_f64().unwrap();
    for stage in report["stages"].as_array().unwrap() {
        let name = stage["stage"].as_str().unwrap();
        let resident = &stage["peak_resident"];
        if name.starts_with("read (") || name.starts_with("read + normalise (") {
            assert!(resident.is_null(), "{name}: {resident}");
            continue;
        }
        if ![
            "resolve",
            "index (catch-up)",
            "read + normalise + store (ingest pass)",
        ]
        .contains(&name)
        {
            continue;
        }
        let (anon, file) = (
            resident["anon_mb"]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}: {resident}")),
            resident["file_mb"].as_f64().unwrap(),
        );
        assert!(anon > 0.0, "{name}: {resident}");
        assert!(
            anon + file <= peak_rss_mb + 1.0,
            "{name}: {resident} above {peak_rss_mb}"
        );
    }
    let footprint = &report["footprint"];
    assert!(footprint["store_file"].as_u64().unwrap() > 0);
    let records = footprint["store_tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "records")
        .unwrap();
    assert_eq!(records["rows"], 300);
    let fields: Vec<&str> = footprint["index"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"body") && fields.contains(&"suggest"),
        "{fields:?}"
    );
}

/// The search benchmark runs every case of its mix end to end on a small
/// generated corpus (each query must answer 200 over HTTP) and reports
/// figures for each phase, the HTTP floor among them.
#[test]
fn the_search_benchmark_measures_every_case_and_the_http_floor() {
    let ws = Workspace::new();
    ws.write_config(&[]);
    let dir = ws.path().join("bench");
    let out = ws.run(&[
        "bench",
        "search",
        "--records",
        "2000",
        "--requests",
        "12",
        "--clients",
        "2",
        "--max-seconds",
        "2",
        "--json",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // 2,000 generated records and two long emails among their customers.
    assert_eq!(report["records"], 2002);
    assert!(report["http_floor"]["requests"].as_u64().unwrap() > 0);
    assert!(report["http_floor"]["p50_ms"].as_f64().unwrap() > 0.0);
    assert!(report["auth_floor"]["requests"].as_u64().unwrap() > 0);
    let cases = report["cases"].as_array().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c["case"].as_str().unwrap()).collect();
    for expected in [
        "single word",
        "two words",
        "phrase",
        "typo",
        "japanese",
        "filtered",
        "long bodies",
        "grouped",
        "facets",
        "aggregations",
        "suggest",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for case in cases {
        for phase in ["direct", "http_1", "http_n"] {
            assert!(
                case[phase]["requests"].as_u64().unwrap() > 0,
                "{} {phase}: {case}",
                case["case"]
            );
        }
        let added = case["http_added_p50_ms"].as_f64().unwrap();
        let (http, direct) = (
            case["http_1"]["p50_ms"].as_f64().unwrap(),
            case["direct"]["p50_ms"].as_f64().unwrap(),
        );
        assert!((added - (http - direct)).abs() < 1e-9, "{case}");
    }
}

/// The value of the one sample of `/metrics` whose name and labels are
/// exactly `series` (e.g. `rapport_store_records` or
/// `name{label="v",...}`), or none.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[test]
fn metrics_count_requests_by_route_template_and_report_store_and_index() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    for q in ["invoice", "Tanaka", "請求書"] {
        server.search(q);
    }
    let (status, _) = server.get("/v1/customers/no-such-customer-42");
    assert_eq!(status, 404);
    let (status, _) = server.get("/v1/no-such-route-17");
    assert_eq!(status, 404);
    let (status, _) = server.get("/v1/search?q=x&limit=abc");
    assert_eq!(status, 400);

    let (status, content_type, text) = server.get_text("/metrics");
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );

    let searches = r#"rapport_http_requests_total{method="GET",route="/v1/search",status="200"}"#;
    assert_eq!(metric(&text, searches), Some(3.0), "{text}");
    let rejected = r#"rapport_http_requests_total{method="GET",route="/v1/search",status="400"}"#;
    assert_eq!(metric(&text, rejected), Some(1.0), "{text}");
    let customer =
        r#"rapport_http_requests_total{method="GET",route="/v1/customers/{id}",status="404"}"#;
    assert_eq!(metric(&text, customer), Some(1.0), "{text}");
    let unmatched = r#"rapport_http_requests_total{method="GET",route="unmatched",status="404"}"#;
    assert_eq!(metric(&text, unmatched), Some(1.0), "{text}");
    // What a caller typed never becomes a label: the series stay bounded.
    for typed in ["no-such-customer-42", "no-such-route-17", "invoice", "abc"] {
        assert!(
            !text.contains(typed),
            "{typed} leaked into /metrics:\n{text}"
        );
    }
    // Four searches (three answered, one refused) were timed, each under 10 s.
    let timed = r#"rapport_http_request_duration_seconds_count{route="/v1/search"}"#;
    assert_eq!(metric(&text, timed), Some(4.0), "{text}");
    let under_10s = r#"rapport_http_request_duration_seconds_bucket{le="10.0",route="/v1/search"}"#;
    assert_eq!(metric(&text, under_10s), Some(4.0), "{text}");
    // The scrape itself is in flight while it is encoded.
    assert_eq!(
        metric(&text, "rapport_http_requests_in_flight"),
        Some(1.0),
        "{text}"
    );

    let (_, health) = server.get("/healthz");
    let records = health["index"]["records"].as_f64().unwrap();
    assert!(records > 0.0, "{health}");
    assert_eq!(
        metric(&text, "rapport_store_records"),
        Some(records),
        "{text}"
    );
    assert_eq!(
        metric(&text, "rapport_index_documents"),
        health["index"]["indexed_documents"].as_f64(),
        "{text}"
    );
    assert_eq!(
        metric(&text, "rapport_index_lag_writes"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, r#"rapport_jobs{state="running"}"#),
        Some(0.0),
        "{text}"
    );

    // The first scrape is counted in the next one.
    let (_, _, again) = server.get_text("/metrics");
    let scrapes = r#"rapport_http_requests_total{method="GET",route="/metrics",status="200"}"#;
    assert_eq!(metric(&again, scrapes), Some(1.0), "{again}");
}

/// Posts a body of `length` spaces on a raw connection and reads the
/// answer while the body is still going out: a server over its limit may
/// answer and close before reading it all, which reqwest reports as an
/// incomplete message instead of the answer.
fn post_oversized(server: &common::Server, path: &str, length: usize) -> (u16, serde_json::Value) {
    use std::io::{BufRead, BufReader, Read, Write};
    let address = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let key = server.key.as_deref().unwrap_or_default();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
    )
    .unwrap();
    // The body goes from another thread, which stops at the first write the
    // server refuses (it may close once it has answered).
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < length
            && writer
                .write_all(&chunk[..chunk.len().min(length - sent)])
                .is_ok()
        {
            sent += chunk.len().min(length - sent);
        }
    });
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut body_length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            body_length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; body_length];
    reader.read_exact(&mut body).unwrap();
    // Ends a send the server no longer reads.
    let _ = reader.get_ref().shutdown(std::net::Shutdown::Both);
    let _ = sender.join();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

#[test]
fn bodies_over_a_routes_limit_get_a_json_413_and_start_nothing() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    // axum's default limit is 2 MB; attributes take up to 64 MiB.
    for (path, length) in [
        ("/v1/reindex", 3 << 20),
        ("/v1/snapshots", 3 << 20),
        ("/v1/attributes", 65 << 20),
    ] {
        let (status, error) = post_oversized(&server, path, length);
        assert_eq!(status, 413, "{path}: {error}");
        assert_eq!(error["error"]["code"], "body_too_large", "{path}: {error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{path}: {error}"
        );
    }
    let (_, jobs) = server.get("/v1/jobs");
    let listed = jobs["jobs"].as_array().unwrap_or_else(|| panic!("{jobs}"));
    let reindexes = listed.iter().filter(|j| j["kind"] == "reindex").count();
    assert_eq!(reindexes, 0, "{jobs}");
}

/// `log_format = "json"` writes one JSON object per log line, with the
/// level, the message and the current span's fields (what a log collector
/// indexes); the default stays readable text.
#[test]
fn json_logs_are_one_object_per_line_with_level_message_and_span() {
    let ws = Workspace::new();
    copy_dir(&repo().join("examples/data"), &ws.path().join("data"));
    ws.write_config_with(
        &[("crm", "generic-csv", "data/crm")],
        "log_format = \"json\"",
    );
    let output = ws
        .command(&["ingest"])
        .env("RAPPORT_LOG", "info")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty(), "no JSON log line in {stderr}");
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["fields"]["message"].is_string()),
        "{stderr}"
    );
    assert!(
        lines.iter().any(|l| l["span"]["name"].is_string()),
        "no line carries its span: {stderr}"
    );

    let text = Workspace::new();
    copy_dir(&repo().join("examples/data"), &text.path().join("data"));
    text.write_config(&[("crm", "generic-csv", "data/crm")]);
    let output = text
        .command(&["ingest"])
        .env("RAPPORT_LOG", "info")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.contains("INFO"),
        "{stderr}"
    );
    assert!(!stderr.lines().any(|l| l.starts_with('{')), "{stderr}");
}

/// `rapport customers export` and `rapport quality` read the data directory
/// when it is free, and ask the server (`GET /v1/customers`, `/v1/quality`)
/// while one holds it: the same answer either way.
#[test]
fn customer_commands_work_while_a_server_holds_the_data_directory() {
    let ws = Workspace::with_examples();
    ws.ingest();
    let local_export = ws.run(&["customers", "export"]);
    assert!(local_export.status.success(), "{local_export:?}");
    let local_quality = ws.run(&["quality", "--json"]);
    assert!(local_quality.status.success(), "{local_quality:?}");
    let lines = |out: &std::process::Output| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };
    let customers = lines(&local_export);
    assert!(customers.len() > 3, "{customers:?}");

    let server = ws.serve();
    let served_export = ws.run(&["customers", "export"]);
    assert!(
        served_export.status.success(),
        "{}",
        String::from_utf8_lossy(&served_export.stderr)
    );
    assert_eq!(lines(&served_export), customers);
    let served_quality = ws.run(&["quality", "--json"]);
    assert!(served_quality.status.success(), "{served_quality:?}");
    let as_json = |out: &std::process::Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    };
    assert_eq!(as_json(&served_quality), as_json(&local_quality));
    assert!(as_json(&served_quality)["issues"].is_array());

    // Over HTTP the list needs the export permission.
    let (status, _, body) = server.send("GET", "/v1/customers", None);
    assert_eq!(status, 200);
    assert_eq!(body.lines().count(), customers.len());
}

/// Every field name of a pretty-printed JSON text, in the order printed.
fn field_order(pretty: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(pretty)
        .lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix('"')?;
            let (name, after) = rest.split_once('"')?;
            after.starts_with(':').then(|| name.to_string())
        })
        .collect()
}

/// The other commands that read data answer too while a server holds the
/// data directory: `search` asks the server's `/v1/search` (as the key the
/// CLI is given, so a scoped key sees only its scope), `connectors status`
/// asks the server for the live status (not the snapshot file), and `check`
/// asks the server whether store and index agree.
#[test]
fn read_commands_work_while_a_server_holds_the_data_directory() {
    let ws = Workspace::with_examples();
    ws.ingest();
    let notes_only = ws.create_key("notes-desk", "analyst", &["--scope", "source=notes"]);
    let json_of = |args: &[&str]| -> serde_json::Value {
        let out = ws.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    };
    let search = ["search", "Acme", "--group", "none", "--json"];
    let local_hits = hit_ids(&json_of(&search));
    let grouped = ["search", "Acme", "--json"];
    let local_field_order = field_order(&ws.run(&grouped).stdout);
    assert!(local_field_order.len() > 20, "{local_field_order:?}");
    assert!(!local_hits.is_empty());
    let local_check = json_of(&["check", "--json"]);
    assert_eq!(local_check["consistent"], true, "{local_check}");
    let sources = |status: &serde_json::Value| -> Vec<String> {
        status
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["source"].as_str().map(str::to_string))
            .collect()
    };
    let local_sources = sources(&json_of(&["connectors", "status", "--json"]));
    assert!(!local_sources.is_empty());

    let _server = ws.serve();
    assert_eq!(hit_ids(&json_of(&search)), local_hits);
    assert_eq!(
        field_order(&ws.run(&grouped).stdout),
        local_field_order,
        "`search --json` prints fields in another order through the server"
    );
    // Through the server: the scoped key's search keeps to its scope, which
    // reading the index files could not apply.
    let scoped = ws
        .command(&search)
        .env("RAPPORT_KEY", &notes_only)
        .output()
        .unwrap();
    assert!(scoped.status.success(), "{scoped:?}");
    let scoped_hits = hit_ids(&serde_json::from_slice(&scoped.stdout).unwrap());
    assert!(!scoped_hits.is_empty(), "{local_hits:?}");
    assert!(local_hits.iter().any(|id| !id.starts_with("notes:")));
    assert!(
        scoped_hits.iter().all(|id| id.starts_with("notes:")),
        "{scoped_hits:?}"
    );
    let text = ws.run(&["search", "Acme"]);
    assert!(text.status.success(), "{text:?}");
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("matching customers"),
        "{text:?}"
    );
    let ingest = ws.run(&["ingest"]);
    assert!(!ingest.status.success());
    assert!(
        String::from_utf8_lossy(&ingest.stderr).contains("rapport reindex --source"),
        "{ingest:?}"
    );
    let served_check = json_of(&["check", "--json"]);
    assert_eq!(served_check["consistent"], true, "{served_check}");
    assert_eq!(served_check["records"], local_check["records"]);
    assert!(served_check["server"].is_string(), "{served_check}");
    let text = ws.run(&["check"]);
    assert!(text.status.success(), "{text:?}");
    let served_status = json_of(&["connectors", "status", "--json"]);
    assert_eq!(sources(&served_status), local_sources);
    let text = ws.run(&["connectors", "status"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(!text.contains("snapshot"), "{text}");
}

/// `[search_caches]` sizes the search caches, and `/metrics` shows each
/// one's budget, bytes, entries and (for the filter caches) hits and
/// misses as searches use them.
#[test]
fn search_cache_budgets_come_from_the_config_and_show_in_metrics() {
    let ws = Workspace::new();
    copy_dir(&repo().join("examples/data"), &ws.path().join("data"));
    ws.write_config_with(
        &[("crm", "generic-csv", "data/crm")],
        "[search_caches]\nfilters_mb = 3\nautomata_mb = 5",
    );
    let server = ws.serve();
    let gauge = |text: &str, name: &str, cache: &str| -> Option<u64> {
        let prefix = format!("rapport_{name}{{cache=\"{cache}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
    };
    let (_, _, before) = server.get_text("/metrics");
    assert_eq!(
        gauge(&before, "search_cache_budget_bytes", "filters"),
        Some(3 << 20),
        "{before}"
    );
    assert_eq!(
        gauge(&before, "search_cache_budget_bytes", "automata"),
        Some(5 << 20)
    );
    assert_eq!(
        gauge(&before, "search_cache_budget_bytes", "corrections"),
        Some(32 << 20)
    );
    for _ in 0..2 {
        let (status, body) = server.get("/v1/search?q=*&group=none&filter.source=crm");
        assert_eq!(status, 200, "{body}");
    }
    let (_, _, after) = server.get_text("/metrics");
    assert!(
        gauge(&after, "search_cache_entries", "filters") >= Some(1),
        "{after}"
    );
    assert!(
        gauge(&after, "search_cache_bytes", "filters") >= Some(1),
        "{after}"
    );
    assert!(
        gauge(&after, "search_cache_hits", "filters") >= Some(1),
        "{after}"
    );
}

/// A request naming another host (DNS rebinding) is refused before any
/// handler runs, unless `[server] allowed_hosts` lists it; every answer
/// carries the security headers, and `/v1` answers are not cached.
#[test]
fn foreign_host_names_are_refused_and_answers_carry_security_headers() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    let client = common::client_with(server.key.as_deref());
    let ask = |host: Option<&str>| {
        let mut request = client.get(format!("{}/v1/search?q=Acme", server.base));
        if let Some(host) = host {
            request = request.header("host", host);
        }
        request.send().unwrap()
    };
    let refused = ask(Some("attacker.example:7070"));
    assert_eq!(refused.status().as_u16(), 421);
    let body: serde_json::Value = refused.json().unwrap_or_default();
    assert_eq!(body["error"]["code"], "host_not_allowed", "{body}");
    let answered = ask(Some("localhost"));
    assert_eq!(answered.status().as_u16(), 200);
    let answered = ask(None);
    assert_eq!(answered.status().as_u16(), 200);
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(
            answered.headers().get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name}"
        );
    }
    drop(server);

    let listed = Workspace::with_examples();
    std::fs::write(
        listed.config(),
        std::fs::read_to_string(listed.config()).unwrap()
            + "\n[server]\nallowed_hosts = [\"rapport.corp.example\"]\n",
    )
    .unwrap();
    let server = listed.serve();
    let client = common::client_with(server.key.as_deref());
    let status = |host: &str| {
        client
            .get(format!("{}/v1/search?q=Acme", server.base))
            .header("host", host)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(status("rapport.corp.example:7070"), 200);
    assert_eq!(status("attacker.example"), 421);
}
