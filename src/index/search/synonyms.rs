//! Query-time synonyms from the file `synonyms` in rapport.toml names: one
//! group of equivalent forms per line, separated by commas (`IBM,
//! International Business Machines, I.B.M.`), `#` starts a comment. A query
//! word or run of words that equals one form is searched as any form of its
//! group; a Japanese form inside a word (株式会社 in 日東電工株式会社) is swapped
//! for the others.
//!
//! It must never change the index: synonyms apply to queries only, so
//! editing the file needs no reindex.

use std::path::Path;

use unicode_normalization::UnicodeNormalization;

use crate::index::text_tokenizer::is_japanese;

#[derive(Debug, thiserror::Error)]
pub enum SynonymError {
    #[error("cannot read synonyms file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "synonyms file {path}, line {line}: a group needs at least two forms separated by commas"
    )]
    Line { path: String, line: usize },
}

/// Groups of equivalent forms, each form stored folded (NFKC, lower case,
/// single spaces).
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
}

pub(crate) fn fold(text: &str) -> String {
    let folded: String = text.nfkc().collect::<String>().to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Synonyms {
    pub fn load(path: &Path) -> Result<Synonyms, SynonymError> {
        let text = std::fs::read_to_string(path).map_err(|source| SynonymError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Synonyms::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Synonyms, SynonymError> {
        let mut groups = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let forms: Vec<String> = line
                .split(',')
                .map(fold)
                .filter(|f| !f.is_empty())
                .collect();
            if forms.len() < 2 {
                return Err(SynonymError::Line {
                    path: origin.to_string(),
                    line: i + 1,
                });
            }
            groups.push(forms);
        }
        Ok(Synonyms { groups })
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Rewrites forms that contain characters the query syntax uses (such as
    /// "(株)") into the first plain form of their group, before parsing.
    pub fn rewrite_syntax_forms(&self, query: &str) -> String {
        let mut out: String = query.nfkc().collect();
        for group in &self.groups {
            let Some(plain) = group.iter().find(|f| !f.contains(['(', ')', '"'])) else {
                continue;
            };
            for form in group.iter().filter(|f| f.contains(['(', ')', '"'])) {
                if out.contains(form.as_str()) {
                    out = out.replace(form.as_str(), &format!(" {plain} "));
                }
            }
        }
        out
    }

    /// The other forms of the group whose form equals `words` (folded).
    pub fn alternatives(&self, words: &str) -> Vec<String> {
        let folded = fold(words);
        self.groups
            .iter()
            .filter(|g| g.contains(&folded))
            .flat_map(|g| g.iter().filter(|f| **f != folded).cloned())
            .collect()
    }

    /// Variants of one word with a Japanese form inside it replaced by the
    /// other forms of its group (日東株式会社 → 日東(株), 日東kk ...).
    pub fn inner_variants(&self, word: &str) -> Vec<String> {
        let folded = fold(word);
        let mut out = Vec::new();
        for group in &self.groups {
            for form in group.iter().filter(|f| f.chars().any(is_japanese)) {
                if folded != *form && folded.contains(form.as_str()) {
                    for other in group.iter().filter(|o| *o != form) {
                        let variant = folded.replace(form.as_str(), other);
                        if !out.contains(&variant) {
                            out.push(variant);
                        }
                    }
                }
            }
        }
        out
    }

    /// The longest number of words starting a sequence that form a synonym.
    pub fn longest_match(&self, words: &[&str]) -> Option<(usize, Vec<String>)> {
        (1..=words.len().min(6)).rev().find_map(|n| {
            let alternatives = self.alternatives(&words[..n].join(" "));
            (!alternatives.is_empty()).then_some((n, alternatives))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# test\nIBM, International Business Machines\n株式会社, (株), KK\n";

    #[test]
    fn groups_match_both_ways_and_inside_japanese_words() {
        let s = Synonyms::parse(FILE, "t").unwrap();
        assert_eq!(
            s.alternatives("ibm"),
            vec!["international business machines"]
        );
        assert_eq!(
            s.longest_match(&["International", "Business", "Machines", "x"]),
            Some((3, vec!["ibm".to_string()]))
        );
        assert!(
            s.inner_variants("日東株式会社")
                .contains(&"日東kk".to_string())
        );
        assert_eq!(s.rewrite_syntax_forms("日東㈱").trim(), "日東 株式会社");
        assert!(Synonyms::parse("lonely\n", "t").is_err());
    }
}
