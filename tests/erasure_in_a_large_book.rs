//! An erasure in a book of 1,800 records, whose last resolution before it
//! was an incremental one (a small change), through the real server, store
//! and index: the erasure's own resolution is incremental too (`/metrics`
//! reports how many records it re-resolved), the erased person is gone, no
//! file of the data directory names her (suspect pairs and golden records
//! included, which an incremental pass left behind while the erasure
//! dropped her assignments before the plan could read them), and every
//! remaining record has the customer a full pass from scratch over the same
//! files without her gives it.

use crate::common;

use std::fmt::Write as _;

use common::{Workspace, assert_same_customers, files_holding};

const ORGS: usize = 300;
const PEOPLE: usize = 1_500;
const ERASED: usize = 7;

/// The book: organisations and their people; without `erased`, the
/// person's row is left out (what a full pass after her erasure reads).
fn write_book(dir: &std::path::Path, with_erased: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let mut orgs = String::from("id,kind,name,email\n");
    for k in 0..ORGS {
        writeln!(
            orgs,
            "O{k},organization,Company{k} Widgets Inc.,info@co{k}.example"
        )
        .unwrap();
    }
    let mut people = String::from("id,kind,name,email,account,phone\n");
    for p in 0..PEOPLE {
        if p == ERASED && !with_erased {
            continue;
        }
        let k = (p * 7919) % ORGS;
        writeln!(
            people,
            "P{p},person,Person{p} Family{},person{p}@co{k}.example,O{k},+1617{p:07}",
            p % 23
        )
        .unwrap();
    }
    std::fs::write(dir.join("orgs.csv"), orgs).unwrap();
    std::fs::write(dir.join("people.csv"), people).unwrap();
}

/// The small change: one person's new phone number.
fn change_a_phone(dir: &std::path::Path) {
    let people = dir.join("people.csv");
    let text = std::fs::read_to_string(&people).unwrap();
    let changed = text.replace(",+16170000011\n", ",+16179990011\n");
    assert_ne!(text, changed);
    std::fs::write(&people, changed).unwrap();
}

/// The value of one unlabelled series in the `/metrics` text.
fn gauge(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[test]
fn an_erasure_after_a_partial_resolution_leaves_no_trace_and_a_full_pass_answer() {
    let total = (ORGS + PEOPLE) as u64;
    let ws = Workspace::new();
    ws.write_config(&[("crm", "generic-csv", "data/crm")]);
    write_book(&ws.path().join("data/crm"), true);
    let first = ws.ingest();
    assert_eq!(first["stages"]["resolved_records"], total, "{first}");
    // A small change first: the resolution the erasure starts from is a
    // partial one spliced into the first.
    change_a_phone(&ws.path().join("data/crm"));
    let second = ws.ingest();
    let partial = second["stages"]["resolved_records"].as_u64().unwrap_or(0);
    assert!(partial > 0 && partial < total, "{second}");
    let server = ws.serve();
    let hits = server.search(&format!(
        "person{ERASED}@co{}.example",
        (ERASED * 7919) % ORGS
    ));
    let person = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == format!("crm:P{ERASED}"))
        .and_then(|h| h["person_id"].as_str())
        .unwrap_or_else(|| panic!("no person for P{ERASED} in {hits}"))
        .to_string();
    let (status, body) = server.post(
        "/v1/erasures",
        &serde_json::json!({"customer_id": person, "reason": "request 7"}).to_string(),
    );
    assert_eq!(status, 201, "{body}");

    let (status, _, metrics) = server.get_text("/metrics");
    assert_eq!(status, 200);
    let re_resolved = gauge(&metrics, "rapport_resolution_last_records");
    println!("{total} records, one person erased: {re_resolved} re-resolved");
    assert!(
        re_resolved > 0 && re_resolved < total,
        "the erasure re-resolved {re_resolved} of {total}: not incrementally"
    );
    let (status, page) = server.get(&format!("/v1/customers/{person}"));
    assert_eq!(status, 404, "{page}");
    // Nothing the partial resolution saved (her customer, its golden
    // record) is left in a file of the data directory.
    for needle in [
        format!("person{ERASED}@"),
        format!("Person{ERASED} Family{ERASED}"),
    ] {
        let holding = files_holding(&ws.path().join("store"), needle.as_bytes());
        assert!(holding.is_empty(), "{needle} is still in {holding:?}");
    }

    let after_erasure = ws.customers_by_record();
    assert!(!after_erasure.contains_key(&format!("crm:P{ERASED}")));
    let fresh = Workspace::new();
    fresh.write_config(&[("crm", "generic-csv", "data/crm")]);
    write_book(&fresh.path().join("data/crm"), false);
    change_a_phone(&fresh.path().join("data/crm"));
    fresh.ingest();
    let from_scratch = fresh.customers_by_record();
    assert_eq!(after_erasure.len(), from_scratch.len());
    assert_same_customers(&from_scratch, &after_erasure);
}
