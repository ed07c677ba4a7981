//! Ranking and collecting: the sort key of a matching record (relevance,
//! optionally weighted by recency, or its date or amount), the best records
//! (`group=none`), and customers (`group=customer`): every matching record
//! counted under its `customer_id` (a record without one is its own group),
//! with each group's best key and its top three records (the groups and
//! their order here; the collector in `group_collector.rs`, the page in
//! `top_groups.rs`).
//!
//! It must never load documents: it reads fast fields only, so that it stays
//! fast over a million records; documents are read for the returned page.

use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::corrected_union::BlockSink;
use super::ranked::{Ranked, SEQ_BLOCK, SeqColumn, better_first, precedes};
use super::request::{Order, SortBy};
use super::segment_cache::{self, SegmentTables};

/// Records shown per customer.
pub(crate) const RECORDS_PER_GROUP: usize = 3;
const RECENCY_HALF_LIFE_DAYS: f64 = 90.0;

/// How matching records are ordered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ranking {
    pub sort: SortBy,
    pub order: Order,
    pub boost_recent: bool,
    pub now_secs: i64,
}

/// A [`Ranking`] bound to one segment's fast fields.
pub(crate) struct SegmentRanking {
    ranking: Ranking,
    updated: Option<Column<tantivy::DateTime>>,
    created: Option<Column<tantivy::DateTime>>,
    amount: Option<Column<f64>>,
}

impl SegmentRanking {
    pub(crate) fn new(ranking: Ranking, reader: &SegmentReader) -> SegmentRanking {
        let fast = reader.fast_fields();
        SegmentRanking {
            ranking,
            updated: fast.column_opt("updated").ok().flatten(),
            created: fast.column_opt("created").ok().flatten(),
            amount: fast.column_opt("amount").ok().flatten(),
        }
    }

    fn date(&self, doc: DocId) -> Option<i64> {
        self.updated
            .as_ref()
            .and_then(|c| c.first(doc))
            .or_else(|| self.created.as_ref().and_then(|c| c.first(doc)))
            .map(|d| d.into_timestamp_secs())
    }

    /// Larger keys rank first; records without the sort value rank last in
    /// either order.
    pub(crate) fn key(&self, doc: DocId, score: Score) -> f64 {
        let value = match self.ranking.sort {
            SortBy::Relevance => {
                let mut score = score as f64;
                if self.ranking.boost_recent
                    && let Some(date) = self.date(doc)
                {
                    let age_days = ((self.ranking.now_secs - date).max(0) as f64) / 86_400.0;
                    score *= 1.0 + 1.0 / (1.0 + age_days / RECENCY_HALF_LIFE_DAYS);
                }
                return score;
            }
            SortBy::Date => self.date(doc).map(|d| d as f64),
            SortBy::Amount => self.amount.as_ref().and_then(|c| c.first(doc)),
        };
        match (value, self.ranking.order) {
            (Some(v), Order::Desc) => v,
            (Some(v), Order::Asc) => -v,
            (None, _) => f64::NEG_INFINITY,
        }
    }
}

/// The best `n` records and the number of matches.
pub(crate) struct TopRecords {
    pub ranking: Ranking,
    pub n: usize,
    /// The index's per-segment tables (each block's least sequence number).
    pub segments: Arc<SegmentTables>,
}

pub(crate) struct TopRecordsSegment {
    ranking: SegmentRanking,
    seqs: SeqColumn,
    segment: SegmentOrdinal,
    n: usize,
    best: Vec<Ranked>,
    /// The worst record kept at the last trim: a later record that does
    /// not go before it cannot enter the top `n`.
    threshold: Option<(f64, u64)>,
    count: usize,
}

impl Collector for TopRecords {
    type Fruit = (Vec<Ranked>, usize);
    type Child = TopRecordsSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(TopRecordsSegment {
            ranking: SegmentRanking::new(self.ranking, reader),
            seqs: SeqColumn::with_floors(reader, &self.segments),
            segment,
            n: self.n,
            best: Vec::new(),
            threshold: None,
            count: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.ranking.sort == SortBy::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut all = Vec::new();
        let mut count = 0;
        for (best, n) in fruits {
            all.extend(best);
            count += n;
        }
        all.sort_by(better_first);
        all.truncate(self.n);
        Ok((all, count))
    }
}

impl SegmentCollector for TopRecordsSegment {
    type Fruit = (Vec<Ranked>, usize);

