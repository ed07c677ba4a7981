//! Searches served while `rapport bench ingest` ingests (or `bench reindex`
//! rebuilds): one caller thread sends a slice of the benchmark's query mix
//! (or the given searches) to the engine in a loop, with a pause between
//! two searches, for as long as the work runs; afterwards
//! it reports how many were answered, how many failed (and the first
//! error), the latencies per ingest stage, and when the first records
//! became visible.
//!
//! It must never outlive the work it watches (it stops when the work it
//! runs beside returns) nor send more than one search at a time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::percentile_ms;
use super::queries::{self, Call};
use crate::engine::Rapport;
use crate::index::search::SearchRequest;

/// The query-mix cases searched beside the ingest.
const CASES: [&str; 5] = ["single word", "typo", "japanese", "filtered", "grouped"];

/// One answered (or failed) search: when it started, since the watch began,
/// and how long it took.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Duration,
    took: Duration,
}

#[derive(Debug, Default, Serialize)]
pub struct SearchesBesideReport {
    pub pause_ms: u64,
    pub answered: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    /// Latencies of the searches that started within each named span.
    pub by_stage: Vec<StageLatency>,
    /// Seconds from the start until a match-all search first counted a
    /// record (None: never, while the ingest ran).
    pub first_visible_s: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct StageLatency {
    pub stage: String,
    pub searches: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Runs `work` on this thread while a second thread searches `app`, then
/// returns what `work` returned and the searches' samples.
pub fn during<T>(app: &Rapport, pause: Duration, work: impl FnOnce() -> T) -> (T, Watch) {
    searching(app, requests(), pause, work)
}

/// As [`during`], with the searching thread cycling through `requests`.
pub fn searching<T>(
    app: &Rapport,
    requests: Vec<SearchRequest>,
    pause: Duration,
    work: impl FnOnce() -> T,
) -> (T, Watch) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let searcher = scope.spawn(|| search_until(app, &requests, pause, &stop));
        let value = work();
        stop.store(true, Ordering::Relaxed);
        let watch = searcher.join().unwrap_or_default();
        (value, watch)
    })
}

/// The match-all search (which tells when records become visible) and the
/// chosen cases of the query mix, in that order.
fn requests() -> Vec<SearchRequest> {
    let match_all = SearchRequest::from_params([("q", "*"), ("group", "none"), ("limit", "1")]);
    let mixed = queries::cases()
        .into_iter()
        .filter(|case| CASES.contains(&case.name))
        .flat_map(|case| case.calls)
        .filter_map(|call| match call {
            Call::Search(params) => queries::search_request(&params).ok(),
            Call::Suggest(_) => None,
        });
    match_all.into_iter().chain(mixed).collect()
}

/// What the searching thread saw.
#[derive(Debug, Default)]
pub struct Watch {
    pause: Duration,
    samples: Vec<Sample>,
    failed: usize,
    first_error: Option<String>,
    first_visible: Option<Duration>,
}

fn search_until(
    app: &Rapport,
    requests: &[SearchRequest],
    pause: Duration,
    stop: &AtomicBool,
) -> Watch {
    let started = Instant::now();
    let mut watch = Watch {
        pause,
        ..Watch::default()
    };
    for request in requests.iter().cycle() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let at = started.elapsed();
        let answer = app.search(request);
        let took = started.elapsed() - at;
        match answer {
            Ok(response) => {
                watch.samples.push(Sample { at, took });
                if request.q == "*" && response.total > 0 && watch.first_visible.is_none() {
                    watch.first_visible = Some(at + took);
                }
            }
            Err(error) => {
                watch.failed += 1;
                watch.first_error.get_or_insert_with(|| error.to_string());
            }
        }
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
    watch
}

impl Watch {
    pub fn answered(&self) -> usize {
        self.samples.len()
    }

    pub fn failed(&self) -> usize {
        self.failed
    }

    /// The report, with the samples split at `bounds`: `(name, from, to)`
    /// as times since the watch began (a search belongs to the span it
    /// started in), plus one row for every search.
    pub fn report(self, bounds: &[(&str, Duration, Duration)]) -> SearchesBesideReport {
        let mut by_stage: Vec<StageLatency> = bounds
            .iter()
            .map(|(name, from, to)| {
                let took = self
                    .samples
                    .iter()
                    .filter(|s| s.at >= *from && s.at < *to)
                    .map(|s| s.took);
                latency(name, took)
            })
            .collect();
        by_stage.push(latency("all", self.samples.iter().map(|s| s.took)));
        SearchesBesideReport {
            pause_ms: self.pause.as_millis() as u64,
            answered: self.samples.len(),
            failed: self.failed,
            first_error: self.first_error,
            by_stage,
            first_visible_s: self.first_visible.map(|d| d.as_secs_f64()),
        }
    }
}

fn latency(stage: &str, took: impl Iterator<Item = Duration>) -> StageLatency {
    let mut took: Vec<Duration> = took.collect();
    took.sort();
    StageLatency {
        stage: stage.to_string(),
        searches: took.len(),
        p50_ms: percentile_ms(&took, 50),
        p99_ms: percentile_ms(&took, 99),
        max_ms: took.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
    }
}

/// Lines for the markdown report.
pub fn markdown(report: &SearchesBesideReport) -> String {
    let mut out = format!(
        "searches beside the ingest (one caller, {} ms pause): {} answered, {} failed{}; first record visible after {}\n",
        report.pause_ms,
        report.answered,
        report.failed,
        report
            .first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default(),
        report
            .first_visible_s
            .map(|s| format!("{s:.1} s"))
            .unwrap_or_else(|| "never during the ingest".into()),
    );
    for stage in &report.by_stage {
        out.push_str(&format!(
            "  during {:<28} {:>6} searches  p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms\n",
            stage.stage, stage.searches, stage.p50_ms, stage.p99_ms, stage.max_ms
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Each search counts in the span it started in (a span's end belongs
    /// to the next), and the "all" row holds every answered search.
    #[test]
    fn searches_are_split_by_the_span_they_started_in() {
        let sample = |at, took| Sample {
            at: ms(at),
            took: ms(took),
        };
        let watch = Watch {
            pause: ms(5),
            samples: vec![sample(0, 1), sample(9, 3), sample(10, 40), sample(25, 2)],
            failed: 1,
            first_error: Some("index busy".into()),
            first_visible: Some(ms(27)),
        };
        let report = watch.report(&[("first", ms(0), ms(10)), ("second", ms(10), ms(20))]);
        let rows: Vec<(&str, usize, f64)> = report
            .by_stage
            .iter()
            .map(|s| (s.stage.as_str(), s.searches, s.max_ms))
            .collect();
        assert_eq!(
            rows,
            [("first", 2, 3.0), ("second", 1, 40.0), ("all", 4, 40.0)]
        );
        assert_eq!(report.by_stage[2].p50_ms, 3.0);
        assert_eq!((report.answered, report.failed), (4, 1));
        assert_eq!(report.first_visible_s, Some(0.027));
        assert!(markdown(&report).contains("first: index busy"));
    }
}
