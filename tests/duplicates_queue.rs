//! The steward's queue of suspected duplicates over HTTP: most likely first
//! (a rare shared name above a common one, names above near names), filtered
//! by kind and score, paged stably, and the same order in `/v1/quality`.

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

#[test]
fn suspected_duplicates_come_most_likely_first_filtered_and_paged() {
    let ws = Workspace::new();
    ws.write_file("in/crm/crm.csv", CRM);
    ws.write_config(&[("crm", "generic-csv", "in/crm")]);
    ws.ingest();
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
