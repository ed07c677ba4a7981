//! `rapport customers export` and `rapport quality`: the single customer
//! view for analysts and stewards, from the command line.
//!
//! It must never change anything; it only prints. While a server holds the
//! data directory, both ask it (`GET /v1/customers`, `GET /v1/quality`).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use rapport::config::Config;
use rapport::engine::{DataDir, Rapport};

#[derive(Subcommand)]
pub enum CustomersCommand {
    /// One line per customer: its golden record and member records.
    Export {
        #[arg(long, default_value = "ndjson")]
        format: String,
    },
    /// Everything held on one customer (a data subject's access or
    /// portability request) as one JSON document on stdout.
    SubjectExport { id: String },
}

pub fn run(config: Option<&Path>, command: CustomersCommand) -> Result<()> {
    let format = match command {
        CustomersCommand::Export { format } => format,
        CustomersCommand::SubjectExport { id } => return subject_export(config, &id),
    };
    if format != "ndjson" {
        bail!("--format `{format}` is not supported; use ndjson");
    }
    let config = Config::load(config)?;
    let mut out = std::io::stdout().lock();
    if DataDir::held_by_server(&config) {
        let body = crate::cli::export::get_from_server(&config, "/v1/customers")?;
        out.write_all(body.as_bytes())?;
        return Ok(());
    }
    let app = Rapport::open(config)?;
    for line in app.customer_export_lines()? {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

pub fn quality(config: Option<&Path>, json: bool) -> Result<()> {
    let config = Config::load(config)?;
    let report: serde_json::Value = if DataDir::held_by_server(&config) {
        serde_json::from_str(&crate::cli::export::get_from_server(
            &config,
            "/v1/quality",
        )?)
        .context("the server's quality report")?
    } else {
        serde_json::to_value(Rapport::open(config)?.quality()?)?
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let list = |key: &str| report[key].as_array().cloned().unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let duplicates = list("suspected_duplicates");
    println!("suspected duplicates: {}", duplicates.len());
    for s in &duplicates {
        println!(
            "  {} ~ {}  {:.2}  {}",
            text(&s["a"]),
            text(&s["b"]),
            s["score"].as_f64().unwrap_or(0.0),
            text(&s["evidence"])
        );
    }
    println!("quality issues:");
    for i in &list("issues") {
        println!(
            "  {:<12} {:<12} {:>6}",
            text(&i["source"]),
            text(&i["field"]),
            i["count"].as_u64().unwrap_or(0)
        );
        for sample in i["samples"].as_array().into_iter().flatten() {
            println!(
                "      {}: {}",
                text(&sample["record"]),
                text(&sample["reason"])
            );
        }
    }
    println!("unattached records:");
    for u in &list("unattached") {
        println!(
            "  {:<12} {:>6}  {}",
            text(&u["source"]),
            u["count"].as_u64().unwrap_or(0),
            text(&u["reason"])
        );
    }
    // With `[resolve] weights` estimating: what EM found.
    for name in ["organisations", "people"] {
        let features = report["model"][name]["features"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if features.is_empty() {
            continue;
        }
        println!("{name}: m and u estimated by EM");
        for f in &features {
            for l in f["levels"].as_array().into_iter().flatten() {
                println!(
                    "  {:<16} {:<34} m {:.3}  u {:.4}  {:+.1} bits",
                    text(&f["feature"]),
                    text(&l["level"]),
                    l["m"].as_f64().unwrap_or(0.0),
                    l["u"].as_f64().unwrap_or(0.0),
                    l["bits"].as_f64().unwrap_or(0.0)
                );
            }
        }
    }
    Ok(())
}

fn subject_export(config: Option<&Path>, id: &str) -> Result<()> {
    let config = Config::load(config)?;
    let document = if DataDir::held_by_server(&config) {
        crate::cli::export::get_from_server(&config, &format!("/v1/customers/{id}/subject-export"))?
    } else {
        serde_json::to_string_pretty(&Rapport::open(config)?.subject_export(id)?)?
    };
    println!("{}", document.trim_end());
    Ok(())
}
