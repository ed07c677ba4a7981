//! `rapport bench reindex`: builds (or reuses) the generated corpus of
//! `rapport bench search` in a store, opens it (the first index build), then
//! runs a full rebuild from the store as a job — a new generation built
//! beside the live one and swapped in — while one thread keeps searching the
//! live index (without pause, with a pause, or not at all); prints the
//! rebuild time, records per second, the searches answered and failed
//! meanwhile, and the process's peak memory.
//!
//! It must never touch a configured data directory (it works in `--dir` or
//! a temporary folder) and it asserts nothing: it prints numbers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{BenchError, BenchOptions, prepare_store, searches_beside};
use crate::config::Config;
use crate::engine::{Rapport, ReindexRequest};
use crate::index::search::SearchRequest;
use crate::jobs::{JobState, JobTrigger};

#[derive(Debug, Serialize)]
pub struct ReindexBenchReport {
    pub records: u64,
    /// Seconds to write the corpus into the store (None when reused).
    pub build_store_s: Option<f64>,
    /// Seconds to open the engine (the first index build when new).
    pub open_s: f64,
    pub rebuild_state: String,
    pub rebuild_s: f64,
    pub records_per_second: f64,
    /// The searching thread's pause in ms (None: nothing searched).
    pub search_pause_ms: Option<u64>,
    pub searches_during_rebuild: usize,
    pub search_errors_during_rebuild: usize,
    /// Peak resident memory during the rebuild (Linux; None elsewhere).
    pub peak_rss_mb: Option<f64>,
    pub generation_before: String,
    pub generation_after: String,
}

/// `searches`: the searching thread's pause between two searches, or None
/// for a rebuild with nothing searching.
pub fn run(
    records: usize,
    dir: PathBuf,
    searches: Option<Duration>,
    base: Config,
) -> Result<ReindexBenchReport, BenchError> {
    let options = BenchOptions::corpus(records, dir);
    let mut config = base;
    config.data_dir = options.dir.join("data");
    config.sources.clear();
    let build_store_s = prepare_store(&options, &config)?;
    let opened = Instant::now();
    let app = Arc::new(Rapport::open(config)?);
    let open_s = opened.elapsed().as_secs_f64();
    let records = app.status()?.records;
    let generation_before = app.index_generation();
    eprintln!("store of {records} records opened in {open_s:.1} s; rebuilding the index");
    reset_peak_rss();
    // Rebuilds as a job and waits for it, printing progress; its seconds.
    let rebuild = || -> Result<(crate::jobs::JobView, f64), BenchError> {
        let started = Instant::now();
        let job = app
            .start_reindex(ReindexRequest::FromStore, JobTrigger::Cli)
            .map_err(|e| BenchError::Io(std::io::Error::other(e.to_string())))?;
        let mut last_print = Instant::now();
        while !job.state().is_finished() {
            std::thread::sleep(Duration::from_millis(50));
            if last_print.elapsed() > Duration::from_secs(5) {
                let view = job.view();
                eprintln!(
                    "  {} / {} records, {:.0}/s",
                    view.records_done,
                    view.records_total.unwrap_or(0),
                    view.rate.unwrap_or(0.0)
                );
                last_print = Instant::now();
            }
        }
        Ok((job.view(), started.elapsed().as_secs_f64()))
    };
    let (rebuilt, watch) = match searches {
        Some(pause) => {
            let invoice = SearchRequest::from_params([("q", "invoice"), ("group", "none")])?;
            let (rebuilt, watch) = searches_beside::searching(&app, vec![invoice], pause, rebuild);
            (rebuilt, Some(watch))
        }
        None => (rebuild(), None),
    };
    let (view, rebuild_s) = rebuilt?;
    let state = match view.state {
        JobState::Succeeded => "succeeded".to_string(),
        other => format!("{} ({})", other.as_str(), view.message.unwrap_or_default()),
    };
    Ok(ReindexBenchReport {
        records,
        build_store_s,
        open_s,
        rebuild_state: state,
        rebuild_s,
        records_per_second: records as f64 / rebuild_s.max(1e-9),
        search_pause_ms: searches.map(|pause| pause.as_millis() as u64),
        searches_during_rebuild: watch.as_ref().map_or(0, |w| w.answered()),
        search_errors_during_rebuild: watch.as_ref().map_or(0, |w| w.failed()),
        peak_rss_mb: peak_rss_mb(),
        generation_before,
        generation_after: app.index_generation(),
    })
}

/// Resets the kernel's peak-RSS mark so that it covers the rebuild only.
pub(super) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub(super) fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
