//! Pairwise precision, recall and F1 of a resolution against a book's truth,
//! for organisation records (same true company ↔ same organisation entity)
//! and person records (same true person ↔ same person entity), and the
//! worst false merges for a reader to look at.
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
    Quality {
        organisations: pairwise(orgs.into_iter()),
        people: pairwise(people.into_iter()),
        false_merges,
        missed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
