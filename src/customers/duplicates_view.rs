//! The grouped queue of suspected duplicates as the API, the command line
//! and the page show it: one page of items (pairs with evidence beyond a
//! name, and groups of namesakes), each group's customers with what a
//! steward needs to tell them apart (sources, company, the fields that
//! differ), and the pairs a steward already kept apart left out. Each item
//! carries its rank and `why` (`duplicates_rank`), from the profiles of the
//! queued customers as the store holds them now.
//!
//! It must never change a resolution or an override: a steward decides
//! through the merge and never-merge routes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::CustomerError;
use super::duplicates::{DuplicateKind, queue};
use super::duplicates_groups::{Item, NameGroup, items};
use super::duplicates_rank::{Profile, Profiles};
use crate::resolve::{Entity, SuspectPair};
use crate::store::Store;

/// The golden fields shown for each customer of a group, in this order.
const SHOWN: &[&str] = &[
    "company",
    "emails",
    "phones",
    "birth_date",
    "address",
    "country",
    "identifiers",
    "websites",
];

/// One customer of a name group.
#[derive(Debug, Serialize)]
pub struct GroupCustomer {
    pub id: String,
    pub name: Option<String>,
    /// The organisation a person belongs to, as resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// That organisation's name, else the company the records name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// The sources of its records, without repeats.
    pub sources: Vec<String>,
    /// Its records' ids.
    pub records: Vec<String>,
    /// The golden fields of [`SHOWN`] it has.
    pub fields: BTreeMap<String, String>,
}

/// One item of the queue.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueueItem {
    /// Two customers with evidence beyond a shared name.
    Pair {
        /// The rank, in bits: the match weight and the queue's rules.
        score: f64,
        /// The resolver's match weight (the waterfall's total).
        match_weight: f64,
        /// The evidence behind the rank.
        why: String,
        a: String,
        b: String,
        evidence: String,
    },
    /// N customers sharing one exact name and nothing else.
    NameGroup {
        /// The rank, in bits: the likeliest pair's, less half a bit per
        /// doubling of the customers beyond two.
        score: f64,
        /// The evidence behind the rank.
        why: String,
        name: String,
        name_bits: f64,
        /// How many different organisations (or company names) they are at.
        companies: usize,
        customers: Vec<GroupCustomer>,
        /// The shown fields whose values differ between its customers.
        differs: Vec<String>,
        /// The suspect pairs the group holds, likeliest first.
        pairs: Vec<GroupPair>,
    },
}

/// A suspect pair of a name group, with its rank.
#[derive(Debug, Serialize)]
pub struct GroupPair {
    #[serde(flatten)]
    pub pair: SuspectPair,
    pub rank: f64,
    pub why: String,
}

/// One page of the grouped queue.
#[derive(Debug, Serialize)]
pub struct ItemsPage {
    /// Items matching the filters.
    pub total: usize,
    /// Suspect pairs those items hold.
    pub pairs: usize,
    /// Items that are name groups, and the pairs inside them.
    pub name_groups: usize,
    pub pairs_in_name_groups: usize,
    pub items: Vec<QueueItem>,
}

/// The queue as items a steward decides: pairs with evidence beyond a
/// name, and one group per name shared by namesakes (`duplicates_groups`).
pub fn list(
    store: &Store,
    kept: &KeptProfiles,
    kind: Option<DuplicateKind>,
    min_score: Option<f64>,
    offset: usize,
    limit: usize,
) -> Result<ItemsPage, CustomerError> {
    let pairs = queue(store, kind, min_score)?;
    let pair_count = pairs.len();
    let profiles = profiles(store, kept, &pairs)?;
    let all = items(pairs, &profiles);
    let (mut name_groups, mut pairs_in_name_groups) = (0, 0);
    for item in &all {
        if let Item::NameGroup(g) = item {
            name_groups += 1;
            pairs_in_name_groups += g.pairs.len();
        }
    }
    let total = all.len();
    let mut page = Vec::new();
    for item in all.into_iter().skip(offset).take(limit) {
        page.push(match item {
            Item::Pair(p) => QueueItem::Pair {
                score: p.rank,
                match_weight: p.pair.score,
                why: p.why,
                a: p.pair.a,
                b: p.pair.b,
                evidence: p.pair.evidence,
            },
            Item::NameGroup(g) => group(store, g)?,
        });
    }
    Ok(ItemsPage {
        total,
        pairs: pair_count,
        name_groups,
        pairs_in_name_groups,
        items: page,
    })
}

