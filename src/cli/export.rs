//! `rapport export`, `rapport snapshot DIR` and `rapport restore DIR`.
//!
//! While a server runs on the data directory it holds the store's lock, so
//! export and snapshot then go through its HTTP API (`--server URL`, else the
//! address the server noted in `data_dir/server.address` when it started,
//! else rapport.toml's `listen`); with no server they open the data
//! directory themselves. A server can only write snapshots into its own
//! `snapshot_dir`, so `rapport snapshot DIR` asks it for one there and then
//! moves that folder to DIR.
//!
//! It must never hold logic the API also needs; it only picks the path and
//! moves bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use rapport::config::Config;
use rapport::engine::DataDir;
use rapport::engine::Rapport;
use rapport::export::ExportRequest;
use rapport::export::rows::RowWriter;

#[derive(Args)]
pub struct ExportArgs {
    /// Query, as for search (default: everything).
    #[arg(long)]
    q: Option<String>,
    /// FIELD=VALUE, FIELD=A,B or FIELD=LOW..HIGH; repeatable.
    #[arg(long = "filter")]
    filters: Vec<String>,
    /// record (default) or customer.
    #[arg(long)]
    level: Option<String>,
    /// Columns, comma-separated (default: all of the level).
    #[arg(long)]
    fields: Option<String>,
    /// ndjson (default) or csv.
    #[arg(long)]
    format: Option<String>,
    /// The purpose the export is for (marketing, email, phone, fax,
    /// profiling): whoever opted out of it is left out, and counted.
    #[arg(long)]
    purpose: Option<String>,
    /// With --purpose: keep those who opted out anyway.
    #[arg(long)]
    include_opted_out: bool,
    /// false: only records attached to no customer, with their reason
    /// (`unattached_reason`); true: only attached ones.
    #[arg(long)]
    attached: Option<bool>,
    /// Write here (via a `.part` file renamed at the end) instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// A running server's base URL (default: from rapport.toml when the data
    /// directory is in use).
    #[arg(long)]
    server: Option<String>,
}

#[derive(Args)]
pub struct SnapshotArgs {
    /// Folder to create (must not exist, or be empty).
    dir: PathBuf,
    #[arg(long)]
    server: Option<String>,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A folder `rapport snapshot` wrote.
    dir: PathBuf,
    /// The data directory to bring back (default: rapport.toml's data_dir).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Replace a data directory that is not empty.
    #[arg(long)]
    force: bool,
}

/// Where a server notes the address it listens on (read only while the
/// store is locked, so a stale file from a stopped server is never used).
const SERVER_ADDRESS_FILE: &str = "server.address";

/// Notes the address `rapport serve` listens on in its data directory.
pub fn note_server_address(data_dir: &Path, address: std::net::SocketAddr, tls: bool) {
    let path = data_dir.join(SERVER_ADDRESS_FILE);
    let scheme = if tls { "https" } else { "http" };
    if let Err(e) = std::fs::write(&path, format!("{scheme}://{address}\n")) {
        tracing::warn!(path = %path.display(), error = %e, "could not note the server's address");
    }
}

enum Target {
    Server(String),
    Local,
}

/// The running server to talk to, or none (the data directory is free).
fn target(config: &Config, server: Option<String>) -> Result<Target> {
    if let Some(url) = server {
        return Ok(Target::Server(url.trim_end_matches('/').to_string()));
    }
    if DataDir::held_by_server(config) {
        if let Ok(noted) = std::fs::read_to_string(config.data_dir.join(SERVER_ADDRESS_FILE))
            && (noted.trim().starts_with("http://") || noted.trim().starts_with("https://"))
        {
            return Ok(Target::Server(noted.trim().to_string()));
        }
        let listen = &config.listen;
        if listen.ends_with(":0") {
            bail!(
                "the data directory is in use by a server listening on a port chosen at start (`{listen}`): pass --server http://HOST:PORT"
            );
        }
        let address = listen
            .replace("0.0.0.0:", "127.0.0.1:")
            .replace("[::]:", "127.0.0.1:");
        let scheme = if config.server.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        return Ok(Target::Server(format!("{scheme}://{address}")));
    }
    Ok(Target::Local)
}

