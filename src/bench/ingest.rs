//! `rapport bench ingest`: writes the generated corpus of `rapport bench
//! search` as export files (CSV, NDJSON or both), ingests them into a fresh
//! data directory through the stock generic-csv / generic-json connectors,
//! and reports where the time went, stage by stage (read, normalise, store,
//! resolve, index), the wall time until the records are searchable, the
//! peak memory, and what each part takes on disk (store tables, index
//! fields).
//!
//! It must never touch a configured data directory (it works in `--dir` or
//! a temporary folder) and it asserts nothing: it prints numbers.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use super::reindex::{peak_rss_mb, reset_peak_rss};
use super::searches_beside;
use super::stage_sampler::{PeakResident, StageSampler};
use super::{BenchError, RECORDS_PER_CUSTOMER, SEED, corpus};
use crate::config::{Config, SourceConfig};
use crate::connectors::{self, IngestError, Manifest, RecordSink, Stop};
use crate::engine::{Footprint, Rapport};
use crate::index::search::SearchRequest;
use crate::record::Record;

/// Records per generated file (one file at 100k, as a CRM export would be).
const RECORDS_PER_FILE: usize = 100_000;
/// Customers generated at a time (bounded memory at any corpus size).
const CUSTOMERS_PER_CHUNK: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    Csv,
    Ndjson,
    /// Half the files CSV, half NDJSON (two sources).
    Mixed,
}

#[derive(Debug, Clone)]
pub struct IngestBenchOptions {
    pub records: usize,
    pub format: InputFormat,
    /// Scratch folder: input files and the data directory (emptied first).
    pub dir: PathBuf,
    /// When set, a second thread searches the engine throughout the
    /// ingest, pausing this long between two searches.
    pub search_beside_pause: Option<Duration>,
}

/// Seconds spent in one stage, the rate it ran at, and the CPU seconds the
/// whole process used meanwhile (every thread: on a shared machine, wall
/// time includes waiting for a core, CPU time does not).
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub stage: &'static str,
    pub seconds: f64,
    pub records_per_second: f64,
    pub cpu_seconds: Option<f64>,
    /// The resident memory sampled during the stage: its largest sample and
    /// the median (stages measured apart, before or after the ingest call,
    /// have none).
    pub peak_resident: Option<PeakResident>,
}

#[derive(Debug, Serialize)]
pub struct IngestBenchReport {
    pub records: usize,
    pub format: InputFormat,
    pub input_bytes: u64,
    /// Measured apart, before the ingest: parsing the files alone, then
    /// reading them through the connectors (parse + map + normalise).
    pub stages: Vec<Stage>,
    /// From opening the data directory (dictionary included) to the first
    /// search that sees every record.
    pub wall_to_searchable_s: f64,
    pub end_to_end_records_per_second: f64,
    /// Records the first search after the ingest counted.
    pub searchable_records: u64,
    pub peak_rss_mb: Option<f64>,
    /// Measured after the store file was compacted (when it was).
    pub footprint: Footprint,
    /// The store file before and after `Rapport::compact_store`.
    pub compaction: crate::engine::Compaction,
    /// 1-minute load average before and after (the machine is shared).
    pub load_average: (f64, f64),
    /// The searches sent while the ingest ran (`--search-beside`).
    pub searches_beside: Option<searches_beside::SearchesBesideReport>,
}

/// Counts what a connector produces and drops it.
#[derive(Default)]
struct Count {
    records: usize,
    errors: usize,
}

impl RecordSink for Count {
    fn record(&mut self, _record: Record) -> Result<(), Stop> {
        self.records += 1;
        Ok(())
    }

    fn error(&mut self, _error: IngestError) {
        self.errors += 1;
    }
}

