//! `rapport bench resolve --incremental`: the synthetic book of
//! `rapport bench resolve` written to a real store and resolved in full
//! (read, resolve, save), then 100 of its rows changed and resolved again
//! the way the engine does after an ingest: the changed ids from the change
//! log, the book's statistics, the plan, the subset resolved and saved over
//! the previous answer. It prints records, both times, the records
//! re-resolved and peak RSS.
//!
//! It must never assert on time: it prints numbers.

use std::time::Instant;

use serde::Serialize;

use crate::record::RecordKind;
use crate::resolve::{BookStats, Overrides, Settings, plan, resolve, resolve_subset};
use crate::store::{Store, StoreError};

#[derive(Debug, Serialize)]
pub struct IncrementalBench {
    pub records: usize,
    pub full_load_ms: u128,
    pub full_resolve_ms: u128,
    pub full_save_ms: u128,
    pub changed_rows: usize,
    /// Reading the changed ids and the whole book from the store.
    pub incremental_load_ms: u128,
    /// The book's statistics (profiles, word and block counts).
    pub incremental_stats_ms: u128,
    pub incremental_plan_ms: u128,
    pub incremental_resolve_ms: u128,
    pub incremental_save_ms: u128,
    pub re_resolved: usize,
    pub changed_assignments: usize,
    /// VmHWM during the full pass (reset once the book is written to the
    /// store and the generated copy dropped), and during the incremental
    /// one (reset between them where the kernel allows).
    pub full_peak_rss_mib: f64,
    pub incremental_peak_rss_mib: f64,
}

impl IncrementalBench {
    pub fn incremental_ms(&self) -> u128 {
        self.incremental_load_ms
            + self.incremental_stats_ms
            + self.incremental_plan_ms
            + self.incremental_resolve_ms
            + self.incremental_save_ms
    }

    pub fn full_ms(&self) -> u128 {
        self.full_load_ms + self.full_resolve_ms + self.full_save_ms
    }
}

/// Runs the benchmark on `n` generated records in a store under `dir`.
pub fn run(n: usize, dir: &std::path::Path) -> Result<IncrementalBench, StoreError> {
    let (settings, overrides) = (Settings::default(), Overrides::default());
    let records = super::resolve::generate(n);
    let store = Store::open(&dir.join("bench.redb"))?;
    for (c, chunk) in records.chunks(50_000).enumerate() {
        store.apply_file("bench", &format!("chunk-{c}"), "h", chunk)?;
    }
    // The rows that will change are kept; the generated book is dropped
    // before the full pass, which, like the engine's, holds only what it
    // reads from the store.
    let step = (records.len() / 100).max(1);
    let mut to_change: Vec<(usize, crate::record::Record)> = records
        .into_iter()
        .enumerate()
        .step_by(step)
        .take(100)
        .collect();
    super::export::reset_peak();
    let started = Instant::now();
    let loaded = store.records_by_birth()?;
    let full_load_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let resolution = resolve(&loaded, &settings, &overrides);
    let full_resolve_ms = started.elapsed().as_millis();
    drop(loaded);
    let started = Instant::now();
    store.save_resolution(&resolution)?;
    let full_save_ms = started.elapsed().as_millis();
    drop(resolution);
    let full_peak_rss_mib = super::export::proc_status_mib("VmHWM:");
    let seq = store.last_seq()?;
    // 100 rows change: people move to another company or get a new phone,
    // notes name another customer.
    let mut changed = Vec::new();
    for (i, r) in &mut to_change {
        let i = *i;
        match r.kind {
            RecordKind::Person => r.phones = vec![format!("+1212{i:07}")],
            RecordKind::Note => r.customer_ref = Some("O1".into()),
            _ => r.names.push(format!("Renamed Trading {i}")),
        }
        changed.push(r.clone());
    }
    store.apply_file("bench", "changes", "h", &changed)?;
    drop(to_change);
    super::export::reset_peak();
    let started = Instant::now();
    let ids = store.changed_since(seq, n)?.unwrap_or_default();
    let book = store.records_by_birth()?;
    let incremental_load_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let stats = BookStats::of(&book, None);
    let incremental_stats_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let plan = plan(&book, &stats, &ids, &store, &overrides);
    let incremental_plan_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let partial = resolve_subset(&book, plan, &stats, &settings, &overrides, None);
    let incremental_resolve_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let changed_assignments = store.save_partial_resolution(&partial)?;
    let incremental_save_ms = started.elapsed().as_millis();
    Ok(IncrementalBench {
        records: book.len(),
        full_load_ms,
        full_resolve_ms,
        full_save_ms,
        changed_rows: changed.len(),
        incremental_load_ms,
        incremental_stats_ms,
        incremental_plan_ms,
        incremental_resolve_ms,
        incremental_save_ms,
        re_resolved: partial.re_resolved(),
        changed_assignments,
        full_peak_rss_mib,
        incremental_peak_rss_mib: super::export::proc_status_mib("VmHWM:"),
    })
}
