//! `rapport connectors status` and `rapport connectors check MANIFEST
//! --sample FILE`: what the sources did last, and whether a manifest maps a
//! sample export the way its author meant.
//!
//! It must never change the store; it only reads and prints.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use rapport::config::Config;
use rapport::connectors::manifest::Columns;
use rapport::connectors::{self, Collect, Manifest, ReadError, SourceFile};
use rapport::engine::DataDir;
use rapport::sources::status::{self, ConnectorStatus};

#[derive(Subcommand)]
pub enum ConnectorsCommand {
    /// Per source: state, last run, files seen, records ingested/updated/deleted and errors.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Validate a manifest (built-in name or .toml path) and preview the records of a sample file.
    Check {
        manifest: String,
        /// A sample export to map.
        #[arg(long)]
        sample: Option<PathBuf>,
        /// Records to preview.
        #[arg(long, default_value_t = 3)]
        limit: usize,
    },
    /// List the built-in manifests.
    List,
}

pub fn run(
    config_path: Option<&Path>,
    command: ConnectorsCommand,
) -> Result<std::process::ExitCode> {
    match command {
        ConnectorsCommand::Status { json } => status(config_path, json),
        ConnectorsCommand::Check {
            manifest,
            sample,
            limit,
        } => check(config_path, &manifest, sample.as_deref(), limit),
        ConnectorsCommand::List => {
            for (name, text) in rapport::connectors::manifest::BUILTIN {
                let description = Manifest::parse(text, name)
                    .map(|m| m.description)
                    .unwrap_or_default();
                println!("{name:<18} {description}");
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

fn status(config_path: Option<&Path>, json: bool) -> Result<std::process::ExitCode> {
    let config = Config::load(config_path)?;
    let (sources, note) = match DataDir::open(&config)? {
        DataDir::Free(local) => (local.connector_status(&config)?, None),
        DataDir::HeldByServer => match from_server(&config) {
            Ok(sources) => (sources, None),
            Err(e) => match status::read_snapshot(&config.data_dir) {
                Some(s) => {
                    tracing::warn!(error = %format!("{e:#}"), "the server did not answer; showing its latest snapshot");
                    (
                        s,
                        Some("a server holds the store: showing its latest snapshot"),
                    )
                }
                None => bail!(
                    "a server holds the store and has written no status snapshot yet; try GET /v1/connectors"
                ),
            },
        },
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&sources)?);
        return Ok(std::process::ExitCode::SUCCESS);
    }
    if let Some(note) = note {
        println!("({note})");
    }
    print_status(&sources);
    Ok(std::process::ExitCode::SUCCESS)
}

/// The live status from the server holding the store (`GET /v1/connectors`).
fn from_server(config: &Config) -> Result<Vec<ConnectorStatus>> {
    let text = crate::cli::export::get_from_server(config, "/v1/connectors")?;
    let mut answer: serde_json::Value =
        serde_json::from_str(&text).context("the server's connector status")?;
    serde_json::from_value(answer["sources"].take()).context("the server's connector status")
}

fn print_status(sources: &[ConnectorStatus]) {
    println!(
        "{:<14} {:<18} {:<9} {:<20} {:>6} {:>9} {:>8} {:>8} {:>7}",
        "source",
        "connector",
        "state",
        "last run",
        "files",
        "inserted",
        "updated",
        "deleted",
        "errors"
    );
    for s in sources {
        let (when, files, ins, upd, del, errs) = match &s.last_run {
            Some(run) => (
                run.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                run.report.files_seen,
                run.report.inserted,
                run.report.updated,
                run.report.deleted,
                run.report.error_count,
            ),
            None => ("never".into(), 0, 0, 0, 0, 0),
        };
        println!(
            "{:<14} {:<18} {:<9} {:<20} {:>6} {:>9} {:>8} {:>8} {:>7}",
            s.source, s.connector, s.state, when, files, ins, upd, del, errs
        );
        if let Some(run) = &s.last_run {
            if let Some(failed) = &run.report.failed {
                println!("  FAILED: {failed}");
            }
            for e in &run.report.errors {
                println!("  {e}");
            }
        }
        if let Some(pull) = &s.last_pull {
            println!(
                "  pull: {} ({} fetched, {} not modified){}",
                pull.outcome.as_deref().unwrap_or("never"),
                pull.fetches,
                pull.not_modified,
                pull.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
        }
    }
}

fn check(
    config_path: Option<&Path>,
    reference: &str,
    sample: Option<&Path>,
    limit: usize,
) -> Result<std::process::ExitCode> {
    let config = Config::load(config_path).unwrap_or_default();
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let manifest = Manifest::resolve(reference, config.connectors_dir.as_deref(), &here)?;
    println!(
        "manifest {} is valid: format {:?}, extensions {}",
        manifest.name,
        manifest.format,
        manifest.extensions.join(", ")
    );
    for mapping in &manifest.files {
        println!(
            "  files {} → {}",
            mapping.patterns.join(", "),
            mapping.kind().as_str()
        );
    }
    let Some(sample) = sample else {
        return Ok(std::process::ExitCode::SUCCESS);
    };
    let Some(mapping) = manifest.mapping_for(sample) else {
        bail!(
            "{} does not read {}: it takes files ending in {}{}",
            manifest.name,
            sample.display(),
            manifest.extensions.join(", "),
            if manifest.files.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = manifest
                    .files
                    .iter()
                    .flat_map(|m| m.patterns.clone())
                    .collect();
                format!(" named {}", names.join(", "))
            }
        );
    };
    let file = SourceFile {
        relative: sample
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path: sample.to_path_buf(),
    };
    let mut sink = Collect {
        limit: limit.max(1) * 20,
        ..Collect::default()
    };
    match connectors::read_file("sample", &manifest, &file, &mut sink) {
        Ok(()) | Err(ReadError::Stopped) => {}
        Err(ReadError::Unreadable(e)) => {
            eprintln!("error: {e}");
            return Ok(std::process::ExitCode::from(1));
        }
    }
    println!(
        "{} records read from the sample (up to {})",
        sink.records.len(),
        sink.limit
    );
    let mut missing = 0;
    for (target, columns) in &mapping.fields {
        let found = sink.records.iter().filter(|r| has_field(r, target)).count();
        if found == 0 && target != "kind" {
            missing += 1;
            println!(
                "unknown field: `{target}` maps {} but no record of the sample got a value from it — check the column/key names",
                or_list(columns)
            );
        }
    }
    for (rel, columns) in &mapping.links {
        if !sink
            .records
            .iter()
            .any(|r| r.links.iter().any(|l| &l.rel == rel))
        {
            missing += 1;
            println!(
                "unknown field: link `{rel}` maps {} but no record of the sample has it",
                or_list(columns)
            );
        }
    }
    for e in &sink.errors {
        println!("problem: {e}");
    }
    for record in sink.records.iter().take(limit) {
        println!(
            "{}",
            serde_json::to_string_pretty(record).context("printing a record")?
        );
    }
    Ok(if missing > 0 || sink.records.is_empty() {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    })
}

fn has_field(record: &rapport::record::Record, target: &str) -> bool {
    match target {
        "external_id" => !record.quality.iter().any(|q| q.field == "external_id"),
        "customer_ref" => record.customer_ref.is_some(),
        "title" => record.title.is_some(),
        "body" => record.body.is_some(),
        "names" => !record.names.is_empty(),
        "emails" => !record.emails.is_empty() || record.attrs.contains_key("raw_emails"),
        "phones" => !record.phones.is_empty() || record.attrs.contains_key("raw_phones"),
        "company" => record.company.is_some(),
        "country" => record.country.is_some() || record.attrs.contains_key("raw_country"),
        "stage" => record.stage.is_some(),
        "owner" => record.owner.is_some(),
        "tags" => !record.tags.is_empty(),
        "amount" => record.amount.is_some() || record.attrs.contains_key("raw_amount"),
        "currency" => record.currency.is_some(),
        "created" => record.created.is_some() || record.attrs.contains_key("raw_created"),
        "updated" => record.updated.is_some() || record.attrs.contains_key("raw_updated"),
        "birth_date" => record.birth_date.is_some() || record.attrs.contains_key("raw_birth_date"),
        "street" => record.address.street.is_some(),
        "city" => record.address.city.is_some(),
        "region" => record.address.region.is_some(),
        "postcode" => record.address.postcode.is_some(),
        "websites" => !record.websites.is_empty() || record.attrs.contains_key("raw_websites"),
        "national_id" | "jp_corp" | "vat" | "duns" | "company_number" => {
            !record.identifiers.is_empty() || record.attrs.contains_key(&format!("raw_{target}"))
        }
        _ => true,
    }
}

/// "`a` or `b`": a mapping's candidate columns, for messages.
fn or_list(columns: &Columns) -> String {
    columns
        .candidates()
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}
