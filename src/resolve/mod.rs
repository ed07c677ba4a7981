//! Resolution: links records into customers. Organisation and person records
//! that describe the same entity are clustered (references, same email,
//! phone, company domain or key, then fuzzy names within blocks); people are
//! attached to their organisation; interactions and transactions to the
//! people and organisations they concern. Every link keeps its evidence, and
//! entity ids are stable: an entity's id comes from its oldest record.
//!
//! It is a pure function of the records, their first-seen order and the
//! steward's overrides: it must never read or write the store itself.

mod assign;
mod attach;
mod blocking;
mod book_equal;
pub(crate) mod book_record;
mod book_tally;
mod book_update;
mod by_root;
mod cluster;
mod compare;
mod estimate;
mod evidence;
pub mod golden;
mod hierarchy;
mod incremental;
mod name_readings;
mod organisations;
mod people;
mod plan_blocks;
mod read;
mod union_find;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use attach::{Staffed, Unattached, is_staff};
pub use book_record::{BookLink, BookRecord, Rel};
use by_root::ByRoot;
use cluster::{Edge, Outcome};
pub use estimate::{Estimate, FeatureEstimate, LevelEstimate, ModelReport};
pub use evidence::{Evidence, Weight};
pub use golden::{Golden, GoldenField, Variant};
pub use incremental::{
    AssignedIds, BookStats, EntityLinks, MemberId, Partial, Plan, Previous, plan,
    resolve_book_records, resolve_records, resolve_subset,
};
use organisations::{OrgModel, OrgProfile};
use people::{PersonModel, PersonProfile};
pub use read::{READ_ATTRS, keep_what_is_read};
use union_find::UnionFind;

use crate::normalize::company_key;
use crate::record::{Record, RecordKind};

/// Free-mail domains never identify a company.
const FREEMAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.jp",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "proton.me",
    "protonmail.com",
    "mail.ru",
    "qq.com",
    "163.com",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "softbank.ne.jp",
    "nifty.com",
    "ocn.ne.jp",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Bits added to the models' link thresholds (organisations 7, people
    /// 9): raise it for fewer, surer links; lower it to link more.
    pub link_offset: f64,
    /// Bits added to the thresholds at which a pair is listed for a
    /// steward as a suspected duplicate (organisations 3, people 5).
    pub review_offset: f64,
    /// Sources in order of trust for golden values (first wins); others after.
    pub source_priority: Vec<String>,
    /// The company's own mail domains (and subdomains): staff addresses
    /// never decide which customer a message belongs to.
    pub staff_domains: Vec<String>,
    /// Which weights score pairs: `hand` (the models' own), `estimate`
    /// (hand weights score; m and u are also estimated by EM and reported)
    /// or `estimated` (people are scored with the EM weights, the hand rules
    /// kept). See BENCHMARKS.md for why `hand` is the default.
    pub weights: WeightSource,
}

/// Where the models' weights come from (`[resolve] weights`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightSource {
    #[default]
    Hand,
    Estimate,
    Estimated,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            link_offset: 0.0,
            review_offset: 0.0,
            source_priority: Vec::new(),
            staff_domains: Vec::new(),
            weights: WeightSource::Hand,
        }
    }
}

impl Settings {
    fn thresholds(&self, model: cluster::Thresholds) -> cluster::Thresholds {
        cluster::Thresholds {
            link: model.link + self.link_offset,
            sure: model.sure + self.link_offset,
            review: model.review + self.review_offset,
            ..model
        }
    }
}

/// Steward decisions, by record id (entity ids are turned into their anchor
/// record ids before they get here).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Overrides {
    pub merges: Vec<(String, String)>,
    pub never: Vec<(String, String)>,
    /// Each list of records is split out of whatever it was linked to.
    pub splits: Vec<Vec<String>>,
    /// Interactions a steward attached by hand: (record id, the anchor
    /// record id of the customer or person it belongs to).
    #[serde(default)]
    pub attach: Vec<(String, String)>,
    /// Golden fields a steward rectified, on the customer whose anchor
    /// record is named.
    #[serde(default)]
    pub golden: Vec<GoldenOverride>,
}

