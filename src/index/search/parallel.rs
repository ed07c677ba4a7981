//! Runs one collection pass on every core: the index is cut into tasks of
//! equal numbers of documents (a task may hold the end of one segment and
//! the start of the next), each range of a segment is scored and collected
//! on the search pool by its own segment collector, and the collector
//! merges the pieces as it merges segments. Lucene calls this
//! intra-segment concurrency; tantivy's executor only spreads whole
//! segments, and one large segment then keeps a query on one core.
//!
//! The pool belongs to one index (`caches.rs`): another index in the same
//! process has its own.
//!
//! It pays off when a query would otherwise leave a core idle. Under load
//! the cores are busy anyway, and cutting would only add scorer setups and
//! hand-offs, so a query is cut only while fewer searches than threads are
//! running. Small indexes are collected in one piece.
//!
//! It must never change a result: a document is collected exactly once,
//! by the range that holds it, deleted documents are skipped as tantivy's
//! own collection skips them, and every collector used here must merge
//! pieces of one segment as it merges different segments.

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{DocId, DocSet, Searcher, SegmentOrdinal};

use super::conjunction::window::WindowedConjunction;
use super::corrected_union::CorrectedUnion;
use super::grouping::TopRecordsSegment;

/// No range is cut smaller than this many documents: below it, setting up
/// another scorer costs more than the core it brings.
const MIN_RANGE_DOCS: u32 = 16_384;

/// One range of one segment.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Range {
    segment: SegmentOrdinal,
    start: DocId,
    end: DocId,
}

/// One index's search pool (one thread per core, started with the first
/// search that may spread) and the count of its searches running now.
pub(crate) struct SearchPool {
    pool: OnceLock<Option<rayon::ThreadPool>>,
    /// Searches running now (each holds a [`Cores`]).
    running: AtomicUsize,
    /// The smallest range: [`MIN_RANGE_DOCS`], unless a test sets another
    /// ([`crate::test_hooks::range_docs`]).
    range_docs: u32,
}

impl Default for SearchPool {
    fn default() -> Self {
        SearchPool {
            pool: OnceLock::new(),
            running: AtomicUsize::new(0),
            range_docs: crate::test_hooks::range_docs().unwrap_or(MIN_RANGE_DOCS),
        }
    }
}

impl SearchPool {
    /// The pool, started on first use.
    fn threads(&self) -> Option<&rayon::ThreadPool> {
        self.pool
            .get_or_init(|| {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                // Tests that cut indexes into ranges need two threads anywhere.
                let threads = if self.range_docs == MIN_RANGE_DOCS {
                    cores
                } else {
                    cores.max(2)
                };
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("search-{i}"))
                    .build()
                    .ok()
            })
            .as_ref()
    }
}

/// What one search may use: the whole of its index's search pool when it
/// is the only search running there, else only its own thread. It counts
/// the search as running while it lives.
pub(crate) struct Cores {
    pool: Arc<SearchPool>,
    spread: bool,
}

impl Cores {
    /// Claims the cores of `pool` for one search.
    pub(crate) fn claim(pool: &Arc<SearchPool>) -> Cores {
        let others = pool.running.fetch_add(1, Ordering::AcqRel);
        let spread = pool
            .threads()
            .is_some_and(|p| others + 1 < p.current_num_threads());
        Cores {
            pool: pool.clone(),
            spread,
        }
    }

    /// The pool, when this search may spread.
    fn spread(&self) -> Option<&rayon::ThreadPool> {
        if self.spread {
            self.pool.threads()
        } else {
            None
        }
    }

    /// Runs `f` (a whole search) on the pool when this search may spread,
    /// so that its parallel steps start from a pool thread: the caller
    /// then waits for the pool once per search instead of once per step.
    pub(crate) fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match self.spread() {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// `f` over `items`, in order, on the pool when this search may spread.
    pub(crate) fn map<T: Sync, R: Send>(
        &self,
        items: &[T],
        f: impl Fn(&T) -> R + Sync + Send,
    ) -> Vec<R> {
        match self.spread() {
            Some(pool) if items.len() >= MIN_SPREAD_ITEMS => {
                pool.install(|| items.par_iter().map(f).collect())
            }
            _ => items.iter().map(f).collect(),
        }
    }

    /// `searcher.search(query, collector)`, cut into ranges over the pool
    /// when the index is large enough and this search may spread.
    pub(crate) fn search<C: Collector>(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        collector: &C,
    ) -> tantivy::Result<C::Fruit> {
        let Some(pool) = self.spread() else {
            return searcher.search(query, collector);
        };
        let max_docs: Vec<u32> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.max_doc())
            .collect();
        let tasks = plan(&max_docs, pool.current_num_threads(), self.pool.range_docs);
        if tasks.len() < 2 {
            return searcher.search(query, collector);
        }
        let scoring = if collector.requires_scoring() {
            EnableScoring::enabled_from_searcher(searcher)
        } else {
            EnableScoring::disabled_from_searcher(searcher)
        };
        let weight = query.weight(scoring)?;
        let fruits = pool.install(|| {
            tasks
                .par_iter()
                .map(|task| {
                    task.iter()
                        .map(|range| collect_range(searcher, &*weight, collector, *range))
                        .collect::<tantivy::Result<Vec<_>>>()
                })
                .collect::<tantivy::Result<Vec<_>>>()
        })?;
        collector.merge_fruits(fruits.into_iter().flatten().collect())
    }
}

