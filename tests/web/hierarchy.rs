//! The account hierarchy card of the customer page in a real browser
//! (issue 18): a Salesforce export whose accounts name their parent
//! (`ParentId`, 15- and 18-character Ids), ingested by the real binary; the
//! holding shows its subsidiaries and the roll-up over all three, a
//! subsidiary shows its parent and no roll-up, and the links go between
//! them.

use serde_json::json;

use super::webdriver::Browser;
use super::{PASSWORD, common, screenshots, sign_in};

#[test]
fn the_account_hierarchy_card_shows_parent_children_and_roll_up_in_a_browser() {
    let ws = common::Workspace::new();
    common::copy_dir(
        &common::connector_fixtures("salesforce-org"),
        &ws.path().join("in/sf"),
    );
    ws.write_config(&[("sf", "salesforce-export", "in/sf")]);
    ws.ingest();
    ws.add_user("dana", "admin", PASSWORD);
    let server = ws.serve();
    let customer_of = |record: &str| -> String {
        let (status, found) = server.get(&format!(
            "/v1/search?q=*&group=none&filter.id={}",
            record.replace(':', "%3A")
        ));
        assert_eq!(status, 200, "{found}");
        found["hits"][0]["customer_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{record} has no customer: {found}"))
            .to_string()
    };
    let holdings = customer_of("sf:0015g00000Hold1AAB");
    let browser = Browser::start(1280, 900);
    let shots = screenshots();
    let base = server.base.clone();
    sign_in(&browser, &base, "dana", PASSWORD);

    browser.goto(&format!("{base}/?customer={holdings}"));
    browser.wait(
        "document.querySelector('#customer-view h1')?.textContent === 'Orion Holdings plc' && document.querySelector('#hierarchy')",
        "the holding's page with its hierarchy card",
    );
    let card = |browser: &Browser| -> String {
        browser
            .js(
                "return document.querySelector('#hierarchy').innerText;",
                json!([]),
            )
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let holding_card = card(&browser);
    assert!(
        holding_card.contains("Subsidiaries")
            && holding_card.contains("Orion Europe GmbH")
            && holding_card.contains("Orion Japan KK"),
        "{holding_card}"
    );
    assert!(!holding_card.contains("Parent:"), "{holding_card}");
    // The roll-up over the holding and both subsidiaries, by label.
    let metrics = browser.js(
        "return Object.fromEntries([...document.querySelectorAll('#hierarchy .metric')]
           .map((m) => [m.lastChild.textContent, m.querySelector('b').textContent]));",
        json!([]),
    );
    assert_eq!(metrics["organisations"], "3", "{metrics}");
    assert_eq!(metrics["open opportunities, all"], "1", "{metrics}");
    assert_eq!(metrics["open tickets, all"], "1", "{metrics}");
    let shot = browser.screenshot(&shots, "12-account-hierarchy.png");
    eprintln!("screenshot: {}", shot.display());

    // A subsidiary's link opens its page: its parent, and no roll-up.
    browser.js(
        "[...document.querySelectorAll('#hierarchy a')].find((a) => a.textContent === 'Orion Europe GmbH').click();",
        json!([]),
    );
    browser.wait(
        "document.querySelector('#customer-view h1')?.textContent === 'Orion Europe GmbH' && document.querySelector('#hierarchy')",
        "the subsidiary's page",
    );
    let europe_card = card(&browser);
    assert!(
        europe_card.contains("Parent:") && europe_card.contains("Orion Holdings plc"),
        "{europe_card}"
    );
    assert_eq!(
        browser.js(
            "return document.querySelectorAll('#hierarchy .metric').length;",
            json!([])
        ),
        0,
        "{europe_card}"
    );
    let shot = browser.screenshot(&shots, "13-account-hierarchy-child.png");
    eprintln!("screenshot: {}", shot.display());
}
