//! Turns loose field values from connectors into canonical values: emails,
//! phones, dates, amounts, countries, tags. Each function either returns the
//! canonical value or says why it could not; the caller records that on the
//! record as a quality issue.
//!
//! It must never drop a value silently or do I/O.

mod checks;
mod countries;
pub mod identity;
mod invalid;
pub mod limits;
pub mod mention_hashes;
pub mod mentions;
pub mod names;
pub mod phone;
pub mod search_keys;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use unicode_normalization::UnicodeNormalization;

pub use identity::{normalize_postcode, parse_birth_date, parse_identifier, parse_website};
pub use invalid::InvalidValue;
pub use names::{acronym, company_key, fold_romaji, legal_form, person_key, person_parts};
pub use phone::Phone;

/// An email address that has the shape `local@domain.tld`, with the domain in
/// lower case. The only way to get one is [`Email::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, InvalidValue> {
        let text: String = raw.trim().nfkc().collect();
        let text = text.trim_matches(|c| c == '<' || c == '>');
        let (local, domain) = text
            .rsplit_once('@')
            .ok_or_else(|| InvalidValue::EmailWithoutAt(raw.to_string()))?;
        let tld_ok = domain.rsplit('.').next().is_some_and(|tld| {
            tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit())
        });
        let domain_ok = domain.contains('.')
            && tld_ok
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        let local_ok =
            !local.is_empty() && !local.contains(char::is_whitespace) && !local.contains('@');
        if !domain_ok || !local_ok {
            return Err(InvalidValue::Email(raw.to_string()));
        }
        // Local parts are case-sensitive in theory and never in practice:
        // every CRM folds them, so matching does too.
        Ok(Email(format!(
            "{}@{}",
            local.to_lowercase(),
            domain.to_ascii_lowercase()
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number reduced to `+` and digits ("+1 (415) 555-0100" →
/// "+14155550100", "03-1234-5678" → "0312345678").
pub fn phone_key(raw: &str) -> Result<String, InvalidValue> {
    let folded: String = raw.nfkc().collect();
    let plus = folded.trim_start().starts_with('+');
    let digits: String = folded.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 5 || digits.len() > 15 {
        return Err(InvalidValue::PhoneDigits(raw.to_string()));
    }
    Ok(if plus { format!("+{digits}") } else { digits })
}

/// Dates as CRMs write them: RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`,
/// `YYYY/MM/DD`. Dates without a zone are taken as UTC.
pub fn parse_date(raw: &str) -> Result<DateTime<Utc>, InvalidValue> {
    parse_date_zoned(raw).map(|(date, _)| date)
}

/// Like [`parse_date`], and says whether the text carried its own zone
/// (`false`: it was read as UTC and the source's time zone should apply).
pub fn parse_date_zoned(raw: &str) -> Result<(DateTime<Utc>, bool), InvalidValue> {
    let text = raw.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Ok((dt.with_timezone(&Utc), true));
    }
    naive_date(raw, text).map(|d| (d, false))
}

fn naive_date(raw: &str, text: &str) -> Result<DateTime<Utc>, InvalidValue> {
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(Utc.from_utc_datetime(&naive));
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日"] {
        if let Ok(date) = NaiveDate::parse_from_str(text, format)
            && let Some(naive) = date.and_hms_opt(0, 0, 0)
        {
            return Ok(Utc.from_utc_datetime(&naive));
        }
    }
    Err(InvalidValue::Date(raw.to_string()))
}

/// A source's time zone as a fixed offset: `UTC`, `Z`, `+09:00`, `-05:00`.
pub fn parse_offset(raw: &str) -> Result<chrono::FixedOffset, InvalidValue> {
    let text = raw.trim();
    let bad = || InvalidValue::Offset(raw.to_string());
    if matches!(text, "UTC" | "utc" | "Z" | "GMT") {
        return chrono::FixedOffset::east_opt(0).ok_or_else(bad);
    }
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 14 || m > 59 {
        return Err(bad());
    }
    chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(bad)
}

/// Dates written without a zone were read as UTC; shift them into the
/// source's zone (a 09:00 in a Tokyo export is 00:00 UTC).
pub fn apply_timezone(record: &mut crate::record::Record, offset: Option<chrono::FixedOffset>) {
    let naive = std::mem::take(&mut record.naive_dates);
    let Some(offset) = offset else { return };
    let shift = chrono::Duration::seconds(i64::from(offset.local_minus_utc()));
    for field in naive {
        let date = match field.as_str() {
            "created" => record.created.as_mut(),
            "updated" => record.updated.as_mut(),
            _ => None,
        };
        if let Some(d) = date {
            *d -= shift;
        }
    }
}

/// Amounts with thousands separators and currency symbols ("$1,200.50",
/// "¥120,000").
pub fn parse_amount(raw: &str) -> Result<f64, InvalidValue> {
    let folded: String = raw.nfkc().collect();
    let cleaned: String = folded
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    cleaned
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| InvalidValue::Amount(raw.to_string()))
}

/// ISO 3166 alpha-2 from a country name as people write it in several
/// languages (`countries.rs`), a code (alpha-2 or alpha-3) or an English
/// name or alias (`celes`). Anything else is an error the
/// caller records.
pub fn country_code(raw: &str) -> Result<String, InvalidValue> {
    let text: String = raw.trim().nfkc().collect();
    if let Some(code) = countries::alias(&text) {
        return Ok(code.to_string());
    }
    let lookup = |t: &str| {
        celes::Country::from_alpha2(t)
            .or_else(|_| celes::Country::from_alpha3(t))
            .or_else(|_| t.parse::<celes::Country>())
            .ok()
    };
    match lookup(&text).or_else(|| lookup(&text.to_lowercase().replace(' ', ""))) {
        Some(country) => Ok(country.alpha2.to_string()),
        None => Err(InvalidValue::Country(raw.to_string())),
    }
}

/// The checks and conversions that need the source's settings or the whole
/// record: phones to E.164 in the source's default region, required fields,
/// dates in the future. Every problem is flagged on the record.
fn now_date() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

pub fn finish_record(record: &mut crate::record::Record, region: Option<&str>) {
    use crate::record::RecordKind;
    // A record's own country says more about its numbers than the source's.
    let region = record.country.clone().or(region.map(str::to_string));
    let raw_phones = std::mem::take(&mut record.phones);
    for raw in raw_phones {
        match Phone::parse(&raw, region.as_deref()) {
            Ok(phone) => {
                if !record.phones.iter().any(|p| p == phone.as_str()) {
                    record.phones.push(phone.as_str().to_string());
                }
            }
            Err(reason) => {
                record.flag("phones", reason);
                let key = "raw_phones".to_string();
                let kept = match record.attrs.get(&key).and_then(|v| v.as_str()) {
                    Some(previous) => format!("{previous}; {raw}"),
                    None => raw,
                };
                record.attrs.insert(key, serde_json::Value::String(kept));
            }
        }
    }
    if let Some(postcode) = record.address.postcode.take() {
        let normalized = normalize_postcode(&postcode, region.as_deref());
        record.address.postcode = (!normalized.is_empty()).then_some(normalized);
    }
    if record.birth_date.is_some_and(|d| d > now_date()) {
        record.flag("birth_date", "date of birth in the future");
    }
    let named = !record.names.is_empty() || record.title.is_some();
    match record.kind {
        RecordKind::Person | RecordKind::Organization if !named => {
            record.flag(
                "names",
                "missing required field: a person or organisation needs a name",
            );
        }
        RecordKind::Person
            if record.emails.is_empty()
                && record.phones.is_empty()
                && record.birth_date.is_none()
                && record.address.is_empty()
                && record.identifiers.is_empty() =>
        {
            record.flag(
                "emails",
                "person has neither an email, a valid phone, an address, a date of birth nor an identifier",
            );
        }
        _ => {}
    }
    let now = Utc::now();
    if record
        .created
        .is_some_and(|c| c > now + chrono::Duration::days(1))
    {
        record.flag("created", "date is in the future");
    }
    if let (Some(created), Some(updated)) = (record.created, record.updated)
        && updated < created
    {
        record.flag("updated", "updated before it was created");
    }
    if let Some(birth) = record.attrs.get("birthdate").and_then(|v| v.as_str())
        && parse_date(birth).is_ok_and(|b| b > now)
    {
        record.flag("birthdate", "birth date in the future");
    }
    checks::check_record(record, now);
}

/// Splits a multi-valued cell (`a;b`, `a, b`, `[a, b]`) into trimmed values.
pub fn split_list(raw: &str) -> Vec<String> {
    raw.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split([';', ',', '|'])
        .map(|v| v.trim().trim_matches('"').trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_fold_case_and_reject_garbage() {
        assert_eq!(
            Email::parse(" Jon.Smith@AcmeRobotics.COM ")
                .unwrap()
                .as_str(),
            "jon.smith@acmerobotics.com"
        );
        assert!(Email::parse("not-an-email").is_err());
        assert!(Email::parse("a@b").is_err());
        for malformed in [
            "jon@@acme.com",
            "jon@acme@acme.com",
            "jon smith@acme.com",
            "jon@acme com",
            "jon@acme.c",
            "jon@acme..com",
            "jon@10.0.0.1",
        ] {
            assert!(Email::parse(malformed).is_err(), "{malformed}");
        }
    }

    #[test]
    fn phones_keep_plus_and_digits() {
        assert_eq!(phone_key("+1 (415) 555-0100").unwrap(), "+14155550100");
        assert_eq!(phone_key("０３-１２３４-５６７８").unwrap(), "0312345678");
        assert!(phone_key("n/a").is_err());
    }

    #[test]
    fn dates_amounts_countries_lists() {
        assert_eq!(
            parse_date("2024-03-15").unwrap().to_rfc3339(),
            "2024-03-15T00:00:00+00:00"
        );
        assert!(parse_date("2024-02-30").is_err());
        assert!(!parse_date_zoned("2024-03-15 09:00").unwrap().1);
        assert!(parse_date_zoned("2024-03-15T09:00:00+09:00").unwrap().1);
        let tokyo = parse_offset("+09:00").unwrap();
        let mut r = crate::record::Record::new("s", "1", crate::record::RecordKind::Note);
        r.created = parse_date("2024-03-15 09:00").ok();
        r.naive_dates.push("created".into());
        apply_timezone(&mut r, Some(tokyo));
        assert_eq!(r.created.unwrap().to_rfc3339(), "2024-03-15T00:00:00+00:00");
        assert!(parse_offset("Tokyo").is_err());
        assert_eq!(parse_amount("$1,200.50").unwrap(), 1200.5);
        assert!(parse_amount("lots").is_err());
        assert_eq!(country_code("jp").unwrap(), "JP");
        assert_eq!(country_code("日本").unwrap(), "JP");
        assert_eq!(country_code("Germany").unwrap(), "DE");
        assert_eq!(country_code("United Kingdom").unwrap(), "GB");
        assert_eq!(country_code("USA").unwrap(), "US");
        assert!(country_code("Atlantis").is_err());
        assert_eq!(split_list("[meeting, renewal]"), vec!["meeting", "renewal"]);
        assert_eq!(split_list("a;b"), vec!["a", "b"]);
    }
}
