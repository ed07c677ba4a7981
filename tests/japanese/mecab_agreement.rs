//! lindera over the runtime-built IPADIC must segment like MeCab over IPADIC.

use std::io::Write;
use std::process::{Command, Stdio};

use super::support::shared_segmenter;
use rapport::index::text_tokenizer::segment_surfaces;

const FIXTURE: &str = include_str!("../fixtures/ja_business_sentences.txt");

/// Runs `mecab` (default output format) over all sentences at once and
/// returns the surfaces of each, split at the `EOS` lines.
fn mecab_surfaces(sentences: &[&str]) -> Vec<Vec<String>> {
    let mut child = match Command::new("mecab")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) => panic!(
            "cannot run `mecab` ({err}); this test needs it: apt-get install mecab mecab-ipadic-utf8"
        ),
    };
    let mut input = sentences.join("\n");
    input.push('\n');
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "mecab failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout)
        .expect("mecab output is not UTF-8: install mecab-ipadic-utf8");
    let mut all = Vec::new();
    let mut current = Vec::new();
    for line in stdout.lines() {
        if line == "EOS" {
            all.push(std::mem::take(&mut current));
        } else if let Some((surface, _features)) = line.split_once('\t') {
            current.push(surface.to_string());
        } else {
            panic!("unexpected mecab output line {line:?}");
        }
    }
    all
}

#[test]
fn lindera_matches_mecab_on_business_sentences() {
    let sentences: Vec<&str> = FIXTURE.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(sentences.len(), 24, "fixture should hold 24 sentences");
    let expected = mecab_surfaces(&sentences);
    assert_eq!(expected.len(), sentences.len(), "one EOS per sentence");

    let segmenter = shared_segmenter();
    let mut mismatches = Vec::new();
    for (sentence, mecab) in sentences.iter().zip(&expected) {
        let lindera = segment_surfaces(&segmenter, sentence);
        if &lindera != mecab {
            let at = lindera.iter().zip(mecab).position(|(a, b)| a != b);
            let at = at.unwrap_or(lindera.len().min(mecab.len()));
            mismatches.push(format!(
                "{sentence}\n  first difference at token {at}: lindera {:?} vs mecab {:?}\n  lindera: {}\n  mecab:   {}",
                lindera.get(at),
                mecab.get(at),
                lindera.join(" | "),
                mecab.join(" | "),
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} sentences differ:\n{}",
        mismatches.len(),
        sentences.len(),
        mismatches.join("\n")
    );
}
