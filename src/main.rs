//! The `rapport` binary: parses the command line, sets up logging, and calls
//! the library. Errors end here as readable messages (anyhow).
//!
//! It must never hold logic the HTTP API would also need: that lives in the
//! library's engine.

mod cli;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use rapport::config::{Config, LogFormat};
use rapport::engine::{self, Rapport};

#[derive(Parser)]
#[command(name = "rapport", version, about = "Customer knowledge index server")]
struct Cli {
    /// Config file (default: ./rapport.toml if present, else built-in defaults).
    #[arg(long, global = true, env = "RAPPORT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read every configured source once, update the store and the index, and exit.
    Ingest {
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the data directory and repair what a crash left: the files an
    /// interrupted index commit left are removed, an index that cannot be
    /// opened is rebuilt from the store, and the index catches up with the
    /// store. Exits 1 if store and index still disagree. While a server
    /// holds the data directory, asks it (it repaired when it started).
    Check {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the HTTP API (ingests the configured sources first).
    Serve {
        /// Listen address, overriding the config (port 0 picks a free port).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Search the index and print the customers (or records) that match.
    Search {
        query: String,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// customer (default) or none.
        #[arg(long)]
        group: Option<String>,
        /// relevance (default), date or amount.
        #[arg(long)]
        sort: Option<String>,
        /// desc (default) or asc.
        #[arg(long)]
        order: Option<String>,
        #[arg(long)]
        boost_recent: bool,
        /// FIELD=VALUE, FIELD=A,B or FIELD=LOW..HIGH; repeatable.
        #[arg(long = "filter")]
        filters: Vec<String>,
        /// Facet fields, comma-separated.
        #[arg(long)]
        facets: Option<String>,
        /// Elasticsearch aggregation JSON.
        #[arg(long)]
        aggs: Option<String>,
        /// records (default) or customers.
        #[arg(long)]
        aggs_level: Option<String>,
        /// Print the JSON the HTTP API returns.
        #[arg(long)]
        json: bool,
    },
    /// Print the tokens a field's analyser produces for TEXT.
    Analyze {
        #[arg(long, default_value = "body")]
        field: String,
        text: String,
        #[arg(long)]
        json: bool,
    },
    /// Connector status, manifest checks and the list of built-in manifests.
    Connectors {
        #[command(subcommand)]
        command: cli::connectors::ConnectorsCommand,
    },
    /// The single customer view: export customers with their records.
    Customers {
        #[command(subcommand)]
        command: cli::customers::CustomersCommand,
    },
    /// Suspected duplicates and data-quality issues by source and field;
    /// with `--unattached`, every record attached to no customer instead.
    Quality {
        #[arg(long)]
        json: bool,
        /// List every record attached to no customer, with the reason (CSV:
        /// record,source,kind,reason,candidates; JSON with --json).
        #[arg(long)]
        unattached: bool,
        /// With --unattached: only the records of this source.
        #[arg(long, requires = "unattached")]
        source: Option<String>,
        /// List the suspected duplicates, most likely first (CSV:
        /// a,b,score,evidence; JSON with --json).
        #[arg(long, conflicts_with = "unattached")]
        duplicates: bool,
        /// With --duplicates: only pairs of `organization`s or of `person`s.
        #[arg(long, requires = "duplicates")]
        kind: Option<String>,
        /// With --duplicates: only pairs scoring at least this many bits.
        #[arg(long, requires = "duplicates")]
        min_score: Option<f64>,
        /// With --duplicates: the queue as items a steward decides, pairs
        /// with evidence beyond a name and one group per shared name (CSV:
        /// item,type,score,customers,name,companies,evidence).
        #[arg(long, requires = "duplicates")]
        grouped: bool,
    },
    /// Reindex (every source, one, or the index from the store) through the
    /// running server, or in this process when none runs.
    Reindex(cli::reindex::ReindexArgs),
    /// Benchmarks that print numbers (built with `--features bench`).
    #[cfg(feature = "bench")]
    Bench {
        #[command(subcommand)]
        command: cli::bench::BenchCommand,
    },
    /// Retention: what the next run would purge (plan), and purging it (run).
    Retention {
        #[command(subcommand)]
        command: cli::retention::RetentionCommand,
    },
    /// Stream every match (or everything) as NDJSON or CSV.
    Export(cli::export::ExportArgs),
    /// Write a consistent snapshot of store and index into DIR.
    Snapshot(cli::export::SnapshotArgs),
    /// Bring a data directory back from a snapshot.
    Restore(cli::export::RestoreArgs),
    /// API keys: create (the secret is printed once), list, revoke, rotate.
    Keys {
        #[command(subcommand)]
        command: cli::auth::KeysCommand,
    },
    /// The audit log: verify its hash chain, list entries.
    Audit {
        #[command(subcommand)]
        command: cli::audit::AuditCommand,
    },
    /// Staff users who sign in to the web page.
    Users {
        #[command(subcommand)]
        command: cli::auth::UsersCommand,
    },
    /// Ingest the bundled examples into a fresh data directory and serve them.
    Demo {
        /// Data directory to (re)create (default: a folder in the system temp dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        listen: Option<String>,
    },
}

/// mimalloc instead of glibc's malloc: a search allocates and frees many
/// small objects (queries, scorers, snippets), and glibc's allocator was
/// about a tenth of a query's CPU time in profiles (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let quiet = match cli.command {
        Command::Search { .. }
        | Command::Analyze { .. }
        | Command::Connectors { .. }
        | Command::Export(_)
        | Command::Reindex(..)
        | Command::Retention { .. }
        | Command::Keys { .. }
        | Command::Users { .. }
        | Command::Audit { .. } => true,
        #[cfg(feature = "bench")]
        Command::Bench { .. } => true,
        _ => false,
    };
    init_logging(if quiet { "warn" } else { "info" }, cli.config.as_deref());
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Logs to stderr, as text or (`log_format = "json"`, `RAPPORT_LOG_FORMAT`)
/// one JSON object per line with the current span's fields. The format is
/// read from the configuration before the command runs; a configuration
/// that cannot be read leaves text, and the command reports the error.
fn init_logging(default: &str, config: Option<&Path>) {
    let filter = EnvFilter::try_from_env("RAPPORT_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("{default},tantivy=warn")));
    let format =
        Config::load(config)
            .map(|c| c.log_format)
            .unwrap_or_else(|_| match std::env::var("RAPPORT_LOG_FORMAT").as_deref() {
                Ok("json") => LogFormat::Json,
                _ => LogFormat::Text,
            });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
}

fn run(cli: Cli) -> Result<std::process::ExitCode> {
    let ok = std::process::ExitCode::SUCCESS;
    match cli.command {
        Command::Ingest { json } => {
            let config = Config::load(cli.config.as_deref())?;
            if engine::DataDir::held_by_server(&config) {
                bail!(
                    "a server holds the data directory {}: it reads its sources itself when their files change (and on each pull's schedule). To re-read them now through it: `rapport reindex --source NAME`, or `rapport reindex` for every source",
                    config.data_dir.display()
                );
            }
            let mut app = Rapport::open(config).context("opening the data directory")?;
            let report = cli::output::ingest_with_progress(&app)?;
            // A large ingest leaves a third of the store file as free pages.
            app.compact_store().context("compacting the store file")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                cli::output::print_ingest_summary(&report);
            }
            Ok(if report.any_source_failed() {
                std::process::ExitCode::from(1)
            } else {
                ok
            })
        }
        Command::Check { json } => {
            let config = Config::load(cli.config.as_deref())?;
            if engine::DataDir::held_by_server(&config) {
                return cli::check::through_server(&config, json);
            }
            let app = Rapport::open(config).context(
                "opening the data directory (stop a server using it before `rapport check`)",
            )?;
            let status = app.status()?;
            let consistent =
                status.records == status.indexed_documents && status.store_seq == status.index_seq;
            let result = serde_json::json!({
                "consistent": consistent,
                "records": status.records,
                "indexed_documents": status.indexed_documents,
                "store_seq": status.store_seq,
                "index_seq": status.index_seq,
                "repaired": app.recovery(),
            });
            if json {
                println!("{}", serde_json::to_string_pretty(&result)?);
            } else {
                cli::check::print_counts(
                    status.records,
                    status.indexed_documents,
                    status.store_seq,
                    status.index_seq,
                );
                let repaired = app.recovery();
                if let Some(reason) = &repaired.index_rebuilt {
                    println!(
                        "repaired: the index could not be opened ({reason}); rebuilt from the store"
                    );
                }
                if repaired.changes_replayed > 0 {
                    println!(
                        "repaired: {} store changes the index lacked were applied",
                        repaired.changes_replayed
                    );
                }
            }
            Ok(if consistent {
                ok
            } else {
                std::process::ExitCode::from(1)
            })
        }
        Command::Serve { listen } => {
            let mut config = Config::load(cli.config.as_deref())?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            serve(config)?;
            Ok(ok)
        }
        Command::Search {
            query,
            limit,
            offset,
            group,
            sort,
            order,
            boost_recent,
            filters,
            facets,
            aggs,
            aggs_level,
            json,
        } => {
            let config = Config::load(cli.config.as_deref())?;
            let mut params = vec![
                ("q".to_string(), query),
                ("limit".to_string(), limit.to_string()),
                ("offset".to_string(), offset.to_string()),
                ("boost_recent".to_string(), boost_recent.to_string()),
            ];
            for (name, value) in [
                ("group", group),
                ("sort", sort),
                ("order", order),
                ("facets", facets),
                ("aggs", aggs),
                ("aggs_level", aggs_level),
            ] {
                if let Some(value) = value {
                    params.push((name.to_string(), value));
                }
            }
            for filter in filters {
                let (field, value) = filter
                    .split_once('=')
                    .with_context(|| format!("--filter `{filter}`: expected FIELD=VALUE"))?;
                params.push((format!("filter.{field}"), value.to_string()));
            }
            cli::search::run(&config, &params, json)?;
            Ok(ok)
        }
        Command::Analyze { field, text, json } => {
            let config = Config::load(cli.config.as_deref())?;
            let tokens = engine::analyze_text(&config, &field, &text)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else {
                for t in tokens {
                    println!("{}\t{}\t{}..{}", t.position, t.token, t.start, t.end);
                }
            }
            Ok(ok)
        }
        Command::Connectors { command } => cli::connectors::run(cli.config.as_deref(), command),
        Command::Customers { command } => {
            cli::customers::run(cli.config.as_deref(), command)?;
            Ok(ok)
        }
        Command::Quality {
            json,
            duplicates: true,
            kind,
            min_score,
            grouped,
            ..
        } => {
            let kind = kind.as_deref();
            cli::duplicates::list(cli.config.as_deref(), kind, min_score, json, grouped)?;
            Ok(ok)
        }
        Command::Quality {
            json,
            unattached: true,
            source,
            ..
        } => {
            cli::unattached::list(cli.config.as_deref(), source.as_deref(), json)?;
            Ok(ok)
        }
        Command::Quality { json, .. } => {
            cli::customers::quality(cli.config.as_deref(), json)?;
            Ok(ok)
        }
        #[cfg(feature = "bench")]
        Command::Bench { command } => cli::bench::run(cli.config.as_deref(), command),
        Command::Export(args) => cli::export::export(cli.config.as_deref(), args).map(|_| ok),
        Command::Snapshot(args) => cli::export::snapshot(cli.config.as_deref(), args).map(|_| ok),
        Command::Restore(args) => cli::export::restore(cli.config.as_deref(), args).map(|_| ok),
        Command::Reindex(args) => cli::reindex::run(cli.config.as_deref(), args),
        Command::Retention { command } => cli::retention::run(cli.config.as_deref(), command),
        Command::Keys { command } => cli::auth::keys(cli.config.as_deref(), command).map(|_| ok),
        Command::Audit { command } => cli::audit::run(cli.config.as_deref(), command),
        Command::Users { command } => cli::auth::users(cli.config.as_deref(), command).map(|_| ok),
        Command::Demo { data_dir, listen } => {
            let mut config = demo_config(cli.config.as_deref())?;
            let data_dir = data_dir.unwrap_or_else(|| std::env::temp_dir().join("rapport-demo"));
            if data_dir.exists() {
                std::fs::remove_dir_all(&data_dir)
                    .with_context(|| format!("clearing {}", data_dir.display()))?;
            }
            if config.dictionary_dir.is_none() {
                // Keep the built dictionary across demo runs.
                config.dictionary_dir = Some(std::env::temp_dir().join("rapport-dictionaries"));
            }
            config.data_dir = data_dir;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            eprintln!("demo data directory: {}", config.data_dir.display());
            serve(config)?;
            Ok(ok)
        }
    }
}

/// The examples' config: the one given, or examples/rapport.toml from the
/// current folder or the source tree.
fn demo_config(given: Option<&Path>) -> Result<Config> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => {
            let here = PathBuf::from("examples/rapport.toml");
            let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rapport.toml");
            if here.is_file() {
                here
            } else if tree.is_file() {
                tree
            } else {
                bail!("examples/rapport.toml not found; run from the repository or pass --config")
            }
        }
    };
    Ok(Config::load(Some(&path))?)
}

