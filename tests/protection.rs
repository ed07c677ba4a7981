//! Data protection (issue 17) end to end on real servers: consent read from
//! a Salesforce export and a generic CSV becomes the golden record's latest
//! statement per channel, is filterable and facetable, and an export
//! declared for marketing leaves out who opted out, says how many, and is
//! audited; customer pages name each field's source, purpose and lawful
//! basis. Retention: the plan lists by source and reason what the run then
//! purges, as a job, with one audit entry; tombstones keep it out of a
//! re-ingest; the job also runs on its schedule.

use crate::common;

use std::time::Duration;

use common::{Server, Workspace, files_holding, for_each_content};
use serde_json::Value;

const CONTACTS: &str = "\
Id,FirstName,LastName,Email,Phone,HasOptedOutOfEmail,DoNotCall,HasOptedOutOfFax,LastModifiedDate
003A,Ada,Lovelace,ada@analytical.example,+44 20 7946 0001,true,false,false,2024-01-10T09:00:00Z
003B,Ben,Okafor,ben@okafor.example,+44 20 7946 0002,false,true,false,2024-01-10T09:00:00Z
003C,Chie,Sato,chie@sato.example,+81 3 1234 5678,false,false,false,2024-01-10T09:00:00Z
";

/// A newsletter tool's list: Ada's old opt-in (older than her opt-out in
/// the CRM, so it loses) and Ben's marketing opt-out.
const EVENTS: &str = "\
id,name,email,marketing_opt_out,email_opt_in,consent_date
ev1,Ada Lovelace,ada@analytical.example,,yes,2023-03-01
ev2,Ben Okafor,ben@okafor.example,yes,,2024-05-01
";

fn workspace() -> Workspace {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path().join("sf")).unwrap();
    std::fs::create_dir_all(ws.path().join("events")).unwrap();
    std::fs::write(ws.path().join("sf/Contact.csv"), CONTACTS).unwrap();
    std::fs::write(ws.path().join("events/list.csv"), EVENTS).unwrap();
    let config = "data_dir = \"store\"\n\
        [[sources]]\nname = \"sf\"\nconnector = \"salesforce-export\"\npath = \"sf\"\n\
        purpose = \"sales\"\nlawful_basis = \"contract\"\n\
        [[sources]]\nname = \"events\"\nconnector = \"generic-csv\"\npath = \"events\"\n\
        purpose = \"marketing\"\nlawful_basis = \"consent\"\n";
    std::fs::write(ws.config(), config).unwrap();
    ws
}

fn customer_of(server: &Server, record: &str) -> String {
    let (status, body) = server.get(&format!(
        "/v1/search?q=*&group=none&limit=50&filter.id={record}"
    ));
    assert_eq!(status, 200, "{body}");
    body["hits"][0]["customer_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no customer for {record}: {body}"))
        .to_string()
}

/// The body of an export: its rows, its trailer line (last), and the
/// purpose it declared in its headers.
fn export(server: &Server, query: &str) -> (Vec<Value>, Option<Value>, String) {
    let response = server
        .client()
        .get(format!("{}/v1/export?{query}", server.base))
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let purpose = response
        .headers()
        .get("x-rapport-purpose")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response.text().unwrap();
    assert_eq!(status, 200, "{body}");
    let mut lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let trailer = match lines.last() {
        Some(last) if last.get("export").is_some() => lines.pop(),
        _ => None,
    };
    (lines, trailer, purpose)
}

