use std::fs;
use std::path::Path;
use std::sync::Arc;

use crate::support::{IPADIC_SOURCE, shared_cache_dir, shared_segmenter};
use rapport::index::japanese_dictionary::load_or_build_ipadic;
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
    assert_eq!(names, ["ipadic"]);
    assert!(cache.path().join("ipadic/COMPLETE").is_file());
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
    let target = cache.path().join("ipadic");
    fs::create_dir(&target).unwrap();
    for entry in fs::read_dir(shared_cache_dir().join("ipadic")).unwrap() {
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