fn serve(config: Config) -> Result<()> {
    let listen = config.listen.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let app = tokio::task::spawn_blocking(move || -> Result<Arc<Rapport>> {
            let app = Rapport::open(config).context("opening the data directory")?;
            let report = app
                .ingest(&|_| {})
                .context("ingesting the configured sources")?;
            cli::output::log_ingest_summary(&report);
            Ok(Arc::new(app))
        })
        .await??;
        let first_start = !app.identities().any()?;
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        if first_start && !address.ip().is_loopback() {
            bail!(
                "refusing to listen on {address}, which is not a loopback address, before any user or API key exists: add one (`rapport users add NAME --role admin`, `rapport keys create --name NAME --role admin`) or listen on 127.0.0.1"
            );
        }
        let local_token = cli::auth::write_local_token(&app.config().data_dir)?;
        let auth = rapport::api::auth::AuthState::new(app.clone())
            .map_err(anyhow::Error::msg)?
            .with_local_token(&local_token);
        if first_start {
            let roles = app.config().auth.roles().map_err(anyhow::Error::msg)?;
            app.identities().add_user(&roles, "admin", "admin", None, Default::default())?;
            let link = app
                .identities()
                .sign_in_link("admin", std::time::Duration::from_secs(15 * 60))?
                .token;
            app.record_audit(cli::console_audit::first_start("admin"))?;
            let port = address.port();
            println!(
                "first start: user `admin` created. Sign in once with http://127.0.0.1:{port}/#signin={link} (valid 15 minutes, one use; a new one: rapport users link admin)"
            );
            println!(
                "API keys for scripts (while this server runs): RAPPORT_DATA_DIR={} rapport keys create --name NAME --role ROLE; a password for admin (server stopped): rapport users passwd admin",
                std::fs::canonicalize(&app.config().data_dir)
                    .unwrap_or_else(|_| app.config().data_dir.clone())
                    .display()
            );
        }
        cli::export::note_server_address(
            &app.config().data_dir,
            address,
            app.config().server.tls_cert.is_some(),
        );
        let _background =
            rapport::sources::watch::start(app.clone()).context("starting watches and pulls")?;
        let _retention = app.start_retention_schedule();
        // The first change after the start (or a full pass) finds the
        // book's statistics ready instead of reading the book itself.
        let _book_statistics = app.keep_book_statistics_warm();
        rapport::api::serve(app, Arc::new(auth), listener).await?;
        Ok(())
    })
}
