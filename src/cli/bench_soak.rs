//! `rapport bench soak`, `rapport bench upload` and `rapport bench audit`:
//! the reliability benchmarks (a bounded soak of searches, ingests and
//! notes on 127.0.0.1; an attribute upload's memory and speed; the audit
//! log's appends under concurrent writers). They print numbers.
//!
//! It must never run unbounded nor touch a configured data directory: the
//! soak stops at `--seconds`, and both work in `--dir` or a temporary
//! folder.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use rapport::config::Config;

#[derive(Args)]
pub struct SoakArgs {
    /// Corpus size in records (about ten per customer).
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Where the corpus lives; reused when it already holds this size.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Concurrent searching clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// How long the soak runs.
    #[arg(long, default_value_t = 600)]
    seconds: u64,
    /// Seconds per reported window.
    #[arg(long, default_value_t = 30)]
    window: u64,
    /// Milliseconds between two ingest passes (200 new records each).
    #[arg(long, default_value_t = 2_000)]
    ingest_every_ms: u64,
    /// Milliseconds between two notes.
    #[arg(long, default_value_t = 100)]
    note_every_ms: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct UploadArgs {
    /// Corpus size in records (about ten per customer).
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Lines of the uploaded CSV.
    #[arg(long, default_value_t = 2_000_000)]
    rows: usize,
    /// Where the corpus lives; reused when it already holds this size.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct AuditArgs {
    /// Entries appended per round.
    #[arg(long, default_value_t = 20_000)]
    entries: usize,
    /// Concurrent writers, one round each (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    writers: Vec<usize>,
    /// Where the scratch data directory goes.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn corpus_dir(dir: Option<PathBuf>, records: usize, what: &str) -> PathBuf {
    dir.unwrap_or_else(|| std::env::temp_dir().join(format!("rapport-bench-{what}-{records}")))
}

pub fn soak(config: Option<&std::path::Path>, args: SoakArgs) -> Result<std::process::ExitCode> {
    if args.records == 0 || args.clients == 0 || args.seconds == 0 {
        anyhow::bail!("--records, --clients and --seconds must be above 0");
    }
    let options = rapport::bench::soak::SoakOptions {
        records: args.records,
        dir: corpus_dir(args.dir, args.records, "soak"),
        clients: args.clients,
        seconds: args.seconds,
        window_seconds: args.window,
        ingest_every: Duration::from_millis(args.ingest_every_ms),
        note_every: Duration::from_millis(args.note_every_ms),
    };
    let r = rapport::bench::soak::run(&options, Config::load(config)?)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let mb = |v: Option<f64>| v.map_or("-".into(), |m| format!("{m:.0} MB"));
    println!(
        "soak: {} clients for {:.0} s on {} → {} records\n  searches {} ({:.0}/s), p50 {:.2} ms (mean of windows), worst window p99 {:.2} ms, failures {}\n  notes {} written, {} failed; ingest passes {}, {} failed\n  RSS after warm-up {}, highest after {}, at the end {} (anonymous: {}, {}, {})",
        r.clients,
        r.seconds,
        r.records_at_start,
        r.records_at_end,
        r.searches.requests,
        r.searches.per_second,
        r.searches.p50_ms,
        r.searches.p99_ms,
        r.tally.search_failures,
        r.tally.notes_written,
        r.tally.note_failures,
        r.tally.ingest_passes,
        r.tally.ingest_failures,
        mb(r.rss_after_warmup_mb),
        mb(r.rss_max_after_warmup_mb),
        mb(r.rss_end_mb),
        mb(r.rss_anon_after_warmup_mb),
        mb(r.rss_anon_max_after_warmup_mb),
        mb(r.rss_anon_end_mb),
    );
    for failure in &r.failure_samples {
        println!("  failure: {failure}");
    }
    Ok(std::process::ExitCode::SUCCESS)
}

pub fn upload(
    config: Option<&std::path::Path>,
    args: UploadArgs,
) -> Result<std::process::ExitCode> {
    if args.records == 0 || args.rows == 0 {
        anyhow::bail!("--records and --rows must be above 0");
    }
    let dir = corpus_dir(args.dir, args.records, "upload");
    let r = rapport::bench::upload::run(args.records, args.rows, dir, Config::load(config)?)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        let mb = |v: Option<f64>| v.map_or("-".into(), |m| format!("{m:.0} MB"));
        println!(
            "upload: {} rows ({:.1} MB of CSV) to {} customers in {:.1} s = {:.0} rows/s, status {}, answer {}\n  RSS before {}, peak during the upload {}",
            r.rows,
            r.body_mb,
            r.customers,
            r.seconds,
            r.rows_per_second,
            r.status,
            r.answer,
            mb(r.rss_before_mb),
            mb(r.peak_rss_mb),
        );
    }
    Ok(std::process::ExitCode::SUCCESS)
}

pub fn audit(config: Option<&std::path::Path>, args: AuditArgs) -> Result<std::process::ExitCode> {
    if args.entries == 0 || args.writers.is_empty() {
        anyhow::bail!("--entries must be above 0 and --writers name at least one count");
    }
    let dir = corpus_dir(args.dir, args.entries, "audit");
    let r = rapport::bench::audit::run(args.entries, &args.writers, dir, Config::load(config)?)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!("| writers | entries | seconds | entries/s |\n|---|---|---|---|");
        for round in &r.rounds {
            println!(
                "| {} | {} | {:.2} | {:.0} |",
                round.writers, round.entries, round.seconds, round.entries_per_second
            );
        }
        println!(
            "audit chain verified: {} entries in {:.2} s",
            r.chained, r.verify_seconds
        );
    }
    Ok(std::process::ExitCode::SUCCESS)
}
