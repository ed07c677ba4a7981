//! Snapshots and restore. A snapshot is a folder laid out like a data
//! directory — `store.redb` (a point-in-time copy of every store table),
//! `index/CURRENT` + `index/gen-*` (a committed index generation) — plus
//! `manifest.json` (created, Rapport version, store and index sequence
//! numbers, record count, every file's size and blake3 hash). The index is
//! copied BEFORE the store, so the index never holds a change the store copy
//! lacks; opening a restored data directory replays the gap.
//!
//! It must never write outside the folder it was given (HTTP callers only
//! name a snapshot inside the configured `snapshot_dir`), never leave a
//! half-written snapshot or data directory under the final name (both are
//! written beside and renamed), and never restore over a data directory a
//! server holds.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::index::{IndexError, SearchIndex};
use crate::store::{Store, StoreError};

pub const MANIFEST: &str = "manifest.json";
const FORMAT: u32 = 1;
const STORE_FILE: &str = "store.redb";
const INDEX_DIR: &str = "index";

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(
        "snapshot name `{0}` is not allowed: use letters, digits, `-`, `_` and `.`, not starting with `.` (no `/` or `..`)"
    )]
    BadName(String),
    #[error("{0} already exists: choose another snapshot name or folder")]
    Exists(String),
    #[error(
        "{0} is not empty: pass --force to replace it (its current contents are removed once the restore is in place)"
    )]
    NotEmpty(String),
    #[error(
        "the data directory {0} is in use by a running Rapport server: stop it before restoring"
    )]
    InUse(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a usable snapshot: {message}")]
    Invalid { path: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative to the snapshot folder, with `/`.
    pub path: String,
    pub bytes: u64,
    pub blake3: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created: DateTime<Utc>,
    pub rapport_version: String,
    /// The store's change sequence number in the copy.
    pub store_seq: u64,
    /// The store sequence number the copied index holds (≤ `store_seq`).
    pub index_seq: u64,
    pub records: u64,
    pub index_documents: u64,
    pub index_generation: String,
    pub files: Vec<FileEntry>,
}

/// A snapshot name for HTTP callers: one plain folder name.
pub fn check_name(name: &str) -> Result<(), SnapshotError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(SnapshotError::BadName(name.to_string()))
    }
}

/// `snapshot-20261123T144500Z`.
pub fn default_name() -> String {
    format!("snapshot-{}", Utc::now().format("%Y%m%dT%H%M%S%.3fZ"))
}

