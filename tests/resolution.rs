//! The single customer view, end to end: a labelled fixture of two CRM
//! exports and notes is ingested, resolution is measured pairwise against
//! the labels (precision, recall and F1 printed for people and for
//! organisations), and customer pages, timelines, the quality report and
//! steward overrides are exercised over HTTP.

use crate::common;

use std::collections::HashMap;

use common::{Workspace, copy_dir, hit_ids, repo};

fn workspace() -> Workspace {
    let ws = Workspace::new();
    copy_dir(
        &repo().join("tests/fixtures/resolution"),
        &ws.path().join("in"),
    );
    ws.write_config(&[
        ("crm", "generic-csv", "in/crm"),
        ("hs", "generic-csv", "in/hs"),
        ("notes", "notes", "in/notes"),
    ]);
    ws
}

/// Pairwise precision, recall and F1 of `predicted` against `truth`.
fn pairwise(items: &[(String, String)]) -> (f64, f64, f64) {
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for (i, (truth_a, pred_a)) in items.iter().enumerate() {
        for (truth_b, pred_b) in &items[i + 1..] {
            match (truth_a == truth_b, pred_a == pred_b) {
                (true, true) => tp += 1.0,
                (false, true) => fp += 1.0,
                (true, false) => fn_ += 1.0,
                _ => {}
            }
        }
    }
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 1.0 };
    let recall = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 1.0 };
    (
        precision,
        recall,
        2.0 * precision * recall / (precision + recall),
    )
}

#[test]
fn resolution_quality_on_the_labelled_fixture() {
    let ws = workspace();
    ws.ingest();
    let out = ws.run(&["customers", "export", "--format", "ndjson"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut predicted: HashMap<String, String> = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let customer: serde_json::Value = serde_json::from_str(line).unwrap();
        for m in customer["members"].as_array().unwrap() {
            let id = format!(
                "{}:{}",
                m["source"].as_str().unwrap(),
                m["external_id"].as_str().unwrap()
            );
            predicted.insert(id, m["entity"].as_str().unwrap().to_string());
        }
    }
    let mut people = Vec::new();
    let mut orgs = Vec::new();
    for (source, file) in [("crm", "in/crm/accounts.csv"), ("hs", "in/hs/contacts.csv")] {
        let text = std::fs::read_to_string(ws.path().join(file)).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for row in reader.records() {
            let row = row.unwrap();
            let id = format!("{source}:{}", &row[0]);
            let entity = predicted
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("missing {id}"));
            let pair = (row[row.len() - 1].to_string(), entity);
            if &row[1] == "person" {
                people.push(pair)
            } else {
                orgs.push(pair)
            }
        }
    }
    let (pp, pr, pf) = pairwise(&people);
    let (op, or, of) = pairwise(&orgs);
    println!(
        "people:        precision {pp:.3} recall {pr:.3} F1 {pf:.3} ({} records)",
        people.len()
    );
    println!(
        "organisations: precision {op:.3} recall {or:.3} F1 {of:.3} ({} records)",
        orgs.len()
    );
    assert_eq!(pp, 1.0, "a person was merged with someone else: {people:?}");
    assert_eq!(op, 1.0, "an organisation was merged with another: {orgs:?}");
    assert!(
        pr >= 0.99 && or >= 0.99,
        "missed links: people {people:?} orgs {orgs:?}"
    );
}

