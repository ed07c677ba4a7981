//! Pairwise precision, recall and F1 of a resolution against a book's truth,
//! for organisation records (same true company ↔ same organisation entity)
//! and person records (same true person ↔ same person entity), the worst
//! false merges for a reader to look at, and what the steward's queue of
//! suspected duplicates holds (true duplicates or look-alikes, and how many
//! of the resolver's splits it shows).
//!
//! Counting is by cluster sizes (pairs = n·(n−1)/2 per cell), so it is linear
//! in the records, never quadratic.

use std::collections::HashMap;

use serde::Serialize;

use super::Book;
use crate::record::RecordKind;
use crate::resolve::Resolution;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Pairwise {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub true_pairs: u64,
    pub predicted_pairs: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quality {
    pub organisations: Pairwise,
    pub people: Pairwise,
    /// Predicted entities holding records of more than one true entity:
    /// (entity id, number of true entities, record names).
    pub false_merges: Vec<(String, usize, Vec<String>)>,
    /// True companies whose records were left in several entities:
    /// (company number, number of entities, record descriptions).
    pub missed: Vec<(usize, usize, Vec<String>)>,
    pub suspects: SuspectQueue,
}

/// The suspected-duplicates queue against the truth.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SuspectQueue {
    /// Every suspected pair.
    pub pairs: usize,
    pub organisations: QueueShare,
    pub people: QueueShare,
}

/// The queue's pairs of one kind of entity (an entity's truth is the one
/// most of its records have).
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueShare {
    /// Pairs of two entities of this kind.
    pub pairs: usize,
    /// ... of one true company or person: a steward merges them.
    pub same: usize,
    /// Pairs of entities the resolver left one true company or person
    /// split into.
    pub split_pairs: usize,
    /// ... of which the queue lists.
    pub split_pairs_listed: usize,
    /// The evidence of the first look-alike pairs (up to 10).
    pub look_alike_examples: Vec<String>,
    /// The same pairs as the items a steward decides (`GET
    /// /v1/quality/duplicates?view=grouped`).
    pub items: QueueItems,
}

/// The queue as items: pairs with evidence beyond a name, and one group
/// per name that namesakes share and nothing else.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueItems {
    /// Items a steward reads (pair items and name groups).
    pub items: usize,
    pub pair_items: usize,
    /// Pair items of one true company or person.
    pub pair_items_same: usize,
    pub name_groups: usize,
    /// Name groups holding at least one pair of one true company or person.
    pub name_groups_with_same: usize,
    /// Pairs inside name groups ...
    pub group_pairs: usize,
    /// ... of one true company or person (to merge out of the group) ...
    pub group_pairs_same: usize,
    /// ... and look-alikes: pairs a group's "different" settles at once.
    pub group_pairs_look_alike: usize,
    /// How many true duplicates the first 20, 50, 100 and 200 items (and
    /// pairs of the plain list) hold.
    pub firsts: Vec<FirstN>,
}

/// What a steward reading the first `n` items (or pairs) meets.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FirstN {
    pub n: usize,
    /// Items holding at least one pair of one true company or person.
    pub items_with_same: usize,
    /// Pairs of one true company or person those items hold (every pair
    /// inside a group counts: a steward sees them together).
    pub items_same_pairs: usize,
    /// Pairs of one true company or person among the first `n` pairs of
    /// the plain list (`view=pairs`).
    pub pairs_same: usize,
}

/// The depths the queue report counts at.
pub const FIRSTS: [usize; 4] = [20, 50, 100, 200];

