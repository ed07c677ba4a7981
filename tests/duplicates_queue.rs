//! The steward's queue of suspected duplicates over HTTP: most likely first
//! (a rare shared name above a common one, names above near names), filtered
//! by kind and score, paged stably, and the same order in `/v1/quality` and
//! in `rapport quality --duplicates` (with or without a server).

use crate::common;

use common::Workspace;
use serde_json::Value;

const CRM: &str = "\
id,kind,name,company,email,phone,city
O3,organization,Northwind Traders LLC,,,,Austin
O4,organization,Nortwind Traders,,,,Austin
P1,person,Carlos Johnson,Acme Robotics,,,
P2,person,Carlos Johnson,Globex Corp,,,
P3,person,Carlos Johnson,Initech,,,
P4,person,Carlos Johnson,Umbrella Health,,,
P5,person,Ottilie Zwicklbauer,Hooli,,,
P6,person,Ottilie Zwicklbauer,Vandelay Imports,,,
";

fn pairs(answer: &Value, key: &str) -> Vec<(String, String, f64)> {
    answer[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}: {answer}"))
        .iter()
        .map(|p| {
            (
                p["a"].as_str().unwrap().to_string(),
                p["b"].as_str().unwrap().to_string(),
                p["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// The (a, b) ids of `rapport quality --duplicates`' CSV.
fn csv_pairs(out: &std::process::Output) -> Vec<(String, String)> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            (row[0].to_string(), row[1].to_string())
        })
        .collect()
}

#[test]
fn suspected_duplicates_come_most_likely_first_filtered_and_paged() {
    let ws = Workspace::new();
    ws.write_file("in/crm/crm.csv", CRM);
    ws.write_config(&[("crm", "generic-csv", "in/crm")]);
    ws.ingest();
    // The command line, with no server: the same queue as CSV.
    let local_csv = csv_pairs(&ws.run(&["quality", "--duplicates"]));
    assert_eq!(local_csv.len(), 8, "{local_csv:?}");
    let people_csv = csv_pairs(&ws.run(&["quality", "--duplicates", "--kind", "person"]));
    assert_eq!(people_csv.len(), 7);
    let server = ws.serve();

    let (status, all) = server.get("/v1/quality/duplicates");
    assert_eq!(status, 200, "{all}");
    let listed = pairs(&all, "duplicates");
    // Four namesakes make six pairs, two rarer namesakes one, the near
    // company names one.
    assert_eq!((all["total"].as_u64(), listed.len()), (Some(8), 8), "{all}");
    let scores: Vec<f64> = listed.iter().map(|p| p.2).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let evidence = all["duplicates"][0]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("Zwicklbauer"),
        "the rarest name first: {all}"
    );

    let (_, quality) = server.get("/v1/quality");
    assert_eq!(pairs(&quality, "suspected_duplicates"), listed);

    let (_, people) = server.get("/v1/quality/duplicates?kind=person");
    let (_, orgs) = server.get("/v1/quality/duplicates?kind=organization");
    assert_eq!(
        (people["total"].as_u64(), orgs["total"].as_u64()),
        (Some(7), Some(1))
    );
    assert!(
        pairs(&people, "duplicates")
            .iter()
            .all(|(a, b, _)| a.starts_with("per_") && b.starts_with("per_"))
    );
    assert!(
        pairs(&orgs, "duplicates")
            .iter()
            .all(|(a, b, _)| a.starts_with("org_") && b.starts_with("org_"))
    );
    let top = scores[0];
    let (_, strong) = server.get(&format!("/v1/quality/duplicates?min_score={top}"));
    assert_eq!(strong["total"].as_u64(), Some(1), "{strong}");

    let (_, first) = server.get("/v1/quality/duplicates?limit=3");
    let (_, rest) = server.get("/v1/quality/duplicates?offset=3&limit=10");
    let mut paged = pairs(&first, "duplicates");
    paged.extend(pairs(&rest, "duplicates"));
    assert_eq!(paged, listed, "two pages are the whole list, in order");
    assert_eq!(first["total"].as_u64(), Some(8));

    // Through the server, the command line pages the same list.
    let served_csv = csv_pairs(&ws.run(&["quality", "--duplicates"]));
    assert_eq!(served_csv, local_csv);
    let ids: Vec<(String, String)> = listed
        .iter()
        .map(|(a, b, _)| (a.clone(), b.clone()))
        .collect();
    assert_eq!(served_csv, ids, "the CSV is the API's order");

    for (query, code) in [
        ("kind=company", "invalid_parameter"),
        ("min_score=high", "invalid_parameter"),
        ("limit=0", "invalid_parameter"),
        ("source=crm", "unknown_parameter"),
    ] {
        let (status, answer) = server.get(&format!("/v1/quality/duplicates?{query}"));
        assert_eq!(status, 400, "{query}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{query}: {answer}");
    }
    let (_, unknown) = server.get("/v1/quality/duplicates?source=crm");
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("kind, min_score"),
        "{unknown}"
    );
}

