//! Erasing a person on request (GDPR), end to end on the real server over a
//! copy of examples/: Anna Schmidt (crm:PER-008), with a note and a score
//! written back about her, is erased; search, her customer page and her
//! write-backs no longer know her; reading the export again, and a new
//! export carrying her email address in another case, do not bring her
//! back, while a new person in that export is ingested; and the audit log
//! says who asked and why without naming her. Also: mentions of her
//! elsewhere redacted and no file holding her, a restore of an older
//! snapshot keeping her erased, and her subject-access export.

use crate::common;

use std::time::Duration;

use common::{Server, Workspace, files_holding, hit_ids};
use serde_json::{Value, json};

const ANNA: &str = "crm:PER-008";

fn person_of(server: &Server, record: &str, q: &str) -> String {
    let hits = server.search(q);
    hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == record)
        .and_then(|h| h["person_id"].as_str())
        .unwrap_or_else(|| panic!("no person for {record} in {hits}"))
        .to_string()
}

fn erase(server: &Server, body: &Value) -> (u16, Value) {
    server.post("/v1/erasures", &body.to_string())
}

/// Runs a full reindex (every file read again) and returns its job.
fn reindex(server: &Server) -> Value {
    let (status, job) = server.post("/v1/reindex", "{}");
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    let done = server.wait_for(Duration::from_secs(60), |s| {
        last = s.get(&format!("/v1/jobs/{id}")).1;
        last["state"] == "succeeded" || last["state"] == "failed"
    });
    assert!(done, "reindex did not finish: {last}");
    assert_eq!(last["state"], "succeeded", "{last}");
    last
}

fn source_result<'a>(job: &'a Value, source: &str) -> &'a Value {
    job["result"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == source)
        .unwrap_or_else(|| panic!("no {source} in {job}"))
}