impl Drop for Cores {
    fn drop(&mut self) {
        self.pool.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Fewer items than this are mapped on the calling thread.
const MIN_SPREAD_ITEMS: usize = 4;

/// Cuts the index (its segments' `max_doc`s, in order) into tasks of
/// about equal numbers of documents: two per thread, none smaller than
/// `min_range` (fewer tasks for a small index). A task may hold the end of
/// one segment and the start of the next, so that segments of unequal
/// sizes still give every thread the same share.
fn plan(max_docs: &[u32], threads: usize, min_range: u32) -> Vec<Vec<Range>> {
    let total: u64 = max_docs.iter().map(|&m| u64::from(m)).sum();
    let wanted = (threads as u64 * 2).max(1);
    let count = (total / u64::from(min_range.max(1))).clamp(1, wanted);
    let size = total.div_ceil(count).max(1);
    let mut tasks = Vec::new();
    let mut task = Vec::new();
    let mut room = size;
    for (segment, &max_doc) in max_docs.iter().enumerate() {
        let mut start = 0u64;
        while start < u64::from(max_doc) {
            let end = (start + room).min(u64::from(max_doc));
            task.push(Range {
                segment: segment as SegmentOrdinal,
                start: start as DocId,
                end: end as DocId,
            });
            room -= end - start;
            start = end;
            if room == 0 {
                tasks.push(std::mem::take(&mut task));
                room = size;
            }
        }
    }
    if !task.is_empty() {
        tasks.push(task);
    }
    tasks
}

/// Collects the documents of one range with a collector of its own.
/// [`collect_range`] over documents `start..end` of segment `segment`.
#[cfg(test)]
pub(crate) fn collect_documents<C: Collector>(
    searcher: &Searcher,
    weight: &dyn Weight,
    collector: &C,
    segment: SegmentOrdinal,
    documents: std::ops::Range<DocId>,
) -> tantivy::Result<<C::Child as SegmentCollector>::Fruit> {
    let range = Range {
        segment,
        start: documents.start,
        end: documents.end,
    };
    collect_range(searcher, weight, collector, range)
}

fn collect_range<C: Collector>(
    searcher: &Searcher,
    weight: &dyn Weight,
    collector: &C,
    range: Range,
) -> tantivy::Result<<C::Child as SegmentCollector>::Fruit> {
    let reader = searcher.segment_reader(range.segment);
    let mut child = collector.for_segment(range.segment, reader)?;
    let mut scorer = weight.scorer(reader, 1.0)?;
    let scoring = collector.requires_scoring();
    let alive = reader.alive_bitset();
    let mut doc = scorer.doc();
    if doc < range.start {
        doc = scorer.seek(range.start);
    }
    if let Some(union) = scorer.downcast_mut::<CorrectedUnion>() {
        // The same, for a word only its corrected forms match; the best
        // records' collector passes over blocks none of whose records
        // could enter.
        let any: &mut dyn Any = &mut child;
        if let Some(top) = any.downcast_mut::<TopRecordsSegment>() {
            union.collect_blocks_until(range.end, top);
        } else {
            union.for_each_until(range.end, &mut |doc, score| {
                child.collect(doc, if scoring { score } else { 0.0 });
            });
        }
        return Ok(child.harvest());
    }
    if let Some(conjunction) = scorer.downcast_mut::<WindowedConjunction>() {
        // A window at a time, without two virtual calls per match.
        conjunction.for_each_until(range.end, &mut |doc, score| {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                child.collect(doc, if scoring { score } else { 0.0 });
            }
        });
        return Ok(child.harvest());
    }
    while doc < range.end {
        if alive.is_none_or(|a| a.is_alive(doc)) {
            let score = if scoring { scorer.score() } else { 0.0 };
            child.collect(doc, score);
        }
        doc = scorer.advance();
    }
    Ok(child.harvest())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every document of every segment is in exactly one range, in order,
    /// and the tasks are of about equal size.
    #[test]
    fn tasks_cover_every_document_once_in_equal_shares() {
        for (max_docs, threads) in [
            (vec![59_256, 40_744], 2),
            (vec![77_084, 22_916], 2),
            (vec![619_521, 77_931, 77_598, 0, 70_592], 2),
            (vec![10, 20_000], 4),
            (vec![5], 1),
            (vec![1_000_003], 3),
        ] {
            let tasks = plan(&max_docs, threads, MIN_RANGE_DOCS);
            let ranges: Vec<Range> = tasks.iter().flatten().copied().collect();
            for (segment, &max_doc) in max_docs.iter().enumerate() {
                let mut next = 0;
                for r in ranges.iter().filter(|r| r.segment as usize == segment) {
                    assert_eq!(r.start, next, "{max_docs:?} segment {segment}");
                    assert!(r.end > r.start);
                    next = r.end;
                }
                assert_eq!(next, max_doc, "{max_docs:?} segment {segment}");
            }
            let sizes: Vec<u32> = tasks
                .iter()
                .map(|t| t.iter().map(|r| r.end - r.start).sum())
                .collect();
            let (min, max) = (sizes.iter().min(), sizes.iter().max());
            let spread = tasks.len() as u32;
            assert!(
                max.zip(min).is_some_and(|(max, min)| max - min <= spread),
                "{sizes:?}"
            );
        }
        // Unequal segments still give two threads equal shares.
        assert_eq!(plan(&[59_256, 40_744], 2, MIN_RANGE_DOCS).len(), 4);
        // A small index is one task; the test hook cuts even a tiny one.
        assert_eq!(plan(&[20_000], 2, MIN_RANGE_DOCS).len(), 1);
        assert_eq!(plan(&[20], 2, 2).len(), 4);
    }
}
