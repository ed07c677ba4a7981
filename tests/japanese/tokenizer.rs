use super::support::{assert_offsets_sane, shared_segmenter, texts, tokens};
use rapport::index::text_tokenizer::MixedTextTokenizer;
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{Language, Stemmer, TextAnalyzer};
use tantivy::{Index, TantivyDocument, doc};

fn with_dictionary() -> MixedTextTokenizer {
    MixedTextTokenizer::new(Some(shared_segmenter()))
}

/// (text, original slice) pairs, the form most assertions want.
fn pairs<'a>(input: &'a str, tokens: &[tantivy::tokenizer::Token]) -> Vec<(String, &'a str)> {
    tokens
        .iter()
        .map(|t| (t.text.clone(), &input[t.offset_from..t.offset_to]))
        .collect()
}

#[test]
fn japanese_sentence_is_segmented_and_symbols_dropped() {
    let mut tokenizer = with_dictionary();
    assert!(tokenizer.has_dictionary());
    let input = "東京都の顧客に請求書を送付しました。次も、よろしく";
    let found = tokens(&mut tokenizer, input);
    assert_offsets_sane(input, &found);
    let words = texts(&found);
    assert_eq!(&words[..3], ["東京", "都", "の"], "{words:?}");
    for expected in ["顧客", "請求", "送付"] {
        assert!(
            words.contains(&expected),
            "{expected} missing from {words:?}"
        );
    }
    assert!(
        !words.contains(&"。") && !words.contains(&"、"),
        "{words:?}"
    );
    for (text, original) in pairs(input, &found) {
        assert_eq!(text, original);
    }
}

#[test]
fn mixed_english_and_japanese_keep_original_offsets() {
    let mut tokenizer = with_dictionary();
    let input = "Invoice sent to 株式会社日東 in Osaka.";
    let found = tokens(&mut tokenizer, input);
    assert_offsets_sane(input, &found);
    let got = pairs(input, &found);
    let expected = [
        ("invoice", "Invoice"),
        ("sent", "sent"),
        ("to", "to"),
        ("株式会社", "株式会社"),
        ("日東", "日東"),
        ("in", "in"),
        ("osaka", "Osaka"),
    ];
    let got_ref: Vec<(&str, &str)> = got.iter().map(|(t, o)| (t.as_str(), *o)).collect();
    assert_eq!(got_ref, expected);
}

#[test]
fn full_width_and_half_width_forms_are_folded() {
    for mut tokenizer in [with_dictionary(), MixedTextTokenizer::new(None)] {
        let input = "ＡＢＣ１２３ ｶﾀｶﾅ";
        let found = tokens(&mut tokenizer, input);
        assert_offsets_sane(input, &found);
        let got = pairs(input, &found);
        assert_eq!(got[0], ("abc123".to_string(), "ＡＢＣ１２３"));
        if tokenizer.has_dictionary() {
            assert_eq!(got[1..], [("カタカナ".to_string(), "ｶﾀｶﾅ")]);
        } else {
            let bigrams: Vec<&str> = got[1..].iter().map(|(t, _)| t.as_str()).collect();
            assert_eq!(bigrams, ["カタ", "タカ", "カナ"]);
        }
    }
}

#[test]
fn offsets_after_nfkc_changing_characters_are_exact() {
    let mut tokenizer = with_dictionary();
    // ｶﾞ is two chars that compose into one; ㈱ expands to "(株)"; Ｔｏｋｙｏ
    // and the ideographic space shrink in bytes.
    let input = "ｶﾞｲﾄﾞ㈱Ｔｏｋｙｏ\u{3000}請求書 Café ﬁnal";
    let found = tokens(&mut tokenizer, input);
    assert_offsets_sane(input, &found);
    let got = pairs(input, &found);
    let got_ref: Vec<(&str, &str)> = got.iter().map(|(t, o)| (t.as_str(), *o)).collect();
    assert_eq!(
        got_ref,
        [
            ("ガイド", "ｶﾞｲﾄﾞ"),
            ("株", "㈱"),
            ("tokyo", "Ｔｏｋｙｏ"),
            ("請求", "請求"),
            ("書", "書"),
            ("café", "Café"),
            ("final", "ﬁnal"),
        ]
    );
}

#[test]
fn bigram_fallback_without_dictionary() {
    let mut tokenizer = MixedTextTokenizer::new(None);
    assert!(!tokenizer.has_dictionary());
    let input = "東京都 と 京 in Kyoto";
    let found = tokens(&mut tokenizer, input);
    assert_offsets_sane(input, &found);
    let got = pairs(input, &found);
    let got_ref: Vec<(&str, &str)> = got.iter().map(|(t, o)| (t.as_str(), *o)).collect();
    assert_eq!(
        got_ref,
        [
            ("東京", "東京"),
            ("京都", "京都"),
            ("と", "と"),
            ("京", "京"),
            ("in", "in"),
            ("kyoto", "Kyoto"),
        ]
    );
}

