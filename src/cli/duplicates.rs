//! `rapport quality --duplicates`: the steward's queue of suspected
//! duplicates, most likely first, as CSV (`a,b,score,evidence`: the two
//! customer ids, the score in bits and why) for a spreadsheet, or JSON;
//! `--kind` and `--min-score` filter it as `GET /v1/quality/duplicates`
//! does. Through the running server, page by page, while one holds the
//! data directory; from the store otherwise.
//!
//! With `--grouped`, the queue as a steward decides it: one row per item,
//! a pair with evidence beyond a shared name or a group of namesakes
//! (`item,type,score,customers,name,companies,evidence`).
//!
//! It must never change anything: it only reads.

use std::path::Path;

use anyhow::{Result, bail};
use serde_json::Value;

use rapport::config::Config;
use rapport::engine::{DataDir, DuplicateKind, Rapport};

pub fn list(
    config: Option<&Path>,
    kind: Option<&str>,
    min_score: Option<f64>,
    json: bool,
    grouped: bool,
) -> Result<()> {
    let config = Config::load(config)?;
    let chosen = match kind {
        None => None,
        Some(name) => match DuplicateKind::named(name) {
            Some(kind) => Some(kind),
            None => bail!("--kind must be `organization` or `person`, got `{name}`"),
        },
    };
    if grouped {
        return crate::cli::duplicates_grouped::list(config, chosen, kind, min_score, json);
    }
    let pairs = if DataDir::held_by_server(&config) {
        let mut params: Vec<(&str, String)> = Vec::new();
        params.extend(kind.map(|k| ("kind", k.to_string())));
        params.extend(min_score.map(|m| ("min_score", m.to_string())));
        crate::cli::export::all_pages(&config, "/v1/quality/duplicates", &params, "duplicates")?
    } else {
        let page = Rapport::open(config)?.suspected_duplicates(chosen, min_score, 0, usize::MAX)?;
        match serde_json::to_value(page.duplicates)? {
            Value::Array(pairs) => pairs,
            _ => Vec::new(),
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&pairs)?);
        return Ok(());
    }
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record(["a", "b", "score", "evidence"])?;
    for p in &pairs {
        let field = |name: &str| p[name].as_str().unwrap_or_default().to_string();
        let score = p["score"]
            .as_f64()
            .map(|s| format!("{s:.1}"))
            .unwrap_or_default();
        out.write_record([field("a"), field("b"), score, field("evidence")])?;
    }
    out.flush()?;
    Ok(())
}
