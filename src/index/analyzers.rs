//! The analysers the schema's tokenizer names refer to: mixed English and
//! Japanese text (lindera with IPADIC, or CJK bigrams without a dictionary),
//! English only, Japanese only, exact keywords, and prefixes for suggestions.
//!
//! It must never download anything: the Japanese dictionary is built from the
//! IPADIC source Debian's mecab-ipadic installs, once, and cached.

use std::path::Path;
use std::sync::Arc;

use lindera::segmenter::Segmenter;
use tantivy::tokenizer::{
    LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, TokenizerManager,
};
use wana_kana::ConvertJapanese;

use super::cached_stemmer::CachedEnglishStemmer;
use super::extra_tokenizers::{CjkBigramTokenizer, PairTokenizer, PrefixTokenizer};
use super::japanese_dictionary::{DictionaryError, load_or_build_ipadic};
use super::text_tokenizer::{MixedTextTokenizer, ipadic_segmenter};
use crate::schema::TokenizerKind;

/// Tokens longer than this (in bytes) are dropped: base64 blobs, hashes.
const MAX_TOKEN_BYTES: usize = 100;

/// Which Japanese analysis is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JapaneseMode {
    /// lindera with the IPADIC dictionary.
    Ipadic,
    /// No dictionary installed: overlapping CJK bigrams.
    Bigram,
}

#[derive(Clone)]
pub struct Analyzers {
    segmenter: Option<Arc<Segmenter>>,
}

impl Analyzers {
    /// Loads (building it the first time) the IPADIC dictionary from
    /// `ipadic_source` into `cache_dir`. Without an installed source, Japanese
    /// falls back to bigrams and a warning is logged.
    pub fn load(ipadic_source: &Path, cache_dir: &Path) -> Result<Analyzers, DictionaryError> {
        let dictionary = load_or_build_ipadic(ipadic_source, cache_dir)?;
        let segmenter = dictionary.map(ipadic_segmenter);
        if segmenter.is_none() {
            tracing::warn!(
                source = %ipadic_source.display(),
                "no IPADIC dictionary source found: Japanese text is indexed as CJK bigrams. \
                 Install Debian's mecab-ipadic (apt-get install mecab-ipadic) for word-level Japanese search"
            );
        }
        Ok(Analyzers { segmenter })
    }

    /// Analysers without a Japanese dictionary (bigram fallback).
    pub fn without_dictionary() -> Analyzers {
        Analyzers { segmenter: None }
    }

    /// The reading of Japanese text in romaji, word by word, as IPADIC gives
    /// it ("佐藤 健" → `["sato", "ken"]`, long vowels folded), for matching a
    /// name written in kanji to its romanised form. `None` without a
    /// dictionary, or when a word has no reading.
    pub fn romaji_words(&self, text: &str) -> Option<Vec<String>> {
        let segmenter = self.segmenter.as_ref()?;
        let mut tokens = segmenter.segment(std::borrow::Cow::Borrowed(text)).ok()?;
        let mut words = Vec::new();
        for token in tokens.iter_mut() {
            if token.surface.trim().is_empty() {
                continue;
            }
            let reading = token.get_detail(7).filter(|r| *r != "*")?;
            words.push(crate::normalize::fold_romaji(&reading.to_romaji()));
        }
        (!words.is_empty()).then_some(words)
    }

    pub fn japanese_mode(&self) -> JapaneseMode {
        if self.segmenter.is_some() {
            JapaneseMode::Ipadic
        } else {
            JapaneseMode::Bigram
        }
    }

    /// The tokenizer of [`TokenizerKind::Ngram`] fields, for callers that
    /// ask it about prefixes directly ([`PrefixTokenizer::emits`]).
    pub fn prefix_tokenizer(&self) -> PrefixTokenizer {
        PrefixTokenizer::new(self.analyzer(TokenizerKind::Japanese))
    }

    pub fn analyzer(&self, kind: TokenizerKind) -> TextAnalyzer {
        let mixed = MixedTextTokenizer::new(self.segmenter.clone());
        match kind {
            TokenizerKind::Text => TextAnalyzer::builder(mixed)
                .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
                .filter(LowerCaser)
                .filter(CachedEnglishStemmer)
                .build(),
            TokenizerKind::Japanese => TextAnalyzer::builder(mixed)
                .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
                .filter(LowerCaser)
                .build(),
            TokenizerKind::English => TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
                .filter(LowerCaser)
                .filter(CachedEnglishStemmer)
                .build(),
            TokenizerKind::Keyword => TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .build(),
            TokenizerKind::Exact => TextAnalyzer::builder(RawTokenizer::default()).build(),
            TokenizerKind::Ngram => TextAnalyzer::builder(self.prefix_tokenizer()).build(),
            TokenizerKind::Cjk => TextAnalyzer::builder(CjkBigramTokenizer).build(),
            TokenizerKind::Pairs => {
                TextAnalyzer::builder(PairTokenizer::new(self.analyzer(TokenizerKind::Text)))
                    .build()
            }
            TokenizerKind::CjkPairs => {
                TextAnalyzer::builder(PairTokenizer::new(self.analyzer(TokenizerKind::Cjk))).build()
            }
        }
    }

    /// Registers every analyser under its schema name.
    pub fn register(&self, manager: &TokenizerManager) {
        for kind in [
            TokenizerKind::Text,
            TokenizerKind::English,
            TokenizerKind::Japanese,
            TokenizerKind::Keyword,
            TokenizerKind::Exact,
            TokenizerKind::Ngram,
            TokenizerKind::Cjk,
            TokenizerKind::Pairs,
            TokenizerKind::CjkPairs,
        ] {
            manager.register(kind.tantivy_name(), self.analyzer(kind));
        }
    }
}
