//! `rapport bench attach`: a labelled book written as real exports
//! (`book::interactions`), read back through the stock connectors and
//! normalisation, resolved, and scored: the share of interactions attached
//! to their true customer, to a wrong one, or to none, per source and kind;
//! and the share of planted data problems flagged, and of flags on records
//! where nothing was planted.
//!
//! It must never look at the truth while reading or resolving: the files
//! are all the pipeline sees.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use super::book::{self, interactions};
use crate::connectors::{self, IngestError, Manifest, ReadError, RecordSink, Stop};
use crate::record::Record;
use crate::resolve::{Overrides, Settings, resolve_with};

/// Right, wrong and unattached interactions of one source and kind.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    pub total: usize,
    pub right: usize,
    pub wrong: usize,
    pub unattached: usize,
}

impl Counts {
    pub fn right_share(&self) -> f64 {
        self.right as f64 / self.total.max(1) as f64
    }
    pub fn wrong_share(&self) -> f64 {
        self.wrong as f64 / self.total.max(1) as f64
    }
}

#[derive(Debug, Serialize)]
pub struct AttachBench {
    pub customers: usize,
    pub records: usize,
    pub read_errors: usize,
    pub all: Counts,
    /// By (source, kind).
    pub by_source: BTreeMap<String, Counts>,
    pub planted: usize,
    pub planted_flagged: usize,
    pub flags: usize,
    pub false_flags: usize,
    /// The unattached reasons, counted.
    pub reasons: BTreeMap<String, usize>,
    /// Up to 100 interactions attached to a wrong customer, with the
    /// evidence (`#k` numbers the book's companies, so namesakes show).
    pub wrong_examples: Vec<String>,
    /// Up to 20 interactions attached to nothing, with their text.
    pub unattached_examples: Vec<String>,
    /// Every note attached to nothing (up to 200), with its reason, its
    /// text and how its company's own records spell it: the classes a rule
    /// could still fix.
    pub unattached_notes: Vec<String>,
    /// Up to 20 flags on records where nothing was planted.
    pub false_flag_examples: Vec<String>,
    pub resolve_ms: u128,
}

impl AttachBench {
    pub fn flagged_share(&self) -> f64 {
        self.planted_flagged as f64 / self.planted.max(1) as f64
    }
    pub fn false_flag_share(&self) -> f64 {
        self.false_flags as f64 / self.flags.max(1) as f64
    }
}

/// Normalises each record as an ingest pass does (without a store).
#[derive(Default)]
struct Normalising {
    records: Vec<Record>,
    errors: usize,
}

impl RecordSink for Normalising {
    fn record(&mut self, mut record: Record) -> Result<(), Stop> {
        crate::normalize::limits::bound_record(&mut record, &Default::default());
        crate::normalize::finish_record(&mut record, None);
        crate::normalize::apply_timezone(&mut record, None);
        self.records.push(record);
        Ok(())
    }
    fn error(&mut self, _error: IngestError) {
        self.errors += 1;
    }
}

/// Where the IPADIC dictionary is (its source and the cache of the built
/// one): with it, resolution reads Japanese names in romaji, as a server
/// does.
pub struct Dictionary<'p> {
    pub source: &'p Path,
    pub cache: &'p Path,
}

impl Dictionary<'_> {
    /// The analyzers that read romaji, when a dictionary is given.
    pub(crate) fn load(
        dictionary: Option<Dictionary>,
    ) -> Result<Option<crate::index::Analyzers>, super::BenchError> {
        Ok(match dictionary {
            Some(d) => Some(crate::index::Analyzers::load(d.source, d.cache)?),
            None => None,
        })
    }
}

/// Writes a `rapport.toml` into `dir`, a book [`run`] wrote there, so that
/// `rapport ingest` or `serve --config DIR/rapport.toml` reads the same
/// exports the benchmark scored (its data directory is `DIR/data`).
pub fn write_config(dir: &Path, customers: usize, seed: u64) -> std::io::Result<()> {
    let mut text = format!(
        "# A labelled book of {customers} companies (seed {seed}) written by\n\
         # `rapport bench attach --keep`: real export formats with look-alike\n\
         # companies, twins, slips and planted data problems.\n\
         data_dir = \"data\"\n\n"
    );
    for (name, connector, folder) in interactions::SOURCES {
        text.push_str(&format!(
            "[[sources]]\nname = \"{name}\"\nconnector = \"{connector}\"\npath = \"{folder}\"\n\n"
        ));
    }
    text.push_str(&format!(
        "[resolve]\nstaff_domains = [\"{}\"]\n",
        interactions::STAFF_DOMAIN
    ));
    std::fs::write(dir.join("rapport.toml"), text)
}

