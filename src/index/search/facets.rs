//! Facet counts: for each requested field, its values and how many matching
//! records carry each, or, in grouped mode, how many distinct customers (a
//! record without a customer counts as one). Counting reads fast fields only.
//! Disjunctive faceting (a selected value's siblings still counted) is done
//! by the caller, which runs a field's facet without that field's filter.
//!
//! It must never count a customer twice for one value, however many of its
//! records carry it.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashSet;

use serde::Serialize;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::caches::SearchCaches;
use super::customer_set::CustomerSet;
use super::doc_ords::DocOrds;
use super::facet_paths;
use super::grouping::{ords_to_hashes, ords_to_strings};
use super::segment_cache::CustomerNumbers;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

/// Counts values of `fields` over the matching records.
pub(crate) struct FacetCounts {
    pub fields: Vec<String>,
    /// Count distinct customers instead of records: the searcher's customer
    /// numbering ([`super::segment_cache::SegmentTables::customer_numbers`]).
    pub customers: Option<Arc<CustomerNumbers>>,
    /// The index's caches (dense ordinals of the counted columns).
    pub caches: Arc<SearchCaches>,
}

/// Per field: value → records, or value → set of customers.
pub(crate) enum Counted {
    Records(Vec<HashMap<String, u64>>),
    Customers(Vec<HashMap<String, CustomerSet>>),
}

pub(crate) struct FacetSegment {
    columns: Vec<Option<StrColumn>>,
    /// Each column's values per document, as one array read.
    dense: Vec<Option<Arc<DocOrds>>>,
    /// The `customer_id` column's ordinals per document (grouped mode).
    customer_ords: Option<Arc<DocOrds>>,
    customers: Option<(Option<StrColumn>, Option<StrColumn>)>,
    /// This segment's customer ordinals → searcher-wide customer numbers.
    numbers: Option<(Arc<CustomerNumbers>, tantivy::index::SegmentId)>,
    record_counts: Vec<Vec<u64>>,
    /// Per field, when small enough: one bit per (value, customer ordinal),
    /// `words_per_value` words per value — no sorting, no pairs.
    seen: Vec<Option<Vec<u64>>>,
    words_per_value: usize,
    /// (value, customer slot) pairs: records without a customer, and fields
    /// with too many values for `seen`.
    pairs: Vec<Vec<(u64, u64)>>,
    /// Per field, the value ordinals of records with several values (record
    /// counts of hierarchical levels must count such a record once).
    multi: Vec<Vec<Vec<u64>>>,
}

/// Largest bit table per field (in 64-bit words, 4 MiB).
const MAX_SEEN_WORDS: usize = 1 << 19;

