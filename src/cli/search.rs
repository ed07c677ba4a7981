//! `rapport search`: the index as last committed when the data directory is
//! free, else the running server's `GET /v1/search` with the same
//! parameters (authenticated as every CLI call to a server is), so that a
//! search never reads index files a server may be merging away.
//!
//! It must never change anything, and never print a search differently
//! for the two ways: both answers go through one text printer, and `--json`
//! prints the server's answer with its fields in the order it sent them,
//! which is the order a local search prints.

use anyhow::{Context, Result};

use rapport::config::Config;
use rapport::engine::{self, DataDir, SearchRequest};

/// Searches with `params` (the URL parameters of `/v1/search`) and prints
/// the answer, as JSON with `json`.
pub fn run(config: &Config, params: &[(String, String)], json: bool) -> Result<()> {
    // Checked here first: a bad parameter is reported the same either way.
    let request = SearchRequest::from_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let response = if DataDir::held_by_server(config) {
        let url = reqwest::Url::parse_with_params("http://server/v1/search", params)?;
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let body = crate::cli::export::get_from_server(config, &path)?;
        if json {
            return print_pretty_in_order(&body);
        }
        serde_json::from_str(&body).context("the server's search answer")?
    } else {
        let response = engine::search_read_only(config, &request)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&response)?);
            return Ok(());
        }
        serde_json::to_value(&response)?
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&response)?);
    } else {
        crate::cli::output::print_hits(&response);
    }
    Ok(())
}

/// Pretty-prints a JSON text without reordering its objects' fields (a
/// `serde_json::Value` would sort them by name).
fn print_pretty_in_order(body: &str) -> Result<()> {
    let mut reader = serde_json::Deserializer::from_str(body);
    let mut out = Vec::new();
    let mut writer = serde_json::Serializer::pretty(&mut out);
    serde_transcode::transcode(&mut reader, &mut writer).context("the server's search answer")?;
    println!("{}", String::from_utf8_lossy(&out));
    Ok(())
}
