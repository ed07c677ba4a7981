//! The steward's queue of suspected duplicates: the pairs of customers the
//! last resolution scored between its review and link thresholds, most
//! likely first (the score, in bits, already weighs how rare the shared
//! name is), filtered by kind and score and paged.
//!
//! The grouped view (namesakes gathered one group per name) is built by
//! `duplicates_groups` and shown by `duplicates_view` from the same pairs.
//!
//! It must never change a resolution: merging or keeping apart is the
//! steward's call, through the merge and never-merge routes.

use std::collections::HashSet;

use serde::Serialize;

use super::CustomerError;
use crate::resolve::SuspectPair;
use crate::store::Store;

/// Which pairs to list: both customers organisations, or both people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateKind {
    Organization,
    Person,
}

impl DuplicateKind {
    /// `organization` or `person`, as the API and the CLI name them.
    pub fn named(name: &str) -> Option<DuplicateKind> {
        match name {
            "organization" => Some(DuplicateKind::Organization),
            "person" => Some(DuplicateKind::Person),
            _ => None,
        }
    }

    /// The entity id prefix of this kind (`resolve::entity_id`).
    fn prefix(self) -> &'static str {
        match self {
            DuplicateKind::Organization => "org_",
            DuplicateKind::Person => "per_",
        }
    }
}

/// One page of the queue.
#[derive(Debug, Serialize)]
pub struct DuplicatesPage {
    pub total: usize,
    pub duplicates: Vec<SuspectPair>,
}

/// Highest score first; equal scores by the pair's ids, so a page is
/// stable between two calls.
pub fn most_likely_first(pairs: &mut [SuspectPair]) {
    pairs.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then_with(|| x.a.cmp(&y.a))
            .then_with(|| x.b.cmp(&y.b))
    });
}

/// The suspect pairs of `kind` scoring at least `min_score`, without
/// those a steward kept apart since (a never-merge settles a pair even
/// though the resolver still scores it), most likely first.
pub(super) fn queue(
    store: &Store,
    kind: Option<DuplicateKind>,
    min_score: Option<f64>,
) -> Result<Vec<SuspectPair>, CustomerError> {
    let apart = kept_apart(store)?;
    let mut pairs: Vec<SuspectPair> = store
        .suspects()?
        .into_iter()
        .filter(|p| kind.is_none_or(|k| p.a.starts_with(k.prefix()) && p.b.starts_with(k.prefix())))
        .filter(|p| min_score.is_none_or(|m| p.score >= m))
        .filter(|p| !apart.contains(&(p.a.clone(), p.b.clone())))
        .collect();
    most_likely_first(&mut pairs);
    Ok(pairs)
}

pub fn list(
    store: &Store,
    kind: Option<DuplicateKind>,
    min_score: Option<f64>,
    offset: usize,
    limit: usize,
) -> Result<DuplicatesPage, CustomerError> {
    let pairs = queue(store, kind, min_score)?;
    let total = pairs.len();
    Ok(DuplicatesPage {
        total,
        duplicates: pairs.into_iter().skip(offset).take(limit).collect(),
    })
}

/// The entity pairs a steward kept apart (never-merge overrides name
/// records; each is looked up in the entity now holding it).
fn kept_apart(store: &Store) -> Result<HashSet<(String, String)>, CustomerError> {
    let overrides = store.overrides()?;
    let mut out = HashSet::new();
    let entity_of = |record: &str| -> Result<Option<String>, CustomerError> {
        Ok(store
            .assignment(record)?
            .and_then(|a| a.person_id.or(a.org_id)))
    };
    for (x, y) in &overrides.never {
        if let (Some(a), Some(b)) = (entity_of(x)?, entity_of(y)?) {
            out.insert((a.clone(), b.clone()));
            out.insert((b, a));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: &str, b: &str, score: f64) -> SuspectPair {
        SuspectPair {
            a: a.into(),
            b: b.into(),
            score,
            evidence: String::new(),
        }
    }

    #[test]
    fn the_most_likely_pairs_come_first_and_ties_keep_one_order() {
        let mut pairs = vec![
            pair("per_b", "per_c", 5.4),
            pair("org_a", "org_b", 6.0),
            pair("per_a", "per_d", 5.4),
            pair("per_x", "per_y", 8.0),
        ];
        most_likely_first(&mut pairs);
        let order: Vec<(&str, f64)> = pairs.iter().map(|p| (p.a.as_str(), p.score)).collect();
        assert_eq!(
            order,
            [
                ("per_x", 8.0),
                ("org_a", 6.0),
                ("per_a", 5.4),
                ("per_b", 5.4)
            ]
        );
    }
}
