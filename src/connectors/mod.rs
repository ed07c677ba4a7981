//! Connectors read source formats (CSV exports, notes folders) and turn each
//! row or file into a normalised [`Record`] with its provenance. Problems in
//! the input become [`IngestError`]s that name the file and line; the rest of
//! the input is still read.
//!
//! Connectors must never write to the store or the index: they only read
//! files and return records.

pub mod csv;
pub mod manifest;
pub mod mapping;
pub mod notes;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use manifest::{Format, Manifest};

use crate::record::Record;

/// A problem with one file, row or value of a source. Never fatal for the
/// rest of the source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestError {
    pub source: String,
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub reason: String,
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.reason),
            None => write!(f, "{}: {}", self.file, self.reason),
        }
    }
}

/// A file inside a source's folder.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the source's folder, with `/` separators: the file's
    /// name in checkpoints, errors and provenance.
    pub relative: String,
    pub path: PathBuf,
}

/// What reading one file produced.
#[derive(Debug, Default)]
pub struct FileRead {
    pub records: Vec<Record>,
    pub errors: Vec<IngestError>,
}

/// Lists the files of a source that its manifest reads, sorted by path.
/// Unreadable folders are reported and skipped.
pub fn list_files(
    source: &str,
    root: &Path,
    manifest: &Manifest,
) -> (Vec<SourceFile>, Vec<IngestError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    if root.is_file() || (root.is_symlink() && !root.exists()) {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push(SourceFile {
            relative: name,
            path: root.to_path_buf(),
        });
        return (files, errors);
    }
    walk(source, root, root, manifest, &mut files, &mut errors);
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    (files, errors)
}

fn walk(
    source: &str,
    root: &Path,
    dir: &Path,
    manifest: &Manifest,
    files: &mut Vec<SourceFile>,
    errors: &mut Vec<IngestError>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(IngestError {
                source: source.to_string(),
                file: dir.display().to_string(),
                line: None,
                reason: format!("cannot read folder: {e}"),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(source, root, &path, manifest, files, errors);
        } else if manifest.accepts(&path) {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push(SourceFile { relative, path });
        }
    }
}

/// Reads one file with the manifest's format. `Err` means the file could not
/// be read at all; row-level problems are in [`FileRead::errors`].
pub fn read_file(
    source: &str,
    manifest: &Manifest,
    file: &SourceFile,
) -> Result<FileRead, IngestError> {
    match manifest.format {
        Format::Csv => csv::read(source, manifest, file),
        Format::Notes => notes::read(source, manifest, file),
    }
}

/// Hashes a file's bytes (blake3), streaming.
pub fn hash_file(source: &str, file: &SourceFile) -> Result<String, IngestError> {
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_reader(std::fs::File::open(&file.path).map_err(|e| unreadable(source, file, e))?)
        .map_err(|e| unreadable(source, file, e))?;
    Ok(hasher.finalize().to_hex().to_string())
}

pub(crate) fn unreadable(source: &str, file: &SourceFile, e: std::io::Error) -> IngestError {
    IngestError {
        source: source.to_string(),
        file: file.relative.clone(),
        line: None,
        reason: format!("cannot read file: {e}"),
    }
}
