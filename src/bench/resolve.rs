//! `rapport bench resolve`: generates a synthetic customer book (companies
//! spelled differently across two sources, their people with duplicates,
//! notes that reference or mention them) and times resolution, in memory and
//! through the store (read every record, resolve, save the assignments).
//!
//! It must never assert on time: it prints numbers.

use std::time::Instant;

use serde::Serialize;

use crate::record::{Link, Record, RecordKind};
use crate::resolve::{Overrides, Settings, WeightSource, resolve};
use crate::store::{Store, StoreError};

const FIRST: &[&str] = &[
    "Jon", "Maria", "Keiko", "Lukas", "Anna", "Hiro", "Emma", "Oliver", "Yuki", "Sofia", "Ravi",
    "Chen",
];
const LAST: &[&str] = &[
    "Smith", "Alvarez", "Tanaka", "Becker", "Schmidt", "Sato", "Clarke", "Hughes", "Ito", "Rossi",
    "Patel", "Wang",
];
const WORDS: &[&str] = &[
    "Acme", "Bright", "Cedar", "Delta", "Kansai", "Nitto", "Hokuto", "Minato", "Thorn", "North",
    "Summit", "Harbor",
];
const SECTORS: &[&str] = &[
    "Robotics",
    "Foods",
    "Logistics",
    "Analytics",
    "Software",
    "Trading",
    "Seiki",
    "Denshi",
];

/// A deterministic book of about `n` records.
pub fn generate(n: usize) -> Vec<Record> {
    let orgs = (n / 10).max(1);
    let mut out = Vec::with_capacity(n);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for k in 0..orgs {
        let name = format!(
            "{} {} {k}",
            WORDS[k % WORDS.len()],
            SECTORS[(k / WORDS.len()) % SECTORS.len()]
        );
        let mut a = Record::new("crm", &format!("O{k}"), RecordKind::Organization);
        a.names.push(format!("{name} Inc."));
        a.emails.push(format!("info@co{k}.example"));
        out.push(a);
        if k % 2 == 0 {
            let mut b = Record::new("hs", &format!("company-{k}"), RecordKind::Organization);
            b.names.push(name.to_uppercase());
            out.push(b);
        }
    }
    let people = n * 2 / 5;
    for p in 0..people {
        let k = (next() as usize) % orgs;
        let (first, last) = (FIRST[p % FIRST.len()], LAST[(p / FIRST.len()) % LAST.len()]);
        let mut r = Record::new("crm", &format!("P{p}"), RecordKind::Person);
        r.names.push(format!("{first} {last} {p}"));
        r.emails.push(format!(
            "{}.{}{p}@co{k}.example",
            first.to_lowercase(),
            last.to_lowercase()
        ));
        r.links.push(Link {
            rel: "account".into(),
            target: format!("O{k}"),
            name: None,
        });
        out.push(r);
        if p % 3 == 0 {
            let mut d = Record::new("hs", &format!("contact-{p}"), RecordKind::Person);
            d.names.push(format!("{last} {p}, {first}"));
            d.emails.push(
                format!(
                    "{}.{}{p}@CO{k}.example",
                    first.to_lowercase(),
                    last.to_lowercase()
                )
                .to_lowercase(),
            );
            d.company = Some(format!(
                "{} {} {k}",
                WORDS[k % WORDS.len()],
                SECTORS[(k / WORDS.len()) % SECTORS.len()]
            ));
            out.push(d);
        }
    }
    let mut i = 0;
    while out.len() < n {
        let k = (next() as usize) % orgs;
        let mut note = Record::new("notes", &format!("n{i}.md"), RecordKind::Note);
        note.title = Some(format!("Call {i}"));
        if i % 2 == 0 {
            note.customer_ref = Some(format!("O{k}"));
        } else {
            note.body = Some(format!("Mail from info@co{k}.example about the renewal"));
        }
        out.push(note);
        i += 1;
    }
    out
}

#[derive(Debug, Serialize)]
pub struct ResolveBench {
    pub records: usize,
    pub entities: usize,
    pub customers_linked: usize,
    pub resolve_ms: u128,
    pub store_load_ms: Option<u128>,
    pub store_save_ms: Option<u128>,
}

/// Times resolution on `n` generated records; with `store`, also loading
/// them from and saving the result to a real store in `dir`.
pub fn run(n: usize, dir: Option<&std::path::Path>) -> Result<ResolveBench, StoreError> {
    let records = generate(n);
    let (mut load, mut save) = (None, None);
    let started = Instant::now();
    let resolution = resolve(&records, &Settings::default(), &Overrides::default());
    let resolve_ms = started.elapsed().as_millis();
    let mut unassigned: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for r in &records {
        if !resolution.assignments.contains_key(&r.id()) {
            *unassigned.entry(r.kind.as_str()).or_default() += 1;
        }
    }
    tracing::info!(?unassigned, "records without a customer");
    if let Some(dir) = dir {
        let store = Store::open(&dir.join("bench.redb"))?;
        for (c, chunk) in records.chunks(50_000).enumerate() {
            store.apply_file("bench", &format!("chunk-{c}"), "h", chunk)?;
        }
        let started = Instant::now();
        let loaded = store.records_by_birth()?;
        load = Some(started.elapsed().as_millis());
        let resolution = resolve(&loaded, &Settings::default(), &Overrides::default());
        let started = Instant::now();
        store.save_resolution(&resolution)?;
        save = Some(started.elapsed().as_millis());
    }
    Ok(ResolveBench {
        records: records.len(),
        entities: resolution.entities.len(),
        customers_linked: resolution.assignments.len(),
        resolve_ms,
        store_load_ms: load,
        store_save_ms: save,
    })
}

/// Resolution quality and time on a labelled book of `customers` companies
/// (see [`crate::bench::book`]).
#[derive(Debug, Serialize)]
pub struct BookBench {
    pub customers: usize,
    pub people: usize,
    pub records: usize,
    pub resolve_ms: u128,
    pub quality: crate::bench::book::Quality,
    /// Blocking pair counts and the models' m/u estimates.
    pub model: crate::resolve::ModelReport,
}

/// `weights` says which weights score (see [`WeightSource`]); with
/// `dictionary`, names in kanji are also read in romaji, as a server
/// resolves.
pub fn run_book(
    customers: usize,
    seed: u64,
    weights: WeightSource,
    dictionary: Option<super::attach::Dictionary>,
) -> Result<BookBench, super::BenchError> {
    let analyzers = super::attach::Dictionary::load(dictionary)?;
    let read = |text: &str| analyzers.as_ref().and_then(|a| a.romaji_words(text));
    let romaji: Option<crate::resolve::Romaji> = analyzers.as_ref().map(|_| &read as _);
    let book = crate::bench::book::generate(customers, seed);
    let settings = Settings {
        weights,
        ..Settings::default()
    };
    let started = Instant::now();
    let resolution =
        crate::resolve::resolve_with(&book.records, &settings, &Overrides::default(), romaji);
    let resolve_ms = started.elapsed().as_millis();
    Ok(BookBench {
        customers: book.customers,
        people: book.people,
        records: book.records.len(),
        resolve_ms,
        quality: crate::bench::book::quality(&book, &resolution),
        model: resolution.model,
    })
}

/// `hand`, `estimate` or `estimated` (the `--weights` of `rapport bench
/// resolve`) as the setting; anything else is `estimate`.
pub fn weight_source(name: &str) -> WeightSource {
    match name {
        "hand" => WeightSource::Hand,
        "estimated" => WeightSource::Estimated,
        _ => WeightSource::Estimate,
    }
}
