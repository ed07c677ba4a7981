//! The highlighted fragment of one field of a hit: the text is analysed
//! once, cut into fragments of at most `max_bytes` as tantivy's snippet
//! generator cuts them, and the fragment with the most weight of marked
//! words is shown (the earliest of equals), with its words in `<mark>`.
//!
//! Unlike tantivy's generator, which marks every occurrence of every term
//! of the query, a word of a phrase is marked only where the whole phrase
//! stands at consecutive positions, as the phrase query matched it: the
//! phrase "billing dispute" no longer marks a lone "billed", nor 請求書
//! (which IPADIC cuts into 請求 + 書) the 書 of 報告書. A word the query
//! also searches on its own is marked everywhere. Elasticsearch's
//! highlighters do the same.
//!
//! It must never lose a snippet to that rule: when no whole phrase stands
//! in the text (the field matched another way), every term is marked as
//! tantivy would.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use tantivy::tokenizer::{TextAnalyzer, TokenStream};

/// What to mark in one field, and how.
pub(crate) struct Highlighter {
    /// Every term of the query in the field, by weight (rarer is heavier).
    terms: BTreeMap<String, f32>,
    /// Phrases of two words or more (their analysed words, in order).
    phrases: Vec<Vec<String>>,
    /// Terms the query also searches on their own, outside any phrase.
    singles: BTreeSet<String>,
    analyzer: TextAnalyzer,
    max_bytes: usize,
}

struct Token {
    range: Range<usize>,
    position: usize,
    weight: Option<f32>,
    single: bool,
}

#[derive(Default)]
struct Fragment {
    start: usize,
    stop: usize,
    weight: f32,
    marks: Vec<Range<usize>>,
}

impl Highlighter {
    pub(crate) fn new(
        terms: BTreeMap<String, f32>,
        phrases: &[Vec<String>],
        singles: BTreeSet<String>,
        analyzer: TextAnalyzer,
        max_bytes: usize,
    ) -> Highlighter {
        Highlighter {
            terms,
            phrases: phrases.iter().filter(|p| p.len() > 1).cloned().collect(),
            singles,
            analyzer,
            max_bytes,
        }
    }

    /// The query's terms in this field (to find them in long texts).
    pub(crate) fn terms(&self) -> &BTreeMap<String, f32> {
        &self.terms
    }

    /// The best fragment of `text` as HTML, or `None` when no term of the
    /// query is in it.
    pub(crate) fn html(&self, text: &str) -> Option<String> {
        if self.terms.is_empty() {
            return None;
        }
        let mut words = Vec::new();
        let mut tokens = Vec::new();
        {
            let mut analyzer = self.analyzer.clone();
            let mut stream = analyzer.token_stream(text);
            while stream.advance() {
                let token = stream.token();
                let weight = self.terms.get(&token.text).copied();
                tokens.push(Token {
                    range: token.offset_from..token.offset_to,
                    position: token.position,
                    weight,
                    single: weight.is_some() && self.singles.contains(&token.text),
                });
                words.push(weight.map(|_| token.text.clone()));
            }
        }
        let (marked, continues) = self.marked(&tokens, &words);
        let best = self.best_fragment(&tokens, &marked, &continues)?;
        // Offsets index the text itself (the analysers' contract); a
        // fragment that does not is dropped, never a panic.
        let fragment = text.get(best.start..best.stop)?;
        Some(render(fragment, best.start, &best.marks))
    }

    /// Which tokens to mark: terms outside phrases, and phrase words where
    /// their whole phrase stands; every term when no phrase stands. Also
    /// which tokens continue a phrase (no fragment is cut before them).
    fn marked(&self, tokens: &[Token], words: &[Option<String>]) -> (Vec<bool>, Vec<bool>) {
        let terms: Vec<bool> = tokens.iter().map(|t| t.weight.is_some()).collect();
        let mut continues = vec![false; tokens.len()];
        if self.phrases.is_empty() {
            return (terms, continues);
        }
        let mut by_position: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, token) in tokens.iter().enumerate() {
            if token.weight.is_some() {
                by_position.entry(token.position).or_default().push(i);
            }
        }
        let mut marked: Vec<bool> = tokens.iter().map(|t| t.single).collect();
        let mut any_phrase = false;
        for phrase in &self.phrases {
            for (i, _) in words
                .iter()
                .enumerate()
                .filter(|(_, w)| w.as_deref() == Some(phrase[0].as_str()))
            {
                let found: Option<Vec<usize>> = phrase
                    .iter()
                    .enumerate()
                    .map(|(k, word)| {
                        by_position
                            .get(&(tokens[i].position + k))?
                            .iter()
                            .copied()
                            .find(|j| words[*j].as_deref() == Some(word.as_str()))
                    })
                    .collect();
                for (k, j) in found.into_iter().flatten().enumerate() {
                    marked[j] = true;
                    continues[j] |= k > 0;
                    any_phrase = true;
                }
            }
        }
        if any_phrase {
            (marked, continues)
        } else {
            (terms, vec![false; tokens.len()])
        }
    }

    /// tantivy's fragments: a new one starts at the first token that would
    /// take the current one past `max_bytes`, unless it continues a phrase
    /// (a phrase is never cut in two); the heaviest wins.
    fn best_fragment(
        &self,
        tokens: &[Token],
        marked: &[bool],
        continues: &[bool],
    ) -> Option<Fragment> {
        let mut best: Option<Fragment> = None;
        let mut current = Fragment::default();
        let keep = |fragment: Fragment, best: &mut Option<Fragment>| {
            if fragment.weight > 0.0 && best.as_ref().is_none_or(|b| fragment.weight > b.weight) {
                *best = Some(fragment);
            }
        };
        for ((token, mark), continues) in tokens.iter().zip(marked).zip(continues) {
            if token.range.end - current.start > self.max_bytes && !continues {
                let done = std::mem::take(&mut current);
                keep(done, &mut best);
                current.start = token.range.start;
            }
            current.stop = token.range.end;
            if *mark && let Some(weight) = token.weight {
                current.weight += weight;
                current.marks.push(token.range.clone());
            }
        }
        keep(current, &mut best);
        best
    }
}

/// `fragment` (starting at byte `offset` of its text) as HTML, escaped as
/// tantivy's snippets are, with `marks` (text offsets, in order) in
/// `<mark>`; marks that touch are one.
fn render(fragment: &str, offset: usize, marks: &[Range<usize>]) -> String {
    let mut html = String::with_capacity(fragment.len() + marks.len() * 13);
    let mut from = 0;
    let mut open = false;
    for mark in marks {
        let (start, end) = (mark.start - offset, mark.end - offset);
        let (Some(before), Some(word)) = (fragment.get(from..start), fragment.get(start..end))
        else {
            continue;
        };
        if !(open && before.is_empty()) {
            if open {
                html.push_str("</mark>");
            }
            escape_into(&mut html, before);
            html.push_str("<mark>");
        }
        escape_into(&mut html, word);
        open = true;
        from = end;
    }
    if open {
        html.push_str("</mark>");
    }
    escape_into(&mut html, fragment.get(from..).unwrap_or(""));
    html
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests;
