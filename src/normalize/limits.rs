//! Bounded value lengths (`[limits]` in rapport.toml): every text value a
//! connector produces is cut to at most `max_text_bytes` (titles, bodies,
//! attribute text) or `max_key_bytes` (names, emails, phones, company and
//! the other short fields, link targets), at a character boundary, before
//! anything else looks at it. A cut value is flagged as a quality issue.
//! Matching and resolution work on short keys, so one huge value cannot make
//! them slow (a 20,000-character name once took minutes).
//!
//! It must never drop a record, nor cut a value without flagging it.

use serde::Deserialize;
use serde_json::Value;

use crate::record::Record;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Longest title, body or attribute text kept, in bytes.
    pub max_text_bytes: usize,
    /// Longest name, email, phone, company, country, stage, owner, tag,
    /// currency, customer reference or link kept, in bytes.
    pub max_key_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_text_bytes: 64 * 1024,
            max_key_bytes: 1024,
        }
    }
}

/// Cuts `text` to at most `max` bytes at a character boundary; its length
/// before, if it was cut.
fn cut(text: &mut String, max: usize) -> Option<usize> {
    if text.len() <= max {
        return None;
    }
    let before = text.len();
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    Some(before)
}

/// Cuts every overlong value of `record` and flags each field cut.
pub fn bound_record(record: &mut Record, limits: &Limits) {
    let mut cuts: Vec<(String, usize, usize)> = Vec::new();
    let mut one = |field: &str, text: &mut String, max: usize| {
        if let Some(before) = cut(text, max) {
            cuts.push((field.to_string(), before, max));
        }
    };
    let (text, key) = (limits.max_text_bytes, limits.max_key_bytes);
    for (field, value) in [("title", &mut record.title), ("body", &mut record.body)] {
        if let Some(value) = value.as_mut() {
            one(field, value, text);
        }
    }
    for (field, value) in [
        ("company", &mut record.company),
        ("country", &mut record.country),
        ("stage", &mut record.stage),
        ("owner", &mut record.owner),
        ("currency", &mut record.currency),
        ("customer_ref", &mut record.customer_ref),
    ] {
        if let Some(value) = value.as_mut() {
            one(field, value, key);
        }
    }
    for (field, values) in [
        ("names", &mut record.names),
        ("emails", &mut record.emails),
        ("phones", &mut record.phones),
        ("tags", &mut record.tags),
    ] {
        for value in values.iter_mut() {
            one(field, value, key);
        }
    }
    for link in &mut record.links {
        one("links", &mut link.target, key);
        if let Some(name) = link.name.as_mut() {
            one("links", name, key);
        }
    }
    for (name, value) in record.attrs.iter_mut() {
        let field = format!("attrs.{name}");
        match value {
            Value::String(s) => one(&field, s, text),
            Value::Array(items) => {
                for item in items {
                    if let Value::String(s) = item {
                        one(&field, s, text);
                    }
                }
            }
            _ => {}
        }
    }
    for (field, before, max) in cuts {
        record.flag(
            &field,
            format!(
                "value of {before} bytes cut to the first {max} (see [limits] in rapport.toml)"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordKind;

    #[test]
    fn overlong_values_are_cut_at_a_character_and_flagged() {
        let mut record = Record::new("s", "1", RecordKind::Person);
        record.names = vec!["日".repeat(1000), "Ann".into()];
        record.body = Some("b".repeat(70_000));
        record.title = Some("short".into());
        bound_record(&mut record, &Limits::default());
        assert_eq!(record.names[0].len(), 1023, "341 three-byte characters");
        assert_eq!(record.names[1], "Ann");
        assert_eq!(record.body.as_ref().map(String::len), Some(65_536));
        assert_eq!(record.title.as_deref(), Some("short"));
        let flagged: Vec<&str> = record.quality.iter().map(|q| q.field.as_str()).collect();
        assert_eq!(flagged, ["body", "names"]);
    }
}
