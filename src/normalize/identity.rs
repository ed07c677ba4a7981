//! Values that identify a person or a company: dates of birth, postcodes
//! (per country), web sites, and registration or national identifiers
//! (Japan's 13-digit corporate number with its check digit, VAT ids, DUNS),
//! each parsed into the one form the resolver compares.
//!
//! It must never guess: a value that does not parse is an error for the
//! caller to flag, never silently changed into something else.

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

use super::InvalidValue;

/// A date of birth as sources write it: `1956-04-09`, `1956/04/09`,
/// `19560409` (FEBRL), `09.04.1956`, `1956年4月9日`.
pub fn parse_birth_date(raw: &str) -> Result<NaiveDate, InvalidValue> {
    let text: String = raw.trim().nfkc().collect();
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d.%m.%Y", "%Y年%m月%d日"] {
        if let Ok(date) = NaiveDate::parse_from_str(&text, format) {
            return Ok(date);
        }
    }
    // A date-time whose date is the birth date.
    if let Some(date) = text
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    {
        return Ok(date);
    }
    Err(InvalidValue::BirthDate(raw.to_string()))
}

/// A postcode in the form its country writes it: upper case, inner spaces
/// kept for GB/CA/NL, Japan's `〒1000001` → `100-0001`.
pub fn normalize_postcode(raw: &str, country: Option<&str>) -> String {
    let text: String = raw.nfkc().collect::<String>().trim().to_uppercase();
    let text = text.trim_start_matches('〒').trim();
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    match country {
        Some("JP") if digits.len() == 7 => format!("{}-{}", &digits[..3], &digits[3..]),
        Some("US") if digits.len() == 9 => format!("{}-{}", &digits[..5], &digits[5..]),
        Some("GB") | Some("CA") | Some("NL") => {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            match compact.len() {
                5..=7 => {
                    let split = compact.len() - 3;
                    format!("{} {}", &compact[..split], &compact[split..])
                }
                _ => compact,
            }
        }
        _ => text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// A web site as its host name: `https://www.Acme.com/about` → `acme.com`.
pub fn parse_website(raw: &str) -> Result<String, InvalidValue> {
    let text = raw.trim().to_ascii_lowercase();
    let text = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .unwrap_or(&text);
    let host = text.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let valid = host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    if valid {
        Ok(host.to_string())
    } else {
        Err(InvalidValue::Website(raw.to_string()))
    }
}

/// The check digit of a Japanese corporate number (法人番号) is its first
/// digit: 9 − (Σ digitₙ·(1 if n odd else 2) mod 9) over the other twelve,
/// n counted from the right.
fn japanese_corporate_number_is_valid(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    if bytes.len() != 13 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = bytes[1..]
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    u32::from(bytes[0] - b'0') == 9 - sum % 9
}

/// An identifier of `scheme` in its compared form `scheme:VALUE` (spaces,
/// dashes and dots dropped, upper case). Schemes: `jp_corp` (checked),
/// `vat`, `duns`, `company_number`, `national_id`.
pub fn parse_identifier(scheme: &str, raw: &str) -> Result<String, InvalidValue> {
    let value: String = raw
        .nfkc()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '/'))
        .collect::<String>()
        .to_uppercase();
    if value.is_empty() {
        return Err(InvalidValue::EmptyIdentifier(scheme.to_string()));
    }
    match scheme {
        "jp_corp" if !japanese_corporate_number_is_valid(&value) => {
            Err(InvalidValue::JapaneseCorporateNumber(raw.to_string()))
        }
        "duns" if value.len() != 9 || !value.chars().all(|c| c.is_ascii_digit()) => {
            Err(InvalidValue::Duns(raw.to_string()))
        }
        _ => Ok(format!("{scheme}:{value}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_in_the_forms_sources_write() {
        let d = NaiveDate::from_ymd_opt(1956, 4, 9);
        for raw in [
            "1956-04-09",
            "19560409",
            "1956/04/09",
            "09.04.1956",
            "１９５６年４月９日",
        ] {
            assert_eq!(parse_birth_date(raw).ok(), d, "{raw}");
        }
        assert!(parse_birth_date("19561309").is_err());
    }

    #[test]
    fn postcodes_per_country() {
        assert_eq!(normalize_postcode("〒1000001", Some("JP")), "100-0001");
        assert_eq!(
            normalize_postcode("１００−０００１", Some("JP")),
            "100-0001"
        );
        assert_eq!(normalize_postcode("ec1a1bb", Some("GB")), "EC1A 1BB");
        assert_eq!(normalize_postcode(" 10115 ", Some("DE")), "10115");
    }

    #[test]
    fn websites_become_host_names() {
        assert_eq!(
            parse_website("https://www.Acme.com/about").as_deref(),
            Ok("acme.com")
        );
        assert_eq!(parse_website("acme.co.jp").as_deref(), Ok("acme.co.jp"));
        assert!(parse_website("not a site").is_err());
    }

    #[test]
    fn japanese_corporate_numbers_are_checked() {
        // Toyota Motor Corporation's published number.
        assert_eq!(
            parse_identifier("jp_corp", "1180-3010-18771").as_deref(),
            Ok("jp_corp:1180301018771")
        );
        assert!(parse_identifier("jp_corp", "2180301018771").is_err());
        assert_eq!(
            parse_identifier("vat", "de 123 456 789").as_deref(),
            Ok("vat:DE123456789")
        );
    }
}
