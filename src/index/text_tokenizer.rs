//! A tantivy tokenizer for text fields that mix English and Japanese: Latin
//! (and other non-Japanese) words split like tantivy's `SimpleTokenizer`,
//! Japanese runs segmented with lindera/IPADIC (or CJK bigrams without a
//! dictionary), every token NFKC-normalised and lower-cased.
//!
//! It must never stem (callers chain `Stemmer` after it), and it must never
//! report offsets into the normalised text: `offset_from`/`offset_to` always
//! index the ORIGINAL input, because snippet highlighting slices it with them.

use std::borrow::Cow;
use std::sync::Arc;

use lindera::dictionary::{Dictionary, Lattice};
use lindera::mode::Mode;
use lindera::segmenter::Segmenter;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::char::{canonical_combining_class, decompose_compatible};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// IPADIC's part of speech for symbols and punctuation (。、「」 and so on).
const SYMBOL_POS: &str = "記号";

/// Splits mixed English/Japanese text into normalised, lower-cased tokens.
#[derive(Clone)]
pub struct MixedTextTokenizer {
    segmenter: Option<Arc<Segmenter>>,
    lattice: Lattice,
    tokens: Vec<Token>,
}

/// Wraps a dictionary (e.g. from `load_or_build_ipadic`) in the segmenter
/// `MixedTextTokenizer` expects: `Mode::Normal`, no user dictionary.
pub fn ipadic_segmenter(dictionary: Dictionary) -> Arc<Segmenter> {
    Arc::new(Segmenter::new(Mode::Normal, dictionary, None))
}

impl MixedTextTokenizer {
    /// With `None`, Japanese runs are indexed as overlapping CJK bigrams.
    pub fn new(segmenter: Option<Arc<Segmenter>>) -> Self {
        Self {
            segmenter,
            lattice: Lattice::default(),
            tokens: Vec::new(),
        }
    }

    /// Whether Japanese is segmented with a dictionary rather than bigrams.
    pub fn has_dictionary(&self) -> bool {
        self.segmenter.is_some()
    }
}

/// lindera's surface forms for `text`, unfiltered (lindera itself drops
/// whitespace, as MeCab does). Empty if lindera reports an error.
pub fn segment_surfaces(segmenter: &Segmenter, text: &str) -> Vec<String> {
    match segmenter.segment(Cow::Borrowed(text)) {
        Ok(tokens) => tokens.iter().map(|t| t.surface.to_string()).collect(),
        Err(err) => {
            tracing::warn!(error = %err, "lindera failed to segment text");
            Vec::new()
        }
    }
}

/// One character of the NFKC-normalised input and where it came from.
#[derive(Clone, Copy)]
struct Span {
    ch: char,
    /// Byte offset of `ch` in its run's normalised text.
    norm: usize,
    /// Byte range in the original input of the cluster `ch` came from.
    start: usize,
    end: usize,
}

/// Feeds `f` the NFKC form of `input` one character at a time, each with the
/// original byte range it came from. Normalisation works cluster by cluster
/// (a character plus whatever may compose onto it, e.g. ｶ + ﾞ), so every
/// character produced from a cluster maps to the whole cluster.
pub(crate) fn for_each_normalized(input: &str, mut f: impl FnMut(char, usize, usize)) {
    let mut cluster = |start: usize, end: usize| match input.get(start..end) {
        // An ASCII character always starts a cluster, so this is one char.
        Some(ascii) if ascii.is_ascii() => ascii.chars().for_each(|c| f(c, start, end)),
        Some(other) => other.nfkc().for_each(|c| f(c, start, end)),
        None => {}
    };
    let mut cluster_start = 0;
    for (i, c) in input.char_indices() {
        if i > cluster_start && starts_cluster(c) {
            cluster(cluster_start, i);
            cluster_start = i;
        }
    }
    if cluster_start < input.len() {
        cluster(cluster_start, input.len());
    }
}

/// True if NFKC can never combine `c` with what precedes it, i.e. the text
/// may be normalised separately on either side of it.
fn starts_cluster(c: char) -> bool {
    // ASCII, kana letters and the main CJK block: starters that nothing
    // composes onto from before (a unit test checks them all).
    if c.is_ascii() || is_plain_starter(c) {
        return true;
    }
    decomposes_to_starter(c)
}

/// Kana letters and the CJK unified ideographs, the bulk of Japanese text.
fn is_plain_starter(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | '\u{4E00}'..='\u{9FFF}')
}

/// Whether `c`'s compatibility decomposition starts with a character NFKC
/// can never combine with what precedes it.
fn decomposes_to_starter(c: char) -> bool {
    let mut first = None;
    decompose_compatible(c, |d| {
        first.get_or_insert(d);
    });
    let first = first.unwrap_or(c);
    canonical_combining_class(first) == 0
        && is_nfkc_quick(std::iter::once(first)) != IsNormalized::Maybe
}

