//! `rapport customers export` and `rapport quality`: the single customer
//! view for analysts and stewards, from the command line.
//!
//! It must never change anything; it only prints.

use std::io::Write;
use std::path::Path;

use anyhow::{Result, bail};
use clap::Subcommand;

use rapport::config::Config;
use rapport::customers;
use rapport::engine::Rapport;

#[derive(Subcommand)]
pub enum CustomersCommand {
    /// One line per customer: its golden record and member records.
    Export {
        #[arg(long, default_value = "ndjson")]
        format: String,
    },
}

pub fn run(config: Option<&Path>, command: CustomersCommand) -> Result<()> {
    let CustomersCommand::Export { format } = command;
    if format != "ndjson" {
        bail!("--format `{format}` is not supported; use ndjson");
    }
    let app = Rapport::open(Config::load(config)?)?;
    let lines = customers::export_lines(app.store())?;
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

pub fn quality(config: Option<&Path>, json: bool) -> Result<()> {
    let app = Rapport::open(Config::load(config)?)?;
    let report = customers::quality(app.store())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "suspected duplicates: {}",
        report.suspected_duplicates.len()
    );
    for s in &report.suspected_duplicates {
        println!("  {} ~ {}  {:.2}  {}", s.a, s.b, s.score, s.evidence);
    }
    println!("quality issues:");
    for i in &report.issues {
        println!("  {:<12} {:<12} {:>6}", i.source, i.field, i.count);
        for sample in &i.samples {
            println!("      {}: {}", sample.record, sample.reason);
        }
    }
    println!("unattached records:");
    for u in &report.unattached {
        println!("  {:<12} {:>6}  {}", u.source, u.count, u.reason);
    }
    Ok(())
}
