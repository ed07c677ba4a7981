//! `rapport bench soak`: a bounded soak of a server on 127.0.0.1. Builds
//! (or reuses) the generated corpus of `rapport bench search`, serves it,
//! then for a fixed time runs N clients searching the benchmark's query mix
//! while one thread drops new CSV exports into a source folder and ingests
//! them, and another writes staff notes through `POST /v1/notes`. Every
//! window it prints the searches answered, the failures (any status but
//! 200/201, or a broken connection), p50/p99, and the process's resident
//! memory, so that a leak shows as RSS still growing after the warm-up.
//!
//! It must never run unbounded (it stops at its time budget), never talk
//! to anything but 127.0.0.1, never touch a configured data directory (it
//! works in `--dir`), and it asserts nothing: it prints numbers.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::Connection;
use super::{BenchError, BenchOptions, Latency, Target, corpus, cpu, prepare_store, queries};
use crate::config::{Config, SourceConfig};
use crate::engine::Rapport;

/// The source the soak's ingest thread writes to.
const SOAK_SOURCE: &str = "soak";
/// New customers per ingest pass (ten records each).
const CUSTOMERS_PER_PASS: usize = 20;
const RECORDS_PER_CUSTOMER: usize = 10;
/// Customers new notes go to (the first of the resolved book).
const NOTE_TARGETS: usize = 50;

#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub records: usize,
    pub dir: PathBuf,
    pub clients: usize,
    pub seconds: u64,
    /// Seconds between two windows of the report.
    pub window_seconds: u64,
    /// Pause between two ingest passes.
    pub ingest_every: Duration,
    /// Pause between two notes.
    pub note_every: Duration,
}

/// One window of the soak.
#[derive(Debug, Serialize, Clone)]
pub struct SoakWindow {
    /// Seconds since the soak started, at the window's end.
    pub at_s: f64,
    pub searches: Latency,
    #[serde(flatten)]
    pub tally: Tally,
    /// Resident memory of the whole process at the window's end, and its
    /// anonymous part (without mapped index and store pages).
    pub rss_mb: Option<f64>,
    pub rss_anon_mb: Option<f64>,
    /// What the live index's search caches hold (part of the anonymous
    /// memory; each cache is bounded by its `[search_caches]` budget).
    pub search_caches_mb: f64,
    pub load_average: f64,
}

#[derive(Debug, Serialize)]
pub struct SoakReport {
    pub records_at_start: u64,
    pub records_at_end: u64,
    pub clients: usize,
    pub seconds: f64,
    pub searches: Latency,
    #[serde(flatten)]
    pub tally: Tally,
    /// The first failures seen, with what failed and why.
    pub failure_samples: Vec<String>,
    /// RSS at the end of the first window after the warm-up (a fifth of
    /// the run), the highest after it, and at the end.
    pub rss_after_warmup_mb: Option<f64>,
    pub rss_max_after_warmup_mb: Option<f64>,
    pub rss_end_mb: Option<f64>,
    /// The same three of the anonymous memory alone.
    pub rss_anon_after_warmup_mb: Option<f64>,
    pub rss_anon_max_after_warmup_mb: Option<f64>,
    pub rss_anon_end_mb: Option<f64>,
    pub windows: Vec<SoakWindow>,
}

/// What the workers did besides searching, and what failed: over a window
/// or the whole run.
#[derive(Debug, Serialize, Clone, Copy, Default)]
pub struct Tally {
    pub search_failures: usize,
    pub notes_written: usize,
    pub note_failures: usize,
    pub ingest_passes: usize,
    pub ingest_failures: usize,
}

impl Tally {
    /// What happened between `earlier` and `self`.
    fn since(self, earlier: Tally) -> Tally {
        Tally {
            search_failures: self.search_failures - earlier.search_failures,
            notes_written: self.notes_written - earlier.notes_written,
            note_failures: self.note_failures - earlier.note_failures,
            ingest_passes: self.ingest_passes - earlier.ingest_passes,
            ingest_failures: self.ingest_failures - earlier.ingest_failures,
        }
    }
}

/// What the workers count, shared with the window reporter.
#[derive(Default)]
struct Counters {
    latencies: Mutex<Vec<Duration>>,
    search_failures: AtomicUsize,
    notes: AtomicUsize,
    note_failures: AtomicUsize,
    ingests: AtomicUsize,
    ingest_failures: AtomicUsize,
    samples: Mutex<Vec<String>>,
}