#[test]
fn consent_is_on_the_golden_record_and_honoured_by_a_marketing_export() {
    let ws = workspace();
    let server = ws.serve();
    let ada = customer_of(&server, "sf:003A");
    let ben = customer_of(&server, "sf:003B");
    let chie = customer_of(&server, "sf:003C");
    assert_eq!(
        customer_of(&server, "events:ev1"),
        ada,
        "the list row joins Ada"
    );
    assert_eq!(
        customer_of(&server, "events:ev2"),
        ben,
        "the list row joins Ben"
    );

    // The golden record: the latest explicit statement per channel, with
    // where it came from.
    let (status, page) = server.get(&format!("/v1/customers/{ada}"));
    assert_eq!(status, 200, "{page}");
    let consent = &page["golden"]["consent"];
    assert_eq!(consent["email"]["status"], "opted_out", "{consent}");
    assert_eq!(consent["email"]["source"], "sf", "{consent}");
    assert_eq!(consent["email"]["external_id"], "003A", "{consent}");
    assert_eq!(consent["phone"]["status"], "no_objection", "{consent}");
    assert_eq!(consent["fax"]["status"], "no_objection", "{consent}");
    // Purpose and lawful basis per field.
    let purposes = &page["purposes"];
    assert_eq!(purposes["consent.email"]["purpose"], "sales", "{purposes}");
    assert_eq!(purposes["name"]["source"], "sf", "{purposes}");
    assert_eq!(purposes["name"]["lawful_basis"], "contract", "{purposes}");

    let (_, page) = server.get(&format!("/v1/customers/{ben}"));
    let consent = &page["golden"]["consent"];
    assert_eq!(consent["marketing"]["status"], "opted_out", "{consent}");
    assert_eq!(consent["marketing"]["source"], "events", "{consent}");
    assert_eq!(consent["phone"]["status"], "opted_out", "{consent}");
    assert_eq!(
        page["purposes"]["consent.marketing"]["purpose"],
        "marketing"
    );
    assert_eq!(
        page["purposes"]["consent.marketing"]["lawful_basis"],
        "consent"
    );

    // Filterable and facetable.
    let (status, body) = server
        .get("/v1/search?q=*&group=none&limit=50&filter.consent=email:opted_out&facets=consent");
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "Ada's two records: {body}");
    assert!(
        ids.iter().all(|id| *id == "sf:003A" || *id == "events:ev1"),
        "{ids:?}"
    );
    let facet = body["facets"]["consent"].to_string();
    assert!(facet.contains("marketing:opted_out"), "{facet}");
    assert!(facet.contains("phone:opted_out"), "{facet}");

    // A marketing export leaves Ada (no e-mail) and Ben (no marketing) out,
    // by default, and says how many rows it left out.
    let (all, trailer, _) = export(&server, "format=ndjson");
    assert_eq!(all.len(), 5, "{all:?}");
    assert!(trailer.is_none(), "no purpose, no trailer");
    let (rows, trailer, purpose) = export(&server, "format=ndjson&purpose=marketing");
    let customers: Vec<&str> = rows
        .iter()
        .map(|r| r["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(customers, vec![chie.as_str()], "{rows:?}");
    let trailer = trailer.expect("a trailer line");
    assert_eq!(trailer["export"]["purpose"], "marketing", "{trailer}");
    assert_eq!(trailer["export"]["left_out"], 4, "{trailer}");
    assert_eq!(trailer["export"]["rows"], 1, "{trailer}");
    assert_eq!(purpose, "marketing");

    // At customer level, through a query, the same people are left out.
    let (rows, trailer, _) = export(&server, "q=*&level=customer&purpose=marketing");
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![chie.as_str()], "{rows:?}");
    assert_eq!(trailer.unwrap()["export"]["left_out"], 2);

    // Profiling: nobody refused it.
    let (rows, trailer, _) = export(&server, "purpose=profiling");
    assert_eq!(rows.len(), 5);
    assert_eq!(trailer.unwrap()["export"]["left_out"], 0);

    // Asked for explicitly, the opted-out are kept (and nothing is left out).
    let (rows, trailer, _) = export(&server, "purpose=marketing&include_opted_out=true");
    assert_eq!(rows.len(), 5);
    assert_eq!(trailer.unwrap()["export"]["left_out"], 0);

    // CSV ends with a comment line.
    let (_, _, csv) = server.get_text("/v1/export?format=csv&purpose=marketing");
    let last = csv.lines().last().unwrap_or_default();
    assert_eq!(
        last, "# purpose: marketing; rows: 1; left out (opted out): 4",
        "{csv}"
    );

    // An unknown purpose is a 400 naming the parameter.
    let (status, _, body) = server.get_text("/v1/export?purpose=astrology");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("purpose"), "{body}");

    // The audit log has the count.
    let (status, audit) = server.get("/v1/audit?action=export.purpose");
    assert_eq!(status, 200, "{audit}");
    let entries: Vec<&Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "export.purpose")
        .collect();
    assert!(
        entries
            .iter()
            .any(|e| e["purpose"] == "marketing" && e["left_out"] == 4 && e["rows"] == 1),
        "{entries:?}"
    );

    // `rapport export --purpose marketing`: through the running server, and
    // in this process once it has stopped (the count also on stderr).
    let trailer_of = |out: &std::process::Output| -> Value {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(text.lines().count(), 2, "one row and the trailer: {text}");
        serde_json::from_str(text.lines().last().unwrap_or_default()).unwrap()
    };
    let out = ws.run(&["export", "--purpose", "marketing"]);
    assert_eq!(trailer_of(&out)["export"]["left_out"], 4);
    drop(server);
    let out = ws.run(&["export", "--purpose", "marketing"]);
    assert_eq!(trailer_of(&out)["export"]["left_out"], 4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("purpose marketing: 4 rows left out"),
        "{stderr}"
    );
}

