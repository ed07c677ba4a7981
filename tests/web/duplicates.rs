//! The steward's queue on the dashboard in a real browser: the suspected
//! duplicates most likely first (the rare shared name above the common
//! one), each customer a link to its page.

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

#[test]
fn the_dashboard_lists_the_most_likely_duplicates_first_in_a_browser() {
    let ws = common::Workspace::new();
    ws.write_file("in/crm/crm.csv", CRM);
    ws.write_config(&[("crm", "generic-csv", "in/crm")]);
    ws.ingest();
    ws.add_user("dana", "admin", PASSWORD);
    let server = ws.serve();
    let (_, queue) = server.get("/v1/quality/duplicates");
    let total = queue["total"].as_u64().unwrap();
    assert_eq!(
        total, 4,
        "three namesakes make three pairs, two one: {queue}"
    );
    let first = queue["duplicates"][0]["a"].as_str().unwrap().to_string();

    let browser = Browser::start(1280, 900);
    let base = server.base.clone();
    sign_in(&browser, &base, "dana", PASSWORD);
    browser.goto(&format!("{base}/?view=dashboard"));
    browser.wait(
        "document.querySelectorAll('#dup-list li').length === 4",
        "the queue of suspected duplicates",
    );
    let shot = browser.screenshot(&screenshots(), "dashboard-duplicates.png");
    eprintln!("screenshot: {}", shot.display());
    let first_text = browser.js(
        "return document.querySelector('#dup-list li').textContent;",
        json!([]),
    );
    assert!(
        first_text
            .as_str()
            .unwrap_or_default()
            .contains("Zwicklbauer"),
        "the rare name first: {first_text}"
    );
    browser.click("#dup-list li a");
    browser.wait(
        &format!(
            "!document.querySelector('#customer-view').hidden && location.search.includes({})",
            json!(first)
        ),
        "the first pair's customer page",
    );
}
