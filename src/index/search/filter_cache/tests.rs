//! The filter cache on a real store and tantivy index: repeated filtered
//! searches are served from it with identical results, a record replaced
//! after the cache was filled never matches under its old value, and a value
//! absent from a segment matches nothing there. Also its docset against a
//! plain list, and its byte budget.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tantivy::directory::OwnedBytes;
use tantivy::fastfield::{AliveBitSet, write_alive_bitset};
use tantivy::query::BitSetDocSet;
use tantivy::{BitSet, DocSet, SeekDangerResult, TERMINATED};

use super::docs::*;
use super::*;
use crate::index::SearchIndex;
use crate::index::search::{Filter, Grouping, SearchRequest, SearchResponse};
use crate::record::{Record, RecordKind};
use crate::store::Store;

const COUNTRIES: [&str; 3] = ["JP", "US", "DE"];

fn note(id: &str, country: &str) -> Record {
    let mut r = Record::new("crm", id, RecordKind::Note);
    r.body = Some(format!("invoice {id} sent"));
    r.country = Some(country.to_string());
    r
}

/// Notes numbered `from..to`, their country cycling through [`COUNTRIES`].
fn notes(from: usize, to: usize) -> Vec<Record> {
    (from..to)
        .map(|i| note(&format!("n{i}"), COUNTRIES[i % COUNTRIES.len()]))
        .collect()
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    index: SearchIndex,
}

/// A store and index holding one segment per batch.
fn fixture(batches: &[Vec<Record>]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (store, index) = SearchIndex::open_with_store_for_tests(dir.path());
    for (i, batch) in batches.iter().enumerate() {
        store
            .apply_file("crm", &format!("f{i}"), "h", batch)
            .unwrap();
        index.catch_up(&store).unwrap();
    }
    Fixture {
        _dir: dir,
        store,
        index,
    }
}

fn countries(values: &[&str]) -> BTreeMap<String, Filter> {
    let values = values.iter().map(|v| v.to_string()).collect();
    BTreeMap::from([("country".to_string(), Filter::Values(values))])
}

fn records_request(q: &str, filters: BTreeMap<String, Filter>) -> SearchRequest {
    let mut request = SearchRequest::new(q);
    request.group = Grouping::None;
    request.limit = 100;
    request.filters = filters;
    request
}

fn hit_ids(response: &SearchResponse) -> BTreeSet<String> {
    let hits = response.hits.as_deref().unwrap_or_default();
    hits.iter().map(|h| h.id.clone()).collect()
}

/// The response without its timing, for comparing two runs.
fn comparable(response: &SearchResponse) -> serde_json::Value {
    let mut value = serde_json::to_value(response).unwrap();
    if let Some(object) = value.as_object_mut() {
        object.remove("took_ms");
    }
    value
}

#[test]
fn a_repeated_filtered_search_is_served_from_the_cache_with_identical_results() {
    let batches = [notes(0, 40), notes(40, 70)];
    let f = fixture(&batches);
    let segments = f.index.reader().searcher().segment_readers().len() as u64;
    assert!(segments >= 2, "one segment per batch, got {segments}");
    let mut filters = countries(&["jp", "US"]);
    filters.insert("kind".into(), Filter::Values(vec!["note".into()]));
    let mut request = records_request("invoice", filters);
    request.facets = vec!["country".into(), "kind".into(), "source".into()];
    let expected: BTreeSet<String> = batches
        .iter()
        .flatten()
        .filter(|r| matches!(r.country.as_deref(), Some("JP" | "US")))
        .map(Record::id)
        .collect();

    let before = f.index.caches().filters.stats();
    let first = f.index.search(&request).unwrap();
    let filled = f.index.caches().filters.stats();
    let second = f.index.search(&request).unwrap();
    let after = f.index.caches().filters.stats();

    assert_eq!(hit_ids(&first), expected);
    assert_eq!(first.total, expected.len());
    assert_eq!(comparable(&first), comparable(&second));
    assert!(
        filled.misses - before.misses >= 2 * segments,
        "the first search evaluates both filters on every segment"
    );
    assert_eq!(
        after.misses, filled.misses,
        "the second search misses nothing"
    );
    assert!(after.hits - filled.hits >= 2 * segments);
    assert!(after.entries >= segments as usize);

    // The same list in another order, with a repeat, is the same filter.
    let mut reordered = request.clone();
    reordered.filters.insert(
        "country".into(),
        Filter::Values(vec!["US".into(), "jp".into(), "US".into()]),
    );
    let third = f.index.search(&reordered).unwrap();
    assert_eq!(comparable(&third), comparable(&first));
    assert_eq!(
        f.index.caches().filters.stats().misses,
        after.misses,
        "a reordered list misses nothing"
    );
}

