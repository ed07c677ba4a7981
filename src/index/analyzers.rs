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
            // No LowerCaser after the mixed tokenizer: its tokens are
            // lower-cased already, and lower-casing them again changes
            // nothing (`lower_casing_is_idempotent`); it was 5 % of the
            // index writer's time.
            TokenizerKind::Text => TextAnalyzer::builder(mixed)
                .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
                .filter(CachedEnglishStemmer)
                .build(),
            TokenizerKind::Japanese => TextAnalyzer::builder(mixed)
                .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
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

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::TokenStream;

    /// The mixed tokenizer lower-cases with `str::to_lowercase` (or ASCII
    /// lower-casing); tantivy's LowerCaser lower-cases each character of a
    /// token with `char::to_lowercase`. Every character `str::to_lowercase`
    /// can produce is its own lower case, so a LowerCaser after the mixed
    /// tokenizer could never change a token.
    #[test]
    fn lower_casing_is_idempotent() {
        let unchanged = |d: char| d.to_lowercase().eq(std::iter::once(d));
        let mut checked = 0;
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            for d in c.to_lowercase() {
                assert!(unchanged(d), "U+{:04X} from U+{:04X}", d as u32, c as u32);
            }
            // Final sigma and other context rules of str::to_lowercase.
            for d in format!("a{c}").to_lowercase().chars() {
                assert!(unchanged(d), "U+{:04X} after a letter", d as u32);
            }
            checked += 1;
        }
        assert!(checked > 1_000_000);
        assert!(unchanged('ς'));
    }

    /// Text and Japanese analysis give what they gave with a LowerCaser
    /// after the mixed tokenizer.
    #[test]
    fn mixed_analysis_is_the_same_without_the_lower_caser() {
        let analyzers = Analyzers::without_dictionary();
        let with_lower_caser = |stem: bool| {
            let builder = TextAnalyzer::builder(MixedTextTokenizer::new(None))
                .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
                .filter(LowerCaser);
            if stem {
                builder.filter(CachedEnglishStemmer).build()
            } else {
                builder.build()
            }
        };
        let tokens = |mut analyzer: TextAnalyzer, text: &str| {
            let mut stream = analyzer.token_stream(text);
            let mut out = Vec::new();
            while stream.advance() {
                let t = stream.token();
                out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
            }
            out
        };
        for text in [
            "Invoice DISPUTES at the Fremont Warehouse",
            "ΟΔΥΣΣΕΥΣ Σίσυφος ΣΑΣ",
            "İstanbul ÅNGSTRÖM Straße ǅemal ＡＢＣ１２３",
            "日東電工株式会社の請求書 ｶﾀｶﾅ Renewals",
        ] {
            assert_eq!(
                tokens(analyzers.analyzer(TokenizerKind::Text), text),
                tokens(with_lower_caser(true), text),
                "{text}"
            );
            assert_eq!(
                tokens(analyzers.analyzer(TokenizerKind::Japanese), text),
                tokens(with_lower_caser(false), text),
                "{text}"
            );
        }
    }
}
