//! The single customer view built from the store: a customer page (golden
//! record with variants and provenance, people or organisation, every linked
//! record with the evidence that put it there, metrics), its timeline, the
//! data-quality report, the bulk export, and steward overrides.
//!
//! It must never change a record: overrides are saved and resolution re-run.

mod duplicates;
mod duplicates_evidence;
mod duplicates_groups;
mod duplicates_rank;
mod duplicates_view;
mod flagged;
mod hierarchy;
mod unattached;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::record::{Record, RecordKind};
use crate::resolve::{Entity, Golden, Member, Overrides, SuspectPair};
use crate::store::{Store, StoreError};
pub use duplicates::{DuplicateKind, DuplicatesPage, list as list_duplicates, most_likely_first};
pub use duplicates_groups::{
    Item as DuplicateItem, NameGroup, RankedPair, items as duplicate_items,
};
pub use duplicates_rank::{Profile as DuplicateProfile, Profiles as DuplicateProfiles};
pub use duplicates_view::{
    GroupCustomer, ItemsPage, KeptProfiles, QueueItem, list as list_duplicate_items,
};
pub use flagged::{FlaggedPage, FlaggedRecord, all_flagged, page as flagged_page};
pub use hierarchy::Rollup;
pub use unattached::{UnattachedCount, UnattachedPage, attach, list as list_unattached, rectify};

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("no customer `{0}`")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LinkedRecord {
    pub id: String,
    pub source: String,
    pub external_id: String,
    pub kind: String,
    pub title: Option<String>,
    /// Why the record belongs to this customer.
    pub evidence: Vec<String>,
    /// The records it was matched with and each feature's weight in bits.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<crate::resolve::Match>,
}

#[derive(Debug, Default, Serialize)]
pub struct Metrics {
    pub interactions: usize,
    pub first_contact: Option<DateTime<Utc>>,
    pub last_contact: Option<DateTime<Utc>>,
    pub open_opportunities: usize,
    pub won_amount: f64,
    pub open_tickets: usize,
}

#[derive(Debug, Serialize)]
pub struct CustomerView {
    pub id: String,
    /// Set when the id asked for was merged into this customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_id: Option<String>,
    pub kind: String,
    pub name: Option<String>,
    pub golden: Golden,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<Summary>,
    pub people: Vec<Summary>,
    pub records: Vec<LinkedRecord>,
    pub metrics: Metrics,
    pub quality: Vec<QualityItem>,
    /// Attributes written back by analysts (`POST /v1/attributes`).
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Per golden field (and `consent.CHANNEL`): the source it came from
    /// with that source's declared purpose and lawful basis. Filled by the
    /// engine, which knows the configuration.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub purposes: std::collections::BTreeMap<String, serde_json::Value>,
    /// The parent account's organisation (Salesforce `ParentId`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<Summary>,
    /// Organisations whose parent this one is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Summary>,
    /// Counts over this organisation and every one below it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollup: Option<Rollup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QualityItem {
    pub record: String,
    pub field: String,
    pub reason: String,
}

const INTERACTIONS: &[RecordKind] = &[
    RecordKind::Note,
    RecordKind::Email,
    RecordKind::Ticket,
    RecordKind::Task,
    RecordKind::Event,
    RecordKind::Case,
];

/// Finds an entity by id, following merges: an id issued earlier resolves to
/// the entity that now holds its anchor record.
pub fn find_entity(store: &Store, id: &str) -> Result<Entity, CustomerError> {
    if let Some(entity) = store.entity(id)? {
        return Ok(entity);
    }
    let anchor = store
        .alias_anchor(id)?
        .ok_or_else(|| CustomerError::NotFound(id.to_string()))?;
    let assignment = store
        .assignment(&anchor)?
        .ok_or_else(|| CustomerError::NotFound(id.to_string()))?;
    let current = if id.starts_with("org_") {
        assignment.org_id
    } else {
        assignment.person_id
    };
    match current {
        Some(current) => store
            .entity(&current)?
            .ok_or_else(|| CustomerError::NotFound(id.to_string())),
        None => Err(CustomerError::NotFound(id.to_string())),
    }
}

