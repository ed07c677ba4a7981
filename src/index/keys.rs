//! Lookup keys derived from normalised values, shared by indexing and
//! querying so both sides agree: phone numbers reduced to their national
//! significant number (so "+1 415 555 0100", "(415) 555-0100" and
//! "4155550100" meet), and the shape tests the query builder uses to decide
//! whether a typed word is a phone number, an email address or an id.
//!
//! It must never guess a country from anything but the digits it is given,
//! and never do I/O.

use unicode_normalization::UnicodeNormalization;

use crate::normalize::phone_key;

/// Country calling codes we strip from international numbers, longest first
/// within each length so that "+81" is not read as "+8".
const COUNTRY_CODES: &[&str] = &[
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
    "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98", "852",
    "853", "855", "856", "880", "886", "971", "972", "966",
];

/// The national significant number of a phone number, as digits: the
/// international form without its country code, or the national form
/// without its trunk zeros. `None` when `raw` is not a phone number.
pub fn phone_significant(raw: &str) -> Option<String> {
    let key = phone_key(raw).ok()?;
    let nsn = match key.strip_prefix('+') {
        Some(international) => {
            let mut best = international;
            for code in COUNTRY_CODES {
                if let Some(rest) = international.strip_prefix(code)
                    && rest.len() >= 6
                    && best.len() > rest.len()
                {
                    best = rest;
                }
            }
            best.trim_start_matches('0')
        }
        // North American numbers written with their leading 1.
        None if key.len() == 11 && key.starts_with('1') => &key[1..],
        None => key.trim_start_matches('0'),
    };
    (nsn.len() >= 5).then(|| nsn.to_string())
}

/// True when a typed word looks like a phone number: digits with the usual
/// punctuation (+ - . ( ) and spaces), at least 6 digits.
pub fn looks_like_phone(text: &str) -> bool {
    let folded: String = text.nfkc().collect();
    let digits = folded.chars().filter(char::is_ascii_digit).count();
    digits >= 6
        && folded
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.() /".contains(c))
}

/// Words that must match exactly, never by typo correction: anything with a
/// digit (numbers, ids, phones) or an @ (emails).
pub fn is_exact_only(text: &str) -> bool {
    text.chars().any(|c| c.is_numeric() || c == '@')
}

/// Meilisearch's typo budget: one edit from 5 characters, two from 9.
pub fn typo_budget(text: &str) -> u8 {
    if is_exact_only(text) {
        return 0;
    }
    match text.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_forms_meet_on_the_significant_number() {
        for typed in [
            "+1 (415) 555-0100",
            "415-555-0100",
            "(415) 555 0100",
            "4155550100",
            "1-415-555-0100",
        ] {
            assert_eq!(
                phone_significant(typed).as_deref(),
                Some("4155550100"),
                "{typed}"
            );
        }
        for typed in ["03-1234-5678", "+81 3 1234 5678", "０３−１２３４−５６７８"] {
            assert_eq!(
                phone_significant(typed).as_deref(),
                Some("312345678"),
                "{typed}"
            );
        }
        assert!(looks_like_phone("+1 (415) 555-0100"));
        assert!(!looks_like_phone("2024"));
        assert!(!looks_like_phone("invoice"));
    }

    #[test]
    fn typo_budget_follows_word_length_and_shape() {
        assert_eq!(typo_budget("smit"), 0);
        assert_eq!(typo_budget("smtih"), 1);
        assert_eq!(typo_budget("internatonal"), 2);
        assert_eq!(typo_budget("ORD-12345"), 0);
        assert_eq!(typo_budget("jon@acme.com"), 0);
    }
}
