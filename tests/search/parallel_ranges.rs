//! A search cut into document ranges collected on several threads answers
//! exactly what the same search collected in one piece answers: the same
//! hits in the same order, the same groups, counts, facets and
//! aggregations. The server is run twice over one data directory, once as
//! it runs in production and once with `RAPPORT_TEST_RANGE_DOCS=2`, which
//! cuts even this small index into several ranges per segment.

use rapport::normalize::parse_date;
use rapport::record::{Record, RecordKind};
use rapport::store::Store;
use serde_json::json;

use super::fixture::answers;

const WORDS: &[&str] = &[
    "invoice",
    "renewal",
    "warehouse",
    "discount",
    "robots",
    "billing",
    "dispute",
    "kickoff",
];

/// 600 notes over 40 customers, many with equal scores, so that every
/// range holds more than a page and ties must be broken the same way.
fn notes() -> Vec<Record> {
    (0..600)
        .map(|i| {
            let mut r = Record::new("crm", &format!("NOTE-{i:04}"), RecordKind::Note);
            let customer = i % 40;
            r.customer_id = Some(format!("C-GEN-{customer:02}"));
            r.customer_name = Some(format!("Generated {customer:02} Ltd."));
            r.customer_kind = Some("organization".into());
            r.customer_country = Some(["JP", "US", "GB", "DE"][customer % 4].into());
            r.title = Some(format!("{} note {}", WORDS[i % WORDS.len()], i % 7));
            r.body = Some(format!(
                "{} {} {}",
                WORDS[(i / 3) % WORDS.len()],
                WORDS[(i / 5) % WORDS.len()],
                WORDS[i % 3]
            ));
            r.owner = Some(["Dana Field", "Ken Ito", "Mori"][i % 3].into());
            r.stage = Some(["open", "won", "lost"][(i / 2) % 3].into());
            r.tags = vec![WORDS[(i / 7) % WORDS.len()].into()];
            r.amount = Some((i % 50) as f64 * 10.0);
            r.created = parse_date(&format!("2023-{:02}-{:02}", 1 + i % 12, 1 + i % 28)).ok();
            r
        })
        .collect()
}

fn searches() -> Vec<Vec<(&'static str, String)>> {
    let aggs = json!({
        "by_country": {"terms": {"field": "customer_country"}},
        "amount": {"stats": {"field": "amount"}}
    })
    .to_string();
    let mut out = Vec::new();
    for q in [
        "invoice",
        "billing dispute",
        "*",
        "\"billing dispute\"",
        "warehose",
        "robo",
    ] {
        out.push(vec![("q", q.to_string()), ("group", "none".into())]);
        out.push(vec![
            ("q", q.to_string()),
            ("group", "none".into()),
            ("limit", "7".into()),
            ("offset", "14".into()),
        ]);
        out.push(vec![
            ("q", q.to_string()),
            ("group", "customer".into()),
            ("facets", "customer_country,owner,stage,tags".into()),
        ]);
    }
    out.push(vec![
        ("q", "renewal".into()),
        ("group", "none".into()),
        ("sort", "date".into()),
        ("facets", "owner,stage".into()),
        ("filter.owner", "Mori".into()),
    ]);
    // Several words, unscored (sorted by date) and filtered.
    out.push(vec![
        ("q", "billing dispute".into()),
        ("group", "none".into()),
        ("sort", "date".into()),
        ("filter.owner", "Mori".into()),
    ]);
    out.push(vec![
        ("q", "discount".into()),
        ("group", "customer".into()),
        ("facets", "customer_country,owner".into()),
        ("filter.customer_country", "JP,US".into()),
        ("aggs", aggs.clone()),
        ("aggs_level", "customers".into()),
    ]);
    out.push(vec![
        ("q", "*".into()),
        ("group", "none".into()),
        ("sort", "amount".into()),
        ("limit", "50".into()),
        ("aggs", aggs),
    ]);
    out
}

#[test]
fn searches_cut_into_ranges_answer_as_uncut_ones() {
    let ws = super::fixture::workspace();
    {
        let store = Store::open(&ws.path().join("store/store.redb")).unwrap();
        store
            .apply_file("crm", "generated.csv", "g", &notes())
            .unwrap();
    }
    let whole = answers(&ws.serve(), &searches());
    let mut command = ws.command(&["serve", "--listen", "127.0.0.1:0"]);
    command.env("RAPPORT_TEST_RANGE_DOCS", "2");
    let cut = answers(&ws.start(command), &searches());
    assert!(
        whole.iter().any(|a| a["total"].as_u64() > Some(100)),
        "the searches must match enough records to fill several ranges"
    );
    for ((params, whole), cut) in searches().iter().zip(&whole).zip(&cut) {
        assert_eq!(whole, cut, "{params:?}");
    }
}
