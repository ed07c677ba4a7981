//! `rapport quality --unattached`: every record that waits for a steward
//! because resolution attached it to no customer, with the reason, as CSV
//! (`record,source,kind,reason,candidates`, for a spreadsheet; the
//! candidates are the customer ids an ambiguous record could belong to,
//! separated by spaces) or JSON. Through the
//! running server's `GET /v1/quality/unattached`, page by page, while one
//! holds the data directory; from the store otherwise.
//!
//! It must never change anything: it only reads.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

use rapport::config::Config;
use rapport::engine::{DataDir, Rapport};

/// Records asked of the server per page (its maximum).
pub(crate) const PAGE: usize = 10_000;

/// Every item of a paged quality list of the running server (`route` with
/// `params`), page by page: the items are under `key`, the count under
/// `total`.
pub(crate) fn all_pages(
    config: &Config,
    route: &str,
    params: &[(&str, String)],
    key: &str,
) -> Result<Vec<Value>> {
    let mut items = Vec::new();
    loop {
        let mut query = vec![
            ("offset", items.len().to_string()),
            ("limit", PAGE.to_string()),
        ];
        query.extend(params.iter().cloned());
        let url = reqwest::Url::parse_with_params(&format!("http://server{route}"), &query)?;
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let page: Value =
            serde_json::from_str(&crate::cli::export::get_from_server(config, &path)?)
                .with_context(|| format!("the server's answer to {route}"))?;
        let batch = page[key].as_array().cloned().unwrap_or_default();
        let total = page["total"].as_u64().unwrap_or(0) as usize;
        let done = batch.is_empty();
        items.extend(batch);
        if done || items.len() >= total {
            return Ok(items);
        }
    }
}

pub fn list(config: Option<&Path>, source: Option<&str>, json: bool) -> Result<()> {
    let config = Config::load(config)?;
    let records = if DataDir::held_by_server(&config) {
        let params: Vec<(&str, String)> = source
            .map(|s| ("source", s.to_string()))
            .into_iter()
            .collect();
        all_pages(&config, "/v1/quality/unattached", &params, "records")?
    } else {
        let page = Rapport::open(config)?.unattached_records(source, 0, usize::MAX)?;
        match serde_json::to_value(page.records)? {
            Value::Array(records) => records,
            _ => Vec::new(),
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(());
    }
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record(["record", "source", "kind", "reason", "candidates"])?;
    for r in &records {
        let field = |name: &str| r[name].as_str().unwrap_or_default().to_string();
        let candidates: Vec<&str> = r["candidates"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        out.write_record([
            field("record"),
            field("source"),
            field("kind"),
            field("reason"),
            candidates.join(" "),
        ])?;
    }
    out.flush()?;
    Ok(())
}