/// The base URL of the server holding the data directory (the store is
/// locked), from `data_dir/server.address` or rapport.toml's `listen`.
pub fn server_base(config: &Config) -> Result<String> {
    match target(config, None)? {
        Target::Server(base) => Ok(base),
        Target::Local => bail!("no server holds the data directory"),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// The `{"error": {"message"}}` of a failed answer, or its text.
async fn error_text(response: reqwest::Response) -> String {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or(text);
    format!("the server answered {status}: {message}")
}

pub fn export(config: Option<&Path>, args: ExportArgs) -> Result<()> {
    let config = Config::load(config)?;
    let mut params: Vec<(String, String)> = Vec::new();
    if let Some(q) = &args.q {
        params.push(("q".into(), q.clone()));
    }
    for filter in &args.filters {
        let (field, value) = filter
            .split_once('=')
            .with_context(|| format!("--filter `{filter}`: expected FIELD=VALUE"))?;
        params.push((format!("filter.{field}"), value.to_string()));
    }
    for (name, value) in [
        ("level", &args.level),
        ("fields", &args.fields),
        ("format", &args.format),
        ("purpose", &args.purpose),
    ] {
        if let Some(value) = value {
            params.push((name.to_string(), value.clone()));
        }
    }
    if args.include_opted_out {
        params.push(("include_opted_out".into(), "true".into()));
    }
    if let Some(attached) = args.attached {
        params.push(("attached".into(), attached.to_string()));
    }
    // The same checks as the server's, before anything is written.
    let request = ExportRequest::from_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let (mut out, part): (Box<dyn Write>, Option<PathBuf>) = match &args.output {
        Some(path) => {
            let part = path.with_file_name(format!(
                ".{}.part",
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "export".into())
            ));
            let file = std::fs::File::create(&part)
                .with_context(|| format!("creating {}", part.display()))?;
            (
                Box::new(std::io::BufWriter::with_capacity(256 * 1024, file)),
                Some(part),
            )
        }
        None => (
            Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            None,
        ),
    };
    let result = match target(&config, args.server)? {
        Target::Server(base) => export_over_http(&config, &base, &params, &mut out),
        Target::Local => export_locally(config, request, &mut out),
    };
    out.flush()?;
    drop(out);
    match (result, part, &args.output) {
        (Ok(lines), Some(part), Some(path)) => {
            std::fs::rename(&part, path).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("{lines} lines written to {}", path.display());
            Ok(())
        }
        (Ok(_), _, _) => Ok(()),
        (Err(e), Some(part), _) => {
            let _ = std::fs::remove_file(part);
            Err(e)
        }
        (Err(e), None, _) => Err(e),
    }
}

fn export_locally(config: Config, request: ExportRequest, out: &mut dyn Write) -> Result<u64> {
    let app = Rapport::open(config).context("opening the data directory")?;
    let prepared = app.prepare_export(request)?;
    for warning in prepared.warnings() {
        eprintln!("warning: {warning}");
    }
    let request = prepared.request.clone();
    let mut writer = RowWriter::new(
        out,
        prepared.request.format,
        prepared.request.columns(),
        prepared.request.fields.is_none(),
    );
    match app.write_export(prepared, &mut writer) {
        Ok(summary) => {
            writer.finish()?;
            app.audit_purpose_export("local", &request, &summary)?;
            if let Some(purpose) = &request.purpose {
                eprintln!(
                    "purpose {purpose}: {} rows left out (opted out){}",
                    summary.left_out,
                    if request.include_opted_out {
                        ", kept as asked"
                    } else {
                        ""
                    }
                );
            }
            if summary.unassigned_records > 0 {
                eprintln!(
                    "note: {} matching records belong to no customer and are not in a customer export",
                    summary.unassigned_records
                );
            }
            Ok(summary.lines)
        }
        Err(e) => {
            let _ = writer.error_line(&e.to_string());
            let _ = writer.finish();
            Err(e.into())
        }
    }
}

fn export_over_http(
    config: &Config,
    base: &str,
    params: &[(String, String)],
    out: &mut dyn Write,
) -> Result<u64> {
    let client = crate::cli::auth::client_builder(config, base)?.build()?;
    runtime()?.block_on(async {
        let url = reqwest::Url::parse_with_params(&format!("{base}/v1/export"), params)
            .with_context(|| format!("server URL `{base}`"))?;
        let mut response = client
            .get(url)
            .send()
            .await
            .with_context(|| format!("asking the server at {base} for the export"))?;
        if !response.status().is_success() {
            bail!("{}", error_text(response).await);
        }
        let mut lines = 0u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .context("the export broke off (the last line says why, if the server could tell)")?
        {
            lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            out.write_all(&chunk)?;
        }
        Ok(lines)
    })
}

pub fn snapshot(config: Option<&Path>, args: SnapshotArgs) -> Result<()> {
    let config = Config::load(config)?;
    let dir = args.dir;
    if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
        bail!("{} already exists and is not empty", dir.display());
    }
    let manifest = match target(&config, args.server)? {
        Target::Local => {
            let app = Rapport::open(config).context("opening the data directory")?;
            app.snapshot(&dir)?
        }
        Target::Server(base) => {
            let name = rapport::engine::default_snapshot_name();
            let client = crate::cli::auth::client_builder(&config, &base)?.build()?;
            let answer: serde_json::Value = runtime()?.block_on(async {
                let response = client
                    .post(format!("{base}/v1/snapshots"))
                    .header("content-type", "application/json")
                    .body(serde_json::json!({ "name": name }).to_string())
                    .send()
                    .await
                    .with_context(|| format!("asking the server at {base} for a snapshot"))?;
                if !response.status().is_success() {
                    bail!("{}", error_text(response).await);
                }
                let text = response.text().await?;
                serde_json::from_str(&text).context("the server's snapshot answer")
            })?;
            let written = PathBuf::from(answer["path"].as_str().unwrap_or_default());
            if !written.is_dir() {
                bail!(
                    "the server wrote the snapshot to {} on its machine, which is not reachable from here; copy it from there",
                    written.display()
                );
            }
            if dir.exists() {
                std::fs::remove_dir(&dir)?;
            }
            rapport::engine::move_dir(&written, &dir)
                .with_context(|| format!("moving {} to {}", written.display(), dir.display()))?;
            serde_json::from_value(answer["manifest"].clone())
                .context("the server's snapshot manifest")?
        }
    };
    println!(
        "snapshot {}: {} records, store seq {}, index seq {}, {} files",
        dir.display(),
        manifest.records,
        manifest.store_seq,
        manifest.index_seq,
        manifest.files.len()
    );
    Ok(())
}

