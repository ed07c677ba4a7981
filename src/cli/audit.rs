//! `rapport audit verify` and `rapport audit list`: the audit log for a
//! data-protection officer, from the store when no server runs, else from
//! the server's `GET /v1/audit`.
//!
//! It must never change the log: it only reads and checks.

use std::path::Path;

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::Value;

use rapport::config::Config;
use rapport::engine::{AuditQuery, DataDir};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the whole hash chain; exit status 1 if an entry was changed,
    /// removed or reordered.
    Verify,
    /// List entries, oldest first.
    List {
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        action: Option<String>,
        #[arg(long)]
        customer: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(config: Option<&Path>, command: AuditCommand) -> Result<std::process::ExitCode> {
    let config = Config::load(config)?;
    match command {
        AuditCommand::Verify => {
            let chain: Result<usize, String> = match DataDir::open(&config)? {
                DataDir::Free(local) => local.verify_audit()?.map_err(|e| e.to_string()),
                DataDir::HeldByServer => {
                    let answer = from_server(&config, "/v1/audit?verify=true&limit=1")?;
                    let chain = &answer["chain"];
                    if chain["verified"] == Value::Bool(true) {
                        Ok(chain["entries"].as_u64().unwrap_or(0) as usize)
                    } else {
                        Err(chain["error"]
                            .as_str()
                            .unwrap_or("not verified")
                            .to_string())
                    }
                }
            };
            match chain {
                Ok(n) => {
                    println!("audit log intact: {n} entries, every link checked");
                    Ok(std::process::ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("audit log broken: {e}");
                    Ok(std::process::ExitCode::from(1))
                }
            }
        }
        AuditCommand::List {
            actor,
            action,
            customer,
            limit,
            json,
        } => {
            let entries: Vec<Value> = match DataDir::open(&config)? {
                DataDir::Free(local) => {
                    let query = AuditQuery {
                        actor,
                        action,
                        customer_id: customer,
                        limit: limit.max(1),
                        ..AuditQuery::default()
                    };
                    local
                        .audit_entries(&query)?
                        .into_iter()
                        .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
                        .collect()
                }
                DataDir::HeldByServer => {
                    let mut params = vec![("limit", limit.clamp(1, 1000).to_string())];
                    for (name, value) in [
                        ("actor", actor),
                        ("action", action),
                        ("customer_id", customer),
                    ] {
                        params.extend(value.map(|v| (name, v)));
                    }
                    // Encoded as `rapport export` encodes its query.
                    let url = reqwest::Url::parse_with_params("http://server/v1/audit", &params)?;
                    let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
                    from_server(&config, &path)?["entries"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                }
            };
            for e in &entries {
                if json {
                    println!("{e}");
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        e["seq"],
                        e["at"].as_str().unwrap_or_default(),
                        e["actor"].as_str().unwrap_or_default(),
                        e["action"].as_str().unwrap_or_default(),
                        e["customer_id"].as_str().unwrap_or("-"),
                        e["outcome"].as_str().unwrap_or_default()
                    );
                }
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

fn from_server(config: &Config, path: &str) -> Result<Value> {
    let text = crate::cli::export::get_from_server(config, path)?;
    serde_json::from_str(&text).context("the server's answer")
}
