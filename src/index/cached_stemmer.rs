//! English stemming that remembers, per thread, the stems of the words it
//! has seen: the same Snowball stemmer as tantivy's `Stemmer` filter, but a
//! word met again (most words of a text, and every word of the snippets of
//! a page of hits) is looked up instead of stemmed again. Snowball was
//! 5–7 % of a two-word search's CPU, mostly re-stemming the hits' bodies.
//!
//! It must never give a stem other than the stemmer's: the memo holds only
//! what the stemmer returned for that exact word, and is emptied, never
//! trimmed, when it is full.

use std::borrow::Cow;
use std::cell::RefCell;

use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Words remembered per thread before the memo starts over: at most about
/// 1 MB per thread (a page of hits needs a few hundred words; the blocking
/// pool's threads, which may be many under load, drop theirs when idle).
const REMEMBERED_WORDS: usize = 8_192;
/// Longer words are stemmed every time (they are rarely repeated).
const LONGEST_REMEMBERED: usize = 32;

thread_local! {
    static STEMS: RefCell<Memo> = RefCell::new(Memo::default());
}

struct Memo {
    stemmer: frostem::Stemmer,
    /// Word → its stem, or none when the stem is the word itself.
    stems: FxHashMap<String, Option<String>>,
}

impl Default for Memo {
    fn default() -> Self {
        Memo {
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
            stems: FxHashMap::default(),
        }
    }
}

impl Memo {
    /// Replaces `word` by its stem.
    fn stem(&mut self, word: &mut String) {
        if word.len() > LONGEST_REMEMBERED {
            if let Cow::Owned(stem) = self.stemmer.stem(word) {
                *word = stem;
            }
            return;
        }
        if let Some(known) = self.stems.get(word.as_str()) {
            if let Some(stem) = known {
                word.clear();
                word.push_str(stem);
            }
            return;
        }
        if self.stems.len() >= REMEMBERED_WORDS {
            self.stems.clear();
        }
        let stem = match self.stemmer.stem(word) {
            Cow::Owned(stem) if stem != *word => Some(stem),
            _ => None,
        };
        self.stems.insert(word.clone(), stem.clone());
        if let Some(stem) = stem {
            *word = stem;
        }
    }
}

/// The token filter: English stems, remembered per thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct CachedEnglishStemmer;

impl TokenFilter for CachedEnglishStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter { inner: tokenizer }
    }
}

#[derive(Clone)]
pub struct CachedStemmerFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
        }
    }
}

pub struct CachedStemmerStream<T> {
    tail: T,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        STEMS.with(|memo| memo.borrow_mut().stem(&mut token.text));
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer};

    use super::*;

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        out
    }

    /// The same tokens as tantivy's own stemmer, whether the memo is cold,
    /// warm, or started over in the middle of a text.
    #[test]
    fn stems_exactly_as_tantivys_stemmer_cold_warm_and_after_a_reset() {
        let text = "Billing disputes were escalated; the customers disputed \
            every invoice, invoiced again, and the generously discounted \
            renewals renewed. Running runners ran; flies fly; happily happy. \
            Internationalization internationalizations supercalifragilisticexpialidocious \
            warehouse warehouses warehousing delayed delaying delays";
        let mut theirs = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build();
        let mut ours = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(CachedEnglishStemmer)
            .build();
        let expected = tokens(&mut theirs, text);
        assert!(expected.contains(&"disput".to_string()), "{expected:?}");
        assert_eq!(tokens(&mut ours, text), expected, "cold");
        assert_eq!(tokens(&mut ours, text), expected, "warm");
        // Fill the memo to its limit so that it starts over mid-text.
        STEMS.with(|memo| {
            let mut memo = memo.borrow_mut();
            let missing = REMEMBERED_WORDS - memo.stems.len() - 3;
            for n in 0..missing {
                memo.stems.insert(format!("filler{n}"), None);
            }
        });
        assert_eq!(tokens(&mut ours, text), expected, "after a reset");
        STEMS.with(|memo| assert!(memo.borrow().stems.len() < REMEMBERED_WORDS));
    }
}
