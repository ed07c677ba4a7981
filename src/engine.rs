//! The service layer: one [`Rapport`] value owns the configuration, the store
//! and the index, and offers the operations the CLI and the HTTP API call
//! (ingest, search, analyze, status). Opening it brings the index up to date
//! with the store: after a crash between a store commit and an index commit,
//! or after a schema change, nothing is lost.
//!
//! It must never be bypassed: handlers and commands do not touch the store or
//! the index directly.

mod audit_batch;
mod book_warm;
mod change_feed;
mod customers;
mod identities;
mod incremental;
mod jobs;
mod offline;
mod purposes;
mod read_only;
mod record_ids;
mod retention;
mod scope_checks;
mod sessions;
mod source_host;
mod store_compaction;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use crate::config::Config;
use crate::connectors::manifest::{Manifest, ManifestError};
use crate::index::japanese_dictionary::DictionaryError;
use crate::index::search::QueryError;
use crate::index::search::suggest::SuggestResponse;
use crate::index::search::synonyms::{SynonymError, Synonyms};
use crate::index::{Analyzers, IndexError, JapaneseMode, LiveIndex, OpenState};
use crate::schema::{SchemaError, SchemaSpec};
use crate::sources::ingest::{self, Progress, SourceReport};
use crate::sources::status::{self, ConnectorStatus, PullState, RunRecord};
use crate::store::{Store, StoreError};

mod erasure;
pub use crate::store::Compaction;
pub use crate::store::{AuditEntry, AuditQuery, ChainBreak, NewAudit};
pub use erasure::{ErasureError, ErasureRequest};
mod export;
mod footprint;
pub use export::{ExportError, ExportSummary, PreparedExport};
pub use footprint::{Footprint, folder_bytes};
pub use identities::Identities;
pub use jobs::{ReindexRequest, StartJobError};
pub use offline::{DataDir, Offline};
pub use read_only::{analyze_text, search_read_only};
pub use retention::{RetentionPlan, RetentionRun};

// What callers of the engine name: requests and answers, job triggers and
// the snapshot files a command moves or restores.
pub use crate::customers::{DuplicateKind, DuplicatesPage};
pub use crate::index::search::hits::Hit;
pub use crate::index::search::{AnalyzedToken, SearchRequest, SearchResponse};
pub use crate::jobs::JobTrigger;

/// A caller's row-level scope: field → filter, as `filter.FIELD` reads it.
pub type Scope = std::collections::BTreeMap<String, crate::index::search::request::Filter>;

/// Reads a stored scope (field → filter text) as filters, with the errors
/// a `filter.FIELD` parameter would have.
pub fn parse_scope(raw: &std::collections::BTreeMap<String, String>) -> Result<Scope, QueryError> {
    if raw.is_empty() {
        return Ok(Scope::new());
    }
    let params: Vec<(String, String)> = raw
        .iter()
        .map(|(field, value)| (format!("filter.{field}"), value.clone()))
        .chain(std::iter::once(("q".to_string(), "*".to_string())))
        .collect();
    let request = SearchRequest::from_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(request.filters)
}
pub use crate::snapshot::{default_name as default_snapshot_name, move_dir, restore};
mod writeback;

/// Set by tests to stop the process right after the store commits and before
/// the index does, as a crash there would.
pub const CRASH_AFTER_STORE_COMMIT: &str = "RAPPORT_TEST_CRASH_AFTER_STORE_COMMIT";

/// Store metadata: what the last resolution was computed from.
const RESOLVED_FROM: &str = "resolved_from";

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Dictionary(#[from] DictionaryError),
    #[error(transparent)]
    Synonyms(#[from] SynonymError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("the purge was made but could not be written to the erasure ledger: {0}")]
    Ledger(std::io::Error),
}

pub fn load_schema(config: &Config) -> Result<SchemaSpec, SchemaError> {
    match &config.schema {
        Some(path) => SchemaSpec::load(path),
        None => SchemaSpec::builtin(),
    }
}

pub fn load_analyzers(config: &Config) -> Result<Analyzers, DictionaryError> {
    let started = Instant::now();
    let analyzers = Analyzers::load(&config.ipadic_source, &config.dictionary_cache())?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "analysers ready"
    );
    Ok(analyzers)
}

/// The synonyms file rapport.toml names, or none.
pub fn load_synonyms(config: &Config) -> Result<Synonyms, SynonymError> {
    match &config.synonyms {
        Some(path) => Synonyms::load(path),
        None => Ok(Synonyms::default()),
    }
}

