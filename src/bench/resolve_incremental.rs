//! `rapport bench resolve --incremental`: the synthetic book of
//! `rapport bench resolve` written to a real store and resolved in full
//! (read, resolve, save), then 100 of its rows changed and resolved again
//! the way the engine does after an ingest: the changed ids from the change
//! log, the book's statistics, the plan, the subset resolved and saved over
//! the previous answer. It prints records, both times, the records
//! re-resolved and peak RSS. Then 100 other rows change and are resolved
//! as the engine does once it keeps the book's statistics: only the
//! changed records read, the statistics updated, the subset read. Before
//! those, the first change after the full pass and the first after a
//! restart (the store closed and opened again, nothing kept in memory)
//! are resolved with the statistics read ahead, as a server does
//! (`resolve_warm.rs`). The full pass reads the book as the engine does
//! (only what resolution reads), prints what that book holds by field
//! (`resolve_memory.rs`, on stderr) and a digest of its answer, so two
//! builds can show they resolve alike.
//!
//! It must never assert on time: it prints numbers.

use std::time::Instant;

use serde::Serialize;

use crate::record::Record;
use crate::record::RecordKind;
use crate::resolve::{
    BookRecord, BookStats, Overrides, Settings, plan, resolve_owned, resolve_records,
    resolve_subset,
};
use crate::store::{Store, StoreError};

use super::resolve_warm::{Warm, warm};

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
    /// What the full pass decided (`resolve_memory::resolution_digest`).
    pub full_digest: String,
    pub incremental_peak_rss_mib: f64,
    /// The second change, with the statistics kept: reading the changed
    /// records, updating the statistics, the plan, reading the subset,
    /// resolving it, saving.
    pub kept: KeptPass,
    /// The first change after the full pass, and the first after a
    /// restart, with the statistics read ahead of them.
    pub after_full_pass: FirstChange,
    pub after_restart: FirstChange,
}

/// A first change: the statistics read ahead, then the change.
#[derive(Debug, Default, Serialize)]
pub struct FirstChange {
    pub warm: Warm,
    pub change: KeptPass,
}

#[derive(Debug, Default, Serialize)]
pub struct KeptPass {
    pub changed_rows: usize,
    pub load_ms: u128,
    pub update_ms: u128,
    pub plan_ms: u128,
    pub read_subset_ms: u128,
    pub resolve_ms: u128,
    pub save_ms: u128,
    pub re_resolved: usize,
    pub changed_assignments: usize,
    /// Whether the kept statistics took the change (else they were
    /// computed from the whole book, as the engine would).
    pub updated: bool,
    pub peak_rss_mib: f64,
}

