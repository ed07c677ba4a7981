//! A note's text read as company keys read it: words folded as keys fold
//! them ("Krüger" → `krueger`, "Roux-Petit" → `rouxpetit`), with where
//! each starts, whether it is capitalised and what joins it to the one
//! before, so a known name can be told from a longer one it is part of;
//! and what one typing slip is.
//!
//! It must never read past a word: a slip is one letter wrong, missing,
//! extra, or two neighbours swapped, in one word, and nothing else.

use crate::normalize::company_key;

/// A word of a name shorter than this must be written exactly.
pub(super) const FUZZY_WORD: usize = 5;
/// A name shorter than this (letters of its key) must be written exactly.
pub(super) const FUZZY_NAME: usize = 10;

/// Words folded as company keys fold them ("Krüger" → `krueger`,
/// "Roux-Petit" → `rouxpetit`, "K.K." → `kk`; `&` is no word), so a text
/// compares with the keys of the names it mentions.
pub(super) fn words(text: &str) -> Vec<String> {
    shaped(text).words
}

/// Whether `c` joins the letters around it into one word, as company keys
/// join them (I.B.M., Roux-Petit, O'Brien).
fn joins(c: char) -> bool {
    matches!(c, '.' | '\'' | '’' | '-' | '‐')
}

/// What separates a word of a text from the word before it.
#[derive(Clone, Copy, PartialEq)]
enum Gap {
    /// Spaces only.
    Space,
    /// A hyphen or apostrophe, no space: one name (Morel-Henry).
    Joined,
    /// Punctuation, a line break, or the start of the text.
    Break,
}

/// A text's words (as [`words`]) with, for each, whether it is written
/// with a capital, what precedes it, and where it starts.
pub(super) struct Shaped<'t> {
    text: &'t str,
    pub(super) words: Vec<String>,
    capital: Vec<bool>,
    gap: Vec<Gap>,
    end: Vec<usize>,
}

pub(super) fn shaped(text: &str) -> Shaped<'_> {
    let mut out = Shaped {
        text,
        words: Vec::new(),
        capital: Vec::new(),
        gap: Vec::new(),
        end: Vec::new(),
    };
    let in_word = |c: char| c.is_alphanumeric() || joins(c);
    let mut last_end = 0;
    let mut start = None;
    for (at, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (in_word(c) && at < text.len(), start) {
            (true, None) => start = Some(at),
            (false, Some(s)) => {
                start = None;
                // A full stop ends a sentence, not a word: only joiners
                // between letters join ("I.B.M" keeps its inner ones).
                let raw = text[s..at].trim_end_matches(joins);
                let at = s + raw.len();
                let folded = company_key(raw);
                if folded.is_empty() {
                    continue;
                }
                let between = &text[last_end..s];
                let gap = if out.words.is_empty() || between.contains(['\n', '\r']) {
                    Gap::Break
                } else if between.chars().all(|c| matches!(c, ' ' | '\t' | '&')) {
                    // "Morel & Fils" is one name, as its key says.
                    Gap::Space
                } else if !between.contains(char::is_whitespace) && between.chars().all(joins) {
                    Gap::Joined
                } else {
                    Gap::Break
                };
                let capital = raw
                    .chars()
                    .find(|c| c.is_alphanumeric())
                    .is_some_and(char::is_uppercase);
                for (n, word) in folded.split_whitespace().enumerate() {
                    out.words.push(word.to_string());
                    out.capital.push(capital);
                    out.gap.push(if n == 0 { gap } else { Gap::Space });
                    out.end.push(at);
                }
                last_end = at;
            }
            _ => {}
        }
    }
    out
}

impl Shaped<'_> {
    /// Whether word `i` is written with a capital.
    pub(super) fn is_capital(&self, i: usize) -> bool {
        self.capital.get(i).copied().unwrap_or(false)
    }

    /// Whether words `start..end` stand alone as a name: not joined to a
    /// neighbour, and not run on into a capitalised word that could be
    /// more of the name ("Unity Acme Technologies", "Iron Foods Digital"),
    /// unless that word is a legal form.
    pub(super) fn stands_alone(&self, start: usize, end: usize) -> bool {
        // Word `i` and the one before it are one name.
        let joined = |i: usize| {
            self.gap[i] == Gap::Joined
                || self.gap[i] == Gap::Space && self.capital[i - 1] && self.capital[i]
        };
        if start > 0 && joined(start) {
            return false;
        }
        if end < self.words.len() && joined(end) {
            let rest: Vec<&str> = self.text[self.end[end - 1]..]
                .split_whitespace()
                .take(2)
                .collect();
            // "Corp." or "Co., Ltd." ends the name; "International
            // Corp." is a longer name with its own legal form.
            let form_word = |w: &str| {
                crate::normalize::legal_form(&format!("x {w}")).is_some()
                    || matches!(
                        w.trim_end_matches([',', '.']).to_lowercase().as_str(),
                        "co" | "k.k" | "pty" | "s.a" | "s.a.r.l"
                    )
            };
            let legal = (1..=rest.len()).any(|n| {
                rest[..n].iter().all(|w| form_word(w))
                    && crate::normalize::legal_form(&format!("x {}", rest[..n].join(" "))).is_some()
            }) || rest.first().is_some_and(|w| slipped_legal_form(w));
            return legal && self.gap[end] != Gap::Joined;
        }
        true
    }
}

/// Legal forms long enough that one slip in them is still read as one.
const LONG_LEGAL_FORMS: &[&str] = &["incorporated", "corporation", "limited", "company"];

/// A long legal form written with one slip ("Incorporaetd", "Limitde").
pub(super) fn slipped_legal_form(word: &str) -> bool {
    let word = company_key(word);
    LONG_LEGAL_FORMS.iter().any(|f| one_slip(&word, f))
}

/// The word and each form of it with one letter left out.
pub(super) fn deletions(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = vec![word.to_string()];
    if chars.len() >= FUZZY_WORD - 1 {
        for skip in 0..chars.len() {
            let v: String = chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| c)
                .collect();
            out.push(v);
        }
    }
    out
}

/// One letter wrong, missing, extra, or two neighbours swapped.
pub(super) fn one_slip(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    match long.len() - short.len() {
        0 => {
            let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            match diff.as_slice() {
                [_] => true,
                [x, y] => *y == x + 1 && a[*x] == b[*y] && a[*y] == b[*x],
                _ => false,
            }
        }
        1 => {
            let at = (0..short.len())
                .find(|&i| short[i] != long[i])
                .unwrap_or(short.len());
            short[at..] == long[at + 1..]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_slip_is_a_letter_wrong_missing_extra_or_swapped() {
        assert!(one_slip("redowod", "redwood"));
        assert!(one_slip("soluions", "solutions"));
        assert!(one_slip("trdaing", "trading"));
        assert!(one_slip("granitte", "granite"));
        assert!(one_slip("granute", "granite"));
        assert!(!one_slip("grnaitte", "granite"));
        assert!(!one_slip("redwood", "redwoodsy"));
        assert!(!one_slip("acme", "acne robotics"));
    }
}
