//! `rapport bench resolve --incremental`: the book's statistics read ahead
//! of the first change after a full pass or a restart, as a server's
//! background thread does (`engine/book_warm.rs`): the store's sequence
//! number, then every record and their statistics, timed and with the
//! memory it takes.
//!
//! It must never assert on time: it prints numbers.

use std::time::Instant;

use serde::Serialize;

use crate::resolve::BookStats;
use crate::store::{Store, StoreError};

/// Reading the book's statistics ahead of a change.
#[derive(Debug, Default, Serialize)]
pub struct Warm {
    /// Reading every record from the store.
    pub read_ms: u128,
    /// Their statistics (profiles, word and block counts, postings).
    pub stats_ms: u128,
    /// VmHWM while they were read (reset before).
    pub peak_rss_mib: f64,
    /// VmRSS once the book is dropped and the statistics kept.
    pub kept_rss_mib: f64,
}

impl Warm {
    pub fn total_ms(&self) -> u128 {
        self.read_ms + self.stats_ms
    }
}

/// Reads the book's statistics as the engine's background thread does;
/// with the sequence number they are valid at.
pub(super) fn warm(store: &Store) -> Result<(Warm, u64, BookStats), StoreError> {
    let _span = tracing::info_span!("bench: statistics read ahead").entered();
    super::export::reset_peak();
    let mut warm = Warm::default();
    let seq = store.last_seq()?;
    let started = Instant::now();
    let (births, book): (Vec<u64>, Vec<crate::resolve::BookRecord>) = store
        .records_with_birth_as(crate::resolve::BookRecord::for_statistics)?
        .into_iter()
        .unzip();
    warm.read_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let stats = BookStats::of_born(&book, &births, None);
    warm.stats_ms = started.elapsed().as_millis();
    drop((births, book));
    warm.peak_rss_mib = super::export::proc_status_mib("VmHWM:");
    warm.kept_rss_mib = super::export::proc_status_mib("VmRSS:");
    Ok((warm, seq, stats))
}
