//! Hierarchical facets: path values (`/industry/software/saas`) are counted
//! at every level, once per record or customer however many of its values
//! share a level.

use std::collections::BTreeMap;

use serde_json::Value;

use super::fixture;
use crate::common::Server;

fn facet_counts(server: &Server, group: &str) -> BTreeMap<String, u64> {
    let url = reqwest::Url::parse_with_params(
        &format!("{}/v1/search", server.base),
        &[("q", "*"), ("group", group), ("facets", "attrs.industry")],
    )
    .unwrap();
    let (status, body) = server.get(&url.as_str()[server.base.len()..]);
    assert_eq!(status, 200, "{body}");
    body["facets"]["attrs.industry"]
        .as_array()
        .unwrap_or_else(|| panic!("no attrs.industry facet in {body}"))
        .iter()
        .map(|v: &Value| {
            (
                v["value"].as_str().unwrap().to_string(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn path_values_are_counted_at_every_level_once() {
    let ws = fixture::workspace();
    let server = ws.serve();
    let records = facet_counts(&server, "none");
    let expected: BTreeMap<String, u64> = [
        ("/industry", 3),
        ("/industry/food", 1),
        ("/industry/hardware", 1),
        ("/industry/software", 2),
        ("/industry/software/it", 1),
        ("/industry/software/saas", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(records, expected);
    // Grouped: customers (Acme, IBM, Kansai Foods) under /industry.
    let customers = facet_counts(&server, "customer");
    assert_eq!(customers.get("/industry"), Some(&3), "{customers:?}");
    assert_eq!(
        customers.get("/industry/software"),
        Some(&2),
        "{customers:?}"
    );
}
