//! Facet counts: for each requested field, its values and how many matching
//! records carry each, or, in grouped mode, how many distinct customers (a
//! record without a customer counts as one). Counting reads fast fields only.
//! Disjunctive faceting (a selected value's siblings still counted) is done
//! by the caller, which runs a field's facet without that field's filter.
//!
//! It must never count a customer twice for one value, however many of its
//! records carry it.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::Serialize;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

/// Counts values of `fields` over the matching records.
pub struct FacetCounts {
    pub fields: Vec<String>,
    /// Count distinct customers instead of records.
    pub customers: bool,
}

/// Per field: value → records, or value → set of customer hashes.
pub enum Counted {
    Records(Vec<HashMap<String, u64>>),
    Customers(Vec<HashMap<String, HashSet<u64>>>),
}

pub struct FacetSegment {
    columns: Vec<Option<StrColumn>>,
    customers: Option<(Option<StrColumn>, Option<StrColumn>)>,
    record_counts: Vec<Vec<u64>>,
    pairs: Vec<HashSet<(u64, u64)>>,
    customer_hash: HashMap<u64, u64>,
}

fn hash_of(text: &str, single: bool) -> u64 {
    let mut h = DefaultHasher::new();
    single.hash(&mut h);
    text.hash(&mut h);
    h.finish()
}

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
        let record_counts = columns
            .iter()
            .map(|c| vec![0; c.as_ref().map(|c| c.num_terms()).unwrap_or(0)])
            .collect();
        let customers = if self.customers {
            Some((fast.str("customer_id")?, fast.str("id")?))
        } else {
            None
        };
        Ok(FacetSegment {
            pairs: vec![HashSet::new(); columns.len()],
            columns,
            customers,
            record_counts,
            customer_hash: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counted>) -> tantivy::Result<Counted> {
        let n = self.fields.len();
        if self.customers {
            let mut out: Vec<HashMap<String, HashSet<u64>>> = vec![HashMap::new(); n];
            for fruit in fruits {
                if let Counted::Customers(fields) = fruit {
                    for (i, values) in fields.into_iter().enumerate() {
                        for (value, set) in values {
                            out[i].entry(value).or_default().extend(set);
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
    /// A stable hash of the record's customer (or of the record itself).
    fn customer_of(&mut self, doc: DocId) -> u64 {
        let Some((customers, ids)) = &self.customers else {
            return 0;
        };
        let (column, single) = match customers.as_ref().and_then(|c| c.term_ords(doc).next()) {
            Some(ord) => (customers.as_ref().map(|c| (c, ord)), false),
            None => (
                ids.as_ref()
                    .and_then(|c| c.term_ords(doc).next().map(|o| (c, o))),
                true,
            ),
        };
        let Some((column, ord)) = column else {
            return u64::from(doc);
        };
        let slot = ord.wrapping_mul(2) + u64::from(single);
        if let Some(h) = self.customer_hash.get(&slot) {
            return *h;
        }
        let mut text = String::new();
        let _ = column.ord_to_str(ord, &mut text);
        let h = hash_of(&text, single);
        self.customer_hash.insert(slot, h);
        h
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
        for i in 0..self.columns.len() {
            let Some(column) = &self.columns[i] else {
                continue;
            };
            for ord in column.term_ords(doc) {
                match customer {
                    Some(c) => {
                        self.pairs[i].insert((ord, c));
                    }
                    None => {
                        if let Some(slot) = self.record_counts[i].get_mut(ord as usize) {
                            *slot += 1;
                        }
                    }
                }
            }
        }
    }

    fn harvest(self) -> Counted {
        let mut text = String::new();
        let mut value_of = |column: &StrColumn, ord: u64| -> Option<String> {
            text.clear();
            column
                .ord_to_str(ord, &mut text)
                .ok()?
                .then(|| text.clone())
        };
        if self.customers.is_some() {
            let mut out = Vec::new();
            for (column, pairs) in self.columns.iter().zip(self.pairs) {
                let mut values: HashMap<String, HashSet<u64>> = HashMap::new();
                let mut names: HashMap<u64, String> = HashMap::new();
                if let Some(column) = column {
                    for (ord, customer) in pairs {
                        let name = match names.get(&ord) {
                            Some(n) => n.clone(),
                            None => {
                                let n = value_of(column, ord).unwrap_or_default();
                                names.insert(ord, n.clone());
                                n
                            }
                        };
                        values.entry(name).or_default().insert(customer);
                    }
                }
                out.push(values);
            }
            Counted::Customers(out)
        } else {
            let mut out = Vec::new();
            for (column, counts) in self.columns.iter().zip(self.record_counts) {
                let mut values = HashMap::new();
                if let Some(column) = column {
                    for (ord, count) in counts.into_iter().enumerate().filter(|(_, c)| *c > 0) {
                        if let Some(name) = value_of(column, ord as u64) {
                            values.insert(name, count);
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
    pub fn top(&self, i: usize, size: usize) -> Vec<FacetValue> {
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
                            count: s.len() as u64,
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