/// The entity and the people under it (for an organisation).
fn with_people(store: &Store, entity: &Entity) -> Result<Vec<Entity>, CustomerError> {
    let mut all = Vec::new();
    for person in &entity.people {
        if let Some(p) = store.entity(person)? {
            all.push(p);
        }
    }
    Ok(all)
}

/// Every record linked to the customer (members and attachments, its people's
/// too), with the evidence that links it.
/// Every stored record of customer `id` (its own, its people's, what is
/// attached to them), in full: the records part of a subject-access export.
pub fn stored_records(store: &Store, id: &str) -> Result<Vec<Record>, CustomerError> {
    let entity = find_entity(store, id)?;
    Ok(linked(store, &entity)?
        .into_iter()
        .map(|(r, _)| r)
        .collect())
}

fn linked(store: &Store, entity: &Entity) -> Result<Vec<(Record, Member)>, CustomerError> {
    let mut out = Vec::new();
    let people = with_people(store, entity)?;
    for e in std::iter::once(entity).chain(people.iter()) {
        for m in e.members.iter().chain(e.attached.iter()) {
            if let Some(r) = store.get(&m.record)? {
                out.push((r, m.clone()));
            }
        }
    }
    Ok(out)
}

pub fn customer(store: &Store, id: &str) -> Result<CustomerView, CustomerError> {
    let entity = find_entity(store, id)?;
    let records = linked(store, &entity)?;
    let mut metrics = Metrics::default();
    let mut quality = Vec::new();
    for (r, _) in &records {
        count(&mut metrics, r);
        for issue in &r.quality {
            quality.push(QualityItem {
                record: r.id(),
                field: issue.field.clone(),
                reason: issue.reason.clone(),
            });
        }
    }
    let organization = match &entity.org_id {
        Some(org) => store.entity(org)?.map(|o| Summary {
            id: o.id.clone(),
            name: o.golden.value("name").map(str::to_string),
        }),
        None => None,
    };
    let (parent, children) = hierarchy::relatives(store, &entity)?;
    let people = with_people(store, &entity)?
        .iter()
        .map(|p| Summary {
            id: p.id.clone(),
            name: p.golden.value("name").map(str::to_string),
        })
        .collect();
    Ok(CustomerView {
        requested_id: (entity.id != id).then(|| id.to_string()),
        id: entity.id.clone(),
        kind: entity.kind.clone(),
        name: entity.golden.value("name").map(str::to_string),
        golden: entity.golden.clone(),
        organization,
        people,
        records: records
            .iter()
            .map(|(r, member)| LinkedRecord {
                id: r.id(),
                source: r.source.clone(),
                external_id: r.external_id.clone(),
                kind: r.kind.as_str().to_string(),
                title: r.title.clone().or_else(|| r.names.first().cloned()),
                evidence: member.evidence.clone(),
                matches: member.matches.clone(),
            })
            .collect(),
        metrics,
        quality,
        attributes: store.customer_attributes(&entity.id)?,
        purposes: Default::default(),
        parent,
        children,
        rollup: hierarchy::rollup(store, &entity)?,
    })
}

/// Adds one record to a customer's metrics.
fn count(metrics: &mut Metrics, r: &Record) {
    if INTERACTIONS.contains(&r.kind) {
        metrics.interactions += 1;
        if let Some(date) = r.created.or(r.updated) {
            metrics.first_contact = Some(metrics.first_contact.map_or(date, |d| d.min(date)));
            metrics.last_contact = Some(metrics.last_contact.map_or(date, |d| d.max(date)));
        }
    }
    let stage = r.stage.as_deref().unwrap_or("").to_lowercase();
    let closed = stage.contains("closed")
        || stage.contains("solved")
        || stage.contains("won")
        || stage.contains("lost");
    match r.kind {
        RecordKind::Opportunity if !closed => metrics.open_opportunities += 1,
        RecordKind::Opportunity if stage.contains("won") => {
            metrics.won_amount += r.amount.unwrap_or(0.0)
        }
        RecordKind::Ticket | RecordKind::Case if !closed => metrics.open_tickets += 1,
        _ => {}
    }
}

#[derive(Debug, Default)]
pub struct TimelineQuery {
    pub kind: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub cursor: usize,
    pub limit: usize,
}