pub struct Rapport {
    config: Config,
    store: Store,
    /// The live index generation (swapped by a rebuild; see `index::live`).
    index: LiveIndex,
    /// Reindex, rebuild and ingest jobs (see `engine/jobs.rs`).
    jobs: crate::jobs::Jobs,
    /// One ingest pass at a time (the CLI, the watcher, pulls), so that two
    /// passes never interleave on one file's checkpoint.
    ingest_lock: Mutex<()>,
    /// Live state of sources as the background tasks set it (`watching`,
    /// `running`); absent means idle.
    live: Mutex<HashMap<String, String>>,
    /// How many records the last resolution re-resolved (the whole book
    /// for a full pass; see `engine/incremental.rs`).
    resolved_records: std::sync::atomic::AtomicU64,
    /// The book's statistics kept between incremental resolutions (see
    /// `engine/incremental.rs`); dropped by a full pass, read again in the
    /// background by a server (`engine/book_warm.rs`).
    kept_book: Mutex<Option<incremental::KeptBook>>,
    /// How many records the last resolution read from the store.
    read_records: std::sync::atomic::AtomicU64,
    /// The last full pass's book read and save, in microseconds (0 until one
    /// ran): `rapport bench ingest` splits resolution by them.
    full_pass_read_us: std::sync::atomic::AtomicU64,
    full_pass_save_us: std::sync::atomic::AtomicU64,
    /// What opening had to repair (`rapport check` reports it).
    opened: Recovery,
    /// Group commit of the audit entries requests append.
    audit: audit_batch::AuditBatcher,
    /// The flagged records and the quality report's issue counts, with the
    /// change-log sequence they were read at (`engine/customers.rs`):
    /// finding them reads every record, so the next look reuses them until
    /// a change.
    quality_kept: Mutex<Option<customers::QualityKept>>,
    /// The steward's queue's customer profiles, kept the same way.
    duplicate_profiles: crate::customers::KeptProfiles,
}

#[derive(Debug, Serialize)]
pub struct IngestReport {
    pub sources: Vec<SourceReport>,
    pub indexed_changes: usize,
    pub took_ms: u64,
    /// Where the time went: reading, normalising and storing the sources,
    /// resolution (with its book read and save when it was a full pass),
    /// and index catch-up (`rapport bench ingest` prints them).
    pub stages: IngestStages,
}

/// Milliseconds per stage of one ingest pass.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct IngestStages {
    pub sources_ms: u64,
    pub resolve_ms: u64,
    pub index_ms: u64,
    /// Records the pass re-resolved: the records a change reached, or the
    /// whole book for a full resolution (0 when nothing changed).
    pub resolved_records: u64,
    /// Records the resolution read from the store: the whole book for a
    /// full pass (or an incremental one without kept statistics), else the
    /// changed records and those re-resolved with them.
    pub resolve_read_records: u64,
    /// Of `resolve_ms`, a full pass's read of the book and its save, in
    /// microseconds (both 0 when the pass resolved incrementally or not at
    /// all).
    pub resolve_book_read_us: u64,
    pub resolve_save_us: u64,
}

impl IngestReport {
    /// True when some source could not be read at all.
    pub fn any_source_failed(&self) -> bool {
        self.sources.iter().any(|s| s.failed.is_some())
    }
}

/// What opening the data directory repaired; the detail is in the log.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Recovery {
    /// Why the index was rebuilt from the store, if it could not be opened.
    pub index_rebuilt: Option<String>,
    /// Store changes the index had not applied (an interrupted run).
    pub changes_replayed: u64,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub records: u64,
    pub indexed_documents: u64,
    pub store_seq: u64,
    pub index_seq: u64,
    pub japanese: JapaneseMode,
}

