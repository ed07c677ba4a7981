//! The fixed corpus the golden-file and layout tests index: 60 customers of
//! ten records each (English and Japanese, `bench::corpus`, seed 2026),
//! written into a real store and indexed by the real engine with a given
//! number of indexing threads.
//!
//! It must never vary: both tests compare answers built from it.

use rapport::config::Config;
use rapport::engine::Rapport;
use rapport::index::IndexSettings;
use rapport::store::Store;

use crate::common::dictionary_cache;

/// The engine over the corpus, indexed with `threads` indexing threads
/// (the directory lives as long as the returned guard).
pub fn open(threads: usize) -> (tempfile::TempDir, Rapport) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        dictionary_dir: Some(dictionary_cache()),
        index: IndexSettings {
            writer_threads: threads,
            writer_memory_mb: 64,
            ..IndexSettings::default()
        },
        ..Config::default()
    };
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let records = rapport::bench::corpus::generate(0, 60, 10, 2026);
    let store = Store::open(&config.store_path()).unwrap();
    store
        .apply_file("golden", "corpus", "fixed", &records)
        .unwrap();
    drop(store);
    let app = Rapport::open(config).unwrap();
    assert_eq!(app.status().unwrap().indexed_documents, 600);
    (dir, app)
}