pub fn run(options: &IngestBenchOptions, base: Config) -> Result<IngestBenchReport, BenchError> {
    let load_before = super::cpu::load_average().unwrap_or(0.0);
    if options.dir.exists() {
        std::fs::remove_dir_all(&options.dir)?;
    }
    let input = options.dir.join("input");
    let sources = write_input(&input, options.records, options.format)?;
    let input_bytes = sources
        .iter()
        .map(|s| crate::engine::folder_bytes(&s.path))
        .sum();
    let mut config = base;
    config.data_dir = options.dir.join("data");
    config.sources = sources;

    let mut stages = Vec::new();
    let mut stage = |name: &'static str,
                     seconds: f64,
                     records: usize,
                     cpu: Option<f64>,
                     peak_resident: Option<PeakResident>| {
        stages.push(Stage {
            stage: name,
            seconds,
            records_per_second: records as f64 / seconds.max(1e-9),
            cpu_seconds: cpu,
            peak_resident,
        })
    };
    let cpu = super::cpu::process_cpu;
    let cpu_since = |before: Option<Duration>| Some(cpu()?.saturating_sub(before?).as_secs_f64());
    let (started, cpu_before) = (Instant::now(), cpu());
    let parsed = parse_only(&config.sources)?;
    let parse_s = started.elapsed().as_secs_f64();
    stage(
        "read (parse only)",
        parse_s,
        parsed,
        cpu_since(cpu_before),
        None,
    );
    let (started, cpu_before) = (Instant::now(), cpu());
    let read = read_and_normalise(&config)?;
    let normalised_s = started.elapsed().as_secs_f64();
    let normalised_cpu = cpu_since(cpu_before);
    stage(
        "read + normalise (connectors)",
        normalised_s,
        read,
        normalised_cpu,
        None,
    );

    reset_peak_rss();
    let sampler = StageSampler::start();
    let started = Instant::now();
    let mut app = Rapport::open(config)?;
    let opened = started.elapsed();
    let (report, watch) = match options.search_beside_pause {
        Some(pause) => {
            let (report, watch) = searches_beside::during(&app, pause, || app.ingest(&|_| {}));
            (report?, Some(watch))
        }
        None => (app.ingest(&|_| {})?, None),
    };
    let request = SearchRequest::from_params([("q", "*"), ("group", "none"), ("limit", "1")])?;
    let searchable_records = app.search(&request)?.total as u64;
    let wall = started.elapsed().as_secs_f64();
    let samples = sampler.finish();
    let peak_rss_mb = peak_rss_mb();
    let records = options.records;
    // Stage boundaries, as times since the engine was opened.
    let stages_ms = [
        report.stages.sources_ms,
        report.stages.resolve_ms,
        report.stages.index_ms,
    ];
    let mut bounds = vec![Duration::ZERO, opened];
    for ms in stages_ms {
        let last = bounds.last().copied().unwrap_or_default();
        bounds.push(last + Duration::from_millis(ms));
    }
    let span = |i: usize| {
        let (from, to) = (bounds[i], bounds[i + 1]);
        (
            (to - from).as_secs_f64(),
            samples.cpu_between(from, to),
            samples.peak_between(from, to),
        )
    };
    let searches_beside = watch.map(|watch| {
        // The watch's clock started when the engine had opened.
        let since_watch = |i: usize| bounds[i].saturating_sub(opened);
        watch.report(&[
            ("read + normalise + store", since_watch(1), since_watch(2)),
            ("resolve", since_watch(2), since_watch(3)),
            ("index (catch-up)", since_watch(3), since_watch(4)),
        ])
    });
    let (s, c, m) = span(0);
    stage("open (dictionary, store, empty index)", s, records, c, m);
    let (pass_s, pass_cpu, pass_peak) = span(1);
    stage(
        "read + normalise + store (ingest pass)",
        pass_s,
        records,
        pass_cpu,
        pass_peak,
    );
    stage(
        "store (ingest pass minus read + normalise)",
        (pass_s - normalised_s).max(0.0),
        records,
        pass_cpu.zip(normalised_cpu).map(|(p, n)| (p - n).max(0.0)),
        None,
    );
    let (s, c, m) = span(2);
    stage("resolve", s, records, c, m);
    let (read_us, save_us) = (
        report.stages.resolve_book_read_us,
        report.stages.resolve_save_us,
    );
    if read_us + save_us > 0 {
        // A full pass: its book read, then linking, building and assigning,
        // then its save (the few milliseconds around them go to the middle).
        let read_to = bounds[2] + Duration::from_micros(read_us);
        let resolved_to = bounds[3]
            .saturating_sub(Duration::from_micros(save_us))
            .max(bounds[2]);
        let read_to = read_to.min(resolved_to);
        let parts = [
            ("resolve: read the book", bounds[2], read_to),
            ("resolve: link, build, assign", read_to, resolved_to),
            ("resolve: save", resolved_to, bounds[3]),
        ];
        for (name, from, to) in parts {
            let (cpu, peak) = (
                samples.cpu_between(from, to),
                samples.peak_between(from, to),
            );
            stage(name, (to - from).as_secs_f64(), records, cpu, peak);
        }
    }
    let (s, c, m) = span(3);
    stage("index (catch-up)", s, records, c, m);
    // What `rapport ingest` does last, after the records are searchable.
    let (started, cpu_before) = (Instant::now(), cpu());
    let compaction = app.compact_store()?;
    stage(
        "compact the store file (after searchable)",
        started.elapsed().as_secs_f64(),
        records,
        cpu_since(cpu_before),
        None,
    );
    Ok(IngestBenchReport {
        records,
        format: options.format,
        input_bytes,
        stages,
        wall_to_searchable_s: wall,
        end_to_end_records_per_second: records as f64 / wall.max(1e-9),
        searchable_records,
        peak_rss_mb,
        footprint: app.footprint()?,
        compaction,
        load_average: (load_before, super::cpu::load_average().unwrap_or(0.0)),
        searches_beside,
    })
}

