//! Where in a long text to cut a snippet. tantivy's snippet generator runs
//! the field's whole analyser (stemming, lindera) over the whole text of
//! every hit shown; a mailbox's email bodies can be hundreds of kilobytes,
//! and ten such hits cost 50 ms on this machine. A text longer than
//! [`SCAN_BYTES`] is first searched for the query's terms as plain,
//! ASCII-case-insensitive substrings (one Aho-Corasick pass, a fraction of
//! a millisecond per megabyte), and only a window around the place where
//! most of them occur together is analysed. Elasticsearch bounds the same
//! cost with `index.highlight.max_analyzed_offset`.
//!
//! It must never change a short text's snippet (it returns such a text
//! whole), never cut inside a UTF-8 character, and never decide what
//! matched: it only chooses the window the generator then highlights in,
//! so a term it misses (a form the substring search cannot see, such as
//! full-width letters) costs the highlight, never a hit.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Texts up to this size are analysed whole, as before.
pub(crate) const SCAN_BYTES: usize = 8 * 1024;
/// The window analysed in a longer text: this much before the chosen place
/// (so its fragment starts with the words before the match) ...
const BEFORE_BYTES: usize = 48;
/// ... and this much in all.
const WINDOW_BYTES: usize = 4 * 1024;
/// Windows looked through for a typo-corrected or prefix match, whose
/// words cannot be searched as substrings, before giving up the highlight.
pub(crate) const MAX_LOOSE_SCAN_BYTES: usize = 64 * 1024;

/// The query's terms in one field, as substrings to look for.
pub(crate) struct Needles {
    matcher: AhoCorasick,
    weights: Vec<f32>,
}

impl Needles {
    /// From a snippet generator's terms and their weights; `None` when
    /// there is nothing to look for.
    pub(crate) fn new(terms: &BTreeMap<String, f32>) -> Option<Needles> {
        let (words, weights): (Vec<&String>, Vec<f32>) = terms
            .iter()
            .filter(|(word, _)| !word.is_empty())
            .map(|(word, weight)| (word, *weight))
            .unzip();
        if words.is_empty() {
            return None;
        }
        let matcher = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(words)
            .ok()?;
        Some(Needles { matcher, weights })
    }

    /// The byte offset where the most weight of distinct terms occurs
    /// within `span` bytes (the earliest such place), if any term occurs.
    fn best_place(&self, text: &str, span: usize) -> Option<usize> {
        let found: Vec<(usize, usize)> = self
            .matcher
            .find_iter(text)
            .map(|m| (m.start(), m.pattern().as_usize()))
            .collect();
        let mut counts = vec![0u32; self.weights.len()];
        let (mut weight, mut best) = (0.0f32, None::<(f32, usize)>);
        let mut end = 0;
        for (i, &(start, _)) in found.iter().enumerate() {
            while end < found.len() && found[end].0 < start + span {
                let id = found[end].1;
                if counts[id] == 0 {
                    weight += self.weights[id];
                }
                counts[id] += 1;
                end += 1;
            }
            if best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, start));
            }
            let id = found[i].1;
            counts[id] -= 1;
            if counts[id] == 0 {
                weight -= self.weights[id];
            }
        }
        best.map(|(_, at)| at)
    }
}

/// The largest character boundary of `text` at or before `at`.
fn boundary_at_or_before(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `text[from..to]`, widened or narrowed to character boundaries, and
/// started after a space when one is near, so no fragment opens mid-word.
fn window(text: &str, from: usize, to: usize) -> &str {
    let mut from = boundary_at_or_before(text, from);
    let to = boundary_at_or_before(text, to.max(from));
    if from > 0
        && let Some(space) = text[from..to].find(char::is_whitespace).filter(|s| *s < 64)
    {
        from += space;
    }
    text[from..to].trim_start()
}

/// The part of `text` to cut the snippet of a query with `needles` from:
/// all of a short text; in a long one, a window around the place where
/// most of the query's terms occur together (fragments are `span` bytes
/// long), or its start when none is found. `needles` is only called for a
/// long text, so a search whose hits are all short never builds them.
pub(crate) fn for_terms<'t, 'n>(
    text: &'t str,
    needles: impl FnOnce() -> Option<&'n Needles>,
    span: usize,
) -> &'t str {
    if text.len() <= SCAN_BYTES {
        return text;
    }
    let place = needles()
        .and_then(|n| n.best_place(text, span))
        .unwrap_or(0);
    let from = place.saturating_sub(BEFORE_BYTES);
    window(text, from, from + WINDOW_BYTES)
}

/// The windows of `text` to look through, in order, for a match that
/// cannot be found as a substring: all of a short text; a long one in
/// pieces of [`WINDOW_BYTES`], the first [`MAX_LOOSE_SCAN_BYTES`] only.
pub(crate) fn for_loose(text: &str) -> Vec<&str> {
    if text.len() <= SCAN_BYTES {
        return vec![text];
    }
    let mut out = Vec::new();
    let mut from = 0;
    while from < text.len() && from < MAX_LOOSE_SCAN_BYTES {
        let to = boundary_at_or_before(text, from + WINDOW_BYTES);
        // A piece ends after its last space, so no word is cut in two.
        let to = match text[from..to].rfind(char::is_whitespace) {
            Some(space) if to < text.len() && space > 0 => from + space,
            _ => to,
        };
        if to <= from {
            break;
        }
        out.push(&text[from..to]);
        from = to;
    }
    out
}

#[cfg(test)]
mod tests;
