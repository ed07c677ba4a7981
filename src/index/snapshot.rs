//! A copy of the live index generation for snapshots: the files of the
//! segments one committed `meta.json` lists, that `meta.json` itself, and the
//! schema fingerprint, laid out as a data directory's `index/` (a `CURRENT`
//! file naming the generation).
//!
//! Segment files are immutable and uniquely named, so a copy is consistent
//! when every file the meta lists was still there to be copied; a background
//! merge can delete some midway, and then the copy starts again from the
//! newer meta. Segment files are hard-linked when the snapshot is on the
//! same filesystem (instant, no extra space, and immune to the live index
//! deleting them later: tantivy never rewrites a segment file), and copied
//! otherwise. It must never write into the live index directory.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{CURRENT, FINGERPRINT, IndexError, SearchIndex, io_error};

const ATTEMPTS: usize = 5;

/// What an index snapshot holds.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IndexSnapshot {
    pub generation: String,
    /// The store sequence number of the last change the copied commit holds.
    pub seq: u64,
    pub documents: u64,
    pub files: usize,
}

impl SearchIndex {
    /// Copies the current commit into `target` (created; it must not hold an
    /// index yet) as `target/CURRENT` + `target/<generation>/`.
    pub fn snapshot_to(&self, target: &Path) -> Result<IndexSnapshot, IndexError> {
        let _span = tracing::info_span!("index_snapshot", target = %target.display()).entered();
        let source = self.root.join(&self.generation);
        let dest = target.join(&self.generation);
        let mut last_missing = None;
        for attempt in 0..ATTEMPTS {
            // Held while copying: the reader's segments stay open meanwhile.
            let _searcher = self.reader().searcher();
            let meta = self.tantivy().load_metas()?;
            if dest.exists() {
                std::fs::remove_dir_all(&dest).map_err(io_error(&dest))?;
            }
            std::fs::create_dir_all(&dest).map_err(io_error(&dest))?;
            match copy_segments(&source, &dest, &meta) {
                Ok(files) => {
                    let meta_path = dest.join("meta.json");
                    let text = serde_json::to_string_pretty(&meta).map_err(|e| IndexError::Io {
                        path: meta_path.display().to_string(),
                        source: std::io::Error::other(e),
                    })?;
                    std::fs::write(&meta_path, text).map_err(io_error(&meta_path))?;
                    let fingerprint = source.join(FINGERPRINT);
                    std::fs::copy(&fingerprint, dest.join(FINGERPRINT))
                        .map_err(io_error(&fingerprint))?;
                    let current = target.join(CURRENT);
                    std::fs::write(&current, &self.generation).map_err(io_error(&current))?;
                    return Ok(IndexSnapshot {
                        generation: self.generation.clone(),
                        seq: seq_of(&meta),
                        documents: meta.segments.iter().map(|s| u64::from(s.num_docs())).sum(),
                        files: files + 2,
                    });
                }
                Err(missing) if missing.kind() == std::io::ErrorKind::NotFound => {
                    tracing::info!(
                        attempt,
                        "a segment file went away during the copy (merge): copying again"
                    );
                    last_missing = Some(missing);
                }
                Err(other) => return Err(io_error(&source)(other)),
            }
        }
        Err(IndexError::Io {
            path: source.display().to_string(),
            source: last_missing.unwrap_or_else(|| std::io::Error::other("index kept changing")),
        })
    }
}

/// The store sequence number in a commit's payload (0 without one).
pub fn seq_of(meta: &tantivy::IndexMeta) -> u64 {
    meta.payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
        .and_then(|v| v.get("seq").and_then(|s| s.as_u64()))
        .unwrap_or(0)
}

/// Copies every file of the segments `meta` lists: `<uuid>.<ext>`, and of
/// the delete files only the one the meta names. Returns how many.
/// A hard link to an immutable segment file, or a copy where links cannot
/// be made (another filesystem).
fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to).map(|_| ())
}

fn copy_segments(source: &Path, dest: &Path, meta: &tantivy::IndexMeta) -> std::io::Result<usize> {
    let mut wanted: Vec<(String, Option<String>)> = meta
        .segments
        .iter()
        .map(|s| {
            let delete = s
                .delete_opstamp()
                .map(|op| format!("{}.{op}.del", s.id().uuid_string()));
            (s.id().uuid_string(), delete)
        })
        .collect();
    wanted.sort();
    let mut copied = 0;
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(source)? {
        files.push(entry?.path());
    }
    for (uuid, delete) in &wanted {
        let mut found = false;
        let mut found_delete = false;
        for path in &files {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some(ext) = name
                .strip_prefix(uuid.as_str())
                .and_then(|r| r.strip_prefix('.'))
            else {
                continue;
            };
            if ext.ends_with(".temp") || (ext.ends_with(".del") && Some(name) != delete.as_deref())
            {
                continue;
            }
            link_or_copy(path, &dest.join(name))?;
            copied += 1;
            found = true;
            found_delete |= Some(name) == delete.as_deref();
        }
        if !found || (delete.is_some() && !found_delete) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no files for segment {uuid}"),
            ));
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Record, RecordKind};

    fn notes(batch: usize, n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| {
                let mut r = Record::new("crm", &format!("{batch}-{i}"), RecordKind::Note);
                r.body = Some(format!("note {i} of batch {batch}"));
                r
            })
            .collect()
    }

    #[test]
    fn snapshots_taken_while_commits_and_merges_run_open_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (store, index) = SearchIndex::open_with_store_for_tests(dir.path());
        store.apply_file("crm", "f0", "h", &notes(0, 50)).unwrap();
        index.catch_up(&store).unwrap();
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                // One small commit after another: segments pile up and
                // tantivy merges them in the background.
                for batch in 1..=12 {
                    store
                        .apply_file("crm", &format!("f{batch}"), "h", &notes(batch, 20))
                        .unwrap();
                    index.catch_up(&store).unwrap();
                }
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            let mut taken = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) || taken < 3 {
                let target = dir.path().join(format!("snap-{taken}"));
                let copy = index.snapshot_to(&target).unwrap();
                let opened = tantivy::Index::open_in_dir(target.join(&copy.generation)).unwrap();
                let searcher = opened.reader().unwrap().searcher();
                assert_eq!(searcher.num_docs(), copy.documents, "snapshot {taken}");
                assert!(copy.seq <= store.last_seq().unwrap());
                assert_eq!(
                    std::fs::read_to_string(target.join(CURRENT)).unwrap(),
                    copy.generation
                );
                taken += 1;
            }
        });
    }
}
