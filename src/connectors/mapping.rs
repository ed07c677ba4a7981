//! Applies a manifest's field mapping to one row of named values, producing a
//! normalised record. Values that do not normalise are kept as raw text in
//! `attrs` and flagged as quality issues.
//!
//! It must never drop a value silently.

use std::collections::HashMap;

use serde_json::Value;

use super::manifest::Manifest;
use crate::normalize;
use crate::record::{Provenance, Record, RecordKind};

/// For one header row: which column index feeds each record field, and which
/// columns are left over as loose attributes.
#[derive(Debug)]
pub struct ColumnMap {
    targets: Vec<(String, usize)>,
    loose: Vec<(String, usize)>,
}

impl ColumnMap {
    pub fn new(manifest: &Manifest, headers: &[String]) -> ColumnMap {
        let lower: Vec<String> = headers.iter().map(|h| h.trim().to_lowercase()).collect();
        let mut used = vec![false; headers.len()];
        let mut targets = Vec::new();
        for (target, columns) in &manifest.fields {
            let found = columns.candidates().iter().find_map(|candidate| {
                let candidate = candidate.to_lowercase();
                lower.iter().position(|h| *h == candidate)
            });
            if let Some(index) = found {
                used[index] = true;
                targets.push((target.clone(), index));
            }
        }
        let loose = lower
            .iter()
            .enumerate()
            .filter(|(i, h)| !used[*i] && !h.is_empty())
            .map(|(i, h)| (attr_key(h), i))
            .collect();
        ColumnMap { targets, loose }
    }

    pub fn maps(&self, target: &str) -> bool {
        self.targets.iter().any(|(t, _)| t == target)
    }

    /// Builds the record of one row. `fallback_id` names the record when the
    /// row has no external id (it is then flagged).
    pub fn record(
        &self,
        manifest: &Manifest,
        source: &str,
        values: &[String],
        fallback_id: &str,
        provenance: Provenance,
    ) -> Record {
        let cell = |i: usize| values.get(i).map(|v| v.trim()).unwrap_or("");
        let mut named: HashMap<&str, &str> = HashMap::new();
        for (target, index) in &self.targets {
            let value = cell(*index);
            if !value.is_empty() {
                named.insert(target.as_str(), value);
            }
        }
        let external_id = named.get("external_id").copied();
        let mut record = Record::new(source, external_id.unwrap_or(fallback_id), manifest.kind);
        record.provenance = provenance;
        if external_id.is_none() {
            record.flag(
                "external_id",
                "missing; the record is keyed by its position",
            );
        }
        let separator = manifest.csv.list_separator.as_str();
        for (target, value) in named {
            apply(&mut record, target, value, separator);
        }
        for (key, index) in &self.loose {
            let value = cell(*index);
            if !value.is_empty() {
                record
                    .attrs
                    .insert(key.clone(), Value::String(value.to_string()));
            }
        }
        record
    }
}

/// Sets one record field from a raw value, normalising it.
pub fn apply(record: &mut Record, target: &str, value: &str, list_separator: &str) {
    let list = |v: &str| -> Vec<String> {
        v.split(list_separator)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    match target {
        "kind" => match RecordKind::parse_loose(value) {
            Some(kind) => record.kind = kind,
            None => {
                record.flag("kind", format!("unknown kind `{value}`; kept the default"));
                keep_raw(record, "kind", value);
            }
        },
        "customer_ref" => record.customer_ref = Some(value.to_string()),
        "title" => record.title = Some(value.to_string()),
        "body" => record.body = Some(value.to_string()),
        "names" => record.names.extend(list(value)),
        "company" => record.company = Some(value.to_string()),
        "stage" => record.stage = Some(value.to_string()),
        "owner" => record.owner = Some(value.to_string()),
        "currency" => record.currency = Some(value.trim().to_ascii_uppercase()),
        "tags" => record.tags.extend(normalize::split_list(value)),
        "emails" => {
            for raw in list(value) {
                match normalize::Email::parse(&raw) {
                    Ok(email) => record.emails.push(email.as_str().to_string()),
                    Err(reason) => {
                        record.flag("emails", reason);
                        keep_raw(record, "emails", &raw);
                    }
                }
            }
        }
        // Phones are parsed to E.164 after mapping, with the source's
        // default region (see `normalize::finish_record`).
        "phones" => record.phones.extend(list(value)),
        "country" => match normalize::country_code(value) {
            Ok(code) => record.country = Some(code),
            Err(reason) => {
                record.flag("country", reason);
                keep_raw(record, "country", value);
            }
        },
        "amount" => match normalize::parse_amount(value) {
            Ok(amount) => {
                if amount < 0.0 {
                    record.flag("amount", format!("negative amount {value}"));
                }
                record.amount = Some(amount);
            }
            Err(reason) => {
                record.flag("amount", reason);
                keep_raw(record, "amount", value);
            }
        },
        "created" | "updated" => match normalize::parse_date(value) {
            Ok(date) if target == "created" => record.created = Some(date),
            Ok(date) => record.updated = Some(date),
            Err(reason) => {
                record.flag(target, reason);
                keep_raw(record, target, value);
            }
        },
        _ => keep_raw(record, target, value),
    }
}

/// Keeps a value that could not be normalised, searchable, under
/// `attrs.raw_<field>`.
fn keep_raw(record: &mut Record, field: &str, value: &str) {
    record
        .attrs
        .insert(format!("raw_{field}"), Value::String(value.to_string()));
}

/// A column header as an attribute key: lower case, spaces as `_`.
fn attr_key(header: &str) -> String {
    header
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .trim_matches('_')
        .to_string()
}
