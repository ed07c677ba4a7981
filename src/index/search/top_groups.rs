//! The page of a grouped search (`group=customer`) without a `Group` for
//! every matching customer.
//!
//! How groups rank: by the sort key of their best record (relevance,
//! optionally boosted by recency, or a date or amount with missing values
//! last), larger first; equal keys by the hash of the group's key, smaller
//! first ([`super::grouping::sort_groups`]). A page shows groups
//! `offset..offset + limit` of that order, each with its number of
//! matching records and its best three records, beside the number of
//! matching records and of matching customers. Facets count customers in
//! their own collector and need no group here; only customer-level
//! aggregations (`aggs_level=customers`, the best record of every group)
//! need every group, and they take the full path.
//!
//! The fast path, with `k = offset + limit`: each piece of the index (a
//! segment, or a range of one when a search is cut over cores) hands on
//! only its best `k` customers by the best key it saw. A customer among
//! the global best `k` is among the best `k` of the piece that holds its
//! best record: a customer ranked above it there has a best key at least
//! as large and, when equal, a smaller hash — so it also ranks above it
//! overall, and there are fewer than `k` of those. A candidate's merged key
//! may be lower than its true one (its best record was in a piece where it
//! was not handed on), which only ranks it lower; the best `k` candidates
//! are then exactly the best `k` groups, in order. The groups shown have
//! their counts and records merged again from every piece's accumulators
//! (kept, not turned into groups), found by customer number; distinct customers
//! are counted as bits over customer numbers; records without a customer
//! are few and handed on whole.
//!
//! It must never answer differently from the full path: every field of
//! every group, the totals and the order are the same (a test compares
//! both paths on one index).

use std::ops::Range;

use rustc_hash::FxHashMap;
use tantivy::index::SegmentId;
use tantivy::{Searcher, SegmentOrdinal};

use super::customer_set::CustomerSet;
use super::group_slots::Slots;
use super::grouping::{Acc, Group, name_groups, rank_order, sort_groups};
use super::segment_cache::CustomerNumbers;

/// One piece's accumulators and where each customer's is, kept until the
/// page is chosen, and its segment's customer-id hashes.
pub(crate) struct Piece<H> {
    pub(super) segment: SegmentOrdinal,
    pub(super) segment_id: SegmentId,
    pub(super) slots: Slots,
    pub(super) accs: Vec<Acc>,
    pub(super) hashes: H,
}

/// What the pieces of a grouped search hand on: every group (full path)
/// or the candidates for the page (fast path), merged across pieces.
#[derive(Default)]
pub(crate) struct GroupsFruit {
    pub(super) groups: Vec<Group>,
    /// Fast path: every piece's table.
    pub(super) pieces: Vec<Piece<()>>,
    /// Matching records.
    pub(super) records: usize,
    /// Fast path: the matching customers.
    pub(super) customers: CustomerSet,
}

/// A grouped search's answer.
pub(crate) struct GroupPage {
    /// Groups `offset..offset + limit`, named, in order.
    pub shown: Vec<Group>,
    /// Matching records.
    pub records: usize,
    /// Matching customers (groups).
    pub customers: usize,
    /// Full path: every group.
    pub all: Option<Vec<Group>>,
}

