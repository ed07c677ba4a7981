//! `rapport bench`: builds a generated customer corpus of a given size in a
//! data directory (store, then index, as ingest would), then measures a
//! query mix (single words, two words, phrases, typos, Japanese, filtered,
//! grouped, facets, aggregations, suggest) three ways: directly on the
//! engine (its own floor), over HTTP on 127.0.0.1 with one client, and with
//! several concurrent clients; and reports p50/p99 latencies, requests per
//! second, the HTTP/direct ratio, and the CPU time per query (which, unlike
//! wall time, does not grow with the load of a shared machine).
//!
//! It must never run unbounded: every phase stops after its request count or
//! its time budget, whichever comes first; and it only talks to 127.0.0.1.

pub mod attach;
pub mod audit;
pub mod book;
pub mod client;
pub mod corpus;
mod cpu;
pub mod export;
pub mod febrl;
pub mod ingest;
mod queries;
pub mod reindex;
pub mod resolve;
pub mod resolve_incremental;
pub mod resolve_memory;
pub mod resolve_warm;
pub mod searches_beside;
pub mod soak;
mod stage_sampler;
pub mod upload;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::Config;
use crate::engine::{EngineError, Rapport};
use crate::index::search::QueryError;
use crate::store::{Store, StoreError};
use queries::{Call, Case};

const CUSTOMERS_PER_FILE: usize = 1_000;
const RECORDS_PER_CUSTOMER: usize = 10;
const SEED: u64 = 0x5EED_2026;
/// Emails of about 100 kB among each file's customers (20 at 100k records).
const LONG_EMAILS_PER_FILE: usize = 2;
/// Bumped whenever the generator changes what it writes.
const CORPUS_VERSION: &str = "v2-long-emails";

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("benchmark I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Manifest(#[from] crate::connectors::manifest::ManifestError),
    #[error("benchmark HTTP request `{path}` answered {status}")]
    Http { path: String, status: u16 },
    #[error(transparent)]
    Dictionary(#[from] crate::index::japanese_dictionary::DictionaryError),
}

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub records: usize,
    pub dir: PathBuf,
    /// Requests per case for the direct and one-client phases.
    pub requests: usize,
    /// Concurrent clients for the last phase.
    pub clients: usize,
    /// Time budget per case and phase.
    pub max_seconds: u64,
    /// Only the cases with these names (all when empty).
    pub only: Vec<String>,
    /// Also print each query's own median and slowest time (direct phase).
    pub by_query: bool,
}

impl BenchOptions {
    /// Options that only name a corpus (its size and folder), for the
    /// benchmarks that build one and then measure something else.
    pub fn corpus(records: usize, dir: PathBuf) -> BenchOptions {
        BenchOptions {
            records,
            dir,
            requests: 0,
            clients: 1,
            max_seconds: 0,
            only: Vec::new(),
            by_query: false,
        }
    }
}

#[derive(Debug, Serialize, Default, Clone)]
pub struct Latency {
    pub requests: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub per_second: f64,
    /// CPU milliseconds consumed per request by the whole process: the
    /// calling thread and the search pool for the direct phase, server and
    /// clients over HTTP. Unlike wall time, it does not include waiting
    /// for a core.
    pub cpu_ms: f64,
}

impl Latency {
    fn from(mut samples: Vec<Duration>, wall: Duration) -> Latency {
        samples.sort();
        Latency {
            requests: samples.len(),
            p50_ms: percentile_ms(&samples, 50),
            p99_ms: percentile_ms(&samples, 99),
            per_second: samples.len() as f64 / wall.as_secs_f64().max(1e-9),
            cpu_ms: 0.0,
        }
    }
}

/// The `p`th percentile of `sorted` (ascending) in milliseconds; 0 for none.
fn percentile_ms(sorted: &[Duration], p: usize) -> f64 {
    sorted
        .get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1)))
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