impl KeptPass {
    pub fn total_ms(&self) -> u128 {
        self.load_ms
            + self.update_ms
            + self.plan_ms
            + self.read_subset_ms
            + self.resolve_ms
            + self.save_ms
    }
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
    let path = dir.join("bench.redb");
    let store = Store::open(&path)?;
    for (c, chunk) in records.chunks(50_000).enumerate() {
        store.apply_file("bench", &format!("chunk-{c}"), "h", chunk)?;
    }
    // The rows that will change are kept; the generated book is dropped
    // before the full pass, which, like the engine's, holds only what it
    // reads from the store.
    let step = (records.len() / 100).max(1);
    let rows = |offset: usize| -> Vec<(usize, Record)> {
        records
            .iter()
            .enumerate()
            .skip(offset)
            .step_by(step)
            .take(100)
            .map(|(i, r)| (i, r.clone()))
            .collect()
    };
    let second = rows(step / 2);
    let after_full_rows = rows(step / 4);
    let after_restart_rows = rows(3 * step / 4);
    let mut to_change: Vec<(usize, crate::record::Record)> = records
        .into_iter()
        .enumerate()
        .step_by(step)
        .take(100)
        .collect();
    super::export::reset_peak();
    let started = Instant::now();
    // Read as the engine's full pass reads it (`Engine::resolve_locked`).
    let loaded = store.records_by_birth_as(crate::resolve::BookRecord::from)?;
    let full_load_ms = started.elapsed().as_millis();
    super::resolve_memory::print_book_bytes(&loaded);
    let started = Instant::now();
    let resolution = resolve_owned(loaded, &settings, &overrides, None);
    let full_resolve_ms = started.elapsed().as_millis();
    let full_digest = super::resolve_memory::resolution_digest(&resolution);
    let started = Instant::now();
    store.save_resolution(&resolution)?;
    let full_save_ms = started.elapsed().as_millis();
    drop(resolution);
    let full_peak_rss_mib = super::export::proc_status_mib("VmHWM:");
    let first_change = |store: &Store, rows, pass| -> Result<FirstChange, StoreError> {
        let (warm, seq, stats) = warm(store)?;
        let change = kept_pass(store, stats, seq, rows, pass, &settings, &overrides)?;
        Ok(FirstChange { warm, change })
    };
    let after_full_pass = first_change(&store, after_full_rows, 4)?;
    // The restart: the store closed and opened again, nothing kept.
    drop(store);
    let store = Store::open(&path)?;
    let after_restart = first_change(&store, after_restart_rows, 5)?;
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
    let read_at = store.last_seq()?;
    let ids = store.changed_since(seq, n)?.unwrap_or_default();
    // Read as the engine's statistics read it (`Engine::book_statistics`).
    let (births, book): (Vec<u64>, Vec<BookRecord>) = store
        .records_with_birth_as(BookRecord::for_statistics)?
        .into_iter()
        .unzip();
    let incremental_load_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let stats = BookStats::of_born(&book, &births, None);
    drop(births);
    let incremental_stats_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let plan = plan(&stats, &ids, &store.resolution_view()?, &overrides);
    let incremental_plan_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let partial = resolve_subset(&book, plan, &stats, &settings, &overrides, None);
    let incremental_resolve_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let changed_assignments = store.save_partial_resolution(&partial)?;
    let incremental_save_ms = started.elapsed().as_millis();
    let incremental_peak_rss_mib = super::export::proc_status_mib("VmHWM:");
    let records = book.len();
    drop(book);
    let kept = kept_pass(&store, stats, read_at, second, 2, &settings, &overrides)?;
    Ok(IncrementalBench {
        records,
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
        full_digest,
        incremental_peak_rss_mib,
        kept,
        after_full_pass,
        after_restart,
    })
}

/// 100 other rows change (people get another phone, notes name another
/// customer, organisations another name; `pass` tells them apart) and are
/// resolved with the statistics read at `read_at` kept, as the engine does.
fn kept_pass(
    store: &Store,
    stats: BookStats,
    read_at: u64,
    second: Vec<(usize, Record)>,
    pass: u32,
    settings: &Settings,
    overrides: &Overrides,
) -> Result<KeptPass, StoreError> {
    let seq = store.last_seq()?;
    let mut changed = Vec::new();
    let digit = pass + 1;
    let word = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth"]
        .get((pass as usize).saturating_sub(1))
        .unwrap_or(&"Other");
    for (i, mut r) in second {
        match r.kind {
            RecordKind::Person => r.phones = vec![format!("+1{digit}1{digit}{i:07}")],
            RecordKind::Note => r.customer_ref = Some(format!("O{pass}")),
            _ => r.names.push(format!("{word} Trading {i}")),
        }
        changed.push(r);
    }
    store.apply_file("bench", &format!("changes-{pass}"), "h", &changed)?;
    let mut pass = KeptPass {
        changed_rows: changed.len(),
        ..KeptPass::default()
    };
    drop(changed);
    super::export::reset_peak();
    let started = Instant::now();
    let since = store
        .changed_since(read_at, usize::MAX)?
        .unwrap_or_default();
    let ids = store.changed_since(seq, usize::MAX)?.unwrap_or_default();
    let now = store.records_born(since.iter().map(String::as_str))?;
    pass.load_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let stats = match stats.update(&since, now, None) {
        Some(stats) => {
            pass.updated = true;
            stats
        }
        None => {
            let (births, book): (Vec<u64>, Vec<BookRecord>) = store
                .records_with_birth_as(BookRecord::for_statistics)?
                .into_iter()
                .unzip();
            BookStats::of_born(&book, &births, None)
        }
    };
    pass.update_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let plan = plan(&stats, &ids, &store.resolution_view()?, overrides);
    pass.plan_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let subset: Vec<Record> = store
        .records_born(plan.subset.iter().filter_map(|&i| stats.id(i)))?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    pass.read_subset_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let partial = resolve_records(&subset, plan, &stats, settings, overrides, None);
    pass.resolve_ms = started.elapsed().as_millis();
    let started = Instant::now();
    pass.changed_assignments = store.save_partial_resolution(&partial)?;
    pass.save_ms = started.elapsed().as_millis();
    pass.re_resolved = partial.re_resolved();
    pass.peak_rss_mib = super::export::proc_status_mib("VmHWM:");
    Ok(pass)
}
