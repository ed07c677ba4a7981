//! Fragments against tantivy's snippet generator, and phrase marks.

use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{LowerCaser, SimpleTokenizer};

use super::*;

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .build()
}

fn terms(words: &[(&str, f32)]) -> BTreeMap<String, f32> {
    words.iter().map(|(w, s)| (w.to_string(), *s)).collect()
}

fn singles(words: &[&str]) -> BTreeSet<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn without_phrases_the_fragment_and_marks_are_tantivys() {
    let texts = [
        "Invoice 42 was sent. The invoice was disputed by the customer, who asked for a credit note on the invoice.",
        &format!(
            "{} renewal call {} the renewal of the invoice & <terms>",
            "lorem ".repeat(60),
            "ipsum ".repeat(40)
        ),
        "nothing to see here",
        "",
    ];
    let weights = terms(&[("invoice", 0.2), ("renewal", 0.5), ("terms", 0.1)]);
    for text in texts {
        for max in [40, 150] {
            let ours = Highlighter::new(weights.clone(), &[], BTreeSet::new(), analyzer(), max);
            let field =
                tantivy::schema::Schema::builder().add_text_field("f", tantivy::schema::TEXT);
            let theirs = SnippetGenerator::new(weights.clone(), analyzer(), field, max);
            let mut snippet = theirs.snippet(text);
            snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
            let expected = (!snippet.highlighted().is_empty()).then(|| snippet.to_html());
            assert_eq!(ours.html(text), expected, "{max}: {text}");
        }
    }
}

#[test]
fn a_phrase_is_marked_where_it_stands_and_nowhere_else() {
    let text = "The cat sat. A black cat sat on the black mat.";
    let weights = terms(&[("black", 0.3), ("cat", 0.3)]);
    let phrase = vec![vec!["black".to_string(), "cat".to_string()]];
    let only = Highlighter::new(weights.clone(), &phrase, BTreeSet::new(), analyzer(), 150);
    assert_eq!(
        only.html(text).unwrap(),
        "The cat sat. A <mark>black</mark> <mark>cat</mark> sat on the black mat"
    );
    // Searched on its own too, a word is marked everywhere.
    let also = Highlighter::new(weights.clone(), &phrase, singles(&["cat"]), analyzer(), 150);
    assert_eq!(
        also.html(text).unwrap(),
        "The <mark>cat</mark> sat. A <mark>black</mark> <mark>cat</mark> sat on the black mat"
    );
    // No whole phrase in the text: every term is marked, as tantivy would.
    let elsewhere = "A cat and a black dog.";
    assert_eq!(
        only.html(elsewhere).unwrap(),
        "A <mark>cat</mark> and a <mark>black</mark> dog"
    );
}

#[test]
fn the_fragment_holding_the_phrase_is_chosen_and_never_cut_in_two() {
    // Lone phrase words early, the phrase itself late: the late fragment
    // weighs more once the lone words are not marked. Whatever the
    // fragment length, the phrase is not split between two fragments.
    let text = format!(
        "black black black black and cat cat cat. {} Here a black cat sleeps.",
        "filler ".repeat(40)
    );
    let weights = terms(&[("black", 0.3), ("cat", 0.3)]);
    let phrase = vec![vec!["black".to_string(), "cat".to_string()]];
    for max in 20..80 {
        let ours = Highlighter::new(weights.clone(), &phrase, BTreeSet::new(), analyzer(), max);
        let html = ours.html(&text).unwrap();
        assert!(
            html.contains("<mark>black</mark> <mark>cat</mark>"),
            "{max}: {html}"
        );
        assert!(!html.contains("black black"), "{max}: {html}");
    }
}

#[test]
fn touching_marks_are_one_and_text_is_escaped() {
    // A tokenizer that cuts "ab" out of "abcd" touching "cd" stands in for
    // IPADIC cutting 請求書 into 請求 + 書: use a two-word phrase with
    // nothing between (offsets touching is what matters to `render`).
    let html = render("x<abcd>&y", 0, &[2..4, 4..6]);
    assert_eq!(html, "x&lt;<mark>abcd</mark>&gt;&amp;y");
    let html = render("say \"hi\" 'you'", 0, std::slice::from_ref(&(5..7)));
    assert_eq!(html, "say &quot;<mark>hi</mark>&quot; &#x27;you&#x27;");
}