/// Writes `records` generated records as files of at most
/// [`RECORDS_PER_FILE`] into `input/csv` and/or `input/ndjson`; returns the
/// sources that read them.
fn write_input(
    input: &Path,
    records: usize,
    format: InputFormat,
) -> Result<Vec<SourceConfig>, BenchError> {
    let source = |name: &str, connector: &str| SourceConfig::new(name, connector, input.join(name));
    let sources = match format {
        InputFormat::Csv => vec![source("csv", "generic-csv")],
        InputFormat::Ndjson => vec![source("ndjson", "generic-json")],
        InputFormat::Mixed => vec![
            source("csv", "generic-csv"),
            source("ndjson", "generic-json"),
        ],
    };
    for s in &sources {
        std::fs::create_dir_all(&s.path)?;
    }
    // A mixed corpus alternates files, so it has at least one of each.
    let per_file = match format {
        InputFormat::Mixed => RECORDS_PER_FILE.min(records.div_ceil(2)).max(1),
        _ => RECORDS_PER_FILE,
    };
    let customers = records.div_ceil(RECORDS_PER_CUSTOMER);
    let mut written = 0;
    let mut file: Option<(usize, BufWriter<std::fs::File>, bool)> = None;
    let mut first = 0;
    while first < customers {
        let n = CUSTOMERS_PER_CHUNK.min(customers - first);
        for record in corpus::generate(first, n, RECORDS_PER_CUSTOMER, SEED) {
            if written >= records {
                break;
            }
            let number = written / per_file;
            if file.as_ref().is_none_or(|(open, _, _)| *open != number) {
                if let Some((_, mut done, _)) = file.take() {
                    done.flush()?;
                }
                let csv = match format {
                    InputFormat::Csv => true,
                    InputFormat::Ndjson => false,
                    InputFormat::Mixed => number % 2 == 0,
                };
                let (folder, ext) = if csv {
                    ("csv", "csv")
                } else {
                    ("ndjson", "ndjson")
                };
                let path = input.join(folder).join(format!("part-{number:04}.{ext}"));
                let mut out = BufWriter::new(std::fs::File::create(path)?);
                if csv {
                    writeln!(out, "{}", CSV_COLUMNS.join(","))?;
                }
                file = Some((number, out, csv));
            }
            if let Some((_, out, csv)) = file.as_mut() {
                if *csv {
                    write_csv_row(out, &record)?;
                } else {
                    serde_json::to_writer(&mut *out, &json_object(&record))
                        .map_err(std::io::Error::other)?;
                    out.write_all(b"\n")?;
                }
            }
            written += 1;
        }
        first += n;
    }
    if let Some((_, mut done, _)) = file.take() {
        done.flush()?;
    }
    Ok(sources)
}

const CSV_COLUMNS: &[&str] = &[
    "id", "kind", "customer", "title", "body", "name", "email", "phone", "company", "country",
    "stage", "owner", "tags", "amount", "currency", "created", "plan",
];

/// The columns of [`CSV_COLUMNS`] for one record (lists `;`-joined).
fn row(record: &Record) -> Vec<String> {
    let one = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        record.external_id.clone(),
        record.kind.as_str().to_string(),
        customer_reference(record),
        one(&record.title),
        one(&record.body),
        record.names.join(";"),
        record.emails.join(";"),
        record.phones.join(";"),
        one(&record.company),
        one(&record.country),
        one(&record.stage),
        one(&record.owner),
        record.tags.join(";"),
        record.amount.map(|a| a.to_string()).unwrap_or_default(),
        one(&record.currency),
        record.created.map(|d| d.to_rfc3339()).unwrap_or_default(),
        record
            .attrs
            .get("plan")
            .and_then(|p| p.as_str())
            .unwrap_or_default()
            .to_string(),
    ]
}

fn write_csv_row(out: &mut impl Write, record: &Record) -> std::io::Result<()> {
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    writer
        .write_record(row(record))
        .map_err(std::io::Error::other)?;
    writer.flush()
}

fn json_object(record: &Record) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for (column, value) in CSV_COLUMNS.iter().zip(row(record)) {
        if value.is_empty() {
            continue;
        }
        let value = match *column {
            "email" | "phone" | "tags" | "name" => {
                json!(value.split(';').collect::<Vec<_>>())
            }
            "amount" => value.parse::<f64>().map_or(json!(value), |a| json!(a)),
            _ => json!(value),
        };
        object.insert(column.to_string(), value);
    }
    serde_json::Value::Object(object)
}

/// A record's customer reference: its customer's first record (the
/// organisation or person itself), by external id; none for that record.
fn customer_reference(record: &Record) -> String {
    match record.external_id.rsplit_once('-') {
        Some((customer, n)) if n != "0" => format!("{customer}-0"),
        _ => String::new(),
    }
}