#[test]
fn customer_pages_timelines_quality_and_steward_overrides_over_http() {
    let ws = workspace();
    let server = ws.serve();

    // Search hits carry the customer, and IBM's spellings are one customer.
    let hits = server.get("/v1/search?q=jon.smith%40ibm.com&group=none").1;
    let hit = &hits["hits"][0];
    let ibm = hit["customer_id"].as_str().unwrap().to_string();
    assert!(ibm.starts_with("org_"), "{hits}");
    assert!(
        hit["person_id"].as_str().unwrap().starts_with("per_"),
        "{hits}"
    );
    assert_eq!(hit["org_id"], hit["customer_id"]);

    let (status, page) = server.get(&format!("/v1/customers/{ibm}"));
    assert_eq!(status, 200, "{page}");
    let names: Vec<&str> = page["golden"]["fields"]["name"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    for n in ["IBM", "I.B.M. Corp.", "International Business Machines"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let records: Vec<&str> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for r in [
        "crm:O1",
        "hs:H1",
        "hs:H2",
        "crm:P1",
        "hs:H4",
        "notes:ibm-call.md",
    ] {
        assert!(records.contains(&r), "{r} missing: {records:?}");
    }
    assert!(
        !records.contains(&"hs:H7"),
        "the other Jon Smith is not IBM's"
    );
    let evidence = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "hs:H4")
        .unwrap()["evidence"]
        .to_string();
    assert!(
        evidence.contains("email shared") && evidence.contains("crm:P1"),
        "{evidence}"
    );
    assert_eq!(page["people"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["metrics"]["interactions"], 1);

    let (status, timeline) = server.get(&format!("/v1/customers/{ibm}/timeline?kind=note"));
    assert_eq!(status, 200, "{timeline}");
    assert_eq!(timeline["items"][0]["external_id"], "ibm-call.md");
    let (status, err) = server.get(&format!("/v1/customers/{ibm}/timeline?from=yesterday"));
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("invalid_parameter"))
    );
    assert_eq!(server.get("/v1/customers/org_nope").0, 404);

    // Near names are listed for a steward, not merged: Brightwell looks like
    // Brightwater. (Ann Lee and Anne Leigh, with two different addresses and
    // nothing else in common, weigh too little to list.)
    let (_, quality) = server.get("/v1/quality");
    let suspects = quality["suspected_duplicates"].as_array().unwrap();
    let suspect = |words: &str| {
        suspects.iter().find(|s| {
            s["evidence"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains(words)
        })
    };
    let bright = suspect("brightwell").unwrap_or_else(|| panic!("{quality}"));
    let (a, b) = (
        bright["a"].as_str().unwrap().to_string(),
        bright["b"].as_str().unwrap().to_string(),
    );

    // Merge them; both ids then resolve to one customer, and search follows.
    let (status, merged) = server.post(
        "/v1/customers/merge",
        &format!(r#"{{"ids": ["{a}", "{b}"]}}"#),
    );
    assert_eq!(status, 200, "{merged}");
    let (_, via_b) = server.get(&format!("/v1/customers/{b}"));
    assert_eq!(
        via_b["id"], merged["id"],
        "the merged-away id keeps resolving"
    );
    let bw = server.get("/v1/search?q=Brightwell&group=none").1;
    assert_eq!(bw["hits"][0]["customer_id"], merged["id"], "{bw}");

    // Never merge: they come apart again and stay apart.
    let (status, apart) = server.post(
        "/v1/customers/never-merge",
        &format!(r#"{{"ids": ["{a}", "{b}"]}}"#),
    );
    assert_eq!(status, 200, "{apart}");
    let (_, again_b) = server.get(&format!("/v1/customers/{b}"));
    assert_ne!(again_b["id"], apart["id"]);

    // Split H2 out of IBM.
    let (status, split) = server.post(
        &format!("/v1/customers/{ibm}/split"),
        r#"{"records": ["hs:H2"]}"#,
    );
    assert_eq!(status, 200, "{split}");
    let ids: Vec<&str> = split["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"hs:H2") && ids.contains(&"hs:H1"), "{ids:?}");
    // The split's audit entry names the customer H2 left and the one it
    // now makes (never the record id, which may be an address), so
    // `/v1/audit?customer_id=` of the new customer finds what made it.
    let h2 = server.get("/v1/search?q=*&group=none&filter.id=hs%3AH2").1;
    let made = h2["hits"][0]["customer_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!made.is_empty() && made != ibm, "{h2}");
    let (_, by_new) = server.get(&format!("/v1/audit?customer_id={made}"));
    let splits: Vec<&serde_json::Value> = by_new["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "split")
        .collect();
    assert_eq!(splits.len(), 1, "{by_new}");
    let targets = splits[0]["targets"].to_string();
    assert!(
        targets.contains(&ibm) && !targets.contains("H2"),
        "{targets}"
    );
    let (status, bad) = server.post(
        &format!("/v1/customers/{ibm}/split"),
        r#"{"records": ["crm:O3"]}"#,
    );
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );
    assert!(
        hit_ids(&server.search("International Business Machines")).contains(&"hs:H2".to_string())
    );
}

#[test]
fn unattached_records_are_counted_listed_and_attached_by_a_steward() {
    let ws = Workspace::with_examples();
    let note = ws.path().join("data/notes/mystery-call.md");
    std::fs::write(&note, "Call from a prospect\nThey want a demo next week.\n").unwrap();
    let server = ws.serve();

    let (status, quality) = server.get("/v1/quality");
    assert_eq!(status, 200, "{quality}");
    assert_eq!(
        quality["unattached"],
        serde_json::json!([{"source": "notes", "reason": "no reference, company, correspondent or mention names a customer", "count": 1}]),
        "{quality}"
    );
    let (status, list) = server.get("/v1/quality/unattached?source=notes");
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["records"][0]["record"], "notes:mystery-call.md");
    assert_eq!(list["records"][0]["kind"], "note");
    let (status, _) = server.get("/v1/quality/unattached?limit=0");
    assert_eq!(status, 400);

    let (_, found) = server.get("/v1/search?q=acme+robotics");
    let acme = found["customers"][0]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, refused) = server.post(
        &format!("/v1/customers/{acme}/attach"),
        r#"{"records": ["crm:PER-001"]}"#,
    );
    assert_eq!(status, 400, "a person is merged, not attached: {refused}");
    let (status, page) = server.post(
        &format!("/v1/customers/{acme}/attach"),
        r#"{"records": ["notes:mystery-call.md"]}"#,
    );
    assert_eq!(status, 200, "{page}");
    let attached = |page: &serde_json::Value| {
        page["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "notes:mystery-call.md")
            .map(|r| r["evidence"].clone())
    };
    assert_eq!(
        attached(&page),
        Some(serde_json::json!(["attached by a steward"])),
        "{page}"
    );
    assert_eq!(
        server.get("/v1/quality").1["unattached"],
        serde_json::json!([])
    );

    // The override survives the note's re-ingest and a full reindex.
    std::fs::write(&note, "Call from a prospect\nThey want a demo on Friday.\n").unwrap();
    let (status, job) = server.post("/v1/reindex", "{}");
    assert_eq!(status, 202, "{job}");
    let job_path = format!("/v1/jobs/{}", job["id"].as_str().unwrap());
    assert!(
        server.wait_for(
            std::time::Duration::from_secs(60),
            |s| s.get(&job_path).1["state"] == "succeeded"
        ),
        "the reindex did not finish"
    );
    let hits = server.search("friday");
    assert_eq!(hits["hits"][0]["id"], "notes:mystery-call.md", "{hits}");
    assert_eq!(hits["hits"][0]["customer_id"], acme.as_str(), "{hits}");
    let page = server.get(&format!("/v1/customers/{acme}")).1;
    assert!(attached(&page).is_some(), "{page}");
}

#[test]
fn planted_data_problems_are_flagged_counted_and_listed() {
    let ws = Workspace::new();
    let crm = ws.path().join("in/crm");
    std::fs::create_dir_all(&crm).unwrap();
    std::fs::write(
        crm.join("export.csv"),
        "id,kind,name,company,email,country,created,updated,closeddate,probability,quantity\n\
         A1,organization,Acme Robotics Inc.,,,US,2021-01-01,,,,\n\
         P1,person,Smith Jon,Acme Robotics Inc.,jon.smith@acme.example,US,,,,,\n\
         P2,person,Ann Lee,Acme Robotics Inc.,ann@@acme.example,Deutschland,,,,,\n\
         P3,person,Keiko Tanaka,Acme Robotics Inc.,keiko.tanaka@acme.example,U.S.A.,,,,,\n\
         C1,case,Broken arm,Acme Robotics Inc.,,,2024-05-10,,2024-05-02,,\n\
         O1,opportunity,Big deal,Acme Robotics Inc.,,,2024-01-01,2099-01-01,,120%,-2\n\
         O2,opportunity,Fine deal,Acme Robotics Inc.,,,2024-01-01,2024-02-01,2024-02-01,60,3\n",
    )
    .unwrap();
    ws.write_config(&[("crm", "generic-csv", "in/crm")]);
    let server = ws.serve();
    let (status, list) = server.get("/v1/quality/records?limit=100");
    assert_eq!(status, 200, "{list}");
    let mut flagged: Vec<(String, String)> = list["records"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["issues"].as_array().unwrap().iter().map(move |i| {
                (
                    r["record"].as_str().unwrap().to_string(),
                    i["field"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect();
    flagged.dedup();
    let expected: Vec<(String, String)> = [
        ("crm:P1", "names"),
        ("crm:P2", "emails"),
        ("crm:C1", "closeddate"),
        ("crm:O1", "updated"),
        ("crm:O1", "probability"),
        ("crm:O1", "quantity"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    for e in &expected {
        assert!(flagged.contains(e), "{e:?} not flagged: {list}");
    }
    // Nothing else: countries written out and the fine deal raise no alarm.
    assert_eq!(flagged.len(), expected.len(), "{list}");
    let (_, only) = server.get("/v1/quality/records?field=closeddate");
    assert_eq!(only["total"], 1, "{only}");
    assert_eq!(only["records"][0]["record"], "crm:C1");
    let (_, report) = server.get("/v1/quality");
    let count = |field: &str| {
        report["issues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["field"] == field)
            .map(|i| i["count"].as_u64().unwrap())
    };
    assert_eq!(count("quantity"), Some(1), "{report}");
    assert_eq!(count("country"), None, "{report}");
    let (status, _) = server.get("/v1/quality/records?mood=1");
    assert_eq!(status, 400);
}

#[test]
fn company_names_as_staff_type_them_find_the_customer() {
    let ws = Workspace::new();
    let crm = ws.path().join("in/crm");
    std::fs::create_dir_all(&crm).unwrap();
    std::fs::write(
        crm.join("export.csv"),
        "id,kind,name,company,email,country,description\n\
         O1,organization,International Business Machines Corporation,,info@ibm.example,US,Mainframes\n\
         O2,organization,日東精機株式会社,,info@nitto.example,JP,精密部品\n\
         O3,organization,Müller Straßenbau GmbH,,info@mueller-bau.example,DE,Tiefbau\n\
         P1,person,Jörg Jäger,Müller Straßenbau GmbH,j.jaeger@mueller-bau.example,DE,Bauleiter\n\
         T1,opportunity,Mainframe renewal,International Business Machines Corporation,,US,Renewal\n",
    )
    .unwrap();
    ws.write_config(&[("crm", "generic-csv", "in/crm")]);
    ws.ingest();
    let top = |q: &str| {
        let found = ws.search_grouped(q);
        found["customers"][0]["name"]
            .as_str()
            .unwrap_or_else(|| panic!("`{q}` found no customer: {found}"))
            .to_string()
    };
    for q in [
        "I.B.M.",
        "IBM",
        "IBM Corp.",
        "International Business Machines Inc",
    ] {
        assert_eq!(top(q), "International Business Machines Corporation", "{q}");
    }
    for q in ["(株)日東精機", "日東精機 K.K.", "Nitto 株式会社 精密部品"] {
        assert_eq!(top(q), "日東精機株式会社", "{q}");
    }
    for q in ["Mueller Strassenbau", "Muller", "Jaeger", "Jager", "Joerg"] {
        assert_eq!(top(q), "Müller Straßenbau GmbH", "{q}");
    }
}

#[test]
fn the_quality_report_shows_what_em_estimated_when_the_weights_ask_for_it() {
    let ws = workspace();
    let sources = [
        ("crm", "generic-csv", "in/crm"),
        ("hs", "generic-csv", "in/hs"),
        ("notes", "notes", "in/notes"),
    ];
    // Hand weights (the default): nothing is estimated, nothing shown.
    ws.ingest();
    let out = ws.run(&["quality", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.get("model").is_none(), "{report}");

    // Estimated: the settings changed, so the server's start resolves again
    // in full, and the report carries EM's m and u for each level.
    ws.write_config_with(&sources, "[resolve]\nweights = \"estimate\"\n");
    let server = ws.serve();
    let (status, quality) = server.get("/v1/quality");
    assert_eq!(status, 200, "{quality}");
    let model = &quality["model"];
    assert!(
        model["blocking"].as_object().is_some_and(|b| !b.is_empty()),
        "{quality}"
    );
    assert_eq!(model["people_weights_estimated"], false, "{quality}");
    for name in ["organisations", "people"] {
        let levels: Vec<&serde_json::Value> = model[name]["features"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {quality}"))
            .iter()
            .flat_map(|f| f["levels"].as_array().into_iter().flatten())
            .collect();
        assert!(!levels.is_empty(), "{name}: {quality}");
        for level in levels {
            for p in ["m", "u"] {
                let v = level[p].as_f64().unwrap_or(-1.0);
                assert!((0.0..=1.0).contains(&v), "{name} {p}: {level}");
            }
        }
    }
}
