//! The windowed conjunction against tantivy's own boolean queries on a
//! generated index of three segments with deletes: the same documents with
//! bit-identical scores, through `advance`, `seek`, `for_each`, in ranges
//! and inside another intersection.

use tantivy::query::{BooleanQuery, BoostQuery, EnableScoring, Occur, Query, TermQuery, Weight};
use tantivy::schema::{Field, INDEXED, IndexRecordOption, STRING, Schema, TEXT};
use tantivy::{DocId, DocSet, Index, IndexWriter, Searcher, TERMINATED, Term, doc};

use super::all_of;
use super::leaf::ScoredTerm;
use super::window::WindowedConjunction;

const WORDS: &[&str] = &["alpha", "bravo", "charlie", "delta", "echo", "zulu"];

struct Fields {
    title: Field,
    body: Field,
    id: Field,
}

/// A deterministic pseudo-random sequence (no extra dependency; the
/// phrase tests use it too).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

fn words(rng: &mut Lcg, most: u64) -> String {
    let n = 1 + rng.next(most);
    (0..n)
        // "zulu" is rare: 1 in 40 picks.
        .map(|_| match rng.next(40) {
            0 => "zulu",
            k => WORDS[(k % 5) as usize],
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn index() -> (Index, Fields) {
    let mut schema = Schema::builder();
    let fields = Fields {
        title: schema.add_text_field("title", TEXT),
        body: schema.add_text_field("body", TEXT),
        id: schema.add_text_field("id", STRING),
    };
    schema.add_u64_field("n", INDEXED);
    let index = Index::create_in_ram(schema.build());
    let mut writer: IndexWriter = index
        .writer_with_num_threads(1, 20_000_000)
        .expect("writer");
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    let mut rng = Lcg(7);
    for (segment, docs) in [(0, 9_000), (1, 5_000), (2, 300)] {
        for n in 0..docs {
            let id = if rng.next(50) == 0 {
                "alpha".to_string()
            } else {
                format!("r{segment}-{n}")
            };
            let mut document = doc!(fields.id => id);
            if rng.next(3) > 0 {
                document.add_text(fields.title, words(&mut rng, 4));
            }
            if rng.next(4) > 0 {
                document.add_text(fields.body, words(&mut rng, 30));
            }
            writer.add_document(document).expect("add");
        }
        writer.commit().expect("commit");
    }
    writer.delete_term(Term::from_field_text(fields.id, "r0-17"));
    writer.delete_term(Term::from_field_text(fields.id, "r1-4000"));
    writer.commit().expect("commit");
    (index, fields)
}

/// One word as the query builder makes it: the word in both text fields
/// (boosted title) and as an id.
fn word(fields: &Fields, text: &str, scored: bool) -> Box<dyn Query> {
    let term = |field, option, boost: f32| -> Box<dyn Query> {
        let term = Term::from_field_text(field, text);
        if scored {
            Box::new(ScoredTerm::new(term, option, boost))
        } else if boost == 1.0 {
            Box::new(TermQuery::new(term, option))
        } else {
            Box::new(BoostQuery::new(
                Box::new(TermQuery::new(term, option)),
                boost,
            ))
        }
    };
    Box::new(BooleanQuery::new(vec![
        (
            Occur::Should,
            term(fields.title, IndexRecordOption::WithFreqs, 2.0),
        ),
        (
            Occur::Should,
            term(fields.body, IndexRecordOption::WithFreqs, 1.0),
        ),
        (
            Occur::Should,
            term(fields.id, IndexRecordOption::Basic, 5.0),
        ),
    ]))
}

/// A word with a nested union whose second child is an ordinary query
/// (read as an "other" leaf).
fn nested_word(fields: &Fields, text: &str, scored: bool) -> Box<dyn Query> {
    let inner = BooleanQuery::new(vec![
        (
            Occur::Should,
            Box::new(TermQuery::new(
                Term::from_field_text(fields.body, text),
                IndexRecordOption::WithFreqs,
            )) as Box<dyn Query>,
        ),
        (
            Occur::Should,
            Box::new(BoostQuery::new(
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.title, "zulu"),
                    IndexRecordOption::WithFreqs,
                )),
                0.1,
            )),
        ),
    ]);
    let title = Term::from_field_text(fields.title, text);
    let title: Box<dyn Query> = if scored {
        Box::new(ScoredTerm::new(title, IndexRecordOption::WithFreqs, 3.0))
    } else {
        Box::new(BoostQuery::new(
            Box::new(TermQuery::new(title, IndexRecordOption::WithFreqs)),
            3.0,
        ))
    };
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, title),
        (Occur::Should, Box::new(inner)),
    ]))
}