/// Parses every input file (CSV rows or JSON lines) and drops the values:
/// the floor any reader pays.
fn parse_only(sources: &[SourceConfig]) -> Result<usize, BenchError> {
    let mut rows = 0;
    for source in sources {
        for entry in std::fs::read_dir(&source.path)? {
            let path = entry?.path();
            let file = std::io::BufReader::new(std::fs::File::open(&path)?);
            if path.extension().is_some_and(|e| e == "csv") {
                let mut reader = csv::Reader::from_reader(file);
                let mut row = csv::StringRecord::new();
                while reader
                    .read_record(&mut row)
                    .map_err(std::io::Error::other)?
                {
                    rows += 1;
                }
            } else {
                for line in file.lines() {
                    let line = line?;
                    let _: serde_json::Value =
                        serde_json::from_str(&line).map_err(std::io::Error::other)?;
                    rows += 1;
                }
            }
        }
    }
    Ok(rows)
}

/// Reads every input file through its source's connector into a sink that
/// only counts: parsing, field mapping and normalisation, no store.
fn read_and_normalise(config: &Config) -> Result<usize, BenchError> {
    let mut count = Count::default();
    for source in &config.sources {
        let manifest = Manifest::resolve(&source.connector, None, &config.base_dir)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let (files, _) = connectors::list_files(&source.name, &source.path, &manifest);
        for file in &files {
            connectors::read_file(&source.name, &manifest, file, &mut count)
                .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        }
    }
    if count.errors > 0 {
        eprintln!("connectors reported {} problems", count.errors);
    }
    Ok(count.records)
}

/// The report as Markdown tables.
pub fn markdown(r: &IngestBenchReport) -> String {
    use std::fmt::Write as _;
    let mb = |b: u64| b as f64 / 1e6;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ingest: {} records ({:?}, {:.1} MB of input): searchable after {:.2} s = {:.0} records/s end to end; {} records found by a search; peak RSS {} MB; load {:.1} -> {:.1}\n",
        r.records,
        r.format,
        mb(r.input_bytes),
        r.wall_to_searchable_s,
        r.end_to_end_records_per_second,
        r.searchable_records,
        r.peak_rss_mb.map_or("-".into(), |m| format!("{m:.0}")),
        r.load_average.0,
        r.load_average.1,
    );
    if let Some(beside) = &r.searches_beside {
        let _ = writeln!(out, "{}", searches_beside::markdown(beside));
    }
    let _ = writeln!(
        out,
        "| stage | seconds | records/s | CPU seconds (all threads) | resident MB sampled: peak anon + file (median) |\n|---|---|---|---|---|"
    );
    for s in &r.stages {
        let _ = writeln!(
            out,
            "| {} | {:.2} | {:.0} | {} | {} |",
            s.stage,
            s.seconds,
            s.records_per_second,
            s.cpu_seconds.map_or("-".into(), |c| format!("{c:.2}")),
            s.peak_resident.map_or("-".into(), |m| format!(
                "{:.0} + {:.0} (median {:.0})",
                m.anon_mb, m.file_mb, m.median_mb
            ))
        );
    }
    let f = &r.footprint;
    let _ = writeln!(
        out,
        "\non disk: store {:.1} MB, index {:.1} MB ({} segments searched, holding {:.1} MB: the rest is merges still running and files awaiting removal; doc store {:.1} MB), total {:.1} MB\n",
        mb(f.store_file),
        mb(f.index_folder),
        f.index.segments,
        mb(f.index.total),
        mb(f.index.doc_store),
        mb(f.store_file + f.index_folder)
    );
    let c = &r.compaction;
    let _ = writeln!(
        out,
        "store file before compaction {:.1} MB, after {:.1} MB ({})\n",
        mb(c.bytes_before),
        mb(c.bytes_after),
        if c.compacted {
            "compacted"
        } else {
            "under the threshold: left as is"
        }
    );
    let _ = writeln!(
        out,
        "| store table | rows | stored MB | B-tree MB | unused MB |\n|---|---|---|---|---|"
    );
    for t in f.store_tables.iter().filter(|t| t.rows > 0) {
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {:.2} | {:.2} |",
            t.table,
            t.rows,
            mb(t.stored),
            mb(t.metadata),
            mb(t.fragmented)
        );
    }
    let _ = writeln!(
        out,
        "\n| index field | total MB | terms | postings | positions | fast | norms |\n|---|---|---|---|---|---|---|"
    );
    for x in &f.index.fields {
        let _ = writeln!(
            out,
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            x.field,
            mb(x.total()),
            mb(x.terms),
            mb(x.postings),
            mb(x.positions),
            mb(x.fast),
            mb(x.norms)
        );
    }
    out
}
