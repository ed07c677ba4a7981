//! Contact details hidden from identities without `contacts.read` (the
//! default `viewer`): email addresses become `j***@acme.com`, phone numbers
//! `+81 **-****-5678`, wherever they appear in an answer — structured
//! fields (any key naming an email or a phone) and free text (notes,
//! snippets, golden records).
//!
//! It must never widen what is shown: when in doubt a value is masked, and
//! a highlighted snippet that holds a contact detail loses its marks rather
//! than let a mark split the detail past the scanner.

use serde_json::Value;

/// Why a search by an identity without `contacts.read` is refused, if it
/// is: one that names an email address (`@` in the query), a phone number
/// (a run the answers would mask as one) or a contact
/// field (`emails:`, `phones:`, a filter, facet or aggregation on a field
/// naming an email or a phone) would tell it who holds a contact detail it
/// may not see, even with every answer masked.
pub fn contact_search_refusal(q: &str, fields: &[&str]) -> Option<String> {
    if q.contains('@') {
        return Some("`q` holds an email address".into());
    }
    // A phone number typed as free text, as the answer would mask it.
    if find_contacts(q)
        .iter()
        .any(|(_, _, kind)| matches!(kind, Kind::Phone))
    {
        return Some("`q` holds a phone number".into());
    }
    if split_phone_digits(q) >= 8 {
        return Some("`q` holds the parts of a phone number".into());
    }
    let lower = q.to_lowercase();
    let names_contact = |name: &str| name.contains("email") || name.contains("phone");
    let fielded = lower
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '+' | '-' | '"'))
        .filter_map(|word| word.split_once(':').map(|(field, _)| field))
        .find(|field| names_contact(field));
    if let Some(field) = fielded {
        return Some(format!("`q` searches the contact field `{field}`"));
    }
    fields
        .iter()
        .find(|f| names_contact(&f.to_lowercase()))
        .map(|f| format!("`{f}` is a contact field"))
}

/// How many digits `q` holds in standalone groups of 2 to 4 digits, when
/// there are two or more: a phone number typed in parts (`5550 AND 1299`,
/// `"40" 5550 1299`) matches the parts of one written in a note's text. A
/// group that reads as a year (19xx, 20xx) is not counted, so `renewal 2024
/// AND 2023` stays a search; neither are digits inside words or ids.
fn split_phone_digits(q: &str) -> usize {
    let groups: Vec<&str> = q
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-' && c != '/')
        .filter(|word| (2..=4).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_digit()))
        .filter(|group| !(group.len() == 4 && (group.starts_with("19") || group.starts_with("20"))))
        .collect();
    if groups.len() < 2 {
        return 0;
    }
    groups.iter().map(|g| g.len()).sum()
}

/// Masks every contact detail in `value`, in place.
pub fn redact_json(value: &mut Value) {
    redact_under(value, false);
}

fn redact_under(value: &mut Value, contact_field: bool) {
    match value {
        Value::String(text) => {
            let masked = if contact_field {
                mask_contact(text)
            } else {
                redact_text(text)
            };
            if masked != *text {
                *text = masked;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| redact_under(v, contact_field)),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let key = key.to_ascii_lowercase();
                let contact = contact_field || key.contains("email") || key.contains("phone");
                redact_under(v, contact);
            }
        }
        _ => {}
    }
}

/// A whole value known to be an email address or a phone number.
fn mask_contact(text: &str) -> String {
    if text.contains('@') {
        redact_text(text)
    } else if text.chars().filter(char::is_ascii_digit).count() >= 4 {
        mask_phone(text)
    } else {
        redact_text(text)
    }
}

/// `jon.smith@acme.com` → `j***@acme.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

