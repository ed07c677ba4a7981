//! `rapport quality --unattached`: every record that waits for a steward
//! because resolution attached it to no customer, with the reason, as CSV
//! (`record,source,kind,reason,candidates`, for a spreadsheet; the
//! candidates are the customer ids an ambiguous record could belong to,
//! separated by spaces) or JSON. Through the running server's
//! `GET /v1/quality/unattached`, page by page (`export::all_pages`), while one
//! holds the data directory; from the store otherwise.
//!
//! It must never change anything: it only reads.

use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use rapport::config::Config;
use rapport::engine::{DataDir, Rapport};

pub fn list(config: Option<&Path>, source: Option<&str>, json: bool) -> Result<()> {
    let config = Config::load(config)?;
    let records = if DataDir::held_by_server(&config) {
        let params: Vec<(&str, String)> = source
            .map(|s| ("source", s.to_string()))
            .into_iter()
            .collect();
        crate::cli::export::all_pages(&config, "/v1/quality/unattached", &params, "records")?
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
