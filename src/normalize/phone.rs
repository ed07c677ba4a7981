//! Phone numbers to E.164 with libphonenumber's rules (the `phonenumber`
//! crate), using a default region for numbers written without a country code
//! ("03-1234-5678" in a Japanese export is +81312345678).
//!
//! It must never invent a number: what does not parse as a valid number for
//! its region is returned as an error for the caller to record.
//!
//! Each thread parses with a metadata database of its own (the crate's
//! default one serialises every thread on one regex cache: see
//! `libphonenumber/README.md`).

use phonenumber::country::Id;
use phonenumber::metadata::Database;
use phonenumber::{Mode, PhoneNumber};
use unicode_normalization::UnicodeNormalization;

/// libphonenumber's metadata, as the `phonenumber` crate builds it in.
const METADATA_XML: &str = include_str!("libphonenumber/PhoneNumberMetadata.xml");

thread_local! {
    /// This thread's database (None if the metadata could not be read: the
    /// crate's default database is used instead).
    static THREAD_DATABASE: Option<Database> = Database::parse(METADATA_XML).ok();
}

/// Runs `work` with this thread's database.
fn with_database<T>(work: impl Fn(&Database) -> T) -> T {
    THREAD_DATABASE.with(|database| match database {
        Some(database) => work(database),
        None => work(&phonenumber::metadata::DATABASE),
    })
}

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

/// `raw` as libphonenumber reads it: NFKC-folded (full-width digits),
/// trimmed, and a leading `00` written as `+`.
fn dialable(raw: &str) -> String {
    let folded: String = raw.nfkc().collect();
    let trimmed = folded.trim();
    match trimmed.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => trimmed.to_string(),
    }
}

/// A valid phone number in E.164 form (`+14155550100`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses `raw` in `region` (ISO 3166 alpha-2; numbers starting with `+`
    /// or `00` carry their own country).
    pub fn parse(raw: &str, region: Option<&str>) -> Result<Phone, super::InvalidValue> {
        let text = dialable(raw);
        let region_id = region.and_then(|r| r.trim().to_ascii_uppercase().parse::<Id>().ok());
        with_database(|database| Self::parse_with(database, raw, &text, region, region_id))
    }

    fn parse_with(
        database: &Database,
        raw: &str,
        text: &str,
        region: Option<&str>,
        region_id: Option<Id>,
    ) -> Result<Phone, super::InvalidValue> {
        let number: PhoneNumber =
            phonenumber::parse_with(database, region_id, text).map_err(|e| {
                super::InvalidValue::PhoneUnreadable {
                    raw: raw.to_string(),
                    reason: e.to_string(),
                }
            })?;
        if !phonenumber::is_valid_with(database, &number) {
            let hint = match region {
                Some(r) => format!("for region {r}"),
                None => "without a country code or a default region".to_string(),
            };
            return Err(super::InvalidValue::PhoneInvalid {
                raw: raw.to_string(),
                hint,
            });
        }
        Ok(Phone(
            number.format_with(database).mode(Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the crate's own default database answers for `raw`: the E.164
    /// form, or which of the two errors.
    fn with_the_crates_database(raw: &str, region: &str) -> Result<String, &'static str> {
        let number = phonenumber::parse(region.parse::<Id>().ok(), dialable(raw))
            .map_err(|_| "unreadable")?;
        if !phonenumber::is_valid(&number) {
            return Err("invalid");
        }
        Ok(number.format().mode(Mode::E164).to_string())
    }

    /// The vendored metadata is the crate's: thousands of numbers, valid and
    /// not, in many regions, get the same answer from each thread's database
    /// as from the crate's default one.
    #[test]
    fn each_threads_database_answers_as_the_crates_own() {
        assert!(
            Database::parse(METADATA_XML).is_ok(),
            "the vendored metadata reads"
        );
        let regions = [
            "US", "GB", "JP", "DE", "FR", "AU", "IN", "BR", "CN", "ZA", "CH", "SG",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut valid = 0;
        for region in regions {
            for _ in 0..250 {
                let length = 7 + (next() % 6) as usize;
                let digits: String = (0..length)
                    .map(|_| char::from(b'0' + (next() % 10) as u8))
                    .collect();
                let prefix = ["", "0", "+", "00", "+1 ", "+44 ", "+81 "][(next() % 7) as usize];
                let raw = format!("{prefix}{digits}");
                let ours = Phone::parse(&raw, Some(region))
                    .map(|p| p.0)
                    .map_err(|e| match e {
                        super::super::InvalidValue::PhoneUnreadable { .. } => "unreadable",
                        _ => "invalid",
                    });
                assert_eq!(
                    ours,
                    with_the_crates_database(&raw, region),
                    "{raw} in {region}"
                );
                valid += usize::from(ours.is_ok());
            }
        }
        assert!(
            valid > 200,
            "only {valid} numbers were valid: the comparison says little"
        );
    }

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