#[derive(Debug, Serialize)]
pub struct CaseReport {
    pub case: &'static str,
    pub direct: Latency,
    pub http_1: Latency,
    pub http_n: Latency,
    /// HTTP (one client) p50 over direct p50.
    pub http_ratio_p50: f64,
    /// HTTP (one client) p50 minus direct p50: what HTTP adds, in ms.
    pub http_added_p50_ms: f64,
    /// 1-minute load average when the case started.
    pub load_average: f64,
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub records: u64,
    pub build_store_s: Option<f64>,
    pub build_index_s: f64,
    pub clients: usize,
    /// One client's round trips for a request the router answers without
    /// work (a 404): the least any HTTP request costs on this machine.
    pub http_floor: Latency,
    /// The same for `GET /v1/session` with the API key: the floor plus
    /// authentication (key lookup in the store, hash, constant-time
    /// compare) and a tiny JSON answer.
    pub auth_floor: Latency,
    /// A search filtered by `filter.customer_country=JP` with the admin key,
    /// and the same search by a key scoped to `customer_country=JP`: what
    /// row-level scope adds on top of the filter it becomes.
    pub filtered_search: Latency,
    pub scoped_search: Latency,
    pub cases: Vec<CaseReport>,
}

/// Writes the corpus into the store unless the directory already holds one
/// of this size; returns the seconds spent (None when reused).
fn prepare_store(options: &BenchOptions, config: &Config) -> Result<Option<f64>, BenchError> {
    let marker = options.dir.join("corpus.records");
    // The corpus's version is part of the marker, so a directory written
    // by an older generator is written again rather than measured.
    let expected = format!("{} {CORPUS_VERSION}", options.records);
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(expected.as_str()) {
        return Ok(None);
    }
    if options.dir.exists() {
        std::fs::remove_dir_all(&options.dir)?;
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let started = Instant::now();
    let store = Store::open(&config.store_path())?;
    let customers = options.records.div_ceil(RECORDS_PER_CUSTOMER);
    let mut first = 0;
    while first < customers {
        let n = CUSTOMERS_PER_FILE.min(customers - first);
        let mut records = corpus::generate(first, n, RECORDS_PER_CUSTOMER, SEED);
        let long = corpus::long_emails(&records, LONG_EMAILS_PER_FILE, SEED ^ first as u64);
        records.extend(long);
        store.apply_file("bench", &format!("part-{first:08}"), "generated", &records)?;
        first += n;
        eprint!("\rcorpus: {} records", first * RECORDS_PER_CUSTOMER);
    }
    eprintln!();
    drop(store);
    std::fs::write(&marker, expected)?;
    Ok(Some(started.elapsed().as_secs_f64()))
}

/// The API of `app` served on an ephemeral port of 127.0.0.1 by a runtime
/// of its own, for the HTTP half of a benchmark (the server lives as long
/// as the runtime).
///
/// Requests authenticate as every real client does: with an admin API key
/// created in the benchmark's own store, so the numbers include the key
/// check.
pub(crate) fn serve_in_process(
    app: &Arc<Rapport>,
) -> Result<(tokio::runtime::Runtime, Target), BenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let address = listener.local_addr()?;
    let roles = crate::auth::Roles::default();
    let key = app
        .identities()
        .create_key(&roles, "bench", "admin", None, Default::default())
        .map_err(|e| BenchError::Io(std::io::Error::other(e.to_string())))?;
    let router = crate::api::router(app.clone()).map_err(std::io::Error::other)?;
    runtime.spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((
        runtime,
        Target {
            address,
            key: key.secret,
        },
    ))
}

/// The in-process server a benchmark talks to, and the key it sends.
#[derive(Clone)]
pub struct Target {
    pub address: std::net::SocketAddr,
    pub key: String,
}

