//! What a book held in memory costs, by field: the bytes of each record's
//! struct and of the heap its strings, vectors and maps reserve (their
//! capacities; the allocator's rounding and headers are not counted), so a
//! benchmark can say where the memory of a full resolution's read goes.
//!
//! It must never change a record: it only measures.

use crate::record::{Link, Record};

fn text(s: &str) -> usize {
    s.len()
}

fn string(s: &String) -> usize {
    s.capacity()
}

fn opt(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, string)
}

fn strings(v: &Vec<String>) -> usize {
    v.capacity() * std::mem::size_of::<String>() + v.iter().map(string).sum::<usize>()
}

fn links(v: &Vec<Link>) -> usize {
    v.capacity() * std::mem::size_of::<Link>()
        + v.iter()
            .map(|l| string(&l.rel) + string(&l.target) + opt(&l.name))
            .sum::<usize>()
}

/// The heap of a JSON value (strings, arrays, objects), its own size not
/// counted.
fn value(v: &serde_json::Value) -> usize {
    use serde_json::Value;
    match v {
        Value::String(s) => text(s),
        Value::Array(a) => {
            a.capacity() * std::mem::size_of::<Value>() + a.iter().map(value).sum::<usize>()
        }
        Value::Object(m) => map(m),
        _ => 0,
    }
}

/// A map's entries: each key and value, and their slots in the tree's
/// nodes (at best full nodes; a B-tree's nodes are rarely full).
fn map(m: &serde_json::Map<String, serde_json::Value>) -> usize {
    m.iter()
        .map(|(k, v)| {
            std::mem::size_of::<String>()
                + std::mem::size_of::<serde_json::Value>()
                + string(k)
                + value(v)
        })
        .sum()
}

/// The book's bytes by part, largest first: `records (struct)` is each
/// record's own size times the vector's capacity; the others are heap.
pub fn book_bytes(book: &Vec<Record>) -> Vec<(&'static str, usize)> {
    let mut parts: Vec<(&'static str, usize)> = vec![
        (
            "records (struct)",
            book.capacity() * std::mem::size_of::<Record>(),
        ),
        ("source, external_id", 0),
        ("names, title, company", 0),
        ("emails, phones", 0),
        ("body", 0),
        ("links", 0),
        ("attrs", 0),
        ("provenance", 0),
        ("quality", 0),
        ("customer_* (declared)", 0),
        ("address, identifiers, websites", 0),
        ("tags, owner, stage, currency, country, ref", 0),
        ("consent", 0),
    ];
    for r in book {
        let each = [
            string(&r.source) + string(&r.external_id),
            strings(&r.names) + opt(&r.title) + opt(&r.company),
            strings(&r.emails) + strings(&r.phones),
            opt(&r.body),
            links(&r.links),
            map(&r.attrs),
            string(&r.provenance.file),
            r.quality.capacity() * std::mem::size_of::<crate::record::QualityIssue>()
                + r.quality
                    .iter()
                    .map(|q| string(&q.field) + string(&q.reason))
                    .sum::<usize>(),
            opt(&r.customer_id)
                + opt(&r.person_id)
                + opt(&r.org_id)
                + opt(&r.customer_name)
                + opt(&r.customer_kind)
                + opt(&r.customer_country)
                + strings(&r.customer_consent),
            opt(&r.address.street)
                + opt(&r.address.city)
                + opt(&r.address.region)
                + opt(&r.address.postcode)
                + strings(&r.identifiers)
                + strings(&r.websites),
            strings(&r.tags)
                + opt(&r.owner)
                + opt(&r.stage)
                + opt(&r.currency)
                + opt(&r.country)
                + opt(&r.customer_ref)
                + strings(&r.naive_dates)
                + strings(&r.search_keys),
            r.consent.capacity() * std::mem::size_of::<crate::record::consent::Consent>(),
        ];
        for (part, bytes) in parts.iter_mut().skip(1).zip(each) {
            part.1 += bytes;
        }
    }
    parts.sort_by_key(|part| std::cmp::Reverse(part.1));
    parts
}

/// Prints [`book_bytes`] to stderr, in MiB.
pub fn print_book_bytes(book: &Vec<Record>) {
    let parts = book_bytes(book);
    let total: usize = parts.iter().map(|(_, b)| b).sum();
    eprintln!(
        "book of {} records: {:.0} MiB ({} bytes of struct each)",
        book.len(),
        total as f64 / 1048576.0,
        std::mem::size_of::<Record>()
    );
    for (part, bytes) in parts {
        eprintln!("  {part}: {:.1} MiB", bytes as f64 / 1048576.0);
    }
}

/// A digest of everything a resolution decided (assignments by record,
/// customers by id, suspects, unattached records, the model's report), so
/// two builds can show they resolve a book alike without keeping both
/// answers.
pub fn resolution_digest(resolution: &crate::resolve::Resolution) -> String {
    let mut hasher = blake3::Hasher::new();
    let mut put = |label: &str, value: &dyn erased::Json| {
        hasher.update(label.as_bytes());
        hasher.update(&value.json());
        hasher.update(b"\n");
    };
    let mut ids: Vec<&String> = resolution.assignments.keys().collect();
    ids.sort_unstable();
    for id in ids {
        if let Some(a) = resolution.assignments.get(id) {
            put(id, a);
        }
    }
    let mut entities: Vec<&crate::resolve::Entity> = resolution.entities.iter().collect();
    entities.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    for e in entities {
        put("entity", e);
    }
    put("suspects", &resolution.suspects);
    put("unattached", &resolution.unattached);
    put("model", &resolution.model);
    hasher.finalize().to_hex()[..16].to_string()
}

mod erased {
    /// A value as its JSON bytes (empty if it cannot be written).
    pub trait Json {
        fn json(&self) -> Vec<u8>;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }
}