#[test]
fn empty_and_symbol_only_input() {
    let mut tokenizer = with_dictionary();
    assert!(tokens(&mut tokenizer, "").is_empty());
    assert!(tokens(&mut tokenizer, "。、「」・ -- !!").is_empty());
}

#[test]
fn english_stemmer_leaves_japanese_tokens_intact() {
    let mut analyzer = TextAnalyzer::builder(with_dictionary())
        .filter(Stemmer::new(Language::English))
        .build();
    let input = "Invoices were sent to 株式会社日東の顧客たち and meetings happened";
    let mut stream = analyzer.token_stream(input);
    let mut got = Vec::new();
    while let Some(token) = stream.next() {
        got.push(token.text.clone());
    }
    let mut plain = with_dictionary();
    let unstemmed = tokens(&mut plain, input);
    for (stemmed, original) in got.iter().zip(&unstemmed) {
        if !original.text.is_ascii() {
            assert_eq!(stemmed, &original.text, "stemmer changed a Japanese token");
        }
    }
    assert!(got.contains(&"invoic".to_string()), "{got:?}");
    assert!(got.contains(&"meet".to_string()), "{got:?}");
    assert!(got.contains(&"顧客".to_string()), "{got:?}");
}

#[test]
fn tantivy_index_finds_and_highlights_japanese() {
    let mut schema_builder = Schema::builder();
    let indexing = TextFieldIndexing::default()
        .set_tokenizer("mixed")
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let body = schema_builder.add_text_field(
        "body",
        TextOptions::default().set_indexing_options(indexing) | STORED,
    );
    let index = Index::create_in_ram(schema_builder.build());
    index.tokenizers().register(
        "mixed",
        TextAnalyzer::builder(with_dictionary())
            .filter(Stemmer::new(Language::English))
            .build(),
    );
    let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
    writer
        .add_document(doc!(body => "Ｒｅ：東京都の顧客に請求書を送付しました。"))
        .unwrap();
    writer
        .add_document(doc!(body => "Invoice sent to 株式会社日東 in Osaka."))
        .unwrap();
    writer.commit().unwrap();
    let searcher = index.reader().unwrap().searcher();
    let parser = QueryParser::for_index(&index, vec![body]);

    let query = parser.parse_query("東京").unwrap();
    let hits = searcher
        .search(&query, &TopDocs::with_limit(5).order_by_score())
        .unwrap();
    assert_eq!(hits.len(), 1);
    let doc: TantivyDocument = searcher.doc(hits[0].1).unwrap();
    let snippet = SnippetGenerator::create(&searcher, &query, body)
        .unwrap()
        .snippet_from_doc(&doc);
    // tantivy ends a fragment at the last token, so the dropped 。 is cut.
    assert_eq!(
        snippet.fragment(),
        "Ｒｅ：東京都の顧客に請求書を送付しました"
    );
    assert_eq!(
        snippet.to_html(),
        "Ｒｅ：<b>東京</b>都の顧客に請求書を送付しました"
    );

    for (query, expected) in [("invoices", 1), ("日東", 1), ("RE", 1), ("京都", 0)] {
        let query = parser.parse_query(query).unwrap();
        let count = searcher.search(&query, &tantivy::collector::Count).unwrap();
        assert_eq!(count, expected, "{query:?}");
    }
}

#[test]
fn odd_inputs_keep_offsets_on_char_boundaries() {
    let inputs = [
        "ﾞｶﾞ",                                 // a lone half-width voiced mark first
        "cafe\u{301} re\u{301}sume\u{301}",  // decomposed accents compose
        "\u{1100}\u{1161}\u{11A8}와 한국어", // conjoining jamo compose to 각
        "👍🏽 emoji 絵文字😀テスト",
        "ｱｲｳ\u{FF9F}ー々〆",
        "مرحبا 世界 שלום",
        "１２３ＡＢＣ-ｘｙｚ／東京",
        "\u{3000}\u{3000}。",
    ];
    let mut with = with_dictionary();
    let mut without = MixedTextTokenizer::new(None);
    for input in inputs {
        for tokenizer in [&mut with, &mut without] {
            // Twice: the tokenizer reuses its buffers between calls.
            let first = tokens(tokenizer, input);
            assert_offsets_sane(input, &first);
            assert_eq!(first, tokens(tokenizer, input), "{input}");
        }
    }
    let found = tokens(&mut with, "cafe\u{301} \u{1100}\u{1161}\u{11A8}");
    let got: Vec<(&str, usize, usize)> = found
        .iter()
        .map(|t| (t.text.as_str(), t.offset_from, t.offset_to))
        .collect();
    assert_eq!(got, [("café", 0, 6), ("각", 7, 16)]);
}