/// Characters that form Japanese runs.
pub(crate) fn is_japanese(c: char) -> bool {
    matches!(c,
        '\u{3005}'..='\u{3007}'   // 々 〆 〇
        | '\u{3041}'..='\u{309F}' // hiragana, voicing marks, ゝゞ
        | '\u{30A1}'..='\u{30FA}' // katakana (not the ・ middle dot)
        | '\u{30FC}'..='\u{30FF}' // ー ヽヾ ヿ
        | '\u{31F0}'..='\u{31FF}' // katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}' // CJK unified ideographs extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{FF66}'..='\u{FF9F}' // half-width katakana incl. ｰ
    ) || (('\u{FF00}'..='\u{FFEF}').contains(&c) && c.is_alphanumeric())
}

#[derive(Clone, Copy, Default, PartialEq)]
enum Class {
    Japanese,
    Word,
    #[default]
    Separator,
}

fn class_of(c: char) -> Class {
    if is_japanese(c) {
        Class::Japanese
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Separator
    }
}

/// A maximal run of normalised characters of one class.
#[derive(Default)]
struct Run {
    class: Class,
    text: String,
    spans: Vec<Span>,
}

impl Run {
    fn push(&mut self, ch: char, start: usize, end: usize) {
        let norm = self.text.len();
        self.text.push(ch);
        self.spans.push(Span {
            ch,
            norm,
            start,
            end,
        });
    }
}

/// Appends the token covering `spans` (part of a run over `text`) to `out`.
fn emit(out: &mut Vec<Token>, text: &str, spans: &[Span]) {
    let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
        return;
    };
    let Some(normalized) = text.get(first.norm..last.norm + last.ch.len_utf8()) else {
        return;
    };
    out.push(Token {
        offset_from: first.start,
        offset_to: last.end,
        position: out.len(),
        text: normalized.to_lowercase(),
        position_length: 1,
    });
}

fn emit_bigrams(out: &mut Vec<Token>, run: &Run) {
    if run.spans.len() == 1 {
        emit(out, &run.text, &run.spans);
    }
    for pair in run.spans.windows(2) {
        emit(out, &run.text, pair);
    }
}

/// Words of the dictionary known to be symbols or not, per thread, keyed by
/// dictionary, kind (system or unknown-word category) and id: reading a
/// token's part of speech makes lindera materialise all its detail fields,
/// which was a tenth of cutting a page of Japanese snippets. A process
/// builds one IPADIC; were another built where a dropped one lived, it
/// would be IPADIC again, with the same ids.
type SymbolKey = (usize, bool, u32);
thread_local! {
    static KNOWN_SYMBOLS: std::cell::RefCell<rustc_hash::FxHashMap<SymbolKey, bool>> =
        std::cell::RefCell::new(rustc_hash::FxHashMap::default());
}

/// Words remembered per thread before the table starts again.
const KNOWN_SYMBOLS_MAX: usize = 1 << 18;

/// Whether lindera tagged `token` as a symbol (IPADIC's 記号).
fn is_symbol(token: &mut lindera::token::Token<'_>) -> bool {
    let id = token.word_id;
    if !(id.is_system() || id.is_unknown()) {
        return token.get_detail(0) == Some(SYMBOL_POS);
    }
    let key = (
        std::ptr::from_ref(token.dictionary) as usize,
        id.is_unknown(),
        id.id(),
    );
    if let Some(known) = KNOWN_SYMBOLS.with(|k| k.borrow().get(&key).copied()) {
        return known;
    }
    let symbol = token.get_detail(0) == Some(SYMBOL_POS);
    KNOWN_SYMBOLS.with(|k| {
        let mut known = k.borrow_mut();
        if known.len() >= KNOWN_SYMBOLS_MAX {
            known.clear();
        }
        known.insert(key, symbol);
    });
    symbol
}

/// Segments a Japanese run with lindera, dropping symbols and whitespace.
fn emit_segmented(out: &mut Vec<Token>, run: &Run, segmenter: &Segmenter, lattice: &mut Lattice) {
    let mut tokens = match segmenter.segment_with_lattice(Cow::Borrowed(&run.text), lattice) {
        Ok(tokens) => tokens,
        Err(err) => {
            tracing::warn!(error = %err, "lindera failed; indexing the run as bigrams");
            return emit_bigrams(out, run);
        }
    };
    for token in &mut tokens {
        if token.surface.trim().is_empty() || is_symbol(token) {
            continue;
        }
        // lindera's byte offsets are into `run.text`; find the spans they cover.
        let from = run.spans.partition_point(|s| s.norm < token.byte_start);
        let to = run.spans.partition_point(|s| s.norm < token.byte_end);
        if let Some(spans) = run.spans.get(from..to) {
            emit(out, &run.text, spans);
        }
    }
}

