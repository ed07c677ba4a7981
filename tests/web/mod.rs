//! The staff web page in a real headless browser: the real `rapport` binary
//! serves a copy of examples/ on 127.0.0.1, and chromium (through
//! chromedriver) types, clicks and presses keys like a person. Each step
//! leaves a screenshot in `<target>/web-screenshots/` for a person to look at.
//!
//! Needs Debian's `chromium` and `chromium-driver`; without them the test
//! fails and says how to install them.

use crate::common;
mod duplicates;
mod hierarchy;
mod webdriver;

use std::path::PathBuf;

use serde_json::json;
use webdriver::{ARROW_DOWN, Browser, ENTER};

fn screenshots() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(&tmp).join("web-screenshots")
}

/// A staff password for the browser tests.
const PASSWORD: &str = "a long staff password";

/// Signs in through the page's form as `user` (the first API call of the
/// page answers 401, which shows the form).
fn sign_in(browser: &Browser, base: &str, user: &str, password: &str) {
    browser.goto(&format!("{base}/"));
    browser.wait(
        "!document.querySelector('#signin-view').hidden",
        "the sign-in form",
    );
    browser.type_into("#signin-user", user);
    browser.type_into("#signin-password", password);
    browser.click("#signin-form button[type=submit]");
    browser.wait(
        &format!(
            "document.querySelector('#signin-view').hidden && document.querySelector('#whoami').textContent === {}",
            json!(user)
        ),
        "signed in",
    );
}

/// The number shown next to a facet value, or None if the value is absent.
fn facet_count(browser: &Browser, field: &str, value: &str) -> Option<u64> {
    browser
        .js(
            "const b = [...document.querySelectorAll(`#facets ul[data-facet='${arguments[0]}'] button`)]
               .find((b) => b.dataset.value === arguments[1]);
             return b ? Number(b.querySelector('.count').textContent.replace(/\\D/g, '')) : null;",
            json!([field, value]),
        )
        .as_u64()
}

/// The result summary without its timing ("1–9 of 9 customers (10 matching
/// records").
fn summary(browser: &Browser) -> String {
    let text = browser.js(
        "return document.querySelector('#summary').textContent;",
        json!([]),
    );
    let text = text.as_str().unwrap_or_default();
    text.split(", ").next().unwrap_or(text).to_string()
}

