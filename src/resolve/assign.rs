//! The last phase of a resolution: each record's assignment (its customer,
//! person, organisation, the customer's golden name and country, search
//! keys and consent), made from the entities once they are built. It needs
//! nothing of the book but what [`Staged`] carries, so a full pass can free
//! the book before the largest table of the answer is made.
//!
//! It must never change what a record is assigned to: it only copies what
//! `Graph::build` decided.

use std::collections::HashMap;

use super::{Assignment, ByRoot, Entity, ModelReport, Resolution, SuspectPair, Unattached, attach};
use crate::record::consent;

/// How many entities' search keys [`Staged::assign`] keeps at once.
const SEARCH_KEYS_CACHED: usize = 16_384;
/// Below this many slots the pending vector is not worth shrinking.
const PENDING_SHRUNK_FROM: usize = 4_096;

/// The customer a source declared for the records of a cluster (a warehouse
/// export with its own customer key), taken at its word.
pub(super) struct Declared {
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub customer_kind: Option<String>,
    pub customer_country: Option<String>,
}

/// One record to assign, with what the book said of it.
pub(super) struct Pending {
    pub record: String,
    pub entity_root: usize,
    pub evidence: Vec<String>,
    pub owner: Option<String>,
    /// Its phones read in its customer's country (`attach::phones_in`).
    pub phones: Vec<String>,
}

/// Everything `Graph::build` decided, before the assignments are made.
pub(super) struct Staged {
    pub entities: ByRoot<Entity>,
    /// Each person root's organisation root.
    pub person_org: HashMap<usize, usize>,
    /// By customer root.
    pub declared: HashMap<usize, Declared>,
    /// In the order the assignments are made (a later one for the same
    /// record replaces an earlier one).
    pub pending: Vec<Pending>,
    /// Records that land on no customer but show their owner's name.
    pub owners: Vec<(String, String)>,
    pub unattached: Vec<Unattached>,
    pub suspects: Vec<SuspectPair>,
    pub model: ModelReport,
}

/// The customer root of the entity at `entity_root`, and its organisation
/// root (none for a person without an organisation).
pub(super) fn customer_of(
    entity: &Entity,
    entity_root: usize,
    person_org: &HashMap<usize, usize>,
) -> (usize, Option<usize>) {
    let org_root = if entity.kind == "person" {
        person_org.get(&entity_root).copied()
    } else {
        Some(entity_root)
    };
    (org_root.unwrap_or(entity_root), org_root)
}

impl Staged {
    /// Makes every record's assignment and hands back the resolution.
    pub(super) fn assign(self) -> Resolution {
        let span = tracing::info_span!("assign", records = self.pending.len());
        let _entered = span.enter();
        let Staged {
            mut entities,
            person_org,
            declared,
            pending,
            owners,
            unattached,
            suspects,
            model,
        } = self;
        // Sized once: growing the table would hold its old and new buckets
        // at once (a million assignments' table is some 600 MB).
        let mut assignments: HashMap<String, Assignment> =
            HashMap::with_capacity(pending.len() + owners.len());
        // A customer's search keys (and its person's) are the same for each
        // of its records: computed once per pair of entities, not per record
        // (they were a third of a large book's resolution). Bounded: the
        // records of one entity mostly come together.
        let mut keys_of: HashMap<(usize, Option<usize>), Vec<String>> = HashMap::new();
        // Taken from the back, the vector shrunk as it empties, so its
        // buffer (some 100 bytes a record) is given back while the table
        // fills rather than held beside the full table; the first taken of
        // a record is the last made, which wins as it did in order.
        let mut pending = pending;
        while let Some(p) = pending.pop() {
            if pending.capacity() > PENDING_SHRUNK_FROM && pending.len() < pending.capacity() / 2 {
                pending.shrink_to_fit();
            }
            let Some(entity) = entities.get(&p.entity_root) else {
                continue;
            };
            let person_id = (entity.kind == "person").then(|| entity.id.clone());
            let (customer_root, org_root) = customer_of(entity, p.entity_root, &person_org);
            let customer = entities.get(&customer_root).unwrap_or(entity);
            let mut assignment = Assignment {
                customer_id: Some(customer.id.clone()),
                person_id,
                org_id: org_root
                    .and_then(|o| entities.get(&o))
                    .map(|o| o.id.clone()),
                customer_name: customer.golden.value("name").map(str::to_string),
                customer_kind: Some(customer.kind.clone()),
                customer_country: customer.golden.value("country").map(str::to_string),
                evidence: p.evidence,
                owner: p.owner,
                phones: p.phones,
                search_keys: {
                    let person = (entity.kind == "person").then_some(entity);
                    let key = (customer_root, person.map(|_| p.entity_root));
                    if keys_of.len() > SEARCH_KEYS_CACHED && !keys_of.contains_key(&key) {
                        keys_of.clear();
                    }
                    keys_of
                        .entry(key)
                        .or_insert_with(|| attach::search_keys(customer, person))
                        .clone()
                },
                consent: consent::terms(&entity.golden.consent),
            };
            if let Some(d) = declared.get(&customer_root) {
                assignment.customer_id = d.customer_id.clone();
                assignment.customer_name = d.customer_name.clone();
                assignment.customer_kind = d.customer_kind.clone();
                assignment.customer_country = d.customer_country.clone();
            }
            assignments.entry(p.record).or_insert(assignment);
        }
        // A record that lands on no customer still shows its owner's name.
        for (record, name) in owners {
            assignments.entry(record).or_insert_with(|| Assignment {
                owner: Some(name),
                ..Assignment::default()
            });
        }
        for e in entities.values_mut() {
            e.attached.shrink_to_fit();
            e.people.shrink_to_fit();
        }
        Resolution {
            assignments,
            entities: entities.into_values().collect(),
            suspects,
            unattached,
            model,
        }
    }
}