pub fn run(options: &BenchOptions, base: Config) -> Result<BenchReport, BenchError> {
    let mut config = base;
    config.data_dir = options.dir.join("data");
    config.sources.clear();
    let build_store_s = prepare_store(options, &config)?;
    let started = Instant::now();
    let app = Arc::new(Rapport::open(config)?);
    let build_index_s = started.elapsed().as_secs_f64();
    let status = app.status()?;
    eprintln!(
        "corpus ready: {} records, {} documents (index opened/caught up in {build_index_s:.1} s)",
        status.records, status.indexed_documents
    );
    let cases: Vec<Case> = queries::cases()
        .into_iter()
        .filter(|c| options.only.is_empty() || options.only.iter().any(|o| o == c.name))
        .collect();
    // One untimed pass over every query first, so that no case pays for
    // reading a cold index from disk on behalf of the others.
    let warm = Instant::now();
    for case in &cases {
        let quick = BenchOptions {
            requests: case.calls.len() * 2,
            max_seconds: 60,
            ..options.clone()
        };
        measure_direct(&app, case, &quick)?;
    }
    eprintln!("warm-up pass: {:.1} s", warm.elapsed().as_secs_f64());
    let mut reports = Vec::new();
    let (runtime, target) = serve_in_process(&app)?;
    let http_floor = measure_floor(&target, options, FLOOR_PATH, 404)?;
    eprintln!(
        "http floor    (a 404, no work) p50 {:>7.3} ms p99 {:>7.3}",
        http_floor.p50_ms, http_floor.p99_ms
    );
    let auth_floor = measure_floor(&target, options, "/v1/session", 200)?;
    eprintln!(
        "auth floor    (key checked)    p50 {:>7.3} ms p99 {:>7.3}",
        auth_floor.p50_ms, auth_floor.p99_ms
    );
    let (filtered_search, scoped_search) = measure_scope(&app, &target, options)?;
    for case in &cases {
        let load_average = cpu::load_average().unwrap_or(0.0);
        let direct = measure_direct(&app, case, options)?;
        let http_1 = measure_http(&target, case, options, 1)?;
        let http_n = measure_http(&target, case, options, options.clients)?;
        let ratio = if direct.p50_ms > 0.0 {
            http_1.p50_ms / direct.p50_ms
        } else {
            0.0
        };
        eprintln!(
            "{:<13} direct p50 {:>7.2} ms p99 {:>7.2} | http p50 {:>7.2} p99 {:>7.2} | {} clients p50 {:>7.2} p99 {:>7.2} {:>7.0}/s",
            case.name,
            direct.p50_ms,
            direct.p99_ms,
            http_1.p50_ms,
            http_1.p99_ms,
            options.clients,
            http_n.p50_ms,
            http_n.p99_ms,
            http_n.per_second
        );
        let added = http_1.p50_ms - direct.p50_ms;
        reports.push(CaseReport {
            case: case.name,
            direct,
            http_1,
            http_n,
            http_ratio_p50: ratio,
            http_added_p50_ms: added,
            load_average,
        });
    }
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(BenchReport {
        records: status.records,
        build_store_s,
        build_index_s,
        clients: options.clients,
        http_floor,
        auth_floor,
        filtered_search,
        scoped_search,
        cases: reports,
    })
}

/// The search a scoped key makes, against the same search filtered by hand
/// with the admin key (one client each, same connection reuse).
const SCOPE_PROBE: &str = "/v1/search?q=invoice&group=customer&limit=10";

fn measure_scope(
    app: &Arc<Rapport>,
    target: &Target,
    options: &BenchOptions,
) -> Result<(Latency, Latency), BenchError> {
    let scope =
        std::collections::BTreeMap::from([("customer_country".to_string(), "JP".to_string())]);
    let key = app
        .identities()
        .create_key(
            &crate::auth::Roles::default(),
            "bench-scoped",
            "analyst",
            None,
            scope,
        )
        .map_err(|e| BenchError::Io(std::io::Error::other(e.to_string())))?;
    let scoped = Target {
        address: target.address,
        key: key.secret,
    };
    // Both probes warmed first, then timed in turns on two connections, so
    // that cold caches and the machine's load fall on both alike.
    let filtered_path = format!("{SCOPE_PROBE}&filter.customer_country=JP");
    let mut by_hand = client::Connection::open(target)?;
    let mut by_scope = client::Connection::open(&scoped)?;
    for _ in 0..10 {
        get_expecting(&mut by_hand, &filtered_path, 200)?;
        get_expecting(&mut by_scope, SCOPE_PROBE, 200)?;
    }
    let started = Instant::now();
    let budget = Duration::from_secs(options.max_seconds * 2);
    let mut hand_samples = Vec::new();
    let mut scope_samples = Vec::new();
    for _ in 0..options.requests {
        if started.elapsed() > budget {
            break;
        }
        let t = Instant::now();
        get_expecting(&mut by_hand, &filtered_path, 200)?;
        hand_samples.push(t.elapsed());
        let t = Instant::now();
        get_expecting(&mut by_scope, SCOPE_PROBE, 200)?;
        scope_samples.push(t.elapsed());
    }
    let elapsed = started.elapsed();
    let filtered = Latency::from(hand_samples, elapsed);
    let with_scope = Latency::from(scope_samples, elapsed);
    eprintln!(
        "scope         filtered by hand p50 {:>7.3} ms | scoped key p50 {:>7.3} ms | added {:+.3} ms",
        filtered.p50_ms,
        with_scope.p50_ms,
        with_scope.p50_ms - filtered.p50_ms
    );
    Ok((filtered, with_scope))
}