/// A rectified golden field (GDPR art. 16): kept across re-ingest and
/// reindex, since it lives with the steward's other overrides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GoldenOverride {
    /// The anchor record of the customer (or person) rectified.
    pub record: String,
    pub field: String,
    pub value: String,
    pub reason: String,
}

/// Where one record landed, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub customer_id: Option<String>,
    pub person_id: Option<String>,
    pub org_id: Option<String>,
    pub customer_name: Option<String>,
    pub customer_kind: Option<String>,
    pub customer_country: Option<String>,
    pub evidence: Vec<String>,
    /// The owner's name, when the record names its owner by the id of a
    /// staff person record of its source (a Zendesk assignee).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Phone numbers the record's own country and its source's region
    /// could not read, read in its customer's country instead (E.164).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    /// Words the record is also found by (`normalize::search_keys`): its
    /// customer's key, acronym and legal-form spellings, and the customer's
    /// and person's names with German or accented letters written the
    /// other ways.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search_keys: Vec<String>,
    /// The consent of the entity the record is about (its person, else its
    /// customer) as `channel:status` terms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consent: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub record: String,
    pub evidence: Vec<String>,
    /// The records of the same entity this one was matched with, and what
    /// each feature weighed (the waterfall behind `evidence`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<Match>,
}

/// One pairwise match that put a record into its entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    pub record: String,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entity {
    pub id: String,
    /// "organization" or "person".
    pub kind: String,
    /// The record (or `company:<key>`) the id is derived from.
    pub anchor: String,
    /// Organisation or person records that describe this entity.
    pub members: Vec<Member>,
    /// Interactions and transactions attached to it directly.
    pub attached: Vec<Member>,
    /// For a person, their organisation.
    pub org_id: Option<String>,
    /// For an organisation, its people.
    pub people: Vec<String>,
    pub golden: Golden,
    /// For an organisation, its parent account's organisation (Salesforce
    /// `ParentId`), and the organisations whose parent it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuspectPair {
    pub a: String,
    pub b: String,
    pub score: f64,
    pub evidence: String,
}

#[derive(Debug, Default)]
pub struct Resolution {
    pub assignments: HashMap<String, Assignment>,
    pub entities: Vec<Entity>,
    pub suspects: Vec<SuspectPair>,
    /// Interactions and transactions attached to no customer, and why.
    pub unattached: Vec<Unattached>,
    /// Blocking rules' pair counts and the m/u estimates of the models.
    pub model: ModelReport,
}

pub fn entity_id(kind: RecordKind, anchor: &str) -> String {
    let prefix = if kind == RecordKind::Organization {
        "org"
    } else {
        "per"
    };
    format!(
        "{prefix}_{}",
        &blake3::hash(anchor.as_bytes()).to_hex()[..12]
    )
}

/// `v` without the room reserved while it grew: a full pass holds a
/// million of these vectors at once.
fn tight<T>(mut v: Vec<T>) -> Vec<T> {
    v.shrink_to_fit();
    v
}

fn domain_of(email: &str) -> Option<&str> {
    email
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !FREEMAIL.contains(d))
}

/// Reads Japanese text in romaji, word by word (the engine's IPADIC), so
/// that names in kanji match their romanised forms.
/// `Sync`: profiles are built on several threads.
pub type Romaji<'a> = &'a (dyn Fn(&str) -> Option<Vec<String>> + Sync);

/// Resolves `records` (in first-seen order: the earlier record anchors the
/// entity id).
pub fn resolve(records: &[Record], settings: &Settings, overrides: &Overrides) -> Resolution {
    resolve_with(records, settings, overrides, None)
}

/// [`resolve`], with names in Japanese script also compared to romanised
/// ones through their readings.
pub fn resolve_with(
    records: &[Record],
    settings: &Settings,
    overrides: &Overrides,
    romaji: Option<Romaji>,
) -> Resolution {
    resolve_in(&book_of(records), settings, overrides, romaji, None)
}

/// What resolution holds of `records` ([`BookRecord::from_ref`]), in order.
pub fn book_of(records: &[Record]) -> Vec<BookRecord> {
    records.par_iter().map(BookRecord::from_ref).collect()
}

/// What the book's statistics hold of `records`
/// ([`BookRecord::for_statistics`]), in order.
pub fn statistics_book(records: &[Record]) -> Vec<BookRecord> {
    records
        .par_iter()
        .map(|r| BookRecord::for_statistics(r.clone()))
        .collect()
}