/// Writes a book of `customers` companies into `dir`, reads it back and
/// scores attachment and quality flags; with `dictionary`, names in kanji
/// are also read in romaji (as `rapport serve` and `ingest` resolve).
pub fn run(
    customers: usize,
    seed: u64,
    dir: &Path,
    dictionary: Option<Dictionary>,
) -> Result<AttachBench, super::BenchError> {
    let analyzers = Dictionary::load(dictionary)?;
    let read = |text: &str| analyzers.as_ref().and_then(|a| a.romaji_words(text));
    let romaji: Option<crate::resolve::Romaji> = analyzers.as_ref().map(|_| &read as _);
    let span = tracing::info_span!("bench_attach", customers);
    let _entered = span.enter();
    let book = book::generate(customers, seed);
    let truth = interactions::write(&book, dir, seed)?;
    let mut sink = Normalising::default();
    for (source, connector, folder) in interactions::SOURCES {
        let manifest = Manifest::resolve(connector, None, dir)?;
        let (files, errors) = connectors::list_files(source, &dir.join(folder), &manifest);
        sink.errors += errors.len();
        for file in files {
            match connectors::read_file(source, &manifest, &file, &mut sink) {
                Ok(()) | Err(ReadError::Stopped) => {}
                Err(ReadError::Unreadable(_)) => sink.errors += 1,
            }
        }
    }
    let settings = Settings {
        staff_domains: vec![interactions::STAFF_DOMAIN.to_string()],
        ..Settings::default()
    };
    let started = std::time::Instant::now();
    let resolution = resolve_with(&sink.records, &settings, &Overrides::default(), romaji);
    let resolve_ms = started.elapsed().as_millis();
    let customer = |id: &str| {
        resolution
            .assignments
            .get(id)
            .and_then(|a| a.customer_id.clone())
    };
    // Each customer's true company: the one most of its organisation and
    // person records come from (a company resolution split in two has two
    // customers, each its own).
    let mut votes: HashMap<String, BTreeMap<usize, usize>> = HashMap::new();
    for r in &sink.records {
        if let (Some(k), Some(c)) = (truth.companies.get(&r.id()), customer(&r.id())) {
            *votes.entry(c).or_default().entry(*k).or_default() += 1;
        }
    }
    let company_of: HashMap<String, usize> = votes
        .into_iter()
        .filter_map(|(c, v)| v.into_iter().max_by_key(|(_, n)| *n).map(|(k, _)| (c, k)))
        .collect();
    let by_id: HashMap<String, &Record> = sink.records.iter().map(|r| (r.id(), r)).collect();
    let mut wrong_examples = Vec::new();
    let name_of = |c: &str| {
        resolution
            .entities
            .iter()
            .find(|e| e.id == c)
            .and_then(|e| e.golden.value("name").map(str::to_string))
            .unwrap_or_default()
    };
    let mut all = Counts::default();
    let mut by_source: BTreeMap<String, Counts> = BTreeMap::new();
    for (id, k) in &truth.interactions {
        let kind = by_id.get(id).map_or("missing", |r| r.kind.as_str());
        let source = id.split(':').next().unwrap_or("");
        let entry = by_source.entry(format!("{source} {kind}")).or_default();
        let outcome = match customer(id) {
            None => 0,
            Some(c) if company_of.get(&c) == Some(k) => 1,
            Some(_) => 2,
        };
        if outcome == 2 && wrong_examples.len() < 100 {
            let a = resolution.assignments.get(id);
            let got = a.and_then(|a| a.customer_id.clone()).unwrap_or_default();
            wrong_examples.push(format!(
                "{id} (company #{k} {}): got \"{}\" ({} records; company {}) by {:?}",
                book.company_name(*k),
                name_of(&got),
                resolution
                    .entities
                    .iter()
                    .find(|e| e.id == got)
                    .map_or(0, |e| e.members.len()),
                company_of.get(&got).map_or("none".to_string(), |g| format!(
                    "#{g} {}",
                    book.company_name(*g)
                )),
                a.map(|a| a.evidence.clone()).unwrap_or_default()
            ));
        }
        for counts in [&mut all, entry] {
            counts.total += 1;
            match outcome {
                0 => counts.unattached += 1,
                1 => counts.right += 1,
                _ => counts.wrong += 1,
            }
        }
    }
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut unattached_examples = Vec::new();
    let mut unattached_notes = Vec::new();
    for u in &resolution.unattached {
        if let Some(k) = truth.interactions.get(&u.record) {
            if u.kind == "note" && unattached_notes.len() < 200 {
                unattached_notes.push(diagnose_note(
                    &u.record,
                    *k,
                    &u.reason,
                    &book,
                    &truth,
                    &sink.records,
                    &by_id,
                ));
            }
            *reasons
                .entry(format!("{}: {}", u.source, u.reason))
                .or_default() += 1;
            if unattached_examples.len() < 60 {
                let text = by_id.get(u.record.as_str()).map_or(String::new(), |r| {
                    format!(
                        "{} {}",
                        r.title.as_deref().unwrap_or(""),
                        r.body.as_deref().unwrap_or("")
                    )
                });
                unattached_examples.push(format!(
                    "{} (company {}): {}",
                    u.record,
                    book.company_name(*k),
                    text.chars().take(100).collect::<String>()
                ));
            }
        }
    }
    let planted_flagged = truth
        .planted
        .iter()
        .filter(|(id, field)| {
            by_id
                .get(id.as_str())
                .is_some_and(|r| r.quality.iter().any(|q| q.field == **field))
        })
        .count();
    let (mut flags, mut false_flags) = (0, 0);
    let mut false_flag_examples = Vec::new();
    for r in &sink.records {
        flags += r.quality.len();
        if !truth.planted.contains_key(&r.id()) && !truth.incomplete.contains(&r.id()) {
            false_flags += r.quality.len();
            for q in &r.quality {
                if false_flag_examples.len() < 20 {
                    false_flag_examples.push(format!("{} {}: {}", r.id(), q.field, q.reason));
                }
            }
        }
    }
    Ok(AttachBench {
        customers: book.customers,
        records: sink.records.len(),
        read_errors: sink.errors,
        all,
        by_source,
        planted: truth.planted.len(),
        planted_flagged,
        flags,
        false_flags,
        reasons,
        wrong_examples,
        unattached_examples,
        unattached_notes,
        false_flag_examples,
        resolve_ms,
    })
}