impl Rapport {
    pub fn open(config: Config) -> Result<Rapport, EngineError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| EngineError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let spec = load_schema(&config)?;
        let analyzers = load_analyzers(&config)?;
        let store = Store::open(&config.store_path())?;
        // Erasures made after the snapshot this store came from.
        let mut reapplied = false;
        for entry in crate::store::read_ledger(&config.data_dir)? {
            reapplied |= store.reapply_erasure(&entry)?;
        }
        // An erasure or purge since the last rewrite left erased values in
        // freed pages: rewrite the file while no one else holds it.
        if store.scrub_pending()? {
            store.rewrite_file(&config.store_path())?;
        }
        let (index, state) = LiveIndex::open(
            &config.index_dir(),
            spec,
            analyzers,
            load_synonyms(&config)?,
            config.index,
            config.search_caches,
        )?;
        if let OpenState::SchemaChanged { previous } = &state {
            tracing::warn!(
                previous = %previous.trim(),
                current = index.spec().fingerprint(),
                "the schema file changed since the index was built: rebuilding the index from the store"
            );
        }
        let mut opened = Recovery::default();
        if let OpenState::Damaged { reason } = &state {
            tracing::warn!(%reason, "the index was damaged: rebuilding it from the store");
            opened.index_rebuilt = Some(reason.clone());
        }
        let lag = store.last_seq()?.saturating_sub(index.applied_seq()?);
        if state == OpenState::Current {
            opened.changes_replayed = lag;
        }
        if lag > 0 && state == OpenState::Current {
            tracing::warn!(
                lag,
                "the index lags the store (interrupted run?): catching up"
            );
        }
        index.catch_up(&store)?;
        store.set_meta("index_schema", index.spec().fingerprint())?;
        let jobs = crate::jobs::Jobs::load(&store);
        let app = Rapport {
            config,
            store,
            index,
            jobs,
            ingest_lock: Mutex::new(()),
            resolved_records: std::sync::atomic::AtomicU64::new(0),
            kept_book: Mutex::new(None),
            read_records: std::sync::atomic::AtomicU64::new(0),
            full_pass_read_us: std::sync::atomic::AtomicU64::new(0),
            full_pass_save_us: std::sync::atomic::AtomicU64::new(0),
            live: Mutex::new(HashMap::new()),
            opened,
            audit: audit_batch::AuditBatcher::default(),
            quality_kept: Mutex::new(None),
            duplicate_profiles: crate::customers::KeptProfiles::default(),
        };
        if reapplied {
            app.resolve()?;
            app.index.purge_deleted()?;
        }
        Ok(app)
    }

    /// What opening repaired.
    pub fn recovery(&self) -> &Recovery {
        &self.opened
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Reads every configured source once, then brings the index up to date.
    pub fn ingest(&self, progress: &dyn Fn(Progress)) -> Result<IngestReport, EngineError> {
        let started = Instant::now();
        let _pass = lock(&self.ingest_lock);
        let mut sources = Vec::new();
        for source in &self.config.sources {
            sources.push(self.run_source(source, "ingest", progress)?);
        }
        let mut stages = IngestStages {
            sources_ms: started.elapsed().as_millis() as u64,
            ..IngestStages::default()
        };
        let resolving = Instant::now();
        self.resolved_records
            .store(0, std::sync::atomic::Ordering::Relaxed);
        self.read_records
            .store(0, std::sync::atomic::Ordering::Relaxed);
        for part in [&self.full_pass_read_us, &self.full_pass_save_us] {
            part.store(0, std::sync::atomic::Ordering::Relaxed);
        }
        self.resolve_if_stale()?;
        stages.resolve_ms = resolving.elapsed().as_millis() as u64;
        stages.resolved_records = self.last_resolved_records();
        stages.resolve_read_records = self.read_records.load(std::sync::atomic::Ordering::Relaxed);
        stages.resolve_book_read_us = self
            .full_pass_read_us
            .load(std::sync::atomic::Ordering::Relaxed);
        stages.resolve_save_us = self
            .full_pass_save_us
            .load(std::sync::atomic::Ordering::Relaxed);
        if std::env::var_os(CRASH_AFTER_STORE_COMMIT).is_some() {
            tracing::error!("{CRASH_AFTER_STORE_COMMIT} is set: exiting before the index commit");
            std::process::exit(86);
        }
        let indexing = Instant::now();
        let indexed_changes = {
            let _span = tracing::info_span!("index").entered();
            self.index.catch_up(&self.store)?
        };
        stages.index_ms = indexing.elapsed().as_millis() as u64;
        Ok(IngestReport {
            sources,
            indexed_changes,
            took_ms: started.elapsed().as_millis() as u64,
            stages,
        })
    }

    /// One pass over the source named `name`, then index catch-up: what the
    /// watcher and pulls call (through `&self`, from background threads).
    /// `trigger` names the caller in the persisted run report.
    pub fn ingest_source(&self, name: &str, trigger: &str) -> Result<SourceReport, EngineError> {
        let Some(source) = self.config.sources.iter().find(|s| s.name == name) else {
            return Ok(SourceReport {
                source: name.to_string(),
                failed: Some(format!("no source named `{name}` in the configuration")),
                ..SourceReport::default()
            });
        };
        let report = {
            let _pass = lock(&self.ingest_lock);
            let report = self.run_source(source, trigger, &|_| {})?;
            self.resolve_if_stale()?;
            report
        };
        let _span = tracing::info_span!("index", source = %name).entered();
        self.index.catch_up(&self.store)?;
        Ok(report)
    }

    /// What the last resolution was computed from: the store's sequence
    /// number after it was saved, and a hash of the settings and the steward
    /// overrides.
    fn resolution_inputs(&self) -> Result<String, EngineError> {
        let inputs = serde_json::json!({
            "settings": &self.config.resolve,
            "overrides": self.store.overrides()?,
        });
        Ok(format!(
            "{}:{}",
            self.store.last_seq()?,
            blake3::hash(inputs.to_string().as_bytes()).to_hex()
        ))
    }

    /// Resolves unless nothing changed since the last resolution (no record
    /// written, same settings and overrides), as after a watch or pull pass
    /// that found every file unchanged: resolution reads the whole book, so
    /// skipping it keeps such passes cheap. Write-backs (notes, attributes)
    /// attach themselves and need no resolution. The caller holds
    /// `ingest_lock`.
    fn resolve_if_stale(&self) -> Result<usize, EngineError> {
        if self.store.meta(RESOLVED_FROM)?.as_deref() == Some(self.resolution_inputs()?.as_str()) {
            tracing::debug!("nothing changed since the last resolution: not resolving again");
            return Ok(0);
        }
        if let Some(changed) = self.resolve_incrementally()? {
            // The plan has read the erased records' set-aside assignments.
            self.store.clear_erased_assignments()?;
            return Ok(changed);
        }
        self.resolve_locked()
    }

    /// Resolves every record into customers and saves the result (the caller
    /// holds `ingest_lock`). Records whose assignment changed are logged for
    /// the index. Returns how many changed.
    fn resolve_locked(&self) -> Result<usize, EngineError> {
        let started = Instant::now();
        // The kept statistics would only add to the full pass's peak.
        lock(&self.kept_book).take();
        // Only what resolution reads of each record is held, as its own
        // compact record (`resolve::BookRecord`), decoded one at a time.
        let records = self
            .store
            .records_by_birth_as(crate::resolve::BookRecord::from)?;
        let read = started.elapsed();
        self.full_pass_read_us.store(
            read.as_micros() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        tracing::debug!(
            elapsed_ms = read.as_millis() as u64,
            "book read for resolution"
        );
        let overrides = self.store.overrides()?;
        let analyzers = self.index.snapshot().analyzers().clone();
        let romaji = |text: &str| analyzers.romaji_words(text);
        // The resolver frees the book once the customers are built, before
        // the records' assignments are made: it lowers the peak.
        let record_count = records.len();
        let resolution =
            crate::resolve::resolve_owned(records, &self.config.resolve, &overrides, Some(&romaji));
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "customers resolved, saving"
        );
        let saving = Instant::now();
        let changed = self.store.save_resolution(&resolution)?;
        self.full_pass_save_us.store(
            saving.elapsed().as_micros() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        self.store
            .set_meta(RESOLVED_FROM, &self.resolution_inputs()?)?;
        // A full pass needs no erased record's old assignment.
        self.store.clear_erased_assignments()?;
        self.resolved_records
            .store(record_count as u64, std::sync::atomic::Ordering::Relaxed);
        self.read_records
            .store(record_count as u64, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(
            records = record_count,
            entities = resolution.entities.len(),
            suspects = resolution.suspects.len(),
            changed,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "resolved customers"
        );
        Ok(changed)
    }

    /// Re-resolves (after a steward override) and brings the index up to date.
    pub fn resolve(&self) -> Result<usize, EngineError> {
        let changed = {
            let _pass = lock(&self.ingest_lock);
            self.resolve_locked()?
        };
        self.index.catch_up(&self.store)?;
        Ok(changed)
    }

    pub fn identities(&self) -> Identities<'_> {
        Identities::new(&self.store)
    }

    /// Runs one source (the caller holds `ingest_lock`) and persists its run.
    fn run_source(
        &self,
        source: &crate::config::SourceConfig,
        trigger: &str,
        progress: &dyn Fn(Progress),
    ) -> Result<SourceReport, EngineError> {
        self.run_source_with(source, trigger, progress, false)
    }

    /// As `run_source`; with `reread`, unchanged files are read again.
    fn run_source_with(
        &self,
        source: &crate::config::SourceConfig,
        trigger: &str,
        progress: &dyn Fn(Progress),
        reread: bool,
    ) -> Result<SourceReport, EngineError> {
        let started_at = chrono::Utc::now();
        let started = Instant::now();
        let previous = self.set_live_state(&source.name, Some("running"));
        let outcome = match Manifest::resolve(
            &source.connector,
            self.config.connectors_dir.as_deref(),
            &self.config.base_dir,
        ) {
            Ok(manifest) => {
                // Passes the watcher starts leave files that are still being
                // written for a later pass.
                let settle = (trigger == "watch")
                    .then(|| std::time::Duration::from_millis(self.config.watch_debounce_ms));
                ingest::ingest_source_with(
                    &self.store,
                    source,
                    &manifest,
                    progress,
                    settle,
                    reread,
                    &self.config.limits,
                )
            }
            Err(e) => Ok(failed_source(source, &e)),
        };
        self.set_live_state(&source.name, previous.as_deref());
        let report = outcome?;
        status::save_run(
            &self.store,
            RunRecord {
                trigger: trigger.to_string(),
                started_at,
                took_ms: started.elapsed().as_millis() as u64,
                report: report.clone(),
            },
        )?;
        status::write_snapshot(&self.config.data_dir, &self.connectors_status()?);
        Ok(report)
    }

    /// Sets (or clears) a source's live state; returns the previous one.
    pub fn set_live_state(&self, source: &str, state: Option<&str>) -> Option<String> {
        let mut live = lock(&self.live);
        match state {
            Some(state) => live.insert(source.to_string(), state.to_string()),
            None => live.remove(source),
        }
    }

    /// Per source: state, last run report and last pull.
    pub fn connectors_status(&self) -> Result<Vec<ConnectorStatus>, EngineError> {
        let live = lock(&self.live).clone();
        Ok(status::collect(
            &self.store,
            &self.config.sources,
            |name| live.get(name).cloned(),
        )?)
    }

    pub fn pull_state(&self, source: &str) -> Result<PullState, EngineError> {
        Ok(status::last_pull(&self.store, source)?.unwrap_or_default())
    }

    pub fn save_pull_state(&self, source: &str, state: &PullState) -> Result<(), EngineError> {
        Ok(status::save_pull(&self.store, source, state)?)
    }

    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, QueryError> {
        if request.filters.contains_key("id") || request.filters.contains_key("external_id") {
            let mut request = request.clone();
            record_ids::widen_id_filters(&mut request.filters);
            return self.index.search(&request);
        }
        self.index.search(request)
    }

    /// Whether customer `id` has a record within `scope`.
    pub fn customer_in_scope(&self, id: &str, scope: &Scope) -> Result<bool, QueryError> {
        if scope.is_empty() {
            return Ok(true);
        }
        let mut request = SearchRequest::new("*");
        request.group = crate::index::search::request::Grouping::None;
        request.limit = 0;
        request.filters.insert(
            "customer_id".into(),
            crate::index::search::request::Filter::Values(vec![id.to_string()]),
        );
        request.scope = scope.clone();
        Ok(self.search(&request)?.total > 0)
    }

    /// Names starting with `q` within `scope` (the caller's; empty: all).
    pub fn suggest(
        &self,
        q: &str,
        limit: usize,
        scope: &Scope,
    ) -> Result<SuggestResponse, QueryError> {
        self.index.suggest(q, limit, scope)
    }

    /// What each search cache holds now, against its budget.
    pub fn cache_usage(&self) -> Vec<crate::index::search::caches::CacheUse> {
        self.index.cache_usage()
    }

    pub fn analyze(&self, field: &str, text: &str) -> Result<Vec<AnalyzedToken>, QueryError> {
        self.index.analyze(field, text)
    }

    pub fn status(&self) -> Result<Status, EngineError> {
        Ok(Status {
            records: self.store.record_count()?,
            indexed_documents: self.index.num_docs(),
            store_seq: self.store.last_seq()?,
            index_seq: self.index.applied_seq()?,
            japanese: self.index.analyzers().japanese_mode(),
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn failed_source(source: &crate::config::SourceConfig, e: &ManifestError) -> SourceReport {
    tracing::error!(source = %source.name, error = %e, "source has no usable connector");
    SourceReport {
        source: source.name.clone(),
        connector: source.connector.clone(),
        failed: Some(e.to_string()),
        ..SourceReport::default()
    }
}
