//! Resolution after a change, driven by the engine: when the records
//! written since the last resolution are few, only what they reach is
//! re-resolved (`resolve::plan`, `resolve::resolve_subset`) and saved over
//! the previous answer (`Store::save_partial_resolution`); otherwise the
//! whole book is resolved as before.
//!
//! It must never resolve incrementally when the settings or the steward's
//! overrides changed, when write-back data needs the whole resolution to
//! re-attach, when people are scored with weights EM estimates on the whole
//! book (`[resolve] weights = "estimated"`; a subset's estimate would score
//! differently), or when the change reaches a large share of the book:
//! those take a full pass.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{EngineError, RESOLVED_FROM, Rapport};
use crate::resolve::{BookStats, WeightSource, plan, resolve_subset};

/// A change of more than this share of the book (percent) is resolved in
/// full without planning.
const MAX_CHANGED_PERCENT: usize = 10;
/// A plan that re-resolves more than this share of the book (percent) is
/// dropped for a full pass, which costs about the same and is simpler.
const MAX_SUBSET_PERCENT: usize = 25;

impl Rapport {
    /// How many records the last resolution re-resolved.
    pub fn last_resolved_records(&self) -> u64 {
        self.resolved_records.load(Ordering::Relaxed)
    }

    /// Re-resolves only what changed since the last resolution, when it
    /// may; returns how many assignments changed, or `None` for a full pass.
    /// The caller holds `ingest_lock`.
    pub(super) fn resolve_incrementally(&self) -> Result<Option<usize>, EngineError> {
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
        if inputs != now {
            return Ok(None);
        }
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
        let records = self.store.records_by_birth()?;
        let overrides = self.store.overrides()?;
        let analyzers = self.index.snapshot().analyzers().clone();
        let romaji = |text: &str| analyzers.romaji_words(text);
        let stats = BookStats::of(&records, Some(&romaji));
        let plan = plan(&records, &stats, &changed, &self.store, &overrides);
        if plan.subset.len() * 100 > records.len() * MAX_SUBSET_PERCENT {
            tracing::info!(
                subset = plan.subset.len(),
                records = records.len(),
                "the change reaches a large share of the book: resolving all of it"
            );
            return Ok(None);
        }
        let partial = resolve_subset(
            &records,
            plan,
            &stats,
            &self.config.resolve,
            &overrides,
            Some(&romaji),
        );
        let re_resolved = partial.re_resolved();
        let record_count = records.len();
        drop((records, stats));
        let changed_assignments = self.store.save_partial_resolution(&partial)?;
        self.store
            .set_meta(RESOLVED_FROM, &self.resolution_inputs()?)?;
        self.resolved_records
            .store(re_resolved as u64, Ordering::Relaxed);
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
}