/// The quality report's issue counts and the flagged records are kept
/// between looks (finding them reads every record) but follow every change:
/// a file dropped into a watched folder with a malformed email shows in the
/// next report and list.
#[test]
fn the_quality_report_follows_changes_between_looks() {
    let ws = Workspace::new();
    ws.write_file("in/crm/crm.csv", CRM);
    let config = "data_dir = \"store\"\n[[sources]]\nname = \"crm\"\nconnector = \"generic-csv\"\npath = \"in/crm\"\nwatch = true\n";
    std::fs::write(ws.config(), config).unwrap();
    ws.ingest();
    let server = ws.serve();
    let emails = |s: &common::Server| -> u64 {
        let (status, report) = s.get("/v1/quality");
        assert_eq!(status, 200, "{report}");
        report["issues"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["field"] == "emails")
            .filter_map(|i| i["count"].as_u64())
            .sum()
    };
    let flagged =
        |s: &common::Server| s.get("/v1/quality/records?field=emails").1["total"].as_u64();
    let flagged_before = flagged(&server);
    let before = emails(&server);
    assert_eq!(
        emails(&server),
        before,
        "a second look, from the kept counts"
    );
    ws.write_file(
        "in/crm/more.csv",
        "id,kind,name,company,email\nP9,person,Mia Broken,Hooli,mia@@hooli\n",
    );
    let timeout = std::time::Duration::from_secs(20);
    assert!(
        server.wait_for(timeout, |s| emails(s) > before),
        "the malformed email never showed: {}",
        server.get("/v1/quality").1
    );
    assert!(
        flagged(&server) > flagged_before,
        "the list of flagged records follows too"
    );
}

/// A generated book with namesakes: (name, how many different people bear
/// it, each at a company of their own).
const NAMESAKES: &[(&str, usize)] = &[
    ("Carlos Johnson", 5),
    ("Maria Garcia", 3),
    ("Ottilie Zwicklbauer", 2),
];
/// One person written twice with a typo in the name, in the same city:
/// evidence beyond a shared name, so a pair of its own.
const TYPO: (&str, &str, &str) = ("Jonathan Whitfield", "Jonathon Whitfield", "Leeds");

fn namesake_book() -> String {
    let companies = [
        "Acme Robotics",
        "Globex Corp",
        "Initech",
        "Umbrella Health",
        "Hooli",
        "Vandelay Imports",
    ];
    let mut csv = String::from("id,kind,name,company,email,phone,city\n");
    let mut n = 0;
    for (name, people) in NAMESAKES {
        for i in 0..*people {
            n += 1;
            csv.push_str(&format!(
                "P{n},person,{name},{},,,\n",
                companies[i % companies.len()]
            ));
        }
    }
    csv.push_str(&format!("T1,person,{},,,,{}\n", TYPO.0, TYPO.2));
    csv.push_str(&format!("T2,person,{},,,,{}\n", TYPO.1, TYPO.2));
    csv
}

/// The grouped items of `GET /v1/quality/duplicates?view=grouped&kind=person`.
fn grouped(server: &common::Server) -> Value {
    let (status, answer) = server.get("/v1/quality/duplicates?view=grouped&kind=person");
    assert_eq!(status, 200, "{answer}");
    answer
}

fn group_named<'a>(answer: &'a Value, name: &str) -> Option<&'a Value> {
    answer["items"]
        .as_array()?
        .iter()
        .find(|i| i["type"] == "name_group" && i["name"] == name)
}

