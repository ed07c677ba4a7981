//! A set of distinct customers for grouped facet counts: customers by their
//! searcher-wide number ([`super::segment_cache::CustomerNumbers`]) as bits,
//! and records without a customer by the hash of their record id.
//!
//! It must never count a customer twice, whichever segments its records are
//! in: a customer has one number across all of a searcher's segments.

use rustc_hash::FxHashSet;

#[derive(Debug, Default, Clone)]
pub(crate) struct CustomerSet {
    /// One bit per customer number; empty until the first customer.
    bits: Vec<u64>,
    /// Hashes of the record ids of records without a customer.
    singles: FxHashSet<u64>,
}

impl CustomerSet {
    /// Adds customer `number` of `total` numbered customers.
    pub(crate) fn insert_customer(&mut self, number: u32, total: usize) {
        if self.bits.is_empty() {
            self.bits = vec![0; total.div_ceil(64).max(1)];
        }
        let n = number as usize;
        if let Some(word) = self.bits.get_mut(n / 64) {
            *word |= 1 << (n % 64);
        }
    }

    /// Adds a record without a customer, by the hash of its id.
    pub(crate) fn insert_single(&mut self, hash: u64) {
        self.singles.insert(hash);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn len(&self) -> u64 {
        let customers: u64 = self.bits.iter().map(|w| u64::from(w.count_ones())).sum();
        customers + self.singles.len() as u64
    }

    /// Adds every member of `other`.
    pub(crate) fn merge(&mut self, mut other: CustomerSet) {
        if self.bits.len() < other.bits.len() {
            std::mem::swap(&mut self.bits, &mut other.bits);
        }
        for (word, more) in self.bits.iter_mut().zip(&other.bits) {
            *word |= more;
        }
        if self.singles.len() < other.singles.len() {
            std::mem::swap(&mut self.singles, &mut other.singles);
        }
        self.singles.extend(other.singles);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_counts_once_across_merges() {
        let mut a = CustomerSet::default();
        a.insert_customer(3, 200);
        a.insert_customer(130, 200);
        a.insert_single(42);
        let mut b = CustomerSet::default();
        b.insert_customer(3, 200);
        b.insert_single(42);
        b.insert_single(7);
        a.merge(b);
        assert_eq!(a.len(), 4);
        assert!(CustomerSet::default().is_empty());
    }
}