#[test]
fn page_is_served_from_the_binary_with_a_strict_policy() {
    let ws = common::Workspace::with_examples();
    let server = ws.serve();
    let client = server.client();
    for (path, kind) in [
        ("/", "text/html"),
        ("/assets/app.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
    ] {
        let response = client.get(format!("{}{path}", server.base)).send().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let headers = response.headers();
        let content_type = headers["content-type"].to_str().unwrap();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        // The SVG namespace is a name, not an address anything is fetched from.
        let body = response
            .text()
            .unwrap()
            .replace("http://www.w3.org/2000/svg", "");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} must not point outside the server"
        );
    }
    // Unknown assets are the API's JSON 404, not the page.
    let (status, body) = server.get("/assets/nope.js");
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[test]
fn search_facets_customer_page_and_dashboard_in_a_browser() {
    let ws = common::Workspace::with_examples();
    // Eleven more notes on Acme Robotics, so that its timeline has a second
    // page (ten to a page).
    for day in 1..=11 {
        std::fs::write(
            ws.path().join(format!("data/notes/2024-06-{day:02}-acme-check-in.md")),
            format!(
                "---\ncustomer: ORG-001\nauthor: David Chen\ndate: 2024-06-{day:02}\n---\n\
                 # Acme Robotics – check-in {day}\n\nShort check-in number {day} on the robot fleet.\n"
            ),
        )
        .unwrap();
    }
    ws.add_user("dana", "admin", PASSWORD);
    let server = ws.serve();
    // An analyst's scores for Acme Robotics, shown on its page.
    let (_, acme) = server.get("/v1/search?q=Acme%20Robotics&filter.kind=organization");
    let acme = acme["customers"][0]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let written = server
        .client()
        .post(format!("{}/v1/attributes", server.base))
        .header("content-type", "text/csv")
        .body(format!(
            "customer_id,key,value\n{acme},health_score,87\n{acme},segment,strategic\n"
        ))
        .send()
        .unwrap();
    assert_eq!(written.status().as_u16(), 200);
    let browser = Browser::start(1280, 900);
    let shots = screenshots();
    let base = server.base.clone();
    sign_in(&browser, &base, "dana", PASSWORD);

    // 1. A typo'd name, typed into the box: the right customer comes first,
    //    and the query lands in the URL.
    browser.goto(&format!("{base}/"));
    browser.wait(
        "document.querySelector('#results .result')",
        "the first results",
    );
    browser.type_into("#q", "Jon Smtih");
    browser.wait(
        "location.search.includes('Smtih') && document.querySelector('#summary').textContent.includes('of 1 customer')",
        "results for Jon Smtih",
    );
    let first = browser.js(
        "return document.querySelector('#results .result h2').textContent;",
        json!([]),
    );
    assert_eq!(first, "Acme Robotics Inc.");
    let marked = browser.js(
        "return [...document.querySelectorAll('#results mark')].map((m) => m.textContent);",
        json!([]),
    );
    assert!(
        marked
            .as_array()
            .is_some_and(|m| m.iter().any(|t| t == "Jon")),
        "snippets highlight the match: {marked}"
    );
    let shot = browser.screenshot(&shots, "01-typo-search.png");
    eprintln!("screenshot: {}", shot.display());

    // 1b. Names under the box while typing: "acm" offers Acme Robotics; the
    //     arrow and Enter open its page, and the names go away.
    browser.goto(&format!("{base}/"));
    browser.wait(
        "document.querySelector('#results .result')",
        "the first results",
    );
    browser.type_into("#q", "acm");
    browser.wait(
        "!document.querySelector('#suggest').hidden && document.querySelector('#suggest li')?.textContent.includes('Acme Robotics Inc.')",
        "name suggestions for acm",
    );
    assert_eq!(
        browser.js(
            "return document.querySelector('#q').getAttribute('aria-expanded');",
            json!([])
        ),
        "true"
    );
    let shot = browser.screenshot(&shots, "01b-name-suggestions.png");
    eprintln!("screenshot: {}", shot.display());
    browser.keys(ARROW_DOWN);
    browser.wait(
        "document.querySelector('#suggest li[aria-selected=true]')",
        "the arrow on the first name",
    );
    browser.keys(ENTER);
    browser.wait(
        "location.search.startsWith('?customer=') && document.querySelector('#customer-view h1')?.textContent === 'Acme Robotics Inc.'",
        "the customer page chosen from the names",
    );
    browser.wait(
        "document.querySelector('#suggest').hidden",
        "the names hidden once one is chosen",
    );

    // 2. Every customer, then a facet click: the URL keeps the filter and the
    //    other facets' counts change.
    browser.goto(&format!("{base}/?q=*"));
    browser.wait(
        "document.querySelector('#facets ul[data-facet=kind]') && document.querySelector('#summary').textContent.includes('customers')",
        "facets for every customer",
    );
    let before = summary(&browser);
    let crm_before = facet_count(&browser, "source", "crm").expect("a crm source facet");
    browser.click("#facets ul[data-facet=kind] button[data-value=note]");
    browser.wait(
        &format!(
            "location.search.includes('filter.kind=note') && !document.querySelector('#summary').textContent.startsWith({})",
            json!(before)
        ),
        "the results narrowed to notes",
    );
    browser.wait(
        "document.querySelector('#facets ul[data-facet=kind] button[data-value=note]').getAttribute('aria-pressed') === 'true'",
        "the note facet shown as chosen",
    );
    let after = summary(&browser);
    let crm_after = facet_count(&browser, "source", "crm").unwrap_or(0);
    assert_ne!(before, after, "the summary changes");
    assert!(
        crm_after < crm_before,
        "source:crm count {crm_before} → {crm_after} after narrowing to notes"
    );
    let shot = browser.screenshot(&shots, "02-facet-kind-note.png");
    eprintln!("screenshot: {}", shot.display());
    // The URL is the search: opening it afresh shows the same thing.
    let shared = browser.url();
    browser.goto(&shared);
    browser.wait(
        "document.querySelector('#facets ul[data-facet=kind] button[data-value=note][aria-pressed=true]')",
        "the filter restored from the URL",
    );
    assert_eq!(summary(&browser), after);

    // 3. The keyboard alone: "/" focuses the box, arrows move, Enter opens.
    browser.goto(&format!("{base}/?view=dashboard"));
    browser.wait(
        "document.querySelector('#dashboard-view:not([hidden])')",
        "the dashboard",
    );
    browser.keys("/");
    browser.wait(
        "document.activeElement.id === 'q'",
        "/ to focus the search box",
    );
    browser.keys("Jon Smtih");
    browser.wait(
        "document.querySelector('#summary').textContent.includes('of 1 customer') && !document.querySelector('#search-view').hidden",
        "results while typing",
    );
    browser.keys(ARROW_DOWN);
    browser.wait(
        "document.querySelector('#results .result.selected')",
        "the arrow to select a result",
    );
    browser.keys(ENTER);

    // 4. The customer page: golden record with provenance, people, timeline.
    browser.wait(
        "location.search.startsWith('?customer=') && document.querySelector('#customer-view h1')?.textContent === 'Acme Robotics Inc.'",
        "the customer page of Acme Robotics Inc.",
    );
    browser.wait(
        "document.querySelectorAll('#timeline details').length === 10 && document.querySelector('#customer-view .pager button')",
        "the first timeline page of ten, with a button for older items",
    );
    browser.click("#customer-view .pager button");
    // Thirteen in all: the opportunity whose company column names Acme is
    // one of them.
    browser.wait(
        "document.querySelectorAll('#timeline details').length === 13",
        "the second timeline page appended",
    );
    let dates = browser.js(
        "return [...document.querySelectorAll('#timeline li > details > summary > .meta:first-child')].map((e) => e.textContent.trim());",
        json!([]),
    );
    let dates: Vec<&str> = dates
        .as_array()
        .expect("timeline dates")
        .iter()
        .filter_map(|d| d.as_str())
        .collect();
    assert_eq!(dates.len(), 13, "{dates:?}");
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {dates:?}"
    );
    assert_eq!(dates[0], "2024-06-11");
    assert_eq!(dates[11], "2024-05-20");
    assert_eq!(
        dates[12], "2024-03-01",
        "the renewal opportunity, created then"
    );
    let golden = browser.js(
        "return document.querySelector('#customer-view tr[data-field=name]').textContent;",
        json!([]),
    );
    assert!(
        golden.as_str().is_some_and(|t| t.contains("crm:ORG-001")),
        "the golden name says where it came from: {golden}"
    );
    let people = browser.js(
        "return document.querySelector('#customer-view').textContent;",
        json!([]),
    );
    assert!(people.as_str().is_some_and(|t| t.contains("Maria Alvarez")));
    // An item opens in full: the renewal meeting note, before the
    // opportunity.
    browser.click("#timeline li:nth-last-child(2) summary");
    let body = browser.wait(
        "document.querySelector('#timeline li:nth-last-child(2) details[open] pre.body')?.textContent",
        "the note opened in full",
    );
    assert!(
        body.as_str()
            .is_some_and(|b| b.contains("Follow-up call booked for June 3")),
        "the whole body, to its last line: {body}"
    );
    let page = browser.js("return document.body.innerText;", json!([]));
    assert!(
        page.as_str()
            .is_some_and(|t| !t.contains("[object ") && !t.contains("undefined")),
        "no JavaScript objects shown as text: {page}"
    );
    browser.js(
        "document.querySelector('#timeline li:last-child').scrollIntoView({block: 'center'});",
        json!([]),
    );
    let shot = browser.screenshot(&shots, "03-customer-page.png");
    eprintln!("screenshot: {}", shot.display());
    // The kind filter: notes only, and the URL says so.
    browser.click("#customer-view .kinds button[data-kind=email]");
    browser.wait(
        "location.search.includes('kind=email') && document.querySelector('#timeline li.muted')?.textContent === 'No email records.'",
        "the timeline filtered to emails (there are none)",
    );
    browser.click("#customer-view .kinds button[data-kind=note]");
    browser.wait(
        "location.search.includes('kind=note') && document.querySelectorAll('#timeline li[data-kind=note]').length === 10",
        "the timeline filtered to notes",
    );

    // 4b. Note capture: type a note with a word nobody has used, save it,
    //     see it in the timeline at once, then find the customer by the word.
    let word = format!("plumquist{}", std::process::id());
    browser.wait(
        "document.querySelector('#note-form #note-text') && document.querySelector('#attributes')",
        "the note form and the attributes card",
    );
    let scores = browser.js(
        "return [...document.querySelectorAll('#attributes tr')].map((r) => r.textContent).join('; ');",
        json!([]),
    );
    assert_eq!(scores, "health score87; segmentstrategic");
    browser.click("#note-form button[type=submit]");
    let refused = browser.wait(
        "document.querySelector('#note-status.bad')?.textContent",
        "an empty note refused in words",
    );
    assert!(
        refused.as_str().is_some_and(|t| t.contains("empty")),
        "{refused}"
    );
    browser.type_into(
        "#note-text",
        &format!("Called the ops lead: {word} pilot on two more sites."),
    );
    browser.type_into("#note-tags", "call, pilot");
    browser.js(
        "document.querySelector('#note-form').scrollIntoView({block: 'start'});",
        json!([]),
    );
    let shot = browser.screenshot(&shots, "03a-note-typed.png");
    eprintln!("screenshot: {}", shot.display());
    browser.click("#note-form button[type=submit]");
    let saved = browser.wait(
        "document.querySelector('#note-status')?.dataset.saved",
        "the note saved",
    );
    let saved = saved
        .as_str()
        .expect("the saved note's record id")
        .to_string();
    let first_item = browser.wait(
        &format!(
            "document.querySelector('#timeline li[data-id={}]') && document.querySelector('#timeline li:first-child').textContent",
            json!(saved)
        ),
        "the note in the timeline",
    );
    assert!(
        first_item.as_str().is_some_and(|t| t.contains(&word)),
        "the new note is the newest item: {first_item}"
    );
    assert!(
        first_item.as_str().is_some_and(|t| t.contains("user:dana")),
        "the note's author is the signed-in user: {first_item}"
    );
    let shot = browser.screenshot(&shots, "03b-note-in-timeline.png");
    eprintln!("screenshot: {}", shot.display());
    browser.goto(&format!("{base}/?q={word}"));
    browser.wait(
        "document.querySelector('#results .result h2')?.textContent === 'Acme Robotics Inc.'",
        "Acme Robotics first when searching the note's word",
    );
    let shot = browser.screenshot(&shots, "03c-note-found-by-search.png");
    eprintln!("screenshot: {}", shot.display());

    // 5. The dashboard: SVG charts from aggregations, each bar a search.
    browser.click("#nav-dashboard");
    browser.wait(
        "document.querySelectorAll('#chart-kind svg a').length >= 3 && document.querySelectorAll('#chart-country svg a').length >= 2 && document.querySelectorAll('#chart-stage svg a').length >= 2 && document.querySelectorAll('#chart-activity svg a').length >= 2",
        "the charts",
    );
    let shot = browser.screenshot(&shots, "04-dashboard.png");
    eprintln!("screenshot: {}", shot.display());
    browser.click("#chart-country svg a[data-label=JP]");
    browser.wait(
        "location.search.includes('filter.customer_country=JP') && document.querySelector('#facets ul[data-facet=customer_country] button[data-value=JP][aria-pressed=true]') && document.querySelector('#results .result')",
        "the search behind the JP bar",
    );
    let shot = browser.screenshot(&shots, "05-dashboard-bar-to-search.png");
    eprintln!("screenshot: {}", shot.display());
    // A column of the activity chart is the search of its 30 days.
    browser.goto(&format!("{base}/?view=dashboard"));
    browser.wait(
        "document.querySelectorAll('#chart-activity svg a').length >= 2",
        "the activity chart",
    );
    browser.click("#chart-activity svg a:last-of-type");
    browser.wait(
        "/filter\\.created=\\d{4}-\\d\\d-\\d\\d\\.\\.\\d{4}/.test(location.search) && document.querySelector('#results .result')",
        "the search behind the last activity column",
    );

    // 6. Japanese, and a server error shown in words.
    browser.goto(&format!("{base}/?q=東京"));
    browser.wait(
        "[...document.querySelectorAll('#results .result h2 a')].some((a) => a.textContent === '日東精機株式会社' && a.lang === 'ja')",
        "日東精機株式会社 among the results for 東京",
    );
    let shot = browser.screenshot(&shots, "06-japanese.png");
    eprintln!("screenshot: {}", shot.display());
    browser.goto(&format!("{base}/?q=*&filter.amount=lots"));
    let error = browser.wait(
        "!document.querySelector('#error').hidden && document.querySelector('#error').textContent",
        "the error box",
    );
    assert!(
        error.as_str().is_some_and(|e| e.contains("filter.amount")),
        "the server's message, naming the parameter: {error}"
    );
    let shot = browser.screenshot(&shots, "07-server-error.png");
    eprintln!("screenshot: {}", shot.display());

    // 7. A phone's width: nothing wider than the screen.
    browser.set_window(390, 844);
    browser.goto(&format!("{base}/?q=renewal"));
    browser.wait(
        "document.querySelector('#results .result')",
        "results on a phone",
    );
    let overflow = browser.js(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
        json!([]),
    );
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 1),
        "horizontal overflow at phone width: {overflow}px"
    );
    let shot = browser.screenshot(&shots, "08-phone-width.png");
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn sign_in_with_a_one_time_link_then_a_password_and_sign_out_in_a_browser() {
    let browser = Browser::start(1280, 900);
    let shots = screenshots();

    // A first start with no identity prints a one-time link for `admin`.
    let ws = common::Workspace::with_examples();
    let server = common::Server::start(ws.command(&["serve", "--listen", "127.0.0.1:0"]));
    let link = {
        let printed = server.printed.lock().unwrap().join("\n");
        let start = printed
            .find("http://127.0.0.1:")
            .unwrap_or_else(|| panic!("no sign-in link printed: {printed}"));
        printed[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    assert!(link.contains("/#signin="), "{link}");
    browser.goto(&link);
    browser.wait(
        "document.querySelector('#whoami').textContent === 'admin' && document.querySelector('#results .result') && !location.hash",
        "signed in by the link, the token gone from the address bar",
    );
    let shot = browser.screenshot(&shots, "09-signed-in-by-link.png");
    eprintln!("screenshot: {}", shot.display());
    // The first start's admin and link are in the audit log, by `rapport`.
    let first_start = browser.js(
        "return fetch('/v1/audit?actor=rapport').then((r) => r.json())
           .then((a) => a.entries.map((e) => e.action + ' ' + e.targets.join(',') + ' ' + e.via).join('; '));",
        json!([]),
    );
    assert_eq!(
        first_start,
        "user.create admin first start; user.sign_in_link admin first start"
    );
    // Sign-out ends the session: the form comes back and the API says 401.
    browser.click("#signout");
    browser.wait(
        "!document.querySelector('#signin-view').hidden && document.querySelector('#signin-status').textContent === 'Signed out.'",
        "the sign-in form after signing out",
    );
    let status = browser.js(
        "return fetch('/v1/search?q=acme').then((r) => r.status);",
        json!([]),
    );
    assert_eq!(status, 401, "the API refuses the browser once signed out");
    // The link works once.
    browser.goto(&link);
    browser.wait(
        "!document.querySelector('#signin-view').hidden && document.querySelector('#signin-status').textContent.includes('link')",
        "a spent link refused in words",
    );
    drop(server);

    // A user with a password: a wrong one is refused in words, the right
    // one signs in.
    let ws = common::Workspace::with_examples();
    ws.add_user("ann", "viewer", PASSWORD);
    let server = ws.serve();
    let base = server.base.clone();
    browser.goto(&format!("{base}/"));
    browser.wait(
        "!document.querySelector('#signin-view').hidden",
        "the sign-in form",
    );
    browser.type_into("#signin-user", "ann");
    browser.type_into("#signin-password", "not her password");
    browser.click("#signin-form button[type=submit]");
    browser.wait(
        "document.querySelector('#signin-status').textContent.includes('wrong user name or password')",
        "a wrong password refused",
    );
    let shot = browser.screenshot(&shots, "10-wrong-password.png");
    eprintln!("screenshot: {}", shot.display());
    sign_in(&browser, &base, "ann", PASSWORD);
    browser.wait(
        "document.querySelector('#results .result')",
        "results for a viewer",
    );
}

#[test]
fn a_cross_site_post_is_refused_and_an_idle_session_ends_in_a_browser() {
    let browser = Browser::start(1280, 900);
    let shots = screenshots();
    let ws = common::Workspace::with_examples();
    ws.write_config_with(
        &[
            ("crm", "generic-csv", "data/crm"),
            ("notes", "notes", "data/notes"),
        ],
        "[auth]\nsession_idle = \"4s\"\n",
    );
    ws.add_user("ann", "staff", PASSWORD);
    let server = ws.serve();
    let base = server.base.clone();
    let (_, found) = server.get("/v1/search?q=Acme&group=customer&limit=1");
    let customer = found["customers"][0]["customer_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!customer.is_empty(), "{found}");
    sign_in(&browser, &base, "ann", PASSWORD);

    // A page of another site (localhost is another site than 127.0.0.1)
    // posts a note to the API with the browser's credentials: a JSON post
    // is stopped at its preflight, a "simple" one reaches the server
    // without the SameSite=Strict cookie; neither writes anything.
    let port = base.rsplit(':').next().unwrap_or_default();
    browser.goto(&format!("http://localhost:{port}/healthz"));
    let forged = |content_type: &str, mode: &str| {
        browser.js(
            "return fetch(arguments[0] + '/v1/notes', {method: 'POST', mode: arguments[3],
               credentials: 'include', headers: {'content-type': arguments[2]},
               body: JSON.stringify({customer_id: arguments[1], text: 'forged by another site'})})
               .then((r) => r.type === 'opaque' ? 'opaque' : 'status ' + r.status, () => 'blocked');",
            json!([base, customer, content_type, mode]),
        )
    };
    assert_eq!(forged("application/json", "cors"), "blocked");
    // Chromium may also refuse to hand the opaque answer to the page
    // (ORB); the request itself is what must not write.
    let simple = forged("text/plain", "no-cors");
    assert!(simple == "opaque" || simple == "blocked", "{simple}");
    let (_, written) = server.get("/v1/search?q=%22forged%20by%20another%20site%22&group=none");
    assert_eq!(written["total"], 0, "a forged note was written: {written}");
    let (_, audit) = server.get("/v1/audit?action=note.create");
    let outcomes: Vec<&str> = audit["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert!(
        !outcomes.contains(&"ok"),
        "a note was created: {outcomes:?}"
    );
    eprintln!("forged posts as the server saw them: {outcomes:?}");

    // Back on the page, the session is still there; left idle past
    // `session_idle`, the next search shows the sign-in form again.
    browser.goto(&format!("{base}/"));
    browser.wait(
        "document.querySelector('#signin-view').hidden && document.querySelector('#results .result')",
        "still signed in",
    );
    std::thread::sleep(std::time::Duration::from_secs(6));
    browser.type_into("#q", "renewal");
    browser.keys(ENTER);
    browser.wait(
        "!document.querySelector('#signin-view').hidden",
        "the sign-in form after the session ended",
    );
    let shot = browser.screenshot(&shots, "11-session-ended.png");
    eprintln!("screenshot: {}", shot.display());
    let status = browser.js(
        "return fetch('/v1/search?q=acme').then((r) => r.status);",
        json!([]),
    );
    assert_eq!(status, 401);
}
