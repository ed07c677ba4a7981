//! The steward's queue of suspected duplicates over HTTP: most likely first
//! (a rare shared name above a common one, names above near names), filtered
//! by kind and score, paged stably, and the same order in `/v1/quality` and
//! in `rapport quality --duplicates` (with or without a server).

mod common;

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