#[test]
fn searches_in_parallel_threads_share_the_cache_and_agree() {
    let batches = [notes(0, 60), notes(60, 90)];
    let f = fixture(&batches);
    let in_jp_or_de = batches
        .iter()
        .flatten()
        .filter(|r| matches!(r.country.as_deref(), Some("JP" | "DE")))
        .count();
    let mut filters = countries(&["JP", "DE"]);
    filters.insert("kind".into(), Filter::Values(vec!["note".into()]));
    let request = records_request("invoice", filters);
    let answers: Vec<serde_json::Value> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| comparable(&f.index.search(&request).unwrap())))
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    let alone = comparable(&f.index.search(&request).unwrap());
    assert!(answers.iter().all(|answer| *answer == alone));
    assert_eq!(alone["total"], in_jp_or_de);
}

#[test]
fn filters_add_nothing_to_scores() {
    let f = fixture(&[notes(0, 30)]);
    let unfiltered = f.index.search(&records_request("invoice", BTreeMap::new()));
    let filtered = f
        .index
        .search(&records_request("invoice", countries(&["JP"])));
    let score_of = |response: &SearchResponse| -> BTreeMap<String, f64> {
        let hits = response.hits.as_deref().unwrap_or_default();
        hits.iter().map(|h| (h.id.clone(), h.score)).collect()
    };
    let (unfiltered, filtered) = (score_of(&unfiltered.unwrap()), score_of(&filtered.unwrap()));
    assert!(!filtered.is_empty());
    for (id, score) in &filtered {
        assert_eq!(Some(score), unfiltered.get(id), "score of {id}");
    }
}

#[test]
fn a_record_replaced_after_the_cache_was_filled_never_matches_its_old_value() {
    let batch = vec![note("a", "JP"), note("b", "JP"), note("c", "US")];
    let f = fixture(std::slice::from_ref(&batch));
    let jp = records_request("invoice", countries(&["JP"]));
    let us = records_request("*", countries(&["US"]));
    let id = |external: &str| note(external, "").id();
    assert_eq!(
        hit_ids(&f.index.search(&jp).unwrap()),
        BTreeSet::from([id("a"), id("b")])
    );
    f.index.search(&us).unwrap();

    // `a` moves to the US: its old document is deleted in the old segment
    // (same segment id, new delete state) and a new one written elsewhere.
    let changed = vec![note("a", "US"), note("b", "JP"), note("c", "US")];
    f.store.apply_file("crm", "f0", "h2", &changed).unwrap();
    f.index.catch_up(&f.store).unwrap();
    let before = f.index.caches().filters.stats();
    let now_jp = f.index.search(&jp).unwrap();
    let now_us = f.index.search(&us).unwrap();
    let after = f.index.caches().filters.stats();

    assert!(
        after.hits > before.hits,
        "the old segment's sets are reused"
    );
    assert_eq!(hit_ids(&now_jp), BTreeSet::from([id("b")]));
    assert_eq!(now_jp.total, 1);
    assert_eq!(hit_ids(&now_us), BTreeSet::from([id("a"), id("c")]));
    assert_eq!(now_us.total, 2);
    let exported = f
        .index
        .matches("", &countries(&["JP"]), &BTreeMap::new())
        .unwrap();
    assert_eq!(exported.count().unwrap(), 1);
}

#[test]
fn a_value_absent_from_a_segment_matches_nothing_there() {
    let only_jp: Vec<Record> = (0..20).map(|i| note(&format!("j{i}"), "JP")).collect();
    let only_us: Vec<Record> = (0..15).map(|i| note(&format!("u{i}"), "US")).collect();
    let f = fixture(&[only_jp, only_us.clone()]);
    let us = f
        .index
        .search(&records_request("invoice", countries(&["US"])));
    let expected: BTreeSet<String> = only_us.iter().map(Record::id).collect();
    assert_eq!(hit_ids(&us.unwrap()), expected);
    for _ in 0..2 {
        let nowhere = f
            .index
            .search(&records_request("invoice", countries(&["FR"])));
        let nowhere = nowhere.unwrap();
        assert_eq!(nowhere.total, 0);
        assert!(hit_ids(&nowhere).is_empty());
    }
}

/// Walks `scorer` with `advance` and `seek` (every `step`-th target) and
/// checks it against `expected`.
fn check_walk(docs: &Arc<MatchingDocs>, alive: Option<AliveBitSet>, expected: &[u32], step: usize) {
    let mut scorer = CachedFilterScorer::new(docs.clone(), alive.clone());
    let mut walked = Vec::new();
    while scorer.doc() != TERMINATED {
        walked.push(scorer.doc());
        scorer.advance();
    }
    assert_eq!(walked, expected);
    let mut scorer = CachedFilterScorer::new(docs.clone(), alive.clone());
    for target in (0..1_100).step_by(step) {
        // Seeking backwards is not allowed: after a long jump, wait.
        if target >= scorer.doc() {
            let want = expected.iter().copied().find(|&d| d >= target);
            assert_eq!(
                scorer.seek(target),
                want.unwrap_or(TERMINATED),
                "seek {target}"
            );
        }
    }
    // Probing as an intersection does: increasing targets, hits and misses.
    let mut scorer = CachedFilterScorer::new(docs.clone(), alive);
    for target in (1..1_100).step_by(step) {
        let next = expected.iter().copied().find(|&d| d >= target);
        match scorer.seek_danger(target) {
            SeekDangerResult::Found => {
                assert_eq!(next, Some(target), "found {target}");
                assert_eq!(scorer.doc(), target);
            }
            SeekDangerResult::SeekLowerBound(bound) => {
                assert_ne!(next, Some(target), "missed {target}");
                assert!(bound > target, "bound {bound} after {target}");
                let limit = next.unwrap_or(TERMINATED);
                assert!(bound <= limit, "bound {bound} past a match");
            }
        }
    }
}

