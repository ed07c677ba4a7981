//! Every integration test, in one test binary: one link of the library and
//! its dependencies instead of one per test file, which keeps a clean build
//! (CI) to a fraction of the disk and link time. cargo-nextest still runs
//! each test in a process of its own, so no test can see another's state.
//! Each module is what was once a test target of its own; `common` is the
//! harness they share (workspaces, a served binary, HTTP helpers).

mod common;

mod access;
mod access_edge;
mod audit;
mod bad_input;
mod connector_formats;
mod connectors_e2e;
mod crm_exports;
mod duplicates_queue;
mod duplicates_rank;
mod durability;
mod end_to_end;
mod erasure;
mod erasure_in_a_large_book;
mod export_snapshot;
mod incremental_ingest;
#[cfg(feature = "bench")]
mod incremental_resolution;
mod japanese;
mod jobs;
mod json_ids;
mod layers;
mod mail_attachments;
mod notes_clues;
mod notes_precision;
mod openapi;
mod protection;
mod pull_credentials;
mod record_fields;
mod reliability;
mod resolution;
#[cfg(feature = "bench")]
mod resolution_quality;
mod resolution_read;
mod search;
mod sign_in_links;
#[cfg(feature = "bench")]
mod soak;
mod web;
mod writeback;

/// A test file that is not declared above is never compiled, so its tests
/// would silently not run: every `tests/NAME.rs` and `tests/NAME/mod.rs`
/// must be a module here.
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let root = std::fs::read_to_string(tests.join("integration.rs")).unwrap();
    let declared: Vec<&str> = root
        .lines()
        .filter_map(|line| line.strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&tests).unwrap() {
        let path = entry.unwrap().path();
        let module = if path.is_dir() && path.join("mod.rs").is_file() {
            path.file_name()
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            path.file_stem()
        } else {
            None
        };
        let Some(module) = module.and_then(|name| name.to_str()) else {
            continue;
        };
        if module != "integration" && !declared.contains(&module) {
            missing.push(module.to_owned());
        }
    }
    assert!(
        missing.is_empty(),
        "test files that no `mod` line in tests/integration.rs compiles: {missing:?}"
    );
    assert!(
        declared.len() > 30,
        "only {} modules declared",
        declared.len()
    );
}
