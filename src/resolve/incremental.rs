//! Incremental resolution: when a few records change, re-resolve only the
//! part of the book they can affect and splice the answer into the previous
//! resolution. The part (a [`Plan`]) is the changed records, every record
//! sharing a block or a reference with them (an email, a domain, a company
//! key, an id a record links to), and, closed over, every record of each
//! customer or person any of those belonged to — members, attached
//! interactions, an organisation's people, a person's organisation — so a
//! cluster is never resolved half. The subset is resolved by the same pure
//! resolver with the whole book's statistics ([`BookStats`]: word rarity,
//! block sizes), so it sees the pairs and weights a full pass would.
//!
//! It must never read or write the store, and never decide a link itself:
//! `resolve_in` does, exactly as for a full pass.

use std::collections::{BTreeSet, HashMap, HashSet};

use rayon::prelude::*;

use super::blocking::{BlockSizes, block_hash};
use super::book_tally::Tally;
use super::organisations::{self, MAX_BLOCK, OrgModel, OrgProfile};
use super::people::{self, PersonModel, PersonProfile};
use super::{
    Assignment, BookRecord, Entity, Overrides, Resolution, Romaji, Settings, book_of, domain_of,
    is_staff, resolve_in,
};
use crate::normalize::company_key;
use crate::record::{Record, RecordKind};

/// Keeps organisation and person block hashes apart from each other and
/// from the reference keys.
const ORG_BLOCK: u64 = 0x6f72_6720_626c_6f63;
const PERSON_BLOCK: u64 = 0x7065_7273_6f6e_2062;

/// A key shared by more records than this says nothing about which of them
/// a change touches (a staff domain, a common word): the closure ignores it.
const MAX_REFERENCE: usize = 1_000;

/// The whole book's statistics, and each record's keys for the closure.
/// Records live in slots, in birth order; a record removed by an update
/// leaves an empty slot (`book_update.rs`), so the others keep theirs.
/// `PartialEq` compares what the slots hold, not where: an updated book's
/// statistics must equal those computed from the whole of it (tested).
pub struct BookStats {
    pub(super) org: OrgModel,
    pub(super) person: PersonModel,
    pub(super) person_words: HashMap<String, usize>,
    pub(super) org_sizes: BlockSizes,
    pub(super) person_sizes: BlockSizes,
    /// Per slot: its organisation or person block hashes (untagged),
    /// sorted, each once.
    pub(super) blocks: Vec<Vec<u64>>,
    /// Per key (a reference hash, or a block hash tagged with its kind):
    /// the slots holding it. Its length is the key's size.
    pub(super) postings: HashMap<u64, Vec<u32>>,
    /// Record id → slot.
    pub(super) index: HashMap<String, usize>,
    /// The slots of staff records (the closure takes all of them).
    pub(super) staff: BTreeSet<usize>,
    /// The multisets behind the models' distinct counts.
    pub(super) tally: Tally,
    /// What each record contributes, from which the rest is computed.
    pub(super) parts: Parts,
    /// How many slots hold a record.
    pub(super) live: usize,
    /// What the last update moved (`book_update.rs`), for the plan.
    pub(super) moved: Shifted,
}

/// What an update moved besides the changed records' own current keys:
/// the keys a record left or gained, and the records whose blocks changed
/// because a word crossed the rare-word limit. Pairs inside those blocks
/// appear or vanish, so their records are re-resolved too.
#[derive(Default)]
pub(super) struct Shifted {
    pub(super) keys: HashSet<u64>,
    pub(super) slots: BTreeSet<usize>,
}

/// Each record's contribution to the statistics: what the closure reads of
/// it and its match profiles, kept so that a change recomputes the
/// statistics without the book (`book_update.rs`).
#[derive(PartialEq, Default)]
pub(super) struct Parts {
    /// Per slot, in birth order; `None` where a record was removed.
    pub(super) records: Vec<Option<Slim>>,
    /// Organisation and person profiles, by slot, ascending.
    pub(super) orgs: Vec<(usize, OrgProfile)>,
    pub(super) persons: Vec<(usize, PersonProfile)>,
}

