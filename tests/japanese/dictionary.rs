use std::fs;
use std::path::Path;
use std::sync::Arc;

use super::support::{IPADIC_SOURCE, shared_cache_dir, shared_segmenter};
use rapport::index::japanese_dictionary::{cached_dictionary_dir, load_or_build_ipadic};
use rapport::index::text_tokenizer::{ipadic_segmenter, segment_surfaces};

fn assert_segments_tokyo(dictionary: lindera::dictionary::Dictionary) {
    let segmenter = ipadic_segmenter(dictionary);
    assert_eq!(
        segment_surfaces(&segmenter, "東京都の顧客"),
        ["東京", "都", "の", "顧客"]
    );
}

#[test]
fn concurrent_builds_into_one_fresh_cache_all_succeed() {
    let cache = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let barrier = Arc::new(std::sync::Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let cache = cache.path().to_path_buf();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                load_or_build_ipadic(Path::new(IPADIC_SOURCE), &cache)
            })
        })
        .collect();
    for handle in handles {
        let dictionary = handle
            .join()
            .unwrap()
            .unwrap()
            .expect("IPADIC source installed");
        assert_segments_tokyo(dictionary);
    }
    eprintln!("4 concurrent builds + loads took {:?}", started.elapsed());
    // Exactly one published dictionary, no temporary directories left over.
    let mut names: Vec<String> = fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let target = built_in(cache.path());
    assert_eq!(names, [target.file_name().unwrap().to_string_lossy()]);
    assert!(target.join("COMPLETE").is_file());
}

/// Where the build of the installed source lives in `cache`.
fn built_in(cache: &Path) -> std::path::PathBuf {
    cached_dictionary_dir(Path::new(IPADIC_SOURCE), cache)
        .unwrap()
        .expect("IPADIC source installed")
}

#[test]
fn a_build_is_named_by_lindera_and_the_source_and_shared_by_data_directories() {
    let name = built_in(Path::new("/cache"));
    let name = name.file_name().unwrap().to_string_lossy().into_owned();
    let prefix = format!("ipadic-lindera{}-", lindera::get_version());
    assert!(name.starts_with(&prefix), "{name}");
    assert_eq!(name.len(), prefix.len() + 16, "{name}");
    // Another source (a copy with one file changed) gets another build.
    let other = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(IPADIC_SOURCE).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), other.path().join(entry.file_name())).unwrap();
        }
    }
    let same = cached_dictionary_dir(other.path(), Path::new("/cache")).unwrap();
    assert_eq!(
        same.as_deref(),
        Some(Path::new("/cache").join(&name).as_path())
    );
    fs::write(
        other.path().join("Filler.csv"),
        "えーと,0,0,0,フィラー,*,*,*,*,*,えーと,エート,エート\n",
    )
    .unwrap();
    let changed = cached_dictionary_dir(other.path(), Path::new("/cache")).unwrap();
    assert_ne!(
        changed.as_deref(),
        Some(Path::new("/cache").join(&name).as_path())
    );
    // Two data directories configured without a dictionary folder share
    // the machine's cache.
    let a = rapport::config::Config {
        data_dir: "/a".into(),
        ..Default::default()
    };
    let b = rapport::config::Config {
        data_dir: "/b".into(),
        ..Default::default()
    };
    if rapport::config::shared_cache_dir().is_some() {
        assert_eq!(a.dictionary_cache(), b.dictionary_cache());
    }
}

#[test]
fn missing_source_and_no_cache_yields_none() {
    let cache = tempfile::tempdir().unwrap();
    let source = tempfile::tempdir().unwrap();
    let found = load_or_build_ipadic(source.path(), cache.path()).unwrap();
    assert!(found.is_none());
}

#[test]
fn complete_cache_is_loaded_without_the_source() {
    shared_segmenter(); // make sure the shared cache has been built
    let missing_source = Path::new("/nonexistent/ipadic");
    let dictionary = load_or_build_ipadic(missing_source, &shared_cache_dir())
        .unwrap()
        .expect("cached dictionary");
    assert_segments_tokyo(dictionary);
}

#[test]
fn stale_cache_is_replaced_by_a_rebuild() {
    shared_segmenter();
    let cache = tempfile::tempdir().unwrap();
    let target = built_in(cache.path());
    fs::create_dir(&target).unwrap();
    for entry in fs::read_dir(built_in(&shared_cache_dir())).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), target.join(entry.file_name())).unwrap();
    }
    fs::write(target.join("COMPLETE"), "lindera 0.0.1\nformat 0\n").unwrap();
    // Without a source a stale cache is not used.
    let none = load_or_build_ipadic(Path::new("/nonexistent/ipadic"), cache.path()).unwrap();
    assert!(none.is_none());
    let started = std::time::Instant::now();
    let dictionary = load_or_build_ipadic(Path::new(IPADIC_SOURCE), cache.path())
        .unwrap()
        .expect("rebuilt");
    eprintln!("single IPADIC rebuild + load took {:?}", started.elapsed());
    assert_segments_tokyo(dictionary);
    let marker = fs::read_to_string(target.join("COMPLETE")).unwrap();
    assert!(
        marker.starts_with(&format!("lindera {}\n", lindera::get_version())),
        "{marker}"
    );
}
