//! Shared helpers for the Japanese tests: one IPADIC build per cache dir,
//! reused by every test process and every test thread.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use lindera::segmenter::Segmenter;
use rapport::index::japanese_dictionary::load_or_build_ipadic;
use rapport::index::text_tokenizer::ipadic_segmenter;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Where Debian's mecab-ipadic package installs the IPADIC source.
pub const IPADIC_SOURCE: &str = "/usr/share/mecab/dic/ipadic";

/// The cache shared by all tests and the binary: the machine's (kept
/// between runs), else one per target directory.
pub fn shared_cache_dir() -> PathBuf {
    rapport::config::shared_cache_dir()
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("ipadic-cache"))
}

/// A segmenter over the shared IPADIC build. Fails the test, rather than
/// skipping it, when the dictionary source is not installed.
pub fn shared_segmenter() -> Arc<Segmenter> {
    static SEGMENTER: OnceLock<Arc<Segmenter>> = OnceLock::new();
    SEGMENTER
        .get_or_init(|| {
            let dictionary = load_or_build_ipadic(Path::new(IPADIC_SOURCE), &shared_cache_dir())
                .unwrap_or_else(|err| panic!("IPADIC build failed: {err:?}"))
                .unwrap_or_else(|| {
                    panic!("no IPADIC source in {IPADIC_SOURCE}: apt-get install mecab-ipadic")
                });
            ipadic_segmenter(dictionary)
        })
        .clone()
}

/// Runs `tokenizer` over `text` and collects the tokens.
pub fn tokens<T: Tokenizer>(tokenizer: &mut T, text: &str) -> Vec<Token> {
    let mut stream = tokenizer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().clone());
    }
    out
}

pub fn texts(tokens: &[Token]) -> Vec<&str> {
    tokens.iter().map(|t| t.text.as_str()).collect()
}

/// Asserts every token's offsets slice `input` at char boundaries and that
/// positions count up from zero.
pub fn assert_offsets_sane(input: &str, tokens: &[Token]) {
    for (i, token) in tokens.iter().enumerate() {
        assert_eq!(token.position, i, "position of {token:?}");
        assert!(
            input
                .get(token.offset_from..token.offset_to)
                .is_some_and(|s| !s.is_empty()),
            "offsets of {token:?} do not slice {input:?}"
        );
    }
}