/// Path of the floor probe: no route has it, so the router's fallback
/// answers 404 at once.
const FLOOR_PATH: &str = "/v1/bench-floor-probe";

/// One client's round trips for `GET path` ([`FLOOR_PATH`], or a route
/// that does nothing but authenticate).
fn measure_floor(
    target: &Target,
    options: &BenchOptions,
    path: &str,
    expected: u16,
) -> Result<Latency, BenchError> {
    let mut connection = client::Connection::open(target)?;
    let budget = Duration::from_secs(options.max_seconds);
    let started = Instant::now();
    let samples = timed(options.requests, started, budget, |_| {
        get_expecting(&mut connection, path, expected)
    })?;
    Ok(Latency::from(samples, started.elapsed()))
}

/// `GET path` on `connection`; an error unless it answers `expected`.
fn get_expecting(
    connection: &mut client::Connection,
    path: &str,
    expected: u16,
) -> Result<(), BenchError> {
    let status = connection.get(path)?;
    if status != expected {
        return Err(BenchError::Http {
            path: path.into(),
            status,
        });
    }
    Ok(())
}

/// Each query of `case` with the median and the slowest of its `samples`
/// (sample `i` is query `i % len`, as `measure_direct` sends them) and,
/// for a search, how many records it matches: which query makes a case's
/// p99, and how much it has to score.
fn print_by_query(app: &Rapport, case: &Case, samples: &[Duration]) -> Result<(), BenchError> {
    for (q, call) in case.calls.iter().enumerate() {
        let mut own: Vec<Duration> = samples
            .iter()
            .skip(q)
            .step_by(case.calls.len())
            .copied()
            .collect();
        own.sort();
        let ms = |d: Option<&Duration>| d.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
        let matches = match call {
            Call::Search(params) => {
                let request = queries::search_request(params)?;
                format!("{} matches", app.search(&request)?.total)
            }
            Call::Suggest(_) => String::new(),
        };
        eprintln!(
            "  {:<13} median {:>7.2} ms max {:>7.2} ({} runs) {:>12} {}",
            case.name,
            ms(own.get(own.len() / 2)),
            ms(own.last()),
            own.len(),
            matches,
            call.path()
        );
    }
    Ok(())
}

/// The time of each `call(i)`, for `i` up to `count`, stopping once
/// `budget` has passed since `started`.
fn timed(
    count: usize,
    started: Instant,
    budget: Duration,
    mut call: impl FnMut(usize) -> Result<(), BenchError>,
) -> Result<Vec<Duration>, BenchError> {
    let mut samples = Vec::with_capacity(count);
    for i in 0..count {
        if started.elapsed() > budget {
            break;
        }
        let t = Instant::now();
        call(i)?;
        samples.push(t.elapsed());
    }
    Ok(samples)
}

fn measure_direct(
    app: &Rapport,
    case: &Case,
    options: &BenchOptions,
) -> Result<Latency, BenchError> {
    let call = |c: &Call| -> Result<(), BenchError> {
        match c {
            Call::Search(params) => {
                app.search(&queries::search_request(params)?)?;
            }
            Call::Suggest(q) => {
                app.suggest(q, 10, &Default::default())?;
            }
        }
        Ok(())
    };
    for c in &case.calls {
        call(c)?;
    }
    let budget = Duration::from_secs(options.max_seconds);
    let started = Instant::now();
    let cpu_before = cpu::process_cpu();
    let samples = timed(options.requests, started, budget, |i| {
        call(&case.calls[i % case.calls.len()])
    })?;
    let cpu_ms = cpu::per_request_ms(cpu_before, cpu::process_cpu(), samples.len());
    if options.by_query {
        print_by_query(app, case, &samples)?;
    }
    Ok(Latency {
        cpu_ms,
        ..Latency::from(samples, started.elapsed())
    })
}

