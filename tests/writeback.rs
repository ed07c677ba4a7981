//! Write-back against a real server on a copy of examples/: notes (create,
//! find by search, timeline, edit, delete, validation, survival of a restart,
//! a re-ingest and an index rebuild) and customer attributes (NDJSON and CSV
//! upserts, rejected lines, idempotence, filter/facet/aggregation numbers
//! checked against what was sent, the customer page, survival), and a merge
//! of two customers that keeps both.

use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Server, Workspace};
use serde_json::{Value, json};

/// Generous bound for "searchable within a second" on a busy 2-core machine;
/// nothing is asserted about the time itself.
const POLL: Duration = Duration::from_secs(20);

fn started() -> (Workspace, Server) {
    let ws = Workspace::with_examples();
    ws.ingest();
    let server = ws.serve();
    (ws, server)
}

fn send(server: &Server, method: &str, path: &str, content_type: &str, body: &str) -> (u16, Value) {
    let client = server.client();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let response = client
        .request(method, format!("{}{path}", server.base))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn json_call(server: &Server, method: &str, path: &str, body: &Value) -> (u16, Value) {
    send(server, method, path, "application/json", &body.to_string())
}

fn search(server: &Server, params: &[(&str, &str)]) -> Value {
    let url =
        reqwest::Url::parse_with_params(&format!("{}/v1/search", server.base), params).unwrap();
    let response = server.client().get(url).send().unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap();
    assert_eq!(status, 200, "search {params:?}: {body}");
    body
}

/// The customer id of the organisation a query finds first.
fn org_id(server: &Server, q: &str) -> String {
    let found = search(server, &[("q", q), ("filter.kind", "organization")]);
    found["customers"][0]["customer_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no organisation for {q}: {found}"))
        .to_string()
}

