//! The steward's queue on the dashboard in a real browser: the suspected
//! duplicates as items, namesakes gathered one group per name with the rare
//! name first, each item saying why it ranks there, each customer a link to
//! its page; "Different people" keeps a
//! whole group apart in one request and "Merge selected" merges the ticked
//! customers, and either takes the group out of the queue.

use serde_json::json;

use super::webdriver::Browser;
use super::{PASSWORD, common, screenshots, sign_in};

const CRM: &str = "\
id,kind,name,company,email,phone,city
P1,person,Carlos Johnson,Acme Robotics,,,
P2,person,Carlos Johnson,Globex Corp,,,
P3,person,Carlos Johnson,Initech,,,
P5,person,Ottilie Zwicklbauer,Hooli,,,
P6,person,Ottilie Zwicklbauer,Vandelay Imports,,,
";

/// Top-level items of the queue on the page.
const ITEMS: &str = "document.querySelectorAll('#dup-list > li')";

#[test]
fn the_dashboard_groups_namesakes_and_decides_a_group_in_a_browser() {
    let ws = common::Workspace::new();
    ws.write_file("in/crm/crm.csv", CRM);
    ws.write_config(&[("crm", "generic-csv", "in/crm")]);
    ws.ingest();
    ws.add_user("dana", "admin", PASSWORD);
    let server = ws.serve();
    let (_, queue) = server.get("/v1/quality/duplicates?view=grouped");
    assert_eq!(
        (queue["total"].as_u64(), queue["pairs"].as_u64()),
        (Some(2), Some(4)),
        "three namesakes and two make two groups of four pairs: {queue}"
    );
    let first = queue["items"][0]["customers"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let browser = Browser::start(1280, 900);
    let base = server.base.clone();
    sign_in(&browser, &base, "dana", PASSWORD);
    browser.goto(&format!("{base}/?view=dashboard"));
    browser.wait(
        &format!("{ITEMS}.length === 2"),
        "the queue's two name groups",
    );
    let shot = browser.screenshot(&screenshots(), "dashboard-duplicates.png");
    eprintln!("screenshot: {}", shot.display());
    let texts = browser.js(
        &format!("return [...{ITEMS}].map((li) => li.textContent);"),
        json!([]),
    );
    let first_text = texts[0].as_str().unwrap_or_default();
    assert!(
        first_text.contains("2 customers named Ottilie Zwicklbauer, at 2 companies"),
        "the rare name first, as one group: {texts}"
    );
    assert!(
        texts[1]
            .as_str()
            .unwrap_or_default()
            .contains("3 customers named Carlos Johnson"),
        "{texts}"
    );
    // Each item says why it ranks where it does, as the API does.
    let why = queue["items"][0]["why"].as_str().unwrap_or_default();
    assert!(why.starts_with("likeliest pair "), "{queue}");
    assert!(
        first_text.contains(&format!("Ranked: {why}")),
        "the first item's why on the page: {texts}"
    );
    browser.click("#dup-list > li a");
    browser.wait(
        &format!(
            "!document.querySelector('#customer-view').hidden && location.search.includes({})",
            json!(first)
        ),
        "the first group's first customer page",
    );

    // "Different people" on the Carlos Johnson group: one request.
    browser.goto(&format!("{base}/?view=dashboard"));
    browser.wait(&format!("{ITEMS}.length === 2"), "the queue again");
    browser.click("#dup-list > li:nth-child(2) .dup-different");
    browser.wait(
        &format!("{ITEMS}.length === 1"),
        "the group kept apart leaves the queue",
    );
    let (_, after) = server.get("/v1/quality/duplicates?view=grouped");
    assert_eq!(after["total"].as_u64(), Some(1), "{after}");
    assert_eq!(after["items"][0]["name"], "Ottilie Zwicklbauer", "{after}");
    let (_, audit) = server.get("/v1/audit?action=never_merge");
    assert_eq!(
        audit["entries"].as_array().map(Vec::len),
        Some(1),
        "{audit}"
    );

    // Tick both Ottilie Zwicklbauers and merge them.
    browser.js(
        "document.querySelectorAll('#dup-list .dup-pick').forEach((b) => { b.checked = true; });",
        json!([]),
    );
    browser.click("#dup-list > li .dup-merge");
    browser.wait(
        "(document.querySelector('#dup-summary') || {}).textContent === 'No suspected duplicates.'",
        "the merged group leaves the queue",
    );
    let (_, merged) = server.get("/v1/quality/duplicates?view=grouped");
    assert_eq!(merged["total"].as_u64(), Some(0), "{merged}");
}

/// More items than a page holds: the dashboard shows the first page and
/// "Show more" appends the rest, then goes away.
#[test]
fn the_dashboard_pages_through_a_long_queue() {
    const NAMES: [&str; 12] = [
        "Aurelio Quennell",
        "Brunhild Ostrander",
        "Cosimo Pettigrew",
        "Dagny Vukovich",
        "Eustace Marchbanks",
        "Fenella Oyelaran",
        "Gideon Thistlewood",
        "Hesper Kalinowski",
        "Ignatius Pemberly",
        "Jocasta Wrenfield",
        "Leopold Abernathy",
        "Mirabel Castellane",
    ];
    let mut crm = String::from("id,kind,name,company,email,phone,city\n");
    for (i, name) in NAMES.iter().enumerate() {
        crm.push_str(&format!("A{i},person,{name},Northwind {i},,,\n"));
        crm.push_str(&format!("B{i},person,{name},Southgate {i},,,\n"));
    }
    let ws = common::Workspace::new();
    ws.write_file("in/crm/crm.csv", &crm);
    ws.write_config(&[("crm", "generic-csv", "in/crm")]);
    ws.ingest();
    ws.add_user("dana", "admin", PASSWORD);
    let server = ws.serve();
    let (_, queue) = server.get("/v1/quality/duplicates?view=grouped&limit=1");
    assert_eq!(
        queue["total"].as_u64(),
        Some(12),
        "twelve name groups: {queue}"
    );

    let browser = Browser::start(1280, 900);
    let base = server.base.clone();
    sign_in(&browser, &base, "dana", PASSWORD);
    browser.goto(&format!("{base}/?view=dashboard"));
    browser.wait(
        &format!("{ITEMS}.length === 10"),
        "the first page of ten items",
    );
    let label = browser.js(
        "return document.querySelector('#dup-more').textContent;",
        json!([]),
    );
    assert_eq!(label, json!("Show more (10 of 12 shown)"));
    browser.click("#dup-more");
    browser.wait(
        &format!("{ITEMS}.length === 12 && document.querySelector('#dup-more').hidden"),
        "all twelve items and no more button",
    );
    let names = browser.js(
        &format!("return [...{ITEMS}].map((li) => li.querySelector('strong').textContent);"),
        json!([]),
    );
    for name in NAMES {
        let shown = names.as_array().map_or(0, |all| {
            all.iter()
                .filter(|t| t.as_str().unwrap_or_default().contains(name))
                .count()
        });
        assert_eq!(shown, 1, "{name} once on the page: {names}");
    }
}
