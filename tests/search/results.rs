//! What dashboards and staff get back: customer groups with golden fields,
//! paging, sorting, filters, disjunctive facets counting customers,
//! aggregations that agree with the store, suggestions, and 400s that name
//! the bad parameter.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::fixture;
use super::queries::customers;
use crate::common::{Server, hit_ids};

fn get(server: &Server, params: &[(&str, &str)]) -> (u16, Value) {
    let url =
        reqwest::Url::parse_with_params(&format!("{}/v1/search", server.base), params).unwrap();
    server.get(&url.as_str()[server.base.len()..])
}

fn ok(server: &Server, params: &[(&str, &str)]) -> Value {
    let (status, body) = get(server, params);
    assert_eq!(status, 200, "{params:?}: {body}");
    body
}

fn facet(response: &Value, field: &str) -> BTreeMap<String, u64> {
    response["facets"][field]
        .as_array()
        .unwrap_or_else(|| panic!("no facet {field} in {response}"))
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_string(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn groups_carry_golden_fields_top_records_and_page() {
    let ws = fixture::workspace();
    let server = ws.serve();
    let response = ok(&server, &[("q", "invoice")]);
    // ACME (email), NITTO (note), KANSAI (note) and the loose memo.
    assert_eq!(response["total_customers"], 4, "{response}");
    assert_eq!(response["total"], 4, "{response}");
    let groups = response["customers"].as_array().unwrap();
    let acme = groups.iter().find(|g| g["key"] == "C-ACME").unwrap();
    assert_eq!(acme["name"], "Acme Robotics Inc.");
    assert_eq!(acme["kind"], "organization");
    assert_eq!(acme["country"], "US");
    assert_eq!(acme["records"][0]["id"], "crm:EMAIL-1");
    let loose = groups.iter().find(|g| g["key"] == "crm:NOTE-9").unwrap();
    assert_eq!(loose["customer_id"], Value::Null);
    assert_eq!(loose["name"], "Loose invoice memo");
    // At most three records per customer, all of them counted.
    let all = ok(&server, &[("q", "*")]);
    let acme = all["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "C-ACME")
        .unwrap();
    assert_eq!(acme["matching_records"], 4);
    assert_eq!(acme["records"].as_array().unwrap().len(), 3);
    // Pages of customers do not overlap and cover every customer.
    let mut seen = BTreeSet::new();
    for offset in ["0", "2", "4"] {
        let page = ok(&server, &[("q", "*"), ("limit", "2"), ("offset", offset)]);
        assert_eq!(page["total_customers"], 6);
        for key in customers(&page) {
            assert!(seen.insert(key.clone()), "{key} twice");
        }
    }
    assert_eq!(seen.len(), 6);
    // Paging records.
    let first = ok(&server, &[("q", "*"), ("group", "none"), ("limit", "5")]);
    let second = ok(
        &server,
        &[
            ("q", "*"),
            ("group", "none"),
            ("limit", "5"),
            ("offset", "5"),
        ],
    );
    assert_eq!(first["total"], 11);
    let (a, b) = (hit_ids(&first), hit_ids(&second));
    assert!(
        a.len() == 5 && b.len() == 5 && a.iter().all(|id| !b.contains(id)),
        "{a:?} {b:?}"
    );
}

#[test]
fn sorting_and_filters() {
    let ws = fixture::workspace();
    let server = ws.serve();
    let by_amount = ok(
        &server,
        &[("q", "*"), ("group", "none"), ("sort", "amount")],
    );
    assert_eq!(
        hit_ids(&by_amount)[..3],
        ["crm:OPP-8", "crm:OPP-7", "crm:NOTE-5"]
    );
    let oldest = ok(
        &server,
        &[
            ("q", "*"),
            ("group", "none"),
            ("sort", "date"),
            ("order", "asc"),
        ],
    );
    assert_eq!(hit_ids(&oldest)[0], "crm:ORG-4");
    let newest = ok(
        &server,
        &[("q", "*"), ("group", "customer"), ("sort", "date")],
    );
    assert_eq!(customers(&newest)[0], "C-NITTO");

    let range = ok(
        &server,
        &[
            ("q", "*"),
            ("group", "none"),
            ("filter.amount", "1000..200000"),
        ],
    );
    assert_eq!(hit_ids(&range), vec!["crm:OPP-7"]);
    let dates = ok(
        &server,
        &[
            ("q", "*"),
            ("group", "none"),
            ("filter.created", "2024-05-01..2024-05-31"),
        ],
    );
    let mut ids = hit_ids(&dates);
    ids.sort();
    assert_eq!(ids, vec!["crm:EMAIL-1", "crm:OPP-7"]);
    let list = ok(
        &server,
        &[("q", "invoice"), ("filter.customer_country", "jp,gb")],
    );
    let mut keys = customers(&list);
    keys.sort();
    assert_eq!(keys, vec!["C-KANSAI", "C-NITTO"]);
    let attrs = ok(
        &server,
        &[("q", "*"), ("group", "none"), ("filter.attrs.plan", "gold")],
    );
    assert_eq!(hit_ids(&attrs), vec!["crm:ORG-1"]);
    // POST takes the same options as JSON.
    let (status, body) = server.post(
        "/v1/search",
        &json!({"q": "*", "group": "none", "filters": {"amount": {"gte": 1000}, "stage": ["won", "open"]}, "sort": "amount", "order": "asc"}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(hit_ids(&body), vec!["crm:OPP-7", "crm:OPP-8"]);
}

#[test]
fn facets_are_disjunctive_and_count_customers_when_grouped() {
    let ws = fixture::workspace();
    let server = ws.serve();
    let grouped = ok(&server, &[("q", "*"), ("facets", "customer_country,kind")]);
    assert_eq!(grouped["facet_counts"], "customers");
    // 2 customers in US (ACME, IBM), 2 in JP (NITTO, KANSAI), 1 in GB.
    assert_eq!(
        facet(&grouped, "customer_country"),
        BTreeMap::from([("US".into(), 2), ("JP".into(), 2), ("GB".into(), 1)])
    );
    // kind counts customers having such a record: ACME, NITTO, KANSAI and the loose memo have notes/emails...
    assert_eq!(facet(&grouped, "kind")["opportunity"], 2);
    let records = ok(
        &server,
        &[
            ("q", "*"),
            ("group", "none"),
            ("facets", "customer_country"),
        ],
    );
    assert_eq!(
        facet(&records, "customer_country"),
        BTreeMap::from([("US".into(), 5), ("JP".into(), 4), ("GB".into(), 1)])
    );
    // Selecting JP narrows the results and the other facets, but JP's
    // siblings are still counted in its own facet.
    let jp = ok(
        &server,
        &[
            ("q", "*"),
            ("facets", "customer_country,kind"),
            ("filter.customer_country", "JP"),
        ],
    );
    assert_eq!(jp["total_customers"], 2);
    assert_eq!(
        facet(&jp, "customer_country"),
        facet(&grouped, "customer_country")
    );
    assert_eq!(
        facet(&jp, "kind"),
        BTreeMap::from([
            ("note".into(), 2),
            ("opportunity".into(), 1),
            ("organization".into(), 1)
        ])
    );
}

#[test]
fn aggregations_agree_with_a_count_over_the_store() {
    let ws = fixture::workspace();
    let records = fixture::records();
    let server = ws.serve();
    let aggs = json!({
        "by_country": {"terms": {"field": "customer_country"}, "aggs": {"amount": {"sum": {"field": "amount"}}}},
        "amounts": {"stats": {"field": "amount"}},
        "per_month": {"date_histogram": {"field": "created", "fixed_interval": "30d"}},
        "customers": {"cardinality": {"field": "customer_id"}},
        "p": {"percentiles": {"field": "amount"}},
        "sizes": {"range": {"field": "amount", "ranges": [{"to": 1000}, {"from": 1000}]}}
    });
    let response = ok(
        &server,
        &[("q", "*"), ("group", "none"), ("aggs", &aggs.to_string())],
    );
    let result = &response["aggregations"];
    let mut expected: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    for r in &records {
        if let Some(country) = &r.customer_country {
            let entry = expected.entry(country.clone()).or_default();
            entry.0 += 1;
            entry.1 += r.amount.unwrap_or(0.0);
        }
    }
    let buckets: BTreeMap<String, (u64, f64)> = result["by_country"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["key"].as_str().unwrap().to_string(),
                (
                    b["doc_count"].as_u64().unwrap(),
                    b["amount"]["value"].as_f64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(buckets, expected, "{result}");
    let amounts: Vec<f64> = records.iter().filter_map(|r| r.amount).collect();
    assert_eq!(result["amounts"]["count"], amounts.len() as u64, "{result}");
    assert_eq!(
        result["amounts"]["sum"].as_f64().unwrap(),
        amounts.iter().sum::<f64>()
    );
    assert_eq!(
        result["customers"]["value"].as_f64().unwrap().round(),
        5.0,
        "{result}"
    );
    let dated = records.iter().filter(|r| r.created.is_some()).count() as u64;
    let in_histogram: u64 = result["per_month"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["doc_count"].as_u64().unwrap())
        .sum();
    assert_eq!(in_histogram, dated);
    assert_eq!(result["sizes"]["buckets"][0]["doc_count"], 1, "{result}");
    assert!(result["p"]["values"].is_object(), "{result}");

    // Customer level: one record per customer, so countries count customers.
    let (status, body) = server.post(
        "/v1/search",
        &json!({"q": "*", "aggs": {"c": {"terms": {"field": "customer_country"}}}, "aggs_level": "customers"}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let counts: BTreeMap<String, u64> = body["aggregations"]["c"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["key"].as_str().unwrap().to_string(),
                b["doc_count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([("US".into(), 2), ("JP".into(), 2), ("GB".into(), 1)])
    );
}

#[test]
fn suggestions_complete_names_in_english_and_japanese() {
    let ws = fixture::workspace();
    let server = ws.serve();
    let texts = |q: &str| -> Vec<String> {
        let url =
            reqwest::Url::parse_with_params(&format!("{}/v1/suggest", server.base), &[("q", q)])
                .unwrap();
        let (status, body) = server.get(&url.as_str()[server.base.len()..]);
        assert_eq!(status, 200, "{body}");
        body["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["text"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(texts("acm").contains(&"Acme Robotics Inc.".to_string()));
    assert!(
        texts("rob").contains(&"Acme Robotics Inc.".to_string()),
        "word prefixes too"
    );
    assert!(
        texts("jonat").contains(&"Jonathan Smith".to_string()),
        "name variants"
    );
    assert!(texts("日東").contains(&"日東電工株式会社".to_string()));
    assert!(texts("int bus").contains(&"International Business Machines".to_string()));
    assert!(texts("zzz").is_empty());
}

#[test]
fn bad_parameters_answer_400_naming_them() {
    let ws = fixture::workspace();
    let server = ws.serve();
    for (params, name) in [
        (vec![("q", "x"), ("sort", "colour")], "`sort`"),
        (vec![("q", "x"), ("group", "org")], "`group`"),
        (vec![("q", "x"), ("filter.nope", "1")], "filter.nope"),
        (vec![("q", "x"), ("filter.amount", "a..b")], "filter.amount"),
        (
            vec![("q", "x"), ("filter.country", "1..2")],
            "filter.country",
        ),
        (vec![("q", "x"), ("facets", "body")], "`facets`"),
        (vec![("q", "x"), ("aggs", "{not json")], "`aggs`"),
        (
            vec![("q", "x"), ("aggs", "{\"a\": {\"bogus\": {}}}")],
            "`aggs`",
        ),
        (vec![("q", "x"), ("offset", "-1")], "`offset`"),
        (
            vec![("q", "x"), ("boost_recent", "maybe")],
            "`boost_recent`",
        ),
    ] {
        let (status, body) = get(&server, &params);
        assert_eq!(status, 400, "{params:?}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(name), "{params:?}: {message}");
    }
    let (status, body) = server.post("/v1/search", "{\"q\": 1}");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_body")),
        "{body}"
    );
    let (status, body) = server.get("/v1/suggest");
    assert_eq!(status, 400, "{body}");
    // boost_recent is accepted and keeps the same matches.
    let plain = ok(&server, &[("q", "invoice"), ("group", "none")]);
    let recent = ok(
        &server,
        &[
            ("q", "invoice"),
            ("group", "none"),
            ("boost_recent", "true"),
        ],
    );
    assert_eq!(plain["total"], recent["total"]);
}

#[test]
fn the_cli_runs_the_same_engine() {
    let ws = fixture::workspace();
    let server = ws.serve();
    let http = ok(
        &server,
        &[
            ("q", "invoice"),
            ("filter.customer_country", "JP"),
            ("facets", "kind"),
        ],
    );
    drop(server);
    let out = ws.run(&[
        "search",
        "--json",
        "--filter",
        "customer_country=JP",
        "--facets",
        "kind",
        "invoice",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(customers(&cli), customers(&http));
    assert_eq!(cli["facets"], http["facets"]);
}

/// `limit=0` (Elasticsearch's `size: 0`, what dashboards send) answers the
/// same totals, facets and aggregations as a page of hits would, with no
/// hits, grouped or not, and through POST as well as GET.
#[test]
fn limit_zero_answers_totals_facets_and_aggregations_without_hits() {
    let ws = fixture::workspace();
    let server = ws.serve();
    let aggs = json!({"amounts": {"stats": {"field": "amount"}}}).to_string();
    for group in ["none", "customer"] {
        let base = [
            ("q", "*"),
            ("group", group),
            ("facets", "source,kind"),
            ("aggs", aggs.as_str()),
        ];
        let with_page = ok(&server, &[&base[..], &[("limit", "10")]].concat());
        let counts_only = ok(&server, &[&base[..], &[("limit", "0")]].concat());
        assert!(with_page["total"].as_u64().unwrap_or(0) > 0, "{with_page}");
        for key in ["total", "total_customers", "facets", "aggregations"] {
            assert_eq!(counts_only[key], with_page[key], "{group}: {key}");
        }
        let page_key = if group == "none" { "hits" } else { "customers" };
        assert!(
            !with_page[page_key]
                .as_array()
                .unwrap_or(&Vec::new())
                .is_empty(),
            "{with_page}"
        );
        assert_eq!(counts_only[page_key], json!([]), "{group}: {counts_only}");
        assert_eq!(counts_only["limit"], 0);
    }
    let (status, body) = server.post(
        "/v1/search",
        &json!({"q": "*", "limit": 0, "facets": ["source"]}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["total"].as_u64().unwrap_or(0) > 0, "{body}");
    assert!(body["facets"]["source"].is_array(), "{body}");
}