#[test]
fn an_erased_person_is_gone_from_search_and_stays_gone() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    let anna = person_of(&server, ANNA, "Anna Schmidt");
    let brightwater = server
        .search("Anna Schmidt")
        .get("hits")
        .and_then(|h| h.as_array())
        .and_then(|h| h.iter().find(|h| h["id"] == ANNA))
        .and_then(|h| h["customer_id"].as_str())
        .unwrap()
        .to_string();

    // Staff wrote about her: a note on her and a score.
    let (status, note) = server.post(
        "/v1/notes",
        &json!({"customer_id": anna, "text": "Anna asked for a quillfeather callback about dunning"})
        .to_string(),
    );
    assert_eq!(status, 201, "{note}");
    let note_id = note["id"].as_str().unwrap().to_string();
    let note_record = note["record_id"].as_str().unwrap().to_string();
    let (status, report) = server.post(
        "/v1/attributes",
        &json!({"customer_id": anna, "key": "churn_score", "value": 0.9}).to_string(),
    );
    assert_eq!(status, 200, "{report}");
    assert!(hit_ids(&server.search("quillfeather")).contains(&note_record));

    // What is refused, and why.
    for (body, status, code) in [
        (json!({"customer_id": anna}), 400, "invalid_body"),
        (
            // The requester is the caller's identity, never a name in the body.
            json!({"customer_id": anna, "requested_by": "dpo", "reason": "x"}),
            400,
            "invalid_body",
        ),
        (
            json!({"customer_id": brightwater, "reason": "x"}),
            400,
            "not_a_person",
        ),
        (
            json!({"customer_id": "per_000000000000", "reason": "x"}),
            404,
            "customer_not_found",
        ),
    ] {
        let (got, error) = erase(&server, &body);
        assert_eq!(
            (got, error["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {error}"
        );
    }
    assert!(hit_ids(&server.search("Anna Schmidt")).contains(&ANNA.to_string()));

    // The erasure.
    let (status, entry) = erase(
        &server,
        &json!({"customer_id": anna, "reason": "art. 17 request 2024-117"}),
    );
    assert_eq!(status, 201, "{entry}");
    assert_eq!(entry["action"], "erase");
    assert_eq!(
        entry["requested_by"],
        server.actor(),
        "the requester is the key that asked: {entry}"
    );
    assert_eq!(entry["customer_id"], anna.as_str());
    assert_eq!(
        entry["records_erased"], 2,
        "her contact record and the note: {entry}"
    );
    assert_eq!(entry["attributes_erased"], 1, "{entry}");
    assert_eq!(
        entry["identifiers_blocked"], 2,
        "her email and phone: {entry}"
    );

    // Gone: by name, email, phone, the note's words, her page.
    for q in [
        "Anna Schmidt",
        "a.schmidt@brightwater-logistics.de",
        "+49 40 5550 1299",
        "quillfeather",
    ] {
        let ids = hit_ids(&server.search(q));
        assert!(
            !ids.contains(&ANNA.to_string()) && !ids.contains(&note_record),
            "{q}: {ids:?}"
        );
    }
    assert_eq!(
        server.search("a.schmidt@brightwater-logistics.de")["total"],
        0
    );
    assert_eq!(server.get(&format!("/v1/customers/{anna}")).0, 404);
    assert_eq!(server.get(&format!("/v1/notes/{note_id}")).0, 404);
    // Her organisation stays, without her.
    let (status, org) = server.get(&format!("/v1/customers/{brightwater}"));
    assert_eq!(status, 200, "{org}");
    assert!(!org.to_string().contains("Schmidt"), "{org}");
    assert!(org.to_string().contains("Lukas Becker"), "{org}");

    // The same export read again, and a new one with her email in another
    // case (and her phone written differently) beside a new person.
    std::fs::write(
        ws.path().join("data/crm/new_contacts.csv"),
        "id,kind,name,company,email,phone,country\n\
         PER-099,person,A. Schmidt,Brightwater Logistics GmbH,A.SCHMIDT@brightwater-logistics.de,,DE\n\
         PER-100,person,Zoltan Quibbleworth,Brightwater Logistics GmbH,z.q@brightwater-logistics.de,,DE\n",
    )
    .unwrap();
    let job = reindex(&server);
    assert_eq!(
        source_result(&job, "crm")["erased"],
        2,
        "PER-008 and PER-099: {job}"
    );
    assert!(hit_ids(&server.search("Zoltan Quibbleworth")).contains(&"crm:PER-100".to_string()));
    for q in ["Schmidt", "a.schmidt@brightwater-logistics.de"] {
        let ids = hit_ids(&server.search(q));
        assert!(
            !ids.contains(&ANNA.to_string()) && !ids.contains(&"crm:PER-099".to_string()),
            "{q} after reindex: {ids:?}"
        );
    }

    // The audit log: who, when, why — not her.
    let (status, audit) = server.get("/v1/audit");
    assert_eq!(status, 200, "{audit}");
    let erasures: Vec<&serde_json::Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "erase" && e["outcome"] == "ok")
        .collect();
    assert_eq!(erasures.len(), 1, "{audit}");
    assert_eq!(erasures[0], &entry);
    // Her phone's digits are looked for in what an entry says, not in its
    // time and hashes (a timestamp's nanoseconds once held "5550").
    let mut said = audit.clone();
    for entry in said["entries"].as_array_mut().unwrap() {
        let fields = entry.as_object_mut().unwrap();
        for volatile in ["at", "hash", "prev_hash"] {
            fields.remove(volatile);
        }
    }
    let text = said.to_string().to_lowercase();
    for personal in ["schmidt", "anna", "a.schmidt@", "5550"] {
        assert!(
            !text.contains(personal),
            "{personal} in the audit log: {audit}"
        );
    }
}