fn scored_weight(searcher: &Searcher, query: &dyn Query) -> Box<dyn Weight> {
    query
        .weight(EnableScoring::enabled_from_searcher(searcher))
        .expect("weight")
}

/// Every (segment, doc, score bits) the query's scorers produce.
fn matches(searcher: &Searcher, query: &dyn Query) -> Vec<(usize, DocId, u32)> {
    let weight = scored_weight(searcher, query);
    let mut out = Vec::new();
    for (s, reader) in searcher.segment_readers().iter().enumerate() {
        let mut scorer = weight.scorer(reader, 1.0).expect("scorer");
        while scorer.doc() != TERMINATED {
            out.push((s, scorer.doc(), scorer.score().to_bits()));
            scorer.advance();
        }
    }
    out
}

/// The same through `Weight::for_each`, as tantivy's collectors read it.
fn matches_for_each(searcher: &Searcher, query: &dyn Query) -> Vec<(usize, DocId, u32)> {
    let weight = scored_weight(searcher, query);
    let mut out = Vec::new();
    for (s, reader) in searcher.segment_readers().iter().enumerate() {
        weight
            .for_each(reader, &mut |doc, score| {
                out.push((s, doc, score.to_bits()))
            })
            .expect("for_each");
    }
    out
}

/// (target, landed doc, score bits) of a series of seeks in every segment.
fn seeks(searcher: &Searcher, query: &dyn Query, step: u32) -> Vec<(DocId, DocId, u32)> {
    let weight = scored_weight(searcher, query);
    let mut out = Vec::new();
    for reader in searcher.segment_readers() {
        let mut scorer = weight.scorer(reader, 1.0).expect("scorer");
        let mut target = 0;
        while scorer.doc() != TERMINATED {
            target += step;
            let doc = scorer.seek(target.max(scorer.doc()));
            let score = if doc == TERMINATED {
                0
            } else {
                scorer.score().to_bits()
            };
            out.push((target, doc, score));
        }
    }
    out
}

fn tantivy_and(words: Vec<Box<dyn Query>>) -> BooleanQuery {
    BooleanQuery::new(words.into_iter().map(|w| (Occur::Must, w)).collect())
}

fn windowed(words: &[Box<dyn Query>]) -> Box<dyn Query> {
    let refs: Vec<&dyn Query> = words.iter().map(|w| &**w).collect();
    Box::new(all_of(&refs))
}

#[test]
fn matches_and_scores_exactly_as_tantivy_boolean_queries() {
    let (index, fields) = index();
    let searcher = index.reader().expect("reader").searcher();
    assert_eq!(searcher.segment_readers().len(), 3);
    let cases: &[&[&str]] = &[
        &["alpha", "bravo"],
        &["charlie", "zulu"],
        &["delta", "alpha"],
        &["echo", "missing"],
    ];
    for words in cases {
        let ours: Vec<_> = words.iter().map(|w| word(&fields, w, true)).collect();
        let theirs: Vec<_> = words.iter().map(|w| word(&fields, w, false)).collect();
        let expected = matches(&searcher, &tantivy_and(theirs));
        let got = matches(&searcher, &*windowed(&ours));
        assert_eq!(got, expected, "{words:?}");
        let got = matches_for_each(&searcher, &*windowed(&ours));
        assert_eq!(got, expected, "{words:?} through for_each");
        if words[1] != "missing" {
            assert!(
                expected.len() > 100,
                "{words:?}: {} matches",
                expected.len()
            );
        }
        for step in [1, 37, 5_000] {
            let theirs: Vec<_> = words.iter().map(|w| word(&fields, w, false)).collect();
            assert_eq!(
                seeks(&searcher, &*windowed(&ours), step),
                seeks(&searcher, &tantivy_and(theirs), step),
                "{words:?} seeking by {step}"
            );
        }
    }
}