/// Runs a full reindex (every file read again) and waits for it.
fn reindex(server: &Server) {
    let (status, job) = server.post("/v1/reindex", "{}");
    assert_eq!(status, 202, "{job}");
    wait_for_job(server, job["id"].as_str().unwrap());
}

fn wait_for_job(server: &Server, id: &str) -> Value {
    let mut last = Value::Null;
    let done = server.wait_for(Duration::from_secs(120), |s| {
        last = s.get(&format!("/v1/jobs/{id}")).1;
        last["state"] == "succeeded" || last["state"] == "failed"
    });
    assert!(done, "job {id} did not finish: {last}");
    assert_eq!(last["state"], "succeeded", "{last}");
    last
}

fn present(server: &Server, record: &str) -> bool {
    let (status, body) = server.get(&format!(
        "/v1/search?q=*&group=none&limit=5&filter.id={record}"
    ));
    assert_eq!(status, 200, "{body}");
    body["total"].as_u64().unwrap_or(0) > 0
}

/// Stops `server`, restores the snapshot at `snapshot` with the CLI, and
/// serves the restored data directory.
fn restore_and_serve(ws: &Workspace, server: Server, snapshot: &str) -> Server {
    drop(server);
    let out = ws.run(&["restore", snapshot, "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ws.serve()
}

fn day(days_ago: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days_ago)).to_rfc3339()
}

/// crm (retain_days = 365): Olga, alone since 2015 (inactive: purged
/// whole); Pavel, old but with a ticket ten days ago (kept); Rita, recent;
/// Ines's CRM row from 2015 (expired by retain_days, while her legacy row
/// from 500 days ago keeps her customer active). legacy (no retain_days):
/// Lars, inactive since 2010; Lena, recent; Ines's newer row.
fn retention_workspace(extra: &str) -> Workspace {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path().join("crm")).unwrap();
    std::fs::create_dir_all(ws.path().join("legacy")).unwrap();
    write_crm(&ws, "2015-01-01T00:00:00Z");
    let legacy = format!(
        "id,name,email,updated\n\
         L1,Lars Lapsed,lars@lapsed.example,2010-06-01T00:00:00Z\n\
         L2,Lena Lively,lena@lively.example,{}\n\
         L4,Ines Interim,ines@interim.example,{}\n",
        day(5),
        day(500)
    );
    std::fs::write(ws.path().join("legacy/people.csv"), legacy).unwrap();
    let config = format!(
        "data_dir = \"store\"\n{extra}\n[retention]\ninactive_days = 730\n\
         [[sources]]\nname = \"crm\"\nconnector = \"generic-csv\"\npath = \"crm\"\nretain_days = 365\n\
         [[sources]]\nname = \"legacy\"\nconnector = \"generic-csv\"\npath = \"legacy\"\n"
    );
    std::fs::write(ws.config(), config).unwrap();
    ws
}

