//! One ingest pass over a source: list its files, skip the ones whose content
//! has not changed since the last pass (checkpoint hash), read the others
//! through the connector, and hand each file's records to the store in one
//! transaction. Files gone from the folder have their records removed.
//!
//! It must never stop a source for one bad file or row, and never write to
//! the index: the index follows the store's change log.

use serde::Serialize;

use crate::config::SourceConfig;
use crate::connectors::{self, IngestError, Manifest};
use crate::store::{Store, StoreError};

/// What one pass over a source did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceReport {
    pub source: String,
    pub connector: String,
    pub files_seen: usize,
    pub files_unchanged: usize,
    pub files_removed: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
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
    report.errors.extend(listing_errors);
    report.files_seen = files.len();
    progress(Progress::SourceStarted {
        source: &config.name,
        files: files.len(),
    });

    for file in &files {
        let region = config.region.as_deref();
        let outcome = ingest_file(store, &config.name, region, manifest, file, &mut report);
        progress(Progress::FileDone {
            source: &config.name,
            file: &file.relative,
        });
        outcome?;
    }

    let present: std::collections::HashSet<&str> =
        files.iter().map(|f| f.relative.as_str()).collect();
    for known in store.files_of_source(&config.name)? {
        if !present.contains(known.as_str()) {
            report.deleted += store.remove_file(&config.name, &known)?;
            report.files_removed += 1;
        }
    }
    for error in &report.errors {
        tracing::warn!(%error, "ingest problem");
    }
    tracing::info!(
        files = report.files_seen,
        inserted = report.inserted,
        updated = report.updated,
        deleted = report.deleted,
        errors = report.errors.len(),
        "source ingested"
    );
    Ok(report)
}

fn ingest_file(
    store: &Store,
    source: &str,
    region: Option<&str>,
    manifest: &Manifest,
    file: &connectors::SourceFile,
    report: &mut SourceReport,
) -> Result<(), StoreError> {
    let hash = match connectors::hash_file(source, file) {
        Ok(hash) => hash,
        Err(error) => {
            report.errors.push(error);
            return Ok(());
        }
    };
    if store
        .checkpoint(source, &file.relative)?
        .is_some_and(|c| c.hash == hash)
    {
        report.files_unchanged += 1;
        return Ok(());
    }
    let read = match connectors::read_file(source, manifest, file) {
        Ok(read) => read,
        Err(error) => {
            report.errors.push(error);
            return Ok(());
        }
    };
    report.errors.extend(read.errors);
    let mut records = read.records;
    for record in &mut records {
        crate::normalize::finish_record(record, region);
    }
    let stats = store.apply_file(source, &file.relative, &hash, &records)?;
    report.inserted += stats.inserted;
    report.updated += stats.updated;
    report.unchanged += stats.unchanged;
    report.deleted += stats.deleted;
    Ok(())
}
