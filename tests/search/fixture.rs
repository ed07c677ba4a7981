//! A small customer book for the search tests, written straight into a data
//! directory's store through the library (as resolution would leave it:
//! every record carries its customer's id and golden fields), then served
//! by the real binary, which builds the index from the store.

use rapport::normalize::parse_date;
use rapport::record::{Record, RecordKind};
use rapport::store::Store;
use serde_json::json;

use crate::common::Workspace;

pub struct Customer {
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    country: &'static str,
}

const ACME: Customer = Customer {
    id: "C-ACME",
    name: "Acme Robotics Inc.",
    kind: "organization",
    country: "US",
};
const NITTO: Customer = Customer {
    id: "C-NITTO",
    name: "日東電工株式会社",
    kind: "organization",
    country: "JP",
};
const SMYTH: Customer = Customer {
    id: "C-SMYTH",
    name: "Ann Smyth",
    kind: "person",
    country: "GB",
};
const IBM: Customer = Customer {
    id: "C-IBM",
    name: "International Business Machines",
    kind: "organization",
    country: "US",
};
const KANSAI: Customer = Customer {
    id: "C-KANSAI",
    name: "Kansai Foods Ltd.",
    kind: "organization",
    country: "JP",
};

pub fn record(customer: Option<&Customer>, id: &str, kind: RecordKind, title: &str) -> Record {
    let mut r = Record::new("crm", id, kind);
    r.title = Some(title.to_string());
    if let Some(c) = customer {
        r.customer_id = Some(c.id.to_string());
        r.customer_name = Some(c.name.to_string());
        r.customer_kind = Some(c.kind.to_string());
        r.customer_country = Some(c.country.to_string());
        r.country = Some(c.country.to_string());
    }
    r
}

fn date(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    Some(parse_date(text).unwrap())
}

pub fn records() -> Vec<Record> {
    let mut out = Vec::new();

    let mut r = record(
        Some(&ACME),
        "ORG-1",
        RecordKind::Organization,
        "Acme Robotics Inc.",
    );
    r.names = vec!["Acme Robotics Inc.".into()];
    r.company = Some("Acme Robotics Inc.".into());
    r.emails = vec!["sales@acmerobotics.com".into()];
    r.phones = vec!["+14155550190".into()];
    r.tags = vec!["enterprise".into()];
    r.created = date("2021-06-14");
    r.attrs.insert("plan".into(), json!("gold"));
    // Two paths under one level: the record counts once for /industry.
    r.attrs.insert(
        "industry".into(),
        json!(["/industry/software/saas", "/industry/hardware"]),
    );
    out.push(r);

    let mut r = record(Some(&ACME), "PER-1", RecordKind::Person, "Jon Smith");
    r.names = vec!["Jon Smith".into(), "Jonathan Smith".into()];
    r.company = Some("Acme Robotics Inc.".into());
    r.emails = vec!["jon.smith@acmerobotics.com".into()];
    r.phones = vec!["+14155550100".into()];
    r.created = date("2022-01-10");
    out.push(r);

    let mut r = record(
        Some(&ACME),
        "EMAIL-1",
        RecordKind::Email,
        "Re: invoice dispute",
    );
    r.body = Some(
        "We still have not received the corrected invoice for the Fremont warehouse robots. \
         Please escalate the billing dispute before the renewal."
            .into(),
    );
    r.created = date("2024-05-02");
    out.push(r);

    let mut r = record(
        Some(&ACME),
        "OPP-7",
        RecordKind::Opportunity,
        "Fleet analytics renewal",
    );
    r.amount = Some(120_000.0);
    r.currency = Some("USD".into());
    r.stage = Some("won".into());
    r.created = date("2024-05-01");
    out.push(r);

    let mut r = record(
        Some(&NITTO),
        "ORG-2",
        RecordKind::Organization,
        "日東電工株式会社",
    );
    r.names = vec!["日東電工株式会社".into()];
    r.company = Some("日東電工株式会社".into());
    r.body = Some("大阪府茨木市に本社を置く材料メーカー。".into());
    r.phones = vec!["0312345678".into()];
    r.created = date("2022-02-01");
    out.push(r);

    let mut r = record(
        Some(&NITTO),
        "NOTE-2",
        RecordKind::Note,
        "日東電工 商談メモ",
    );
    r.body = Some("購買部と打ち合わせ。請求書の送付先を変更する invoice address change。".into());
    r.created = date("2024-04-18");
    out.push(r);

    let mut r = record(
        Some(&NITTO),
        "OPP-8",
        RecordKind::Opportunity,
        "生産管理システム刷新",
    );
    r.amount = Some(5_000_000.0);
    r.currency = Some("JPY".into());
    r.stage = Some("open".into());
    r.created = date("2024-06-01");
    out.push(r);

    let mut r = record(Some(&SMYTH), "PER-3", RecordKind::Person, "Ann Smyth");
    r.names = vec!["Ann Smyth".into()];
    r.emails = vec!["ann@smyth.co.uk".into()];
    r.created = date("2023-03-03");
    out.push(r);

    let mut r = record(
        Some(&IBM),
        "ORG-4",
        RecordKind::Organization,
        "International Business Machines",
    );
    r.names = vec!["International Business Machines".into()];
    r.company = Some("International Business Machines".into());
    r.body = Some("Mainframe renewal talks: a match for the new plan.".into());
    r.created = date("2020-01-01");
    r.attrs
        .insert("industry".into(), json!("/industry/software/it"));
    out.push(r);

    let mut r = record(
        Some(&KANSAI),
        "NOTE-5",
        RecordKind::Note,
        "Cold-chain invoice dispute",
    );
    r.body = Some("Kansai Foods disputes the March invoice for the Osaka warehouse.".into());
    r.amount = Some(300.0);
    r.created = date("2024-03-18");
    r.attrs.insert("industry".into(), json!("/industry/food"));
    out.push(r);

    // A record no customer claims (yet): it is its own group.
    let mut r = record(None, "NOTE-9", RecordKind::Note, "Loose invoice memo");
    r.body = Some("An invoice question from an unknown caller.".into());
    r.country = Some("JP".into());
    r.created = date("2024-02-02");
    out.push(r);

    out
}

/// A workspace whose store holds [`records`], with the test synonyms file.
pub fn workspace() -> Workspace {
    workspace_with(&records())
}

/// A workspace whose store holds `records`, with the test synonyms file.
pub fn workspace_with(records: &[Record]) -> Workspace {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path().join("store")).unwrap();
    {
        let store = Store::open(&ws.path().join("store/store.redb")).unwrap();
        store
            .apply_file("crm", "fixture.csv", "h", records)
            .unwrap();
    }
    std::fs::copy(
        crate::common::repo().join("tests/fixtures/search/synonyms.txt"),
        ws.path().join("synonyms.txt"),
    )
    .unwrap();
    ws.write_config_with(&[], "synonyms = \"synonyms.txt\"");
    ws
}

/// The answers of `searches` from `server`, each a 200, with the time
/// taken blanked so that two servers' answers compare whole.
pub fn answers(
    server: &crate::common::Server,
    searches: &[Vec<(&str, String)>],
) -> Vec<serde_json::Value> {
    searches
        .iter()
        .map(|params| {
            let url =
                reqwest::Url::parse_with_params(&format!("{}/v1/search", server.base), params)
                    .unwrap();
            let (status, mut body) = server.get(&url.as_str()[server.base.len()..]);
            assert_eq!(status, 200, "{params:?}: {body}");
            body["took_ms"] = serde_json::Value::Null;
            body
        })
        .collect()
}
