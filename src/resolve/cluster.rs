//! Clustering of compared pairs into entities without chaining: pairs are
//! taken strongest first, and two clusters join only when the pair is above
//! the link threshold, no other cluster is about as good a match for either
//! record (a name alone that fits two companies links neither), and the
//! clusters match as wholes — no pair across them in conflict or clearly
//! against, and on average for. So A ~ B and B ~ C never put A with C when
//! A and C disagree.
//!
//! It must never override a steward: unions go through the union-find, whose
//! constraints (never-merge, splits) always win.

use std::collections::HashMap;

use rayon::prelude::*;

use super::evidence::Evidence;
use super::union_find::UnionFind;

/// Where the model's scores turn into decisions.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// A pair at or above this may link.
    pub link: f64,
    /// A pair at or above this (and below `link`, or refused) is a suspect.
    pub review: f64,
    /// A pair at or above this links without the ambiguity check.
    pub sure: f64,
    /// Another cluster within this many bits of the best makes it ambiguous.
    pub margin: f64,
    /// No pair across two joining clusters may score below this, nor hold
    /// a clear disagreement unless it reaches `link`.
    pub floor: f64,
    /// The mean of the pairs across two joining clusters must reach this.
    pub mean: f64,
    /// A feature weighing this much or less against is a clear
    /// disagreement: a pair across two joining clusters that holds one must
    /// reach `link` on its own.
    pub disagreement: f64,
}

/// A compared pair as clustering weighs it: its total and whether it holds
/// a hard conflict. Its waterfall is not kept: a large book compares
/// millions of pairs, and only the linked and suspect ones need theirs
/// (the caller scores those again).
pub struct Edge {
    pub a: usize,
    pub b: usize,
    pub total: f64,
    pub conflict: bool,
}

impl Edge {
    pub fn of(a: usize, b: usize, evidence: &Evidence) -> Edge {
        Edge {
            a,
            b,
            total: evidence.total,
            conflict: evidence.conflict,
        }
    }
}

pub enum Outcome<'e> {
    Linked(&'e Edge),
    Suspect(&'e Edge, &'static str),
}

/// Most pairs compared across two clusters before they join.
const MAX_CROSS_PAIRS: usize = 4_096;

