//! What a book held in memory costs, by field: the bytes of each record's
//! struct and of the heap its strings, vectors and maps reserve (their
//! capacities; the allocator's rounding and headers are not counted), so a
//! benchmark can say where the memory of a full resolution's read goes.
//!
//! It must never change a record: it only measures.

use crate::resolve::BookRecord;
use crate::resolve::book_record::{BookLink, Declared, Party};

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

fn opt_text(s: &Option<Box<str>>) -> usize {
    s.as_deref().map_or(0, text)
}

fn texts(v: &[Box<str>]) -> usize {
    std::mem::size_of_val(v) + v.iter().map(|s| text(s)).sum::<usize>()
}

fn links(v: &[BookLink]) -> usize {
    std::mem::size_of_val(v)
        + v.iter()
            .map(|l| {
                text(&l.target)
                    + match &l.rel {
                        crate::resolve::Rel::Other(rel) => text(rel),
                        _ => 0,
                    }
            })
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
pub fn book_bytes(book: &Vec<BookRecord>) -> Vec<(&'static str, usize)> {
    let mut parts: Vec<(&'static str, usize)> = vec![
        (
            "records (struct)",
            book.capacity() * std::mem::size_of::<BookRecord>(),
        ),
        ("source, external_id", 0),
        ("names, title, company", 0),
        ("emails, phones", 0),
        ("body", 0),
        ("links", 0),
        ("provenance", 0),
        ("declared customer, attrs (boxed)", 0),
        ("address, identifiers, websites, tags, consent (boxed)", 0),
        ("owner, country, ref", 0),
    ];
    for r in book {
        let declared = r.declared.as_deref().map_or(0, |d| {
            std::mem::size_of::<Declared>()
                + opt(&d.customer_id)
                + opt(&d.customer_name)
                + opt(&d.customer_kind)
                + opt(&d.customer_country)
                + map(&d.attrs)
        });
        let party = r.party.as_deref().map_or(0, |p| {
            std::mem::size_of::<Party>()
                + opt(&p.address.street)
                + opt(&p.address.city)
                + opt(&p.address.region)
                + opt(&p.address.postcode)
                + strings(&p.identifiers)
                + strings(&p.websites)
                + strings(&p.tags)
                + p.consent.capacity() * std::mem::size_of::<crate::record::consent::Consent>()
        });
        let each = [
            text(&r.source) + text(&r.external_id),
            texts(&r.names) + opt_text(&r.title) + opt_text(&r.company),
            texts(&r.emails) + texts(&r.phones),
            opt_text(&r.body),
            links(&r.links),
            text(&r.provenance.file),
            declared,
            party,
            opt_text(&r.owner) + opt_text(&r.country) + opt_text(&r.customer_ref),
        ];
        for (part, bytes) in parts.iter_mut().skip(1).zip(each) {
            part.1 += bytes;
        }
    }
    parts.sort_by_key(|part| std::cmp::Reverse(part.1));
    parts
}

/// Prints [`book_bytes`] to stderr, in MiB.
pub fn print_book_bytes(book: &Vec<BookRecord>) {
    let parts = book_bytes(book);
    let total: usize = parts.iter().map(|(_, b)| b).sum();
    eprintln!(
        "book of {} records: {:.0} MiB ({} bytes of struct each; a whole Record is {})",
        book.len(),
        total as f64 / 1048576.0,
        std::mem::size_of::<BookRecord>(),
        std::mem::size_of::<crate::record::Record>()
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
