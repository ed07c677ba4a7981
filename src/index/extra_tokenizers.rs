//! Analysers that exist for matching other units than words:
//! `CjkBigramTokenizer` (overlapping pairs of Japanese characters, so that a
//! part of a compound such as 日東 in 日東電工株式会社 finds the whole, whatever
//! the dictionary's segmentation), `PrefixTokenizer` (every prefix of a
//! value and of each of its words, for suggestions and search-as-you-type),
//! and `PairTokenizer` (each two adjacent tokens as one, so that a phrase is
//! found through a term instead of by comparing positions).
//!
//! They must never replace the word-level analysis of text fields: they feed
//! extra fields only, and never report offsets into normalised text.

use tantivy::tokenizer::{PreTokenizedStream, PreTokenizedString, TextAnalyzer, Token, Tokenizer};

use super::text_tokenizer::{for_each_normalized, is_japanese};

/// The longest prefix, in characters, the prefix tokenizer emits.
pub const MAX_PREFIX_CHARS: usize = 20;

fn stream(text: &str, tokens: Vec<Token>) -> PreTokenizedStream {
    PreTokenizedStream::from(PreTokenizedString {
        text: text.to_string(),
        tokens,
    })
}

/// Overlapping bigrams of each run of Japanese characters (NFKC-folded, so
/// half-width katakana match full-width); a run of one character is emitted
/// as it is. Non-Japanese text produces no tokens.
#[derive(Clone, Default)]
pub struct CjkBigramTokenizer;

impl Tokenizer for CjkBigramTokenizer {
    type TokenStream<'a> = PreTokenizedStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PreTokenizedStream {
        stream(text, cjk_bigrams(text))
    }
}

/// The bigram tokens of `text` (see [`CjkBigramTokenizer`]).
pub fn cjk_bigrams(text: &str) -> Vec<Token> {
    // ASCII text holds no Japanese, even once NFKC-folded: most English
    // values, skipped without folding them character by character.
    if text.is_ascii() {
        return Vec::new();
    }
    let mut runs: Vec<Vec<(char, usize, usize)>> = vec![Vec::new()];
    for_each_normalized(text, |c, start, end| {
        if is_japanese(c) {
            if let Some(run) = runs.last_mut() {
                run.push((c, start, end));
            }
        } else if runs.last().is_some_and(|r| !r.is_empty()) {
            runs.push(Vec::new());
        }
    });
    let mut tokens = Vec::new();
    for run in runs.iter().filter(|r| !r.is_empty()) {
        if run.len() == 1 {
            let (c, start, end) = run[0];
            push(&mut tokens, c.to_string(), start, end);
            continue;
        }
        for pair in run.windows(2) {
            let text: String = [pair[0].0, pair[1].0].iter().collect();
            push(&mut tokens, text, pair[0].1, pair[1].2.max(pair[0].2));
        }
    }
    tokens
}

fn push(tokens: &mut Vec<Token>, text: String, start: usize, end: usize) {
    let position = tokens.len();
    tokens.push(Token {
        offset_from: start,
        offset_to: end,
        position,
        text,
        position_length: 1,
    });
}

/// Joins the two tokens of a pair (no analyser keeps this control
/// character in a token).
pub const PAIR_SEPARATOR: char = '\u{1f}';

/// One token per two adjacent tokens of another analyser (positions `p`
/// and `p + 1`), at the first one's position: a phrase of `n` tokens is
/// then `n - 1` consecutive pairs, and a two-token phrase is one term.
#[derive(Clone)]
pub struct PairTokenizer {
    words: TextAnalyzer,
}

impl PairTokenizer {
    pub fn new(words: TextAnalyzer) -> Self {
        PairTokenizer { words }
    }
}

/// The pair token of `first` and `second`.
pub fn pair_text(first: &str, second: &str) -> String {
    let mut text = String::with_capacity(first.len() + second.len() + 1);
    text.push_str(first);
    text.push(PAIR_SEPARATOR);
    text.push_str(second);
    text
}

impl Tokenizer for PairTokenizer {
    type TokenStream<'a> = PreTokenizedStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PreTokenizedStream {
        let mut tokens = Vec::new();
        let mut previous: Option<Token> = None;
        let mut words = self.words.token_stream(text);
        while words.advance() {
            let token = words.token().clone();
            if let Some(first) = previous.take()
                && token.position == first.position + 1
            {
                tokens.push(Token {
                    offset_from: first.offset_from,
                    offset_to: token.offset_to.max(first.offset_to),
                    position: first.position,
                    text: pair_text(&first.text, &token.text),
                    position_length: 1,
                });
            }
            previous = Some(token);
        }
        stream(text, tokens)
    }
}

/// Prefixes (1 to [`MAX_PREFIX_CHARS`] characters) of the whole value
/// (NFKC-folded, lower-cased, spaces collapsed) and of every word the mixed
/// analyser finds in it, so that "acm", "robo", "日東" and "日東電" all complete
/// "Acme Robotics" or "日東電工株式会社".
#[derive(Clone)]
pub struct PrefixTokenizer {
    words: TextAnalyzer,
}

impl PrefixTokenizer {
    /// `words` splits a value into lower-cased words (no stemming).
    pub fn new(words: TextAnalyzer) -> Self {
        PrefixTokenizer { words }
    }
}