/// What the closure reads of one record.
#[derive(PartialEq, Debug)]
pub(super) struct Slim {
    pub(super) id: String,
    pub(super) kind: RecordKind,
    pub(super) staff: bool,
    /// The hash of the company the record names (`company_key`).
    pub(super) company: Option<u64>,
    /// When the store first saw it (its place in first-seen order).
    pub(super) birth: u64,
    /// Its reference hashes (see `reference_keys`), sorted.
    pub(super) refs: Vec<u64>,
}

impl Slim {
    pub(super) fn of(r: &BookRecord, birth: u64) -> Slim {
        let mut refs = reference_keys(r);
        refs.sort_unstable();
        refs.dedup();
        Slim {
            id: r.id(),
            kind: r.kind,
            staff: is_staff(r),
            company: r
                .company
                .as_ref()
                .map(|c| block_hash("company", &company_key(c))),
            birth,
            refs,
        }
    }

    /// The keys the closure finds this record by: its references and its
    /// block hashes, tagged with its kind; sorted, each once.
    pub(super) fn keys(&self, blocks: &[u64]) -> Vec<u64> {
        let tag = match self.kind {
            RecordKind::Organization => ORG_BLOCK,
            _ => PERSON_BLOCK,
        };
        let mut keys = self.refs.clone();
        keys.extend(blocks.iter().map(|h| h ^ tag));
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

/// The block hashes of one organisation profile with the book's words.
pub(super) fn org_blocks(p: &OrgProfile, org: &OrgModel) -> Vec<u64> {
    let mut hashes = Vec::new();
    organisations::block_keys(p, &org.words, |rule, key| {
        hashes.push(block_hash(rule, &key))
    });
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// The block hashes of one person profile with the book's word counts.
pub(super) fn person_blocks(p: &PersonProfile, words: &HashMap<String, usize>) -> Vec<u64> {
    let count = |w: &str| words.get(w).copied().unwrap_or(0);
    let mut hashes = Vec::new();
    people::block_keys(p, &count, |rule, key| hashes.push(block_hash(rule, &key)));
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

impl BookStats {
    /// Computes the statistics of `records` (the whole book, oldest first).
    pub fn of(records: &[BookRecord], romaji: Option<Romaji>) -> BookStats {
        let births: Vec<u64> = (0..records.len() as u64).collect();
        BookStats::of_born(records, &births, romaji)
    }

    /// [`BookStats::of`], with each record's birth (its first-seen sequence
    /// number, ascending), which an update needs to place new records.
    pub fn of_born(records: &[BookRecord], births: &[u64], romaji: Option<Romaji>) -> BookStats {
        let _span = tracing::info_span!("book statistics", records = records.len()).entered();
        // Profiles on every core, collected in record order.
        let orgs: Vec<(usize, OrgProfile)> = records
            .par_iter()
            .enumerate()
            .filter(|(_, r)| r.kind == RecordKind::Organization)
            .map(|(i, r)| (i, OrgProfile::of(r, domain_of, romaji)))
            .collect();
        let persons: Vec<(usize, PersonProfile)> = records
            .par_iter()
            .enumerate()
            .filter(|(_, r)| r.kind == RecordKind::Person)
            .map(|(i, r)| (i, PersonProfile::of(r, None, romaji)))
            .collect();
        let slims: Vec<Option<Slim>> = records
            .par_iter()
            .enumerate()
            .map(|(i, r)| Some(Slim::of(r, births.get(i).copied().unwrap_or(u64::MAX))))
            .collect();
        BookStats::of_parts(Parts {
            records: slims,
            orgs,
            persons,
        })
    }

    /// The statistics the records' contributions add up to.
    pub(super) fn of_parts(parts: Parts) -> BookStats {
        let org = OrgModel::of(&parts.orgs);
        let person = PersonModel::of(&parts.persons);
        let person_words = people::word_counts(&parts.persons);
        let tally = Tally::of(&parts.orgs, &parts.persons);
        let mut blocks: Vec<Vec<u64>> = vec![Vec::new(); parts.records.len()];
        let mut org_sizes = BlockSizes::default();
        for (i, p) in &parts.orgs {
            let hashes = org_blocks(p, &org);
            for &h in &hashes {
                org_sizes.add_hash(h);
            }
            blocks[*i] = hashes;
        }
        let mut person_sizes = BlockSizes::default();
        for (i, p) in &parts.persons {
            let hashes = person_blocks(p, &person_words);
            for &h in &hashes {
                person_sizes.add_hash(h);
            }
            blocks[*i] = hashes;
        }
        let mut postings: HashMap<u64, Vec<u32>> = HashMap::new();
        let mut staff = BTreeSet::new();
        let mut index = HashMap::with_capacity(parts.records.len());
        for (i, slim) in parts.records.iter().enumerate() {
            let Some(slim) = slim else { continue };
            for k in slim.keys(&blocks[i]) {
                postings.entry(k).or_default().push(i as u32);
            }
            if slim.staff {
                staff.insert(i);
            }
            index.insert(slim.id.clone(), i);
        }
        BookStats {
            org,
            person,
            person_words,
            org_sizes,
            person_sizes,
            blocks,
            postings,
            live: index.len(),
            index,
            staff,
            tally,
            parts,
            moved: Shifted::default(),
        }
    }

    /// How many records the book holds.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The id of the record in slot `index` (as a [`Plan`]'s subset names
    /// them).
    pub fn id(&self, index: usize) -> Option<&str> {
        self.parts
            .records
            .get(index)
            .and_then(Option::as_ref)
            .map(|s| s.id.as_str())
    }

    /// How many records hold a key.
    fn size(&self, key: u64) -> usize {
        self.postings.get(&key).map_or(0, Vec::len)
    }

    /// The slim of a slot.
    fn slim(&self, slot: usize) -> Option<&Slim> {
        self.parts.records.get(slot).and_then(Option::as_ref)
    }
}

/// The keys by which a record finds, or is found by, another outside the
/// matching blocks: its own id, the ids and names it refers to, its
/// addresses and their domains, and the company it names.
fn reference_keys(r: &BookRecord) -> Vec<u64> {
    let mut out = vec![block_hash("ref", &r.external_id)];
    let email = |out: &mut Vec<u64>, e: &str| {
        let e = e.trim_end_matches('.').to_lowercase();
        if let Some(d) = domain_of(&e) {
            out.push(block_hash("domain", d));
        }
        out.push(block_hash("email", &e));
    };
    for e in &r.emails {
        email(&mut out, e);
    }
    for l in &r.links {
        if matches!(l.rel.as_str(), "from" | "to" | "cc") {
            email(&mut out, &l.target);
        } else {
            let target = l.target.rsplit_once(':').map_or(&*l.target, |(_, t)| t);
            out.push(block_hash("ref", target));
            out.push(block_hash("ref", &l.target));
        }
    }
    if !matches!(r.kind, RecordKind::Organization | RecordKind::Person) {
        for text in r.title.iter().chain(r.body.iter()) {
            for w in text.split(|c: char| {
                c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '<' | '>' | '"')
            }) {
                if w.contains('@') {
                    email(&mut out, w);
                }
            }
        }
        if let Some((folders, _)) = r.provenance.file.rsplit_once('/') {
            for folder in folders.rsplit('/').map(str::trim).filter(|f| !f.is_empty()) {
                out.push(block_hash("ref", folder));
                out.push(block_hash("company", &company_key(folder)));
            }
        }
    }
    for w in r.websites() {
        out.push(block_hash(
            "domain",
            &w.trim_start_matches("www.").to_lowercase(),
        ));
    }
    if let Some(c) = &r.customer_ref {
        out.push(block_hash("ref", c));
        out.push(block_hash("company", &company_key(c)));
    }
    let names = r.company.iter().chain(
        (r.kind == RecordKind::Organization)
            .then_some(r.names.iter().chain(r.title.iter()))
            .into_iter()
            .flatten(),
    );
    for n in names {
        let key = company_key(n);
        if !key.is_empty() {
            out.push(block_hash("company", &key));
        }
    }
    out
}

/// What the previous resolution said, as the closure needs it.
pub trait Previous {
    fn assignment(&self, record: &str) -> Option<Assignment>;
    fn entity(&self, id: &str) -> Option<Entity>;

    /// The entities a record's assignment names (person, organisation,
    /// customer): all the plan's closure reads of it. The store decodes
    /// only these fields.
    fn assigned_entities(&self, record: &str) -> Vec<String> {
        self.assignment(record)
            .map(|a| {
                a.person_id
                    .into_iter()
                    .chain(a.org_id)
                    .chain(a.customer_id)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What the plan's closure reads of an entity: its records, its
    /// people and its organisation.
    fn entity_links(&self, id: &str) -> Option<EntityLinks> {
        self.entity(id).map(|e| EntityLinks {
            members: e
                .members
                .into_iter()
                .map(|m| MemberId { record: m.record })
                .collect(),
            attached: e
                .attached
                .into_iter()
                .map(|m| MemberId { record: m.record })
                .collect(),
            people: e.people,
            org_id: e.org_id,
        })
    }
}

/// An entity as the plan's closure reads it (the stored customer's JSON
/// read for these fields alone, its golden record and waterfalls skipped).
#[derive(Debug, Default, serde::Deserialize)]
pub struct EntityLinks {
    #[serde(default)]
    pub members: Vec<MemberId>,
    #[serde(default)]
    pub attached: Vec<MemberId>,
    #[serde(default)]
    pub people: Vec<String>,
    #[serde(default)]
    pub org_id: Option<String>,
}

/// A member's record id alone.
#[derive(Debug, serde::Deserialize)]
pub struct MemberId {
    pub record: String,
}

/// The ids an assignment names, as the closure reads them.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AssignedIds {
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub person_id: Option<String>,
    #[serde(default)]
    pub org_id: Option<String>,
}

impl AssignedIds {
    pub fn into_ids(self) -> Vec<String> {
        self.person_id
            .into_iter()
            .chain(self.org_id)
            .chain(self.customer_id)
            .collect()
    }
}

impl Previous for Resolution {
    fn assignment(&self, record: &str) -> Option<Assignment> {
        self.assignments.get(record).cloned()
    }

    fn entity(&self, id: &str) -> Option<Entity> {
        self.entities.iter().find(|e| e.id == id).cloned()
    }
}

/// The part of the book a change re-resolves.
#[derive(Debug, Default)]
pub struct Plan {
    /// Indices into the book, ascending (first-seen order kept).
    pub subset: Vec<usize>,
    /// Record ids whose previous assignment the answer replaces: the
    /// subset's and those of removed records.
    pub records: BTreeSet<String>,
    /// Entity ids of the previous resolution that the answer replaces.
    pub touched: BTreeSet<String>,
    /// How many records changed (present or removed).
    pub changed: usize,
}

/// The records `changed` (ids written or removed since `previous`) can
/// affect, closed over the customers they touch.
pub fn plan(
    stats: &BookStats,
    changed: &BTreeSet<String>,
    previous: &dyn Previous,
    overrides: &Overrides,
) -> Plan {
    let _span = tracing::info_span!("plan", changed = changed.len()).entered();
    let seeds: Vec<usize> = changed
        .iter()
        .filter_map(|id| stats.index.get(id).copied())
        .collect();
    let slack = seeds.len();
    let crossed = super::plan_blocks::Crossing::new(&stats.postings, &seeds, &stats.moved.slots);
    let wanted: HashSet<u64> = seeds
        .iter()
        .filter_map(|&i| Some(stats.slim(i)?.keys(&stats.blocks[i])))
        .flatten()
        .chain(stats.moved.keys.iter().copied())
        .filter(|&h| {
            let n = stats.size(h);
            n <= MAX_BLOCK
                || (n <= MAX_REFERENCE + slack && is_reference(h, stats))
                || (n <= MAX_BLOCK + slack && crossed.may_have_crossed(h, n))
        })
        .collect();
    // Every record holding a wanted key, found through the postings.
    let mut subset: BTreeSet<usize> = seeds.iter().copied().collect();
    for h in &wanted {
        for &i in stats.postings.get(h).into_iter().flatten() {
            subset.insert(i as usize);
        }
    }
    subset.extend(stats.staff.iter().copied());
    subset.extend(stats.moved.slots.iter().copied());
    let mut touched: BTreeSet<String> = BTreeSet::new();
    let mut ids: BTreeSet<String> = changed.clone();
    ids.extend(
        subset
            .iter()
            .filter_map(|&i| stats.id(i))
            .map(str::to_string),
    );
    let mut queue: Vec<String> = ids.iter().cloned().collect();
    while !queue.is_empty() {
        let mut entities: Vec<String> = Vec::new();
        let mut found: Vec<String> = Vec::new();
        // What the new records name (an account, a company, an address's
        // domain) must be resolved with them, or they would not find it.
        // People name organisations; interactions name both; a company no
        // organisation record bears is one its people make up together.
        let mut named: [HashSet<u64>; 3] = [HashSet::new(), HashSet::new(), HashSet::new()];
        for slim in queue
            .iter()
            .filter_map(|id| stats.slim(*stats.index.get(id)?))
        {
            let to = match slim.kind {
                RecordKind::Organization => continue,
                RecordKind::Person => 0,
                _ => 1,
            };
            if let Some(c) = slim.company {
                named[2].insert(c);
            }
            named[to].extend(
                slim.refs
                    .iter()
                    .filter(|&&h| stats.size(h) <= MAX_REFERENCE + slack),
            );
        }
        // The records holding a named key among their references, of the
        // kind that key is looked for in.
        for (n, named) in named.iter().enumerate() {
            for h in named {
                for &i in stats.postings.get(h).into_iter().flatten() {
                    let Some(r) = stats.slim(i as usize) else {
                        continue;
                    };
                    let wanted = match r.kind {
                        RecordKind::Organization => n < 2,
                        RecordKind::Person => n > 0,
                        _ => false,
                    };
                    if wanted && r.refs.binary_search(h).is_ok() && ids.insert(r.id.clone()) {
                        found.push(r.id.clone());
                    }
                }
            }
        }
        for id in queue.drain(..) {
            entities.extend(previous.assigned_entities(&id));
            for (a, b) in overrides
                .merges
                .iter()
                .chain(&overrides.never)
                .chain(&overrides.attach)
            {
                for (x, y) in [(a, b), (b, a)] {
                    if *x == id && ids.insert(y.clone()) {
                        found.push(y.clone());
                    }
                }
            }
        }
        while let Some(e) = entities.pop() {
            if touched.contains(&e) {
                continue;
            }
            let Some(entity) = previous.entity_links(&e) else {
                continue;
            };
            touched.insert(e);
            for m in entity.members.into_iter().chain(entity.attached) {
                if ids.insert(m.record.clone()) {
                    found.push(m.record);
                }
            }
            entities.extend(entity.people);
            entities.extend(entity.org_id);
        }
        for split in &overrides.splits {
            if split.iter().any(|r| ids.contains(r) || found.contains(r)) {
                for r in split {
                    if ids.insert(r.clone()) {
                        found.push(r.clone());
                    }
                }
            }
        }
        queue = found;
    }
    subset.extend(ids.iter().filter_map(|id| stats.index.get(id).copied()));
    Plan {
        subset: subset.into_iter().collect(),
        records: ids,
        touched,
        changed: changed.len(),
    }
}

/// Whether a hash is one of the reference keys (ids, addresses, domains,
/// company names), which may be shared more widely than a block.
fn is_reference(hash: u64, stats: &BookStats) -> bool {
    // Block hashes of the matching rules were counted in their own tables.
    stats.org_sizes.of_hash(hash ^ ORG_BLOCK) == 0
        && stats.person_sizes.of_hash(hash ^ PERSON_BLOCK) == 0
}

/// A resolution of part of the book, to splice into the previous one.
#[derive(Debug)]
pub struct Partial {
    pub resolution: Resolution,
    /// The record ids whose assignments it replaces.
    pub records: BTreeSet<String>,
    /// The entity ids it replaces.
    pub touched: BTreeSet<String>,
}

/// Re-resolves the records of `plan` with the book's statistics.
///
/// `records` are the book in the slots of `stats` (a book the statistics
/// were computed from whole, with no slot emptied by an update).
pub fn resolve_subset(
    records: &[BookRecord],
    plan: Plan,
    stats: &BookStats,
    settings: &Settings,
    overrides: &Overrides,
    romaji: Option<Romaji>,
) -> Partial {
    let subset: Vec<BookRecord> = plan.subset.iter().map(|&i| records[i].clone()).collect();
    resolve_book_records(&subset, plan, stats, settings, overrides, romaji)
}

/// [`resolve_subset`] given the plan's records themselves (in the order of
/// its subset), as read from the store when the book is not in memory.
pub fn resolve_records(
    subset: &[Record],
    plan: Plan,
    stats: &BookStats,
    settings: &Settings,
    overrides: &Overrides,
    romaji: Option<Romaji>,
) -> Partial {
    resolve_book_records(&book_of(subset), plan, stats, settings, overrides, romaji)
}

/// [`resolve_records`] of the plan's records as resolution holds them.
pub fn resolve_book_records(
    subset: &[BookRecord],
    plan: Plan,
    stats: &BookStats,
    settings: &Settings,
    overrides: &Overrides,
    romaji: Option<Romaji>,
) -> Partial {
    let resolution = resolve_in(subset, settings, overrides, romaji, Some(stats));
    Partial {
        resolution,
        records: plan.records,
        touched: plan.touched,
    }
}

impl Partial {
    /// How many records were re-resolved.
    pub fn re_resolved(&self) -> usize {
        self.records.len()
    }

    /// Entity ids the splice removes or replaces.
    pub fn replaced_entities(&self) -> BTreeSet<&str> {
        self.touched
            .iter()
            .map(String::as_str)
            .chain(self.resolution.entities.iter().map(|e| e.id.as_str()))
            .collect()
    }
}

impl Resolution {
    /// Replaces what `partial` re-resolved.
    pub fn splice(&mut self, partial: Partial) {
        let replaced: BTreeSet<String> = partial
            .replaced_entities()
            .into_iter()
            .map(str::to_string)
            .collect();
        self.assignments
            .retain(|id, _| !partial.records.contains(id));
        self.assignments.extend(partial.resolution.assignments);
        self.entities.retain(|e| !replaced.contains(&e.id));
        self.entities.extend(partial.resolution.entities);
        self.suspects
            .retain(|s| !replaced.contains(&s.a) && !replaced.contains(&s.b));
        self.suspects.extend(partial.resolution.suspects);
        self.unattached
            .retain(|u| !partial.records.contains(&u.record));
        self.unattached.extend(partial.resolution.unattached);
    }
}
