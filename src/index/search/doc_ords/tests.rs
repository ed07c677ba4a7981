//! Dense ordinals against the columns they are built from, on a real
//! tantivy index: single values of every width, absent values, and
//! multi-valued documents.

use tantivy::schema::{FAST, STRING, Schema};
use tantivy::{Index, IndexWriter, TantivyDocument};

use super::*;

const DOCS: u32 = 70_000;

/// A one-segment index: `small` has 3 values, `wide` 300, `huge` one per
/// document, `sparse` a value on every seventh document, `tags` none, one,
/// or several per document.
fn index() -> Index {
    let mut builder = Schema::builder();
    let small = builder.add_text_field("small", STRING | FAST);
    let wide = builder.add_text_field("wide", STRING | FAST);
    let huge = builder.add_text_field("huge", STRING | FAST);
    let sparse = builder.add_text_field("sparse", STRING | FAST);
    let tags = builder.add_text_field("tags", STRING | FAST);
    let index = Index::create_in_ram(builder.build());
    let mut writer: IndexWriter = index.writer_with_num_threads(1, 50_000_000).unwrap();
    for d in 0..DOCS {
        let mut doc = TantivyDocument::default();
        doc.add_text(small, ["a", "b", "c"][(d % 3) as usize]);
        doc.add_text(wide, format!("w{:03}", d % 300));
        doc.add_text(huge, format!("h{d:06}"));
        if d % 7 == 0 {
            doc.add_text(sparse, format!("s{}", d % 11));
        }
        for t in 0..(d % 4) {
            doc.add_text(tags, format!("t{}", (d + t * 5) % 9));
        }
        writer.add_document(doc).unwrap();
    }
    writer.commit().unwrap();
    index
}

#[test]
fn dense_ordinals_equal_the_column_for_every_document() {
    let index = index();
    let searcher = index.reader().unwrap().searcher();
    let reader = searcher.segment_reader(0);
    let expected_kind = [
        ("small", "One8"),
        ("wide", "One16"),
        ("huge", "One32"),
        ("sparse", "One8"),
        ("tags", "Many"),
    ];
    for (name, kind) in expected_kind {
        let column = reader.fast_fields().str(name).unwrap().unwrap();
        let dense = DocOrds::build(&column, reader.max_doc());
        let built_kind = match &dense {
            DocOrds::One8(_) => "One8",
            DocOrds::One16(_) => "One16",
            DocOrds::One32(_) => "One32",
            DocOrds::Many { .. } => "Many",
        };
        assert_eq!(built_kind, kind, "{name}");
        for doc in 0..reader.max_doc() {
            let want: Vec<u32> = column.term_ords(doc).map(|o| o as u32).collect();
            let mut got = Vec::new();
            dense.for_each(doc, |o| got.push(o));
            assert_eq!(got, want, "{name}, document {doc}");
            assert_eq!(dense.first(doc), want.first().copied(), "{name}, {doc}");
            assert_eq!(dense.count(doc), want.len(), "{name}, {doc}");
        }
        // Past the end: nothing, not a panic.
        assert_eq!(dense.first(reader.max_doc() + 5), None);
    }
}

#[test]
fn the_cache_hands_back_one_table_per_segment_and_field() {
    let index = index();
    let searcher = index.reader().unwrap().searcher();
    let reader = searcher.segment_reader(0);
    let column = reader.fast_fields().str("small").unwrap().unwrap();
    let cache = DocOrdsCache::with_budget(1 << 20);
    let first = cache.doc_ords(reader.segment_id(), "small", &column, reader.max_doc());
    let again = cache.doc_ords(reader.segment_id(), "small", &column, reader.max_doc());
    assert!(Arc::ptr_eq(&first, &again));
    let tags = reader.fast_fields().str("tags").unwrap().unwrap();
    let other = cache.doc_ords(reader.segment_id(), "tags", &tags, reader.max_doc());
    assert!(!Arc::ptr_eq(&first, &other));
    assert_eq!(cache.kept().1, 2);
    // Another index's cache holds nothing of this one's.
    let elsewhere = DocOrdsCache::with_budget(1 << 20);
    assert_eq!(elsewhere.kept(), (0, 0));
    let built = elsewhere.doc_ords(reader.segment_id(), "small", &column, reader.max_doc());
    assert!(!Arc::ptr_eq(&first, &built));
}