impl Tokenizer for PrefixTokenizer {
    type TokenStream<'a> = PreTokenizedStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PreTokenizedStream {
        let mut texts = vec![normalize_for_prefix(text)];
        let mut words = self.words.token_stream(text);
        while words.advance() {
            texts.push(words.token().text.clone());
        }
        let mut tokens = Vec::new();
        let mut seen = rustc_hash::FxHashSet::default();
        for value in texts {
            let mut prefix = String::new();
            for c in value.chars().take(MAX_PREFIX_CHARS) {
                prefix.push(c);
                if !c.is_whitespace() && !seen.contains(prefix.as_str()) {
                    seen.insert(prefix.clone());
                    push(&mut tokens, prefix.clone(), 0, text.len());
                }
            }
        }
        stream(text, tokens)
    }
}

impl PrefixTokenizer {
    /// Which of `wanted` (normalised as [`normalize_for_prefix`] does) are
    /// among the prefixes [`Tokenizer::token_stream`] would emit for `text`,
    /// found without building them: checking a suggestion's candidates
    /// that way was a third of a suggestion's time.
    pub fn emits(&mut self, text: &str, wanted: &[&str]) -> Vec<bool> {
        // A prefix is emitted only up to the length limit, and never one
        // that ends in whitespace; what cannot be emitted is never found.
        let emittable: Vec<bool> = wanted
            .iter()
            .map(|w| {
                w.chars().count() <= MAX_PREFIX_CHARS
                    && w.chars().last().is_some_and(|c| !c.is_whitespace())
            })
            .collect();
        let mut found: Vec<bool> = vec![false; wanted.len()];
        let mut check = |value: &str| {
            for ((hit, w), can) in found.iter_mut().zip(wanted).zip(&emittable) {
                *hit = *hit || (*can && value.starts_with(w));
            }
        };
        check(&normalize_for_prefix(text));
        let mut words = self.words.token_stream(text);
        while words.advance() {
            check(&words.token().text);
        }
        found
    }
}

/// The form a value or a typed prefix is compared in: NFKC, lower case,
/// runs of whitespace as one space, trimmed.
pub fn normalize_for_prefix(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = text.nfkc().collect::<String>().to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::TokenStream;

    fn texts(tokens: &[Token]) -> Vec<&str> {
        tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn emits_agrees_with_the_token_stream() {
        let words = || {
            TextAnalyzer::builder(tantivy::tokenizer::SimpleTokenizer::default())
                .filter(tantivy::tokenizer::LowerCaser)
                .build()
        };
        let mut tokenizer = PrefixTokenizer::new(words());
        let values = [
            "Acme Robotics GmbH",
            "  Ｎｏｒｔｈ  Wind  Trading ",
            "日東電工株式会社",
            "Smith-Jones, Anna Maria Theresa Elisabeth",
        ];
        let wanted = [
            "a",
            "acme",
            "acme r",
            "acme robotics",
            "robo",
            "gmbh",
            "north",
            "north wind",
            "wind",
            "trad",
            "日東",
            "日東電工",
            "電工",
            "smith",
            "jones",
            "anna maria",
            "elisabeth",
            "smith-jones, anna maria theresa",
            "smith-jones, anna mar",
            "xyz",
            "acme ",
            "ro bo",
        ];
        for value in values {
            let emitted: Vec<String> = {
                let mut stream = tokenizer.token_stream(value);
                let mut out = Vec::new();
                while stream.advance() {
                    out.push(stream.token().text.clone());
                }
                out
            };
            let found = tokenizer.emits(value, &wanted);
            for (w, hit) in wanted.iter().zip(found) {
                assert_eq!(hit, emitted.iter().any(|t| t == w), "{w:?} in {value:?}");
            }
        }
    }

    #[test]
    fn bigrams_cover_parts_of_compounds_and_skip_latin() {
        let tokens = cjk_bigrams("日東電工株式会社 Acme ｶﾀ");
        assert_eq!(
            texts(&tokens),
            vec![
                "日東", "東電", "電工", "工株", "株式", "式会", "会社", "カタ"
            ]
        );
        assert_eq!(
            &"日東電工株式会社 Acme ｶﾀ"[tokens[0].offset_from..tokens[0].offset_to],
            "日東"
        );
        assert_eq!(texts(&cjk_bigrams("東")), vec!["東"]);
        assert!(cjk_bigrams("only latin").is_empty());
    }

    #[test]
    fn pairs_join_adjacent_words_only() {
        use tantivy::tokenizer::{SimpleTokenizer, TokenStream};
        let mut pairs = PairTokenizer::new(TextAnalyzer::from(SimpleTokenizer::default()));
        let mut stream = pairs.token_stream("billing dispute resolved");
        let mut found = Vec::new();
        while stream.advance() {
            let t = stream.token();
            found.push((t.text.replace(PAIR_SEPARATOR, "+"), t.position));
        }
        assert_eq!(
            found,
            vec![
                ("billing+dispute".to_string(), 0),
                ("dispute+resolved".to_string(), 1)
            ]
        );
        // A single word has no pair.
        let mut stream = pairs.token_stream("billing");
        assert!(!stream.advance());
    }
}