impl Counters {
    /// The counts so far.
    fn tally(&self) -> Tally {
        Tally {
            search_failures: self.search_failures.load(Ordering::Relaxed),
            notes_written: self.notes.load(Ordering::Relaxed),
            note_failures: self.note_failures.load(Ordering::Relaxed),
            ingest_passes: self.ingests.load(Ordering::Relaxed),
            ingest_failures: self.ingest_failures.load(Ordering::Relaxed),
        }
    }

    fn failed(&self, counter: &AtomicUsize, what: String) {
        counter.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut samples) = self.samples.lock()
            && samples.len() < 20
        {
            samples.push(what);
        }
    }
}

pub fn run(options: &SoakOptions, base: Config) -> Result<SoakReport, BenchError> {
    let bench = BenchOptions::corpus(options.records, options.dir.clone());
    let mut config = base;
    config.data_dir = options.dir.join("data");
    let incoming = options.dir.join("incoming");
    config.sources = vec![soak_source(&incoming)];
    prepare_store(&bench, &config)?;
    // A reused directory starts from the corpus again: no soak files left.
    if incoming.exists() {
        std::fs::remove_dir_all(&incoming)?;
    }
    std::fs::create_dir_all(&incoming)?;
    let app = Arc::new(Rapport::open(config)?);
    // The generated corpus carries customer ids but no customers yet: one
    // pass of the (empty) soak source first, outside the soak's clock,
    // resolves it as a first ingest would, and removes what an earlier
    // soak in this directory ingested.
    let resolving = Instant::now();
    app.ingest_source(SOAK_SOURCE, "bench")?;
    eprintln!(
        "corpus resolved in {:.1} s",
        resolving.elapsed().as_secs_f64()
    );
    let records_at_start = app.status()?.records;
    let note_targets = note_targets(&app)?;
    let (runtime, target) = super::serve_in_process(&app)?;
    eprintln!(
        "soak: {records_at_start} records, {} clients, {} s, notes to {} customers",
        options.clients,
        options.seconds,
        note_targets.len()
    );
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for client in 0..options.clients.max(1) {
        let (target, counters, stop) = (target.clone(), counters.clone(), stop.clone());
        workers.push(std::thread::spawn(move || {
            search_loop(client, &target, &counters, &stop)
        }));
    }
    {
        let (app, counters, stop) = (app.clone(), counters.clone(), stop.clone());
        let (every, first) = (options.ingest_every, bench.records.div_ceil(10));
        workers.push(std::thread::spawn(move || {
            ingest_loop(&app, &incoming, first, every, &counters, &stop)
        }));
    }
    {
        let (target, counters, stop) = (target.clone(), counters.clone(), stop.clone());
        let every = options.note_every;
        workers.push(std::thread::spawn(move || {
            notes_loop(&target, &note_targets, every, &counters, &stop)
        }));
    }
    let windows = report_windows(options, &counters, &app);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.join();
    }
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(summarise(
        options,
        records_at_start,
        app.status()?.records,
        &counters,
        windows,
    ))
}

fn soak_source(incoming: &Path) -> SourceConfig {
    SourceConfig::new(SOAK_SOURCE, "generic-csv", incoming.to_path_buf())
}

/// Customer ids for the notes: the first customers of the resolved book.
fn note_targets(app: &Rapport) -> Result<Vec<String>, BenchError> {
    let lines = app
        .customer_export_lines()
        .map_err(|e| BenchError::Io(std::io::Error::other(e.to_string())))?;
    Ok(lines
        .iter()
        .filter_map(|line| line["customer_id"].as_str().map(str::to_string))
        .take(NOTE_TARGETS)
        .collect())
}

