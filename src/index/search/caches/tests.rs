//! Each live index owns its search caches: two indexes in one process (as
//! tests and benchmarks open them) keep their own budgets and entries, and
//! a rebuilt generation takes over the caches of the index it replaces.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::{CacheBudgets, CacheUse};
use crate::index::search::synonyms::Synonyms;
use crate::index::search::{Filter, Grouping, SearchRequest};
use crate::index::{Analyzers, IndexSettings, LiveIndex};
use crate::record::{Record, RecordKind};
use crate::schema::SchemaSpec;
use crate::store::Store;

struct Opened {
    _dir: tempfile::TempDir,
    store: Store,
    live: LiveIndex,
}

/// A store holding three notes and a live index over it, sized `budgets`.
fn opened(budgets: CacheBudgets) -> Opened {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.redb")).unwrap();
    let (live, _) = LiveIndex::open(
        &dir.path().join("index"),
        SchemaSpec::builtin().unwrap(),
        Analyzers::without_dictionary(),
        Synonyms::default(),
        IndexSettings::single_thread(),
        budgets,
    )
    .unwrap();
    let notes: Vec<Record> = ["JP", "US", "JP"]
        .iter()
        .enumerate()
        .map(|(i, country)| {
            let mut r = Record::new("crm", &format!("n{i}"), RecordKind::Note);
            r.body = Some(format!("invoice {i} sent"));
            r.country = Some(country.to_string());
            r
        })
        .collect();
    store.apply_file("crm", "f0", "h", &notes).unwrap();
    live.catch_up(&store).unwrap();
    Opened {
        _dir: dir,
        store,
        live,
    }
}

/// A typo'd word (corrections, automata) filtered by country (filters),
/// with a facet (doc ordinals).
fn search(live: &LiveIndex) -> usize {
    let mut request = SearchRequest::new("invoce");
    request.group = Grouping::Customer;
    request.facets = vec!["country".into()];
    request.filters = BTreeMap::from([(
        "country".to_string(),
        Filter::Values(vec!["JP".to_string()]),
    )]);
    live.search(&request).unwrap().total
}

fn cache<'a>(usage: &'a [CacheUse], name: &str) -> &'a CacheUse {
    usage.iter().find(|u| u.cache == name).unwrap()
}

#[test]
fn two_indexes_in_one_process_keep_their_own_budgets_and_entries() {
    let small = CacheBudgets {
        filters_mb: 3,
        ..CacheBudgets::default()
    };
    let large = CacheBudgets {
        filters_mb: 7,
        automata_mb: 9,
        ..CacheBudgets::default()
    };
    let one = opened(small);
    let other = opened(large);
    assert_eq!(search(&one.live), 2);

    let used = one.live.cache_usage();
    let untouched = other.live.cache_usage();
    assert_eq!(cache(&used, "filters").budget_bytes, 3 << 20);
    assert_eq!(cache(&untouched, "filters").budget_bytes, 7 << 20);
    assert_eq!(cache(&used, "automata").budget_bytes, 16 << 20);
    assert_eq!(cache(&untouched, "automata").budget_bytes, 9 << 20);
    for name in ["filters", "corrections", "automata"] {
        assert!(cache(&used, name).entries >= 1, "{name}: {used:?}");
        assert_eq!(cache(&untouched, name).entries, 0, "{name}: {untouched:?}");
        assert_eq!(cache(&untouched, name).bytes, 0, "{name}");
    }

    // The other index's first search misses: nothing of the first one's
    // entries answers it.
    assert_eq!(search(&other.live), 2);
    let after = other.live.cache_usage();
    assert_eq!(cache(&after, "filters").hits, Some(0), "{after:?}");
    assert!(cache(&after, "filters").misses >= Some(1));
    assert_eq!(
        cache(&one.live.cache_usage(), "filters").misses,
        cache(&used, "filters").misses,
        "the other index's search never touched this one's cache"
    );
}

#[test]
fn a_rebuilt_generation_takes_over_the_live_index_s_caches() {
    let one = opened(CacheBudgets::default());
    search(&one.live);
    let before = one.live.snapshot().caches().clone();
    one.live
        .rebuild(&one.store, &|_| {}, &AtomicBool::new(false))
        .unwrap();
    let after = one.live.snapshot();
    assert!(Arc::ptr_eq(&before, after.caches()));
    assert_eq!(search(&one.live), 2);
}
