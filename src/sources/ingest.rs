//! One ingest pass over a source: list its files, skip the ones whose content
//! has not changed since the last pass (checkpoint hash), read the others
//! through the connector, and hand their records to the store in batches of
//! [`BATCH`] (one transaction each, made durable every [`SYNC_EVERY`]
//! records and at the end of the pass), so memory stays bounded whatever the
//! file's size; the file's checkpoint is saved after its last batch. Files
//! gone from the folder have their records removed.
//!
//! It must never stop a source for one bad file or row, and never write to
//! the index: the index follows the store's change log.

use serde::{Deserialize, Serialize};

use crate::config::SourceConfig;
use crate::connectors::{self, IngestError, Manifest, ReadError};
use crate::normalize::limits::Limits;
use crate::store::{Store, StoreError};

/// Records per store transaction.
pub const BATCH: usize = 1_000;
/// Records after which the store is made durable mid-file: redb keeps
/// non-durable commits in memory, so a large file must not wait for the end
/// of the pass.
pub const SYNC_EVERY: usize = 20_000;
/// Errors kept in a report (all are counted in `error_count`).
pub const MAX_REPORTED_ERRORS: usize = 1_000;

/// What one pass over a source did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceReport {
    pub source: String,
    pub connector: String,
    pub files_seen: usize,
    pub files_unchanged: usize,
    pub files_removed: usize,
    /// Files left for a later pass because they were modified within the
    /// settle window (probably still being written).
    pub files_deferred: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
    /// Records refused because the person they are about was erased.
    pub erased: usize,
    /// Every problem found, counted.
    pub error_count: usize,
    /// The first [`MAX_REPORTED_ERRORS`] problems.
    pub errors: Vec<IngestError>,
    /// Set when the source could not be read at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// Progress notifications, for a progress bar or a job status.
pub enum Progress<'a> {
    SourceStarted { source: &'a str, files: usize },
    FileDone { source: &'a str, file: &'a str },
}

pub fn ingest_source(
    store: &Store,
    config: &SourceConfig,
    manifest: &Manifest,
    progress: &dyn Fn(Progress),
) -> Result<SourceReport, StoreError> {
    ingest_source_settled(store, config, manifest, progress, None)
}

/// As [`ingest_source`], but a file modified less than `settle` ago is left
/// alone (counted in `files_deferred`; its old records stay) so that a file
/// still being written is read once it is complete.
pub fn ingest_source_settled(
    store: &Store,
    config: &SourceConfig,
    manifest: &Manifest,
    progress: &dyn Fn(Progress),
    settle: Option<std::time::Duration>,
) -> Result<SourceReport, StoreError> {
    ingest_source_with(
        store,
        config,
        manifest,
        progress,
        settle,
        false,
        &Limits::default(),
    )
}

/// As [`ingest_source_settled`]; with `reread`, files are read again even
/// when their checkpoint says they have not changed (a reindex).
pub fn ingest_source_with(
    store: &Store,
    config: &SourceConfig,
    manifest: &Manifest,
    progress: &dyn Fn(Progress),
    settle: Option<std::time::Duration>,
    reread: bool,
    limits: &Limits,
) -> Result<SourceReport, StoreError> {
    let span = tracing::info_span!("ingest", source = %config.name, connector = %manifest.name);
    let _entered = span.enter();
    let mut report = SourceReport {
        source: config.name.clone(),
        connector: manifest.name.clone(),
        ..SourceReport::default()
    };
    if !config.path.exists() && !config.path.is_symlink() {
        report.failed = Some(format!("{} does not exist", config.path.display()));
        tracing::error!(path = %config.path.display(), "source folder does not exist");
        return Ok(report);
    }
    let (files, listing_errors) = connectors::list_files(&config.name, &config.path, manifest);
    for error in listing_errors {
        report.push_error(error);
    }
    report.files_seen = files.len();
    progress(Progress::SourceStarted {
        source: &config.name,
        files: files.len(),
    });

    for file in &files {
        if settle.is_some_and(|window| modified_within(&file.path, window)) {
            report.files_deferred += 1;
            continue;
        }
        let outcome = ingest_file(store, config, manifest, file, reread, limits, &mut report);
        progress(Progress::FileDone {
            source: &config.name,
            file: &file.relative,
        });
        outcome?;
    }

    // One fsync for every batch of the pass (see Store::sync).
    store.sync()?;
    let present: std::collections::HashSet<&str> =
        files.iter().map(|f| f.relative.as_str()).collect();
    for known in store.files_of_source(&config.name)? {
        if !present.contains(known.as_str()) {
            report.deleted += store.remove_file(&config.name, &known)?;
            report.files_removed += 1;
        }
    }
    for error in report.errors.iter().take(20) {
        tracing::warn!(%error, "ingest problem");
    }
    tracing::info!(
        files = report.files_seen,
        inserted = report.inserted,
        updated = report.updated,
        deleted = report.deleted,
        errors = report.error_count,
        "source ingested"
    );
    Ok(report)
}

fn modified_within(path: &std::path::Path, window: std::time::Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| std::time::SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age < window)
}

impl SourceReport {
    pub fn push_error(&mut self, error: IngestError) {
        self.error_count += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(error);
        }
    }
}

fn ingest_file(
    store: &Store,
    config: &SourceConfig,
    manifest: &Manifest,
    file: &connectors::SourceFile,
    reread: bool,
    limits: &Limits,
    report: &mut SourceReport,
) -> Result<(), StoreError> {
    let source = config.name.as_str();
    let region = config.region.as_deref();
    // Validated when the config was loaded.
    let timezone = config
        .timezone
        .as_deref()
        .and_then(|tz| crate::normalize::parse_offset(tz).ok());
    let _span = tracing::debug_span!("file", file = %file.relative).entered();
    let hash = match connectors::hash_file(source, file) {
        Ok(hash) => hash,
        Err(error) => {
            report.push_error(error);
            return Ok(());
        }
    };
    if !reread
        && store
            .checkpoint(source, &file.relative)?
            .is_some_and(|c| c.hash == hash)
    {
        report.files_unchanged += 1;
        return Ok(());
    }
    let finishing = super::ingest_pipeline::Finishing {
        region,
        timezone,
        limits,
    };
    let batching = super::ingest_pipeline::Batching {
        batch: BATCH,
        sync_every: SYNC_EVERY,
        hold_file: INGEST_HOLD_FILE,
    };
    let (outcome, update, failure) = super::ingest_pipeline::read_into_store(
        store,
        store.begin_file(source, &file.relative)?,
        finishing,
        batching,
        &mut |error| report.push_error(error),
        |sink| connectors::read_file(source, manifest, file, sink),
    );
    if let Some(e) = failure {
        return Err(e);
    }
    let stats = match outcome {
        Ok(()) => store.finish_file(update, &hash)?,
        Err(ReadError::Unreadable(error)) => {
            report.push_error(error);
            store.abort_file(update)?
        }
        Err(ReadError::Stopped) => store.abort_file(update)?,
    };
    report.inserted += stats.inserted;
    report.updated += stats.updated;
    report.unchanged += stats.unchanged;
    report.deleted += stats.deleted;
    report.erased += stats.erased;
    Ok(())
}

/// Set by tests to a file path: an ingest pass waits after each batch (up to
/// two minutes) while that file exists, so that a test can write meanwhile.
pub const INGEST_HOLD_FILE: &str = "RAPPORT_TEST_INGEST_HOLD_FILE";