fn search_loop(client: usize, target: &Target, counters: &Counters, stop: &AtomicBool) {
    let calls: Vec<String> = queries::cases()
        .iter()
        .flat_map(|case| case.calls.iter().map(|c| c.path()))
        .collect();
    let mut connection = None;
    let mut turn = client;
    while !stop.load(Ordering::Relaxed) {
        let Some(path) = calls.get(turn % calls.len().max(1)) else {
            return;
        };
        turn += 1;
        if connection.is_none() {
            match Connection::open(target) {
                Ok(c) => connection = Some(c),
                Err(e) => {
                    counters.failed(&counters.search_failures, format!("connect: {e}"));
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            }
        }
        let Some(open) = connection.as_mut() else {
            continue;
        };
        let started = Instant::now();
        match open.get(path) {
            Ok(200) => {
                if let Ok(mut latencies) = counters.latencies.lock() {
                    latencies.push(started.elapsed());
                }
            }
            Ok(status) => {
                let answer = String::from_utf8_lossy(&open.body()[..open.body().len().min(200)]);
                counters.failed(
                    &counters.search_failures,
                    format!("{status} {path}: {answer}"),
                )
            }
            Err(e) => {
                counters.failed(&counters.search_failures, format!("{path}: {e}"));
                connection = None;
            }
        }
    }
}

/// Drops a CSV of new customers into the source folder and ingests it,
/// again and again until stopped.
fn ingest_loop(
    app: &Rapport,
    incoming: &Path,
    first_customer: usize,
    every: Duration,
    counters: &Counters,
    stop: &AtomicBool,
) {
    let mut pass = 0;
    while !stop.load(Ordering::Relaxed) {
        let first = first_customer + pass * CUSTOMERS_PER_PASS;
        let file = incoming.join(format!("soak-{pass:05}.csv"));
        let outcome = write_export(&file, first)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                app.ingest_source(SOAK_SOURCE, "bench")
                    .map_err(|e| e.to_string())
            });
        match outcome {
            Ok(report) if report.failed.is_none() && report.errors.is_empty() => {
                counters.ingests.fetch_add(1, Ordering::Relaxed);
            }
            Ok(report) => counters.failed(
                &counters.ingest_failures,
                format!(
                    "ingest of {}: {:?} {:?}",
                    file.display(),
                    report.failed,
                    report.errors.first()
                ),
            ),
            Err(e) => counters.failed(
                &counters.ingest_failures,
                format!("ingest of {}: {e}", file.display()),
            ),
        }
        pass += 1;
        sleep_unless_stopped(every, stop);
    }
}

/// One CSV export of `CUSTOMERS_PER_PASS` generated customers from `first`.
fn write_export(path: &Path, first: usize) -> std::io::Result<()> {
    let records = corpus::generate(first, CUSTOMERS_PER_PASS, RECORDS_PER_CUSTOMER, 0x50A6);
    let mut out = csv::Writer::from_path(path)?;
    out.write_record([
        "id", "kind", "title", "body", "name", "email", "phone", "company", "country",
    ])?;
    for r in &records {
        let one = |v: &Option<String>| v.clone().unwrap_or_default();
        out.write_record([
            format!("soak-{}", r.external_id),
            r.kind.as_str().to_string(),
            one(&r.title),
            one(&r.body),
            r.names.join(";"),
            r.emails.join(";"),
            r.phones.join(";"),
            one(&r.company),
            one(&r.country),
        ])?;
    }
    out.flush()
}

fn notes_loop(
    target: &Target,
    customers: &[String],
    every: Duration,
    counters: &Counters,
    stop: &AtomicBool,
) {
    let mut connection = None;
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let Some(customer) = customers.get(n % customers.len().max(1)) else {
            return;
        };
        n += 1;
        if connection.is_none() {
            connection = Connection::open(target).ok();
        }
        let body = serde_json::json!({
            "customer_id": customer,
            "text": format!("Soak note {n}: called about the renewal and the warehouse invoice."),
            "tags": ["soak"],
        })
        .to_string();
        match connection
            .as_mut()
            .map(|c| c.post_json("/v1/notes", body.as_bytes()))
        {
            Some(Ok(201)) => {
                counters.notes.fetch_add(1, Ordering::Relaxed);
            }
            Some(Ok(status)) => {
                let answer = connection.as_ref().map_or_else(String::new, |c| {
                    String::from_utf8_lossy(&c.body()[..c.body().len().min(200)]).into_owned()
                });
                counters.failed(
                    &counters.note_failures,
                    format!("{status} POST /v1/notes for {customer}: {answer}"),
                )
            }
            Some(Err(e)) => {
                counters.failed(&counters.note_failures, format!("POST /v1/notes: {e}"));
                connection = None;
            }
            None => counters.failed(&counters.note_failures, "connect for notes".into()),
        }
        sleep_unless_stopped(every, stop);
    }
}

