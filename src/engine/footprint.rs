//! What a data directory takes on disk, part by part: the store file and
//! each of its tables, the index folder and each field of the live
//! generation (for `rapport bench ingest` and BENCHMARKS.md).
//!
//! It must never change anything: it reads sizes and statistics only.

use std::path::Path;

use serde::Serialize;

use super::{EngineError, Rapport};
use crate::index::footprint::IndexBytes;
use crate::store::TableBytes;

#[derive(Debug, Clone, Serialize)]
pub struct Footprint {
    /// The redb file as the filesystem counts it.
    pub store_file: u64,
    pub store_tables: Vec<TableBytes>,
    /// Every file under the index folder (all generations).
    pub index_folder: u64,
    pub index: IndexBytes,
}

impl Rapport {
    /// The store and the index, measured.
    pub fn footprint(&self) -> Result<Footprint, EngineError> {
        let index = self.index.snapshot().footprint().map_err(|source| {
            EngineError::Index(crate::index::IndexError::Io {
                path: self.config.index_dir().display().to_string(),
                source,
            })
        })?;
        Ok(Footprint {
            store_file: file_bytes(&self.config.store_path()),
            store_tables: self.store.table_bytes()?,
            index_folder: folder_bytes(&self.config.index_dir()),
            index,
        })
    }
}

fn file_bytes(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Bytes of every file under `folder` (0 for what cannot be read).
pub fn folder_bytes(folder: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => folder_bytes(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}
