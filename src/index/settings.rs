//! How the index is written (`[index]` in rapport.toml): the indexing
//! threads tantivy runs and the memory they may hold before flushing a
//! segment. More threads analyse documents on more cores; the memory budget
//! is shared by all of them and bounds what indexing adds to the process.
//! One thread per core is the default: with several, which document lands
//! in which segment depends on the threads' timing, which changes no answer
//! (scores use statistics summed over segments, and equal keys are ordered
//! by the documents' sequence numbers, `search/ranked.rs`).
//!
//! It must never change what is indexed or how it scores: only how fast
//! and in how many segments (the golden-answer test in tests/search checks
//! that answers stay identical).

use serde::Deserialize;

/// tantivy refuses less than this per indexing thread.
const MIN_MB_PER_THREAD: usize = 15;
/// Threads used when `writer_threads` is 0 (as many as cores, up to this).
const MAX_AUTO_THREADS: usize = 8;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct IndexSettings {
    /// Memory the indexing threads share, in MiB (at least 15 per thread).
    pub writer_memory_mb: usize,
    /// Indexing threads; 0 (the default) means one per core (at most 8,
    /// and no more than the memory budget gives 15 MiB each).
    pub writer_threads: usize,
    /// The nice value (0–19) tantivy's writer threads run at, so that
    /// searches get the cores first while an index is written (Linux; 0
    /// leaves them at the process's priority).
    pub writer_nice: i32,
}

/// The writer threads' nice value unless configured.
const DEFAULT_WRITER_NICE: i32 = 10;

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            writer_memory_mb: 256,
            writer_threads: 0,
            writer_nice: DEFAULT_WRITER_NICE,
        }
    }
}

impl IndexSettings {
    /// One thread and tantivy's smallest budget: the single-threaded path,
    /// for tests that compare layouts.
    pub fn single_thread() -> Self {
        IndexSettings {
            writer_memory_mb: 64,
            writer_threads: 1,
            writer_nice: DEFAULT_WRITER_NICE,
        }
    }

    /// Threads to run: as configured, or one per core, never more than the
    /// budget can give 15 MiB each.
    pub fn threads(&self) -> usize {
        let wanted = match self.writer_threads {
            0 => std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(MAX_AUTO_THREADS),
            n => n,
        };
        wanted.clamp(1, (self.writer_memory_mb / MIN_MB_PER_THREAD).max(1))
    }

    /// The budget in bytes, raised to tantivy's minimum for the threads.
    pub fn memory_bytes(&self) -> usize {
        self.writer_memory_mb
            .max(MIN_MB_PER_THREAD * self.threads())
            * 1024
            * 1024
    }

    /// A setting that cannot work, in words.
    pub fn check(&self) -> Result<(), IndexSettingError> {
        if self.writer_memory_mb < MIN_MB_PER_THREAD {
            return Err(IndexSettingError::WriterMemoryTooSmall(
                self.writer_memory_mb,
            ));
        }
        if self.writer_memory_mb > 64 * 1024 {
            return Err(IndexSettingError::WriterMemoryTooLarge(
                self.writer_memory_mb,
            ));
        }
        if !(0..=19).contains(&self.writer_nice) {
            return Err(IndexSettingError::WriterNiceOutOfRange(self.writer_nice));
        }
        Ok(())
    }
}

/// An `[index]` setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexSettingError {
    #[error("index.writer_memory_mb must be at least {MIN_MB_PER_THREAD}, got {0}")]
    WriterMemoryTooSmall(usize),
    #[error("index.writer_memory_mb must be at most 65536, got {0}")]
    WriterMemoryTooLarge(usize),
    #[error("index.writer_nice must be between 0 and 19, got {0}")]
    WriterNiceOutOfRange(i32),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_never_get_less_than_tantivys_minimum() {
        let s = IndexSettings {
            writer_memory_mb: 40,
            writer_threads: 4,
            ..IndexSettings::default()
        };
        assert_eq!(s.threads(), 2);
        assert_eq!(s.memory_bytes(), 40 * 1024 * 1024);
        let one = IndexSettings {
            writer_memory_mb: 15,
            writer_threads: 0,
            ..IndexSettings::default()
        };
        assert_eq!(one.threads(), 1);
        assert!(IndexSettings::default().check().is_ok());
        assert!(
            IndexSettings {
                writer_memory_mb: 10,
                writer_threads: 1,
                ..IndexSettings::default()
            }
            .check()
            .is_err()
        );
        for nice in [-1, 20] {
            let setting = IndexSettings {
                writer_nice: nice,
                ..IndexSettings::default()
            };
            assert_eq!(
                setting.check(),
                Err(IndexSettingError::WriterNiceOutOfRange(nice))
            );
        }
    }
}