/// [`resolve_with`] on a book it owns: the book is freed once the entities
/// are built, before the records' assignments are made, so a full pass
/// never holds both (the same answer as [`resolve_with`] of the whole
/// records the book was read from).
pub fn resolve_owned(
    records: Vec<BookRecord>,
    settings: &Settings,
    overrides: &Overrides,
    romaji: Option<Romaji>,
) -> Resolution {
    let staged = stage(&records, settings, overrides, romaji, None);
    drop(records);
    staged.assign()
}

/// The resolver itself; with `book`, `records` are a subset of a book whose
/// statistics (word rarity, block sizes) come from the whole of it.
fn resolve_in(
    records: &[BookRecord],
    settings: &Settings,
    overrides: &Overrides,
    romaji: Option<Romaji>,
    book: Option<&BookStats>,
) -> Resolution {
    stage(records, settings, overrides, romaji, book).assign()
}

/// Everything but the records' assignments (`assign.rs`).
fn stage(
    records: &[BookRecord],
    settings: &Settings,
    overrides: &Overrides,
    romaji: Option<Romaji>,
    book: Option<&BookStats>,
) -> assign::Staged {
    let span = tracing::info_span!("resolve", records = records.len());
    let _entered = span.enter();
    let mut graph = Graph::new(records);
    graph.romaji = romaji;
    graph.book = book;
    graph.apply_overrides(overrides);
    graph.link_organisations(settings);
    graph.link_people(settings);
    graph.link_converted_leads();
    let started = std::time::Instant::now();
    let membership = graph.memberships();
    let attachments = graph.attachments(settings, &membership, &overrides.attach);
    let attached_ms = started.elapsed().as_millis() as u64;
    let staged = graph.build(settings, &membership, &attachments, &overrides.golden);
    tracing::debug!(
        attached_ms,
        built_ms = started.elapsed().as_millis() as u64,
        "records attached, customers built"
    );
    staged
}

/// Organisation records by what a person record may name them by: each
/// name key or domain with the roots (and one record of each) bearing it.
#[derive(Default)]
struct OrgLookup {
    by_key: HashMap<String, Vec<(usize, usize)>>,
    by_domain: HashMap<String, Vec<(usize, usize)>>,
}

/// `"Name" (source:id)`, for a steward reading a suspect pair.
fn describe_node(records: &[BookRecord], node: usize) -> String {
    match records.get(node) {
        Some(r) => {
            let name = r
                .names
                .first()
                .or(r.title.as_ref())
                .map_or("", |name| &**name);
            format!("\"{name}\" ({})", r.id())
        }
        None => format!("node {node}"),
    }
}

/// Record indices are nodes; implicit organisations (named by people but with
/// no record of their own) get nodes after them.
struct Graph<'a> {
    records: &'a [BookRecord],
    uf: UnionFind,
    evidence: Vec<Vec<String>>,
    by_external: HashMap<(&'a str, &'a str), usize>,
    by_external_any: HashMap<&'a str, Vec<usize>>,
    implicit_orgs: Vec<String>,
    suspects: Vec<(usize, usize, f64, String)>,
    /// Per node, the pairs it was linked by and their weights.
    weights: Vec<Vec<(String, Evidence)>>,
    /// Candidate pairs per blocking rule.
    blocking: BTreeMap<String, usize>,
    /// The models' estimates (`estimate.rs`).
    model: ModelReport,
    romaji: Option<Romaji<'a>>,
    /// The whole book's statistics when `records` are a subset of it.
    book: Option<&'a BookStats>,
}

impl<'a> Graph<'a> {
    fn new(records: &'a [BookRecord]) -> Graph<'a> {
        let mut by_external = HashMap::new();
        let mut by_external_any: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            by_external.insert((&*r.source, &*r.external_id), i);
            by_external_any.entry(&*r.external_id).or_default().push(i);
        }
        // Room for one implicit organisation per person at most.
        let people = records
            .iter()
            .filter(|r| r.kind == RecordKind::Person)
            .count();
        let n = records.len() + people;
        Graph {
            records,
            uf: UnionFind::new(n),
            evidence: vec![Vec::new(); n],
            by_external,
            by_external_any,
            implicit_orgs: Vec::new(),
            suspects: Vec::new(),
            weights: vec![Vec::new(); n],
            blocking: BTreeMap::new(),
            model: ModelReport::default(),
            romaji: None,
            book: None,
        }
    }

