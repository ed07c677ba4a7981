//! Applies a manifest's field mapping to one row of named values, producing a
//! normalised record. Values that do not normalise are kept as raw text in
//! `attrs` and flagged as quality issues.
//!
//! It must never drop a value silently.

use serde_json::Value;

use super::manifest::{Columns, Mapping};
use crate::normalize;
use crate::record::{Link, Provenance, Record, RecordKind};

/// Where a field's value comes from in a row: one column, or a template
/// such as `{FirstName} {LastName}` or `company-{Record ID}`.
#[derive(Debug)]
enum Cell {
    Column(usize),
    Template(Vec<Piece>),
}

#[derive(Debug)]
enum Piece {
    Text(String),
    Column(usize),
}

/// Splits a template into literal text and `{column}` names; `None` when
/// the candidate is a plain column name.
pub fn template_parts(candidate: &str) -> Option<Vec<(bool, String)>> {
    if !candidate.contains('{') {
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = candidate;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        if open > 0 {
            parts.push((false, rest[..open].to_string()));
        }
        parts.push((true, rest[open + 1..close].to_string()));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push((false, rest.to_string()));
    }
    Some(parts)
}

/// Fills a template; `None` when every column it names is empty.
pub fn fill_template<'v>(
    parts: impl Iterator<Item = (bool, &'v str)>,
    mut value: impl FnMut(&str) -> String,
) -> Option<String> {
    let mut out = String::new();
    let mut any = false;
    for (is_column, text) in parts {
        if is_column {
            let v = value(text);
            any |= !v.trim().is_empty();
            out.push_str(v.trim());
        } else {
            out.push_str(text);
        }
    }
    any.then(|| out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// For one header row: which column (or template) feeds each record field
/// and each link, and which columns are left over as loose attributes.
#[derive(Debug)]
pub struct ColumnMap {
    targets: Vec<(String, Cell)>,
    links: Vec<(String, Cell)>,
    loose: Vec<(String, usize)>,
}

impl ColumnMap {
    pub fn new(mapping: &Mapping, headers: &[String]) -> ColumnMap {
        let lower: Vec<String> = headers.iter().map(|h| h.trim().to_lowercase()).collect();
        let mut used = vec![false; headers.len()];
        let mut find = |columns: &Columns| {
            columns.candidates().iter().find_map(|candidate| {
                let position = |name: &str| {
                    let name = name.trim().to_lowercase();
                    lower.iter().position(|h| *h == name)
                };
                let cell = match template_parts(candidate) {
                    None => Cell::Column(position(candidate)?),
                    Some(parts) => Cell::Template(
                        parts
                            .into_iter()
                            .map(|(is_column, text)| match is_column {
                                true => position(&text).map(Piece::Column),
                                false => Some(Piece::Text(text)),
                            })
                            .collect::<Option<Vec<_>>>()?,
                    ),
                };
                match &cell {
                    Cell::Column(i) => used[*i] = true,
                    Cell::Template(pieces) => {
                        for piece in pieces {
                            if let Piece::Column(i) = piece {
                                used[*i] = true;
                            }
                        }
                    }
                }
                Some(cell)
            })
        };
        let targets = (mapping.fields.iter())
            .filter_map(|(target, columns)| find(columns).map(|c| (target.clone(), c)))
            .collect();
        let links = (mapping.links.iter())
            .filter_map(|(rel, columns)| find(columns).map(|c| (rel.clone(), c)))
            .collect();
        let loose = lower
            .iter()
            .enumerate()
            .filter(|(i, h)| !used[*i] && !h.is_empty())
            .map(|(i, h)| (attr_key(h), i))
            .collect();
        ColumnMap {
            targets,
            links,
            loose,
        }
    }

    pub fn maps(&self, target: &str) -> bool {
        self.targets.iter().any(|(t, _)| t == target)
    }

    /// Builds the record of one row. `fallback_id` names the record when the
    /// row has no external id (it is then flagged).
    pub fn record(
        &self,
        mapping: &Mapping,
        list_separator: &str,
        source: &str,
        values: &[String],
        fallback_id: &str,
        provenance: Provenance,
    ) -> Record {
        let column = |i: usize| values.get(i).map(|v| v.trim()).unwrap_or("");
        let cell = |c: &Cell| -> String {
            match c {
                Cell::Column(i) => column(*i).to_string(),
                Cell::Template(pieces) => fill_template(
                    pieces.iter().map(|p| match p {
                        Piece::Text(t) => (false, t.as_str()),
                        Piece::Column(i) => (true, column(*i)),
                    }),
                    |v| v.to_string(),
                )
                .unwrap_or_default(),
            }
        };
        let mut named: Vec<(&str, Vec<String>)> = Vec::new();
        for (target, c) in &self.targets {
            let value = cell(c);
            if !value.is_empty() {
                named.push((target.as_str(), vec![value]));
            }
        }
        // A link template around one list column (`company-{Associated
        // Company IDs}` holding `1;2`) is filled once per item.
        let link_cell = |c: &Cell| -> String {
            let Cell::Template(pieces) = c else {
                return cell(c);
            };
            let mut columns = pieces.iter().filter_map(|p| match p {
                Piece::Column(i) => Some(*i),
                Piece::Text(_) => None,
            });
            let (Some(only), None) = (columns.next(), columns.next()) else {
                return cell(c);
            };
            let value = column(only);
            if list_separator.is_empty() || !value.contains(list_separator) {
                return cell(c);
            }
            (value.split(list_separator))
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .filter_map(|item| {
                    fill_template(
                        pieces.iter().map(|p| match p {
                            Piece::Text(t) => (false, t.as_str()),
                            Piece::Column(_) => (true, item),
                        }),
                        |v| v.to_string(),
                    )
                })
                .collect::<Vec<_>>()
                .join(list_separator)
        };
        let links: Vec<(&str, String)> = (self.links.iter())
            .map(|(rel, c)| (rel.as_str(), link_cell(c)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let loose = (self.loose.iter())
            .map(|(key, index)| (key.clone(), column(*index).to_string()))
            .filter(|(_, v)| !v.is_empty());
        build(
            mapping,
            list_separator,
            source,
            named,
            links.into_iter(),
            loose,
            fallback_id,
            provenance,
        )
    }
}

/// Builds a record from mapped values (each target with its values, in
/// order), link targets and loose attributes: the part of the mapping every
/// format shares.
#[allow(clippy::too_many_arguments)]
pub fn build<'a>(
    mapping: &Mapping,
    list_separator: &str,
    source: &str,
    named: Vec<(&'a str, Vec<String>)>,
    links: impl Iterator<Item = (&'a str, String)>,
    loose: impl Iterator<Item = (String, String)>,
    fallback_id: &str,
    provenance: Provenance,
) -> Record {
    let external_id = named
        .iter()
        .find(|(t, _)| *t == "external_id")
        .and_then(|(_, v)| v.first().cloned());
    let mut record = Record::new(
        source,
        external_id.as_deref().unwrap_or(fallback_id),
        mapping.kind(),
    );
    record.provenance = provenance;
    if external_id.is_none() {
        record.flag(
            "external_id",
            "missing; the record is keyed by its position",
        );
    }
    for (target, values) in named {
        if target == "external_id" {
            continue;
        }
        for value in values {
            apply(&mut record, target, &value, list_separator);
        }
    }
    for (rel, value) in links {
        add_links(&mut record, rel, &value, list_separator);
    }
    for (key, value) in loose {
        record.attrs.insert(key, Value::String(value));
    }
    if mapping.staff {
        record.attrs.insert("staff".into(), Value::Bool(true));
    }
    record
}

/// Adds the links one cell holds: several when the cell is a list; for
/// address relations (`from`, `to`, `cc`) each address normalised, and a
/// value that is not an address flagged.
pub fn add_links(record: &mut Record, rel: &str, value: &str, list_separator: &str) {
    let address = matches!(rel, "from" | "to" | "cc");
    let items: Vec<&str> = if address {
        value.split([';', ',']).collect()
    } else {
        value.split(list_separator).collect()
    };
    for item in items.into_iter().map(str::trim).filter(|s| !s.is_empty()) {
        let target = if address {
            match normalize::Email::parse(item) {
                Ok(email) => email.as_str().to_string(),
                Err(reason) => {
                    record.flag(rel, reason);
                    continue;
                }
            }
        } else {
            item.to_string()
        };
        if !record
            .links
            .iter()
            .any(|l| l.rel == rel && l.target == target)
        {
            record.links.push(Link {
                rel: rel.to_string(),
                target,
                name: None,
            });
        }
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
        "street" => {
            let street = match record.address.street.take() {
                Some(before) => format!("{before}, {}", value.trim()),
                None => value.trim().to_string(),
            };
            record.address.street = Some(street);
        }
        "city" => record.address.city = Some(value.trim().to_string()),
        "region" => record.address.region = Some(value.trim().to_string()),
        // Normalised with the record's country in `finish_record`.
        "postcode" => record.address.postcode = Some(value.trim().to_string()),
        "birth_date" => match normalize::parse_birth_date(value) {
            Ok(date) => record.birth_date = Some(date),
            Err(reason) => {
                record.flag("birth_date", reason);
                keep_raw(record, "birth_date", value);
            }
        },
        "websites" => {
            for raw in list(value) {
                match normalize::parse_website(&raw) {
                    Ok(site) if !record.websites.contains(&site) => record.websites.push(site),
                    Ok(_) => {}
                    Err(reason) => {
                        record.flag("websites", reason);
                        keep_raw(record, "websites", &raw);
                    }
                }
            }
        }
        "national_id" | "jp_corp" | "vat" | "duns" | "company_number" => {
            match normalize::parse_identifier(target, value) {
                Ok(id) if !record.identifiers.contains(&id) => record.identifiers.push(id),
                Ok(_) => {}
                Err(reason) => {
                    record.flag(target, reason);
                    keep_raw(record, target, value);
                }
            }
        }
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
        "created" | "updated" => match normalize::parse_date_zoned(value) {
            Ok((date, zoned)) => {
                if !zoned {
                    record.naive_dates.push(target.to_string());
                }
                if target == "created" {
                    record.created = Some(date);
                } else {
                    record.updated = Some(date);
                }
            }
            Err(reason) => {
                record.flag(target, reason);
                keep_raw(record, target, value);
            }
        },
        t if super::consent::is_target(t) => super::consent::apply(record, t, value),
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
pub fn attr_key(header: &str) -> String {
    header
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .trim_matches('_')
        .to_string()
}
