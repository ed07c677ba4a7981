//! The steward's queue as items a steward can decide: a suspect pair with
//! evidence beyond a shared name stays a pair; the pairs whose only
//! evidence is an exact name are gathered into one group per name ("N
//! customers named X — one person?"), so that a book's namesakes take one
//! decision each instead of one per pair. Items are ranked on one scale
//! (`duplicates_rank`), most likely to hold a true duplicate first: a pair
//! by its rank, a group by its likeliest pair's less what its size costs;
//! inside a group, pairs and customers come likeliest first.
//!
//! It must never read or change the store: it orders what it is given.

use std::collections::BTreeMap;

use super::duplicates_evidence::{Basis, basis};
use super::duplicates_rank::{Profiles, Ranked, namesakes, rank_pair};
use crate::resolve::SuspectPair;

/// A suspect pair and its rank.
#[derive(Debug, Clone)]
pub struct RankedPair {
    pub pair: SuspectPair,
    pub rank: f64,
    /// The evidence behind the rank (`duplicates_rank::Ranked::why`).
    pub why: String,
}

impl RankedPair {
    fn new(pair: SuspectPair, profiles: &Profiles) -> RankedPair {
        let Ranked { rank, why } = rank_pair(&pair, profiles);
        RankedPair { pair, rank, why }
    }
}

/// Highest rank first; equal ranks by the pair's ids.
fn likeliest_first(pairs: &mut [RankedPair]) {
    pairs.sort_by(|x, y| {
        y.rank
            .total_cmp(&x.rank)
            .then_with(|| x.pair.a.cmp(&y.pair.a))
            .then_with(|| x.pair.b.cmp(&y.pair.b))
    });
}

/// The customers sharing one exact name, and the suspect pairs between
/// them that rest on the name alone.
#[derive(Debug, Clone)]
pub struct NameGroup {
    /// The name as its first pair's first record writes it.
    pub name: String,
    /// What the exact name weighs, in bits (the most any of its pairs
    /// gave it: the resolver already weighs a rare name above a common one).
    pub name_bits: f64,
    /// The customers: the likeliest pair's two first, then each by its
    /// likeliest pair, then by id.
    pub customers: Vec<String>,
    /// Its pairs, likeliest first.
    pub pairs: Vec<RankedPair>,
}

impl NameGroup {
    /// The group's place in the queue: its likeliest pair's rank, less
    /// half a bit per doubling of the customers beyond two
    /// (`duplicates_rank::namesakes`).
    pub fn rank(&self) -> f64 {
        self.pairs.first().map_or(self.name_bits, |p| p.rank) + namesakes(self.customers.len())
    }

    /// Why it ranks there: its likeliest pair's evidence, and its size.
    pub fn why(&self) -> String {
        let best = self.pairs.first().map_or_else(String::new, |p| {
            format!("likeliest pair {} ~ {}: {}", p.pair.a, p.pair.b, p.why)
        });
        let size = namesakes(self.customers.len());
        if size == 0.0 {
            best
        } else {
            format!(
                "{best}; {} customers of this name {size:+.1} = {:.1}",
                self.customers.len(),
                self.rank()
            )
        }
    }

    /// Orders its pairs and customers likeliest first.
    fn settle(&mut self) {
        likeliest_first(&mut self.pairs);
        let mut order: Vec<String> = Vec::new();
        for p in &self.pairs {
            for id in [&p.pair.a, &p.pair.b] {
                if !order.contains(id) {
                    order.push(id.clone());
                }
            }
        }
        self.customers = order;
    }
}

/// One thing for a steward to decide.
#[derive(Debug, Clone)]
pub enum Item {
    Pair(RankedPair),
    NameGroup(NameGroup),
}

impl Item {
    /// Where it stands in the queue, in bits.
    pub fn rank(&self) -> f64 {
        match self {
            Item::Pair(p) => p.rank,
            Item::NameGroup(g) => g.rank(),
        }
    }

    /// The evidence behind its rank.
    pub fn why(&self) -> String {
        match self {
            Item::Pair(p) => p.why.clone(),
            Item::NameGroup(g) => g.why(),
        }
    }