    fn collect(&mut self, doc: DocId, score: Score) {
        self.count += 1;
        if self.n == 0 {
            return;
        }
        let key = self.ranking.key(doc, score);
        // The sequence number is read only for a record that may enter.
        if self.passes_over(key, doc) {
            return;
        }
        let seq = self.seqs.seq(doc);
        if let Some((worst, worst_seq)) = self.threshold
            && !precedes(key, seq, worst, worst_seq)
        {
            return;
        }
        self.best.push(Ranked {
            key,
            seq,
            address: DocAddress::new(self.segment, doc),
        });
        if self.best.len() >= self.n * 2 + 64 {
            self.best.select_nth_unstable_by(self.n - 1, better_first);
            self.best.truncate(self.n);
            let worst = self.best[self.n - 1];
            self.threshold = Some((worst.key, worst.seq));
        }
    }

    fn harvest(mut self) -> Self::Fruit {
        self.best.sort_by(better_first);
        self.best.truncate(self.n);
        (self.best, self.count)
    }
}

impl TopRecordsSegment {
    /// Whether a record of `doc`'s block with key `key` (or any key below
    /// it) cannot enter: a worse key than the worst kept, or an equal one
    /// where the block holds no earlier sequence number than the worst's.
    #[inline]
    fn passes_over(&self, key: f64, doc: DocId) -> bool {
        self.threshold.is_some_and(|(worst, worst_seq)| {
            key < worst
                || (key.total_cmp(&worst) == std::cmp::Ordering::Equal
                    && self.seqs.floor(doc) >= worst_seq)
        })
    }
}

impl BlockSink for TopRecordsSegment {
    const BLOCK: DocId = SEQ_BLOCK;

    /// Only a relevance key without recency is bounded by the score; for
    /// any other a block is always read.
    fn may_enter(&mut self, doc: DocId, bound: Score) -> bool {
        if self.n == 0 {
            return false;
        }
        let bounded =
            self.ranking.ranking.sort == SortBy::Relevance && !self.ranking.ranking.boost_recent;
        !bounded || !self.passes_over(f64::from(bound), doc)
    }

    fn passed_over(&mut self, count: usize) {
        self.count += count;
    }

    fn collect(&mut self, doc: DocId, score: Score) {
        SegmentCollector::collect(self, doc, score);
    }
}

/// One group of matching records.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// The customer id, or the record id of a record without a customer;
    /// empty until [`name_groups`] fills it in (for the page shown).
    pub key: String,
    /// A hash of the key: the group's identity across segments.
    pub hash: u64,
    /// Where the key can be read: segment and term ordinal.
    origin: (SegmentOrdinal, u64),
    /// The searcher-wide customer number (`u32::MAX`: none known).
    pub(super) number: u32,
    pub is_customer: bool,
    pub count: usize,
    /// Best first; the first `len` are set (inline: no allocation per group).
    best: [Ranked; RECORDS_PER_GROUP],
    len: u8,
}

impl Group {
    /// Forgets the group's count and records, keeping its identity, so
    /// that they can be merged in again from every piece of the index.
    pub(super) fn clear(&mut self) {
        self.count = 0;
        self.len = 0;
    }

    /// The group's best records, best first (at most [`RECORDS_PER_GROUP`]).
    pub(crate) fn top(&self) -> &[Ranked] {
        &self.best[..self.len as usize]
    }

    pub(crate) fn best(&self) -> f64 {
        self.top()
            .first()
            .map(|t| t.key)
            .unwrap_or(f64::NEG_INFINITY)
    }

    pub(super) fn merge(&mut self, other: Group) {
        self.count += other.count;
        let mut all = [Ranked::NONE; RECORDS_PER_GROUP * 2];
        let n = self.len as usize + other.len as usize;
        all[..self.len as usize].copy_from_slice(self.top());
        all[self.len as usize..n].copy_from_slice(other.top());
        all[..n].sort_by(better_first);
        let kept = n.min(RECORDS_PER_GROUP);
        self.best[..kept].copy_from_slice(&all[..kept]);
        self.len = kept as u8;
    }
}

/// A group while one segment is collected: no allocation per record.
#[derive(Clone, Copy)]
pub(super) struct Acc {
    pub(super) count: u32,
    len: u8,
    /// Key, sequence number and document, best first.
    top: [(f64, u64, DocId); RECORDS_PER_GROUP],
}

impl Acc {
    pub(super) const EMPTY: Acc = Acc {
        count: 0,
        len: 0,
        top: [(f64::NEG_INFINITY, u64::MAX, 0); RECORDS_PER_GROUP],
    };