/// An erasure also replaces the person's name, email and phone where other
/// customers' records mention them (here a case of her company's, written
/// with her email in capitals and her phone in another format), and leaves
/// no index segment holding her deleted documents: no file of the data
/// directory, nor of a snapshot taken after, contains her email or phone.
#[test]
fn an_erasure_redacts_mentions_elsewhere_and_leaves_no_index_file_holding_her() {
    let ws = Workspace::with_examples();
    std::fs::write(
        ws.path().join("data/crm/cases.csv"),
        "id,kind,name,company,email,phone,country,city,owner,stage,tags,amount,currency,created,updated,description\n\
         CASE-900,case,Billing dispute follow-up,Brightwater Logistics GmbH,,,DE,Bremen,Emma Clarke,open,,,,2024-05-02,2024-05-02,\"Spoke with Anna Schmidt; she asked us to write to A.SCHMIDT@BRIGHTWATER-LOGISTICS.DE or call 040 5550 1299. Lukas Becker in copy.\"\n",
    )
    .unwrap();
    let server = ws.serve();
    let case = server.search("follow-up dispute");
    assert!(
        hit_ids(&case).contains(&"crm:CASE-900".to_string()),
        "{case}"
    );
    let anna = person_of(&server, ANNA, "Anna Schmidt");
    let (status, entry) = erase(
        &server,
        &json!({"customer_id": anna, "reason": "art. 17 request 2024-200"}),
    );
    assert_eq!(status, 201, "{entry}");
    assert!(
        entry["mentions_redacted"].as_u64().unwrap_or(0) >= 1,
        "{entry}"
    );

    // The case stays, with her details replaced.
    let hits = server.search("Lukas Becker copy");
    let case_hit = hits["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| h["id"] == "crm:CASE-900")
        .cloned()
        .unwrap_or_else(|| panic!("the case is gone: {hits}"));
    let case_id = case_hit["customer_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, timeline) = server.get(&format!("/v1/customers/{case_id}/timeline"));
    let text = timeline.to_string().to_lowercase();
    assert!(text.contains("[erased]"), "{timeline}");
    for gone in ["anna schmidt", "a.schmidt@", "5550 1299"] {
        assert!(!text.contains(gone), "{gone} still in {timeline}");
    }
    for q in [
        "a.schmidt@brightwater-logistics.de",
        "\"Anna Schmidt\"",
        "5550 1299",
    ] {
        assert_eq!(server.search(q)["total"], 0, "{q}");
    }
    // Reading the export again (it still mentions her) does not bring the
    // mentions back: every ingest redacts them from what it writes.
    reindex(&server);
    let (_, timeline) = server.get(&format!("/v1/customers/{case_id}/timeline"));
    let text = timeline.to_string().to_lowercase();
    assert!(text.contains("billing dispute"), "{timeline}");
    for gone in ["anna schmidt", "a.schmidt@", "5550 1299"] {
        assert!(
            !text.contains(gone),
            "{gone} back after a re-ingest: {timeline}"
        );
    }
    drop(server);

    // No file of the data directory (store, index, change log) holds her
    // email or her phone's digits any longer, nor a snapshot taken now.
    let data_dir = ws.path().join("store");
    let server = ws.serve();
    let (status, snapshot) = server.post("/v1/snapshots", r#"{"name": "after-erasure"}"#);
    assert_eq!(status, 201, "{snapshot}");
    let snapshot_dir = std::path::PathBuf::from(snapshot["path"].as_str().unwrap_or_default());
    drop(server);
    for needle in [
        &b"a.schmidt@brightwater-logistics.de"[..],
        &b"494055501299"[..],
        &b"5550 1299"[..],
    ] {
        let mut holding = files_holding(&data_dir, needle);
        holding.extend(files_holding(&snapshot_dir, needle));
        assert!(
            holding.is_empty(),
            "{} still in {holding:?}",
            String::from_utf8_lossy(needle)
        );
    }
}

/// A snapshot taken before an erasure, restored after it, does not bring
/// the person back: the erasure ledger (outside every snapshot) is carried
/// over by the restore and re-applied when the data directory opens, with
/// an audit entry saying so.
#[test]
fn restoring_an_older_snapshot_keeps_an_erased_person_erased() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    let (status, before) = server.post("/v1/snapshots", r#"{"name": "before-erasure"}"#);
    assert_eq!(status, 201, "{before}");
    let snapshot = before["path"].as_str().unwrap_or_default().to_string();
    let anna = person_of(&server, ANNA, "Anna Schmidt");
    let (status, entry) = erase(
        &server,
        &json!({"customer_id": anna, "reason": "art. 17 request 2024-300"}),
    );
    assert_eq!(status, 201, "{entry}");
    drop(server);
    assert!(ws.path().join("store/erasures.ndjson").is_file());
    let ledger = std::fs::read_to_string(ws.path().join("store/erasures.ndjson")).unwrap();
    assert!(!ledger.to_lowercase().contains("schmidt"), "{ledger}");

    let out = ws.run(&["restore", &snapshot, "--force"]);
    assert!(out.status.success(), "{out:?}");
    let server = ws.serve();
    for q in ["Anna Schmidt", "a.schmidt@brightwater-logistics.de"] {
        let ids = hit_ids(&server.search(q));
        assert!(
            !ids.contains(&ANNA.to_string()),
            "{q} after restore: {ids:?}"
        );
    }
    assert_eq!(server.get(&format!("/v1/customers/{anna}")).0, 404);
    let (_, audit) = server.get("/v1/audit?action=erase.reapplied");
    let reapplied = audit["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(reapplied.len(), 1, "{audit}");
    assert!(
        reapplied[0]["records_erased"].as_u64().unwrap_or(0) >= 1,
        "{audit}"
    );
    drop(server);
    // Opening again finds nothing left to apply.
    let server = ws.serve();
    let (_, audit) = server.get("/v1/audit?action=erase.reapplied");
    assert_eq!(
        audit["entries"].as_array().map_or(0, Vec::len),
        1,
        "{audit}"
    );
}

/// A data subject's access request: one document holds her customer page,
/// every record of hers in full (the CRM contact with her email and phone,
/// the note about her) and the audit entries about her; the CLI gives the
/// same document through the running server; a viewer may not ask.
#[test]
fn a_subject_export_holds_everything_about_the_person() {
    let ws = Workspace::with_examples();
    let viewer = ws.create_key("viewer", "viewer", &[]);
    let server = ws.serve();
    let anna = person_of(&server, ANNA, "Anna Schmidt");
    let (status, page) = server.get(&format!("/v1/customers/{anna}"));
    assert_eq!(status, 200, "{page}");
    let (status, export) = server.get(&format!("/v1/customers/{anna}/subject-export"));
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["format"], "rapport-subject-export/1");
    assert_eq!(export["customer"]["id"], anna.as_str());
    let records: Vec<&Value> = export["records"].as_array().unwrap().iter().collect();
    let listed: Vec<&str> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(!listed.is_empty(), "{page}");
    for id in &listed {
        let (source, external) = id.split_once(':').unwrap();
        assert!(
            records
                .iter()
                .any(|r| r["source"] == source && r["external_id"] == external),
            "{id} missing from the subject export"
        );
    }
    let contact = records
        .iter()
        .find(|r| r["external_id"] == "PER-008")
        .unwrap_or_else(|| panic!("her CRM record: {export}"));
    assert_eq!(contact["emails"][0], "a.schmidt@brightwater-logistics.de");
    assert!(!contact["phones"].as_array().unwrap().is_empty());
    let audit = export["audit"].as_array().unwrap();
    assert!(
        audit.iter().any(|e| e["action"] == "customer.read"),
        "the page read above is in her audit entries: {audit:?}"
    );

    let out = ws.run(&["customers", "subject-export", &anna]);
    assert!(out.status.success(), "{out:?}");
    let mut from_cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(from_cli["records"], export["records"]);
    from_cli["generated_at"] = Value::Null;
    assert_eq!(from_cli["customer"], export["customer"]);

    let refused = common::client_with(Some(&viewer))
        .get(format!(
            "{}/v1/customers/{anna}/subject-export",
            server.base
        ))
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
}

/// A B2B account purge (`"organisation": true`): the organisation, its
/// people and everything attached to them go, with tombstones that keep a
/// re-read export from bringing any of them back; other customers stay.
#[test]
fn an_organisation_purge_erases_the_account_its_people_and_their_records() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    let (_, found) = server.get("/v1/search?q=Brightwater&group=customer&limit=1");
    let brightwater = found["customers"][0]["customer_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(brightwater.starts_with("org_"), "{found}");
    let (_, page) = server.get(&format!("/v1/customers/{brightwater}"));
    let records = page["records"].as_array().map_or(0, Vec::len);
    assert!(records >= 3, "{page}");
    let total_before = server.search("*")["total"].as_u64().unwrap_or(0);

    let (status, entry) = erase(
        &server,
        &json!({"customer_id": brightwater, "reason": "contract ended, purge", "organisation": true}),
    );
    assert_eq!(status, 201, "{entry}");
    assert!(
        entry["records_erased"].as_u64().unwrap_or(0) >= records as u64,
        "{entry}"
    );
    assert_eq!(server.get(&format!("/v1/customers/{brightwater}")).0, 404);
    for q in [
        "Brightwater",
        "Lukas Becker",
        "Anna Schmidt",
        "lukas.becker@brightwater-logistics.de",
    ] {
        let ids = hit_ids(&server.search(q));
        assert!(
            !ids.iter().any(
                |id| ["crm:ORG-004", "crm:PER-007", "crm:PER-008", "crm:OPP-004"]
                    .contains(&id.as_str())
            ),
            "{q}: {ids:?}"
        );
    }
    let total_after = server.search("*")["total"].as_u64().unwrap_or(0);
    assert!(
        total_after > 0 && total_after < total_before,
        "{total_before} → {total_after}"
    );

    // Reading the same export again brings none of them back.
    let job = reindex(&server);
    assert!(
        source_result(&job, "crm")["erased"].as_u64().unwrap_or(0) >= 3,
        "{job}"
    );
    assert!(hit_ids(&server.search("Lukas Becker")).is_empty());
    assert!(
        !hit_ids(&server.search("Acme")).is_empty(),
        "other customers stay"
    );
}

/// Rectification (GDPR art. 16): a steward replaces a golden field with a
/// reason; the customer page shows it as the steward's, it survives a full
/// reindex (every file read again), and it is in the audit log.
#[test]
fn a_rectified_golden_field_survives_reindex_and_is_audited() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    let anna = person_of(&server, ANNA, "Anna Schmidt");
    let (status, page) = server.post(
        &format!("/v1/customers/{anna}/rectify"),
        r#"{"field": "phones", "value": "+49 421 5550 777", "reason": "subject asked, ticket 88"}"#,
    );
    assert_eq!(status, 200, "{page}");
    let phone = &page["golden"]["fields"]["phones"];
    assert_eq!(phone["value"], "+49 421 5550 777", "{page}");
    assert_eq!(phone["source"], "steward", "{page}");
    let (status, refused) = server.post(
        &format!("/v1/customers/{anna}/rectify"),
        r#"{"field": "salary", "value": "x", "reason": "y"}"#,
    );
    assert_eq!(status, 400, "{refused}");

    reindex(&server);
    let (_, page) = server.get(&format!("/v1/customers/{anna}"));
    assert_eq!(
        page["golden"]["fields"]["phones"]["value"], "+49 421 5550 777",
        "{page}"
    );
    let (_, audit) = server.get("/v1/audit?action=rectify");
    let entries = audit["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 2, "{audit}");
    assert_eq!(entries[0]["customer_id"], anna.as_str());
    assert_eq!(entries[0]["outcome"], "ok");
    assert_eq!(entries[1]["outcome"], "400");
}