/// Joins `edges` (already scored) into `uf`, strongest first. `score`
/// compares any two nodes (for the whole-cluster check); `decide` hears of
/// every link made and every suspect pair.
pub fn cluster<'e>(
    uf: &mut UnionFind,
    nodes: &[usize],
    edges: &'e mut [Edge],
    thresholds: Thresholds,
    mut score: impl FnMut(usize, usize) -> Evidence,
    mut decide: impl FnMut(Outcome<'e>),
) {
    // Sorted on every core: pairs are distinct, so the order is total and
    // the same whichever thread compared what.
    edges.par_sort_by(|x, y| {
        y.total
            .total_cmp(&x.total)
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for &n in nodes {
        members.entry(uf.find(n)).or_default().push(n);
    }
    let mut candidates: HashMap<usize, Vec<(usize, f64)>> = HashMap::new();
    for e in edges.iter() {
        if !e.conflict && e.total >= thresholds.link {
            candidates.entry(e.a).or_default().push((e.b, e.total));
            candidates.entry(e.b).or_default().push((e.a, e.total));
        }
    }
    // Per compared pair: its total, and whether it objects to the two
    // records being one entity (a conflict, a total below the floor, or a
    // clear disagreement on some feature that the rest does not outweigh).
    let mut memo: HashMap<(usize, usize), (f64, bool)> = HashMap::new();
    let mut pair_score = |x: usize, y: usize| -> (f64, bool) {
        *memo.entry((x.min(y), x.max(y))).or_insert_with(|| {
            let e = score(x, y);
            let disagrees = e.weights.iter().any(|w| w.bits <= thresholds.disagreement);
            let objects = e.conflict
                || e.total < thresholds.floor
                || (disagrees && e.total < thresholds.link);
            (e.total, objects)
        })
    };
    let edges: &'e [Edge] = edges;
    for edge in edges {
        let total = edge.total;
        if edge.conflict || total < thresholds.review {
            continue;
        }
        let (ra, rb) = (uf.find(edge.a), uf.find(edge.b));
        if ra == rb {
            continue;
        }
        if total < thresholds.link {
            decide(Outcome::Suspect(edge, "below the link threshold"));
            continue;
        }
        if total < thresholds.sure {
            // A rival is another cluster about as good for one side that
            // does not itself match the other side (then it is a third
            // record of the same entity, not a rival).
            let mut ambiguous = false;
            for (node, other) in [(edge.a, edge.b), (edge.b, edge.a)] {
                for &(rival, s) in candidates.get(&node).map(Vec::as_slice).unwrap_or(&[]) {
                    let r = uf.find(rival);
                    if r != ra
                        && r != rb
                        && s >= total - thresholds.margin
                        && pair_score(rival, other).1
                    {
                        ambiguous = true;
                    }
                }
            }
            if ambiguous {
                decide(Outcome::Suspect(
                    edge,
                    "ambiguous: another customer matches as well",
                ));
                continue;
            }
        }
        let (left, right) = (&members[&ra], &members[&rb]);
        let mut sum = 0.0;
        let mut count = 0usize;
        let mut refused = false;
        'pairs: for &x in left.iter().take(64) {
            for &y in right.iter().take(64) {
                if count >= MAX_CROSS_PAIRS {
                    break 'pairs;
                }
                let (s, objects) = pair_score(x, y);
                if objects {
                    refused = true;
                    break 'pairs;
                }
                sum += s;
                count += 1;
            }
        }
        if refused || (count > 0 && sum / (count as f64) < thresholds.mean) {
            decide(Outcome::Suspect(
                edge,
                "the two customers disagree as wholes",
            ));
            continue;
        }
        if uf.union(edge.a, edge.b) {
            let root = uf.find(edge.a);
            let mut joined = members.remove(&ra).unwrap_or_default();
            joined.extend(members.remove(&rb).unwrap_or_default());
            members.insert(root, joined);
            decide(Outcome::Linked(edge));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(total: f64) -> Evidence {
        let mut e = Evidence::default();
        e.add("test", "level", total);
        e
    }

    /// The organisation model's: link 7, review 3, sure 12, margin 3.
    const T: Thresholds = crate::resolve::organisations::THRESHOLDS;

    #[test]
    fn a_bridge_does_not_chain_records_that_disagree() {
        // 0 ~ 1 strongly, 1 ~ 2 strongly, but 0 and 2 are clearly different.
        let pair = |a: usize, b: usize| match (a.min(b), a.max(b)) {
            (0, 1) => 14.0,
            (1, 2) => 13.0,
            _ => -8.0,
        };
        let mut edges = vec![
            Edge::of(0, 1, &evidence(pair(0, 1))),
            Edge::of(1, 2, &evidence(pair(1, 2))),
        ];
        let mut uf = UnionFind::new(3);
        let mut suspects = 0;
        cluster(
            &mut uf,
            &[0, 1, 2],
            &mut edges,
            T,
            |a, b| evidence(pair(a, b)),
            |o| {
                if let Outcome::Suspect(..) = o {
                    suspects += 1;
                }
            },
        );
        assert_eq!(uf.find(0), uf.find(1));
        assert_ne!(uf.find(1), uf.find(2));
        assert_eq!(suspects, 1);
    }

    #[test]
    fn a_weak_match_to_two_clusters_links_neither() {
        let mut edges = vec![
            Edge::of(0, 1, &evidence(8.0)),
            Edge::of(0, 2, &evidence(7.5)),
        ];
        let mut uf = UnionFind::new(3);
        cluster(
            &mut uf,
            &[0, 1, 2],
            &mut edges,
            T,
            |_, _| evidence(0.0),
            |_| {},
        );
        assert_ne!(uf.find(0), uf.find(1));
        assert_ne!(uf.find(0), uf.find(2));
    }
}
