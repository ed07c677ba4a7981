//! Snippets of long texts (a mailbox's email bodies can run to hundreds of
//! kilobytes): the match is highlighted wherever it is, in English and
//! Japanese, through exact words and typo corrections; a Japanese word the
//! dictionary cuts in two is marked as one; and a phrase is marked where it
//! stands, not wherever one of its words does.

use rapport::record::{Record, RecordKind};

use super::fixture::{record, workspace_with};
use crate::common::hit_ids;

/// About `bytes` of words that no query below asks for.
fn filler(bytes: usize) -> String {
    let words = [
        "lorem ",
        "ipsum ",
        "dolor ",
        "sit ",
        "amet ",
        "consectetur ",
    ];
    let mut out = String::new();
    let mut i = 0;
    while out.len() < bytes {
        out.push_str(words[i % words.len()]);
        i += 1;
    }
    out
}

fn records() -> Vec<Record> {
    let mut english = record(None, "MAIL-LONG", RecordKind::Email, "Quarterly thread");
    english.body = Some(format!(
        "Opening remarks on the tungsten order. {}Finally the zircon contract was signed. {}",
        filler(150_000),
        filler(20_000)
    ));
    let sentence = "倉庫への出荷が二日遅れている件で打ち合わせを行った。";
    let mut japanese = record(None, "MAIL-JA", RecordKind::Email, "出荷の件");
    japanese.body = Some(format!(
        "{}来期の保守契約について相談を受けた。{}",
        sentence.repeat(3_000),
        sentence.repeat(100)
    ));
    let mut short = record(None, "NOTE-JA", RecordKind::Note, "商談メモ");
    short.body = Some("購買部と打ち合わせ。請求書の送付先を変更する。報告書も添付。".into());
    let mut phrase = record(None, "NOTE-EN", RecordKind::Note, "Call notes");
    phrase.body =
        Some("We billed them twice in March. They raised a billing dispute about it.".into());
    vec![english, japanese, short, phrase]
}

fn body_snippet(server: &crate::common::Server, q: &str, id: &str) -> String {
    let url = reqwest::Url::parse_with_params(
        &format!("{}/v1/search", server.base),
        &[("q", q), ("group", "none")],
    )
    .unwrap();
    let (status, response) = server.get(&url.as_str()[server.base.len()..]);
    assert_eq!(status, 200, "{response}");
    assert!(
        hit_ids(&response).contains(&format!("crm:{id}")),
        "{q}: {response}"
    );
    let hits = response["hits"].as_array().unwrap();
    let hit = hits
        .iter()
        .find(|h| h["id"] == format!("crm:{id}").as_str())
        .unwrap();
    hit["snippets"]["body"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{q}: no body snippet in {hit}"))
}

#[test]
fn long_texts_are_highlighted_where_they_match_and_split_words_are_marked_once() {
    let ws = workspace_with(&records());
    let server = ws.serve();

    // 150 kB into the body.
    let deep = body_snippet(&server, "zircon", "MAIL-LONG");
    assert!(deep.contains("<mark>zircon</mark>"), "{deep}");
    assert!(
        deep.chars().count() < 250,
        "one fragment, not the body: {deep}"
    );
    let both = body_snippet(&server, "zircon contract", "MAIL-LONG");
    assert!(
        both.contains("<mark>zircon</mark> <mark>contract</mark>"),
        "{both}"
    );
    // A typo near the start of the same body (a word no body has as typed).
    let typo = body_snippet(&server, "tungstn", "MAIL-LONG");
    assert!(typo.contains("<mark>tungsten</mark>"), "{typo}");

    // 250 kB of Japanese before the word.
    let japanese = body_snippet(&server, "保守契約", "MAIL-JA");
    assert!(japanese.contains("<mark>保守契約</mark>"), "{japanese}");

    // IPADIC cuts 請求書 into 請求 + 書: one highlight, not two touching,
    // and not the 書 of 報告書.
    let split = body_snippet(&server, "請求書", "NOTE-JA");
    assert!(split.contains("<mark>請求書</mark>"), "{split}");
    assert!(!split.contains("</mark><mark>"), "{split}");
    assert!(split.contains("報告書"), "{split}");
}

#[test]
fn a_phrase_is_highlighted_where_it_stands() {
    let ws = workspace_with(&records());
    let server = ws.serve();

    // "billed" stems like "billing", but only the phrase is marked.
    let phrase = body_snippet(&server, "\"billing dispute\"", "NOTE-EN");
    assert!(
        phrase.contains("<mark>billing</mark> <mark>dispute</mark>"),
        "{phrase}"
    );
    assert!(!phrase.contains("<mark>billed</mark>"), "{phrase}");
    // Asked for on its own too, the word is marked everywhere.
    let both = body_snippet(&server, "\"billing dispute\" billed", "NOTE-EN");
    assert!(both.contains("<mark>billed</mark>"), "{both}");
    assert!(
        both.contains("<mark>billing</mark> <mark>dispute</mark>"),
        "{both}"
    );
}
