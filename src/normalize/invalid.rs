//! Why a loose field value could not become a canonical one: one variant
//! per rule the normalisers check, each keeping the value as written so the
//! message (recorded on the record as a quality issue) names it.
//!
//! It must never carry anything but the raw value and the rule it broke; the
//! caller decides whether the value is flagged, kept raw or refused.

/// A value a normaliser refused, with the words the quality report shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValue {
    #[error("`{0}` has no @")]
    EmailWithoutAt(String),
    #[error("`{0}` is not a valid email address")]
    Email(String),
    #[error("`{0}` is not a phone number")]
    PhoneDigits(String),
    #[error("`{raw}` is not a phone number ({reason})")]
    PhoneUnreadable { raw: String, reason: String },
    #[error("`{raw}` is not a valid phone number {hint}")]
    PhoneInvalid { raw: String, hint: String },
    #[error("`{0}` is not a date (expected e.g. 2024-03-15)")]
    Date(String),
    #[error("`{0}` is not a time zone offset such as +09:00, -05:00 or UTC")]
    Offset(String),
    #[error("`{0}` is not an amount")]
    Amount(String),
    #[error("`{0}` is not a known country")]
    Country(String),
    #[error("`{0}` is not a date of birth (expected e.g. 1956-04-09)")]
    BirthDate(String),
    #[error("`{0}` is not a web site")]
    Website(String),
    #[error("empty {0}")]
    EmptyIdentifier(String),
    #[error("`{0}` is not a Japanese corporate number (13 digits, check digit first)")]
    JapaneseCorporateNumber(String),
    #[error("`{0}` is not a DUNS number (9 digits)")]
    Duns(String),
}

/// Records keep a quality issue's reason as text.
impl From<InvalidValue> for String {
    fn from(invalid: InvalidValue) -> String {
        invalid.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::InvalidValue;
    use crate::normalize::{Email, parse_identifier, parse_offset};

    #[test]
    fn each_refusal_is_its_own_variant_and_names_the_value_as_written() {
        let email = Email::parse("a@b").unwrap_err();
        assert_eq!(email, InvalidValue::Email("a@b".into()));
        assert_eq!(email.to_string(), "`a@b` is not a valid email address");
        assert_eq!(
            parse_identifier("duns", "12-34"),
            Err(InvalidValue::Duns("12-34".into()))
        );
        assert_eq!(
            String::from(parse_offset("Tokyo").unwrap_err()),
            "`Tokyo` is not a time zone offset such as +09:00, -05:00 or UTC"
        );
    }
}
