//! The steward's queue as items a steward can decide: a suspect pair with
//! evidence beyond a shared name stays a pair; the pairs whose only
//! evidence is an exact name are gathered into one group per name ("N
//! customers named X — one person?"), so that a book's namesakes take one
//! decision each instead of one per pair. Items are ranked on one scale,
//! most likely to hold a true duplicate first.
//!
//! It must never read or change the store: it orders what it is given.

use std::collections::BTreeMap;

use super::duplicates_evidence::{Basis, basis};
use crate::resolve::SuspectPair;

/// The customers sharing one exact name, and the suspect pairs between
/// them that rest on the name alone.
#[derive(Debug, Clone)]
pub struct NameGroup {
    /// The name as its first pair's first record writes it.
    pub name: String,
    /// What the exact name weighs, in bits (the most any of its pairs
    /// gave it: the resolver already weighs a rare name above a common one).
    pub name_bits: f64,
    /// The customers, in id order.
    pub customers: Vec<String>,
    /// Its pairs, most likely first.
    pub pairs: Vec<SuspectPair>,
}

impl NameGroup {
    /// The group's place in the queue: the name's bits, less log2(N − 1)
    /// for N customers. A record of a group of N has N − 1 candidates for
    /// its other self, so a name borne by many customers is that much less
    /// likely to mark any one duplicate; a group of two ranks as its pair.
    pub fn score(&self) -> f64 {
        let others = self.customers.len().saturating_sub(1).max(1) as f64;
        self.name_bits - others.log2()
    }
}

/// One thing for a steward to decide.
#[derive(Debug, Clone)]
pub enum Item {
    Pair(SuspectPair),
    NameGroup(NameGroup),
}

impl Item {
    pub fn score(&self) -> f64 {
        match self {
            Item::Pair(p) => p.score,
            Item::NameGroup(g) => g.score(),
        }
    }

    /// A stable key for equal scores: the pair's ids, or the group's first
    /// customer.
    fn key(&self) -> (&str, &str) {
        match self {
            Item::Pair(p) => (p.a.as_str(), p.b.as_str()),
            Item::NameGroup(g) => (
                g.customers.first().map_or("", String::as_str),
                g.name.as_str(),
            ),
        }
    }
}

/// The name a group is gathered under: case, spacing and the kind (an
/// organisation and a person of one name are two groups) folded.
fn group_key(a: &str, name: &str) -> (String, String) {
    let kind = a.split('_').next().unwrap_or_default().to_string();
    let folded = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (kind, folded)
}

/// The queue's items, most likely first (equal scores in a stable order).
pub fn items(pairs: Vec<SuspectPair>) -> Vec<Item> {
    let mut out = Vec::new();
    let mut groups: BTreeMap<(String, String), NameGroup> = BTreeMap::new();
    for pair in pairs {
        match basis(&pair.evidence) {
            Basis::Beyond => out.push(Item::Pair(pair)),
            Basis::NameOnly { name, bits } => {
                let group = groups
                    .entry(group_key(&pair.a, &name))
                    .or_insert_with(|| NameGroup {
                        name,
                        name_bits: bits,
                        customers: Vec::new(),
                        pairs: Vec::new(),
                    });
                group.name_bits = group.name_bits.max(bits);
                group.customers.extend([pair.a.clone(), pair.b.clone()]);
                group.pairs.push(pair);
            }
        }
    }
    for mut group in groups.into_values() {
        group.customers.sort_unstable();
        group.customers.dedup();
        super::duplicates::most_likely_first(&mut group.pairs);
        out.push(Item::NameGroup(group));
    }
    out.sort_by(|x, y| {
        y.score()
            .total_cmp(&x.score())
            .then_with(|| x.key().cmp(&y.key()))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: &str, b: &str, name: &str, waterfall: &str) -> SuspectPair {
        let total = waterfall
            .rsplit_once(" = ")
            .and_then(|(_, t)| t.parse().ok())
            .unwrap_or(0.0);
        SuspectPair {
            a: a.into(),
            b: b.into(),
            score: total,
            evidence: format!(
                "below the link threshold: \"{name}\" (crm:{a}) ~ \"{name}\" (crm:{b}): {waterfall}"
            ),
        }
    }

    fn shape(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Pair(p) => format!("pair {}~{} {:.1}", p.a, p.b, p.score),
                Item::NameGroup(g) => format!(
                    "group {} {} {:.1}",
                    g.name,
                    g.customers.join(","),
                    g.score()
                ),
            })
            .collect()
    }

    #[test]
    fn namesakes_gather_into_one_group_and_other_pairs_stay_pairs() {
        let items = items(vec![
            pair("per_1", "per_2", "Carlos Johnson", "name exact +5.0 = 5.0"),
            pair("per_2", "per_3", "Carlos Johnson", "name exact +5.0 = 5.0"),
            pair("per_1", "per_3", "carlos  JOHNSON", "name exact +5.0 = 5.0"),
            pair(
                "per_1",
                "per_4",
                "Carlos Johnson",
                "name exact +5.0, email shared +12.0, organisation different -6.0 = 11.0",
            ),
            pair(
                "per_5",
                "per_6",
                "Ottilie Zwicklbauer",
                "name exact +8.0 = 8.0",
            ),
            pair("org_1", "org_2", "Carlos Johnson", "name exact +7.0 = 7.0"),
        ]);
        assert_eq!(
            shape(&items),
            [
                "pair per_1~per_4 11.0",
                "group Ottilie Zwicklbauer per_5,per_6 8.0",
                "group Carlos Johnson org_1,org_2 7.0",
                // Three customers: log2(2) = 1 bit below the name's 5.
                "group Carlos Johnson per_1,per_2,per_3 4.0",
            ]
        );
        let Item::NameGroup(group) = &items[3] else {
            panic!("{items:?}")
        };
        assert_eq!(group.pairs.len(), 3, "each pair of namesakes is held");
    }

    #[test]
    fn a_large_group_of_a_common_name_ranks_below_a_small_one() {
        let mut pairs = Vec::new();
        for i in 0..9 {
            for j in i + 1..9 {
                pairs.push(pair(
                    &format!("per_a{i}"),
                    &format!("per_a{j}"),
                    "John Smith",
                    "name exact +5.0 = 5.0",
                ));
            }
        }
        pairs.push(pair(
            "per_b1",
            "per_b2",
            "Anna Kowal",
            "name exact +5.0 = 5.0",
        ));
        let items = items(pairs);
        let names: Vec<String> = shape(&items);
        assert_eq!(
            names,
            [
                "group Anna Kowal per_b1,per_b2 5.0",
                "group John Smith per_a0,per_a1,per_a2,per_a3,per_a4,per_a5,per_a6,per_a7,per_a8 2.0",
            ]
        );
    }

    #[test]
    fn equal_scores_keep_one_order() {
        let make = || {
            items(vec![
                pair(
                    "per_9",
                    "per_8",
                    "B",
                    "name exact +5.0, city same +2.0 = 7.0",
                ),
                pair("per_1", "per_2", "A", "name exact +7.0 = 7.0"),
                pair(
                    "per_3",
                    "per_4",
                    "C",
                    "name exact +5.0, city same +2.0 = 7.0",
                ),
            ])
        };
        let first = shape(&make());
        assert_eq!(
            first,
            [
                "group A per_1,per_2 7.0",
                "pair per_3~per_4 7.0",
                "pair per_9~per_8 7.0"
            ]
        );
        assert_eq!(shape(&make()), first);
    }
}