fn measure_http(
    target: &Target,
    case: &Case,
    options: &BenchOptions,
    clients: usize,
) -> Result<Latency, BenchError> {
    let paths: Vec<String> = case.calls.iter().map(Call::path).collect();
    let per_client = if clients == 1 {
        options.requests
    } else {
        (options.requests * 2).div_ceil(clients)
    };
    let budget = Duration::from_secs(options.max_seconds);
    // Every client sends each variant once before the timed phase, which
    // starts for all of them at once when the last is ready: a slow query
    // (a grouped search over 10M records) must not spend the budget on the
    // warm-up.
    let ready = std::sync::Barrier::new(clients + 1);
    let go = std::sync::Barrier::new(clients + 1);
    let start = std::sync::OnceLock::new();
    let (results, started, cpu_before) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|k| {
                let (paths, ready, go, start) = (&paths, &ready, &go, &start);
                scope.spawn(move || -> Result<Vec<Duration>, BenchError> {
                    let warm = || -> Result<client::Connection, BenchError> {
                        let mut connection = client::Connection::open(target)?;
                        for path in paths.iter() {
                            get_expecting(&mut connection, path, 200)?;
                        }
                        Ok(connection)
                    };
                    let warmed = warm();
                    // Both barriers are passed whatever happened, so that
                    // no client is left waiting for one that failed.
                    ready.wait();
                    go.wait();
                    let mut connection = warmed?;
                    let started = start.get().copied().unwrap_or_else(Instant::now);
                    timed(per_client, started, budget, |i| {
                        get_expecting(&mut connection, &paths[(i + k) % paths.len()], 200)
                    })
                })
            })
            .collect();
        ready.wait();
        let started = Instant::now();
        let cpu_before = cpu::process_cpu();
        let _ = start.set(started);
        go.wait();
        let results: Vec<Result<Vec<Duration>, BenchError>> = handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(BenchError::Io(std::io::Error::other(
                        "client thread panicked",
                    )))
                })
            })
            .collect();
        (results, started, cpu_before)
    });
    let wall = started.elapsed();
    let cpu_after = cpu::process_cpu();
    let mut all = Vec::new();
    for r in results {
        all.extend(r?);
    }
    Ok(Latency {
        cpu_ms: cpu::per_request_ms(cpu_before, cpu_after, all.len()),
        ..Latency::from(all, wall)
    })
}

/// The report as a Markdown table.
pub fn markdown(report: &BenchReport) -> String {
    let mut out = format!(
        "{} records; index opened in {:.1} s{}; HTTP floor (a 404 answered without work, 1 client) p50 {:.3} ms, p99 {:.3} ms; with an API key checked (`GET /v1/session`) p50 {:.3} ms, p99 {:.3} ms; a grouped search filtered to JP by the admin key p50 {:.3} ms, by a key scoped to JP p50 {:.3} ms (scope adds {:+.3} ms)\n\n",
        report.records,
        report.build_index_s,
        report
            .build_store_s
            .map(|s| format!(", corpus written to the store in {s:.1} s"))
            .unwrap_or_default(),
        report.http_floor.p50_ms,
        report.http_floor.p99_ms,
        report.auth_floor.p50_ms,
        report.auth_floor.p99_ms,
        report.filtered_search.p50_ms,
        report.scoped_search.p50_ms,
        report.scoped_search.p50_ms - report.filtered_search.p50_ms
    );
    out.push_str(&format!(
        "| query | direct p50 / p99 ms | direct CPU ms | HTTP 1 client p50 / p99 ms | HTTP CPU ms | HTTP ÷ direct (p50) | HTTP − direct (p50) ms | HTTP {} clients p50 / p99 ms | requests/s ({} clients) | load |\n|---|---|---|---|---|---|---|---|---|---|\n",
        report.clients, report.clients
    ));
    for c in &report.cases {
        out.push_str(&format!(
            "| {} | {:.2} / {:.2} | {:.2} | {:.2} / {:.2} | {:.2} | {:.2}× | {:+.2} | {:.2} / {:.2} | {:.0} | {:.1} |\n",
            c.case,
            c.direct.p50_ms,
            c.direct.p99_ms,
            c.direct.cpu_ms,
            c.http_1.p50_ms,
            c.http_1.p99_ms,
            c.http_1.cpu_ms,
            c.http_ratio_p50,
            c.http_added_p50_ms,
            c.http_n.p50_ms,
            c.http_n.p99_ms,
            c.http_n.per_second,
            c.load_average
        ));
    }
    out
}
