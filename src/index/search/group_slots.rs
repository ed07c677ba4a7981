//! Where a grouped search finds a customer's accumulator: a table of one
//! `u32` per customer-id ordinal of a segment (1 + the accumulator's index,
//! 0 for a customer not matched yet), instead of a whole 80-byte
//! accumulator per customer of the segment. Tables are taken from a small
//! pool and handed back with only the entries a search set cleared, so a
//! search neither allocates nor has the kernel zero a segment-sized table.
//!
//! It must never hand out a table with a non-zero entry: a table is
//! cleared, entry by entry, before it goes back to the pool.

use std::sync::{Arc, Mutex};

/// Tables kept for reuse (a few per piece of a search), and the bytes they
/// may hold together.
const MAX_POOLED: usize = 32;
pub(crate) const MAX_POOLED_BYTES: usize = 64 << 20;

/// One index's free tables.
#[derive(Default)]
pub(crate) struct SlotPool {
    free: Mutex<Vec<Vec<u32>>>,
}

impl SlotPool {
    /// The bytes and number of the tables waiting for reuse (reported in
    /// `/metrics` beside the search caches).
    pub(crate) fn held(&self) -> (usize, usize) {
        self.free
            .lock()
            .map(|free| (free.iter().map(|t| t.len() * 4).sum(), free.len()))
            .unwrap_or((0, 0))
    }
}

/// One piece's table, back in its pool when dropped.
pub(crate) struct Slots {
    table: Vec<u32>,
    /// The segment's customer-id ordinals (the table may be longer).
    len: usize,
    /// The ordinals set, in the order first seen.
    ords: Vec<u32>,
    pool: Arc<SlotPool>,
}

impl Slots {
    /// A table of at least `len` zero entries.
    pub(crate) fn take(pool: &Arc<SlotPool>, len: usize) -> Slots {
        let mut table = pool
            .free
            .lock()
            .ok()
            .and_then(|mut free| free.pop())
            .unwrap_or_default();
        if table.len() < len {
            table.resize(len, 0);
        }
        Slots {
            table,
            len,
            ords: Vec::new(),
            pool: pool.clone(),
        }
    }

    /// The index of `ord`'s accumulator, `next` (the number of
    /// accumulators so far) when `ord` is new; `None` when `ord` is out
    /// of range. `next` must grow by one each time it is returned.
    #[inline]
    pub(crate) fn index(&mut self, ord: u32, next: usize) -> Option<usize> {
        if ord as usize >= self.len {
            return None;
        }
        let slot = self.table.get_mut(ord as usize)?;
        if *slot == 0 {
            *slot = next as u32 + 1;
            self.ords.push(ord);
            return Some(next);
        }
        Some(*slot as usize - 1)
    }

    /// The ordinal of each accumulator, by index.
    pub(crate) fn ords(&self) -> &[u32] {
        &self.ords
    }
}

impl Drop for Slots {
    fn drop(&mut self) {
        for ord in &self.ords {
            if let Some(slot) = self.table.get_mut(*ord as usize) {
                *slot = 0;
            }
        }
        let table = std::mem::take(&mut self.table);
        if table.is_empty() {
            return;
        }
        if let Ok(mut free) = self.pool.free.lock() {
            let held: usize = free.iter().map(|t| t.len() * 4).sum();
            if free.len() < MAX_POOLED && held + table.len() * 4 <= MAX_POOLED_BYTES {
                free.push(table);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_comes_back_cleared() {
        let pool = Arc::new(SlotPool::default());
        let mut slots = Slots::take(&pool, 10);
        assert_eq!(slots.index(3, 0), Some(0));
        assert_eq!(slots.index(7, 1), Some(1));
        assert_eq!(slots.index(3, 2), Some(0));
        assert_eq!(slots.index(10, 2), None);
        assert_eq!(slots.ords(), &[3, 7]);
        drop(slots);
        let again = Slots::take(&pool, 4);
        assert_eq!(again.table.len(), 10);
        assert_eq!(again.len, 4);
        assert!(again.table.iter().all(|&s| s == 0));
        assert!(again.ords().is_empty());
        assert_eq!(pool.held(), (0, 0), "a table in use is not held");
        drop(again);
        assert_eq!(pool.held(), (40, 1));
    }
}
