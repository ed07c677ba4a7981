//! A grouped search that hands on only each piece's best `offset + limit`
//! customers (`index::search::top_groups`) answers exactly what the full
//! path, which builds a group for every matching customer, answers: the
//! same customers in the same order with the same scores, counts and
//! records, the same totals and facets. One data directory of a few
//! thousand customers (many records per customer, many equal scores and
//! equal sort values, records without a customer) is served by the real
//! binary three times: on the full path (`RAPPORT_TEST_EVERY_GROUP=1`), on
//! the fast path, and on the fast path cut into many small ranges, so that
//! a customer's records and best record fall in different pieces. Some
//! pages have all their groups in one piece, which must then hand on
//! every one of them (one fewer shows).

use rapport::normalize::parse_date;
use rapport::record::{Record, RecordKind};

use super::fixture::answers;

const CUSTOMERS: usize = 2500;
const WORDS: &[&str] = &[
    "invoice",
    "renewal",
    "warehouse",
    "discount",
    "robots",
    "billing",
    "dispute",
];
const COUNTRIES: &[&str] = &["JP", "US", "GB", "DE", "FR"];

/// One to five records per customer, and every 40th record without one.
fn records() -> Vec<Record> {
    let mut out = Vec::new();
    let mut i = 0usize;
    for customer in 0..CUSTOMERS {
        for _ in 0..1 + (customer * 7) % 5 {
            let mut r = Record::new("crm", &format!("N-{i:05}"), RecordKind::Note);
            if i % 40 != 39 {
                r.customer_id = Some(format!("C-{customer:04}"));
                r.customer_name = Some(format!("Customer {customer:04}"));
                r.customer_kind = Some("organization".into());
                r.customer_country = Some(COUNTRIES[customer % COUNTRIES.len()].into());
            }
            r.title = Some(format!("{} note", WORDS[i % WORDS.len()]));
            r.body = Some(format!(
                "{} {}",
                WORDS[(i / 3) % WORDS.len()],
                WORDS[(i / 11) % WORDS.len()]
            ));
            r.owner = Some(["Dana Field", "Ken Ito", "Mori"][i % 3].into());
            r.stage = Some(["open", "won", "lost"][(i / 2) % 3].into());
            // The first customers (written first, so in one piece) hold
            // the largest amounts and the word `priority`: a page's best
            // groups then all come from one piece, which must hand on
            // every one of them.
            r.amount = if customer < 100 {
                Some(100_000.0 - (customer * 10 + i % 3) as f64)
            } else {
                (!i.is_multiple_of(6)).then_some(((i * 31) % 17) as f64 * 100.0)
            };
            if customer < 60 {
                r.body = r
                    .body
                    .map(|b| format!("{b} priority{}", " urgent".repeat(i % 4)));
            }
            r.created = parse_date(&format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 9)).ok();
            out.push(r);
            i += 1;
        }
    }
    out
}

fn searches() -> Vec<Vec<(&'static str, String)>> {
    let pages: &[(usize, usize)] = &[
        (0, 10),
        (0, 100),
        (37, 25),
        (1200, 50),
        (2390, 200),
        (5, 0),
        (9000, 10),
    ];
    let mut out = Vec::new();
    for q in [
        "*",
        "invoice",
        "billing dispute",
        "robots warehouse",
        "priority",
    ] {
        for (offset, limit) in pages {
            out.push(vec![
                ("q", q.to_string()),
                ("group", "customer".into()),
                ("offset", offset.to_string()),
                ("limit", limit.to_string()),
            ]);
        }
    }
    for sort in ["amount", "date"] {
        for order in ["desc", "asc"] {
            for (offset, limit) in [(0, 10), (900, 30), (2000, 100)] {
                out.push(vec![
                    ("q", "*".into()),
                    ("group", "customer".into()),
                    ("sort", sort.into()),
                    ("order", order.into()),
                    ("offset", offset.to_string()),
                    ("limit", limit.to_string()),
                ]);
            }
        }
    }
    for (offset, limit) in [(0, 10), (500, 20)] {
        out.push(vec![
            ("q", "invoice".into()),
            ("group", "customer".into()),
            ("filter.customer_country", "JP,US".into()),
            ("facets", "customer_country,owner,stage".into()),
            ("offset", offset.to_string()),
            ("limit", limit.to_string()),
        ]);
        out.push(vec![
            ("q", "discount".into()),
            ("group", "customer".into()),
            ("filter.owner", "Mori".into()),
            ("facets", "owner,stage".into()),
            ("offset", offset.to_string()),
            ("limit", limit.to_string()),
        ]);
    }
    out
}

#[test]
fn the_page_of_the_best_groups_answers_as_every_group_does() {
    let records = records();
    let ws = super::fixture::workspace_with(&records);
    // One indexing thread: records land in segments in the order written,
    // so the first customers' records share a piece.
    ws.write_config_with(
        &[],
        "synonyms = \"synonyms.txt\"\n[index]\nwriter_threads = 1",
    );
    let mut command = ws.command(&["serve", "--listen", "127.0.0.1:0"]);
    command.env("RAPPORT_TEST_EVERY_GROUP", "1");
    let full = answers(&ws.start(command), &searches());
    let fast = answers(&ws.serve(), &searches());
    let mut command = ws.command(&["serve", "--listen", "127.0.0.1:0"]);
    command.env("RAPPORT_TEST_RANGE_DOCS", "300");
    let cut = answers(&ws.start(command), &searches());

    assert_eq!(full[0]["total"].as_u64(), Some(records.len() as u64));
    let without_customer = records.iter().filter(|r| r.customer_id.is_none()).count();
    assert_eq!(
        full[0]["total_customers"].as_u64(),
        Some((CUSTOMERS + without_customer) as u64)
    );
    for ((params, full), (fast, cut)) in searches().iter().zip(&full).zip(fast.iter().zip(&cut)) {
        assert_eq!(full, fast, "{params:?}");
        assert_eq!(full, cut, "{params:?} (cut into ranges)");
    }
}
