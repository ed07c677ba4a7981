//! Resolution after a change, driven by the engine: when the records
//! written since the last resolution are few, only what they reach is
//! re-resolved (`resolve::plan`, `resolve::resolve_subset`) and saved over
//! the previous answer (`Store::save_partial_resolution`); otherwise the
//! whole book is resolved as before. The book's statistics are kept in
//! memory between incremental passes ([`KeptBook`]) and updated from the
//! changed records alone (`BookStats::update`), so a pass after the first
//! reads only the changed records and the subset it re-resolves.
//!
//! It must never resolve incrementally when the settings or the steward's
//! overrides changed, when write-back data needs the whole resolution to
//! re-attach, when people are scored with weights EM estimates on the whole
//! book (`[resolve] weights = "estimated"`; a subset's estimate would score
//! differently), or when the change reaches a large share of the book:
//! those take a full pass.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{EngineError, RESOLVED_FROM, Rapport, lock};
use crate::resolve::{BookRecord, BookStats, Romaji, WeightSource, plan, resolve_book_records};

/// A change of more than this share of the book (percent) is resolved in
/// full without planning.
const MAX_CHANGED_PERCENT: usize = 10;
/// A plan that re-resolves more than this share of the book (percent) is
/// dropped for a full pass, which costs about the same and is simpler.
const MAX_SUBSET_PERCENT: usize = 25;

/// The book's statistics as of a sequence number of the store.
pub(super) struct KeptBook {
    /// The store's last sequence number before its records were read:
    /// every change after it is in the change log.
    pub(super) seq: u64,
    pub(super) stats: BookStats,
}

impl Rapport {
    /// How many records the last resolution re-resolved.
    pub fn last_resolved_records(&self) -> u64 {
        self.resolved_records.load(Ordering::Relaxed)
    }

    /// Re-resolves only what changed since the last resolution, when it
    /// may; returns how many assignments changed, or `None` for a full pass.
    /// The caller holds `ingest_lock`.
    pub(super) fn resolve_incrementally(&self) -> Result<Option<usize>, EngineError> {
        let Some(seq) = self.resolved_at_seq()? else {
            return Ok(None);
        };
        let total = self.store.record_count()? as usize;
        let Some(changed) = self
            .store
            .changed_since(seq, total * MAX_CHANGED_PERCENT / 100)?
        else {
            return Ok(None);
        };
        if changed.is_empty() || self.store.has_writeback()? {
            return Ok(None);
        }
        let started = Instant::now();
        let _span = tracing::info_span!("resolve incrementally", changed = changed.len()).entered();
        let overrides = self.store.overrides()?;
        let analyzers = self.index.snapshot().analyzers().clone();
        let romaji = |text: &str| analyzers.romaji_words(text);
        let kept = lock(&self.kept_book).take();
        let read_at = self.store.last_seq()?;
        let limit = total * MAX_CHANGED_PERCENT / 100;
        let updated = match kept {
            Some(kept) => self.update_kept(kept, limit, &romaji)?,
            None => None,
        };
        let (stats, book, mut read) = match updated {
            Some((stats, read)) => (stats, None, read),
            None => {
                let (stats, records) = self.book_statistics(&romaji)?;
                let read = records.len();
                (stats, Some(records), read)
            }
        };
        let plan = plan(&stats, &changed, &self.store.resolution_view()?, &overrides);
        if plan.subset.len() * 100 > stats.len() * MAX_SUBSET_PERCENT {
            tracing::info!(
                subset = plan.subset.len(),
                records = stats.len(),
                "the change reaches a large share of the book: resolving all of it"
            );
            return Ok(None);
        }
        let subset: Vec<BookRecord> = match book {
            Some(records) => plan.subset.iter().map(|&i| records[i].clone()).collect(),
            None => {
                let ids = plan.subset.iter().filter_map(|&i| stats.id(i));
                let subset = self.store.records_born(ids)?;
                if subset.len() != plan.subset.len() {
                    tracing::warn!(
                        subset = plan.subset.len(),
                        read = subset.len(),
                        "records of the kept statistics are gone: resolving all of the book"
                    );
                    return Ok(None);
                }
                read += subset.len();
                subset
                    .into_iter()
                    .map(|(_, r)| BookRecord::from(r))
                    .collect()
            }
        };
        let partial = resolve_book_records(
            &subset,
            plan,
            &stats,
            &self.config.resolve,
            &overrides,
            Some(&romaji),
        );
        drop(subset);
        let re_resolved = partial.re_resolved();
        let record_count = stats.len();
        let changed_assignments = self.store.save_partial_resolution(&partial)?;
        self.store
            .set_meta(RESOLVED_FROM, &self.resolution_inputs()?)?;
        *lock(&self.kept_book) = Some(KeptBook {
            seq: read_at,
            stats,
        });
        self.resolved_records
            .store(re_resolved as u64, Ordering::Relaxed);
        self.read_records.store(read as u64, Ordering::Relaxed);
        tracing::info!(
            records = record_count,
            changed = changed.len(),
            re_resolved,
            changed_assignments,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "resolved customers incrementally: only the records a change reached"
        );
        Ok(Some(changed_assignments))
    }

    /// The sequence number the stored resolution was saved at, when a
    /// change after it may be resolved incrementally: the settings and the
    /// overrides are those it was computed with, and people are not scored
    /// with weights estimated on the whole book. `None` calls for a full
    /// pass.
    pub(super) fn resolved_at_seq(&self) -> Result<Option<u64>, EngineError> {
        let Some(stored) = self.store.meta(RESOLVED_FROM)? else {
            return Ok(None);
        };
        if self.config.resolve.weights == WeightSource::Estimated {
            return Ok(None);
        }
        let current = self.resolution_inputs()?;
        let (Some((seq, inputs)), Some((_, now))) =
            (stored.split_once(':'), current.split_once(':'))
        else {
            return Ok(None);
        };
        let Ok(seq) = seq.parse::<u64>() else {
            return Ok(None);
        };
        Ok((inputs == now).then_some(seq))
    }

    /// The whole book read from the store, oldest first, and its
    /// statistics (the caller holds `ingest_lock`, so nothing is written
    /// between the two reads).
    pub(super) fn book_statistics(
        &self,
        romaji: Romaji,
    ) -> Result<(BookStats, Vec<BookRecord>), EngineError> {
        // Only what the statistics read of each record is held.
        let (births, records): (Vec<u64>, Vec<BookRecord>) = self
            .store
            .records_with_birth_as(BookRecord::for_statistics)?
            .into_iter()
            .unzip();
        let stats = BookStats::of_born(&records, &births, Some(romaji));
        Ok((stats, records))
    }

    /// The kept statistics updated by the records changed since they were
    /// read, or `None` when they cannot be (too many changes, a record
    /// placed out of order): the caller reads the whole book. With them,
    /// how many records were read.
    fn update_kept(
        &self,
        kept: KeptBook,
        limit: usize,
        romaji: Romaji,
    ) -> Result<Option<(BookStats, usize)>, EngineError> {
        let Some(ids) = self.store.changed_since(kept.seq, limit)? else {
            return Ok(None);
        };
        let now = self.store.records_born(ids.iter().map(String::as_str))?;
        let read = now.len();
        let updated = kept.stats.update(&ids, now, Some(romaji));
        if updated.is_none() {
            tracing::info!("the kept book statistics cannot take this change: reading the book");
        }
        Ok(updated.map(|stats| (stats, read)))
    }
}
