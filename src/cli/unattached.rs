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
const PAGE: usize = 10_000;

fn from_server(config: &Config, source: Option<&str>) -> Result<Vec<Value>> {
    let mut records = Vec::new();
    loop {
        let mut params = vec![
            ("offset", records.len().to_string()),
            ("limit", PAGE.to_string()),
        ];
        params.extend(source.map(|s| ("source", s.to_string())));
        let url = reqwest::Url::parse_with_params("http://server/v1/quality/unattached", &params)?;
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let page: Value =
            serde_json::from_str(&crate::cli::export::get_from_server(config, &path)?)
                .context("the server's list of unattached records")?;
        let batch = page["records"].as_array().cloned().unwrap_or_default();
        let total = page["total"].as_u64().unwrap_or(0) as usize;
        let done = batch.is_empty();
        records.extend(batch);
        if done || records.len() >= total {
            return Ok(records);
        }
    }
}

pub fn list(config: Option<&Path>, source: Option<&str>, json: bool) -> Result<()> {
    let config = Config::load(config)?;
    let records = if DataDir::held_by_server(&config) {
        from_server(&config, source)?
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