/// Record ids found for `word` (records, not grouped) with their customer.
fn found(server: &Server, word: &str) -> Vec<(String, String)> {
    let body = search(server, &[("q", word), ("group", "none")]);
    body["hits"]
        .as_array()
        .map(|hits| {
            hits.iter()
                .map(|h| {
                    (
                        h["id"].as_str().unwrap_or_default().to_string(),
                        h["customer_id"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn timeline_ids(server: &Server, customer: &str) -> Vec<String> {
    let (status, page) = server.get(&format!("/v1/customers/{customer}/timeline?limit=500"));
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}:{}",
                i["source"].as_str().unwrap(),
                i["external_id"].as_str().unwrap()
            )
        })
        .collect()
}

fn wait(server: &Server, what: &str, mut check: impl FnMut(&Server) -> bool) {
    assert!(server.wait_for(POLL, &mut check), "{what}");
}

fn restart_with_reingest(ws: &Workspace, server: Server) -> Server {
    drop(server);
    ws.ingest();
    ws.serve()
}

/// Stops the server, deletes the whole index and starts again: the index is
/// rebuilt from the store.
fn restart_with_rebuilt_index(ws: &Workspace, server: Server) -> Server {
    drop(server);
    std::fs::remove_dir_all(ws.path().join("store/index")).unwrap();
    ws.serve()
}

#[test]
fn notes_are_durable_searchable_in_the_timeline_editable_and_deletable() {
    let (ws, server) = started();
    let acme = org_id(&server, "Acme Robotics");

    // Caller mistakes name the field; an unknown customer is a 404.
    let cases = [
        (json!({"customer_id": acme, "text": "  "}), 400, "text"),
        (
            json!({"customer_id": acme, "text": "x", "date": "soonish"}),
            400,
            "date",
        ),
        (
            json!({"customer_id": acme, "text": "x", "colour": "red"}),
            400,
            "colour",
        ),
        (json!({"text": "x"}), 400, "customer_id"),
        (
            json!({"customer_id": "org_000000000000", "text": "x"}),
            404,
            "org_000000000000",
        ),
    ];
    for (body, status, named) in cases {
        let (got, error) = json_call(&server, "POST", "/v1/notes", &body);
        assert_eq!(got, status, "{body} → {error}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(named), "{body}: {message}");
    }

    // Create: 201 with the note, on Acme.
    let (status, note) = json_call(
        &server,
        "POST",
        "/v1/notes",
        &json!({"customer_id": acme, "text": "Site visit: zephyrquill conveyor retrofit agreed",
                "tags": ["visit", "retrofit"], "date": "2024-07-01"}),
    );
    assert_eq!(status, 201, "{note}");
    assert_eq!(note["customer_id"], acme.as_str());
    // The author is the identity that wrote it (the test's key), not a
    // name in the body.
    let actor = server.actor();
    assert!(actor.starts_with("key:"), "{actor}");
    assert_eq!(note["author"], actor.as_str());
    assert_eq!(note["tags"], json!(["visit", "retrofit"]));
    let id = note["id"].as_str().unwrap().to_string();
    let record_id = note["record_id"].as_str().unwrap().to_string();
    assert!(record_id.ends_with(&id), "{note}");

    wait(&server, "the note found by its word", |s| {
        found(s, "zephyrquill") == vec![(record_id.clone(), acme.clone())]
    });
    assert!(timeline_ids(&server, &acme).contains(&record_id));
    let (status, read) = server.get(&format!("/v1/notes/{id}"));
    assert_eq!((status, &read["text"]), (200, &note["text"]), "{read}");
    // The note counts as one of the customer's records, owned by its author.
    let owners = search(
        &server,
        &[
            ("q", "zephyrquill"),
            ("group", "none"),
            ("facets", "owner,source"),
        ],
    );
    let owner_facet = owners["facets"]["owner"].to_string();
    assert!(owner_facet.contains(&actor), "{owners}");

    // Edit: the old word goes, the new one comes; PUT and PATCH both work.
    let (status, edited) = json_call(
        &server,
        "PATCH",
        &format!("/v1/notes/{id}"),
        &json!({"text": "Site visit: quasarlumen conveyor retrofit agreed"}),
    );
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["tags"], json!(["visit", "retrofit"]), "untouched");
    wait(&server, "the edited note under its new word only", |s| {
        found(s, "quasarlumen").len() == 1 && found(s, "zephyrquill").is_empty()
    });
    let (status, edited) = json_call(
        &server,
        "PUT",
        &format!("/v1/notes/{id}"),
        &json!({"tags": ["closed"]}),
    );
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (&edited["tags"], &edited["author"]),
        (&json!(["closed"]), &json!(actor))
    );
    // A body that names an author is refused: it comes from the credential.
    let (status, error) = json_call(
        &server,
        "PUT",
        &format!("/v1/notes/{id}"),
        &json!({"author": "Bo Desk"}),
    );
    assert_eq!(
        (status, &error["error"]["code"]),
        (400, &json!("invalid_body")),
        "{error}"
    );
    let (status, error) = json_call(
        &server,
        "PATCH",
        &format!("/v1/notes/{id}"),
        &json!({"date": "31/31/2024"}),
    );
    assert_eq!(status, 400, "{error}");

    // Delete: gone from the store, the index and the timeline.
    let (status, _) = send(
        &server,
        "DELETE",
        &format!("/v1/notes/{id}"),
        "application/json",
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(server.get(&format!("/v1/notes/{id}")).0, 404);
    assert_eq!(
        send(
            &server,
            "DELETE",
            &format!("/v1/notes/{id}"),
            "application/json",
            ""
        )
        .0,
        404
    );
    wait(&server, "the deleted note gone from search", |s| {
        found(s, "quasarlumen").is_empty()
    });
    assert!(!timeline_ids(&server, &acme).contains(&record_id));

    // A note survives a restart with a re-ingest, and a rebuilt index.
    let (status, kept) = json_call(
        &server,
        "POST",
        "/v1/notes",
        &json!({"customer_id": acme, "text": "Keep this: vermiculite pallets"}),
    );
    assert_eq!(status, 201, "{kept}");
    let kept_record = kept["record_id"].as_str().unwrap().to_string();
    let server = restart_with_reingest(&ws, server);
    assert_eq!(
        server
            .get(&format!("/v1/notes/{}", kept["id"].as_str().unwrap()))
            .0,
        200
    );
    assert!(timeline_ids(&server, &acme).contains(&kept_record));
    assert_eq!(
        found(&server, "vermiculite"),
        vec![(kept_record.clone(), acme.clone())]
    );
    let server = restart_with_rebuilt_index(&ws, server);
    assert_eq!(
        found(&server, "vermiculite"),
        vec![(kept_record.clone(), acme.clone())]
    );
    assert!(timeline_ids(&server, &acme).contains(&kept_record));
}

/// Lines for every organisation: `score` (a number), `segment` (text) and
/// `vip` (a boolean), with the values kept for checking.
fn attribute_lines(orgs: &[String]) -> (String, BTreeMap<String, (f64, String)>) {
    let mut body = String::new();
    let mut expected = BTreeMap::new();
    for (i, org) in orgs.iter().enumerate() {
        let score = 10.0 * (i as f64 + 1.0) + 0.5;
        let segment = if i % 3 == 0 { "enterprise" } else { "growth" };
        for (key, value) in [
            ("score", json!(score)),
            ("segment", json!(segment)),
            ("vip", json!(i % 2 == 0)),
        ] {
            body.push_str(&json!({"customer_id": org, "key": key, "value": value}).to_string());
            body.push('\n');
        }
        expected.insert(org.clone(), (score, segment.to_string()));
    }
    (body, expected)
}

/// Customers per segment value, total and score sum, as search reports them.
fn attribute_numbers(server: &Server) -> (BTreeMap<String, u64>, u64, f64) {
    let aggs = json!({"score_sum": {"sum": {"field": "attrs.score"}}}).to_string();
    let body = search(
        server,
        &[
            ("q", "*"),
            ("filter.attrs.score", "0.."),
            ("facets", "attrs.segment"),
            ("aggs", aggs.as_str()),
            ("aggs_level", "customers"),
        ],
    );
    let facets = body["facets"]["attrs.segment"]
        .as_array()
        .map(|values| {
            values
                .iter()
                .map(|v| {
                    (
                        v["value"].as_str().unwrap().to_string(),
                        v["count"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let total = body["total_customers"].as_u64().unwrap_or(0);
    let sum = body["aggregations"]["score_sum"]["value"]
        .as_f64()
        .unwrap_or(-1.0);
    (facets, total, sum)
}

fn expected_numbers(
    expected: &BTreeMap<String, (f64, String)>,
) -> (BTreeMap<String, u64>, u64, f64) {
    let mut facets = BTreeMap::new();
    for (_, segment) in expected.values() {
        *facets.entry(segment.clone()).or_insert(0) += 1;
    }
    let sum = expected.values().map(|(s, _)| s).sum();
    (facets, expected.len() as u64, sum)
}

#[test]
fn attributes_upsert_in_bulk_and_filter_facet_and_aggregate() {
    let (ws, server) = started();
    let all = search(
        &server,
        &[
            ("q", "*"),
            ("filter.kind", "organization"),
            ("limit", "100"),
        ],
    );
    let orgs: Vec<String> = all["customers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["customer_id"].as_str().map(str::to_string))
        .collect();
    assert!(orgs.len() >= 4, "{all}");

    // NDJSON with four bad lines among the good ones.
    let (good, mut expected) = attribute_lines(&orgs);
    let mut body = String::new();
    let bad = [
        "{not json".to_string(),
        json!({"customer_id": "org_000000000000", "key": "score", "value": 1}).to_string(),
        json!({"customer_id": orgs[0], "key": "has.dot", "value": 1}).to_string(),
        json!({"customer_id": orgs[0], "key": "score"}).to_string(),
    ];
    let mut bad_lines = Vec::new();
    for (i, line) in good.lines().enumerate() {
        body.push_str(line);
        body.push('\n');
        if i < bad.len() {
            body.push_str(&bad[i]);
            body.push('\n');
            bad_lines.push(2 * (i as u64 + 1));
        }
    }
    let (status, report) = send(
        &server,
        "POST",
        "/v1/attributes",
        "application/x-ndjson",
        &body,
    );
    assert_eq!(status, 200, "{report}");
    let lines = 3 * orgs.len() as u64;
    assert_eq!(report["accepted"], lines, "{report}");
    assert_eq!(
        (report["unchanged"].as_u64(), report["deleted"].as_u64()),
        (Some(0), Some(0))
    );
    let rejected: Vec<u64> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(rejected, bad_lines, "{report}");
    let reasons = report["rejected"].to_string();
    for word in ["JSON", "unknown customer", "has.dot", "value"] {
        assert!(reasons.contains(word), "{word}: {reasons}");
    }
    // The same lines again change nothing.
    let (_, again) = send(
        &server,
        "POST",
        "/v1/attributes",
        "application/x-ndjson",
        &good,
    );
    assert_eq!(
        (again["accepted"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(lines))
    );

    wait(&server, "attributes in search", |s| {
        attribute_numbers(s) == expected_numbers(&expected)
    });

    // CSV: a new score, a deleted score, a segment change; numbers stay
    // numbers; a line without a customer is rejected with its line number.
    let csv = format!(
        "customer_id,key,value\n{a},score,99\n{b},score,\n{c},segment,enterprise\n,score,3\n",
        a = orgs[0],
        b = orgs[1],
        c = orgs[2]
    );
    let (status, report) = send(&server, "POST", "/v1/attributes", "text/csv", &csv);
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["accepted"].as_u64(), report["deleted"].as_u64()),
        (Some(2), Some(1)),
        "{report}"
    );
    assert_eq!(report["rejected"][0]["line"], 5, "{report}");
    if let Some(e) = expected.get_mut(&orgs[0]) {
        e.0 = 99.0;
    }
    expected.remove(&orgs[1]);
    if let Some(e) = expected.get_mut(&orgs[2]) {
        e.1 = "enterprise".into();
    }
    wait(&server, "the CSV changes in search", |s| {
        attribute_numbers(s) == expected_numbers(&expected)
    });
    // A range filter picks exactly the customers in range.
    let in_range = search(&server, &[("q", "*"), ("filter.attrs.score", "20..60")]);
    let want = expected
        .values()
        .filter(|(s, _)| (20.0..=60.0).contains(s))
        .count();
    assert_eq!(
        in_range["total_customers"].as_u64(),
        Some(want as u64),
        "{in_range}"
    );

    // The customer page shows them, typed.
    let (_, page) = server.get(&format!("/v1/customers/{}", orgs[0]));
    assert_eq!(page["attributes"]["score"], json!(99), "{page}");
    assert_eq!(page["attributes"]["vip"], json!(true), "{page}");
    let (_, page) = server.get(&format!("/v1/customers/{}", orgs[1]));
    assert!(page["attributes"].get("score").is_none(), "{page}");

    // Exports carry them: a customer row's `attrs`, a record's `attrs`.
    let export = |query: &str| {
        server
            .client()
            .get(format!("{}/v1/export?{query}", server.base))
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    let customers = export("level=customer&format=csv&fields=customer_id,attrs.score");
    assert!(
        customers
            .lines()
            .any(|line| line == format!("{},99", orgs[0])),
        "{customers}"
    );
    assert!(
        customers
            .lines()
            .any(|line| line == format!("{},", orgs[1])),
        "{customers}"
    );
    let records = export(&format!(
        "level=record&fields=id,customer_id,attrs.score&filter.customer_id={}",
        orgs[0]
    ));
    let lines: Vec<Value> = records
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty(), "{records}");
    for line in &lines {
        assert_eq!(line["attrs.score"], json!(99), "{records}");
    }

    // Wrong content type, and a CSV without the header.
    let (status, error) = send(&server, "POST", "/v1/attributes", "text/plain", &good);
    assert_eq!(status, 415, "{error}");
    let (status, error) = send(
        &server,
        "POST",
        "/v1/attributes",
        "text/csv",
        "id,key,value\n",
    );
    assert_eq!(status, 400, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("customer_id")
    );

    // Kept through a restart with a re-ingest, and through a rebuilt index.
    let server = restart_with_reingest(&ws, server);
    assert_eq!(attribute_numbers(&server), expected_numbers(&expected));
    let server = restart_with_rebuilt_index(&ws, server);
    assert_eq!(attribute_numbers(&server), expected_numbers(&expected));
}

#[test]
fn a_merge_keeps_notes_and_attributes_of_both_customers() {
    let (_ws, server) = started();
    let a = org_id(&server, "Brightwater Logistics");
    let b = org_id(&server, "Thornbury Analytics");
    assert_ne!(a, b);
    let (status, note) = json_call(
        &server,
        "POST",
        "/v1/notes",
        &json!({"customer_id": b, "text": "Merger rehearsal: obsidianfjord"}),
    );
    assert_eq!(status, 201, "{note}");
    let body = format!(
        "{}\n{}\n",
        json!({"customer_id": b, "key": "churn_risk", "value": 0.75}),
        json!({"customer_id": a, "key": "tier", "value": "gold"})
    );
    let (status, report) = send(
        &server,
        "POST",
        "/v1/attributes",
        "application/x-ndjson",
        &body,
    );
    assert_eq!(
        (status, report["accepted"].as_u64()),
        (200, Some(2)),
        "{report}"
    );

    let (status, merged) = server.post("/v1/customers/merge", &json!({"ids": [a, b]}).to_string());
    assert_eq!(status, 200, "{merged}");
    let survivor = merged["id"].as_str().unwrap().to_string();
    let gone = if survivor == a { b.clone() } else { a.clone() };
    // Both ids show the survivor, with the note and both attributes.
    for id in [&a, &b] {
        let (_, page) = server.get(&format!("/v1/customers/{id}"));
        assert_eq!(page["id"], survivor.as_str(), "{page}");
        assert_eq!(page["attributes"]["churn_risk"], json!(0.75), "{page}");
        assert_eq!(page["attributes"]["tier"], json!("gold"), "{page}");
    }
    let record_id = note["record_id"].as_str().unwrap().to_string();
    assert!(timeline_ids(&server, &survivor).contains(&record_id));
    wait(
        &server,
        "the note and the attributes under the survivor",
        |s| {
            found(s, "obsidianfjord") == vec![(record_id.clone(), survivor.clone())]
                && search(s, &[("q", "*"), ("filter.attrs.churn_risk", "0.5..1")])["customers"]
                    .as_array()
                    .is_some_and(|c| c.len() == 1 && c[0]["customer_id"] == survivor.as_str())
        },
    );
    // Writing to the merged-away id lands on the survivor.
    let (status, late) = json_call(
        &server,
        "POST",
        "/v1/notes",
        &json!({"customer_id": gone, "text": "After the merge"}),
    );
    assert_eq!(
        (status, &late["customer_id"]),
        (201, &json!(survivor)),
        "{late}"
    );
    let line = json!({"customer_id": gone, "key": "tier", "value": "platinum"}).to_string();
    send(
        &server,
        "POST",
        "/v1/attributes",
        "application/x-ndjson",
        &line,
    );
    let (_, page) = server.get(&format!("/v1/customers/{survivor}"));
    assert_eq!(page["attributes"]["tier"], "platinum", "{page}");
}

#[test]
fn a_note_written_during_an_ingest_pass_is_searchable_before_the_pass_ends() {
    let ws = Workspace::with_examples();
    ws.ingest();
    // The server's ingest passes wait after each batch while this file exists.
    let hold = ws.path().join("hold-ingest");
    let mut command = ws.command(&["serve", "--listen", "127.0.0.1:0"]);
    command.env("RAPPORT_TEST_INGEST_HOLD_FILE", &hold);
    let server = ws.start(command);
    let acme = org_id(&server, "Acme Robotics");

    std::fs::write(&hold, b"").unwrap();
    let (status, job) = json_call(&server, "POST", "/v1/reindex", &json!({"source": "crm"}));
    assert_eq!(status, 202, "{job}");
    let job_path = format!("/v1/jobs/{}", job["id"].as_str().unwrap());
    let state = |server: &Server| server.get(&job_path).1["state"].clone();
    wait(&server, "the reindex pass is running", |s| {
        state(s) == "running"
    });

    let (status, note) = json_call(
        &server,
        "POST",
        "/v1/notes",
        &json!({"customer_id": acme, "text": "Quillnest rollout agreed during the import"}),
    );
    assert_eq!(status, 201, "{note}");
    wait(&server, "the note is searchable while the pass runs", |s| {
        !found(s, "quillnest").is_empty()
    });
    assert_eq!(
        state(&server),
        "running",
        "the pass was still held when the note became searchable"
    );
    assert_eq!(found(&server, "quillnest")[0].1, acme);

    std::fs::remove_file(&hold).unwrap();
    wait(&server, "the pass finishes", |s| state(s) == "succeeded");
    assert_eq!(found(&server, "quillnest")[0].1, acme);
    // Nothing of the example data was lost on the way.
    assert!(!found(&server, "Brightwater").is_empty());
}
