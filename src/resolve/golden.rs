//! Golden records: for each field of an entity, the surviving value (by
//! source priority, then recency) and every other value as a variant, each
//! with its provenance. Also the index of organisation names that lets a note
//! which names a known organisation attach to it.
//!
//! It must never lose a value: what does not survive is kept as a variant.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, MatchKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod fields;

pub use fields::Fields;

use super::BookRecord;
use super::Settings;
use super::book_record::strings;
use crate::record::RecordKind;
use crate::record::consent::{self, Channel, ConsentField};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub value: String,
    pub source: String,
    pub external_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GoldenField {
    pub value: String,
    pub source: String,
    pub external_id: String,
    /// Every value seen, the surviving one first.
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Golden {
    pub fields: Fields,
    /// The latest explicit consent statement per channel, with its source.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub consent: BTreeMap<Channel, ConsentField>,
}

fn values(record: &BookRecord, field: &str) -> Vec<String> {
    let one = |v: Option<&str>| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match field {
        "name" => {
            let mut names = strings(&record.names);
            if names.is_empty() {
                names.extend(record.title.iter().map(|t| t.to_string()));
            }
            names
        }
        "emails" => strings(&record.emails),
        "phones" => strings(&record.phones),
        "country" => one(record.country.as_deref()),
        "company" => one(record.company.as_deref()),
        "owner" => one(record.owner.as_deref()),
        "tags" => record.tags().clone(),
        "birth_date" => record.birth_date().iter().map(|d| d.to_string()).collect(),
        "address" => one(address_line(record.address()).as_deref()),
        "identifiers" => record.identifiers().clone(),
        "websites" => record.websites().clone(),
        _ => Vec::new(),
    }
}

/// An address on one line, its parts in the order a letter writes them:
/// `500 Harbor Blvd, San Francisco, CA 94107`.
fn address_line(address: &crate::record::Address) -> Option<String> {
    let place = [&address.region, &address.postcode]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let parts: Vec<String> = [&address.street, &address.city]
        .into_iter()
        .flatten()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .chain(Some(place))
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The fields a golden record holds (and a steward may rectify).
pub const FIELDS: &[&str] = &[
    "name",
    "emails",
    "phones",
    "country",
    "company",
    "owner",
    "tags",
    "birth_date",
    "address",
    "identifiers",
    "websites",
];

impl Golden {
    pub fn build(records: &[&BookRecord], settings: &Settings) -> Golden {
        let rank = |r: &BookRecord| {
            let priority = settings
                .source_priority
                .iter()
                .position(|s| **s == *r.source)
                .unwrap_or(settings.source_priority.len());
            (priority, std::cmp::Reverse(r.updated.or(r.created)))
        };
        let mut ordered: Vec<&BookRecord> = records.to_vec();
        ordered.sort_by_key(|r| rank(r));
        let mut golden = Golden {
            consent: consent::latest(records.iter().flat_map(|r| {
                r.consent().iter().map(|c| consent::Stated {
                    consent: c,
                    source: &r.source,
                    external_id: &r.external_id,
                    record_date: r.updated.or(r.created),
                })
            })),
            ..Golden::default()
        };
        for field in FIELDS {
            let mut variants: Vec<Variant> = Vec::new();
            for r in &ordered {
                for value in values(r, field) {
                    if variants.iter().all(|v| v.value != value) {
                        variants.push(Variant {
                            value,
                            source: r.source.to_string(),
                            external_id: r.external_id.to_string(),
                            date: r.updated.or(r.created),
                        });
                    }
                }
            }
            if let Some(best) = variants.first().cloned() {
                golden.fields.insert(
                    field.to_string(),
                    GoldenField {
                        value: best.value,
                        source: best.source,
                        external_id: best.external_id,
                        variants,
                    },
                );
            }
        }
        golden.fields.shrink_to_fit();
        golden
    }

    /// Owners named by a staff id show the staff member's name, in the
    /// value and every variant (`name_of(source, id)`).
    pub fn show_owner_names(&mut self, name_of: impl Fn(&str, &str) -> Option<String>) {
        let Some(owner) = self.fields.get_mut("owner") else {
            return;
        };
        if let Some(name) = name_of(&owner.source, &owner.value) {
            owner.value = name;
        }
        for v in &mut owner.variants {
            if let Some(name) = name_of(&v.source, &v.value) {
                v.value = name;
            }
        }
    }

    /// For an entity known only by name (an organisation named by its people).
    pub fn set_name(&mut self, name: &str) {
        if !self.fields.contains_key("name") {
            self.fields.insert(
                "name".into(),
                GoldenField {
                    value: name.to_string(),
                    source: String::new(),
                    external_id: String::new(),
                    variants: Vec::new(),
                },
            );
        }
    }

    /// A steward's rectification: `value` replaces whatever the sources
    /// say for `field`, which keeps their values as variants.
    pub fn rectify(&mut self, field: &str, value: &str, reason: &str) {
        let mut variants = self
            .fields
            .get(field)
            .map(|f| f.variants.clone())
            .unwrap_or_default();
        variants.retain(|v| v.value != value);
        self.fields.insert(
            field.to_string(),
            GoldenField {
                value: value.to_string(),
                source: "steward".into(),
                external_id: reason.to_string(),
                variants,
            },
        );
    }

    pub fn value(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(|f| f.value.as_str())
    }
}

/// Organisation and person names (3+ characters) → the record they name.
pub struct MentionIndex {
    matcher: Option<AhoCorasick>,
    /// Each distinct name once, with every record bearing it.
    targets: Vec<(Vec<usize>, String)>,
}

pub fn mention_index(records: &[BookRecord]) -> MentionIndex {
    let mut targets: Vec<(usize, String)> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if !matches!(r.kind, RecordKind::Organization | RecordKind::Person) {
            continue;
        }
        for name in r.names.iter() {
            let trimmed = name.trim();
            if trimmed.chars().count() >= 3 {
                targets.push((i, trimmed.to_lowercase()));
            }
            // An organisation is also mentioned without its legal form
            // ("Acme Robotics", 日東精機).
            if r.kind == RecordKind::Organization {
                let key = crate::normalize::company_key(trimmed);
                if key.chars().count() >= 4 && key != trimmed.to_lowercase() {
                    targets.push((i, key));
                }
            }
        }
    }
    // A name several records bear is one pattern (the matcher reports one
    // pattern per place), so that a name two companies share is seen as
    // shared.
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, name) in targets {
        let records = by_name.entry(name).or_default();
        if !records.contains(&i) {
            records.push(i);
        }
    }
    let targets: Vec<(Vec<usize>, String)> = by_name
        .into_iter()
        .map(|(name, records)| (records, name))
        .collect();
    let matcher = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(targets.iter().map(|(_, n)| n.as_str()))
        .ok();
    MentionIndex { matcher, targets }
}

impl MentionIndex {
    /// The one record whose name `text` mentions, if exactly one is
    /// mentioned (records `same` says are one entity count once).
    pub fn unambiguous_mention(
        &self,
        text: &str,
        same: impl Fn(usize, usize) -> bool,
    ) -> Option<(usize, String)> {
        let matcher = self.matcher.as_ref()?;
        let lowered = text.to_lowercase();
        let mut found: Option<(usize, String)> = None;
        for m in matcher.find_iter(&lowered) {
            // Whole words only: "IBM" must not match inside "IBMX".
            let before = lowered[..m.start()].chars().next_back();
            let after = lowered[m.end()..].chars().next();
            let latin_edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
            if latin_edge(before) || latin_edge(after) {
                continue;
            }
            let (records, name) = &self.targets[m.pattern().as_usize()];
            for record in records {
                match &found {
                    Some((r, _)) if !same(*r, *record) => return None,
                    Some(_) => {}
                    None => found = Some((*record, name.clone())),
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests;
