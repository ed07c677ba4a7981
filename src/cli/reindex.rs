//! `rapport reindex [--source NAME | --from-store] [--detach] [--server URL]`:
//! asks the running server for a reindex job and follows it with a progress
//! bar (polling `GET /v1/jobs/{id}`), or prints its id with `--detach`. When
//! no server answers, it runs the job in this process on the data directory,
//! with the same progress bar.
//!
//! It must never decide anything about the job: the engine does; this only
//! starts it and shows it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use rapport::config::Config;
use rapport::engine::JobTrigger;
use rapport::engine::{Rapport, ReindexRequest};

const POLL_EVERY: Duration = Duration::from_millis(200);

#[derive(clap::Args)]
pub struct ReindexArgs {
    /// Re-read only this source (ignoring its file checkpoints), then catch up.
    #[arg(long, conflicts_with = "from_store")]
    source: Option<String>,
    /// Rebuild the index from the store only (e.g. after a schema change).
    #[arg(long)]
    from_store: bool,
    /// Print the job id and return at once (needs a running server).
    #[arg(long)]
    detach: bool,
    /// The server's base URL (default: the `listen` address of rapport.toml).
    #[arg(long)]
    server: Option<String>,
}

impl ReindexArgs {
    fn request(&self) -> ReindexRequest {
        match (&self.source, self.from_store) {
            (Some(source), _) => ReindexRequest::Source(source.clone()),
            (None, true) => ReindexRequest::FromStore,
            (None, false) => ReindexRequest::Everything,
        }
    }

    fn body(&self) -> Value {
        match self.request() {
            ReindexRequest::Source(source) => json!({ "source": source }),
            ReindexRequest::FromStore => json!({ "from": "store" }),
            ReindexRequest::Everything => json!({}),
        }
    }
}

pub fn run(config: Option<&std::path::Path>, args: ReindexArgs) -> Result<std::process::ExitCode> {
    let config = Config::load(config)?;
    let base = args
        .server
        .clone()
        .unwrap_or_else(|| server_url(&config.listen));
    let base = base.trim_end_matches('/').to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let client = crate::cli::auth::client_builder(&config, &base)?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")?;
    let posted = runtime.block_on(call(
        client
            .post(format!("{base}/v1/reindex"))
            .header("content-type", "application/json")
            .body(args.body().to_string()),
    ));
    let (status, answer) = match posted {
        Ok(answer) => answer,
        Err(e) if e.is_connect() => {
            if args.detach {
                bail!(
                    "no server answers at {base}: --detach needs a running server (`rapport serve`); without --detach the job runs in this process"
                );
            }
            eprintln!("no server answers at {base}: reindexing in this process");
            return in_process(config, args.request());
        }
        Err(e) => return Err(e).with_context(|| format!("POST {base}/v1/reindex")),
    };
    if status != 202 {
        let message = answer["error"]["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| answer.to_string());
        bail!("the server refused the reindex ({status}): {message}");
    }
    let id = answer["id"]
        .as_str()
        .context("the server's answer has no job id")?
        .to_string();
    if args.detach {
        println!("{id}");
        return Ok(std::process::ExitCode::SUCCESS);
    }
    eprintln!("job {id} started on {base}");
    let url = format!("{base}/v1/jobs/{id}");
    follow(|| {
        let (status, job) = runtime
            .block_on(call(client.get(&url)))
            .with_context(|| format!("GET {url}"))?;
        if status != 200 {
            bail!("GET {url} answered {status}: {job}");
        }
        Ok(job)
    })
}

/// Runs the job on the data directory (no server holds it).
fn in_process(config: Config, request: ReindexRequest) -> Result<std::process::ExitCode> {
    let app = Arc::new(Rapport::open(config).context("opening the data directory")?);
    let job = app.start_reindex(request, JobTrigger::Cli)?;
    let code = follow(|| Ok(serde_json::to_value(job.view())?))?;
    // Let the job thread save the job history before the process ends.
    let started = Instant::now();
    while Arc::strong_count(&app) > 1 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(code)
}

async fn call(request: reqwest::RequestBuilder) -> reqwest::Result<(u16, Value)> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// Shows the job's progress until it finishes; non-zero exit unless it
/// succeeded.
fn follow(mut poll: impl FnMut() -> Result<Value>) -> Result<std::process::ExitCode> {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} records {msg}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    let job = loop {
        let job = poll()?;
        let state = job["state"].as_str().unwrap_or("unknown");
        bar.set_prefix(job["phase"].as_str().unwrap_or(state).to_string());
        bar.set_length(job["records_total"].as_u64().unwrap_or(0));
        bar.set_position(job["records_done"].as_u64().unwrap_or(0));
        let mut message = String::new();
        if let Some(rate) = job["rate"].as_f64() {
            message.push_str(&format!("{rate:.0}/s"));
        }
        if let Some(eta) = job["eta_seconds"].as_f64() {
            message.push_str(&format!(" ETA {eta:.0} s"));
        }
        bar.set_message(message);
        if matches!(state, "succeeded" | "failed" | "cancelled") {
            break job;
        }
        std::thread::sleep(POLL_EVERY);
    };
    bar.finish_and_clear();
    let state = job["state"].as_str().unwrap_or("unknown");
    let id = job["id"].as_str().unwrap_or("?");
    let seconds = match (
        job["started_at"].as_str().and_then(parse_time),
        job["finished_at"].as_str().and_then(parse_time),
    ) {
        (Some(start), Some(end)) => (end - start).num_milliseconds() as f64 / 1000.0,
        _ => 0.0,
    };
    println!(
        "job {id} {state}: {} records in {seconds:.1} s{}",
        job["records_done"].as_u64().unwrap_or(0),
        job["rate"]
            .as_f64()
            .map(|r| format!(" ({r:.0} records/s)"))
            .unwrap_or_default()
    );
    if let Some(count) = job["error_count"].as_u64().filter(|c| *c > 0) {
        println!("{count} problem(s):");
        for error in job["errors"].as_array().into_iter().flatten() {
            let place = match (error["file"].as_str(), error["line"].as_u64()) {
                (Some(file), Some(line)) => format!("{file}:{line}: "),
                (Some(file), None) => format!("{file}: "),
                _ => String::new(),
            };
            println!("  {place}{}", error["message"].as_str().unwrap_or(""));
        }
    }
    if let Some(message) = job["message"].as_str() {
        eprintln!("job {id} {state}: {message}");
    }
    Ok(if state == "succeeded" {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}

fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(text).ok()
}

/// `http://HOST:PORT` for a listen address; a wildcard host becomes loopback.
fn server_url(listen: &str) -> String {
    if listen.starts_with("http://") || listen.starts_with("https://") {
        return listen.to_string();
    }
    let address = if let Some(port) = listen.strip_prefix("0.0.0.0:") {
        format!("127.0.0.1:{port}")
    } else if let Some(port) = listen.strip_prefix("[::]:") {
        format!("[::1]:{port}")
    } else {
        listen.to_string()
    };
    format!("http://{address}")
}