fn write_crm(ws: &Workspace, ines_updated: &str) {
    let crm = format!(
        "id,kind,name,subject,email,customer,updated\n\
         p1,person,Olga Old,,olga@old.example,,2015-01-01T00:00:00Z\n\
         p2,person,Pavel Paused,,pavel@paused.example,,2015-01-01T00:00:00Z\n\
         t1,ticket,,Printer jam: ask olga@old.example and Lars Lapsed; Ines Interim knows,,p2,{}\n\
         p3,person,Rita Recent,,rita@recent.example,,{}\n\
         p4,person,Ines Interim,,ines@interim.example,,{ines_updated}\n",
        day(10),
        day(20)
    );
    std::fs::write(ws.path().join("crm/people.csv"), crm).unwrap();
}

fn planned(plan: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = plan["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// After a retention run of `retention_workspace`: a version of a purged
/// record updated since in its source is new data while the unchanged rows
/// stay out, and no file of the data directory, nor of a snapshot taken
/// then, holds the email of a person purged whole (the export files
/// outside it still do).
fn updated_rows_come_back_and_no_file_holds_the_purged(ws: &Workspace, server: Server) {
    write_crm(ws, &day(1));
    reindex(&server);
    assert!(present(&server, "crm:p4"), "Ines's updated CRM row is back");
    assert!(
        !present(&server, "crm:p1"),
        "Olga's unchanged row stays out"
    );
    let (status, snapshot) = server.post("/v1/snapshots", r#"{"name": "after-retention"}"#);
    assert_eq!(status, 201, "{snapshot}");
    let snapshot_dir = std::path::PathBuf::from(snapshot["path"].as_str().unwrap_or_default());
    drop(server);
    for needle in [&b"olga@old.example"[..], &b"lars@lapsed.example"[..]] {
        let mut holding = files_holding(&ws.path().join("store"), needle);
        holding.extend(files_holding(&snapshot_dir, needle));
        assert!(
            holding.is_empty(),
            "{} still in {holding:?}",
            String::from_utf8_lossy(needle)
        );
    }
    assert!(!files_holding(&ws.path().join("crm"), b"olga@old.example").is_empty());
}

#[test]
fn retention_purges_what_the_plan_said_and_tombstones_keep_it_out() {
    let ws = retention_workspace("");
    let server = ws.serve();
    let pavel = customer_of(&server, "crm:p2");
    assert_eq!(
        customer_of(&server, "crm:t1"),
        pavel,
        "the ticket is Pavel's"
    );
    assert_eq!(
        customer_of(&server, "crm:p4"),
        customer_of(&server, "legacy:L4"),
        "Ines's two rows are one customer"
    );

    // The plan, by source and reason; nothing deleted yet.
    let (status, plan) = server.get("/v1/retention/plan");
    assert_eq!(status, 200, "{plan}");
    let expected: Vec<(String, String)> = [
        ("crm:p1", "inactive_customer"),
        ("crm:p4", "retain_days"),
        ("legacy:L1", "inactive_customer"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(planned(&plan), expected, "{plan}");
    assert_eq!(plan["by_source"]["crm"]["inactive_customer"], 1, "{plan}");
    assert_eq!(plan["by_source"]["crm"]["retain_days"], 1, "{plan}");
    assert_eq!(
        plan["by_source"]["legacy"]["inactive_customer"], 1,
        "{plan}"
    );
    assert_eq!(
        plan["customers"].as_array().map(Vec::len),
        Some(2),
        "{plan}"
    );
    assert!(present(&server, "crm:p1"), "a plan deletes nothing");
    // The CLI shows the same plan (through the server that holds the data).
    let out = ws.run(&["retention", "plan", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli_plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(planned(&cli_plan), expected);

    // The run is a job in /v1/jobs and purges exactly the plan.
    let (status, job) = server.post("/v1/retention/run", "");
    assert_eq!(status, 202, "{job}");
    assert_eq!(job["kind"], "retention", "{job}");
    let job = wait_for_job(&server, job["id"].as_str().unwrap());
    let mut purged: Vec<String> = job["result"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    purged.sort();
    let planned_ids: Vec<String> = expected.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(purged, planned_ids, "{job}");
    for gone in ["crm:p1", "crm:p4", "legacy:L1"] {
        assert!(!present(&server, gone), "{gone} was purged");
    }
    for kept in ["crm:p2", "crm:t1", "crm:p3", "legacy:L2", "legacy:L4"] {
        assert!(present(&server, kept), "{kept} is kept");
    }
    let (_, jobs) = server.get("/v1/jobs");
    assert!(jobs.to_string().contains("\"retention\""), "{jobs}");
    // The people of the customers purged whole are redacted from the text
    // of records that stay; Ines, whose customer stays, is not.
    let (_, ticket) = server.get("/v1/search?q=*&group=none&filter.id=crm:t1");
    let title = ticket["hits"][0]["title"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(title.starts_with("Printer jam"), "{ticket}");
    assert!(!title.contains("olga@old.example"), "{title}");
    assert!(!title.contains("Lars Lapsed"), "{title}");
    assert!(title.contains("[erased]"), "{title}");
    assert!(title.contains("Ines Interim"), "{title}");
    let (_, found) = server.get("/v1/search?q=olga@old.example&group=none");
    assert_eq!(found["total"], 0, "{found}");

    // One audit entry for the run, with its counts.
    let (_, audit) = server.get("/v1/audit?action=retention.run");
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["records_purged"], 3, "{audit}");
    assert_eq!(entries[0]["customers_purged"], 2, "{audit}");
    assert_eq!(entries[0]["mentions_redacted"], 1, "{audit}");
    assert_eq!(entries[0]["by_source"]["crm"]["retain_days"], 1, "{audit}");

    // Reading every file again does not bring them back, and the next plan
    // is empty.
    reindex(&server);
    for gone in ["crm:p1", "crm:p4", "legacy:L1"] {
        assert!(
            !present(&server, gone),
            "{gone} came back with the re-ingest"
        );
    }
    assert!(present(&server, "crm:p3"));
    let (_, plan) = server.get("/v1/retention/plan");
    assert_eq!(plan["total"], 0, "{plan}");

    updated_rows_come_back_and_no_file_holds_the_purged(&ws, server);
}

#[test]
fn the_retention_job_runs_on_its_schedule() {
    let ws = retention_workspace("");
    let text = std::fs::read_to_string(ws.config()).unwrap();
    std::fs::write(
        ws.config(),
        text.replace("[retention]\n", "[retention]\nevery = \"1s\"\n"),
    )
    .unwrap();
    let server = ws.serve();
    let mut jobs = Value::Null;
    let ran = server.wait_for(Duration::from_secs(60), |s| {
        jobs = s.get("/v1/jobs").1;
        jobs["jobs"].as_array().is_some_and(|all| {
            all.iter().any(|j| {
                j["kind"] == "retention" && j["trigger"] == "schedule" && j["state"] == "succeeded"
            })
        })
    });
    assert!(ran, "no scheduled retention run: {jobs}");
    assert!(!present(&server, "legacy:L1"));
    assert!(present(&server, "legacy:L2"));
}

/// A note written about a person while her erasure is between reading her
/// records and erasing them (held there by the test hook) goes with her:
/// the store's scan runs inside the erasure's write transaction.
#[test]
fn a_note_racing_an_erasure_does_not_survive_it() {
    let ws = Workspace::with_examples();
    let hold = ws.path().join("erase.hold");
    let reached = std::path::PathBuf::from(format!("{}.reached", hold.display()));
    let mut command = ws.command(&["serve", "--listen", "127.0.0.1:0"]);
    command.env("RAPPORT_TEST_ERASE_HOLD", &hold);
    let server = ws.start(command);
    let (status, body) = server.get("/v1/search?q=*&group=none&filter.id=crm:PER-008");
    assert_eq!(status, 200, "{body}");
    let anna = body["hits"][0]["person_id"].as_str().unwrap().to_string();

    std::fs::write(&hold, b"").unwrap();
    let erasing = {
        let client = server.client();
        let url = format!("{}/v1/erasures", server.base);
        let body = serde_json::json!({"customer_id": anna, "reason": "asked by mail"}).to_string();
        std::thread::spawn(move || {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .map(|r| r.status().as_u16())
        })
    };
    assert!(
        server.wait_for(Duration::from_secs(60), |_| reached.exists()),
        "the erasure never reached its hold"
    );
    let (status, note) = server.post(
        "/v1/notes",
        &serde_json::json!({"customer_id": anna, "text": "zephyrine callback about her invoice"})
            .to_string(),
    );
    assert_eq!(status, 201, "{note}");
    let note_id = note["id"].as_str().unwrap().to_string();
    std::fs::remove_file(&hold).unwrap();
    let erased = erasing.join().unwrap().unwrap();
    assert_eq!(erased, 201);

    let (status, body) = server.get(&format!("/v1/notes/{note_id}"));
    assert_eq!(status, 404, "the racing note survived: {body}");
    assert_eq!(server.search("zephyrine")["total"], 0);
}

/// A snapshot taken before an erasure still holds the person's mentions in
/// other records' text; restoring it re-applies the erasure from the ledger
/// and redacts those mentions again from their hashes.
#[test]
fn a_restore_redacts_the_erased_persons_mentions_again() {
    let ws = Workspace::with_examples();
    std::fs::write(
        ws.path().join("data/crm/cases.csv"),
        "id,kind,name,company,created,description\n\
         CASE-900,case,Billing dispute follow-up,Brightwater Logistics GmbH,2024-05-02,\"Spoke with Anna Schmidt; she asked us to write to A.SCHMIDT@BRIGHTWATER-LOGISTICS.DE or call 040 5550 1299. Lukas Becker in copy.\"\n",
    )
    .unwrap();
    let server = ws.serve();
    let (status, snapshot) = server.post("/v1/snapshots", r#"{"name": "before"}"#);
    assert_eq!(status, 201, "{snapshot}");
    let snapshot = snapshot["path"].as_str().unwrap().to_string();
    let (_, body) = server.get("/v1/search?q=*&group=none&filter.id=crm:PER-008");
    let anna = body["hits"][0]["person_id"].as_str().unwrap().to_string();
    let (status, entry) = server.post(
        "/v1/erasures",
        &serde_json::json!({"customer_id": anna, "reason": "art. 17"}).to_string(),
    );
    assert_eq!(status, 201, "{entry}");
    let server = restore_and_serve(&ws, server, &snapshot);
    for q in [
        "a.schmidt@brightwater-logistics.de",
        "\"Anna Schmidt\"",
        "5550 1299",
    ] {
        assert_eq!(server.search(q)["total"], 0, "{q} after the restore");
    }
    let case = server.search("Lukas Becker copy");
    let text = case.to_string();
    assert!(
        text.contains("crm:CASE-900") && text.contains("[erased]"),
        "{case}"
    );
    let (_, audit) = server.get("/v1/audit?action=erase.reapplied");
    assert_eq!(
        audit["entries"][0]["mentions_redacted"], entry["mentions_redacted"],
        "as many as the erasure redacted: {audit}"
    );
}

/// With no server, `rapport retention run` purges in this process, and the
/// plan after it is empty.
#[test]
fn rapport_retention_run_works_without_a_server() {
    let ws = retention_workspace("");
    ws.ingest();
    let json = |args: &[&str]| -> Value {
        let out = ws.run(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = json(&["retention", "plan", "--json"]);
    let run = json(&["retention", "run", "--json"]);
    assert_eq!(planned(&run), planned(&before), "{run}");
    assert_eq!(run["total"], 3, "{run}");
    assert_eq!(json(&["retention", "plan", "--json"])["total"], 0);
    let out = ws.run(&["retention", "plan"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("0 records"), "{text}");
}

/// A restore of a snapshot taken before a retention run re-applies the
/// purge from the ledger with the tombstones' dates: the purged rows stay
/// out, and a version its source updated since still comes back, as it
/// would had no restore happened.
#[test]
fn a_restored_retention_purge_keeps_its_dated_tombstones() {
    let ws = retention_workspace("");
    let server = ws.serve();
    let (status, snapshot) = server.post("/v1/snapshots", r#"{"name": "before-retention"}"#);
    assert_eq!(status, 201, "{snapshot}");
    let snapshot = snapshot["path"].as_str().unwrap().to_string();
    let (status, job) = server.post("/v1/retention/run", "");
    assert_eq!(status, 202, "{job}");
    wait_for_job(&server, job["id"].as_str().unwrap());
    let server = restore_and_serve(&ws, server, &snapshot);
    for gone in ["crm:p1", "crm:p4", "legacy:L1"] {
        assert!(!present(&server, gone), "{gone} came back with the restore");
    }
    // One re-applied entry per part of the run (two customers purged
    // whole, one record on its own), each naming the run.
    let (_, audit) = server.get("/v1/audit?action=erase.reapplied");
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{audit}");
    for entry in entries {
        let id = entry["erasure_id"].as_str().unwrap_or_default();
        assert!(id.starts_with("retention-"), "{audit}");
    }
    updated_rows_come_back_and_no_file_holds_the_purged(&ws, server);
}

/// At the size of a real export, freed pages of the store file keep the
/// bytes of what a purge deleted until the file is rewritten: an offline
/// `rapport retention run` rewrites it before it ends, so no file of the
/// data directory holds a purged person's email.
#[test]
fn a_large_purge_leaves_no_purged_email_in_the_store_file() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path().join("crm")).unwrap();
    let mut csv = String::from("id,kind,name,email,updated\n");
    for i in 0..3000 {
        csv.push_str(&format!(
            "p{i},person,Person Number{i},number{i:05}@purged.example,2015-01-01T00:00:00Z\n"
        ));
    }
    std::fs::write(ws.path().join("crm/people.csv"), csv).unwrap();
    std::fs::write(
        ws.config(),
        "data_dir = \"store\"\n[retention]\ninactive_days = 730\n\
         [[sources]]\nname = \"crm\"\nconnector = \"generic-csv\"\npath = \"crm\"\n",
    )
    .unwrap();
    ws.ingest();
    let out = ws.run(&["retention", "run", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["total"], 3000, "{run}");
    for needle in [&b"number02999@purged.example"[..], &b"number00000"[..]] {
        let holding = files_holding(&ws.path().join("store"), needle);
        assert!(
            holding.is_empty(),
            "{} still in {holding:?}",
            String::from_utf8_lossy(needle)
        );
    }
}

/// An erasure on a running server rewrites the store file before it
/// answers (writers wait meanwhile, readers do not), so no file of the data
/// directory holds an erased person's email while the server goes on
/// running, and the server keeps reading and writing on the new file. The
/// rewrite is in the audit log. (An account purge of a few hundred people
/// frees enough pages that some keep their bytes without the rewrite.)
#[test]
fn an_erasure_on_a_running_server_leaves_no_file_holding_the_person() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path().join("crm")).unwrap();
    let mut csv = String::from("id,kind,name,email,company\n");
    csv.push_str("acct,organization,Quillon Industries,,\n");
    for i in 0..3000 {
        let company = if i < 600 { "Quillon Industries" } else { "" };
        csv.push_str(&format!(
            "p{i},person,Person Number{i},number{i:05}@erased.example,{company}\n"
        ));
    }
    std::fs::write(ws.path().join("crm/people.csv"), csv).unwrap();
    std::fs::write(
        ws.config(),
        "data_dir = \"store\"\n\
         [[sources]]\nname = \"crm\"\nconnector = \"generic-csv\"\npath = \"crm\"\n",
    )
    .unwrap();
    ws.ingest();
    let server = ws.serve();
    // The purged people's numbers whose email some file holds (one pass
    // over each file's bytes and over every zstd frame in it).
    let numbers_in = |bytes: &[u8], found: &mut std::collections::BTreeSet<u32>| {
        let suffix = b"@erased.example";
        for at in 11..bytes.len().saturating_sub(suffix.len()) {
            if &bytes[at..at + suffix.len()] == suffix && &bytes[at - 11..at - 5] == b"number" {
                let digits = std::str::from_utf8(&bytes[at - 5..at]).unwrap_or("");
                if let Ok(n) = digits.parse::<u32>()
                    && n < 600
                {
                    found.insert(n);
                }
            }
        }
    };
    let holding = |dir: &std::path::Path| -> std::collections::BTreeSet<u32> {
        let mut found = std::collections::BTreeSet::new();
        for_each_content(dir, |_, content| numbers_in(content, &mut found));
        found
    };
    let store_dir = ws.path().join("store");
    assert_eq!(
        holding(&store_dir).len(),
        600,
        "the premise: the store holds their emails before the erasure"
    );
    let account = customer_of(&server, "crm:acct");
    let (status, body) = server.post(
        "/v1/erasures",
        &serde_json::json!({"customer_id": account, "reason": "account closed", "organisation": true})
            .to_string(),
    );
    assert_eq!(status, 201, "{body}");
    let left = holding(&store_dir);
    assert!(
        left.is_empty(),
        "{} purged emails still in a file, e.g. number{:05}",
        left.len(),
        left.first().unwrap_or(&0)
    );

    let (status, audit) = server.get("/v1/audit?action=store.rewrite");
    assert_eq!(status, 200, "{audit}");
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert!(entries[0]["bytes_after"].as_u64().unwrap() > 0, "{audit}");
    assert!(
        entries[0]["disk_bytes_after"].as_u64().unwrap() > 0,
        "{audit}"
    );
    for timing in ["copy_ms", "writers_waited_ms", "rows_caught_up"] {
        assert!(entries[0][timing].is_u64(), "{timing}: {audit}");
    }
    // The server goes on, on the new file: reads, then a write read back.
    assert_eq!(server.search("number01235@erased.example")["total"], 1);
    let other = customer_of(&server, "crm:p2007");
    let (status, note) = server.post(
        "/v1/notes",
        &serde_json::json!({"customer_id": other, "text": "quillfeather follow-up"}).to_string(),
    );
    assert_eq!(status, 201, "{note}");
    assert_eq!(server.search("quillfeather")["total"], 1);
    drop(server);
    // A restart finds nothing left to rewrite and the emails still gone.
    let server = ws.serve();
    let (_, audit) = server.get("/v1/audit?action=store.rewrite");
    assert_eq!(audit["entries"].as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(server.search("quillfeather")["total"], 1);
    assert!(holding(&store_dir).is_empty());
}