    fn kind(&self, node: usize) -> RecordKind {
        self.records
            .get(node)
            .map(|r| r.kind)
            .unwrap_or(RecordKind::Organization)
    }

    fn link(&mut self, a: usize, b: usize, why: &str) {
        if self.uf.union(a, b) {
            for node in [a, b] {
                if self.evidence[node].len() < 4 {
                    self.evidence[node].push(why.to_string());
                }
            }
        }
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        let (source, external) = id.split_once(':')?;
        self.by_external.get(&(source, external)).copied()
    }

    fn apply_overrides(&mut self, overrides: &Overrides) {
        for (g, split) in overrides.splits.iter().enumerate() {
            for id in split {
                if let Some(i) = self.index_of(id) {
                    self.uf.set_group(i, g as u32 + 1);
                }
            }
        }
        for (a, b) in &overrides.never {
            if let (Some(a), Some(b)) = (self.index_of(a), self.index_of(b)) {
                self.uf.keep_apart(a, b);
            }
        }
        for (a, b) in &overrides.merges {
            if let (Some(x), Some(y)) = (self.index_of(a), self.index_of(b)) {
                self.link(x, y, &format!("steward merge of {a} and {b}"));
            }
        }
    }

    fn nodes_of(&self, kind: RecordKind) -> Vec<usize> {
        (0..self.records.len())
            .filter(|&i| self.records[i].kind == kind)
            .collect()
    }

    /// Clusters organisation records with the organisation model
    /// (`organisations.rs`) and the no-chaining clustering (`cluster.rs`).
    fn link_organisations(&mut self, settings: &Settings) {
        let orgs = self.nodes_of(RecordKind::Organization);
        let (records, romaji) = (self.records, self.romaji);
        // Profiles on every core, collected in record order.
        let profiles: Vec<(usize, OrgProfile)> = orgs
            .par_iter()
            .map(|&i| (i, OrgProfile::of(&records[i], domain_of, romaji)))
            .collect();
        let local;
        let model = match self.book {
            Some(book) => &book.org,
            None => {
                local = OrgModel::of(&profiles);
                &local
            }
        };
        let (pairs, counts) = organisations::candidate_pairs_sized(
            &profiles,
            &model.words,
            self.book.map(|b| &b.org_sizes),
        );
        tracing::debug!(?counts, pairs = pairs.len(), "organisation candidate pairs");
        self.blocking.extend(
            counts
                .into_iter()
                .map(|(k, v)| (format!("organisation {k}"), v)),
        );
        if settings.weights != WeightSource::Hand {
            self.model.organisations = Some(estimate::estimate(
                profiles.len(),
                &pairs,
                organisations::SESSIONS,
                |x, y| organisations::score(&profiles[x].1, &profiles[y].1, model),
            ));
        }
        self.score_and_cluster(
            &profiles,
            &pairs,
            settings.thresholds(organisations::THRESHOLDS),
            |a, b| organisations::score(a, b, model),
        );
    }

    /// Scores the candidate `pairs` (slots of `profiles`) and clusters them.
    fn score_and_cluster<P>(
        &mut self,
        profiles: &[(usize, P)],
        pairs: &[(usize, usize)],
        thresholds: cluster::Thresholds,
        score: impl Fn(&P, &P) -> Evidence + Sync,
    ) where
        P: Sync,
    {
        let nodes: Vec<usize> = profiles.iter().map(|(node, _)| *node).collect();
        let slot_of: HashMap<usize, usize> = nodes
            .iter()
            .enumerate()
            .map(|(slot, node)| (*node, slot))
            .collect();
        // Pairs scored on every core; the edges keep the pairs' order, and
        // each only its total (`cluster::Edge`).
        let mut edges: Vec<Edge> = pairs
            .par_iter()
            .map(|&(x, y)| {
                let evidence = score(&profiles[x].1, &profiles[y].1);
                Edge::of(profiles[x].0, profiles[y].0, &evidence)
            })
            .collect();
        let any_pair = |a: usize, b: usize| match (slot_of.get(&a), slot_of.get(&b)) {
            (Some(&x), Some(&y)) => score(&profiles[x].1, &profiles[y].1),
            _ => Evidence::default(),
        };
        self.cluster_edges(&nodes, &mut edges, thresholds, any_pair);
    }

