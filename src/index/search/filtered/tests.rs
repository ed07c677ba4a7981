//! A filtered query against tantivy's own intersection of the same query
//! and filters, on a real store and index of three segments with deletes:
//! the same documents with bit-identical scores through every way a
//! collector reads them (scorer steps and seeks, `for_each`,
//! `for_each_no_score`, counts), for a filter dense enough to be a bitset
//! and one sparse enough to be a list.

use std::collections::BTreeMap;

use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, Weight};
use tantivy::{DocId, DocSet, Searcher, TERMINATED};

use super::*;
use crate::index::SearchIndex;
use crate::index::search::Filter;
use crate::index::search::filters::filter_queries;
use crate::record::{Record, RecordKind};
use crate::store::Store;

const COUNTRIES: [&str; 4] = ["JP", "US", "DE", "FR"];

/// Record `i`: an invoice note in every third, its country cycling; one in
/// a hundred is in GB, so a GB filter is a short list.
fn note(i: usize) -> Record {
    let mut r = Record::new("crm", &format!("n{i}"), RecordKind::Note);
    let word = if i.is_multiple_of(3) {
        "invoice"
    } else {
        "renewal"
    };
    r.body = Some(format!("{word} for order {i} {}", "invoice ".repeat(i % 4)));
    r.title = Some(
        if i.is_multiple_of(5) {
            "invoice copy"
        } else {
            "call"
        }
        .into(),
    );
    r.country = Some(if i % 100 == 7 { "GB" } else { COUNTRIES[i % 4] }.to_string());
    r
}

struct Fixture {
    _dir: tempfile::TempDir,
    _store: Store,
    index: SearchIndex,
}

/// Three segments of 1,500 notes; every 11th note of the first file is
/// then removed (deleted in its segment).
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (store, index) = SearchIndex::open_with_store_for_tests(dir.path());
    for part in 0..3 {
        let batch: Vec<Record> = (part * 1500..(part + 1) * 1500).map(note).collect();
        store
            .apply_file("crm", &format!("f{part}"), "h", &batch)
            .unwrap();
        index.catch_up(&store).unwrap();
    }
    let kept: Vec<Record> = (0..1500).filter(|i| i % 11 != 0).map(note).collect();
    store.apply_file("crm", "f0", "h2", &kept).unwrap();
    index.catch_up(&store).unwrap();
    Fixture {
        _dir: dir,
        _store: store,
        index,
    }
}

fn queries(f: &Fixture, countries: &[&str]) -> (Box<dyn Query>, Box<dyn Query>) {
    let values = countries.iter().map(|c| c.to_string()).collect();
    let filters = BTreeMap::from([("country".to_string(), Filter::Values(values))]);
    let parts: Vec<_> = filter_queries(&f.index, &filters)
        .unwrap()
        .into_iter()
        .map(|(_, q)| q)
        .collect();
    let (root, _, _) = f
        .index
        .parsed_query("invoice", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    let built = crate::index::search::query::QueryBuilder::new(&f.index, &f.index.synonyms, true)
        .build(root.as_ref());
    let ours: Box<dyn Query> = Box::new(Filtered::new(
        built.query.box_clone(),
        AllFilters::new(parts.clone()),
    ));
    let theirs: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
        (Occur::Must, built.query.box_clone()),
        (Occur::Must, Box::new(AllFilters::new(parts))),
    ]));
    (ours, theirs)
}

fn weight(searcher: &Searcher, query: &dyn Query) -> Box<dyn Weight> {
    query
        .weight(EnableScoring::enabled_from_searcher(searcher))
        .unwrap()
}

/// Live (doc, score bits) of a scorer walked with `advance`.
fn walked(weight: &dyn Weight, reader: &tantivy::SegmentReader) -> Vec<(DocId, u32)> {
    let mut scorer = weight.scorer(reader, 1.0).unwrap();
    let mut out = Vec::new();
    let mut doc = scorer.doc();
    while doc != TERMINATED {
        if reader.alive_bitset().is_none_or(|a| a.is_alive(doc)) {
            out.push((doc, scorer.score().to_bits()));
        }
        doc = scorer.advance();
    }
    out
}

/// Documents reached by seeking in steps of `step`.
fn sought(weight: &dyn Weight, reader: &tantivy::SegmentReader, step: u32) -> Vec<DocId> {
    let mut scorer = weight.scorer(reader, 1.0).unwrap();
    let mut out = Vec::new();
    let mut target = 0;
    while target < reader.max_doc() {
        let doc = scorer.seek(target.max(scorer.doc()));
        if doc == TERMINATED {
            break;
        }
        out.push(doc);
        target = doc + step;
    }
    out
}

fn for_each(weight: &dyn Weight, reader: &tantivy::SegmentReader) -> Vec<(DocId, u32)> {
    let mut out = Vec::new();
    weight
        .for_each(reader, &mut |doc, score| {
            if reader.alive_bitset().is_none_or(|a| a.is_alive(doc)) {
                out.push((doc, score.to_bits()));
            }
        })
        .unwrap();
    out
}

fn no_score(weight: &dyn Weight, reader: &tantivy::SegmentReader) -> Vec<DocId> {
    let mut out = Vec::new();
    weight
        .for_each_no_score(reader, &mut |docs| {
            out.extend(
                docs.iter()
                    .filter(|d| reader.alive_bitset().is_none_or(|a| a.is_alive(**d))),
            )
        })
        .unwrap();
    out
}

#[test]
fn a_filtered_query_matches_and_scores_as_the_intersection_does() {
    let f = fixture();
    let searcher = f.index.reader().searcher();
    assert_eq!(searcher.segment_readers().len(), 3);
    for countries in [
        &["JP", "US"][..],
        &["GB"][..],
        &["JP", "US", "DE", "FR", "GB"][..],
    ] {
        let (ours, theirs) = queries(&f, countries);
        let (ours, theirs) = (weight(&searcher, &*ours), weight(&searcher, &*theirs));
        let mut total = 0;
        for reader in searcher.segment_readers() {
            let expected = walked(&*theirs, reader);
            total += expected.len();
            assert_eq!(walked(&*ours, reader), expected, "{countries:?}");
            assert_eq!(for_each(&*ours, reader), expected, "{countries:?}");
            let docs: Vec<DocId> = expected.iter().map(|e| e.0).collect();
            assert_eq!(no_score(&*ours, reader), docs, "{countries:?}");
            assert_eq!(
                ours.count(reader).unwrap(),
                theirs.count(reader).unwrap(),
                "{countries:?}"
            );
            for step in [1, 7, 300] {
                let live = |d: &DocId| reader.alive_bitset().is_none_or(|a| a.is_alive(*d));
                let a: Vec<DocId> = sought(&*ours, reader, step)
                    .into_iter()
                    .filter(live)
                    .collect();
                let b: Vec<DocId> = sought(&*theirs, reader, step)
                    .into_iter()
                    .filter(live)
                    .collect();
                assert_eq!(a, b, "{countries:?}, step {step}");
            }
        }
        assert!(total > 10, "{countries:?} must match something: {total}");
    }
}
