//! Connectors read source formats (CSV and JSON exports, mbox and .eml mail,
//! vCards, notes folders) and turn each row, object, message or card into a
//! normalised [`Record`] with its provenance. Records are handed one at a
//! time to a [`RecordSink`], so a 2 GB file never sits in memory. Problems in
//! the input become [`IngestError`]s that name the file and line (or byte
//! offset); the rest of the input is still read.
//!
//! Connectors must never write to the store or the index: they only read
//! files and pass records on.

mod attachments;
pub mod consent;
pub mod csv;
pub mod ids;
pub mod json;
pub mod mail;
pub mod manifest;
pub mod mapping;
pub mod notes;
pub mod text_encoding;
pub mod vcard;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use manifest::{Format, Manifest};

use crate::record::Record;

/// A problem with one file, row or value of a source. Never fatal for the
/// rest of the source. `line` is 1-based; `offset` is the byte offset in the
/// file (for formats without useful lines, such as mbox messages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestError {
    pub source: String,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    pub reason: String,
}

impl IngestError {
    pub fn new(source: &str, file: &str, line: Option<u64>, reason: impl Into<String>) -> Self {
        IngestError {
            source: source.to_string(),
            file: file.to_string(),
            line,
            offset: None,
            reason: reason.into(),
        }
    }

    pub fn at_offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(offset) = self.offset {
            write!(f, " (byte {offset})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Where a reader puts what it finds. `record` may refuse with [`Stop`] (the
/// store behind it failed); the reader then returns at once.
pub trait RecordSink {
    fn record(&mut self, record: Record) -> Result<(), Stop>;
    fn error(&mut self, error: IngestError);
}

/// The sink refused a record; the reason is kept by the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// Why reading a file ended early.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be read (what was read before still counts).
    Unreadable(IngestError),
    /// The sink said stop.
    Stopped,
}

impl From<Stop> for ReadError {
    fn from(_: Stop) -> Self {
        ReadError::Stopped
    }
}

impl From<IngestError> for ReadError {
    fn from(e: IngestError) -> Self {
        ReadError::Unreadable(e)
    }
}

/// A sink that keeps everything in memory: for `connectors check`, previews
/// and tests, never for ingest.
#[derive(Debug, Default)]
pub struct Collect {
    pub records: Vec<Record>,
    pub errors: Vec<IngestError>,
    /// Stop after this many records (0: no limit).
    pub limit: usize,
}

impl RecordSink for Collect {
    fn record(&mut self, record: Record) -> Result<(), Stop> {
        self.records.push(record);
        if self.limit > 0 && self.records.len() >= self.limit {
            return Err(Stop);
        }
        Ok(())
    }

    fn error(&mut self, error: IngestError) {
        self.errors.push(error);
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
            errors.push(IngestError::new(
                source,
                &dir.display().to_string(),
                None,
                format!("cannot read folder: {e}"),
            ));
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
            let relative = crate::paths::slash_relative(root, &path);
            files.push(SourceFile { relative, path });
        }
    }
}

/// Reads one file with the manifest's format, passing each record and each
/// problem to `sink`. A file that looks binary (NUL bytes near its start,
/// where no text format has them) is refused with an error.
pub fn read_file(
    source: &str,
    manifest: &Manifest,
    file: &SourceFile,
    sink: &mut dyn RecordSink,
) -> Result<(), ReadError> {
    let Some(mapping) = manifest.mapping_for(&file.path) else {
        return Err(ReadError::Unreadable(IngestError::new(
            source,
            &file.relative,
            None,
            format!(
                "connector {} has no mapping for this file name",
                manifest.name
            ),
        )));
    };
    if let Some(at) =
        binary_at(&file.path, manifest.format).map_err(|e| unreadable(source, file, e))?
    {
        return Err(ReadError::Unreadable(
            IngestError::new(
                source,
                &file.relative,
                None,
                format!(
                    "binary file (NUL byte at offset {at}); not {}, skipped",
                    manifest.name
                ),
            )
            .at_offset(at),
        ));
    }
    let cx = ReadContext {
        source,
        manifest,
        mapping,
        file,
    };
    match manifest.format {
        Format::Csv => csv::read(&cx, sink),
        Format::Json => json::read(&cx, sink),
        Format::Notes => notes::read(&cx, sink),
        Format::Mbox => mail::read_mbox(&cx, sink),
        Format::Eml => mail::read_eml(&cx, sink),
        Format::Vcard => vcard::read(&cx, sink),
    }
}

/// What every reader needs to know about the file it reads.
pub struct ReadContext<'a> {
    pub source: &'a str,
    pub manifest: &'a Manifest,
    pub mapping: &'a manifest::Mapping,
    pub file: &'a SourceFile,
}

impl ReadContext<'_> {
    pub fn error(&self, line: Option<u64>, reason: impl Into<String>) -> IngestError {
        IngestError::new(self.source, &self.file.relative, line, reason)
    }

    pub fn unreadable(&self, e: std::io::Error) -> ReadError {
        ReadError::Unreadable(unreadable(self.source, self.file, e))
    }
}

/// The offset of a NUL byte in the first 8 KiB, if any. UTF-16 text (which
/// is full of NULs) starts with a byte-order mark and is not counted, nor
/// is a vCard file that starts with `BEGIN:VCARD`: its reader skips the
/// damaged lines, each with its position, and keeps the cards around them.
fn binary_at(path: &Path, format: Format) -> std::io::Result<Option<u64>> {
    use std::io::Read;
    let mut head = [0u8; 8192];
    let mut handle = std::fs::File::open(path)?;
    let mut filled = 0;
    while filled < head.len() {
        match handle.read(&mut head[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    let head = &head[..filled];
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Ok(None);
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.trim_ascii_start();
    let signature: &[u8] = match format {
        Format::Vcard => b"BEGIN:VCARD",
        _ => b"",
    };
    if !signature.is_empty()
        && start.len() >= signature.len()
        && start[..signature.len()].eq_ignore_ascii_case(signature)
    {
        return Ok(None);
    }
    Ok(head.iter().position(|b| *b == 0).map(|i| i as u64))
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
    IngestError::new(
        source,
        &file.relative,
        None,
        format!("cannot read file: {e}"),
    )
}