/// The tokens of ASCII text: NFKC leaves it as it is and it holds no
/// Japanese, so they are its runs of letters and digits, lower-cased, at
/// their byte offsets: exactly what [`MixedTextTokenizer::analyse`] finds in
/// it, without folding it character by character (most English values).
fn ascii_words(text: &str, out: &mut Vec<Token>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        out.push(Token {
            offset_from: start,
            offset_to: i,
            position: out.len(),
            text: text[start..i].to_ascii_lowercase(),
            position_length: 1,
        });
    }
}

impl MixedTextTokenizer {
    /// Finds the tokens of any text into `self.tokens`. Runs are found on
    /// the NFKC form, so ＡＢＣ１２３ joins the Latin words (as "abc123") and
    /// ｶﾀｶﾅ is segmented as カタカナ.
    fn analyse(&mut self, text: &str) {
        let mut run = Run::default();
        for_each_normalized(text, |ch, start, end| {
            let class = class_of(ch);
            if class != run.class {
                self.flush(&mut run);
                run.class = class;
            }
            if class != Class::Separator {
                run.push(ch, start, end);
            }
        });
        self.flush(&mut run);
    }

    /// Turns a finished run into tokens and empties it.
    fn flush(&mut self, run: &mut Run) {
        match (run.class, self.segmenter.as_deref()) {
            _ if run.spans.is_empty() => {}
            (Class::Separator, _) => {}
            (Class::Word, _) => emit(&mut self.tokens, &run.text, &run.spans),
            (Class::Japanese, None) => emit_bigrams(&mut self.tokens, run),
            (Class::Japanese, Some(segmenter)) => {
                emit_segmented(&mut self.tokens, run, segmenter, &mut self.lattice)
            }
        }
        run.text.clear();
        run.spans.clear();
    }
}

impl Tokenizer for MixedTextTokenizer {
    type TokenStream<'a> = MixedTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MixedTokenStream<'a> {
        let segmenter = self
            .segmenter
            .as_ref()
            .map_or(0, |s| Arc::as_ptr(s) as usize);
        if super::recent_analyses::recall(segmenter, text, &mut self.tokens) {
            return MixedTokenStream {
                tokens: self.tokens.drain(..),
                current: Token::default(),
            };
        }
        self.tokens.clear();
        if text.is_ascii() {
            ascii_words(text, &mut self.tokens);
        } else {
            self.analyse(text);
        }
        super::recent_analyses::remember(segmenter, text, &self.tokens);
        MixedTokenStream {
            tokens: self.tokens.drain(..),
            current: Token::default(),
        }
    }
}

/// The tokens of one input, produced eagerly by [`MixedTextTokenizer`].
pub struct MixedTokenStream<'a> {
    tokens: std::vec::Drain<'a, Token>,
    current: Token,
}

impl TokenStream for MixedTokenStream<'_> {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(token) => {
                self.current = token;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_text_gets_the_tokens_of_the_general_path() {
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let alphabet = b"aZ09 .,-_'\t\n\x01~@Ab";
        let mut texts: Vec<String> = vec![
            String::new(),
            " ".into(),
            "Re: invoice INV-20417, the Fremont warehouse".into(),
            "a".into(),
            "...x...".into(),
            "MiXeD 123abc abc123 _under_score".into(),
        ];
        for _ in 0..2_000 {
            let mut text = String::new();
            for _ in 0..(rng % 24) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                text.push(alphabet[(rng % alphabet.len() as u64) as usize] as char);
            }
            texts.push(text);
        }
        let key = |t: &Token| (t.offset_from, t.offset_to, t.position, t.text.clone());
        let mut general = MixedTextTokenizer::new(None);
        for text in &texts {
            let mut fast = Vec::new();
            ascii_words(text, &mut fast);
            general.tokens.clear();
            general.analyse(text);
            assert_eq!(
                fast.iter().map(key).collect::<Vec<_>>(),
                general.tokens.iter().map(key).collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_fast_starters_are_starters() {
        let ranges = [
            '\u{3041}'..='\u{3096}',
            '\u{30A1}'..='\u{30FA}',
            '\u{4E00}'..='\u{9FFF}',
        ];
        let mut checked = 0;
        for c in ranges.into_iter().flatten() {
            assert!(is_plain_starter(c));
            assert!(
                decomposes_to_starter(c),
                "U+{:04X} is not a starter",
                c as u32
            );
            checked += 1;
        }
        assert_eq!(checked, 86 + 90 + 20_992);
        // What composes onto a kana is not one of them.
        assert!(!is_plain_starter('\u{3099}') && !starts_cluster('\u{3099}'));
        assert!(!is_plain_starter('\u{FF9E}'));
    }
}