    #[inline]
    pub(super) fn add(&mut self, key: f64, doc: DocId, seqs: &SeqColumn) {
        self.count += 1;
        let len = self.len as usize;
        if len == RECORDS_PER_GROUP && key < self.top[len - 1].0 {
            return;
        }
        // The sequence number is read only for a record that may enter.
        let seq = seqs.seq(doc);
        if len == RECORDS_PER_GROUP {
            let (worst, worst_seq, _) = self.top[len - 1];
            if !precedes(key, seq, worst, worst_seq) {
                return;
            }
        }
        let mut i = len.min(RECORDS_PER_GROUP - 1);
        self.top[i] = (key, seq, doc);
        while i > 0 && precedes(key, seq, self.top[i - 1].0, self.top[i - 1].1) {
            self.top.swap(i - 1, i);
            i -= 1;
        }
        if len < RECORDS_PER_GROUP {
            self.len += 1;
        }
    }

    /// The key of the best record (the group's rank in this piece).
    pub(super) fn best(&self) -> f64 {
        self.top[0].0
    }

    pub(super) fn into_group(
        self,
        hash: u64,
        ord: u64,
        is_customer: bool,
        segment: SegmentOrdinal,
    ) -> Group {
        Group {
            key: String::new(),
            hash,
            origin: (segment, ord),
            number: u32::MAX,
            is_customer,
            count: self.count as usize,
            best: self.top.map(|(key, seq, doc)| Ranked {
                key,
                seq,
                address: DocAddress::new(segment, doc),
            }),
            len: self.len,
        }
    }
}

/// Hashes of the terms of sorted `ords` (repeats allowed), in one pass over
/// the column's dictionary (looking ords up one by one decodes a block
/// each); `customer` keeps customer ids and record ids apart.
pub(crate) fn ords_to_hashes(column: &StrColumn, ords: &[u64], customer: bool) -> Vec<u64> {
    let mut distinct: Vec<u64> = ords.to_vec();
    distinct.dedup();
    let mut hashes = Vec::with_capacity(distinct.len());
    let _ = column
        .dictionary()
        .sorted_ords_to_term_cb(&distinct, |bytes| {
            hashes.push(segment_cache::id_hash(bytes, customer));
        });
    let mut out = Vec::with_capacity(ords.len());
    let mut i = 0;
    for (k, ord) in ords.iter().enumerate() {
        if k > 0 && ords[k - 1] != *ord {
            i += 1;
        }
        out.push(hashes.get(i).copied().unwrap_or(*ord));
    }
    out
}

/// The strings of sorted `ords` (repeats allowed), in one dictionary pass.
pub(crate) fn ords_to_strings(column: &StrColumn, ords: &[u64]) -> Vec<String> {
    let mut distinct: Vec<u64> = ords.to_vec();
    distinct.dedup();
    let mut names = Vec::with_capacity(distinct.len());
    let _ = column
        .dictionary()
        .sorted_ords_to_term_cb(&distinct, |bytes| {
            names.push(String::from_utf8_lossy(bytes).into_owned());
        });
    let mut out = Vec::with_capacity(ords.len());
    let mut i = 0;
    for (k, ord) in ords.iter().enumerate() {
        if k > 0 && ords[k - 1] != *ord {
            i += 1;
        }
        out.push(names.get(i).cloned().unwrap_or_default());
    }
    out
}

/// Reads the keys of `groups` (the page about to be shown).
pub(crate) fn name_groups(searcher: &tantivy::Searcher, groups: &mut [Group]) {
    let mut text = String::new();
    for group in groups {
        let (segment, ord) = group.origin;
        let column = if group.is_customer {
            "customer_id"
        } else {
            "id"
        };
        if let Ok(Some(col)) = searcher.segment_reader(segment).fast_fields().str(column) {
            text.clear();
            if col.ord_to_str(ord, &mut text).unwrap_or(false) {
                group.key = text.clone();
            }
        }
    }
}

/// The order of groups by (best key, key hash): larger keys first, equal
/// keys by the smaller hash. Sorting and the top-k-per-piece path
/// (`top_groups.rs`) both rank by it, which is what keeps their pages equal.
pub(crate) fn rank_order(a: (f64, u64), b: (f64, u64)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// Puts the best `n` groups first, in order (ties by the hash of the key:
/// keys are only read for the page shown, and a hash orders the same way
/// on every request, so paging is stable); the rest stay behind them
/// unsorted.
pub(crate) fn sort_groups(groups: &mut [Group], n: usize) {
    let order = |a: &Group, b: &Group| rank_order((a.best(), a.hash), (b.best(), b.hash));
    if n < groups.len() {
        groups.select_nth_unstable_by(n, order);
        groups[..n].sort_unstable_by(order);
    } else {
        groups.sort_unstable_by(order);
    }
}
