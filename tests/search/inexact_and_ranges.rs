//! Matches the snippet generator cannot see (a corrected typo, the last word
//! as a prefix) still come with a highlighted snippet and their field, and
//! ranges typed inside `q` mean what the `filter.FIELD` parameter means.

use serde_json::Value;

use super::fixture;
use crate::common::{Server, hit_ids};

fn hit<'a>(response: &'a Value, id: &str) -> &'a Value {
    response["hits"]
        .as_array()
        .and_then(|hits| hits.iter().find(|h| h["id"] == id))
        .unwrap_or_else(|| panic!("{id} not in {response}"))
}

/// Whether `hit` lists `field` among the fields it matched in.
fn matched(hit: &Value, field: &str) -> bool {
    hit["matched_fields"]
        .as_array()
        .is_some_and(|fields| fields.iter().any(|f| f == field))
}

fn sorted_ids(response: &Value) -> Vec<String> {
    let mut ids = hit_ids(response);
    ids.sort();
    ids
}

fn search_with(server: &Server, params: &[(&str, &str)]) -> Value {
    let url =
        reqwest::Url::parse_with_params(&format!("{}/v1/search", server.base), params).unwrap();
    let (status, body) = server.get(&url.as_str()[server.base.len()..]);
    assert_eq!(status, 200, "{params:?}: {body}");
    body
}

#[test]
fn typo_and_prefix_matches_are_highlighted_and_listed() {
    let ws = fixture::workspace();
    let server = ws.serve();

    // "Smtih" matches only through typo tolerance.
    let typo = server.search("Smtih");
    let smith = hit(&typo, "crm:PER-1");
    let snippet = smith["snippets"]["names"].as_str().unwrap_or_default();
    assert!(snippet.contains("<mark>Smith</mark>"), "{smith}");
    assert!(matched(smith, "names"), "{smith}");
    // A word beyond the budget is not highlighted as if it matched.
    assert!(!snippet.contains("<mark>Jon</mark>"), "{snippet}");

    // "Robo" (too short for typos) matches Robotics as a prefix.
    let prefix = server.search("Robo");
    let org = hit(&prefix, "crm:ORG-1");
    let marked: Vec<&str> = org["snippets"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        marked.iter().any(|s| s.contains("<mark>Robotics</mark>")),
        "{org}"
    );
}

#[test]
fn a_misspelt_word_of_a_body_is_corrected_only_where_nobody_wrote_it() {
    let ws = fixture::workspace();
    let server = ws.serve();

    // "Mainframe" is written only in a body: misspelt, it still finds that
    // record, highlighted there.
    let typo = search_with(&server, &[("q", "Mainfrme"), ("group", "none")]);
    assert_eq!(sorted_ids(&typo), vec!["crm:ORG-4"], "{typo}");
    let org = hit(&typo, "crm:ORG-4");
    let snippet = org["snippets"]["body"].as_str().unwrap_or_default();
    assert!(snippet.contains("<mark>Mainframe</mark>"), "{org}");
    assert!(matched(org, "body"), "{org}");
    // The exact word ranks the same record first, with a higher score.
    let exact = search_with(&server, &[("q", "Mainframe"), ("group", "none")]);
    assert_eq!(sorted_ids(&exact), vec!["crm:ORG-4"], "{exact}");
    assert!(
        hit(&exact, "crm:ORG-4")["score"].as_f64() > org["score"].as_f64(),
        "{exact} {typo}"
    );

    // "match" is in a body as typed, so it is taken as meant: the note that
    // says "March" (one edit away) is not found through it. "mrach" is in
    // no body, so it is corrected to "March".
    let known = search_with(&server, &[("q", "match"), ("group", "none")]);
    assert_eq!(sorted_ids(&known), vec!["crm:ORG-4"], "{known}");
    let unknown = search_with(&server, &[("q", "Mrach"), ("group", "none")]);
    assert_eq!(sorted_ids(&unknown), vec!["crm:NOTE-5"], "{unknown}");
}

#[test]
fn ranges_in_the_query_match_the_filter_parameter() {
    let ws = fixture::workspace();
    let server = ws.serve();

    let typed = search_with(
        &server,
        &[("q", "amount:[1000 TO 200000]"), ("group", "none")],
    );
    let filtered = search_with(
        &server,
        &[
            ("q", "*"),
            ("group", "none"),
            ("filter.amount", "1000..200000"),
        ],
    );
    assert_eq!(sorted_ids(&typed), vec!["crm:OPP-7"], "{typed}");
    assert_eq!(sorted_ids(&typed), sorted_ids(&filtered));

    let above = server.search("amount:>1000");
    assert_eq!(
        sorted_ids(&above),
        vec!["crm:OPP-7", "crm:OPP-8"],
        "{above}"
    );
    let words_and_range = server.search("invoice amount:<1000");
    assert_eq!(
        hit_ids(&words_and_range),
        vec!["crm:NOTE-5"],
        "{words_and_range}"
    );

    let since = server.search("created:>=2024-05-01");
    let by_filter = search_with(
        &server,
        &[
            ("q", "*"),
            ("group", "none"),
            ("filter.created", "2024-05-01.."),
        ],
    );
    assert_eq!(
        sorted_ids(&since),
        vec!["crm:EMAIL-1", "crm:OPP-7", "crm:OPP-8"],
        "{since}"
    );
    assert_eq!(sorted_ids(&since), sorted_ids(&by_filter));
    // A bare end date includes that whole day, as in filters.
    let until = server.search("created:[* TO 2024-05-01]");
    assert!(
        hit_ids(&until).contains(&"crm:OPP-7".to_string()),
        "{until}"
    );
    assert!(
        !hit_ids(&until).contains(&"crm:EMAIL-1".to_string()),
        "{until}"
    );

    // Malformed: the words are still searched, with a warning naming it.
    let broken = server.search("invoice amount:[100 500]");
    assert!(
        hit_ids(&broken).contains(&"crm:NOTE-5".to_string()),
        "{broken}"
    );
    let warnings = broken["warnings"].to_string();
    assert!(warnings.contains("amount:[100 500]"), "{broken}");
    let bad_value = server.search("invoice amount:>lots");
    assert!(
        bad_value["warnings"].to_string().contains("lots"),
        "{bad_value}"
    );
    assert!(!hit_ids(&bad_value).is_empty(), "{bad_value}");
}
