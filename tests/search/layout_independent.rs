//! The same records must answer the same whatever the index's layout: one
//! indexing thread and one segment, or several threads whose documents land
//! in several segments by the threads' timing (segments then come in the
//! order of their random ids). The fixed corpus of the golden-file test is
//! indexed once per layout by the real engine, and every answer is compared
//! as it is, without putting ties in any order: the same hits in the same
//! order with the same scores, the same customers with the same records,
//! the same suggestions in the same order, the same export rows in the same
//! order. Many of these answers are all ties (a match-all query, a sort by
//! amount where most records have none), so an order that comes from where
//! a document sits shows at once.

use rapport::engine::Rapport;
use rapport::export::ExportRequest;
use rapport::export::rows::RowWriter;
use rapport::index::search::SearchRequest;
use serde_json::Value;

/// Searches whose answers are compared: words, a phrase, a typo, Japanese,
/// all-tie queries, sorts, grouping, paging, facets.
fn searches() -> Vec<Vec<(&'static str, &'static str)>> {
    let mut out = Vec::new();
    for q in [
        "*",
        "invoice",
        "renewal warehouse",
        "\"billing dispute\"",
        "invoise",
        "請求書",
        "東京",
        "株式会社",
        "priority",
        "gold",
    ] {
        out.push(vec![("q", q), ("group", "none"), ("limit", "100")]);
        out.push(vec![
            ("q", q),
            ("group", "none"),
            ("limit", "20"),
            ("offset", "40"),
        ]);
        out.push(vec![
            ("q", q),
            ("group", "customer"),
            ("limit", "30"),
            ("facets", "customer_country,stage"),
        ]);
    }
    for sort in ["amount", "date"] {
        for order in ["desc", "asc"] {
            out.push(vec![
                ("q", "*"),
                ("group", "none"),
                ("sort", sort),
                ("order", order),
                ("limit", "150"),
            ]);
            out.push(vec![
                ("q", "*"),
                ("group", "customer"),
                ("sort", sort),
                ("order", order),
                ("limit", "40"),
            ]);
        }
    }
    out
}

fn answers(app: &Rapport) -> Vec<Value> {
    let mut out: Vec<Value> = searches()
        .into_iter()
        .map(|params| {
            let request = SearchRequest::from_params(params.iter().copied()).unwrap();
            let mut answer = serde_json::to_value(app.search(&request).unwrap()).unwrap();
            answer["took_ms"] = Value::Null;
            answer
        })
        .collect();
    for prefix in ["Bri", "north", "東", "鈴木", "jo", "a"] {
        let mut answer =
            serde_json::to_value(app.suggest(prefix, 20, &Default::default()).unwrap()).unwrap();
        answer["took_ms"] = Value::Null;
        out.push(answer);
    }
    for q in ["invoice", "*", "東京"] {
        let params = [("q", q), ("format", "ndjson")];
        let request = ExportRequest::from_params(params.iter().copied()).unwrap();
        let prepared = app.prepare_export(request.clone()).unwrap();
        let mut writer = RowWriter::new(
            Vec::new(),
            request.format,
            request.columns(),
            request.fields.is_none(),
        );
        app.write_export(prepared, &mut writer).unwrap();
        let rows = String::from_utf8(writer.finish().unwrap()).unwrap();
        out.push(Value::String(rows));
    }
    out
}

/// The golden-file corpus indexed with `threads` indexing threads; the
/// number of segments and the answers.
fn build(threads: usize) -> (usize, Vec<Value>) {
    let (_dir, app) = super::golden_corpus::open(threads);
    let segments = app.footprint().unwrap().index.segments;
    (segments, answers(&app))
}

#[test]
fn answers_do_not_depend_on_indexing_threads_or_segments() {
    let (one_segment, expected) = build(1);
    assert_eq!(one_segment, 1);
    for threads in [2, 4] {
        let (segments, found) = build(threads);
        assert!(segments > 1, "{threads} threads: {segments} segment(s)");
        assert_eq!(found.len(), expected.len());
        for (i, (found, expected)) in found.iter().zip(&expected).enumerate() {
            assert!(
                found == expected,
                "{threads} threads, {segments} segments, answer {i} differs:\nnow:      {found}\none segment: {expected}"
            );
        }
    }
}