/// Every digit but the country code (after a leading `+`, when a separator
/// follows it) and the last four becomes `*`; separators stay.
pub fn mask_phone(phone: &str) -> String {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let keep_tail = 4.min(digits);
    // The country code is kept when a separator shows where it ends.
    let country: usize = match phone.trim_start().strip_prefix('+') {
        Some(rest) => {
            let code = rest.chars().take_while(char::is_ascii_digit).count();
            let separated = rest.chars().nth(code).is_some();
            if separated && code <= 3 { code } else { 0 }
        }
        None => 0,
    };
    let mut seen = 0;
    phone
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen <= country || seen > digits - keep_tail {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Free text with its email addresses and phone numbers masked. Marks
/// (`<mark>`) are dropped first when the text holds a contact detail.
pub fn redact_text(text: &str) -> String {
    let unmarked;
    let text = if text.contains("<mark>") {
        unmarked = text.replace("<mark>", "").replace("</mark>", "");
        if find_contacts(&unmarked).is_empty() {
            return text.to_string();
        }
        unmarked.as_str()
    } else {
        text
    };
    let found = find_contacts(text);
    if found.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, kind) in found {
        out.push_str(&text[at..start]);
        let detail = &text[start..end];
        out.push_str(&match kind {
            Kind::Email => mask_email(detail),
            Kind::Phone => mask_phone(detail),
        });
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[derive(Clone, Copy)]
enum Kind {
    Email,
    Phone,
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-')
}

/// Byte ranges of the email addresses and phone numbers in `text`, in order.
fn find_contacts(text: &str) -> Vec<(usize, usize, Kind)> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    // Emails: around each '@'.
    for (at, _) in text.match_indices('@') {
        let start = text[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_local_char(*c))
            .last()
            .map_or(at, |(i, _)| i);
        let mut end = text[at + 1..]
            .char_indices()
            .take_while(|(_, c)| is_domain_char(*c))
            .last()
            .map_or(at + 1, |(i, c)| at + 1 + i + c.len_utf8());
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        if start < at && text[at + 1..end].contains('.') {
            found.push((start, end, Kind::Email));
        }
    }
    // Phones: a run of digits and separators with at least 8 digits,
    // starting with '+' or '(' or a digit, that is not a date or inside an
    // email found above.
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let starts = c == b'+' || c == b'(' || c.is_ascii_digit();
        // Not inside a word, nor the number part of an id (`INV-2024-0412`).
        let word_before =
            |k: usize| k > 0 && (bytes[k - 1].is_ascii_alphanumeric() || bytes[k - 1] == b'_');
        let id_part = i > 0 && matches!(bytes[i - 1], b'-' | b'/') && word_before(i - 1);
        let boundary = !(word_before(i) || id_part);
        if !(starts && boundary) {
            i += 1;
            continue;
        }
        let j = crate::normalize::phone::phone_run_end(bytes, i);
        let run = &text[i..j];
        let digits = run.bytes().filter(u8::is_ascii_digit).count();
        let date_like = run.len() >= 10
            && run.as_bytes()[4] == b'-'
            && run.bytes().take(4).all(|b| b.is_ascii_digit());
        let in_email = found
            .iter()
            .any(|(s, e, k)| matches!(k, Kind::Email) && i < *e && j > *s);
        let plain_number = !run.contains(['+', ' ', '-', '(', '.']) && digits < 10;
        if digits >= 8 && !date_like && !in_email && !plain_number {
            found.push((i, j, Kind::Phone));
            i = j;
        } else {
            i = j.max(i + 1);
        }
    }
    found.sort_by_key(|(s, _, _)| *s);
    // Overlaps cannot stay: keep the first of each.
    let mut kept: Vec<(usize, usize, Kind)> = Vec::with_capacity(found.len());
    for f in found {
        if kept.last().is_none_or(|last| f.0 >= last.1) {
            kept.push(f);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_that_name_a_contact_detail_are_told_apart() {
        assert!(contact_search_refusal("maria@acme.com", &[]).is_some());
        assert!(contact_search_refusal("acme AND (emails:maria)", &[]).is_some());
        assert!(contact_search_refusal("phones:5550134", &[]).is_some());
        assert!(contact_search_refusal("acme", &["filter.emails"]).is_some());
        assert!(contact_search_refusal("renewal 2024", &["country", "kind"]).is_none());
        assert!(contact_search_refusal("title:renewal", &[]).is_none());
        assert!(contact_search_refusal("+49 40 5550 1299", &[]).is_some());
        assert!(contact_search_refusal("call 040-5550-1299 back", &[]).is_some());
        assert!(contact_search_refusal("invoice 2024-05-02", &[]).is_none());
        assert!(contact_search_refusal("INV-2024-0412", &[]).is_none());
        // A number typed in parts, however joined.
        assert!(contact_search_refusal("5550 AND 1299", &[]).is_some());
        assert!(contact_search_refusal("\"40\" AND 5550 AND 1299", &[]).is_some());
        assert!(contact_search_refusal("(7946) AND (0001 OR 20)", &[]).is_some());
        // Years, long ids and words with digits stay searches.
        assert!(contact_search_refusal("renewal 2024 AND 2023", &[]).is_none());
        assert!(contact_search_refusal("order 12345 AND 67890", &[]).is_none());
        assert!(contact_search_refusal("INV-5550 AND INV-1299", &[]).is_none());
        assert!(contact_search_refusal("room 12 floor 3", &[]).is_none());
    }
    use serde_json::json;

    #[test]
    fn emails_and_phones_are_masked_in_fields_and_in_text() {
        assert_eq!(redact_text("see INV-2024-0412"), "see INV-2024-0412");
        assert_eq!(
            mask_email("jon.smith@acmerobotics.com"),
            "j***@acmerobotics.com"
        );
        assert_eq!(mask_phone("+81 90-1234-5678"), "+81 **-****-5678");
        assert_eq!(mask_phone("+14155550100"), "+*******0100");
        assert_eq!(
            redact_text("Call Jon on +1 (415) 555-0100 or mail jon.smith@acmerobotics.com."),
            "Call Jon on +1 (***) ***-0100 or mail j***@acmerobotics.com."
        );
        // Dates, amounts and ids are left alone.
        let plain = "Renewal 2024-05-20 for 12500.00 USD, PO 4711, ORG-001.";
        assert_eq!(redact_text(plain), plain);
        // A mark inside an address cannot hide it.
        assert_eq!(
            redact_text("mail <mark>jon.smith</mark>@acmerobotics.com today"),
            "mail j***@acmerobotics.com today"
        );
        assert_eq!(
            redact_text("a <mark>renewal</mark> note"),
            "a <mark>renewal</mark> note"
        );

        let mut answer = json!({
            "hits": [{"fields": {"emails": ["maria.alvarez@acmerobotics.com"], "phones": ["+14155550134"],
                      "name": "Maria Alvarez", "created": "2021-07-01"},
                      "snippet": "wrote from maria.alvarez@acmerobotics.com"}],
            "golden": {"email": "sales@acmerobotics.com", "phone": "415.555.0190"}
        });
        redact_json(&mut answer);
        let text = answer.to_string();
        for secret in ["maria.alvarez@", "5550134", "sales@", "555.0190"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains("Maria Alvarez") && text.contains("2021-07-01"),
            "{text}"
        );
        assert_eq!(answer["golden"]["phone"], "***.***.0190");
    }
}
