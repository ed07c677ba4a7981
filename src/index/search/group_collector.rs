//! The grouped search's collector (`group=customer`): every matching
//! record counted under its customer in a per-segment table indexed by
//! the customer id's term ordinal (a record without a customer is its own
//! group), the tables turned into groups and merged across segments by
//! customer number — every group (full path), or only each piece's best
//! `offset + limit` ([`super::top_groups`]).
//!
//! It must never load documents: it reads fast fields only.

use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::caches::SearchCaches;
use super::doc_ords::DocOrds;
use super::group_slots::Slots;
use super::grouping::{Acc, Group, Ranking, SegmentRanking, ords_to_hashes};
use super::ranked::SeqColumn;
use super::request::SortBy;
use super::segment_cache::{CustomerNumbers, SegmentTables};
use super::top_groups::{self, GroupPage, GroupsFruit, Piece};

/// Every matching customer, unsorted; or, with `keep`, only the groups
/// that may be among the best `keep` (see [`super::top_groups`]).
pub(crate) struct Groups {
    pub ranking: Ranking,
    /// The searcher's customer numbering: groups of one customer from
    /// several segments are merged by number, in an array, not by hash.
    pub customers: Option<Arc<CustomerNumbers>>,
    /// The index's caches (customer ordinals and hashes per segment).
    pub caches: Arc<SearchCaches>,
    /// Hand on only each piece's best `keep` customers (offset + limit).
    pub keep: Option<usize>,
}

pub(crate) struct GroupsSegment {
    ranking: SegmentRanking,
    seqs: SeqColumn,
    segment: SegmentOrdinal,
    segment_id: tantivy::index::SegmentId,
    /// The index's per-segment tables (customer-id hashes).
    tables: Arc<SegmentTables>,
    customers: Option<StrColumn>,
    /// The customer-id ordinal of every document of the segment.
    customer_ords: Option<Arc<DocOrds>>,
    /// Searcher-wide number of each customer-id ordinal of this segment.
    numbers: Option<Arc<CustomerNumbers>>,
    ids: Option<StrColumn>,
    /// Where each customer id's term ordinal has its accumulator.
    slots: Slots,
    /// One accumulator per matching customer, in the order first seen.
    accs: Vec<Acc>,
    singles: Vec<(u64, f64, DocId)>,
    /// Matching records collected.
    records: usize,
    keep: Option<usize>,
}

impl Collector for Groups {
    type Fruit = GroupsFruit;
    type Child = GroupsSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let fast = reader.fast_fields();
        let customers = fast.str("customer_id")?;
        let terms = customers.as_ref().map(|c| c.num_terms()).unwrap_or(0);
        let customer_ords = customers.as_ref().map(|c| {
            self.caches
                .doc_ords
                .doc_ords(reader.segment_id(), "customer_id", c, reader.max_doc())
        });
        Ok(GroupsSegment {
            tables: self.caches.segments.clone(),
            customer_ords,
            ranking: SegmentRanking::new(self.ranking, reader),
            seqs: SeqColumn::open(reader),
            segment,
            segment_id: reader.segment_id(),
            customers,
            numbers: self.customers.clone(),
            ids: fast.str("id")?,
            slots: Slots::take(&self.caches.group_slots, terms),
            // Reserved, not touched: only the pages of matching customers
            // are ever written, and growing would copy every accumulator.
            accs: Vec::with_capacity(terms.min(reader.max_doc() as usize)),
            singles: Vec::new(),
            records: 0,
            keep: self.keep,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.ranking.sort == SortBy::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<GroupsFruit>) -> tantivy::Result<GroupsFruit> {
        let mut merged = GroupsFruit::default();
        let mut lists = Vec::with_capacity(fruits.len());
        for fruit in fruits {
            merged.records += fruit.records;
            merged.customers.merge(fruit.customers);
            merged.pieces.extend(fruit.pieces);
            lists.push(fruit.groups);
        }
        merged.groups = self.merge_groups(lists);
        Ok(merged)
    }
}

impl Groups {
    /// Merges the groups of one customer (by number, else by hash).
    fn merge_groups(&self, fruits: Vec<Vec<Group>>) -> Vec<Group> {
        if fruits.len() == 1 {
            return fruits.into_iter().flatten().collect();
        }
        let total: usize = fruits.iter().map(Vec::len).sum();
        let mut merged: Vec<Group> = Vec::with_capacity(total);
        // By customer number where there is one: an array lookup per group.
        let mut by_number = match &self.customers {
            Some(numbers) => vec![u32::MAX; numbers.total],
            None => Vec::new(),
        };
        let mut index: rustc_hash::FxHashMap<u64, usize> = Default::default();
        for group in fruits.into_iter().flatten() {
            if let Some(slot) = by_number.get_mut(group.number as usize) {
                if *slot == u32::MAX {
                    *slot = merged.len() as u32;
                    merged.push(group);
                } else {
                    merged[*slot as usize].merge(group);
                }
                continue;
            }
            match index.entry(group.hash) {
                std::collections::hash_map::Entry::Occupied(i) => merged[*i.get()].merge(group),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(merged.len());
                    merged.push(group);
                }
            }
        }
        merged
    }
}

