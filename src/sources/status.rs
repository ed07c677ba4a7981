//! What the connectors did and are doing, for `GET /v1/connectors` and
//! `rapport connectors status`: per source its state (idle, running,
//! watching, failed), the report of its last run (persisted in the store's
//! metadata, so a later process can show it) and the outcome of its last
//! pull. A copy is written to `data_dir/connectors-status.json` after every
//! run so the CLI can show it while a server holds the store.
//!
//! It must never change records; it only keeps and shows reports.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ingest::SourceReport;
use crate::config::{PullConfig, SourceConfig};
use crate::store::{Store, StoreError};

/// Errors kept with a persisted run (the latest ones).
pub const KEPT_ERRORS: usize = 20;
pub const SNAPSHOT_FILE: &str = "connectors-status.json";

/// One finished pass over a source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// `ingest`, `serve`, `watch` or `pull`.
    pub trigger: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub took_ms: u64,
    pub report: SourceReport,
}

/// The outcome of the latest HTTP pull of a source.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PullState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt: Option<chrono::DateTime<chrono::Utc>>,
    /// `fetched`, `not_modified` or `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub fetches: u64,
    #[serde(default)]
    pub not_modified: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectorStatus {
    pub source: String,
    pub connector: String,
    pub path: String,
    pub watch: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull: Option<PullConfig>,
    /// `idle`, `running`, `watching` or `failed`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RunRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_pull: Option<PullState>,
}

fn run_key(source: &str) -> String {
    format!("connector_run:{source}")
}

fn pull_key(source: &str) -> String {
    format!("connector_pull:{source}")
}

/// Saves a run, keeping only the latest [`KEPT_ERRORS`] errors.
pub fn save_run(store: &Store, mut run: RunRecord) -> Result<(), StoreError> {
    let errors = &mut run.report.errors;
    if errors.len() > KEPT_ERRORS {
        errors.drain(..errors.len() - KEPT_ERRORS);
    }
    let json = serde_json::to_string(&run).map_err(|e| StoreError::Corrupt {
        key: run_key(&run.report.source),
        message: e.to_string(),
    })?;
    store.set_meta(&run_key(&run.report.source), &json)
}

pub fn last_run(store: &Store, source: &str) -> Result<Option<RunRecord>, StoreError> {
    read(store, &run_key(source))
}

pub fn save_pull(store: &Store, source: &str, state: &PullState) -> Result<(), StoreError> {
    let json = serde_json::to_string(state).map_err(|e| StoreError::Corrupt {
        key: pull_key(source),
        message: e.to_string(),
    })?;
    store.set_meta(&pull_key(source), &json)
}

pub fn last_pull(store: &Store, source: &str) -> Result<Option<PullState>, StoreError> {
    read(store, &pull_key(source))
}

fn read<T: for<'de> Deserialize<'de>>(store: &Store, key: &str) -> Result<Option<T>, StoreError> {
    match store.meta(key)? {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                key: key.to_string(),
                message: e.to_string(),
            }),
    }
}

/// The status of every configured source, from the store. `state` is what
/// the caller knows of the live state (`None`: not running here).
pub fn collect(
    store: &Store,
    sources: &[SourceConfig],
    live: impl Fn(&str) -> Option<String>,
) -> Result<Vec<ConnectorStatus>, StoreError> {
    let mut out = Vec::new();
    for source in sources {
        let last_run = last_run(store, &source.name)?;
        let failed = last_run.as_ref().is_some_and(|r| r.report.failed.is_some());
        let state = live(&source.name)
            .unwrap_or_else(|| if failed { "failed" } else { "idle" }.to_string());
        out.push(ConnectorStatus {
            source: source.name.clone(),
            connector: source.connector.clone(),
            path: source.path.display().to_string(),
            watch: source.watch,
            pull: source.pull.clone(),
            state,
            last_run,
            last_pull: last_pull(store, &source.name)?,
        });
    }
    Ok(out)
}

/// Writes the snapshot file beside the store (by rename, so readers never
/// see half a file). Failure is logged, not fatal.
pub fn write_snapshot(data_dir: &Path, status: &[ConnectorStatus]) {
    let tmp = data_dir.join(format!("{SNAPSHOT_FILE}.tmp"));
    let result = serde_json::to_vec_pretty(status)
        .map_err(std::io::Error::other)
        .and_then(|bytes| std::fs::write(&tmp, bytes))
        .and_then(|_| std::fs::rename(&tmp, data_dir.join(SNAPSHOT_FILE)));
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not write the connectors status snapshot");
    }
}

pub fn read_snapshot(data_dir: &Path) -> Option<Vec<ConnectorStatus>> {
    let bytes = std::fs::read(data_dir.join(SNAPSHOT_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}