/// An unattached note with its reason and text, the names its company's
/// organisation and contact records give it, and the book's other
/// companies of the same name (twins).
fn diagnose_note(
    id: &str,
    k: usize,
    reason: &str,
    book: &book::Book,
    truth: &interactions::ExportTruth,
    records: &[Record],
    by_id: &HashMap<String, &Record>,
) -> String {
    let text = by_id.get(id).map_or(String::new(), |r| {
        format!(
            "{} {}",
            r.title.as_deref().unwrap_or(""),
            r.body.as_deref().unwrap_or("")
        )
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
    });
    let mut spelled = std::collections::BTreeSet::new();
    for r in records {
        if truth.companies.get(&r.id()) != Some(&k) {
            continue;
        }
        match r.kind {
            crate::record::RecordKind::Organization => spelled.extend(r.names.iter().cloned()),
            _ => spelled.extend(r.company.iter().map(|c| format!("({c})"))),
        }
    }
    let twins: Vec<String> = (0..book.customers)
        .filter(|&j| j != k && book.company_name(j) == book.company_name(k))
        .map(|j| format!("#{j}"))
        .collect();
    format!(
        "{id} (company #{k} {}; spelled {}; twins [{}]): {reason} | {text}",
        book.company_name(k),
        spelled.into_iter().collect::<Vec<_>>().join(" / "),
        twins.join(" ")
    )
}