#[derive(Debug, Serialize)]
pub struct Timeline {
    pub customer_id: String,
    pub items: Vec<Record>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub fn timeline(store: &Store, id: &str, q: &TimelineQuery) -> Result<Timeline, CustomerError> {
    let entity = find_entity(store, id)?;
    let mut items: Vec<Record> = linked(store, &entity)?
        .into_iter()
        .map(|(r, _)| r)
        .filter(|r| !matches!(r.kind, RecordKind::Person | RecordKind::Organization))
        .filter(|r| q.kind.as_deref().is_none_or(|k| r.kind.as_str() == k))
        .filter(|r| {
            let date = r.created.or(r.updated);
            q.from.is_none_or(|f| date.is_some_and(|d| d >= f))
                && q.to.is_none_or(|t| date.is_some_and(|d| d < t))
        })
        .collect();
    items.sort_by(|a, b| {
        b.created
            .or(b.updated)
            .cmp(&a.created.or(a.updated))
            .then(a.id().cmp(&b.id()))
    });
    let total = items.len();
    let page: Vec<Record> = items.into_iter().skip(q.cursor).take(q.limit).collect();
    let next = q.cursor + page.len();
    Ok(Timeline {
        customer_id: entity.id,
        items: page,
        next_cursor: (next < total).then(|| next.to_string()),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct IssueCount {
    pub source: String,
    pub field: String,
    pub count: usize,
    pub samples: Vec<QualityItem>,
}

#[derive(Debug, Serialize)]
pub struct QualityReport {
    pub suspected_duplicates: Vec<SuspectPair>,
    pub issues: Vec<IssueCount>,
    /// Interactions and transactions attached to no customer, per source
    /// and reason (`GET /v1/quality/unattached` lists them).
    pub unattached: Vec<UnattachedCount>,
    /// The m and u probabilities EM estimated at the last full resolution
    /// and each blocking rule's candidate pairs, when `[resolve] weights`
    /// is `estimate` or `estimated` (absent with hand weights).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<crate::resolve::ModelReport>,
}

/// The report around `issues` (as [`issue_counts`] counted them): the
/// suspects, unattached counts and model are read fresh, each one value.
pub fn quality_report(
    store: &Store,
    issues: Vec<IssueCount>,
) -> Result<QualityReport, CustomerError> {
    // The queue as `GET /v1/quality/duplicates` lists it: without the
    // pairs a steward kept apart since.
    let suspected_duplicates = duplicates::list(store, None, None, 0, usize::MAX)?.duplicates;
    Ok(QualityReport {
        suspected_duplicates,
        issues,
        unattached: unattached::counts(store)?,
        model: store.resolution_model()?,
    })
}

/// Quality issues counted by source and field, with samples, from the
/// flagged records ([`flagged::all_flagged`]).
pub fn issue_counts(
    store: &Store,
    flagged: &[FlaggedRecord],
) -> Result<Vec<IssueCount>, CustomerError> {
    let mut by_key: BTreeMap<(String, String), IssueCount> = BTreeMap::new();
    for r in flagged {
        // Phones read in the customer's country are no longer a problem.
        let phones_read = r.issues.iter().any(|q| q.field == "phones")
            && store
                .assignment(&r.record)?
                .is_some_and(|a| !a.phones.is_empty());
        for issue in r
            .issues
            .iter()
            .filter(|q| !(phones_read && q.field == "phones"))
        {
            let entry = by_key
                .entry((r.source.clone(), issue.field.clone()))
                .or_insert_with(|| IssueCount {
                    source: r.source.clone(),
                    field: issue.field.clone(),
                    count: 0,
                    samples: Vec::new(),
                });
            entry.count += 1;
            if entry.samples.len() < 3 {
                entry.samples.push(QualityItem {
                    record: r.record.clone(),
                    field: issue.field.clone(),
                    reason: issue.reason.clone(),
                });
            }
        }
    }
    Ok(by_key.into_values().collect())
}

/// One line per customer (organisations, and people without one) with its
/// golden record and member records, for analysts and resolution checks.
pub fn export_lines(store: &Store) -> Result<Vec<serde_json::Value>, CustomerError> {
    let mut out = Vec::new();
    for e in store.entities()? {
        if e.kind == "person" && e.org_id.is_some() {
            continue;
        }
        let people = with_people(store, &e)?;
        let mut members: Vec<serde_json::Value> = Vec::new();
        for x in std::iter::once(&e).chain(people.iter()) {
            for m in x.members.iter().chain(x.attached.iter()) {
                if let Some((source, external)) = m.record.split_once(':') {
                    members.push(serde_json::json!({ "source": source, "external_id": external, "entity": x.id }));
                }
            }
        }
        out.push(serde_json::json!({
            "customer_id": e.id, "kind": e.kind, "golden": e.golden, "people": e.people, "members": members,
        }));
    }
    Ok(out)
}

/// The record an id was issued for (even if that customer has since been
/// merged into another) and the entity's kind.
fn anchor_record(store: &Store, id: &str) -> Result<(String, String), CustomerError> {
    let entity = find_entity(store, id)?;
    let anchor = store.alias_anchor(id)?.unwrap_or(entity.anchor);
    if anchor.starts_with("company:") {
        // An organisation named only by its people: anchor on one of them.
        return Err(CustomerError::Invalid(format!(
            "customer `{id}` has no record of its own (it is named by its people); merge their organisation records instead"
        )));
    }
    Ok((anchor, entity.kind))
}

/// Records a steward merge of the given customers (all of one kind).
pub fn merge(store: &Store, ids: &[String]) -> Result<(), CustomerError> {
    if ids.len() < 2 {
        return Err(CustomerError::Invalid(
            "`ids` needs at least two customer ids".into(),
        ));
    }
    let anchors = ids
        .iter()
        .map(|id| anchor_record(store, id))
        .collect::<Result<Vec<_>, _>>()?;
    if anchors.iter().any(|(_, k)| *k != anchors[0].1) {
        return Err(CustomerError::Invalid(
            "cannot merge an organisation with a person".into(),
        ));
    }
    let mut overrides = store.overrides()?;
    for (other, _) in &anchors[1..] {
        let pair = (anchors[0].0.clone(), other.clone());
        overrides
            .never
            .retain(|(a, b)| !((*a == pair.0 && *b == pair.1) || (*a == pair.1 && *b == pair.0)));
        overrides.merges.push(pair);
    }
    store.set_overrides(&overrides)?;
    Ok(())
}

/// Records "never merge these customers": each pair of them, in one
/// change of the overrides (a steward's "different people" on a group of
/// namesakes is one decision).
pub fn never_merge(store: &Store, ids: &[String]) -> Result<(), CustomerError> {
    if ids.len() < 2 {
        return Err(CustomerError::Invalid(
            "`ids` needs at least two customer ids".into(),
        ));
    }
    let anchors = ids
        .iter()
        .map(|id| anchor_record(store, id).map(|(anchor, _)| anchor))
        .collect::<Result<Vec<_>, _>>()?;
    let mut overrides: Overrides = store.overrides()?;
    for (i, a) in anchors.iter().enumerate() {
        for b in &anchors[i + 1..] {
            if a == b {
                continue;
            }
            let same = |x: &String, y: &String| (x == a && y == b) || (x == b && y == a);
            overrides.merges.retain(|(x, y)| !same(x, y));
            if !overrides.never.iter().any(|(x, y)| same(x, y)) {
                overrides.never.push((a.clone(), b.clone()));
            }
        }
    }
    store.set_overrides(&overrides)?;
    Ok(())
}

/// Records that `records` must leave customer `id` and stand on their own.
pub fn split(store: &Store, id: &str, records: &[String]) -> Result<(), CustomerError> {
    if records.is_empty() {
        return Err(CustomerError::Invalid(
            "`records` needs at least one record id".into(),
        ));
    }
    let entity = find_entity(store, id)?;
    let people = with_people(store, &entity)?;
    let members: Vec<&str> = std::iter::once(&entity)
        .chain(people.iter())
        .flat_map(|e| e.members.iter().map(|m| m.record.as_str()))
        .collect();
    if let Some(stranger) = records.iter().find(|r| !members.contains(&r.as_str())) {
        return Err(CustomerError::Invalid(format!(
            "record `{stranger}` is not an organisation or person record of customer `{id}`"
        )));
    }
    let mut overrides = store.overrides()?;
    overrides
        .merges
        .retain(|(a, b)| !records.contains(a) && !records.contains(b));
    overrides.splits.push(records.to_vec());
    store.set_overrides(&overrides)?;
    Ok(())
}