/// A hidden sibling of `path` to write into before renaming.
fn beside(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rapport".into());
    path.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

/// Writes a snapshot of `store` and `index` into `target`, which must not
/// exist (an empty folder is accepted). Serving goes on meanwhile.
pub fn write(store: &Store, index: &SearchIndex, target: &Path) -> Result<Manifest, SnapshotError> {
    let _span = tracing::info_span!("snapshot", target = %target.display()).entered();
    // One snapshot at a time in this process: two requests for one name
    // must not share the folder written beside it.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let started = std::time::Instant::now();
    if target.exists() && !is_empty_dir(target)? {
        return Err(SnapshotError::Exists(target.display().to_string()));
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let partial = beside(target, "partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(io(&partial))?;
    }
    std::fs::create_dir_all(&partial).map_err(io(&partial))?;
    let result = (|| {
        // Index first: its sequence number can then only be ≤ the store's.
        let index_copy = index.snapshot_to(&partial.join(INDEX_DIR))?;
        let store_copy = store.snapshot_to(&partial.join(STORE_FILE))?;
        let manifest = Manifest {
            format: FORMAT,
            created: Utc::now(),
            rapport_version: env!("CARGO_PKG_VERSION").to_string(),
            store_seq: store_copy.seq,
            index_seq: index_copy.seq,
            records: store_copy.records,
            index_documents: index_copy.documents,
            index_generation: index_copy.generation,
            files: list_files(&partial)?,
        };
        let path = partial.join(MANIFEST);
        let text = serde_json::to_string_pretty(&manifest).map_err(|e| SnapshotError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        std::fs::write(&path, text).map_err(io(&path))?;
        Ok(manifest)
    })();
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    if target.exists() {
        std::fs::remove_dir(target).map_err(io(target))?;
    }
    std::fs::rename(&partial, target).map_err(io(target))?;
    tracing::info!(
        records = manifest.records,
        store_seq = manifest.store_seq,
        index_seq = manifest.index_seq,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "snapshot written"
    );
    Ok(manifest)
}

fn is_empty_dir(path: &Path) -> Result<bool, SnapshotError> {
    if !path.is_dir() {
        return Ok(false);
    }
    Ok(std::fs::read_dir(path).map_err(io(path))?.next().is_none())
}

/// Every file under `root` (sorted), with size and hash.
fn list_files(root: &Path) -> Result<Vec<FileEntry>, SnapshotError> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let path = entry.map_err(io(&dir))?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = crate::paths::slash_relative(root, &path);
            if relative == MANIFEST {
                continue;
            }
            let (bytes, hash) = hash_file(&path)?;
            out.push(FileEntry {
                path: relative,
                bytes,
                blake3: hash,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn hash_file(path: &Path) -> Result<(u64, String), SnapshotError> {
    let mut hasher = blake3::Hasher::new();
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let bytes = std::io::copy(&mut file, &mut hasher).map_err(io(path))?;
    Ok((bytes, hasher.finalize().to_hex().to_string()))
}

/// Reads a snapshot's manifest and checks the store file against it. Index
/// files that fail their check are reported, not fatal: the index can be
/// rebuilt from the store. Returns the manifest and whether the index is
/// usable.
pub fn verify(snapshot: &Path) -> Result<(Manifest, bool), SnapshotError> {
    let invalid = |message: String| SnapshotError::Invalid {
        path: snapshot.display().to_string(),
        message,
    };
    let path = snapshot.join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| invalid(format!("cannot read {MANIFEST}: {e}")))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| invalid(format!("{MANIFEST} is not valid: {e}")))?;
    if manifest.format != FORMAT {
        return Err(invalid(format!(
            "snapshot format {} is not supported (this Rapport reads format {FORMAT})",
            manifest.format
        )));
    }
    if !manifest.files.iter().any(|f| f.path == STORE_FILE) {
        return Err(invalid(format!("the manifest lists no {STORE_FILE}")));
    }
    let mut index_ok = manifest.index_seq <= manifest.store_seq;
    for file in &manifest.files {
        let on_disk = snapshot.join(&file.path);
        let problem = match hash_file(&on_disk) {
            Ok((bytes, hash)) if bytes == file.bytes && hash == file.blake3 => None,
            Ok((bytes, _)) => Some(format!(
                "{} does not match the manifest ({bytes} bytes, expected {})",
                file.path, file.bytes
            )),
            Err(e) => Some(e.to_string()),
        };
        if let Some(problem) = problem {
            if file.path.starts_with("index/") {
                tracing::warn!(%problem, "the snapshot's index is unusable: it will be rebuilt from the store");
                index_ok = false;
            } else {
                return Err(invalid(problem));
            }
        }
    }
    Ok((manifest, index_ok))
}

/// What a restore did.
#[derive(Debug, Serialize)]
pub struct RestoreReport {
    pub data_dir: String,
    pub records: u64,
    pub store_seq: u64,
    /// False when the index will be rebuilt from the store on the next open.
    pub index_restored: bool,
    pub replaced_existing: bool,
}

/// Brings `data_dir` back to `snapshot`: checks the snapshot, copies it
/// beside `data_dir`, checks the copied store, then swaps it in by rename.
/// Refuses when a server holds `data_dir`, or when it is not empty and
/// `force` is false. The old directory's dictionary cache is kept.
pub fn restore(
    snapshot: &Path,
    data_dir: &Path,
    force: bool,
) -> Result<RestoreReport, SnapshotError> {
    let _span = tracing::info_span!("restore", snapshot = %snapshot.display()).entered();
    let (manifest, index_ok) = verify(snapshot)?;
    let live_store = data_dir.join(STORE_FILE);
    if live_store.exists() {
        match Store::open(&live_store) {
            Err(StoreError::Locked { .. }) => {
                return Err(SnapshotError::InUse(data_dir.display().to_string()));
            }
            Err(e) => tracing::warn!(error = %e, "the current store does not open; replacing it"),
            Ok(store) => drop(store),
        }
    }
    let existing = data_dir.exists() && !is_empty_dir(data_dir)?;
    if existing && !force {
        return Err(SnapshotError::NotEmpty(data_dir.display().to_string()));
    }
    let staging = beside(data_dir, "restoring");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    let result = (|| {
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        let store_path = staging.join(STORE_FILE);
        std::fs::copy(snapshot.join(STORE_FILE), &store_path).map_err(io(&store_path))?;
        if index_ok {
            copy_dir(&snapshot.join(INDEX_DIR), &staging.join(INDEX_DIR))?;
        }
        let store = Store::open(&store_path)?;
        // Sign-outs since the snapshot are not in it: a restore ends every
        // web session.
        store.remove_sessions(&|_| false)?;
        let (records, seq) = (store.record_count()?, store.last_seq()?);
        if (records, seq) != (manifest.records, manifest.store_seq) {
            return Err(SnapshotError::Invalid {
                path: snapshot.display().to_string(),
                message: format!(
                    "the store holds {records} records at sequence {seq}; the manifest says {} at {}",
                    manifest.records, manifest.store_seq
                ),
            });
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    if existing {
        // The erasure ledger is not in any snapshot: the restored data
        // directory keeps the current one, and opening it re-applies the
        // erasures the snapshot predates.
        let ledger = data_dir.join(crate::store::LEDGER_FILE);
        if ledger.is_file() {
            let kept = staging.join(crate::store::LEDGER_FILE);
            std::fs::copy(&ledger, &kept).map_err(io(&kept))?;
        }
        let cache = data_dir.join("dictionaries");
        if cache.is_dir() {
            let _ = std::fs::rename(&cache, staging.join("dictionaries"));
        }
        let old = beside(data_dir, "replaced");
        std::fs::rename(data_dir, &old).map_err(io(data_dir))?;
        std::fs::rename(&staging, data_dir).map_err(io(data_dir))?;
        if let Err(e) = std::fs::remove_dir_all(&old) {
            tracing::warn!(path = %old.display(), error = %e, "could not remove the replaced data directory");
        }
    } else {
        if data_dir.exists() {
            std::fs::remove_dir(data_dir).map_err(io(data_dir))?;
        }
        std::fs::rename(&staging, data_dir).map_err(io(data_dir))?;
    }
    tracing::info!(records = manifest.records, index_ok, "restored");
    Ok(RestoreReport {
        data_dir: data_dir.display().to_string(),
        records: manifest.records,
        store_seq: manifest.store_seq,
        index_restored: index_ok,
        replaced_existing: existing,
    })
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) -> Result<(), SnapshotError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(io(from))?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(io(&target))?;
        }
    }
    Ok(())
}

/// Moves a folder: a rename, or a copy and removal across file systems.
pub fn move_dir(from: &Path, to: &Path) -> Result<(), SnapshotError> {
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    copy_dir(from, to)?;
    std::fs::remove_dir_all(from).map_err(io(from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_the_snapshot_folder_are_refused() {
        for bad in [
            "", "..", "../x", "a/b", "a\\b", ".hidden", "a..b", "x y", "/abs",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} must be refused");
        }
        for good in ["nightly", "snap-2026-11-23", "v1.2_backup"] {
            assert!(check_name(good).is_ok(), "{good:?} must be accepted");
        }
        assert!(check_name(&default_name()).is_ok());
    }
}