    /// Runs the clustering and keeps each link's evidence and each suspect.
    /// `score` compares two nodes; a linked or suspect pair's waterfall is
    /// scored again with it (the same pure function, so the same evidence
    /// the edge's total came from).
    fn cluster_edges(
        &mut self,
        nodes: &[usize],
        edges: &mut [Edge],
        thresholds: cluster::Thresholds,
        score: impl Fn(usize, usize) -> Evidence,
    ) {
        let mut linked: Vec<(usize, usize, Evidence)> = Vec::new();
        let mut suspects: Vec<(usize, usize, f64, String)> = Vec::new();
        let records = self.records;
        cluster::cluster(
            &mut self.uf,
            nodes,
            edges,
            thresholds,
            &score,
            |outcome| match outcome {
                Outcome::Linked(edge) => {
                    // Kept in the customer: without the room it grew into.
                    let mut evidence = score(edge.a, edge.b);
                    evidence.weights.shrink_to_fit();
                    linked.push((edge.a, edge.b, evidence));
                }
                Outcome::Suspect(edge, why) => suspects.push((
                    edge.a,
                    edge.b,
                    edge.total,
                    format!(
                        "{why}: {} ~ {}: {}",
                        describe_node(records, edge.a),
                        describe_node(records, edge.b),
                        score(edge.a, edge.b).describe()
                    ),
                )),
            },
        );
        for (a, b, evidence) in linked {
            let (ida, idb) = (self.records[a].id(), self.records[b].id());
            for (node, other) in [(a, &idb), (b, &ida)] {
                if self.evidence[node].len() < 4 {
                    self.evidence[node].push(format!("matches {other}: {}", evidence.describe()));
                }
                self.weights[node].push((other.clone(), evidence.clone()));
            }
        }
        self.suspects.extend(suspects);
    }

    /// Clusters person records with the person model (`people.rs`), each
    /// record knowing the organisation it already belongs to.
    fn link_people(&mut self, settings: &Settings) {
        let people = self.nodes_of(RecordKind::Person);
        let lookup = self.org_lookup();
        let mut orgs: Vec<(usize, Option<usize>)> = Vec::with_capacity(people.len());
        for &i in &people {
            let org = self.org_of(i, &lookup).map(|(o, _)| self.uf.find(o));
            orgs.push((i, org));
        }
        let (records, romaji) = (self.records, self.romaji);
        let profiles: Vec<(usize, PersonProfile)> = orgs
            .into_par_iter()
            .map(|(i, org)| (i, PersonProfile::of(&records[i], org, romaji)))
            .collect();
        // In an incremental pass the whole book's model and word counts
        // weigh the subset's pairs as a full pass would.
        let (mut model, (pairs, counts)) = match self.book {
            Some(book) => (
                std::borrow::Cow::Borrowed(&book.person),
                people::candidate_pairs_with(
                    &profiles,
                    &|w| book.person_words.get(w).copied().unwrap_or(0),
                    Some(&book.person_sizes),
                ),
            ),
            None => (
                std::borrow::Cow::Owned(PersonModel::of(&profiles)),
                people::candidate_pairs(&profiles),
            ),
        };
        tracing::debug!(?counts, pairs = pairs.len(), "person candidate pairs");
        self.blocking
            .extend(counts.into_iter().map(|(k, v)| (format!("person {k}"), v)));
        if settings.weights != WeightSource::Hand {
            let estimate = estimate::estimate(profiles.len(), &pairs, people::SESSIONS, |x, y| {
                people::score(&profiles[x].1, &profiles[y].1, &model)
            });
            tracing::info!(estimate = ?estimate.describe(), "person m/u estimated by EM");
            if settings.weights == WeightSource::Estimated {
                model.to_mut().use_estimate(&estimate, profiles.len());
                self.model.people_weights_estimated = true;
            }
            self.model.people = Some(estimate);
        }
        self.score_and_cluster(
            &profiles,
            &pairs,
            settings.thresholds(people::THRESHOLDS),
            |a, b| people::score(a, b, &model),
        );
    }

