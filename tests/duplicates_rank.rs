//! The steward's queue ranked over HTTP (a real server over a real store,
//! on a generated book of namesakes): the groups whose likeliest pair has
//! evidence beyond the name come first, each item says why, a group lists
//! its likeliest pair's customers first, and pages (`offset`/`limit`) are
//! stable and add up to the whole queue.

use crate::common;

use common::Workspace;
use serde_json::Value;

const GIVEN: &[&str] = &["Maren", "Tobias", "Ines", "Rafe"];
const FAMILY: &[&str] = &["Oakhurst", "Brindle", "Calloway"];
const COMPANIES: &[&str] = &["Acme Robotics", "Globex Corp", "Initech"];

/// Every name is borne by three customers, so each weighs the same. Two
/// "planted" names have one of the three in the help desk (no company);
/// every other name's three are all in the CRM, at different companies.
const PLANTED: &[&str] = &["Ines Brindle", "Rafe Calloway"];

/// The CRM's and the help desk's CSVs.
fn book() -> (String, String) {
    let header = "id,kind,name,company,email,phone,city\n";
    let (mut crm, mut desk) = (header.to_string(), header.to_string());
    let mut n = 0;
    for family in FAMILY {
        for given in GIVEN {
            let name = format!("{given} {family}");
            for (i, company) in COMPANIES.iter().enumerate() {
                n += 1;
                if i == 2 && PLANTED.contains(&name.as_str()) {
                    desk.push_str(&format!("H{n},person,{name},,,,\n"));
                } else {
                    crm.push_str(&format!("P{n},person,{name},{company},,,\n"));
                }
            }
        }
    }
    (crm, desk)
}

fn items(answer: &Value) -> &Vec<Value> {
    answer["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {answer}"))
}

/// The help desk's record ids of a group's customer.
fn in_desk(customer: &Value) -> bool {
    customer["sources"]
        .as_array()
        .is_some_and(|s| s.iter().any(|x| x == "desk"))
}

#[test]
fn the_likeliest_groups_come_first_say_why_and_page_stably() {
    let ws = Workspace::new();
    let (crm, desk) = book();
    ws.write_file("in/crm/crm.csv", &crm);
    ws.write_file("in/desk/desk.csv", &desk);
    ws.write_config(&[
        ("crm", "generic-csv", "in/crm"),
        ("desk", "generic-csv", "in/desk"),
    ]);
    ws.ingest();
    let server = ws.serve();

    let (status, all) = server.get("/v1/quality/duplicates?view=grouped&kind=person");
    assert_eq!(status, 200, "{all}");
    let names = GIVEN.len() * FAMILY.len();
    assert_eq!(all["total"].as_u64(), Some(names as u64), "{all}");
    let list = items(&all);
    let scores: Vec<f64> = list.iter().map(|i| i["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    for item in list {
        assert_eq!(item["type"], "name_group", "{item}");
        let why = item["why"].as_str().unwrap_or_default();
        assert!(why.starts_with("likeliest pair "), "{item}");
        assert!(why.contains("match weight"), "{item}");
        for pair in item["pairs"].as_array().unwrap() {
            assert!(
                pair["why"].is_string() && pair["rank"].is_number(),
                "{pair}"
            );
        }
    }

    // The two names one of whose bearers is in the help desk come first:
    // their likeliest pair spans two sources and names no other company;
    // every pair of the other names is held by the CRM twice over and at
    // two organisations.
    let first: Vec<&str> = list[..2]
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    let mut sorted = first.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, PLANTED, "{all}");
    for item in &list[..2] {
        let customers = item["customers"].as_array().unwrap();
        assert!(
            in_desk(&customers[0]) || in_desk(&customers[1]),
            "the likeliest pair's customers first: {item}"
        );
        assert!(!in_desk(&customers[2]), "{item}");
        let why = item["why"].as_str().unwrap();
        assert!(
            !why.contains("holds both") && !why.contains("other"),
            "{item}"
        );
    }
    for item in &list[2..] {
        let why = item["why"].as_str().unwrap();
        assert!(why.contains("crm holds both -2.0"), "{item}");
        assert!(why.contains("other organisations -6.0"), "{item}");
        assert!(!why.contains("company names"), "counted once: {item}");
        assert!(item["score"].as_f64() < list[1]["score"].as_f64(), "{item}");
    }

    // The command line shows the same order and the same why.
    let out = ws.run(&["quality", "--duplicates", "--grouped", "--kind", "person"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let whys: Vec<String> = reader
        .records()
        .map(|r| r.map(|r| r[7].to_string()).unwrap_or_default())
        .collect();
    let api_whys: Vec<String> = list
        .iter()
        .map(|i| i["why"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(whys, api_whys);

    // Pages of 5 add up to the whole queue, in the same order, twice.
    for _ in 0..2 {
        let mut paged = Vec::new();
        for offset in (0..names).step_by(5) {
            let (status, page) = server.get(&format!(
                "/v1/quality/duplicates?view=grouped&kind=person&offset={offset}&limit=5"
            ));
            assert_eq!(status, 200, "{page}");
            assert_eq!(page["total"], all["total"]);
            paged.extend(items(&page).iter().cloned());
        }
        assert_eq!(&paged, list);
    }
}