fn sleep_unless_stopped(pause: Duration, stop: &AtomicBool) {
    let until = Instant::now() + pause;
    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20).min(pause));
    }
}

/// Waits out the run window by window, printing and keeping each.
fn report_windows(options: &SoakOptions, counters: &Counters, app: &Rapport) -> Vec<SoakWindow> {
    let started = Instant::now();
    let budget = Duration::from_secs(options.seconds);
    let window = Duration::from_secs(options.window_seconds.max(1));
    let mut windows = Vec::new();
    let mut previous = Tally::default();
    while started.elapsed() < budget {
        let window_started = Instant::now();
        let left = budget.saturating_sub(started.elapsed());
        std::thread::sleep(window.min(left));
        let latencies = counters
            .latencies
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default();
        let now = counters.tally();
        let w = SoakWindow {
            at_s: started.elapsed().as_secs_f64(),
            searches: Latency::from(latencies, window_started.elapsed()),
            tally: now.since(previous),
            rss_mb: cpu::rss_mb(),
            rss_anon_mb: cpu::rss_anon_mb(),
            search_caches_mb: app.cache_usage().iter().map(|c| c.bytes).sum::<usize>() as f64 / 1e6,
            load_average: cpu::load_average().unwrap_or(0.0),
        };
        previous = now;
        eprintln!(
            "{:>6.0} s  searches {:>6} ({:>5.0}/s) p50 {:>7.2} ms p99 {:>8.2} ms  failures {}  notes {} ({} failed)  ingests {} ({} failed)  RSS {:>7.1} MB (anonymous {:>7.1}, search caches {:>6.1})  load {:.1}",
            w.at_s,
            w.searches.requests,
            w.searches.per_second,
            w.searches.p50_ms,
            w.searches.p99_ms,
            w.tally.search_failures,
            w.tally.notes_written,
            w.tally.note_failures,
            w.tally.ingest_passes,
            w.tally.ingest_failures,
            w.rss_mb.unwrap_or(0.0),
            w.rss_anon_mb.unwrap_or(0.0),
            w.search_caches_mb,
            w.load_average
        );
        let _ = std::io::stderr().flush();
        windows.push(w);
    }
    windows
}

fn summarise(
    options: &SoakOptions,
    records_at_start: u64,
    records_at_end: u64,
    counters: &Counters,
    windows: Vec<SoakWindow>,
) -> SoakReport {
    let seconds = windows.last().map_or(0.0, |w| w.at_s);
    let warm_up = seconds / 5.0;
    let after: Vec<&SoakWindow> = windows.iter().filter(|w| w.at_s > warm_up).collect();
    let weighted = |f: fn(&Latency) -> f64| {
        let n: usize = windows.iter().map(|w| w.searches.requests).sum();
        let sum: f64 = (windows.iter())
            .map(|w| f(&w.searches) * w.searches.requests as f64)
            .sum();
        sum / (n.max(1) as f64)
    };
    let requests = windows.iter().map(|w| w.searches.requests).sum();
    SoakReport {
        records_at_start,
        records_at_end,
        clients: options.clients,
        seconds,
        searches: Latency {
            requests,
            p50_ms: weighted(|l| l.p50_ms),
            // The worst window's p99: a soak is judged by its worst stretch.
            p99_ms: (windows.iter())
                .map(|w| w.searches.p99_ms)
                .fold(0.0, f64::max),
            per_second: requests as f64 / seconds.max(1e-9),
            cpu_ms: 0.0,
        },
        tally: counters.tally(),
        failure_samples: counters
            .samples
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default(),
        rss_after_warmup_mb: after.first().and_then(|w| w.rss_mb),
        rss_max_after_warmup_mb: after.iter().filter_map(|w| w.rss_mb).reduce(f64::max),
        rss_end_mb: windows.last().and_then(|w| w.rss_mb),
        rss_anon_after_warmup_mb: after.first().and_then(|w| w.rss_anon_mb),
        rss_anon_max_after_warmup_mb: after.iter().filter_map(|w| w.rss_anon_mb).reduce(f64::max),
        rss_anon_end_mb: windows.last().and_then(|w| w.rss_anon_mb),
        windows,
    }
}