    /// Organisation roots by name key and by domain (web sites and
    /// addresses), to find the organisation a person record names.
    fn org_lookup(&mut self) -> OrgLookup {
        let mut lookup = OrgLookup::default();
        for i in self.nodes_of(RecordKind::Organization) {
            let root = self.uf.find(i);
            let r = &self.records[i];
            for name in r.names.iter().chain(r.title.iter()).chain(r.company.iter()) {
                let roots = lookup.by_key.entry(company_key(name)).or_default();
                if !roots.iter().any(|(x, _)| *x == root) {
                    roots.push((root, i));
                }
            }
            let domains = r
                .emails
                .iter()
                .filter_map(|e| domain_of(e))
                .chain(r.websites().iter().map(|w| w.trim_start_matches("www.")));
            for d in domains {
                let roots = lookup.by_domain.entry(d.to_ascii_lowercase()).or_default();
                if !roots.iter().any(|(x, _)| *x == root) {
                    roots.push((root, i));
                }
            }
        }
        lookup
    }

    /// The organisation record a person record belongs to, and why: its
    /// account reference, its customer reference, its email's domain when
    /// one organisation owns it, else its company's name when exactly one
    /// organisation bears it.
    fn org_of(&self, i: usize, lookup: &OrgLookup) -> Option<(usize, String)> {
        let r = &self.records[i];
        let only = |roots: Option<&Vec<(usize, usize)>>| match roots.map(Vec::as_slice) {
            Some([(_, node)]) => Some(*node),
            _ => None,
        };
        self.reference(i, &["account", "organization"])
            .map(|o| (o, "account reference".to_string()))
            .or_else(|| {
                let c = r.customer_ref.as_deref()?;
                self.lookup(&r.source, c)
                    .filter(|&o| self.kind(o) == RecordKind::Organization)
                    .map(|o| (o, format!("customer reference {c}")))
            })
            .or_else(|| {
                r.emails.iter().filter_map(|e| domain_of(e)).find_map(|d| {
                    only(lookup.by_domain.get(d)).map(|o| (o, format!("email domain {d}")))
                })
            })
            .or_else(|| {
                let key = company_key(r.company.as_deref()?);
                only(lookup.by_key.get(&key)).map(|o| (o, format!("company name \"{key}\"")))
            })
    }

    /// The organisation node of each person root.
    fn memberships(&mut self) -> HashMap<usize, (usize, String)> {
        let lookup = self.org_lookup();
        let mut membership: HashMap<usize, (usize, String)> = HashMap::new();
        for i in self.nodes_of(RecordKind::Person) {
            let r = &self.records[i];
            if is_staff(r) {
                continue;
            }
            let found = self.org_of(i, &lookup).or_else(|| {
                let key = company_key(r.company.as_deref()?);
                // A name several organisations bear names none of them.
                if key.is_empty() || lookup.by_key.contains_key(&key) {
                    return None;
                }
                let position = match self.implicit_orgs.iter().position(|k| *k == key) {
                    Some(p) => p,
                    None => {
                        self.implicit_orgs.push(key.clone());
                        self.implicit_orgs.len() - 1
                    }
                };
                Some((
                    self.records.len() + position,
                    format!("company name \"{key}\" (no organisation record)"),
                ))
            });
            if let Some((org, why)) = found {
                let root = self.uf.find(i);
                membership.entry(root).or_insert((self.uf.find(org), why));
            }
        }
        membership
    }

    fn lookup(&self, source: &str, external: &str) -> Option<usize> {
        self.by_external
            .get(&(source, external))
            .copied()
            .or_else(|| {
                self.by_external_any
                    .get(external)
                    .and_then(|v| (v.len() == 1).then(|| v[0]))
            })
    }

    fn reference(&self, i: usize, rels: &[&str]) -> Option<usize> {
        let r = &self.records[i];
        r.links
            .iter()
            .filter(|l| rels.contains(&l.rel.as_str()))
            .find_map(|l| self.lookup(&r.source, &l.target))
    }

