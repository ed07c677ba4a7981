//! Which blocks over the size limit a change may have moved across it.
//! A block of more than `MAX_BLOCK` records gives no pairs, in a full pass
//! or a partial one; the plan re-resolves its records only when the block
//! may have held `MAX_BLOCK` or fewer before the change, that is when the
//! records that can have joined it since (the changed ones, and those an
//! update re-blocked) bring it from the limit or under to above it.
//!
//! It must never drop a block that may have given pairs before the change:
//! it errs towards taking a block.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::organisations::MAX_BLOCK;

// One limit serves both kinds of block.
const _: () = assert!(MAX_BLOCK == super::people::MAX_BLOCK);

/// The records that can have joined a block since the previous resolution.
pub(super) struct Crossing<'a> {
    /// The book's postings: per key, the slots holding it.
    postings: &'a HashMap<u64, Vec<u32>>,
    joined: HashSet<u32>,
}

impl<'a> Crossing<'a> {
    /// `seeds`: the slots of the changed records; `moved`: those whose
    /// blocks the last update of the statistics changed.
    pub(super) fn new(
        postings: &'a HashMap<u64, Vec<u32>>,
        seeds: &[usize],
        moved: &BTreeSet<usize>,
    ) -> Crossing<'a> {
        let joined = seeds
            .iter()
            .chain(moved)
            .filter_map(|&i| u32::try_from(i).ok())
            .collect();
        Crossing { postings, joined }
    }

    /// Whether the block `key`, holding `now` records, may have held
    /// `MAX_BLOCK` or fewer before: only records that can have joined it
    /// since are taken away (a record that left it made it larger before).
    pub(super) fn may_have_crossed(&self, key: u64, now: usize) -> bool {
        let joined = self
            .postings
            .get(&key)
            .into_iter()
            .flatten()
            .filter(|slot| self.joined.contains(slot))
            .count();
        now.saturating_sub(joined) <= MAX_BLOCK
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::{BookStats, Overrides, Resolution, plan};
    use crate::record::{Record, RecordKind};

    /// Organisation `i` named `{prefix}{letters of i}`: its only shared
    /// block is the word start of the prefix.
    fn org(prefix: &str, i: usize) -> Record {
        let mut r = Record::new("crm", &format!("{prefix}{i}"), RecordKind::Organization);
        let letters: String = [i / 26 / 26, i / 26 % 26, i % 26]
            .iter()
            .map(|&d| char::from(b'a' + d as u8))
            .collect();
        r.names = vec![format!("{prefix}{letters}")];
        r
    }

    /// The plan's subset when `changed` (ids) change in `book`.
    fn planned(book: &[Record], changed: &[String]) -> usize {
        let stats = BookStats::of(&crate::resolve::statistics_book(book), None);
        let changed: BTreeSet<String> = changed.iter().cloned().collect();
        plan(
            &stats,
            &changed,
            &Resolution::default(),
            &Overrides::default(),
        )
        .subset
        .len()
    }

    /// 150 organisations share the word start "quo": a block over the
    /// limit before and after a change of one of them gives no pairs, so
    /// its other 149 records are not re-resolved, however many other
    /// records change.
    #[test]
    fn a_block_over_the_limit_before_and_after_is_not_taken() {
        let mut book: Vec<Record> = (0..150).map(|i| org("Quorn", i)).collect();
        book.extend((0..59).map(|i| org("Zephyr", i)));
        let mut changed: Vec<String> = (0..59).map(|i| format!("crm:Zephyr{i}")).collect();
        changed.push("crm:Quorn0".into());
        assert_eq!(planned(&book, &changed), 60);
    }

    /// 101 organisations share the word start: the changed one may have
    /// joined it, bringing it over the limit, so the block's pairs may be
    /// gone and all of its records are re-resolved.
    #[test]
    fn a_block_a_change_may_have_brought_over_the_limit_is_taken() {
        let book: Vec<Record> = (0..101).map(|i| org("Quorn", i)).collect();
        assert_eq!(planned(&book, &["crm:Quorn7".into()]), 101);
    }
}
