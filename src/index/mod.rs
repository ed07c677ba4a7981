//! The search index: derived data, rebuilt from the store at will. It owns the
//! tantivy index (one generation directory at a time, named by `CURRENT`),
//! the analysers, catching up with the store's change log, and queries.
//!
//! It must never be the only copy of anything: every write reaches it from
//! the store's change log, and the sequence number of the last change it
//! holds is saved in each tantivy commit, so after a crash it resumes there.

pub mod analyzers;
pub mod cached_stemmer;
mod catch_up;
mod change_feed;
pub mod document;
mod document_batch;
pub mod extra_tokenizers;
pub mod footprint;
pub mod japanese_dictionary;
pub mod keys;
pub mod live;
mod recent_analyses;
pub mod search;
pub mod settings;
pub mod snapshot;
pub mod text_tokenizer;
mod writer_priority;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tantivy::schema::Field;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};

pub use analyzers::{Analyzers, JapaneseMode};
pub use change_feed::{ChangeFeed, ChangeFeedError};
pub use live::LiveIndex;
pub use settings::IndexSettings;

use crate::schema::SchemaSpec;

const CURRENT: &str = "CURRENT";
const FINGERPRINT: &str = "schema.fingerprint";

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index folder {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the search index in {path} is locked by another Rapport process (is `rapport serve` running on this data directory?)"
    )]
    Locked { path: String },
    #[error(transparent)]
    Feed(#[from] ChangeFeedError),
    #[error(
        "the search index in {0} has no current generation; run `rapport ingest` or `rapport serve` first"
    )]
    Missing(String),
    #[error("the index build was stopped before it finished")]
    Stopped,
    #[error("no thread could be started for the index writer: {0}")]
    Thread(std::io::Error),
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// How the index was found when opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenState {
    /// No index yet: a new one was created.
    Created,
    /// The index matches the schema file.
    Current,
    /// The schema file changed since the index was built: a new index was
    /// created and must be filled from the store (see [`SearchIndex::catch_up`]).
    SchemaChanged { previous: String },
    /// The live generation could not be opened (a crash damaged it): a new
    /// index was created and must be filled from the store.
    Damaged { reason: String },
}