#[test]
fn cached_sets_read_back_every_live_match_sparse_or_dense() {
    let max_doc = 1_000;
    let deleted: BTreeSet<u32> = (0..max_doc).filter(|d| d % 7 == 3).collect();
    let mut alive_bits = BitSet::with_max_value_and_full(max_doc);
    for &d in &deleted {
        alive_bits.remove(d);
    }
    let mut bytes = Vec::new();
    write_alive_bitset(&alive_bits, &mut bytes).unwrap();
    let alive = AliveBitSet::open(OwnedBytes::new(bytes));
    for every in [1u32, 2, 5, 63, 64, 97, 400, 1_001] {
        let listed: Vec<u32> = (0..max_doc).filter(|d| d % every == 0).collect();
        let mut listed_bits = BitSet::with_max_value(max_doc);
        for &d in &listed {
            listed_bits.insert(d);
        }
        let docs = Arc::new(MatchingDocs::collect(
            &mut BitSetDocSet::from(listed_bits),
            max_doc,
        ));
        assert_eq!(docs.len() as usize, listed.len());
        let dense = matches!(*docs, MatchingDocs::Dense { .. });
        assert_eq!(dense, every < 32, "form for every {every}th doc");
        let live: Vec<u32> = listed
            .iter()
            .copied()
            .filter(|d| !deleted.contains(d))
            .collect();
        for step in [1, 3, 64, 130] {
            check_walk(&docs, None, &listed, step);
            check_walk(&docs, Some(alive.clone()), &live, step);
        }
    }
}

#[test]
fn the_cache_keeps_to_its_byte_budget_dropping_the_least_recently_used() {
    let segment = SegmentId::generate_random();
    let set = || Arc::new(MatchingDocs::Sparse((0..1_000).collect()));
    let one = set().bytes() + ENTRY_OVERHEAD + 1;
    let cache = FilterCache::with_budget(one * 4);
    let key = |n: usize| (segment, Arc::<str>::from(n.to_string()));
    for n in 0..4 {
        cache.insert(key(n), set());
    }
    assert_eq!(cache.stats().entries, 4);
    assert!(
        cache.get(&key(0)).is_some(),
        "entry 0 is now the most recent"
    );
    cache.insert(key(4), set());
    let stats = cache.stats();
    assert!(stats.bytes <= one * 4, "{} bytes over budget", stats.bytes);
    assert!(
        cache.get(&key(0)).is_some(),
        "the recently used entry stays"
    );
    assert!(cache.get(&key(1)).is_none(), "the oldest entry goes");
    assert!(cache.get(&key(4)).is_some());
}

#[test]
fn several_filters_intersect_to_the_documents_all_of_them_hold() {
    let max_doc = 2_000;
    let multiples = |every: u32| -> Vec<u32> { (0..max_doc).filter(|d| d % every == 0).collect() };
    for combination in [
        [2, 3, 5],
        [2, 3, 97],
        [97, 2, 500],
        [3, 7, 1_999],
        [64, 128, 2],
    ] {
        let sets: Vec<Arc<MatchingDocs>> = combination
            .iter()
            .map(|&every| Arc::new(MatchingDocs::from_sorted(multiples(every), max_doc)))
            .collect();
        let expected: Vec<u32> = (0..max_doc)
            .filter(|d| combination.iter().all(|every| d % every == 0))
            .collect();
        let both = Arc::new(MatchingDocs::intersect(&sets, max_doc));
        assert_eq!(both.len() as usize, expected.len(), "{combination:?}");
        check_walk(&both, None, &expected, 1);
    }
}

#[test]
fn a_corrected_word_never_finds_a_record_deleted_after_its_documents_were_cached() {
    let f = fixture(&[notes(0, 3)]);
    let typo = records_request("invoce", BTreeMap::new());
    let id = |external: &str| note(external, "").id();
    assert_eq!(
        hit_ids(&f.index.search(&typo).unwrap()),
        BTreeSet::from([id("n0"), id("n1"), id("n2")])
    );

    // `n1` leaves the file: its document is deleted in the same segment.
    let mut rest = notes(0, 3);
    rest.remove(1);
    f.store.apply_file("crm", "f0", "h2", &rest).unwrap();
    f.index.catch_up(&f.store).unwrap();
    let before = f.index.caches().corrections.stats();
    let now = f.index.search(&typo).unwrap();
    let after = f.index.caches().corrections.stats();

    assert!(
        after.hits > before.hits,
        "the segment's corrections are reused"
    );
    assert_eq!(hit_ids(&now), BTreeSet::from([id("n0"), id("n2")]));
    assert_eq!(now.total, 2);
}
