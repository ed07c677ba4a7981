//! Property tests (proptest, bounded sizes and case counts): the query
//! parser, range syntax and filter values never panic and refuse exactly
//! what nests too deep; each connector (CSV, JSON, mbox, vCard, .eml,
//! notes) reads arbitrary bytes without a panic, naming the file in every
//! error; random or damaged manifest TOML is an error naming the manifest,
//! never a panic; a CSV keeps every row but a broken
//! one.

use proptest::prelude::*;
use rapport::connectors::Collect;
use rapport::index::search::parse::{MAX_QUERY_DEPTH, TooDeep, parse};
use rapport::index::search::range_syntax::parse_range;
use rapport::index::search::request::filter_from_text;

use crate::common::read_folder;

fn is_field(name: &str) -> bool {
    ["amount", "country", "created"].contains(&name)
}

/// The deepest nesting of parentheses outside quotes, as the parser counts.
fn depth(query: &str) -> usize {
    let (mut depth, mut deepest, mut quoted) = (0usize, 0usize, false);
    let chars: Vec<char> = query.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        match c {
            '"' if quoted => quoted = false,
            '"' if chars[i + 1..].contains(&'"') => quoted = true,
            '(' if !quoted => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn read_bytes(connector: &str, name: &str, bytes: &[u8]) -> Collect {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    read_folder(connector, dir.path())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_parser_never_panics_and_refuses_only_deep_queries(
        query in "[()a-z0-9:\\[\\]{}*\" <>=.-]{0,120}",
        nesting in 0usize..80,
    ) {
        let query = format!("{}{query}", "(".repeat(nesting));
        let expected = depth(&query);
        match parse(&query, &is_field) {
            Ok(_) => prop_assert!(expected <= MAX_QUERY_DEPTH, "{expected} accepted"),
            Err(TooDeep { depth }) => {
                prop_assert!(depth > MAX_QUERY_DEPTH);
                prop_assert_eq!(depth, expected);
            }
        }
    }

    #[test]
    fn ranges_and_filter_values_never_panic(text in "\\PC{0,60}") {
        let _ = parse_range(&text);
        let _ = filter_from_text(&text);
    }

    #[test]
    fn a_closed_number_range_reads_back_its_bounds(low in -1.0e9f64..1.0e9, high in -1.0e9f64..1.0e9) {
        let range = parse_range(&format!("[{low} TO {high}]")).unwrap();
        let rapport::index::search::Filter::Range { gte, lte, .. } = range else {
            panic!("not a range");
        };
        prop_assert_eq!(gte, Some(low.to_string()));
        prop_assert_eq!(lte, Some(high.to_string()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_reader_takes_arbitrary_bytes_without_a_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        prefix in prop_oneof![
            Just(&b""[..]),
            Just(&b"id,name,email\n"[..]),
            Just(&b"{\"tickets\": ["[..]),
            Just(&b"From a@b Mon Jan  1 00:00:00 2024\n"[..]),
            Just(&b"BEGIN:VCARD\n"[..]),
            Just(&b"From: a@b.example\nSubject: s\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"[..]),
            Just(&b"---\ncustomer: acme\ntags: [a\n---\n"[..]),
        ],
    ) {
        let mut input = prefix.to_vec();
        input.extend_from_slice(&bytes);
        for (connector, name) in [
            ("generic-csv", "f.csv"),
            ("generic-json", "f.json"),
            ("mbox", "f.mbox"),
            ("vcard", "f.vcf"),
            ("eml", "f.eml"),
            ("notes", "f.md"),
        ] {
            let read = read_bytes(connector, name, &input);
            prop_assert!(read.errors.iter().all(|e| e.file == name), "{:?}", read.errors);
        }
    }

    #[test]
    fn a_csv_keeps_every_row_but_the_one_with_a_broken_quote(
        rows in 2usize..60,
        broken_at in 0usize..60,
    ) {
        let broken = broken_at % rows;
        let mut text = String::from("id,name,email\n");
        for row in 0..rows {
            if row == broken {
                text.push_str(&format!("B-{row},\"Broken {row},b{row}@example.com\n"));
            } else {
                text.push_str(&format!("R-{row},Person {row},p{row}@example.com\n"));
            }
        }
        let read = read_bytes("generic-csv", "f.csv", text.as_bytes());
        let kept: Vec<&str> = read.records.iter().map(|r| r.external_id.as_str()).collect();
        prop_assert_eq!(kept.len(), rows - 1, "{:?} {:?}", kept, read.errors);
        prop_assert!(!kept.iter().any(|id| id.starts_with("B-")));
        prop_assert_eq!(read.errors.len(), 1, "{:?}", read.errors);
        prop_assert_eq!(read.errors[0].line, Some(broken as u64 + 2));
    }
}

/// The built-in manifests, as texts to damage.
const MANIFESTS: [&str; 4] = [
    include_str!("../../connectors/generic-csv.toml"),
    include_str!("../../connectors/eml.toml"),
    include_str!("../../connectors/zendesk-export.toml"),
    include_str!("../../connectors/notes.toml"),
];

/// Parses a manifest: never a panic, and an error names where it came from.
fn parse_manifest(text: &str) -> Result<(), TestCaseError> {
    use rapport::connectors::Manifest;
    if let Err(e) = Manifest::parse(text, "m.toml") {
        prop_assert!(e.to_string().contains("m.toml"), "{e}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_manifest_toml_never_panics_and_errors_name_it(
        text in "([a-z_\\[\\]\\.]{0,12}( = )?(\"[^\"\n]{0,12}\"|[0-9-]{1,4}|true|\\[[a-z\", ]{0,12}\\]|\\{[a-z =\"]{0,12}\\})?\n){0,12}",
    ) {
        parse_manifest(&text)?;
    }

    #[test]
    fn a_damaged_builtin_manifest_never_panics(
        which in 0usize..MANIFESTS.len(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..40,
        insert in "[\\PC\n]{0,20}",
    ) {
        let original = MANIFESTS[which];
        let mut start = at.index(original.len().max(1));
        while !original.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + cut).min(original.len());
        while !original.is_char_boundary(end) {
            end -= 1;
        }
        let text = format!("{}{insert}{}", &original[..start], &original[end..]);
        parse_manifest(&text)?;
    }
}
