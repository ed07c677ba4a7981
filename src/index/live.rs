//! The live index: the generation searches answer from, behind one
//! `RwLock<Arc<SearchIndex>>`, so that a full rebuild can fill a new
//! generation beside it and swap it in atomically. Every request takes one
//! `Arc` snapshot and uses it to the end, so it never mixes generations; a
//! swapped-out generation is deleted only once no request holds it any more
//! (or after a grace period, which Linux's open-file semantics make safe).
//!
//! It must never let two writers race on `CURRENT`: catch-ups and the
//! rebuild's final catch-up + swap take the same `writers` lock, and a
//! failed or cancelled rebuild must never touch the live generation (it only
//! removes its own partial one).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::change_feed::ChangeFeed;
use super::search::caches::{CacheBudgets, CacheUse, SearchCaches};
use super::search::suggest::SuggestResponse;
use super::search::synonyms::Synonyms;
use super::search::{AnalyzedToken, QueryError, SearchRequest, SearchResponse};
use super::{Analyzers, IndexError, IndexSettings, OpenState, SearchIndex};
use crate::schema::SchemaSpec;

/// Set by tests to slow a rebuild down (milliseconds per batch of changes),
/// so that searching and cancelling during one is not a race.
pub const REBUILD_BATCH_DELAY_MS: &str = "RAPPORT_TEST_REBUILD_BATCH_DELAY_MS";

/// Set by tests to a file path: a rebuild whose new generation is filled
/// waits (up to two minutes, or until cancelled) while that file exists,
/// before its final catch-up, so that a test can write meanwhile.
pub const REBUILD_HOLD_FILE: &str = "RAPPORT_TEST_REBUILD_HOLD_FILE";

/// How long a swapped-out generation waits for in-flight searches.
const RETIRE_GRACE: Duration = Duration::from_secs(10);

/// What a rebuild reports while it runs.
#[derive(Debug, Clone, Copy)]
pub struct RebuildProgress {
    /// Changes (records and deletions) applied to the new generation.
    pub applied: usize,
    /// Records in the store when the rebuild started.
    pub total: u64,
    /// True once the new generation is filled (the final catch-up and the
    /// swap follow).
    pub filled: bool,
}

/// What a finished rebuild did.
#[derive(Debug, Clone)]
pub struct RebuildOutcome {
    pub previous_generation: String,
    pub generation: String,
    /// Changes applied while filling, then in the final catch-up.
    pub applied: usize,
    pub caught_up: usize,
    pub documents: u64,
}

pub struct LiveIndex {
    current: RwLock<Arc<SearchIndex>>,
    /// Held by every catch-up of the live generation and by a rebuild's final
    /// catch-up + swap + publish, so that no change is applied to a
    /// generation that is being swapped out.
    writers: Mutex<()>,
    /// One rebuild at a time.
    rebuilding: Mutex<()>,
    root: PathBuf,
    spec: SchemaSpec,
    analyzers: Analyzers,
    settings: IndexSettings,
}

impl LiveIndex {
    /// Opens the current generation (or creates one, see
    /// [`SearchIndex::open`]) and removes generations a crashed rebuild left.
    pub fn open(
        root: &Path,
        spec: SchemaSpec,
        analyzers: Analyzers,
        synonyms: Synonyms,
        settings: IndexSettings,
        caches: CacheBudgets,
    ) -> Result<(LiveIndex, OpenState), IndexError> {
        let (mut index, state) =
            SearchIndex::open(root, spec.clone(), analyzers.clone(), settings)?;
        index.set_synonyms(synonyms);
        index.set_caches(Arc::new(SearchCaches::new(caches)));
        if state == OpenState::Current {
            super::remove_generations_except(root, index.generation());
        }
        Ok((
            LiveIndex {
                current: RwLock::new(Arc::new(index)),
                writers: Mutex::new(()),
                rebuilding: Mutex::new(()),
                root: root.to_path_buf(),
                spec,
                analyzers,
                settings,
            },
            state,
        ))
    }

    /// The generation answering now; hold it for the whole of one request.
    pub fn snapshot(&self) -> Arc<SearchIndex> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Applies the store's new changes to the live generation.
    pub fn catch_up(&self, store: &dyn ChangeFeed) -> Result<usize, IndexError> {
        let _writers = lock(&self.writers);
        self.snapshot().catch_up(store)
    }

    /// Applies the store's changes up to sequence number `until` only, and
    /// commits (without publishing a new generation): for a write-back made
    /// durable while an ingest pass is still writing batches after it.
    pub fn catch_up_until(&self, store: &dyn ChangeFeed, until: u64) -> Result<usize, IndexError> {
        let _writers = lock(&self.writers);
        self.snapshot()
            .apply_changes_until(store, until, &mut |_| true)
    }

    /// Rewrites the live generation's segments that hold deleted documents
    /// (see [`SearchIndex::purge_deleted`]).
    pub fn purge_deleted(&self) -> Result<usize, IndexError> {
        let _writers = lock(&self.writers);
        self.snapshot().purge_deleted()
    }

    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, QueryError> {
        self.snapshot().search(request)
    }