impl Collector for FacetCounts {
    type Fruit = Counted;
    type Child = FacetSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegment> {
        let fast = reader.fast_fields();
        let columns: Vec<Option<StrColumn>> = self
            .fields
            .iter()
            .map(|f| fast.str(f))
            .collect::<Result<_, _>>()?;
        let segment = reader.segment_id();
        let max_doc = reader.max_doc();
        let dense = self
            .fields
            .iter()
            .zip(&columns)
            .map(|(name, c)| {
                c.as_ref()
                    .map(|c| self.caches.doc_ords.doc_ords(segment, name, c, max_doc))
            })
            .collect();
        let record_counts = columns
            .iter()
            .map(|c| vec![0; c.as_ref().map(|c| c.num_terms()).unwrap_or(0)])
            .collect();
        let customers = if self.customers.is_some() {
            Some((fast.str("customer_id")?, fast.str("id")?))
        } else {
            None
        };
        let numbers = self
            .customers
            .as_ref()
            .map(|n| (n.clone(), reader.segment_id()));
        let customer_column = customers.as_ref().and_then(|c| c.0.as_ref());
        let customer_ords = customer_column.map(|c| {
            self.caches
                .doc_ords
                .doc_ords(segment, "customer_id", c, max_doc)
        });
        let customer_terms = customer_column.map(|c| c.num_terms()).unwrap_or(0);
        let words_per_value = customer_terms.div_ceil(64);
        let seen = columns
            .iter()
            .map(|c| {
                let values = c.as_ref().map(|c| c.num_terms()).unwrap_or(0);
                let words = values.saturating_mul(words_per_value);
                (customer_column.is_some() && words > 0 && words <= MAX_SEEN_WORDS)
                    .then(|| vec![0u64; words])
            })
            .collect();
        Ok(FacetSegment {
            pairs: vec![Vec::new(); columns.len()],
            multi: vec![Vec::new(); columns.len()],
            columns,
            dense,
            customer_ords,
            customers,
            numbers,
            record_counts,
            seen,
            words_per_value,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counted>) -> tantivy::Result<Counted> {
        let n = self.fields.len();
        if self.customers.is_some() {
            let mut out: Vec<HashMap<String, CustomerSet>> = vec![HashMap::new(); n];
            for fruit in fruits {
                if let Counted::Customers(fields) = fruit {
                    for (i, values) in fields.into_iter().enumerate() {
                        for (value, set) in values {
                            match out[i].entry(value) {
                                std::collections::hash_map::Entry::Vacant(slot) => {
                                    slot.insert(set);
                                }
                                std::collections::hash_map::Entry::Occupied(mut slot) => {
                                    slot.get_mut().merge(set);
                                }
                            }
                        }
                    }
                }
            }
            Ok(Counted::Customers(out))
        } else {
            let mut out: Vec<HashMap<String, u64>> = vec![HashMap::new(); n];
            for fruit in fruits {
                if let Counted::Records(fields) = fruit {
                    for (i, values) in fields.into_iter().enumerate() {
                        for (value, count) in values {
                            *out[i].entry(value).or_default() += count;
                        }
                    }
                }
            }
            Ok(Counted::Records(out))
        }
    }
}

impl FacetSegment {
    /// The record's customer as a slot: its customer ord (even) or, for a
    /// record without a customer, its id ord (odd).
    fn customer_of(&self, doc: DocId) -> u64 {
        let Some((_, ids)) = &self.customers else {
            return 0;
        };
        match self.customer_ords.as_ref().and_then(|c| c.first(doc)) {
            Some(ord) => u64::from(ord) * 2,
            None => ids
                .as_ref()
                .and_then(|c| c.term_ords(doc).next())
                .map(|o| o * 2 + 1)
                .unwrap_or(u64::MAX),
        }
    }

    /// Stable hashes of the customers behind `slots`, resolved in one pass
    /// per column.
    fn customer_hashes(&self, slots: &FxHashSet<u64>) -> rustc_hash::FxHashMap<u64, u64> {
        let mut out = rustc_hash::FxHashMap::default();
        out.reserve(slots.len());
        let Some((customers, ids)) = &self.customers else {
            return out;
        };
        for (column, single) in [(customers, false), (ids, true)] {
            let Some(column) = column else { continue };
            let mut ords: Vec<u64> = slots
                .iter()
                .filter(|s| **s != u64::MAX && (*s % 2 == 1) == single)
                .map(|s| s / 2)
                .collect();
            ords.sort_unstable();
            for (ord, hash) in ords.iter().zip(ords_to_hashes(column, &ords, !single)) {
                out.insert(ord * 2 + u64::from(single), hash);
            }
        }
        out
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = Counted;

    fn collect(&mut self, doc: DocId, _: Score) {
        let customer = if self.customers.is_some() {
            Some(self.customer_of(doc))
        } else {
            None
        };
        self.collect_for(doc, customer);
    }

    fn harvest(self) -> Counted {
        self.counted()
    }
}

impl FacetSegment {
    /// Counts `doc`'s values; `customer` is its slot (see `customer_of`)
    /// in grouped mode, read once by the caller when it already has it.
    pub(crate) fn collect_for(&mut self, doc: DocId, customer: Option<u64>) {
        let words_per_value = self.words_per_value;
        for i in 0..self.dense.len() {
            let Some(ords) = &self.dense[i] else {
                continue;
            };
            match customer {
                Some(c) => {
                    let seen = &mut self.seen[i];
                    let pairs = &mut self.pairs[i];
                    ords.for_each(doc, |ord| {
                        // Even slots are customer ordinals (see customer_of).
                        if c % 2 == 0
                            && let Some(seen) = seen
                        {
                            let customer = (c / 2) as usize;
                            let at = ord as usize * words_per_value + customer / 64;
                            if let Some(word) = seen.get_mut(at) {
                                *word |= 1 << (customer % 64);
                                return;
                            }
                        }
                        pairs.push((u64::from(ord), c));
                    });
                }
                None => {
                    let counts = &mut self.record_counts[i];
                    ords.for_each(doc, |ord| {
                        if let Some(slot) = counts.get_mut(ord as usize) {
                            *slot += 1;
                        }
                    });
                    if ords.count(doc) > 1 {
                        let mut all = Vec::new();
                        ords.for_each(doc, |ord| all.push(u64::from(ord)));
                        self.multi[i].push(all);
                    }
                }
            }
        }
    }

    fn counted(mut self) -> Counted {
        if self.customers.is_some() {
            for pairs in &mut self.pairs {
                pairs.sort_unstable();
                pairs.dedup();
            }
            // Records without a customer (odd slots) by the hash of their id.
            let singles: FxHashSet<u64> = self
                .pairs
                .iter()
                .flatten()
                .map(|p| p.1)
                .filter(|slot| slot % 2 == 1)
                .collect();
            let hashes = self.customer_hashes(&singles);
            let (local, total): (&[u32], usize) = match &self.numbers {
                Some((numbers, segment)) => (numbers.segment(*segment), numbers.total),
                None => (&[], 0),
            };
            let add = |set: &mut CustomerSet, slot: u64| {
                if slot % 2 == 1 {
                    set.insert_single(hashes.get(&slot).copied().unwrap_or(slot));
                } else if let Some(number) = local.get((slot / 2) as usize) {
                    set.insert_customer(*number, total);
                }
            };
            let mut out = Vec::new();
            for ((column, pairs), seen) in self.columns.iter().zip(&self.pairs).zip(&self.seen) {
                let mut values: HashMap<String, CustomerSet> = HashMap::new();
                if let Some(column) = column {
                    let mut sets: Vec<(u64, CustomerSet)> = Vec::new();
                    if let Some(seen) = seen {
                        for (ord, words) in seen.chunks(self.words_per_value.max(1)).enumerate() {
                            let mut set = CustomerSet::default();
                            for (w, word) in words.iter().enumerate() {
                                let mut bits = *word;
                                while bits != 0 {
                                    let customer = w * 64 + bits.trailing_zeros() as usize;
                                    bits &= bits - 1;
                                    add(&mut set, customer as u64 * 2);
                                }
                            }
                            if !set.is_empty() {
                                sets.push((ord as u64, set));
                            }
                        }
                    }
                    let ords: Vec<u64> = sets.iter().map(|s| s.0).collect();
                    for ((_, set), name) in sets.into_iter().zip(ords_to_strings(column, &ords)) {
                        values.insert(name, set);
                    }
                    let mut ords: Vec<u64> = pairs.iter().map(|p| p.0).collect();
                    ords.dedup();
                    let names = ords_to_strings(column, &ords);
                    let mut at = 0;
                    for (ord, name) in ords.iter().zip(names) {
                        let set = values.entry(name).or_default();
                        while at < pairs.len() && pairs[at].0 == *ord {
                            add(set, pairs[at].1);
                            at += 1;
                        }
                    }
                }
                facet_paths::add_customer_levels(&mut values);
                out.push(values);
            }
            Counted::Customers(out)
        } else {
            let mut out = Vec::new();
            for ((column, counts), multi) in
                self.columns.iter().zip(self.record_counts).zip(&self.multi)
            {
                let mut values = HashMap::new();
                if let Some(column) = column {
                    let present: Vec<(u64, u64)> = counts
                        .into_iter()
                        .enumerate()
                        .filter(|(_, c)| *c > 0)
                        .map(|(ord, c)| (ord as u64, c))
                        .collect();
                    let ords: Vec<u64> = present.iter().map(|p| p.0).collect();
                    let names = ords_to_strings(column, &ords);
                    if names.iter().any(|n| n.starts_with('/')) {
                        let by_ord: HashMap<u64, &String> =
                            ords.iter().copied().zip(&names).collect();
                        let multi: Vec<Vec<String>> = multi
                            .iter()
                            .map(|doc| {
                                doc.iter()
                                    .filter_map(|o| by_ord.get(o).map(|n| n.to_string()))
                                    .collect()
                            })
                            .collect();
                        for ((_, count), name) in present.iter().zip(names) {
                            values.insert(name, *count);
                        }
                        facet_paths::add_record_levels(&mut values, &multi);
                    } else {
                        for ((_, count), name) in present.iter().zip(names) {
                            values.insert(name, *count);
                        }
                    }
                }
                out.push(values);
            }
            Counted::Records(out)
        }
    }
}

impl Counted {
    /// Field `i`'s values, most frequent first (ties by value), at most `size`.
    pub(crate) fn top(&self, i: usize, size: usize) -> Vec<FacetValue> {
        let mut values: Vec<FacetValue> = match self {
            Counted::Records(fields) => fields
                .get(i)
                .map(|m| {
                    m.iter()
                        .map(|(v, c)| FacetValue {
                            value: v.clone(),
                            count: *c,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Counted::Customers(fields) => fields
                .get(i)
                .map(|m| {
                    m.iter()
                        .map(|(v, s)| FacetValue {
                            value: v.clone(),
                            count: s.len(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        values.truncate(size);
        values
    }
}