/// The queued customers' profiles as of the change log's last sequence,
/// kept between looks (the engine holds one): reading every queued
/// customer costs one store read each, so a dashboard's repeated looks
/// read them once per change, not once per page. Every change to a
/// customer (its records, its assignments) moves the log.
#[derive(Debug, Default)]
pub struct KeptProfiles(Mutex<Option<(u64, Arc<Profiles>)>>);

/// The profile of each customer `pairs` name, as the store holds it now
/// (a customer gone since the resolution has none, and adds nothing).
fn profiles(
    store: &Store,
    kept: &KeptProfiles,
    pairs: &[SuspectPair],
) -> Result<Arc<Profiles>, CustomerError> {
    let seq = store.last_seq()?;
    let held = kept.0.lock().ok().and_then(|k| {
        k.as_ref()
            .filter(|(s, _)| *s == seq)
            .map(|(_, p)| p.clone())
    });
    let mut out = match held {
        Some(held)
            if pairs
                .iter()
                .all(|p| held.contains_key(&p.a) && held.contains_key(&p.b)) =>
        {
            return Ok(held);
        }
        Some(held) => held.as_ref().clone(),
        None => Profiles::new(),
    };
    for id in pairs.iter().flat_map(|p| [&p.a, &p.b]) {
        if out.contains_key(id) {
            continue;
        }
        if let Some(entity) = store.entity(id)? {
            out.insert(id.clone(), Profile::of(&entity));
        }
    }
    let out = Arc::new(out);
    if let Ok(mut k) = kept.0.lock() {
        *k = Some((seq, out.clone()));
    }
    Ok(out)
}

fn golden(entity: &Entity, field: &str) -> Option<String> {
    entity.golden.fields.get(field).map(|f| f.value.clone())
}

fn customer(store: &Store, id: &str) -> Result<GroupCustomer, CustomerError> {
    let Some(entity) = store.entity(id)? else {
        // Gone since the resolution that listed it: shown by id alone.
        return Ok(GroupCustomer {
            id: id.to_string(),
            name: None,
            organization_id: None,
            company: None,
            sources: Vec::new(),
            records: Vec::new(),
            fields: BTreeMap::new(),
        });
    };
    let organisation = match &entity.org_id {
        Some(org) if entity.kind == "person" => store.entity(org)?,
        _ => None,
    };
    let company = organisation
        .as_ref()
        .and_then(|o| golden(o, "name"))
        .or_else(|| golden(&entity, "company"));
    let records: Vec<String> = entity.members.iter().map(|m| m.record.clone()).collect();
    let sources: BTreeSet<String> = records
        .iter()
        .filter_map(|r| r.split_once(':').map(|(s, _)| s.to_string()))
        .collect();
    let mut fields: BTreeMap<String, String> = SHOWN
        .iter()
        .filter_map(|f| golden(&entity, f).map(|v| (f.to_string(), v)))
        .collect();
    if let Some(company) = &company {
        fields.insert("company".into(), company.clone());
    }
    Ok(GroupCustomer {
        id: entity.id.clone(),
        name: golden(&entity, "name"),
        organization_id: organisation.map(|o| o.id),
        company,
        sources: sources.into_iter().collect(),
        records,
        fields,
    })
}

/// The shown fields two customers of `customers` hold different values of.
fn differs(customers: &[GroupCustomer]) -> Vec<String> {
    SHOWN
        .iter()
        .filter(|f| {
            let values: BTreeSet<String> = customers
                .iter()
                .filter_map(|c| c.fields.get(**f))
                .map(|v| v.to_lowercase())
                .collect();
            values.len() > 1
        })
        .map(|f| f.to_string())
        .collect()
}

fn group(store: &Store, g: NameGroup) -> Result<QueueItem, CustomerError> {
    let score = g.rank();
    let why = g.why();
    let customers = g
        .customers
        .iter()
        .map(|id| customer(store, id))
        .collect::<Result<Vec<_>, _>>()?;
    let companies: BTreeSet<String> = customers
        .iter()
        .filter_map(|c| {
            c.organization_id
                .clone()
                .or_else(|| c.company.as_ref().map(|n| n.to_lowercase()))
        })
        .collect();
    Ok(QueueItem::NameGroup {
        score,
        why,
        name: g.name,
        name_bits: g.name_bits,
        companies: companies.len(),
        differs: differs(&customers),
        customers,
        pairs: g
            .pairs
            .into_iter()
            .map(|p| GroupPair {
                pair: p.pair,
                rank: p.rank,
                why: p.why,
            })
            .collect(),
    })
}
