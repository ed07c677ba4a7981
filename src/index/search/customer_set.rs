//! A set of distinct customers for grouped facet counts: customers by their
//! searcher-wide number ([`super::segment_cache::CustomerNumbers`]), as a
//! short list of numbers while few, as one bit per numbered customer once
//! the list would be larger than the bits; records without a customer by
//! the hash of their record id. A facet value matched by a few customers
//! then costs a few numbers per piece of a search, not a table the size of
//! the searcher's customers (which the kernel had to zero each query).
//!
//! It must never count a customer twice, whichever segments its records are
//! in or however often it is inserted: a customer has one number across all
//! of a searcher's segments, and the list is deduplicated before counting.

use rustc_hash::FxHashSet;

#[derive(Debug, Default, Clone)]
pub(crate) struct CustomerSet {
    /// One bit per customer number; empty while the customers are listed.
    bits: Vec<u64>,
    /// Customer numbers while `bits` is empty (unordered, may repeat).
    listed: Vec<u32>,
    /// How many customers the searcher numbers (sizes `bits`).
    total: usize,
    /// Hashes of the record ids of records without a customer.
    singles: FxHashSet<u64>,
}

impl CustomerSet {
    /// Adds customer `number` of `total` numbered customers.
    pub(crate) fn insert_customer(&mut self, number: u32, total: usize) {
        self.total = self.total.max(total);
        if number as usize / 64 >= self.words() {
            return; // Not a numbered customer: the bits would drop it too.
        }
        if self.bits.is_empty() {
            self.listed.push(number);
            if self.listed.len() > self.list_limit() {
                self.switch_to_bits();
            }
        } else {
            set_bit(&mut self.bits, number);
        }
    }

    /// Adds a record without a customer, by the hash of its id.
    pub(crate) fn insert_single(&mut self, hash: u64) {
        self.singles.insert(hash);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.listed.is_empty() && self.singles.is_empty() && self.bits.iter().all(|w| *w == 0)
    }

    pub(crate) fn len(&self) -> u64 {
        let customers: u64 = if self.bits.is_empty() {
            let mut listed = self.listed.clone();
            listed.sort_unstable();
            listed.dedup();
            listed.len() as u64
        } else {
            self.bits.iter().map(|w| u64::from(w.count_ones())).sum()
        };
        customers + self.singles.len() as u64
    }

    /// Adds every member of `other`.
    pub(crate) fn merge(&mut self, mut other: CustomerSet) {
        self.total = self.total.max(other.total);
        if self.bits.len() < other.bits.len() {
            std::mem::swap(&mut self.bits, &mut other.bits);
            std::mem::swap(&mut self.listed, &mut other.listed);
        }
        if self.bits.is_empty() {
            // Both listed.
            self.listed.extend(other.listed);
            if self.listed.len() > self.list_limit() {
                self.listed.sort_unstable();
                self.listed.dedup();
                if self.listed.len() > self.list_limit() {
                    self.switch_to_bits();
                }
            }
        } else {
            for (word, more) in self.bits.iter_mut().zip(&other.bits) {
                *word |= more;
            }
            for number in other.listed {
                set_bit(&mut self.bits, number);
            }
        }
        if self.singles.len() < other.singles.len() {
            std::mem::swap(&mut self.singles, &mut other.singles);
        }
        self.singles.extend(other.singles);
    }

    /// Most numbers listed before the bits take less room.
    fn list_limit(&self) -> usize {
        self.words() * 2
    }

    /// Words of `bits`.
    fn words(&self) -> usize {
        self.total.div_ceil(64).max(1)
    }

    /// Moves the listed numbers into bits.
    fn switch_to_bits(&mut self) {
        self.bits = vec![0; self.words()];
        for number in std::mem::take(&mut self.listed) {
            set_bit(&mut self.bits, number);
        }
    }
}

fn set_bit(bits: &mut [u64], number: u32) {
    let n = number as usize;
    if let Some(word) = bits.get_mut(n / 64) {
        *word |= 1 << (n % 64);
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

    /// Listed and bit sets, merged every way round, with repeats: the same
    /// distinct count as a plain set of the numbers.
    #[test]
    fn listed_and_bits_count_the_same() {
        let total = 640; // 10 words: at most 20 listed.
        let few: Vec<u32> = vec![5, 9, 5, 600, 9, 63, 64];
        let many: Vec<u32> = (0..300).map(|i| (i * 7) % 500).collect();
        let build = |numbers: &[u32]| {
            let mut set = CustomerSet::default();
            for n in numbers {
                set.insert_customer(*n, total);
            }
            set
        };
        let distinct = |parts: &[&[u32]]| {
            let all: std::collections::BTreeSet<u32> =
                parts.iter().flat_map(|p| p.iter().copied()).collect();
            all.len() as u64
        };
        let small = build(&few);
        assert!(small.bits.is_empty(), "a few customers stay listed");
        assert_eq!(small.len(), distinct(&[&few]));
        let large = build(&many);
        assert!(!large.bits.is_empty(), "many customers become bits");
        assert_eq!(large.len(), distinct(&[&many]));
        for (a, b) in [(&few, &many), (&many, &few), (&few, &few), (&many, &many)] {
            let mut left = build(a);
            left.merge(build(b));
            assert_eq!(left.len(), distinct(&[a, b]), "{} + {}", a.len(), b.len());
        }
        // Listed sets whose union passes the limit only before deduplication.
        let repeated: Vec<u32> = (0..15).collect();
        let mut left = build(&repeated);
        left.merge(build(&repeated));
        assert!(left.bits.is_empty());
        assert_eq!(left.len(), 15);
        let mut empty = CustomerSet::default();
        empty.merge(build(&few));
        assert_eq!(empty.len(), distinct(&[&few]));
    }
}
