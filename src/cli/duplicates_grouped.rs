//! `rapport quality --duplicates --grouped`: the steward's queue as items,
//! most likely first: a pair of customers with evidence beyond a shared
//! name, or a group of namesakes ("N customers named X at K companies")
//! with the fields that differ between them. CSV
//! (`item,type,score,customers,name,companies,evidence,why`: the score is
//! the item's rank, `why` the evidence behind it) or JSON; through
//! the running server while one holds the data directory, from the store
//! otherwise.
//!
//! It must never change anything: it only reads.

use anyhow::Result;
use serde_json::Value;

use rapport::config::Config;
use rapport::engine::{DataDir, DuplicateKind, Rapport};

pub fn list(
    config: Config,
    chosen: Option<DuplicateKind>,
    kind: Option<&str>,
    min_score: Option<f64>,
    json: bool,
) -> Result<()> {
    let items = if DataDir::held_by_server(&config) {
        let mut params: Vec<(&str, String)> = vec![("view", "grouped".to_string())];
        params.extend(kind.map(|k| ("kind", k.to_string())));
        params.extend(min_score.map(|m| ("min_score", m.to_string())));
        crate::cli::export::all_pages(&config, "/v1/quality/duplicates", &params, "items")?
    } else {
        let page =
            Rapport::open(config)?.suspected_duplicate_items(chosen, min_score, 0, usize::MAX)?;
        match serde_json::to_value(page.items)? {
            Value::Array(items) => items,
            _ => Vec::new(),
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record([
        "item",
        "type",
        "score",
        "customers",
        "name",
        "companies",
        "evidence",
        "why",
    ])?;
    for (n, item) in items.iter().enumerate() {
        out.write_record(row(n + 1, item))?;
    }
    out.flush()?;
    Ok(())
}

/// One CSV row of an item.
fn row(n: usize, item: &Value) -> [String; 8] {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let score = item["score"]
        .as_f64()
        .map(|s| format!("{s:.1}"))
        .unwrap_or_default();
    if item["type"] == "name_group" {
        let customers: Vec<String> = item["customers"]
            .as_array()
            .map(|cs| cs.iter().map(|c| text(&c["id"])).collect())
            .unwrap_or_default();
        let differs: Vec<String> = item["differs"]
            .as_array()
            .map(|d| d.iter().map(text).collect())
            .unwrap_or_default();
        let companies = item["companies"].as_u64().unwrap_or(0);
        let evidence = format!(
            "{} customers named {} at {companies} companies share nothing but the name ({:.1} bits); they differ in: {}",
            customers.len(),
            text(&item["name"]),
            item["name_bits"].as_f64().unwrap_or(0.0),
            if differs.is_empty() {
                "nothing shown".to_string()
            } else {
                differs.join(", ")
            }
        );
        [
            n.to_string(),
            "name_group".into(),
            score,
            customers.join(" "),
            text(&item["name"]),
            companies.to_string(),
            evidence,
            text(&item["why"]),
        ]
    } else {
        [
            n.to_string(),
            "pair".into(),
            score,
            format!("{} {}", text(&item["a"]), text(&item["b"])),
            String::new(),
            String::new(),
            text(&item["evidence"]),
            text(&item["why"]),
        ]
    }
}