/// The matches read in ranges of `step` documents through
/// `for_each_until`, as the search pool reads them.
fn matches_in_ranges(
    searcher: &Searcher,
    query: &dyn Query,
    step: u32,
) -> Vec<(usize, DocId, u32)> {
    let weight = scored_weight(searcher, query);
    let mut out = Vec::new();
    for (s, reader) in searcher.segment_readers().iter().enumerate() {
        let mut scorer = weight.scorer(reader, 1.0).expect("scorer");
        let Some(conjunction) = scorer.downcast_mut::<WindowedConjunction>() else {
            continue;
        };
        let mut end = 0;
        while conjunction.doc() != TERMINATED {
            end += step;
            conjunction.for_each_until(end, &mut |doc, score| {
                assert!(doc < end, "{doc} read before {end}");
                out.push((s, doc, score.to_bits()));
            });
            assert!(conjunction.doc() >= end);
        }
    }
    out
}

#[test]
fn read_in_ranges_it_reads_each_match_once() {
    let (index, fields) = index();
    let searcher = index.reader().expect("reader").searcher();
    let ours = [word(&fields, "alpha", true), word(&fields, "bravo", true)];
    let expected = matches(&searcher, &*windowed(&ours));
    assert!(expected.len() > 100);
    for step in [1, 2, 3, 64, 100, 4096, 5000, 100_000] {
        assert_eq!(
            matches_in_ranges(&searcher, &*windowed(&ours), step),
            expected,
            "ranges of {step}"
        );
    }
}

#[test]
fn nested_unions_and_other_queries_score_as_tantivy_does() {
    let (index, fields) = index();
    let searcher = index.reader().expect("reader").searcher();
    let ours = vec![
        nested_word(&fields, "alpha", true),
        word(&fields, "bravo", true),
        nested_word(&fields, "echo", true),
    ];
    let theirs = vec![
        nested_word(&fields, "alpha", false),
        word(&fields, "bravo", false),
        nested_word(&fields, "echo", false),
    ];
    let expected = matches(&searcher, &tantivy_and(theirs));
    let got = matches(&searcher, &*windowed(&ours));
    assert!(expected.len() > 100);
    // Three words: tantivy adds the cheapest two first, we add in cost
    // order too, but the grouping may differ by a rounding step.
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!((g.0, g.1), (e.0, e.1));
        let (g, e) = (f32::from_bits(g.2), f32::from_bits(e.2));
        assert!((g - e).abs() <= e.abs() * 1e-6, "{g} vs {e}");
    }
}

#[test]
fn inside_another_intersection_it_seeks_correctly() {
    let (index, fields) = index();
    let searcher = index.reader().expect("reader").searcher();
    let rare = || -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(fields.title, "zulu"),
            IndexRecordOption::WithFreqs,
        ))
    };
    let ours = tantivy_and(vec![
        windowed(&[word(&fields, "alpha", true), word(&fields, "delta", true)]),
        rare(),
    ]);
    let theirs = tantivy_and(vec![
        Box::new(tantivy_and(vec![
            word(&fields, "alpha", false),
            word(&fields, "delta", false),
        ])),
        rare(),
    ]);
    let expected = matches(&searcher, &theirs);
    assert!(expected.len() > 20, "{} matches", expected.len());
    assert_eq!(matches(&searcher, &ours), expected);
}

#[test]
fn the_query_builder_shape_uses_the_windowed_scorer() {
    let (index, fields) = index();
    let searcher = index.reader().expect("reader").searcher();
    let query = windowed(&[word(&fields, "alpha", true), word(&fields, "bravo", true)]);
    let weight = scored_weight(&searcher, &*query);
    let scorer = weight
        .scorer(&searcher.segment_readers()[0], 1.0)
        .expect("scorer");
    assert!(scorer.is::<WindowedConjunction>());
}
