//! `rapport bench connectors`: generates exports of each format in a
//! scratch folder, ingests each into a fresh data directory and prints the
//! throughput (records per second, store and index included), then drops
//! files into a watched folder and prints how long each took to become
//! searchable. It prints numbers; it asserts nothing.
//!
//! It must never touch a configured data directory: everything lives under
//! a temporary folder that is removed at the end.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Subcommand;

use rapport::config::{Config, SourceConfig};
use rapport::engine::Rapport;
use rapport::engine::SearchRequest;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Ingest throughput per connector and file-to-searchable latency.
    Connectors {
        /// Records per generated export.
        #[arg(long, default_value_t = 20_000)]
        records: usize,
        /// Files dropped into the watched folder for the latency figure.
        #[arg(long, default_value_t = 10)]
        latency_runs: usize,
    },
    /// Build a generated corpus and measure query latency directly and over
    /// HTTP on 127.0.0.1 (see BENCHMARKS.md).
    Search {
        /// Corpus size in records (about ten per customer).
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        /// Where the corpus lives; reused when it already holds this size.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Requests per query type (direct and one client; twice as many for the concurrent clients).
        #[arg(long, default_value_t = 400)]
        requests: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Time budget per query type and phase.
        #[arg(long, default_value_t = 20)]
        max_seconds: u64,
        /// Only these query types (comma-separated names as printed, e.g. "grouped,suggest").
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Also print each query's median and slowest time (direct phase).
        #[arg(long)]
        by_query: bool,
        /// Print the report as JSON instead of a Markdown table.
        #[arg(long)]
        json: bool,
    },
    /// Export a generated corpus (record level, NDJSON) and print time,
    /// rate and peak memory (see BENCHMARKS.md).
    Export {
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        /// Where the corpus lives; reused when it already holds this size.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Write the export to this file instead of discarding it.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Export only the matches of this query.
        #[arg(long)]
        q: Option<String>,
        /// Also export over HTTP from a server on 127.0.0.1.
        #[arg(long)]
        http: bool,
    },
    /// A bounded soak: clients searching while exports are ingested and
    /// notes written; errors, p99 and RSS per window (see BENCHMARKS.md).
    Soak(super::bench_soak::SoakArgs),
    /// Stream one large attribute CSV to `POST /v1/attributes`; rows/s
    /// and peak memory (see BENCHMARKS.md).
    Upload(super::bench_soak::UploadArgs),
    /// Append audit entries from concurrent writers (as requests do, through
    /// the group commit); entries/s per writer count (see BENCHMARKS.md).
    Audit(super::bench_soak::AuditArgs),
    /// Time a full index rebuild from the store (a reindex job, with
    /// searches running meanwhile) on a generated corpus.
    Reindex {
        /// Corpus size in records (about ten per customer).
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        /// Where the corpus lives; reused when it already holds this size.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Milliseconds the searching thread waits between two searches
        /// (0: it searches without pause, taking about a core of its own).
        #[arg(long, default_value_t = 0, conflicts_with = "no_search")]
        search_pause_ms: u64,
        /// Rebuild with nothing searching meanwhile.
        #[arg(long)]
        no_search: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a labelled book as real exports (CRM CSVs, a Zendesk full
    /// export, a mailbox, deals, notes in several encodings) with planted
    /// data problems, read it back and score attachment and quality flags.
    Attach {
        /// Companies in each book (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "300")]
        book: Vec<usize>,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Read Japanese names in romaji through the IPADIC dictionary
        /// (rapport.toml's `ipadic_source`), as a server resolves.
        #[arg(long)]
        ipadic: bool,
        /// Keep the book's files in this new folder, with a rapport.toml
        /// that reads them (`rapport serve --config DIR/rapport.toml`);
        /// one book size only.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
    /// Write the generated corpus as export files, ingest them into a fresh
    /// data directory and print records/s per stage, wall time to
    /// searchable, peak RSS and bytes on disk per part (see BENCHMARKS.md).
    Ingest {
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        #[arg(long, value_enum, default_value = "ndjson")]
        format: rapport::bench::ingest::InputFormat,
        /// Scratch folder for the input files and the data directory
        /// (emptied first; default: a temporary folder, removed after).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Search the engine throughout the ingest from a second thread,
        /// pausing this many milliseconds between two searches, and report
        /// the latencies per stage and any failure.
        #[arg(long, value_name = "PAUSE_MS")]
        search_beside: Option<u64>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Time resolution of a generated customer book, in memory and through
    /// the store.
    Resolve {
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        /// Skip the store round trip (in-memory resolution only).
        #[arg(long)]
        memory_only: bool,
        /// Instead, resolve the book in full through a store, change 100
        /// rows and resolve again incrementally: records, both times, the
        /// records re-resolved and peak RSS.
        #[arg(long)]
        incremental: bool,
        /// Instead, measure quality on labelled books of these many
        /// companies (comma-separated, e.g. 200,500,2000): pairwise
        /// precision, recall and F1 for organisations and people.
        #[arg(long, value_delimiter = ',')]
        book: Vec<usize>,
        /// Seed of the labelled books.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Print the false merges found in each book.
        #[arg(long)]
        show_merges: bool,
        /// Instead, resolve FEBRL benchmark folders written by
        /// scripts/febrl_to_csv.py (records.csv read through the stock
        /// generic-csv connector, pairs.csv the truth).
        #[arg(long, value_delimiter = ',')]
        febrl: Vec<PathBuf>,
        /// With --book or --febrl, which weights score: `hand`, `estimate`
        /// (hand weights score; m/u estimated by EM and printed) or
        /// `estimated` (people scored with the EM weights).
        #[arg(long, default_value = "estimate", value_parser = ["hand", "estimate", "estimated"])]
        weights: String,
        /// With --book, read Japanese names in romaji through the IPADIC
        /// dictionary (rapport.toml's `ipadic_source`), as a server resolves.
        #[arg(long)]
        ipadic: bool,
    },
}

pub fn run(config: Option<&Path>, command: BenchCommand) -> Result<std::process::ExitCode> {
    let (records, latency_runs) = match command {
        BenchCommand::Connectors {
            records,
            latency_runs,
        } => (records, latency_runs),
        BenchCommand::Attach {
            book,
            seed,
            json,
            ipadic,
            keep,
        } => {
            if keep.is_some() && book.len() != 1 {
                anyhow::bail!("--keep writes one book: give one size to --book");
            }
            if let Some(dir) = &keep
                && std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
            {
                anyhow::bail!("--keep {}: the folder is not empty", dir.display());
            }
            let loaded = Config::load(config)?;
            let cache = loaded.dictionary_cache();
            let dictionary = || ipadic.then(|| dictionary_of(&loaded, &cache));
            for customers in book {
                let dir = match &keep {
                    Some(dir) => {
                        std::fs::create_dir_all(dir)?;
                        dir.clone()
                    }
                    None => tempfile_dir()?,
                };
                let result =
                    rapport::bench::attach::run(customers.max(1), seed, &dir, dictionary());
                if keep.is_some() {
                    rapport::bench::attach::write_config(&dir, customers.max(1), seed)?;
                    eprintln!(
                        "the book is in {0}: rapport serve --config {0}/rapport.toml",
                        dir.display()
                    );
                } else {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                let r = result.map_err(|e| anyhow::anyhow!(e))?;
                if json {
                    println!("{}", serde_json::to_string(&r)?);
                    continue;
                }
                print_attach(&r);
            }
            return Ok(std::process::ExitCode::SUCCESS);
        }
        BenchCommand::Resolve { febrl, weights, .. } if !febrl.is_empty() => {
            let weights = rapport::bench::resolve::weight_source(&weights);
            println!(
                "| data set | records | true pairs | predicted pairs | precision | recall | F1 | resolve ms |"
            );
            println!("|---|---|---|---|---|---|---|---|");
            let mut models = Vec::new();
            for dir in febrl {
                let r = rapport::bench::febrl::run(&dir, weights)?;
                models.push((r.name.clone(), r.model.describe()));
                println!(
                    "| {} | {} | {} | {} | {:.4} | {:.4} | {:.4} | {} |",
                    r.name,
                    r.records,
                    r.true_pairs,
                    r.predicted_pairs,
                    r.precision,
                    r.recall,
                    r.f1,
                    r.resolve_ms
                );
            }
            print_models(&models);
            return Ok(std::process::ExitCode::SUCCESS);
        }
        BenchCommand::Resolve {
            book,
            seed,
            show_merges,
            weights,
            ipadic,
            ..
        } if !book.is_empty() => {
            let weights = rapport::bench::resolve::weight_source(&weights);
            let loaded = Config::load(config)?;
            let cache = loaded.dictionary_cache();
            let dictionary = || ipadic.then(|| dictionary_of(&loaded, &cache));
            println!(
                "| companies | people | records | org precision | org recall | org F1 | person precision | person recall | person F1 | resolve ms |"
            );
            println!("|---|---|---|---|---|---|---|---|---|---|");
            let mut models = Vec::new();
            let mut queues = Vec::new();
            for customers in book {
                let r = rapport::bench::resolve::run_book(
                    customers.max(1),
                    seed,
                    weights,
                    dictionary(),
                )?;
                models.push((format!("{} companies", r.customers), r.model.describe()));
                queues.push((r.customers, r.quality.suspects.clone()));
                let (o, p) = (&r.quality.organisations, &r.quality.people);
                println!(
                    "| {} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {} |",
                    r.customers,
                    r.people,
                    r.records,
                    o.precision,
                    o.recall,
                    o.f1,
                    p.precision,
                    p.recall,
                    p.f1,
                    r.resolve_ms
                );
                if show_merges {
                    let queue = &r.quality.suspects;
                    for example in queue
                        .organisations
                        .look_alike_examples
                        .iter()
                        .chain(&queue.people.look_alike_examples)
                    {
                        println!("  look-alike suspect {example}");
                    }
                    for (entity, truths, names) in &r.quality.false_merges {
                        println!(
                            "  false merge {entity}: {truths} companies: {}",
                            names.join(" | ")
                        );
                    }
                    for (company, entities, names) in &r.quality.missed {
                        println!(
                            "  missed company {company}: in {entities} entities: {}",
                            names.join(" | ")
                        );
                    }
                }
            }
            print_suspect_queues(&queues);
            crate::cli::bench_queue::print(&queues);
            print_models(&models);
            return Ok(std::process::ExitCode::SUCCESS);
        }
        BenchCommand::Resolve {
            records,
            incremental: true,
            ..
        } => {
            let dir = tempfile_dir()?;
            let result = rapport::bench::resolve_incremental::run(records.max(1), &dir);
            let _ = std::fs::remove_dir_all(&dir);
            let r = result?;
            println!(
                "| records | full pass (load + resolve + save) | peak RSS | {} rows changed: incremental pass (load + statistics + plan + resolve + save) | records re-resolved | assignments changed | peak RSS |",
                r.changed_rows
            );
            println!("|---|---|---|---|---|---|---|");
            println!(
                "| {} | {:.1} s ({} + {} + {} ms) | {:.0} MiB | {:.2} s ({} + {} + {} + {} + {} ms) | {} | {} | {:.0} MiB |",
                r.records,
                r.full_ms() as f64 / 1000.0,
                r.full_load_ms,
                r.full_resolve_ms,
                r.full_save_ms,
                r.full_peak_rss_mib,
                r.incremental_ms() as f64 / 1000.0,
                r.incremental_load_ms,
                r.incremental_stats_ms,
                r.incremental_plan_ms,
                r.incremental_resolve_ms,
                r.incremental_save_ms,
                r.re_resolved,
                r.changed_assignments,
                r.incremental_peak_rss_mib,
            );
            println!("\nfull pass resolution digest: {}", r.full_digest);
            println!(
                "\n{} other rows changed, statistics kept{}",
                r.kept.changed_rows,
                kept_pass_line(&r.kept)
            );
            print_first_changes(&r);
            return Ok(std::process::ExitCode::SUCCESS);
        }
        BenchCommand::Resolve {
            records,
            memory_only,
            ..
        } => {
            let dir = tempfile_dir()?;
            let result = rapport::bench::resolve::run(
                records.max(1),
                (!memory_only).then_some(dir.as_path()),
            );
            let _ = std::fs::remove_dir_all(&dir);
            let r = result?;
            println!(
                "resolve: {} records -> {} entities, {} records assigned: {} ms in memory; store load {} ms, save {} ms",
                r.records,
                r.entities,
                r.customers_linked,
                r.resolve_ms,
                r.store_load_ms.map_or("-".into(), |v| v.to_string()),
                r.store_save_ms.map_or("-".into(), |v| v.to_string()),
            );
            return Ok(std::process::ExitCode::SUCCESS);
        }
        BenchCommand::Export {
            records,
            dir,
            output,
            q,
            http,
        } => {
            if records == 0 {
                anyhow::bail!("--records must be above 0");
            }
            let options = rapport::bench::export::ExportBenchOptions {
                records,
                dir: dir.unwrap_or_else(|| {
                    std::env::temp_dir().join(format!("rapport-bench-{records}"))
                }),
                output,
                params: q.map(|q| vec![("q".to_string(), q)]).unwrap_or_default(),
                http,
            };
            let runs = rapport::bench::export::run(&options, Config::load(config)?)?;
            println!("{}", serde_json::to_string_pretty(&runs)?);
            return Ok(std::process::ExitCode::SUCCESS);
        }
        BenchCommand::Ingest {
            records,
            format,
            dir,
            search_beside,
            json,
        } => {
            let scratch = dir.is_none();
            let options = rapport::bench::ingest::IngestBenchOptions {
                records: records.max(1),
                format,
                dir: dir.unwrap_or_else(|| {
                    std::env::temp_dir()
                        .join(format!("rapport-bench-ingest-{}", std::process::id()))
                }),
                search_beside_pause: search_beside.map(std::time::Duration::from_millis),
            };
            let result = rapport::bench::ingest::run(&options, Config::load(config)?);
            if scratch {
                let _ = std::fs::remove_dir_all(&options.dir);
            }
            let r = result?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print!("{}", rapport::bench::ingest::markdown(&r));
            }
            return Ok(std::process::ExitCode::SUCCESS);
        }
        BenchCommand::Soak(args) => return super::bench_soak::soak(config, args),
        BenchCommand::Upload(args) => return super::bench_soak::upload(config, args),
        BenchCommand::Audit(args) => return super::bench_soak::audit(config, args),
        BenchCommand::Reindex {
            records,
            dir,
            search_pause_ms,
            no_search,
            json,
        } => {
            let searches =
                (!no_search).then_some(std::time::Duration::from_millis(search_pause_ms));
            let config = Config::load(config)?;
            let dir = dir.unwrap_or_else(|| {
                std::env::temp_dir().join(format!("rapport-bench-{}", records.max(1)))
            });
            let r = rapport::bench::reindex::run(records.max(1), dir, searches, config)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "reindex (rebuild from store): {} records in {:.1} s = {:.0} records/s ({}); {} searches answered during the rebuild, {} failed; peak RSS {} MB; store written in {}, opened in {:.1} s",
                    r.records,
                    r.rebuild_s,
                    r.records_per_second,
                    r.rebuild_state,
                    r.searches_during_rebuild,
                    r.search_errors_during_rebuild,
                    r.peak_rss_mb.map_or("-".into(), |m| format!("{m:.0}")),
                    r.build_store_s
                        .map_or("(reused)".into(), |s| format!("{s:.1} s")),
                    r.open_s,
                );
            }
            return Ok(std::process::ExitCode::SUCCESS);
        }
        BenchCommand::Search {
            records,
            dir,
            requests,
            clients,
            max_seconds,
            only,
            by_query,
            json,
        } => {
            if records == 0 || requests == 0 || clients == 0 || max_seconds == 0 {
                anyhow::bail!("--records, --requests, --clients and --max-seconds must be above 0");
            }
            let config = Config::load(config)?;
            let options = rapport::bench::BenchOptions {
                records,
                dir: dir.unwrap_or_else(|| {
                    std::env::temp_dir().join(format!("rapport-bench-{records}"))
                }),
                requests,
                clients,
                max_seconds,
                only,
                by_query,
            };
            let report = rapport::bench::run(&options, config)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", rapport::bench::markdown(&report));
            }
            return Ok(std::process::ExitCode::SUCCESS);
        }
    };
    let root = std::env::temp_dir().join(format!("rapport-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root)?;
    let result = bench(&root, records.max(1), latency_runs.max(1));
    let _ = std::fs::remove_dir_all(&root);
    result?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn config(root: &Path, name: &str, connector: &str, path: PathBuf, watch: bool) -> Config {
    let dictionaries = std::env::var_os("RAPPORT_DICTIONARY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("rapport-dictionaries"));
    Config {
        data_dir: root.join(format!("data-{name}")),
        dictionary_dir: Some(dictionaries),
        sources: vec![SourceConfig {
            watch,
            ..SourceConfig::new(name, connector, path)
        }],
        ..Config::default()
    }
}

/// Writes an export of `n` records into a folder.
type Generator = fn(&Path, usize) -> Result<PathBuf>;

fn bench(root: &Path, n: usize, latency_runs: usize) -> Result<()> {
    println!(
        "rapport bench connectors: {n} records per export, debug assertions {}",
        cfg!(debug_assertions)
    );
    println!(
        "{:<18} {:>9} {:>10} {:>10} {:>12}",
        "connector", "records", "MB", "seconds", "records/s"
    );
    let cases: [(&str, &str, Generator); 7] = [
        ("generic-csv", "generic-csv", gen_csv),
        ("salesforce", "salesforce-export", gen_salesforce),
        ("zendesk", "zendesk-export", gen_zendesk),
        ("mbox", "mbox", gen_mbox),
        ("eml", "eml", gen_eml),
        ("vcard", "vcard", gen_vcard),
        ("notes", "notes", gen_notes),
    ];
    for (name, connector, generate) in cases {
        let folder = root.join(format!("in-{name}"));
        std::fs::create_dir_all(&folder)?;
        let count = if matches!(name, "notes" | "eml") {
            (n / 10).max(1)
        } else {
            n
        };
        generate(&folder, count)?;
        let bytes = folder_size(&folder);
        let app = Rapport::open(config(root, name, connector, folder, false))
            .with_context(|| format!("opening the {name} data directory"))?;
        let started = Instant::now();
        let report = app.ingest(&|_| {})?;
        let secs = started.elapsed().as_secs_f64();
        let ingested: usize = report.sources.iter().map(|s| s.inserted).sum();
        println!(
            "{:<18} {:>9} {:>10.1} {:>10.2} {:>12.0}",
            connector,
            ingested,
            bytes as f64 / 1e6,
            secs,
            ingested as f64 / secs
        );
    }

    let folder = root.join("watched");
    std::fs::create_dir_all(&folder)?;
    let app = Arc::new(Rapport::open(config(
        root,
        "watched",
        "notes",
        folder.clone(),
        true,
    ))?);
    app.ingest(&|_| {})?;
    let _background = rapport::sources::watch::start(app.clone())?;
    wait(Duration::from_secs(10), || {
        app.connectors_status()
            .map(|s| s.iter().any(|c| c.state == "watching"))
            .unwrap_or(false)
    });
    let mut latencies = Vec::new();
    for i in 0..latency_runs {
        let word = format!("latencyprobe{i}x");
        let started = Instant::now();
        std::fs::write(
            folder.join(format!("probe-{i}.md")),
            format!("# Probe {i}\n\n{word}\n"),
        )?;
        let found = wait(Duration::from_secs(20), || {
            app.search(&SearchRequest {
                limit: 1,
                ..SearchRequest::new(word.clone())
            })
            .map(|r| r.total > 0)
            .unwrap_or(false)
        });
        if found {
            latencies.push(started.elapsed());
        } else {
            println!("probe {i} not searchable within 20 s");
        }
    }
    latencies.sort();
    if let (Some(min), Some(max)) = (latencies.first(), latencies.last()) {
        let median = latencies[latencies.len() / 2];
        println!(
            "file-to-searchable latency (watch, debounce {} ms) over {} files: min {} ms, median {} ms, max {} ms",
            app.config().watch_debounce_ms,
            latencies.len(),
            min.as_millis(),
            median.as_millis(),
            max.as_millis()
        );
    }
    Ok(())
}

fn wait(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

fn folder_size(folder: &Path) -> u64 {
    std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

const WORDS: &[&str] = &[
    "invoice",
    "renewal",
    "shipment",
    "Osaka",
    "請求書",
    "出荷",
    "meeting",
    "quote",
    "support",
    "東京",
];

fn words(i: usize, k: usize) -> String {
    (0..k)
        .map(|j| WORDS[(i * 7 + j * 3) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

fn gen_csv(dir: &Path, n: usize) -> Result<PathBuf> {
    let mut s = String::from("id,name,email,phone,company,country,notes\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "P-{i},Person {i},person{i}@example{}.com,+1 415 555 {:04},Company {},US,\"{}\"",
            i % 97,
            i % 10_000,
            i % 500,
            words(i, 8)
        );
    }
    let path = dir.join("contacts.csv");
    std::fs::write(&path, s)?;
    Ok(path)
}

fn gen_salesforce(dir: &Path, n: usize) -> Result<PathBuf> {
    let mut s = String::from(
        "\"Id\",\"AccountId\",\"FirstName\",\"LastName\",\"Email\",\"Phone\",\"MailingCountry\",\"Description\",\"OwnerId\",\"CreatedDate\"\n",
    );
    for i in 0..n {
        let _ = writeln!(
            s,
            "\"003{i:015}\",\"001{:015}\",\"First{i}\",\"Last{i}\",\"c{i}@example.com\",\"+81 3 1234 {:04}\",\"Japan\",\"{}\",\"005000000000001\",\"2024-05-01T09:00:00.000Z\"",
            i % 300,
            i % 10_000,
            words(i, 8)
        );
    }
    let path = dir.join("Contact.csv");
    std::fs::write(&path, s)?;
    Ok(path)
}

fn gen_zendesk(dir: &Path, n: usize) -> Result<PathBuf> {
    let mut s = String::new();
    for i in 0..n {
        let ticket = serde_json::json!({
            "id": i, "subject": format!("Ticket {i} {}", words(i, 3)), "description": words(i, 12),
            "status": "open", "requester_id": 1000 + i % 700, "organization_id": 50 + i % 40,
            "tags": ["billing", "vip"], "created_at": "2024-05-01T09:00:00Z",
            "comments": [{"body": words(i + 1, 10)}, {"body": words(i + 2, 10)}]
        });
        let _ = writeln!(s, "{ticket}");
    }
    let path = dir.join("tickets.json");
    std::fs::write(&path, s)?;
    Ok(path)
}

fn message(i: usize) -> String {
    format!(
        "From: Person {i} <p{i}@example.com>\nTo: support@rapport.example\nSubject: Question {i} {}\nDate: Wed, 01 May 2024 09:00:00 +0000\nMessage-ID: <m{i}@example.com>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n{}\n",
        words(i, 3),
        words(i, 30)
    )
}

fn gen_mbox(dir: &Path, n: usize) -> Result<PathBuf> {
    let mut s = String::new();
    for i in 0..n {
        let _ = write!(
            s,
            "From p{i}@example.com Wed May  1 09:00:00 2024\n{}\n",
            message(i)
        );
    }
    let path = dir.join("inbox.mbox");
    std::fs::write(&path, s)?;
    Ok(path)
}

fn gen_eml(dir: &Path, n: usize) -> Result<PathBuf> {
    for i in 0..n {
        std::fs::write(dir.join(format!("m{i}.eml")), message(i))?;
    }
    Ok(dir.to_path_buf())
}

fn gen_vcard(dir: &Path, n: usize) -> Result<PathBuf> {
    let mut s = String::new();
    for i in 0..n {
        let _ = write!(
            s,
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-{i}\r\nFN:Person {i}\r\nN:{i};Person;;;\r\nORG:Company {}\r\nEMAIL;TYPE=work:v{i}@example.com\r\nTEL;TYPE=cell:+44 20 7946 {:04}\r\nNOTE:{}\r\nEND:VCARD\r\n",
            i % 500,
            i % 10_000,
            words(i, 6)
        );
    }
    let path = dir.join("contacts.vcf");
    std::fs::write(&path, s)?;
    Ok(path)
}

fn gen_notes(dir: &Path, n: usize) -> Result<PathBuf> {
    for i in 0..n {
        std::fs::write(
            dir.join(format!("note-{i}.md")),
            format!(
                "---\ncustomer: ORG-{}\nauthor: Staff\ndate: 2024-05-01\n---\n# Note {i}\n\n{}\n",
                i % 100,
                words(i, 40)
            ),
        )?;
    }
    Ok(dir.to_path_buf())
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("rapport-bench-resolve-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// What each book's queue of suspected duplicates holds, against the truth.
fn print_suspect_queues(queues: &[(usize, rapport::bench::book::SuspectQueue)]) {
    println!();
    println!(
        "| companies | suspect pairs | kind | pairs | of one company or person (merge) | look-alikes (keep apart) | split pairs listed |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (customers, q) in queues {
        for (kind, share) in [("organisations", &q.organisations), ("people", &q.people)] {
            println!(
                "| {customers} | {} | {kind} | {} | {} | {} | {} of {} |",
                q.pairs,
                share.pairs,
                share.same,
                share.pairs - share.same,
                share.split_pairs_listed,
                share.split_pairs
            );
        }
    }
}

fn print_attach(r: &rapport::bench::attach::AttachBench) {
    let pct = |x: f64| format!("{:.1} %", 100.0 * x);
    println!(
        "book of {} companies: {} records read ({} read errors), resolved in {} ms",
        r.customers, r.records, r.read_errors, r.resolve_ms
    );
    println!("| source kind | interactions | right | wrong | unattached |");
    println!("|---|---|---|---|---|");
    for (key, c) in r
        .by_source
        .iter()
        .chain(std::iter::once((&"all".to_string(), &r.all)))
    {
        println!(
            "| {key} | {} | {} | {} | {} |",
            c.total,
            pct(c.right_share()),
            pct(c.wrong_share()),
            pct(c.unattached as f64 / c.total.max(1) as f64)
        );
    }
    println!(
        "planted problems flagged: {}/{} ({}); flags on records with nothing planted: {}/{} ({})",
        r.planted_flagged,
        r.planted,
        pct(r.flagged_share()),
        r.false_flags,
        r.flags,
        pct(r.false_flag_share())
    );
    for (reason, n) in &r.reasons {
        println!("  unattached {n}: {reason}");
    }
    for e in &r.wrong_examples {
        println!("  wrong: {e}");
    }
    for e in &r.unattached_examples {
        println!("  unattached: {e}");
    }
    for e in &r.unattached_notes {
        println!("  unattached note: {e}");
    }
    for e in &r.false_flag_examples {
        println!("  flag where nothing was planted: {e}");
    }
}

/// Each run's blocking pair counts and m/u estimates, below the table.
fn print_models(models: &[(String, Vec<String>)]) {
    for (name, lines) in models {
        println!("\n{name}:");
        for line in lines {
            println!("  {line}");
        }
    }
}

/// The IPADIC dictionary `--ipadic` reads names with: rapport.toml's
/// `ipadic_source`, built into `cache`.
fn dictionary_of<'p>(
    config: &'p Config,
    cache: &'p std::path::Path,
) -> rapport::bench::attach::Dictionary<'p> {
    rapport::bench::attach::Dictionary {
        source: &config.ipadic_source,
        cache,
    }
}

/// The first change after the full pass and after a restart, each with
/// the book's statistics read ahead of it (as `rapport serve` does).
fn print_first_changes(r: &rapport::bench::resolve_incremental::IncrementalBench) {
    for (when, f) in [
        ("after the full pass", &r.after_full_pass),
        ("after a restart", &r.after_restart),
    ] {
        let w = &f.warm;
        println!(
            "\nfirst change {when}: statistics read ahead in {:.2} s (read book {} + statistics {} ms, peak RSS {:.0} MiB, {:.0} MiB held after); {} rows changed{}",
            w.total_ms() as f64 / 1000.0,
            w.read_ms,
            w.stats_ms,
            w.peak_rss_mib,
            w.kept_rss_mib,
            f.change.changed_rows,
            kept_pass_line(&f.change)
        );
    }
}

/// A change resolved with kept statistics, by stage.
fn kept_pass_line(k: &rapport::bench::resolve_incremental::KeptPass) -> String {
    format!(
        "{}: {:.2} s (read changed {} + update statistics {} + plan {} + read subset {} + resolve {} + save {} ms), {} re-resolved, {} assignments changed, peak RSS {:.0} MiB",
        if k.updated {
            ""
        } else {
            " (could not update: computed from the book)"
        },
        k.total_ms() as f64 / 1000.0,
        k.load_ms,
        k.update_ms,
        k.plan_ms,
        k.read_subset_ms,
        k.resolve_ms,
        k.save_ms,
        k.re_resolved,
        k.changed_assignments,
        k.peak_rss_mib,
    )
}