    pub fn suggest(
        &self,
        q: &str,
        limit: usize,
        scope: &std::collections::BTreeMap<String, super::search::request::Filter>,
    ) -> Result<SuggestResponse, QueryError> {
        self.snapshot().suggest(q, limit, scope)
    }

    pub fn analyze(&self, field: &str, text: &str) -> Result<Vec<AnalyzedToken>, QueryError> {
        self.snapshot().analyze(field, text)
    }

    pub fn num_docs(&self) -> u64 {
        self.snapshot().num_docs()
    }

    /// What each of this index's search caches holds now, against its budget.
    pub fn cache_usage(&self) -> Vec<CacheUse> {
        self.snapshot().caches().usage()
    }

    pub fn applied_seq(&self) -> Result<u64, IndexError> {
        self.snapshot().applied_seq()
    }

    /// The live generation's directory name.
    pub fn generation(&self) -> String {
        self.snapshot().generation().to_string()
    }

    pub fn spec(&self) -> &SchemaSpec {
        &self.spec
    }

    pub fn analyzers(&self) -> &Analyzers {
        &self.analyzers
    }

    /// Builds a new generation from the store beside the live one while
    /// searches keep answering from the live one; then, holding the writers'
    /// lock, applies the changes written meanwhile, publishes `CURRENT` and
    /// swaps it in. The old generation is removed once no request holds it.
    /// On error or when `cancel` is set, the new generation is removed and
    /// the live one is left as it was.
    pub fn rebuild(
        &self,
        store: &dyn ChangeFeed,
        progress: &dyn Fn(RebuildProgress),
        cancel: &AtomicBool,
    ) -> Result<RebuildOutcome, IndexError> {
        let _one_rebuild = lock(&self.rebuilding);
        let live = self.snapshot();
        let total = store.record_count()?;
        let fresh = SearchIndex::create_generation(
            &self.root,
            self.spec.clone(),
            self.analyzers.clone(),
            self.settings,
        )
        .map(|mut index| {
            index.set_synonyms(live.synonyms().clone());
            index.set_caches(live.caches().clone());
            index
        })?;
        let generation = fresh.generation().to_string();
        let _span =
            tracing::info_span!("index_rebuild", %generation, from = %live.generation()).entered();
        let delay = std::env::var(REBUILD_BATCH_DELAY_MS)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis);
        let filled = fresh.apply_changes(store, &mut |applied| {
            progress(RebuildProgress {
                applied,
                total,
                filled: false,
            });
            if let Some(delay) = delay {
                std::thread::sleep(delay);
            }
            !cancel.load(Ordering::Relaxed)
        });
        let applied = match filled {
            Ok(applied) if !cancel.load(Ordering::Relaxed) => applied,
            Ok(_) | Err(IndexError::Stopped) => {
                discard(fresh);
                return Err(IndexError::Stopped);
            }
            Err(e) => {
                discard(fresh);
                return Err(e);
            }
        };
        progress(RebuildProgress {
            applied,
            total,
            filled: true,
        });
        crate::test_hooks::hold_while_file_exists(REBUILD_HOLD_FILE, &|| {
            cancel.load(Ordering::Relaxed)
        });
        if cancel.load(Ordering::Relaxed) {
            discard(fresh);
            return Err(IndexError::Stopped);
        }
        let fresh = Arc::new(fresh);
        let swapped = {
            let _writers = lock(&self.writers);
            let previous = self.snapshot();
            let caught_up = fresh.catch_up_unpublished(store);
            match caught_up.and_then(|n| fresh.publish_current().map(|()| n)) {
                Ok(caught_up) => {
                    *self
                        .current
                        .write()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh.clone();
                    Ok((previous, caught_up))
                }
                Err(e) => Err(e),
            }
        };
        let (previous, caught_up) = match swapped {
            Ok(swapped) => swapped,
            Err(e) => {
                if let Ok(fresh) = Arc::try_unwrap(fresh) {
                    discard(fresh);
                }
                return Err(e);
            }
        };
        drop(live);
        let previous_generation = previous.generation().to_string();
        retire(previous);
        super::remove_generations_except(&self.root, &generation);
        let documents = fresh.num_docs();
        tracing::info!(
            applied,
            caught_up,
            documents,
            %previous_generation,
            "rebuilt index swapped in"
        );
        Ok(RebuildOutcome {
            previous_generation,
            generation,
            applied,
            caught_up,
            documents,
        })
    }
}

impl SearchIndex {
    /// [`SearchIndex::apply_changes`] with no observer: the rebuild's final
    /// catch-up, which must not publish on its own.
    fn catch_up_unpublished(&self, store: &dyn ChangeFeed) -> Result<usize, IndexError> {
        self.apply_changes(store, &mut |_| true)
    }
}

/// Waits (bounded) until no request holds the swapped-out generation, then
/// drops it, so its writer stops before its directory goes.
fn retire(previous: Arc<SearchIndex>) {
    let started = Instant::now();
    while Arc::strong_count(&previous) > 1 && started.elapsed() < RETIRE_GRACE {
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(previous);
}

/// Drops a generation that will never be published and removes its folder.
fn discard(index: SearchIndex) {
    let dir = index.root_dir().join(index.generation());
    drop(index);
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "could not remove an abandoned index generation");
    } else {
        tracing::info!(dir = %dir.display(), "abandoned index generation removed");
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