impl GroupsSegment {
    /// Counts `doc` in its group and returns its customer slot as
    /// [`super::facets::FacetSegment`] numbers them: customer ordinal × 2,
    /// or record-id ordinal × 2 + 1 for a record without a customer.
    pub(crate) fn collect_slot(&mut self, doc: DocId, score: Score) -> u64 {
        self.records += 1;
        let key = self.ranking.key(doc, score);
        let customer = self
            .customer_ords
            .as_ref()
            .and_then(|c| c.first(doc))
            .map(u64::from);
        if let Some(ord) = customer
            && let Ok(small) = u32::try_from(ord)
            && let Some(i) = self.slots.index(small, self.accs.len())
        {
            if i == self.accs.len() {
                self.accs.push(Acc::EMPTY);
            }
            if let Some(acc) = self.accs.get_mut(i) {
                acc.add(key, doc, &self.seqs);
            }
            return ord * 2;
        }
        let ord = self
            .ids
            .as_ref()
            .and_then(|c| c.term_ords(doc).next())
            .unwrap_or(u64::MAX);
        self.singles.push((ord, key, doc));
        match customer {
            Some(ord) => ord * 2,
            None if ord == u64::MAX => u64::MAX,
            None => ord * 2 + 1,
        }
    }
}

impl SegmentCollector for GroupsSegment {
    type Fruit = GroupsFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.collect_slot(doc, score);
    }

    fn harvest(mut self) -> GroupsFruit {
        let singles = std::mem::take(&mut self.singles);
        let singles = self.single_groups(singles);
        match self.keep {
            Some(keep) => {
                let hashes = self.customers.as_ref().map(|col| {
                    self.tables
                        .ord_hashes(self.segment_id, "customer_id", col, true)
                });
                let (numbers, total) = match &self.numbers {
                    Some(n) => (n.segment(self.segment_id), n.total),
                    None => (&[][..], 0),
                };
                let piece = hashes.as_ref().map(|hashes| Piece {
                    segment: self.segment,
                    segment_id: self.segment_id,
                    slots: self.slots,
                    accs: self.accs,
                    hashes: hashes.as_slice(),
                });
                top_groups::harvest(piece, numbers, total, keep, self.records, singles)
            }
            None => {
                let records = self.records;
                let mut groups = self.all_groups();
                groups.extend(singles);
                GroupsFruit {
                    groups,
                    records,
                    ..GroupsFruit::default()
                }
            }
        }
    }
}

impl GroupsSegment {
    /// Every customer group of the piece.
    fn all_groups(&self) -> Vec<Group> {
        let mut out = Vec::new();
        if let Some(col) = &self.customers {
            // In the order of their ordinals, as a table by ordinal gave.
            let ords = self.slots.ords();
            let mut order: Vec<usize> = (0..ords.len().min(self.accs.len())).collect();
            order.sort_unstable_by_key(|&i| ords[i]);
            let hashes = self
                .tables
                .ord_hashes(self.segment_id, "customer_id", col, true);
            let numbers = self.numbers.as_ref().map(|n| n.segment(self.segment_id));
            out.reserve(order.len());
            for i in order {
                let ord = u64::from(ords[i]);
                let hash = hashes.get(ord as usize).copied().unwrap_or(ord);
                let mut group = self.accs[i].into_group(hash, ord, true, self.segment);
                if let Some(number) = numbers.and_then(|n| n.get(ord as usize)) {
                    group.number = *number;
                }
                out.push(group);
            }
        }
        out
    }

    /// A group for each record without a customer.
    fn single_groups(&self, mut singles: Vec<(u64, f64, DocId)>) -> Vec<Group> {
        let mut out = Vec::with_capacity(singles.len());
        singles.sort_unstable_by_key(|s| s.0);
        let hashes = match &self.ids {
            Some(col) => {
                let ords: Vec<u64> = singles.iter().map(|s| s.0).collect();
                ords_to_hashes(col, &ords, false)
            }
            None => Vec::new(),
        };
        for (i, (ord, key, doc)) in singles.into_iter().enumerate() {
            let mut acc = Acc::EMPTY;
            acc.add(key, doc, &self.seqs);
            let hash = hashes.get(i).copied().unwrap_or(u64::from(doc));
            out.push(acc.into_group(hash, ord, false, self.segment));
        }
        out
    }
}

impl Groups {
    /// The page `offset..offset + limit` of a search collected with this
    /// collector, its groups named.
    pub(crate) fn page(
        &self,
        fruit: GroupsFruit,
        searcher: &tantivy::Searcher,
        offset: usize,
        limit: usize,
    ) -> GroupPage {
        let numbers = self.customers.as_deref().filter(|_| self.keep.is_some());
        top_groups::page(fruit, searcher, offset..offset + limit, numbers)
    }
}