    /// A stable key for equal ranks: the pair's ids, or the group's
    /// likeliest pair's.
    fn key(&self) -> (&str, &str) {
        match self {
            Item::Pair(p) => (p.pair.a.as_str(), p.pair.b.as_str()),
            Item::NameGroup(g) => g.pairs.first().map_or(("", g.name.as_str()), |p| {
                (p.pair.a.as_str(), p.pair.b.as_str())
            }),
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

/// The queue's items, likeliest first (equal ranks in a stable order),
/// ranked with what `profiles` holds of each customer.
pub fn items(pairs: Vec<SuspectPair>, profiles: &Profiles) -> Vec<Item> {
    let mut out = Vec::new();
    let mut groups: BTreeMap<(String, String), NameGroup> = BTreeMap::new();
    for pair in pairs {
        match basis(&pair.evidence) {
            Basis::Beyond => out.push(Item::Pair(RankedPair::new(pair, profiles))),
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
                group.pairs.push(RankedPair::new(pair, profiles));
            }
        }
    }
    for mut group in groups.into_values() {
        group.settle();
        out.push(Item::NameGroup(group));
    }
    out.sort_by(|x, y| {
        y.rank()
            .total_cmp(&x.rank())
            .then_with(|| x.key().cmp(&y.key()))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::duplicates_rank::Profile;

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
                Item::Pair(p) => format!("pair {}~{} {:.1}", p.pair.a, p.pair.b, p.rank),
                Item::NameGroup(g) => {
                    format!("group {} {} {:.1}", g.name, g.customers.join(","), g.rank())
                }
            })
            .collect()
    }

    #[test]
    fn namesakes_gather_into_one_group_and_other_pairs_stay_pairs() {
        let items = items(
            vec![
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
            ],
            &Profiles::new(),
        );
        assert_eq!(
            shape(&items),
            [
                "pair per_1~per_4 11.0",
                "group Ottilie Zwicklbauer per_5,per_6 8.0",
                "group Carlos Johnson org_1,org_2 7.0",
                // Three customers: half of log2(2) below the name's 5.
                "group Carlos Johnson per_1,per_2,per_3 4.5",
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
        let items = items(pairs, &Profiles::new());
        let names: Vec<String> = shape(&items);
        assert_eq!(
            names,
            [
                "group Anna Kowal per_b1,per_b2 5.0",
                "group John Smith per_a0,per_a1,per_a2,per_a3,per_a4,per_a5,per_a6,per_a7,per_a8 3.5",
            ]
        );
    }

    #[test]
    fn equal_scores_keep_one_order() {
        let make = || {
            items(
                vec![
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
                ],
                &Profiles::new(),
            )
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

    fn at(company: &str, source: &str) -> Profile {
        Profile {
            companies: [company.to_lowercase()].into_iter().collect(),
            sources: [source.to_string()].into_iter().collect(),
            ..Profile::default()
        }
    }

    #[test]
    fn a_group_whose_likeliest_pair_has_evidence_beyond_the_name_comes_first() {
        let name_only = "name exact +5.0 = 5.0";
        let pairs = vec![
            // Three Ann Lees: two of them at one company, from two sources.
            pair("per_1", "per_2", "Ann Lee", name_only),
            pair("per_1", "per_3", "Ann Lee", name_only),
            pair("per_2", "per_3", "Ann Lee", name_only),
            // Two Bo Kims with nothing but the name and a rarer name.
            pair("per_7", "per_8", "Bo Kim", "name exact +6.0 = 6.0"),
        ];
        let profiles: Profiles = [
            ("per_1", at("globex", "crm")),
            ("per_2", at("acme", "crm")),
            ("per_3", at("acme", "hs")),
        ]
        .into_iter()
        .map(|(id, p)| (id.to_string(), p))
        .collect();
        let items = items(pairs, &profiles);
        assert_eq!(
            shape(&items),
            [
                // 5 + 4 (same company name) - 0.5 (three namesakes).
                "group Ann Lee per_2,per_3,per_1 8.5",
                "group Bo Kim per_7,per_8 6.0",
            ]
        );
        let Item::NameGroup(ann) = &items[0] else {
            panic!("{items:?}")
        };
        let ranks: Vec<(&str, &str, f64)> = ann
            .pairs
            .iter()
            .map(|p| (p.pair.a.as_str(), p.pair.b.as_str(), p.rank))
            .collect();
        // per_1 ~ per_2: other company names and one source (5 - 2 - 2).
        assert_eq!(
            ranks,
            [
                ("per_2", "per_3", 9.0),
                ("per_1", "per_3", 3.0),
                ("per_1", "per_2", 1.0)
            ]
        );
        let why = items[0].why();
        assert!(
            why.starts_with(
                "likeliest pair per_2 ~ per_3: match weight 5.0, same company name +4.0"
            ),
            "{why}"
        );
        assert!(
            why.ends_with("3 customers of this name -0.5 = 8.5"),
            "{why}"
        );
    }
}