pub fn restore(config: Option<&Path>, args: RestoreArgs) -> Result<()> {
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => Config::load(config)?.data_dir,
    };
    let report = rapport::engine::restore(&args.dir, &data_dir, args.force)?;
    println!(
        "restored {} records (store seq {}) into {}{}",
        report.records,
        report.store_seq,
        report.data_dir,
        if report.index_restored {
            ""
        } else {
            "; the index will be rebuilt from the store when it is next opened"
        }
    );
    Ok(())
}

/// The body of a GET to the server that holds the data directory.
pub fn get_from_server(config: &Config, path: &str) -> Result<String> {
    let base = server_base(config)?;
    let client = crate::cli::auth::client_builder(config, &base)?.build()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let response = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .with_context(|| format!("asking the server at {base}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("the server answered {status}: {text}");
        }
        Ok(text)
    })
}

/// Records asked of the server per page (its maximum).
const PAGE: usize = 10_000;

/// Every item of a paged quality list of the running server (`route` with
/// `params`), page by page: the items are under `key`, the count under
/// `total`.
pub(crate) fn all_pages(
    config: &Config,
    route: &str,
    params: &[(&str, String)],
    key: &str,
) -> Result<Vec<serde_json::Value>> {
    let mut items = Vec::new();
    loop {
        let mut query = vec![
            ("offset", items.len().to_string()),
            ("limit", PAGE.to_string()),
        ];
        query.extend(params.iter().cloned());
        let url = reqwest::Url::parse_with_params(&format!("http://server{route}"), &query)?;
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let page: serde_json::Value = serde_json::from_str(&get_from_server(config, &path)?)
            .with_context(|| format!("the server's answer to {route}"))?;
        let batch = page[key].as_array().cloned().unwrap_or_default();
        let total = page["total"].as_u64().unwrap_or(0) as usize;
        let done = batch.is_empty();
        items.extend(batch);
        if done || items.len() >= total {
            return Ok(items);
        }
    }
}
