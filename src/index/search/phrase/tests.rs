//! The cached phrase against tantivy's `PhraseQuery` on a generated index
//! of three segments with deletes: the same documents with bit-identical
//! scores and the same size hints and costs, alone, boosted and inside a
//! union, before and after its lists are cached; and the same count with
//! scoring off.

use std::sync::Arc;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, EnableScoring, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, STRING, Schema, TEXT};
use tantivy::{DocId, DocSet, Index, IndexWriter, Searcher, TERMINATED, Term, doc};

use super::{CachedPhrase, PhraseDocs};
use crate::index::search::conjunction::tests::Lcg;
use crate::index::search::filter_cache::FilterCache;

/// A few words, so that phrases (and repeated words) occur often.
const WORDS: &[&str] = &["ab", "cd", "ef", "gh"];

fn index() -> (Index, Field) {
    let mut schema = Schema::builder();
    let body = schema.add_text_field("body", TEXT);
    let id = schema.add_text_field("id", STRING);
    let index = Index::create_in_ram(schema.build());
    let mut writer: IndexWriter = index
        .writer_with_num_threads(1, 20_000_000)
        .expect("writer");
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    let mut rng = Lcg(11);
    for (segment, docs) in [(0, 3_000), (1, 1_500), (2, 200)] {
        for n in 0..docs {
            let mut document = doc!(id => format!("r{segment}-{n}"));
            if rng.next(5) > 0 {
                // Mostly short texts, some long ones (many positions).
                let len = if rng.next(30) == 0 {
                    400
                } else {
                    1 + rng.next(12)
                };
                let text: Vec<&str> = (0..len)
                    .map(|_| WORDS[rng.next(WORDS.len() as u64) as usize])
                    .collect();
                document.add_text(body, text.join(" "));
            }
            writer.add_document(document).expect("add");
        }
        writer.commit().expect("commit");
    }
    writer.delete_term(Term::from_field_text(id, "r0-17"));
    writer.delete_term(Term::from_field_text(id, "r1-400"));
    writer.commit().expect("commit");
    (index, body)
}

fn phrases(body: Field) -> Vec<Vec<(usize, Term)>> {
    let t = |w: &str| Term::from_field_text(body, w);
    vec![
        vec![(0, t("ab")), (1, t("cd"))],
        vec![(0, t("ab")), (1, t("ab"))],
        vec![(0, t("ef")), (2, t("gh"))],
        vec![(0, t("ab")), (1, t("cd")), (2, t("ef"))],
        // As the pairs of a long Japanese word are kept: 0, 2, 4 and 5.
        vec![(0, t("ab")), (2, t("cd")), (4, t("ab")), (5, t("gh"))],
        vec![(2, t("gh")), (0, t("cd"))],
        // A word no document holds.
        vec![(0, t("ab")), (1, t("zz"))],
    ]
}

/// One segment's (doc, score bits), with its scorer's size hint and cost.
type SegmentWalk = (Vec<(DocId, u32)>, u32, u64);

/// Every (doc, score bits) of `query` in each segment, with the segment
/// scorer's size hint and cost.
fn walk(searcher: &Searcher, query: &dyn Query) -> Vec<SegmentWalk> {
    let weight = query
        .weight(EnableScoring::enabled_from_searcher(searcher))
        .expect("weight");
    searcher
        .segment_readers()
        .iter()
        .map(|reader| {
            let mut scorer = weight.scorer(reader, 1.0).expect("scorer");
            let hints = (scorer.size_hint(), scorer.cost());
            let mut out = Vec::new();
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                out.push((doc, scorer.score().to_bits()));
                doc = scorer.advance();
            }
            (out, hints.0, hints.1)
        })
        .collect()
}

fn top(searcher: &Searcher, query: &dyn Query) -> Vec<(u32, tantivy::DocAddress)> {
    searcher
        .search(query, &TopDocs::with_limit(10_000).order_by_score())
        .expect("search")
        .into_iter()
        .map(|(score, address)| (score.to_bits(), address))
        .collect()
}

#[test]
fn cached_phrases_match_and_score_as_tantivy_phrases() {
    let (index, body) = index();
    let searcher = index.reader().expect("reader").searcher();
    let cache: Arc<FilterCache<PhraseDocs>> = Arc::new(FilterCache::with_budget(1 << 24));
    let mut matched = 0;
    // Twice: the second pass reads every list from the cache.
    for pass in 0..2 {
        for terms in phrases(body) {
            let tantivy = PhraseQuery::new_with_offset(terms.clone());
            let cached = CachedPhrase::new(terms.clone(), &cache);
            let expected = walk(&searcher, &tantivy);
            assert_eq!(walk(&searcher, &cached), expected, "{terms:?}");
            matched += expected
                .iter()
                .map(|(docs, _, _)| docs.len())
                .sum::<usize>();

            let boost = |q: Box<dyn Query>| BoostQuery::new(q, 1.7);
            let in_union = |q: Box<dyn Query>| {
                BooleanQuery::union(vec![
                    Box::new(TermQuery::new(
                        Term::from_field_text(body, "gh"),
                        IndexRecordOption::WithFreqs,
                    )),
                    Box::new(boost(q)),
                ])
            };
            assert_eq!(
                top(&searcher, &in_union(Box::new(cached.clone()))),
                top(&searcher, &in_union(Box::new(tantivy.clone()))),
                "{terms:?} in a union, pass {pass}"
            );
            assert_eq!(
                cached.count(&searcher).expect("count"),
                tantivy.count(&searcher).expect("count"),
                "{terms:?} counted"
            );
        }
    }
    assert!(matched > 1_000, "{matched}");
    let stats = cache.stats();
    assert!(stats.hits > 0 && stats.entries > 0, "{stats:?}");
}

#[test]
fn a_phrase_on_a_field_without_positions_is_refused_as_tantivy_refuses_it() {
    let (index, _) = index();
    let searcher = index.reader().expect("reader").searcher();
    let id = index.schema().get_field("id").expect("id");
    let terms = vec![
        (0, Term::from_field_text(id, "a")),
        (1, Term::from_field_text(id, "b")),
    ];
    let cache = Arc::new(FilterCache::with_budget(1 << 20));
    let scoring = EnableScoring::enabled_from_searcher(&searcher);
    assert!(
        CachedPhrase::new(terms.clone(), &cache)
            .weight(scoring)
            .is_err()
    );
    // `STRING` keeps no positions.
    assert!(PhraseQuery::new_with_offset(terms).weight(scoring).is_err());
}
