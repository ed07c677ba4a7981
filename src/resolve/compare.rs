//! Comparisons of names as the matching model needs them: how rare each
//! word is in this book (so that "Laboratoires", "Analytics" or 株式会社 weigh
//! less than "Zwicklbauer"), a soft TF-IDF similarity of two names (words
//! weighted by rarity, a misspelt word still counting), and whether two
//! names are one written in another script or order.
//!
//! Pure functions over strings; it must never decide a link on its own.

use std::collections::HashMap;

/// Words of a matching key (keys are already folded: lower case, no
/// punctuation, legal forms dropped).
pub fn words(key: &str) -> Vec<&str> {
    key.split(' ').filter(|w| !w.is_empty()).collect()
}

pub fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c,
            '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}'
            | '\u{f900}'..='\u{faff}')
    })
}

/// How many of the book's keys hold each word.
#[derive(Debug, Default, PartialEq)]
pub struct WordStats {
    documents: HashMap<String, u32>,
    total: u32,
}

impl WordStats {
    pub fn add(&mut self, key: &str) {
        self.total += 1;
        let mut seen: Vec<&str> = words(key);
        seen.sort_unstable();
        seen.dedup();
        for w in seen {
            *self.documents.entry(w.to_string()).or_default() += 1;
        }
    }

    /// Takes back what [`WordStats::add`] counted for `key` (an
    /// incremental update of the book's statistics).
    pub fn remove(&mut self, key: &str) {
        self.total = self.total.saturating_sub(1);
        let mut seen: Vec<&str> = words(key);
        seen.sort_unstable();
        seen.dedup();
        for w in seen {
            if let Some(n) = self.documents.get_mut(w) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.documents.remove(w);
                }
            }
        }
    }

    pub fn frequency(&self, word: &str) -> u32 {
        self.documents.get(word).copied().unwrap_or(0)
    }

    /// Inverse document frequency, smoothed: a word in every key weighs
    /// about nothing, a word seen once the most.
    pub fn idf(&self, word: &str) -> f64 {
        let n = f64::from(self.total.max(1));
        let df = f64::from(self.frequency(word));
        ((n + 1.0) / (df + 1.0)).ln() + 0.05
    }
}

fn word_similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    // Short words must match exactly: "sa" and "sas" are not one word.
    if a.chars().count() < 4 || b.chars().count() < 4 {
        return 0.0;
    }
    let s = strsim::jaro_winkler(a, b);
    if s >= 0.9 { s } else { 0.0 }
}

/// Soft TF-IDF cosine of two keys: each word weighted by its rarity, a
/// word of one key matched to its most similar word of the other (exact, or
/// Jaro–Winkler ≥ 0.9 for a misspelling). 1.0 for the same words.
pub fn soft_tfidf(a: &str, b: &str, stats: &WordStats) -> f64 {
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return 0.0;
    }
    let mut weight_a: Vec<f64> = wa.iter().map(|w| stats.idf(w)).collect();
    let mut weight_b: Vec<f64> = wb.iter().map(|w| stats.idf(w)).collect();
    let mut matches: Vec<(usize, usize, f64)> = Vec::new();
    let mut used = vec![false; wb.len()];
    for (i, x) in wa.iter().enumerate() {
        let best = wb
            .iter()
            .enumerate()
            .filter(|(j, _)| !used[*j])
            .map(|(j, y)| (j, word_similarity(x, y)))
            .max_by(|p, q| p.1.total_cmp(&q.1));
        if let Some((j, s)) = best
            && s > 0.0
        {
            used[j] = true;
            // A misspelling is a rare word by accident: both sides weigh
            // what the commoner spelling weighs.
            let w = weight_a[i].min(weight_b[j]);
            weight_a[i] = w;
            weight_b[j] = w;
            matches.push((i, j, s));
        }
    }
    let norm = |ws: &[f64]| ws.iter().map(|w| w * w).sum::<f64>().sqrt();
    let dot: f64 = matches
        .iter()
        .map(|&(i, j, s)| s * weight_a[i] * weight_b[j])
        .sum();
    (dot / (norm(&weight_a) * norm(&weight_b))).min(1.0)
}

/// True when two Japanese names hold the same parts in another order or
/// spacing ("直子 高橋", "高橋 直子", "高橋直子").
pub fn same_parts(a: &str, b: &str) -> bool {
    let (mut pa, mut pb) = (words(a), words(b));
    if pa.len() == pb.len() {
        pa.sort_unstable();
        pb.sort_unstable();
        if pa == pb {
            return true;
        }
    }
    let joined = |parts: &[&str]| parts.concat();
    let (ja, jb) = (joined(&words(a)), joined(&words(b)));
    if ja == jb {
        return true;
    }
    // One written without a space: some order of the other's parts.
    let (spaced, solid) = if pa.len() > 1 { (&pa, &jb) } else { (&pb, &ja) };
    if spaced.len() == 2 {
        let (x, y) = (spaced[0], spaced[1]);
        return *solid == format!("{x}{y}") || *solid == format!("{y}{x}");
    }
    false
}

/// The reading of a name part: romanised and folded (Latin), or read
/// through `romaji` (Japanese script; `None` without a reading).
pub fn reading_of(part: &str, romaji: Option<super::Romaji>) -> Option<String> {
    if has_cjk(part) {
        romaji?(part).map(|words| words.concat())
    } else {
        let folded = crate::normalize::fold_romaji(part);
        (!folded.is_empty()).then_some(folded)
    }
}

/// The readings of a name's parts, each part read (see [`reading_of`]) and
/// the parts joined in the order written and the other way round: "佐藤 健",
/// "佐藤健", "Ken Sato" and "SATO Ken" share `satoken`.
pub fn reading_keys(parts: &[String], romaji: Option<super::Romaji>) -> Vec<String> {
    let Some(read) = parts
        .iter()
        .map(|p| reading_of(p, romaji))
        .collect::<Option<Vec<String>>>()
    else {
        return Vec::new();
    };
    if read.is_empty() {
        return Vec::new();
    }
    let mut reversed = read.clone();
    reversed.reverse();
    let mut sorted = read.clone();
    sorted.sort();
    let mut keys = vec![read.concat(), reversed.concat(), sorted.concat()];
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(keys: &[&str]) -> WordStats {
        let mut s = WordStats::default();
        for k in keys {
            s.add(k);
        }
        s
    }

    #[test]
    fn common_words_weigh_less_than_distinctive_ones() {
        let s = stats(&[
            "laboratoires martin",
            "laboratoires dubois",
            "laboratoires legrand",
            "laboratoires roux",
            "nova analytics",
        ]);
        assert!(s.idf("laboratoires") < s.idf("martin"));
        let different = soft_tfidf("laboratoires martin", "laboratoires dubois", &s);
        assert!(different < 0.5, "{different}");
        let misspelt = soft_tfidf("laboratoires legrand", "laboratiores legrand", &s);
        assert!(misspelt > 0.95, "{misspelt}");
        assert!((soft_tfidf("nova analytics", "analytics nova", &s) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn japanese_names_in_any_order_or_spacing_are_one() {
        assert!(same_parts("直子 高橋", "高橋 直子"));
        assert!(same_parts("高橋直子", "直子 高橋"));
        assert!(same_parts("高橋 直子", "高橋直子"));
        assert!(!same_parts("高橋 直子", "高橋 優子"));
    }
}
