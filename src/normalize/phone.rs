//! Phone numbers to E.164 with libphonenumber's rules (the `phonenumber`
//! crate), using a default region for numbers written without a country code
//! ("03-1234-5678" in a Japanese export is +81312345678).
//!
//! It must never invent a number: what does not parse as a valid number for
//! its region is returned as an error for the caller to record.

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber};
use unicode_normalization::UnicodeNormalization;

/// Where a run that may be a phone number, starting at byte `start` of
/// `text` (a `+`, `(` or digit), ends: over digits and the separators
/// people write (space, `-`, `.`, parentheses), without trailing
/// separators. What the run is (a phone, a date, an id) is for the caller.
pub fn phone_run_end(text: &[u8], start: usize) -> usize {
    let mut end = start + 1;
    while end < text.len()
        && (text[end].is_ascii_digit() || matches!(text[end], b' ' | b'-' | b'.' | b'(' | b')'))
    {
        end += 1;
    }
    while end > start && !text[end - 1].is_ascii_digit() {
        end -= 1;
    }
    end
}

/// A valid phone number in E.164 form (`+14155550100`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses `raw` in `region` (ISO 3166 alpha-2; numbers starting with `+`
    /// or `00` carry their own country).
    pub fn parse(raw: &str, region: Option<&str>) -> Result<Phone, super::InvalidValue> {
        let folded: String = raw.nfkc().collect();
        let trimmed = folded.trim();
        let international = trimmed.strip_prefix("00").map(|rest| format!("+{rest}"));
        let text = international.as_deref().unwrap_or(trimmed);
        let region_id = region.and_then(|r| r.trim().to_ascii_uppercase().parse::<Id>().ok());
        let number: PhoneNumber = phonenumber::parse(region_id, text).map_err(|e| {
            super::InvalidValue::PhoneUnreadable {
                raw: raw.to_string(),
                reason: e.to_string(),
            }
        })?;
        if !phonenumber::is_valid(&number) {
            let hint = match region {
                Some(r) => format!("for region {r}"),
                None => "without a country code or a default region".to_string(),
            };
            return Err(super::InvalidValue::PhoneInvalid {
                raw: raw.to_string(),
                hint,
            });
        }
        Ok(Phone(number.format().mode(Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_formats_become_e164() {
        for raw in [
            "+1 (415) 555-0100",
            "415.555.0100",
            "(415) 555 0100",
            "001 415 555 0100",
        ] {
            assert_eq!(
                Phone::parse(raw, Some("US")).unwrap().as_str(),
                "+14155550100",
                "{raw}"
            );
        }
        assert_eq!(
            Phone::parse("03-1234-5678", Some("JP")).unwrap().as_str(),
            "+81312345678"
        );
        assert_eq!(
            Phone::parse("０３－１２３４－５６７８", Some("JP"))
                .unwrap()
                .as_str(),
            "+81312345678"
        );
        assert_eq!(
            Phone::parse("+81 6 1234 5678", Some("US"))
                .unwrap()
                .as_str(),
            "+81612345678"
        );
        assert_eq!(
            Phone::parse("+49 (0)40 5550 1299", None).unwrap().as_str(),
            "+494055501299"
        );
    }

    #[test]
    fn garbage_and_impossible_numbers_are_errors() {
        assert!(Phone::parse("n/a", Some("US")).is_err());
        assert!(Phone::parse("123", Some("US")).is_err());
        assert!(Phone::parse("415 555 0100", None).is_err());
    }
}
