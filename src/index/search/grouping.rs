//! Ranking and collecting: the sort key of a matching record (relevance,
//! optionally weighted by recency, or its date or amount), the best records
//! (`group=none`), and customers (`group=customer`): every matching record
//! counted under its `customer_id` (a record without one is its own group),
//! with each group's best key and its top three records.
//!
//! It must never load documents: it reads fast fields only, so that it stays
//! fast over a million records; documents are read for the returned page.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::request::{Order, SortBy};

/// Records shown per customer.
pub const RECORDS_PER_GROUP: usize = 3;
const RECENCY_HALF_LIFE_DAYS: f64 = 90.0;

/// How matching records are ordered.
#[derive(Debug, Clone, Copy)]
pub struct Ranking {
    pub sort: SortBy,
    pub order: Order,
    pub boost_recent: bool,
    pub now_secs: i64,
}

/// A [`Ranking`] bound to one segment's fast fields.
pub struct SegmentRanking {
    ranking: Ranking,
    updated: Option<Column<tantivy::DateTime>>,
    created: Option<Column<tantivy::DateTime>>,
    amount: Option<Column<f64>>,
}

impl SegmentRanking {
    pub fn new(ranking: Ranking, reader: &SegmentReader) -> SegmentRanking {
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
    pub fn key(&self, doc: DocId, score: Score) -> f64 {
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

fn by_key_desc(a: &(f64, DocAddress), b: &(f64, DocAddress)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// The best `n` records and the number of matches.
pub struct TopRecords {
    pub ranking: Ranking,
    pub n: usize,
}

pub struct TopRecordsSegment {
    ranking: SegmentRanking,
    segment: SegmentOrdinal,
    n: usize,
    best: Vec<(f64, DocAddress)>,
    count: usize,
}

impl Collector for TopRecords {
    type Fruit = (Vec<(f64, DocAddress)>, usize);
    type Child = TopRecordsSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(TopRecordsSegment {
            ranking: SegmentRanking::new(self.ranking, reader),
            segment,
            n: self.n,
            best: Vec::new(),
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
        all.sort_by(by_key_desc);
        all.truncate(self.n);
        Ok((all, count))
    }
}

impl SegmentCollector for TopRecordsSegment {
    type Fruit = (Vec<(f64, DocAddress)>, usize);

    fn collect(&mut self, doc: DocId, score: Score) {
        self.count += 1;
        if self.n == 0 {
            return;
        }
        let key = self.ranking.key(doc, score);
        self.best.push((key, DocAddress::new(self.segment, doc)));
        if self.best.len() >= self.n * 2 + 64 {
            self.best.select_nth_unstable_by(self.n - 1, by_key_desc);
            self.best.truncate(self.n);
        }
    }

    fn harvest(mut self) -> Self::Fruit {
        self.best.sort_by(by_key_desc);
        self.best.truncate(self.n);
        (self.best, self.count)
    }
}

/// One group of matching records.
#[derive(Debug, Clone)]
pub struct Group {
    /// The customer id, or the record id of a record without a customer.
    pub key: String,
    pub is_customer: bool,
    pub count: usize,
    /// Best first; at most [`RECORDS_PER_GROUP`].
    pub top: Vec<(f64, DocAddress)>,
}

impl Group {
    pub fn best(&self) -> f64 {
        self.top.first().map(|t| t.0).unwrap_or(f64::NEG_INFINITY)
    }

    fn add(&mut self, key: f64, address: DocAddress) {
        self.count += 1;
        self.insert(key, address);
    }

    fn insert(&mut self, key: f64, address: DocAddress) {
        if self.top.len() < RECORDS_PER_GROUP || self.top.last().is_some_and(|l| l.0 < key) {
            self.top.push((key, address));
            self.top.sort_by(by_key_desc);
            self.top.truncate(RECORDS_PER_GROUP);
        }
    }
}

/// Every matching customer, unsorted.
pub struct Groups {
    pub ranking: Ranking,
}

pub struct GroupsSegment {
    ranking: SegmentRanking,
    segment: SegmentOrdinal,
    customers: Option<StrColumn>,
    ids: Option<StrColumn>,
    by_ord: HashMap<u64, Group>,
    singles: Vec<(u64, Group)>,
}

impl Collector for Groups {
    type Fruit = Vec<Group>;
    type Child = GroupsSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let fast = reader.fast_fields();
        Ok(GroupsSegment {
            ranking: SegmentRanking::new(self.ranking, reader),
            segment,
            customers: fast.str("customer_id")?,
            ids: fast.str("id")?,
            by_ord: HashMap::new(),
            singles: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.ranking.sort == SortBy::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Group>>) -> tantivy::Result<Vec<Group>> {
        if fruits.len() == 1 {
            return Ok(fruits.into_iter().flatten().collect());
        }
        let mut merged: HashMap<(bool, String), Group> = HashMap::new();
        for group in fruits.into_iter().flatten() {
            match merged.get_mut(&(group.is_customer, group.key.clone())) {
                Some(existing) => {
                    existing.count += group.count;
                    for (key, address) in group.top {
                        existing.insert(key, address);
                    }
                }
                None => {
                    merged.insert((group.is_customer, group.key.clone()), group);
                }
            }
        }
        Ok(merged.into_values().collect())
    }
}

impl SegmentCollector for GroupsSegment {
    type Fruit = Vec<Group>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let key = self.ranking.key(doc, score);
        let address = DocAddress::new(self.segment, doc);
        let customer = self
            .customers
            .as_ref()
            .and_then(|c| c.term_ords(doc).next());
        match customer {
            Some(ord) => self
                .by_ord
                .entry(ord)
                .or_insert_with(|| Group {
                    key: String::new(),
                    is_customer: true,
                    count: 0,
                    top: Vec::new(),
                })
                .add(key, address),
            None => {
                let ord = self
                    .ids
                    .as_ref()
                    .and_then(|c| c.term_ords(doc).next())
                    .unwrap_or(u64::MAX);
                let mut group = Group {
                    key: String::new(),
                    is_customer: false,
                    count: 0,
                    top: Vec::new(),
                };
                group.add(key, address);
                self.singles.push((ord, group));
            }
        }
    }

    fn harvest(self) -> Vec<Group> {
        let mut out = Vec::with_capacity(self.by_ord.len() + self.singles.len());
        let mut text = String::new();
        for (ord, mut group) in self.by_ord {
            text.clear();
            if let Some(col) = &self.customers
                && col.ord_to_str(ord, &mut text).unwrap_or(false)
            {
                group.key = text.clone();
                out.push(group);
            }
        }
        for (ord, mut group) in self.singles {
            text.clear();
            if let Some(col) = &self.ids
                && col.ord_to_str(ord, &mut text).unwrap_or(false)
            {
                group.key = text.clone();
            }
            out.push(group);
        }
        out
    }
}

/// Sorts groups best first (ties by key, so paging is stable).
pub fn sort_groups(groups: &mut [Group]) {
    groups.sort_by(|a, b| {
        b.best()
            .total_cmp(&a.best())
            .then_with(|| a.key.cmp(&b.key))
    });
}