/// Counts `listed` (this kind's pairs, most likely first) as items ranked
/// with `profiles`.
fn queue_items(
    listed: Vec<crate::resolve::SuspectPair>,
    profiles: &crate::customers::DuplicateProfiles,
    same: impl Fn(&str, &str) -> bool,
) -> QueueItems {
    use crate::customers::{DuplicateItem, duplicate_items};
    let mut q = QueueItems::default();
    let mut firsts: Vec<FirstN> = FIRSTS
        .iter()
        .map(|&n| FirstN {
            n,
            pairs_same: listed.iter().take(n).filter(|p| same(&p.a, &p.b)).count(),
            ..FirstN::default()
        })
        .collect();
    for (n, item) in duplicate_items(listed, profiles).into_iter().enumerate() {
        q.items += 1;
        let same_pairs = match &item {
            DuplicateItem::Pair(p) => {
                q.pair_items += 1;
                let s = usize::from(same(&p.pair.a, &p.pair.b));
                q.pair_items_same += s;
                s
            }
            DuplicateItem::NameGroup(g) => {
                q.name_groups += 1;
                q.group_pairs += g.pairs.len();
                let inside = g
                    .pairs
                    .iter()
                    .filter(|p| same(&p.pair.a, &p.pair.b))
                    .count();
                q.group_pairs_same += inside;
                q.group_pairs_look_alike += g.pairs.len() - inside;
                q.name_groups_with_same += usize::from(inside > 0);
                inside
            }
        };
        for first in firsts.iter_mut().filter(|f| n < f.n && same_pairs > 0) {
            first.items_with_same += 1;
            first.items_same_pairs += same_pairs;
        }
    }
    q.firsts = firsts;
    q
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Pairwise scores of `(truth, predicted)` labels.
pub fn pairwise<T: std::hash::Hash + Eq, P: std::hash::Hash + Eq>(
    labels: impl Iterator<Item = (T, P)>,
) -> Pairwise {
    let mut cells: HashMap<(T, P), u64> = HashMap::new();
    for (t, p) in labels {
        *cells.entry((t, p)).or_default() += 1;
    }
    let mut by_truth: HashMap<&T, u64> = HashMap::new();
    let mut by_prediction: HashMap<&P, u64> = HashMap::new();
    let mut both = 0;
    for ((t, p), n) in &cells {
        *by_truth.entry(t).or_default() += n;
        *by_prediction.entry(p).or_default() += n;
        both += pairs(*n);
    }
    let true_pairs: u64 = by_truth.values().map(|&n| pairs(n)).sum();
    let predicted_pairs: u64 = by_prediction.values().map(|&n| pairs(n)).sum();
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let precision = ratio(both, predicted_pairs);
    let recall = ratio(both, true_pairs);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Pairwise {
        precision,
        recall,
        f1,
        true_pairs,
        predicted_pairs,
    }
}

/// Compares `resolution` with the truth `book` was made with.
pub fn quality(book: &Book, resolution: &Resolution) -> Quality {
    let mut orgs = Vec::new();
    let mut people = Vec::new();
    let mut members: HashMap<String, Vec<(usize, String)>> = HashMap::new();
    let mut person_members: HashMap<String, Vec<usize>> = HashMap::new();
    for r in &book.records {
        let id = r.id();
        let (Some(truth), Some(assigned)) = (book.truth.get(&id), resolution.assignments.get(&id))
        else {
            continue;
        };
        match r.kind {
            RecordKind::Organization => {
                let predicted = assigned.org_id.clone().or(assigned.customer_id.clone());
                let predicted = predicted.unwrap_or_else(|| id.clone());
                let described = format!(
                    "{} {id} {{{}}} <{}>",
                    r.names.first().map_or("", String::as_str),
                    [
                        r.websites.join(","),
                        r.phones.join(","),
                        r.address.city.clone().unwrap_or_default()
                    ]
                    .join(" "),
                    assigned.evidence.join("; ")
                );
                members
                    .entry(predicted.clone())
                    .or_default()
                    .push((truth.org, described));
                orgs.push((truth.org, predicted));
            }
            RecordKind::Person => {
                let predicted = assigned.person_id.clone().unwrap_or_else(|| id.clone());
                if let Some(person) = truth.person {
                    person_members
                        .entry(predicted.clone())
                        .or_default()
                        .push(person);
                }
                people.push((truth.person, predicted));
            }
            _ => {}
        }
    }
    let mut false_merges: Vec<(String, usize, Vec<String>)> = members
        .clone()
        .into_iter()
        .filter_map(|(entity, records)| {
            let mut truths: Vec<usize> = records.iter().map(|(t, _)| *t).collect();
            truths.sort_unstable();
            truths.dedup();
            (truths.len() > 1).then(|| {
                let names = records
                    .into_iter()
                    .map(|(t, n)| format!("{n} [{t}]"))
                    .collect();
                (entity, truths.len(), names)
            })
        })
        .collect();
    false_merges.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    false_merges.truncate(20);
    let mut by_company: HashMap<usize, Vec<(String, String)>> = HashMap::new();
    for (entity, records) in &members {
        for (truth, described) in records {
            by_company
                .entry(*truth)
                .or_default()
                .push((entity.clone(), described.clone()));
        }
    }
    let mut missed: Vec<(usize, usize, Vec<String>)> = by_company
        .into_iter()
        .filter_map(|(company, records)| {
            let mut entities: Vec<String> = records.iter().map(|(e, _)| e.clone()).collect();
            entities.sort_unstable();
            entities.dedup();
            (entities.len() > 1).then(|| {
                let n = entities.len();
                (company, n, records.into_iter().map(|(_, d)| d).collect())
            })
        })
        .collect();
    missed.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    missed.truncate(20);
    let org_members: HashMap<String, Vec<usize>> = members
        .iter()
        .map(|(entity, records)| (entity.clone(), records.iter().map(|(t, _)| *t).collect()))
        .collect();
    let profiles: crate::customers::DuplicateProfiles = resolution
        .entities
        .iter()
        .map(|e| (e.id.clone(), crate::customers::DuplicateProfile::of(e)))
        .collect();
    let suspects = SuspectQueue {
        pairs: resolution.suspects.len(),
        organisations: queue_share(&org_members, resolution, &profiles),
        people: queue_share(&person_members, resolution, &profiles),
    };
    Quality {
        organisations: pairwise(orgs.into_iter()),
        people: pairwise(people.into_iter()),
        false_merges,
        missed,
        suspects,
    }
}

/// Scores the suspects queue's pairs between entities of `members`
/// (entity → the truth of each of its records).
fn queue_share(
    members: &HashMap<String, Vec<usize>>,
    resolution: &Resolution,
    profiles: &crate::customers::DuplicateProfiles,
) -> QueueShare {
    let truth_of: HashMap<&str, usize> = members
        .iter()
        .filter_map(|(entity, truths)| {
            let mut votes: HashMap<usize, usize> = HashMap::new();
            for truth in truths {
                *votes.entry(*truth).or_default() += 1;
            }
            let best = votes
                .into_iter()
                .max_by_key(|&(truth, n)| (n, std::cmp::Reverse(truth)))?;
            Some((entity.as_str(), best.0))
        })
        .collect();
    let mut entities_of: HashMap<usize, Vec<&str>> = HashMap::new();
    for (entity, truth) in &truth_of {
        entities_of.entry(*truth).or_default().push(entity);
    }
    let unordered = |a: &str, b: &str| {
        if a < b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        }
    };
    let mut split: std::collections::HashSet<(String, String)> = Default::default();
    for entities in entities_of.values() {
        for (i, a) in entities.iter().enumerate() {
            for b in &entities[i + 1..] {
                split.insert(unordered(a, b));
            }
        }
    }
    let mut share = QueueShare {
        split_pairs: split.len(),
        ..QueueShare::default()
    };
    let mut listed = Vec::new();
    for pair in &resolution.suspects {
        let (Some(a), Some(b)) = (truth_of.get(pair.a.as_str()), truth_of.get(pair.b.as_str()))
        else {
            continue;
        };
        listed.push(pair.clone());
        share.pairs += 1;
        if a == b {
            share.same += 1;
        } else if share.look_alike_examples.len() < 10 {
            share
                .look_alike_examples
                .push(format!("{:.1}: {}", pair.score, pair.evidence));
        }
        if split.contains(&unordered(&pair.a, &pair.b)) {
            share.split_pairs_listed += 1;
        }
    }
    crate::customers::most_likely_first(&mut listed);
    let same = |a: &str, b: &str| truth_of.get(a).is_some_and(|t| truth_of.get(b) == Some(t));
    share.items = queue_items(listed, profiles, same);
    share
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_scored_by_each_entitys_majority_truth() {
        let members: HashMap<String, Vec<usize>> = [
            ("e1".to_string(), vec![1, 1, 2]),
            ("e2".to_string(), vec![1]),
            ("e3".to_string(), vec![3]),
            ("e4".to_string(), vec![1]),
        ]
        .into_iter()
        .collect();
        let mut resolution = Resolution::default();
        for (a, b) in [("e2", "e1"), ("e1", "e3"), ("e1", "p9")] {
            resolution.suspects.push(crate::resolve::SuspectPair {
                a: a.into(),
                b: b.into(),
                score: 5.0,
                evidence: format!("{a} ~ {b}"),
            });
        }
        let share = queue_share(&members, &resolution, &Default::default());
        assert_eq!(share.pairs, 2, "p9 is not an entity of this kind");
        assert_eq!(share.same, 1);
        assert_eq!(share.look_alike_examples, vec!["5.0: e1 ~ e3".to_string()]);
        // Company 1 is split over e1, e2 and e4: three pairs, one listed.
        assert_eq!((share.split_pairs, share.split_pairs_listed), (3, 1));
    }

    #[test]
    fn pairwise_counts_pairs_by_cells() {
        // Truth {a,a,b}; predicted all one: 1 true pair found of 3 predicted.
        let p = pairwise([("a", 1), ("a", 1), ("b", 1)].into_iter());
        assert_eq!((p.true_pairs, p.predicted_pairs), (1, 3));
        assert!((p.precision - 1.0 / 3.0).abs() < 1e-9);
        assert!((p.recall - 1.0).abs() < 1e-9);
        let split = pairwise([("a", 1), ("a", 2)].into_iter());
        assert_eq!(split.recall, 0.0);
        assert_eq!(split.precision, 1.0);
    }
}