/// The index's writer; a held lock is [`IndexError::Locked`].
fn writer_for(
    index: &Index,
    dir: &Path,
    settings: IndexSettings,
) -> Result<IndexWriter, IndexError> {
    // The writer's threads start at its priority (`writer_priority`).
    writer_priority::at_writer_priority(settings.writer_nice, || {
        match index.writer_with_num_threads(settings.threads(), settings.memory_bytes()) {
            Ok(w) => Ok(w),
            Err(tantivy::TantivyError::LockFailure(..)) => Err(IndexError::Locked {
                path: dir.display().to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    })
}

/// Opens an existing generation with its writer, then removes what an
/// interrupted commit left: files the committed meta does not list (delete
/// files of a commit that never finished would make the next commit of the
/// same deletes fail with `FileAlreadyExists`; half-written segments).
fn open_with_writer(
    dir: &Path,
    settings: IndexSettings,
) -> Result<(Index, IndexWriter), IndexError> {
    let index = Index::open_in_dir(dir)?;
    let writer = writer_for(&index, dir, settings)?;
    let collected = writer.garbage_collect_files().wait()?;
    if !collected.deleted_files.is_empty() {
        tracing::warn!(
            generation = %dir.display(),
            files = ?collected.deleted_files,
            "removed files an interrupted index commit left behind"
        );
    }
    Ok((index, writer))
}

pub struct SearchIndex {
    spec: SchemaSpec,
    index: Index,
    fields: Vec<Field>,
    reader: IndexReader,
    writer: Option<Mutex<IndexWriter>>,
    analyzers: Analyzers,
    root: PathBuf,
    generation: String,
    synonyms: search::synonyms::Synonyms,
    /// Every search cache and the search pool (`search::caches`).
    caches: std::sync::Arc<search::caches::SearchCaches>,
    /// The nice value the writer's threads are kept at (`writer_priority`).
    writer_nice: i32,
}

impl SearchIndex {
    /// Opens the current generation for writing, or creates one when there is
    /// none or when the schema file changed (the old generation is removed
    /// once the new one is in place: see [`SearchIndex::catch_up`]).
    pub fn open(
        root: &Path,
        spec: SchemaSpec,
        analyzers: Analyzers,
        settings: IndexSettings,
    ) -> Result<(SearchIndex, OpenState), IndexError> {
        std::fs::create_dir_all(root).map_err(io_error(root))?;
        let current = read_current(root)?;
        let (generation, state) = match current {
            Some(generation) => {
                let previous = std::fs::read_to_string(root.join(&generation).join(FINGERPRINT))
                    .unwrap_or_default();
                if previous.trim() == spec.fingerprint() {
                    (generation, OpenState::Current)
                } else {
                    (new_generation(), OpenState::SchemaChanged { previous })
                }
            }
            None => (new_generation(), OpenState::Created),
        };
        let (mut generation, mut state) = (generation, state);
        let mut current = None;
        if state == OpenState::Current {
            let dir = root.join(&generation);
            match open_with_writer(&dir, settings) {
                Ok(opened) => current = Some(opened),
                Err(e @ IndexError::Locked { .. }) => return Err(e),
                Err(e) => {
                    // Whatever the crash left cannot be opened: the store
                    // has everything, so a new generation is filled from it.
                    tracing::warn!(
                        generation = %generation,
                        error = %e,
                        "the index cannot be opened: rebuilding it from the store"
                    );
                    state = OpenState::Damaged {
                        reason: e.to_string(),
                    };
                    generation = new_generation();
                }
            }
        }
        let (index, writer) = match current {
            Some(opened) => opened,
            None => {
                let dir = root.join(&generation);
                std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
                let (schema, _) = spec.to_tantivy();
                let index = Index::create_in_dir(&dir, schema)?;
                std::fs::write(dir.join(FINGERPRINT), spec.fingerprint())
                    .map_err(io_error(&dir))?;
                let writer = writer_for(&index, &dir, settings)?;
                (index, writer)
            }
        };
        let mut opened = Self::assemble(root, generation, index, spec, analyzers)?;
        opened.set_writer(writer, settings);
        if state == OpenState::Created {
            opened.publish()?;
        }
        Ok((opened, state))
    }

    /// A store (`s.redb`) and an index (`index/`) in `dir`, on the built-in
    /// schema without the Japanese dictionary: the pair unit tests build on.
    #[cfg(test)]
    pub(crate) fn open_with_store_for_tests(dir: &Path) -> (crate::store::Store, SearchIndex) {
        let store = crate::store::Store::open(&dir.join("s.redb")).expect("a test store");
        let (index, _) = SearchIndex::open(
            &dir.join("index"),
            SchemaSpec::builtin().expect("the built-in schema"),
            Analyzers::without_dictionary(),
            IndexSettings::single_thread(),
        )
        .expect("a test index");
        (store, index)
    }

    /// Opens the current generation for reading only (no writer lock), as
    /// `rapport search` does while a server may be running.
    pub fn open_read_only(
        root: &Path,
        spec: SchemaSpec,
        analyzers: Analyzers,
    ) -> Result<SearchIndex, IndexError> {
        let generation =
            read_current(root)?.ok_or_else(|| IndexError::Missing(root.display().to_string()))?;
        let index = Index::open_in_dir(root.join(&generation))?;
        Self::assemble(root, generation, index, spec, analyzers)
    }

    /// Creates a new, empty generation beside the live one, with its own
    /// writer, without publishing it (see [`LiveIndex::rebuild`]).
    pub fn create_generation(
        root: &Path,
        spec: SchemaSpec,
        analyzers: Analyzers,
        settings: IndexSettings,
    ) -> Result<SearchIndex, IndexError> {
        let generation = new_generation();
        let dir = root.join(&generation);
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let (schema, _) = spec.to_tantivy();
        let index = Index::create_in_dir(&dir, schema)?;
        std::fs::write(dir.join(FINGERPRINT), spec.fingerprint()).map_err(io_error(&dir))?;
        let writer = writer_for(&index, &dir, settings)?;
        let mut created = Self::assemble(root, generation, index, spec, analyzers)?;
        created.set_writer(writer, settings);
        Ok(created)
    }

    fn assemble(
        root: &Path,
        generation: String,
        mut index: Index,
        spec: SchemaSpec,
        analyzers: Analyzers,
    ) -> Result<SearchIndex, IndexError> {
        analyzers.register(index.tokenizers());
        index.set_fast_field_tokenizers(tantivy::tokenizer::TokenizerManager::default());
        let schema = index.schema();
        let fields = spec
            .fields
            .iter()
            .map(|f| schema.get_field(&f.name))
            .collect::<Result<Vec<_>, _>>()?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        Ok(SearchIndex {
            spec,
            index,
            fields,
            reader,
            writer: None,
            analyzers,
            root: root.to_path_buf(),
            generation,
            synonyms: search::synonyms::Synonyms::default(),
            caches: Default::default(),
            writer_nice: 0,
        })
    }

    /// Takes `writer` as this generation's; its commits start their
    /// threads at the configured nice value.
    fn set_writer(&mut self, writer: IndexWriter, settings: IndexSettings) {
        self.writer = Some(Mutex::new(writer));
        self.writer_nice = settings.writer_nice;
    }

    /// Makes this generation the one `CURRENT` names (atomically, by rename)
    /// and removes any other generation.
    fn publish(&self) -> Result<(), IndexError> {
        self.publish_current()?;
        remove_generations_except(&self.root, &self.generation);
        Ok(())
    }

    /// Makes this generation the one `CURRENT` names (atomically, by rename),
    /// leaving the other generations in place.
    pub(crate) fn publish_current(&self) -> Result<(), IndexError> {
        let tmp = self.root.join("CURRENT.tmp");
        std::fs::write(&tmp, &self.generation).map_err(io_error(&tmp))?;
        std::fs::rename(&tmp, self.root.join(CURRENT)).map_err(io_error(&self.root))?;
        Ok(())
    }

    /// The folder holding every generation and `CURRENT`.
    pub fn root_dir(&self) -> &Path {
        &self.root
    }

    /// The generation's directory name (`gen-*`).
    pub fn generation(&self) -> &str {
        &self.generation
    }

    /// The store sequence number of the last change this index holds.
    pub fn applied_seq(&self) -> Result<u64, IndexError> {
        Ok(committed_seq(&self.index.load_metas()?))
    }

    /// Applies every store change the index does not hold yet, commits with
    /// the new sequence number, and (for a generation built after a schema
    /// change) publishes it. Returns the number of changes applied.
    pub fn catch_up(&self, store: &dyn ChangeFeed) -> Result<usize, IndexError> {
        let applied = self.apply_changes(store, &mut |_| true)?;
        if self.writer.is_some()
            && read_current(&self.root)?.as_deref() != Some(self.generation.as_str())
        {
            self.publish()?;
        }
        Ok(applied)
    }

    /// Applies every store change the index does not hold yet and commits
    /// with the new sequence number; never publishes. `observe` is called
    /// after each batch with the number of changes applied so far; when it
    /// answers false the work stops (what was applied is committed) and
    /// [`IndexError::Stopped`] is returned.
    pub fn apply_changes(
        &self,
        store: &dyn ChangeFeed,
        observe: &mut dyn FnMut(usize) -> bool,
    ) -> Result<usize, IndexError> {
        self.apply_changes_until(store, u64::MAX, observe)
    }

    /// Merges every segment that holds deleted documents into new segments
    /// without them and removes the old files, so that no file of the
    /// generation keeps what was deleted (an erasure's last step). Returns
    /// the number of segments rewritten.
    pub fn purge_deleted(&self) -> Result<usize, IndexError> {
        let Some(writer) = &self.writer else {
            return Ok(0);
        };
        let mut writer = writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let doomed: Vec<tantivy::index::SegmentId> = self
            .index
            .searchable_segment_metas()?
            .iter()
            .filter(|meta| meta.has_deletes())
            .map(|meta| meta.id())
            .collect();
        if doomed.is_empty() {
            return Ok(0);
        }
        let _span = tracing::info_span!("index_purge", segments = doomed.len()).entered();
        writer.merge(&doomed).wait()?;
        self.reader.reload()?;
        writer.garbage_collect_files().wait()?;
        tracing::info!(
            segments = doomed.len(),
            "segments with deleted documents rewritten"
        );
        Ok(doomed.len())
    }

    pub fn field(&self, name: &str) -> Option<Field> {
        self.spec
            .fields
            .iter()
            .position(|f| f.name == name)
            .map(|i| self.fields[i])
    }

    /// Sets the query-time synonyms (see `search::synonyms`).
    pub fn set_synonyms(&mut self, synonyms: search::synonyms::Synonyms) {
        self.synonyms = synonyms;
    }

    /// Sets the search caches (a live index's, sized from rapport.toml;
    /// a rebuilt generation takes over the live one's).
    pub(crate) fn set_caches(&mut self, caches: std::sync::Arc<search::caches::SearchCaches>) {
        self.caches = caches;
    }

    pub(crate) fn caches(&self) -> &std::sync::Arc<search::caches::SearchCaches> {
        &self.caches
    }

    pub fn spec(&self) -> &SchemaSpec {
        &self.spec
    }

    pub fn synonyms(&self) -> &search::synonyms::Synonyms {
        &self.synonyms
    }

    pub fn analyzers(&self) -> &Analyzers {
        &self.analyzers
    }

    pub fn tantivy(&self) -> &Index {
        &self.index
    }

    pub fn reader(&self) -> &IndexReader {
        &self.reader
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

fn read_current(root: &Path) -> Result<Option<String>, IndexError> {
    match std::fs::read_to_string(root.join(CURRENT)) {
        Ok(name) if !name.trim().is_empty() && root.join(name.trim()).is_dir() => {
            Ok(Some(name.trim().to_string()))
        }
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(IndexError::Io {
            path: root.join(CURRENT).display().to_string(),
            source: e,
        }),
    }
}

/// Removes every `gen-*` directory under `root` except `keep` (logging, not
/// failing, when one cannot be removed).
pub(crate) fn remove_generations_except(root: &Path, keep: &str) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("gen-")
            && name != keep
            && let Err(e) = std::fs::remove_dir_all(entry.path())
        {
            tracing::warn!(generation = %name, error = %e, "could not remove an old index generation");
        }
    }
}

/// The generation `CURRENT` names, if any.
pub fn current_generation(root: &Path) -> Result<Option<String>, IndexError> {
    read_current(root)
}

fn new_generation() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!("gen-{now}-{}", std::process::id())
}

/// The store sequence number a commit's payload names (0: none).
fn committed_seq(metas: &tantivy::IndexMeta) -> u64 {
    metas
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
        .and_then(|v| v.get("seq").and_then(|s| s.as_u64()))
        .unwrap_or(0)
}