/// The fast path's harvest of one piece (`None`: a segment without
/// customer ids): its best `keep` numbered customers as groups (`numbers`:
/// the customer number of each ordinal, of `total`), every customer as a
/// bit, its table kept; `singles` (records without a customer) whole.
pub(super) fn harvest<H: AsRef<[u64]>>(
    piece: Option<Piece<H>>,
    numbers: &[u32],
    total: usize,
    keep: usize,
    records: usize,
    singles: Vec<Group>,
) -> GroupsFruit {
    let mut fruit = GroupsFruit {
        records,
        ..GroupsFruit::default()
    };
    if let Some(piece) = piece {
        let hashes = piece.hashes.as_ref();
        let order = |a: &(f64, u64, u32), b: &(f64, u64, u32)| rank_order((a.0, a.1), (b.0, b.1));
        let mut best: Vec<(f64, u64, u32)> = Vec::new();
        // The worst candidate kept at the last trim.
        let mut threshold: Option<(f64, u64)> = None;
        for (i, (acc, ord)) in piece.accs.iter().zip(piece.slots.ords()).enumerate() {
            let ord = *ord as usize;
            let hash = || hashes.get(ord).copied().unwrap_or(ord as u64);
            let Some(number) = numbers.get(ord) else {
                // Not numbered (not expected): handed on whole, merged by
                // hash, as the full path does.
                fruit.customers.insert_single(hash());
                fruit
                    .groups
                    .push(acc.into_group(hash(), ord as u64, true, piece.segment));
                continue;
            };
            fruit.customers.insert_customer(*number, total);
            if keep == 0 {
                continue;
            }
            let key = acc.best();
            // The hash is read only for a group that may enter.
            if let Some((worst, _)) = threshold
                && key < worst
            {
                continue;
            }
            let hash = hash();
            if let Some((worst, worst_hash)) = threshold
                && rank_order((key, hash), (worst, worst_hash)) != std::cmp::Ordering::Less
            {
                continue;
            }
            best.push((key, hash, i as u32));
            if best.len() >= keep * 2 + 64 {
                best.select_nth_unstable_by(keep - 1, order);
                best.truncate(keep);
                let (worst, worst_hash, _) = best[keep - 1];
                threshold = Some((worst, worst_hash));
            }
        }
        if best.len() > keep && keep > 0 {
            best.select_nth_unstable_by(keep - 1, order);
            best.truncate(keep);
        }
        let ords = piece.slots.ords();
        for (_, hash, i) in best {
            if let (Some(acc), Some(ord)) = (piece.accs.get(i as usize), ords.get(i as usize)) {
                let mut group = acc.into_group(hash, u64::from(*ord), true, piece.segment);
                group.number = numbers.get(*ord as usize).copied().unwrap_or(u32::MAX);
                fruit.groups.push(group);
            }
        }
        fruit.pieces.push(Piece {
            segment: piece.segment,
            segment_id: piece.segment_id,
            slots: piece.slots,
            accs: piece.accs,
            hashes: (),
        });
    }
    for single in &singles {
        fruit.customers.insert_single(single.hash);
    }
    fruit.groups.extend(singles);
    fruit
}

/// The groups in `range` of the order of a search's groups, named;
/// `numbers` (the searcher's customer numbering) on the fast path only.
pub(super) fn page(
    fruit: GroupsFruit,
    searcher: &Searcher,
    range: Range<usize>,
    numbers: Option<&CustomerNumbers>,
) -> GroupPage {
    let mut groups = fruit.groups;
    let shown = range.end.min(groups.len());
    sort_groups(&mut groups, shown);
    let from = range.start.min(shown);
    let Some(numbers) = numbers else {
        name_groups(searcher, &mut groups[from..shown]);
        return GroupPage {
            shown: groups[from..shown].to_vec(),
            records: fruit.records,
            customers: groups.len(),
            all: Some(groups),
        };
    };
    groups.truncate(shown);
    let mut page = groups.split_off(from);
    complete(&mut page, &fruit.pieces, numbers);
    name_groups(searcher, &mut page);
    GroupPage {
        shown: page,
        records: fruit.records,
        customers: fruit.customers.len() as usize,
        all: None,
    }
}

/// Merges the counts and records of the numbered customers of `page`
/// again from every piece's table: a candidate was handed on only by
/// the pieces where it was among the best.
fn complete(page: &mut [Group], pieces: &[Piece<()>], numbers: &CustomerNumbers) {
    let wanted: FxHashMap<u32, usize> = page
        .iter()
        .enumerate()
        .filter(|(_, g)| g.is_customer && g.number != u32::MAX)
        .map(|(i, g)| (g.number, i))
        .collect();
    if wanted.is_empty() {
        return;
    }
    for i in wanted.values() {
        page[*i].clear();
    }
    let mut bits = vec![0u64; numbers.total.div_ceil(64).max(1)];
    for number in wanted.keys() {
        if let Some(word) = bits.get_mut(*number as usize / 64) {
            *word |= 1 << (number % 64);
        }
    }
    // Each piece's matching customers, checked against the wanted ones.
    for piece in pieces {
        let numbers = numbers.segment(piece.segment_id);
        for (acc, ord) in piece.accs.iter().zip(piece.slots.ords()) {
            let Some(number) = numbers.get(*ord as usize) else {
                continue;
            };
            let wanted_bit = bits
                .get(*number as usize / 64)
                .is_some_and(|w| w & (1 << (number % 64)) != 0);
            if let Some(i) = wanted.get(number).filter(|_| wanted_bit) {
                let hash = page[*i].hash;
                page[*i].merge(acc.into_group(hash, u64::from(*ord), true, piece.segment));
            }
        }
    }
}