    fn build(
        mut self,
        settings: &Settings,
        membership: &HashMap<usize, (usize, String)>,
        attachments: &attach::Attachments,
        rectified: &[GoldenOverride],
    ) -> assign::Staged {
        let n = self.records.len();
        // Group entity nodes by root.
        let mut clusters: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..n {
            if matches!(
                self.records[i].kind,
                RecordKind::Person | RecordKind::Organization
            ) && !is_staff(&self.records[i])
            {
                clusters.entry(self.uf.find(i)).or_default().push(i);
            }
        }
        for p in 0..self.implicit_orgs.len() {
            let node = n + p;
            let root = self.uf.find(node);
            clusters.entry(root).or_default().push(node);
        }
        // Every cluster has its entity: the hierarchy is read now, and the
        // lookup by external id alone (~100 MB at 1M records) is freed
        // before the entities are built.
        let parents = self.parents(&clusters);
        self.by_external_any = HashMap::new();
        // The owners' names are read now too, and the lookup by source and
        // id (~85 MB at 1M records) freed with the other before the
        // entities are built.
        let owners = self.owner_names();
        let staff = self.staff_names();
        self.by_external = HashMap::new();
        let mut ids: HashMap<usize, String> = HashMap::new();
        let mut entities: ByRoot<Entity> = ByRoot::with_capacity(clusters.len());
        for (root, nodes) in &clusters {
            let anchor_node = nodes[0];
            let (kind, anchor) = if anchor_node >= n {
                (
                    RecordKind::Organization,
                    format!("company:{}", self.implicit_orgs[anchor_node - n]),
                )
            } else {
                (
                    self.records[anchor_node].kind,
                    self.records[anchor_node].id(),
                )
            };
            let id = entity_id(kind, &anchor);
            ids.insert(*root, id.clone());
            let member_records: Vec<&BookRecord> = nodes
                .iter()
                .filter(|&&x| x < n)
                .map(|&x| &self.records[x])
                .collect();
            let mut golden = Golden::build(&member_records, settings);
            golden.show_owner_names(|source, id| staff.get(&(source, id)).cloned());
            if anchor_node >= n {
                golden.set_name(&self.implicit_orgs[anchor_node - n]);
            }
            for field in rectified {
                if member_records.iter().any(|r| r.id() == field.record) {
                    golden.rectify(&field.field, &field.value, &field.reason);
                }
            }
            entities.insert(
                *root,
                Entity {
                    id,
                    kind: kind.as_str().to_string(),
                    anchor,
                    // Each node's waterfalls are moved, not copied (a copy
                    // of every link's lived until the graph was dropped).
                    members: tight(
                        nodes
                            .iter()
                            .filter(|&&x| x < n)
                            .map(|&x| Member {
                                record: self.records[x].id(),
                                evidence: self.evidence[x].clone(),
                                matches: tight(
                                    std::mem::take(&mut self.weights[x])
                                        .into_iter()
                                        .map(|(record, evidence)| Match { record, evidence })
                                        .collect(),
                                ),
                            })
                            .collect(),
                    ),
                    attached: Vec::new(),
                    org_id: None,
                    people: Vec::new(),
                    golden,
                    parent: None,
                    children: Vec::new(),
                },
            );
        }
        // Every node's waterfalls are in their entity now.
        self.weights = Vec::new();
        hierarchy::set_parents(parents, &mut entities);
        // People → organisations.
        let mut person_org: HashMap<usize, usize> = HashMap::new();
        let mut membership: Vec<_> = membership.iter().collect();
        membership.sort_unstable_by_key(|(root, _)| **root);
        for (person_root, (org_node, why)) in membership {
            let org_root = self.uf.find(*org_node);
            if let (Some(org_id), Some(person_id)) =
                (ids.get(&org_root).cloned(), ids.get(person_root).cloned())
            {
                person_org.insert(*person_root, org_root);
                if let Some(e) = entities.get_mut(person_root) {
                    e.org_id = Some(org_id);
                    for m in &mut e.members {
                        m.evidence.push(format!("works at: {why}"));
                    }
                }
                if let Some(o) = entities.get_mut(&org_root) {
                    o.people.push(person_id);
                }
            }
        }
        // A source that already knows its customers (a warehouse export with
        // its own customer key) is taken at its word: its records keep their
        // customer, and records linked to them join it.
        let declared: HashMap<usize, usize> = clusters
            .iter()
            .filter_map(|(root, nodes)| {
                nodes
                    .iter()
                    .find(|&&x| x < n && self.records[x].customer_id().is_some())
                    .map(|&x| (*root, x))
            })
            .collect();
        let records = self.records;
        // What the assignments need of the book is taken now, so that a full
        // pass can free the book before they are made (`assign.rs`).
        let declared: HashMap<usize, assign::Declared> = declared
            .into_iter()
            .map(|(root, d)| {
                let r = &records[d];
                let declared = assign::Declared {
                    customer_id: r.customer_id().clone(),
                    customer_name: r.customer_name().clone(),
                    customer_kind: r.customer_kind().clone(),
                    customer_country: r.customer_country().clone(),
                };
                (root, declared)
            })
            .collect();
        let mut pending: Vec<assign::Pending> = Vec::with_capacity(
            clusters.values().map(Vec::len).sum::<usize>() + attachments.found.len(),
        );
        let mut is_pending = vec![false; n];
        let mut stage = |record: usize,
                         entity_root: usize,
                         evidence: Vec<String>,
                         entities: &ByRoot<Entity>| {
            if records[record].customer_id().is_some() {
                return;
            }
            let Some(entity) = entities.get(&entity_root) else {
                return;
            };
            let (customer_root, _) = assign::customer_of(entity, entity_root, &person_org);
            let customer = entities.get(&customer_root).unwrap_or(entity);
            let phones = customer
                .golden
                .value("country")
                .map(|country| attach::phones_in(&records[record], country))
                .unwrap_or_default();
            is_pending[record] = true;
            pending.push(assign::Pending {
                record: records[record].id(),
                entity_root,
                evidence,
                owner: owners.get(&record).cloned(),
                phones,
            });
        };
        for (root, nodes) in &clusters {
            for &x in nodes.iter().filter(|&&x| x < n) {
                stage(
                    x,
                    *root,
                    tight(std::mem::take(&mut self.evidence[x])),
                    &entities,
                );
            }
        }
        let unattached = attachments
            .unattached
            .iter()
            .map(|(i, reason)| Unattached {
                record: self.records[*i].id(),
                source: self.records[*i].source.to_string(),
                kind: self.records[*i].kind.as_str().to_string(),
                reason: reason.clone(),
                candidates: attachments
                    .candidate_ids(*i, |node| ids.get(&self.uf.find(node)).cloned()),
            })
            .collect();
        let mut attachments: Vec<_> = attachments.found.iter().collect();
        attachments.sort_unstable_by_key(|(record, _)| **record);
        for (&record, (node, why)) in attachments {
            let root = self.uf.find(*node);
            stage(record, root, vec![why.clone()], &entities);
            if let Some(e) = entities.get_mut(&root) {
                e.attached.push(Member {
                    record: self.records[record].id(),
                    evidence: vec![why.clone()],
                    matches: Vec::new(),
                });
            }
        }
        // A record that lands on no customer still shows its owner's name
        // (a record assigned above keeps its assignment).
        let owners: Vec<(String, String)> = owners
            .into_iter()
            .filter(|(record, _)| !is_pending[*record])
            .map(|(record, name)| (records[record].id(), name))
            .collect();
        // One suspect per pair of entities: the strongest pair of records.
        let mut suspects: BTreeMap<(String, String), SuspectPair> = BTreeMap::new();
        for (a, b, score, evidence) in std::mem::take(&mut self.suspects) {
            let (ra, rb) = (self.uf.find(a), self.uf.find(b));
            if ra != rb
                && let (Some(a), Some(b)) = (ids.get(&ra), ids.get(&rb))
            {
                let key = (a.min(b).clone(), a.max(b).clone());
                let better = suspects.get(&key).is_none_or(|s| s.score < score);
                if better {
                    suspects.insert(
                        key,
                        SuspectPair {
                            a: a.clone(),
                            b: b.clone(),
                            score,
                            evidence,
                        },
                    );
                }
            }
        }
        let suspects = suspects.into_values().collect();
        let mut model = std::mem::take(&mut self.model);
        model.blocking = std::mem::take(&mut self.blocking);
        assign::Staged {
            entities,
            person_org,
            declared,
            pending,
            owners,
            unattached,
            suspects,
            model,
        }
    }
}

#[cfg(test)]
mod tests;
