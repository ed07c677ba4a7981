//! `rapport retention plan [--json]` and `rapport retention run [--json]`:
//! what the next retention run would purge, by source and reason, and
//! running one. Through the running server when it holds the data
//! directory (`GET /v1/retention/plan`, `POST /v1/retention/run`, then the
//! job followed in `/v1/jobs`), else in this process.
//!
//! It must never decide what expires (the engine does); it only asks and
//! prints.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde_json::Value;

use rapport::config::Config;
use rapport::engine::{DataDir, Rapport};

const POLL_EVERY: Duration = Duration::from_millis(200);
/// How long `run` follows a job on the server before giving up watching it.
const FOLLOW_AT_MOST: Duration = Duration::from_secs(3600);

#[derive(Subcommand)]
pub enum RetentionCommand {
    /// What the next run would purge, by source and reason; nothing is deleted.
    Plan {
        #[arg(long)]
        json: bool,
    },
    /// Purge what expired now (the plan at this moment), with tombstones and
    /// one audit entry.
    Run {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(config: Option<&Path>, command: RetentionCommand) -> Result<std::process::ExitCode> {
    let config = Config::load(config)?;
    let held = DataDir::held_by_server(&config);
    let (json, answer) = match command {
        RetentionCommand::Plan { json } => {
            let plan = if held {
                serde_json::from_str(&crate::cli::export::get_from_server(
                    &config,
                    "/v1/retention/plan",
                )?)
                .context("the server's retention plan")?
            } else {
                serde_json::to_value(Rapport::open(config)?.retention_plan()?)?
            };
            (json, plan)
        }
        RetentionCommand::Run { json } => {
            let result = if held {
                run_on_server(&config)?
            } else {
                let app = Rapport::open(config)?;
                let run = app.run_retention("local")?;
                serde_json::to_value(&run.plan)?
            };
            (json, result)
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print_summary(&answer);
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Starts the run on the server and follows its job; answers its result.
fn run_on_server(config: &Config) -> Result<Value> {
    let base = crate::cli::export::server_base(config)?;
    let client = crate::cli::auth::client_builder(config, &base)?.build()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let call = |request: reqwest::RequestBuilder| {
        runtime.block_on(async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await?;
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            Ok::<_, reqwest::Error>((status, body))
        })
    };
    let (status, job) = call(client.post(format!("{base}/v1/retention/run")))
        .with_context(|| format!("asking the server at {base}"))?;
    if status != 202 {
        bail!("the server refused the retention run ({status}): {job}");
    }
    let id = job["id"]
        .as_str()
        .context("the server's answer has no job id")?;
    eprintln!("retention job {id} started on {base}");
    let started = Instant::now();
    loop {
        let (status, job) = call(client.get(format!("{base}/v1/jobs/{id}")))
            .with_context(|| format!("following job {id}"))?;
        if status != 200 {
            bail!("GET /v1/jobs/{id} answered {status}: {job}");
        }
        match job["state"].as_str() {
            Some("succeeded") => return Ok(job["result"].clone()),
            Some("failed" | "cancelled") => {
                bail!("retention job {id} {}: {}", job["state"], job["message"])
            }
            _ if started.elapsed() > FOLLOW_AT_MOST => {
                bail!("retention job {id} still runs; follow it in GET /v1/jobs/{id}")
            }
            _ => std::thread::sleep(POLL_EVERY),
        }
    }
}

/// `source  reason  records` lines and the total.
fn print_summary(answer: &Value) {
    let total = answer["total"]
        .as_u64()
        .or(answer["purged"].as_u64())
        .unwrap_or(0);
    if let Some(by_source) = answer["by_source"].as_object() {
        for (source, reasons) in by_source {
            for (reason, count) in reasons.as_object().into_iter().flatten() {
                println!("{source}\t{reason}\t{count}");
            }
        }
    }
    let customers = answer["customers"].as_array().map_or(0, Vec::len);
    let undated = answer["undated"]
        .as_u64()
        .or(answer["undated_kept"].as_u64())
        .unwrap_or(0);
    println!(
        "{total} records ({customers} inactive customers whole); {undated} undated records kept"
    );
}