fn ids(group: &Value) -> Vec<String> {
    group["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// The grouped queue holds what the book's truth says: one group per name
/// borne by different people (with their companies and what differs), the
/// typo'd person as a pair, the rare small group above the common large
/// one; a group's "different people" records never-merge for its pairs in
/// one audited action and takes the group out of the queue, and merging
/// two customers of a group settles it too.
#[test]
fn namesakes_are_grouped_by_name_and_a_group_is_decided_in_one_action() {
    let ws = Workspace::new();
    ws.write_file("in/crm/crm.csv", &namesake_book());
    ws.write_config(&[("crm", "generic-csv", "in/crm")]);
    ws.ingest();
    let server = ws.serve();

    let (_, plain) = server.get("/v1/quality/duplicates?kind=person");
    let (_, pairs_view) = server.get("/v1/quality/duplicates?kind=person&view=pairs");
    assert_eq!(plain, pairs_view, "the plain list stays the default");
    let expected_pairs: usize = NAMESAKES
        .iter()
        .map(|(_, n)| n * (n - 1) / 2)
        .sum::<usize>()
        + 1;
    assert_eq!(
        plain["total"].as_u64(),
        Some(expected_pairs as u64),
        "{plain}"
    );

    let answer = grouped(&server);
    assert_eq!(
        answer["total"].as_u64(),
        Some(NAMESAKES.len() as u64 + 1),
        "one item per name and the typo pair: {answer}"
    );
    assert_eq!(answer["pairs"].as_u64(), Some(expected_pairs as u64));
    assert_eq!(answer["name_groups"].as_u64(), Some(NAMESAKES.len() as u64));
    for (name, people) in NAMESAKES {
        let group = group_named(&answer, name).unwrap_or_else(|| panic!("no {name}: {answer}"));
        assert_eq!(ids(group).len(), *people, "{group}");
        assert_eq!(group["companies"].as_u64(), Some(*people as u64), "{group}");
        assert_eq!(
            group["pairs"].as_array().unwrap().len(),
            people * (people - 1) / 2
        );
        assert!(
            group["differs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "company"),
            "{group}"
        );
        for c in group["customers"].as_array().unwrap() {
            assert_eq!(c["sources"], serde_json::json!(["crm"]), "{c}");
            assert!(c["company"].is_string(), "{c}");
        }
    }
    let pairs: Vec<&Value> = answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "pair")
        .collect();
    assert_eq!(pairs.len(), 1, "{answer}");
    assert!(
        pairs[0]["evidence"].as_str().unwrap().contains("Whitfield"),
        "{answer}"
    );
    let scores: Vec<f64> = answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let position = |name: &str| {
        answer["items"]
            .as_array()
            .unwrap()
            .iter()
            .position(|i| i["name"] == name)
    };
    assert!(
        position("Ottilie Zwicklbauer") < position("Carlos Johnson"),
        "two bearers of a rare name before five of a common one: {answer}"
    );
    // Paged like the plain list.
    let (_, first) = server.get("/v1/quality/duplicates?view=grouped&kind=person&limit=2");
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["items"][0], answer["items"][0]);
    let (status, bad) = server.get("/v1/quality/duplicates?view=groups");
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("invalid_parameter"))
    );

    // "Different people" for the five Carlos Johnsons: one request.
    let carlos = ids(group_named(&answer, "Carlos Johnson").unwrap());
    let body = serde_json::json!({ "ids": carlos }).to_string();
    let (status, page) = server.post("/v1/customers/never-merge", &body);
    assert_eq!(status, 200, "{page}");
    let after = grouped(&server);
    assert!(group_named(&after, "Carlos Johnson").is_none(), "{after}");
    assert_eq!(after["total"].as_u64(), Some(NAMESAKES.len() as u64));
    assert_eq!(after["pairs"].as_u64(), Some(expected_pairs as u64 - 10));
    let (_, audit) = server.get("/v1/audit?action=never_merge");
    assert_eq!(
        audit["entries"].as_array().map(Vec::len),
        Some(1),
        "one decision, one audit entry: {audit}"
    );
    // The entry names the customers decided on, so a security officer can
    // answer "who kept these apart" (`/v1/audit?customer_id=` finds it).
    let targets = &audit["entries"][0]["targets"];
    for id in &carlos {
        assert!(
            targets
                .as_array()
                .is_some_and(|t| t.iter().any(|v| v == id)),
            "{id} missing from the never-merge entry's targets: {audit}"
        );
    }
    let (_, about_one) = server.get(&format!("/v1/audit?customer_id={}", carlos[0]));
    assert!(
        about_one["entries"]
            .as_array()
            .is_some_and(|e| e.iter().any(|x| x["action"] == "never_merge")),
        "{about_one}"
    );
    let (_, report) = server.get("/v1/quality");
    assert_eq!(
        report["suspected_duplicates"].as_array().map(Vec::len),
        Some(expected_pairs - 10),
        "the report's list follows the decision"
    );

    // Merging two of a group is the other decision.
    let ottilie = ids(group_named(&after, "Ottilie Zwicklbauer").unwrap());
    let body = serde_json::json!({ "ids": ottilie }).to_string();
    let (status, page) = server.post("/v1/customers/merge", &body);
    assert_eq!(status, 200, "{page}");
    let (_, audit) = server.get("/v1/audit?action=merge");
    assert_eq!(
        audit["entries"][0]["targets"],
        serde_json::json!(ottilie),
        "the merge's entry names both customers: {audit}"
    );
    let merged = grouped(&server);
    assert!(
        group_named(&merged, "Ottilie Zwicklbauer").is_none(),
        "{merged}"
    );
    assert!(group_named(&merged, "Maria Garcia").is_some(), "{merged}");

    // The command line shows the same items, from the server.
    let out = ws.run(&["quality", "--duplicates", "--grouped", "--kind", "person"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len() as u64, merged["total"].as_u64().unwrap());
    assert!(
        rows.iter()
            .any(|r| &r[1] == "name_group" && &r[4] == "Maria Garcia" && &r[5] == "3"),
        "{rows:?}"
    );
}
