//! Company names across scripts: a note that writes "Nitto Seiki Co., Ltd."
//! for an account known only as 日東精機株式会社, or 瑞穂食品株式会社 for
//! one typed "Mizuho Shokuhin K.K.", names it. Both sides are read in
//! romaji as one string (IPADIC's readings, long vowels folded: the same
//! readings resolution compares names by).
//!
//! It must never decide by sound alone: a reading several names share
//! makes them all candidates, short readings (under six letters) and
//! single romanised words are never read, and without a dictionary nothing
//! is read at all.

use std::collections::HashMap;

use super::super::Romaji;
use super::super::compare::has_cjk;
use crate::normalize::{company_key, fold_romaji};

/// Readings shorter than this are too common to name a company.
const MIN_READING: usize = 6;
/// Romanised names are read over at most this many words.
pub(super) const MAX_WORDS: usize = 4;

/// The names of one script by their reading.
#[derive(Default)]
pub(super) struct Readings {
    /// Readings of names written in kanji or kana → their name indexes.
    kanji: HashMap<String, Vec<usize>>,
    /// Readings of romanised names → their name indexes.
    latin: HashMap<String, Vec<usize>>,
}

fn is_cjk(c: char) -> bool {
    let mut buf = [0u8; 4];
    has_cjk(c.encode_utf8(&mut buf))
}

/// Japanese legal forms that end a name written in kanji.
const FORMS: &[&str] = &["株式会社", "有限会社", "合同会社"];

/// The names a run of kanji and kana may start with: the run up to each
/// place where kanji or katakana stop (kana particles follow, "瑞穂食品との
/// 打ち合わせ") or a legal form follows; never a name inside a longer one
/// (三和日進工業 does not name 日進工業, nor 三和日進).
fn names_starting(run: &str) -> Vec<&str> {
    let word_char = |c: char| matches!(c, '\u{30a0}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}');
    let mut out = Vec::new();
    let mut chars = run.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        // A name is the leading kanji and katakana: kana particles end it.
        if !word_char(c) {
            break;
        }
        let end = at + c.len_utf8();
        let rest = &run[end..];
        let next_is_word = chars.peek().is_some_and(|&(_, n)| word_char(n));
        let form_follows = FORMS.iter().any(|f| rest.starts_with(f));
        if !next_is_word || form_follows {
            out.push(&run[..end]);
        }
    }
    out
}

/// A romanised name's words as one reading.
fn latin_reading(words: &[String]) -> String {
    words.iter().map(|w| fold_romaji(w)).collect()
}

/// A name in kanji or kana read as one string, if every word has a reading.
fn kanji_reading(text: &str, romaji: Romaji) -> Option<String> {
    romaji(text).map(|words| words.concat())
}

impl Readings {
    /// Indexes each name (its key's words, by index) by its reading.
    pub(super) fn new<'n>(
        names: impl Iterator<Item = (usize, &'n [String])>,
        romaji: Option<Romaji>,
    ) -> Readings {
        let mut out = Readings::default();
        let Some(romaji) = romaji else {
            return out;
        };
        for (n, words) in names {
            let (map, reading) = match words {
                [one] if has_cjk(one) => (&mut out.kanji, kanji_reading(one, romaji)),
                _ if words.len() >= 2 && words.iter().all(|w| w.is_ascii()) => {
                    (&mut out.latin, Some(latin_reading(words)))
                }
                _ => continue,
            };
            if let Some(reading) = reading.filter(|r| r.len() >= MIN_READING) {
                map.entry(reading).or_default().push(n);
            }
        }
        out
    }

    /// Names in kanji or kana whose reading romanised words spell (two to
    /// four words, as [`MAX_WORDS`] bounds the caller's runs).
    pub(super) fn read_latin(&self, words: &[String]) -> &[usize] {
        if words.len() < 2 || !words.iter().all(|w| w.is_ascii()) {
            return &[];
        }
        self.kanji
            .get(&latin_reading(words))
            .map_or(&[], Vec::as_slice)
    }

    /// Romanised names whose reading a run of kanji or kana in `text`
    /// spells (legal forms dropped).
    pub(super) fn in_kanji(&self, text: &str, romaji: Option<Romaji>) -> Vec<usize> {
        let Some(romaji) = romaji.filter(|_| !self.latin.is_empty()) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for run in text.split(|c: char| !is_cjk(c)) {
            for name in names_starting(run) {
                let key = company_key(name);
                if key.is_empty() {
                    continue;
                }
                if let Some(reading) = kanji_reading(&key, romaji) {
                    found.extend(self.latin.get(&reading).into_iter().flatten());
                }
            }
        }
        found
    }

    /// Names whose reading a folder's whole name (its key's words) is.
    pub(super) fn of_name(&self, words: &[String], romaji: Option<Romaji>) -> Vec<usize> {
        let found = match words {
            [one] if has_cjk(one) => romaji
                .and_then(|romaji| kanji_reading(one, romaji))
                .and_then(|r| self.latin.get(&r)),
            _ if words.len() >= 2 && words.iter().all(|w| w.is_ascii()) => {
                self.kanji.get(&latin_reading(words))
            }
            _ => None,
        };
        found.cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kanji_name_ends_where_kanji_end_or_a_legal_form_starts() {
        assert_eq!(
            names_starting("瑞穂食品株式会社との打ち合わせ"),
            ["瑞穂食品", "瑞穂食品株式会社"]
        );
        assert_eq!(names_starting("三和日進工業"), ["三和日進工業"]);
        assert_eq!(names_starting("株式会社瑞穂食品"), ["株式会社瑞穂食品"]);
        assert!(names_starting("との").is_empty());
    }
}
