//! The book's statistics made ready before the first change needs them: a
//! change resolved incrementally needs the whole book's statistics
//! (`engine/incremental.rs`), which only a read of every record gives. A
//! server has none kept when it starts, nor after a full pass (which drops
//! them to lower its peak), so the first change would read the book itself
//! (15 s at 1M records). A background thread the server starts reads them
//! then, when nothing else is resolving, so that a change arriving later
//! only reads what it changed and the records it re-resolves.
//!
//! It must never run beside a resolution or an ingest (it holds
//! `ingest_lock` while it reads, so the full pass's peak is not raised),
//! never write anything (statistics are held in memory only, so nothing an
//! erasure removed, a restore replaced or a rewrite dropped can outlive the
//! process), and never keep the engine alive (it holds a weak reference).

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::incremental::KeptBook;
use super::{EngineError, Rapport, lock};

/// How often the thread looks whether statistics are wanted.
const POLL: Duration = Duration::from_millis(500);

impl Rapport {
    /// Reads the book's statistics now, waiting for any pass in progress,
    /// unless some are kept or the next change could not use them (no
    /// resolution saved, settings or overrides changed since, estimated
    /// weights, write-back data). Returns whether it read them.
    pub fn warm_book_statistics(&self) -> Result<bool, EngineError> {
        let _pass = lock(&self.ingest_lock);
        self.warm_locked()
    }

    /// Whether statistics are kept for the next change.
    pub fn book_statistics_ready(&self) -> bool {
        lock(&self.kept_book).is_some()
    }

    /// Starts the thread that keeps the statistics ready: it reads them
    /// once the server is up and again after each full pass. It ends when
    /// the engine is dropped. None when `[server] warm_book_statistics` is
    /// off (or the thread cannot start).
    pub fn keep_book_statistics_warm(self: &Arc<Self>) -> Option<std::thread::JoinHandle<()>> {
        if !self.config().server.warm_book_statistics {
            tracing::info!(
                "book statistics are not read ahead ([server] warm_book_statistics = false): \
                 the first change after a start or a full pass reads the book"
            );
            return None;
        }
        let app: Weak<Rapport> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("rapport-book-statistics".into())
            .spawn(move || {
                // The store's sequence number when statistics were last
                // found unusable: not looked at again until it moves.
                let mut declined: Option<u64> = None;
                loop {
                    {
                        let Some(app) = app.upgrade() else { break };
                        app.warm_step(&mut declined);
                    }
                    std::thread::sleep(POLL);
                }
            })
            .map_err(|e| tracing::error!(error = %e, "cannot start the book statistics thread"))
            .ok()
    }

    /// One look of the thread: reads the statistics if none are kept and
    /// no pass holds the lock (it looks again later if one does).
    fn warm_step(&self, declined: &mut Option<u64>) {
        if self.book_statistics_ready() {
            return;
        }
        let seq = match self.store.last_seq() {
            Ok(seq) => seq,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the store's sequence number");
                return;
            }
        };
        if *declined == Some(seq) {
            return;
        }
        let Ok(_pass) = self.ingest_lock.try_lock() else {
            return;
        };
        match self.warm_locked() {
            Ok(true) => *declined = None,
            Ok(false) => *declined = Some(seq),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the book's statistics ahead of a change");
                *declined = Some(seq);
            }
        }
    }

    /// [`Rapport::warm_book_statistics`]; the caller holds `ingest_lock`.
    fn warm_locked(&self) -> Result<bool, EngineError> {
        if self.book_statistics_ready()
            || self.resolved_at_seq()?.is_none()
            || self.store.has_writeback()?
        {
            return Ok(false);
        }
        let _span = tracing::info_span!("warm book statistics").entered();
        let started = Instant::now();
        let analyzers = self.index.snapshot().analyzers().clone();
        let romaji = |text: &str| analyzers.romaji_words(text);
        // Every change after this is in the change log, and no one writes
        // while the lock is held.
        let seq = self.store.last_seq()?;
        let (stats, records) = self.book_statistics(&romaji)?;
        drop(records);
        let count = stats.len();
        *lock(&self.kept_book) = Some(KeptBook { seq, stats });
        tracing::info!(
            records = count,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "book statistics ready: the next change reads only what it reaches"
        );
        Ok(true)
    }
}
