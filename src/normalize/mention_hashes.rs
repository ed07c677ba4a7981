//! An erased person's mentions found again from hashes alone: after a
//! restore of a snapshot taken before an erasure, the ledger (which holds
//! no personal values) gives `email:HASH`, `phone:HASH` and
//! `name:CHARS:HASH` (see `Mentions::hashes`), and free text is redacted
//! where a candidate's hash matches: each address-like word, each phone-like
//! run (its last 7, 8 or 9 digits), and each run of the names' lengths
//! (at word boundaries in Latin script).
//!
//! It must never redact what does not hash to one of the person's details,
//! and never need the values themselves.

use std::collections::BTreeSet;

use super::mentions::{ERASED, replace_phone_runs};

fn hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// The hashes of one erasure, by kind.
#[derive(Debug, Clone, Default)]
pub struct HashedMentions {
    emails: BTreeSet<String>,
    phones: BTreeSet<String>,
    /// Length in characters → hashes of names of that length.
    names: Vec<(usize, BTreeSet<String>)>,
}

impl HashedMentions {
    pub fn from_hashes(hashes: &[String]) -> HashedMentions {
        let mut m = HashedMentions::default();
        for h in hashes {
            if let Some(e) = h.strip_prefix("email:") {
                m.emails.insert(e.to_string());
            } else if let Some(p) = h.strip_prefix("phone:") {
                m.phones.insert(p.to_string());
            } else if let Some((len, h)) = h.strip_prefix("name:").and_then(|n| n.split_once(':'))
                && let Ok(len) = len.parse::<usize>()
            {
                match m.names.iter_mut().find(|(l, _)| *l == len) {
                    Some((_, set)) => {
                        set.insert(h.to_string());
                    }
                    None => m.names.push((len, BTreeSet::from([h.to_string()]))),
                }
            }
        }
        // Longer names first, as `Mentions` does.
        m.names.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        m
    }

    pub fn is_empty(&self) -> bool {
        self.emails.is_empty() && self.phones.is_empty() && self.names.is_empty()
    }

    /// `text` with every mention replaced, or `None` when it holds none.
    pub fn redact(&self, text: &str) -> Option<String> {
        let mut out = self.replace_emails(text);
        for (len, hashes) in &self.names {
            out = replace_names(&out, *len, hashes);
        }
        if !self.phones.is_empty() {
            out = replace_phone_runs(&out, &|digits| {
                (7..=9).any(|k| {
                    digits.len() >= k && self.phones.contains(&hash(&digits[digits.len() - k..]))
                })
            });
        }
        (out != text).then_some(out)
    }

    fn replace_emails(&self, text: &str) -> String {
        if self.emails.is_empty() {
            return text.to_string();
        }
        let is_email_char = |c: char| c.is_ascii_alphanumeric() || "._%+-@".contains(c);
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            if !is_email_char(c) {
                continue;
            }
            let mut end = start + c.len_utf8();
            while let Some(&(i, c)) = chars.peek() {
                if !is_email_char(c) {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            let word = text[start..end].trim_end_matches('.');
            if word.contains('@') && self.emails.contains(&hash(&word.to_lowercase())) {
                out.push_str(&text[copied..start]);
                out.push_str(ERASED);
                copied = start + word.len();
            }
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// Replaces each run of `len` characters whose lower case hashes to one of
/// `hashes`; a run that starts or ends with a Latin letter or digit must not
/// continue a longer word.
fn replace_names(text: &str, len: usize, hashes: &BTreeSet<String>) -> String {
    let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let total = starts.len();
    let byte_at = |k: usize| if k < total { starts[k] } else { text.len() };
    let word_char = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut k = 0;
    while k + len <= total {
        let (a, b) = (byte_at(k), byte_at(k + len));
        let candidate = &text[a..b];
        let alone =
            !word_char(text[..a].chars().next_back()) && !word_char(text[b..].chars().next());
        let collapsed = candidate.split_whitespace().collect::<Vec<_>>().join(" ");
        if alone
            && collapsed.chars().count() == len
            && hashes.contains(&hash(&collapsed.to_lowercase()))
        {
            out.push_str(&text[copied..a]);
            out.push_str(ERASED);
            copied = b;
            k += len;
        } else {
            k += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::mentions::Mentions;

    #[test]
    fn hashes_find_what_the_values_found() {
        let m = Mentions::new(
            ["a.schmidt@brightwater-logistics.de"],
            ["+49305550123"],
            ["Anna Schmidt", "Schmidt", "佐藤 健"],
        );
        let hashed = HashedMentions::from_hashes(&m.hashes());
        let text = "Met Anna SCHMIDT (A.Schmidt@Brightwater-Logistics.de, 030 5550123) and \
                    Lukas Becker; Schmidtke agreed. 佐藤 健さんにも連絡。Invoice 2024-05-20.";
        assert_eq!(hashed.redact(text), m.redact(text));
        assert_eq!(hashed.redact("Lukas Becker called about 2024-05-20."), None);
        assert!(
            m.hashes()
                .iter()
                .all(|h| !h.contains("schmidt") && !h.contains("5550123"))
        );
    }
}
