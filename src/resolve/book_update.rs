//! Keeping the book's statistics between incremental passes: a change
//! (records written or removed) takes back the old contributions of those
//! records (profiles, word counts, owners, block sizes, postings) and adds
//! their new ones, by difference (`book_tally.rs`), so the work grows with
//! the change, not with the book. A record's block keys depend on how many
//! records hold its words (a rare word is a block); when a change moves a
//! word across that limit, the records holding the word get their blocks
//! recomputed too (found by a scan of the profiles: the one step that
//! reads the whole book's profiles, and only when a word crosses).
//!
//! It must never read the store, and never guess: a change it cannot place
//! (a record born before one it keeps) gives `None`, and the caller
//! computes the statistics from the whole book. The result equals the
//! whole changed book's statistics (`PartialEq`, tested here and in
//! `tests/incremental_resolution.rs`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::book_tally::Moved;
use super::compare::words;
use super::incremental::{BookStats, Parts, Shifted, Slim, org_blocks, person_blocks};
use super::organisations::{MAX_BLOCK, OrgProfile};
use super::people::{self, PersonProfile};
use super::{BookRecord, Romaji, domain_of};
use crate::record::{Record, RecordKind};

/// An update leaves empty slots; when they outnumber a quarter of the
/// records, the statistics are rebuilt from the kept contributions (no
/// record read) with the slots closed up.
const MAX_EMPTY_SHARE: usize = 4;

/// A record's new contribution.
enum Profile {
    Org(OrgProfile),
    Person(PersonProfile),
    None,
}

impl BookStats {
    /// The statistics after a change: `changed` are the ids written or
    /// removed since these were computed, `now` those of them still in the
    /// book, with their birth, as the store holds them. `None` when a new
    /// record would not come last in first-seen order.
    pub fn update(
        mut self,
        changed: &BTreeSet<String>,
        now: Vec<(u64, Record)>,
        romaji: Option<Romaji>,
    ) -> Option<BookStats> {
        let _span =
            tracing::info_span!("update book statistics", changed = changed.len()).entered();
        // Held as the statistics read a record (`BookRecord::for_statistics`).
        let mut now: HashMap<String, (u64, BookRecord)> = now
            .into_iter()
            .map(|(b, r)| (r.id(), (b, BookRecord::for_statistics(r))))
            .collect();
        // Records kept in their slot with a new contribution, and slots
        // emptied (removed, or removed and added again with a new birth).
        let mut rewritten: Vec<(usize, u64, BookRecord)> = Vec::new();
        let mut removed: Vec<usize> = Vec::new();
        for id in changed {
            let Some(&slot) = self.index.get(id) else {
                continue;
            };
            let birth = self.parts.records.get(slot)?.as_ref()?.birth;
            match now.remove(id) {
                Some((b, r)) if b == birth => rewritten.push((slot, b, r)),
                Some(again) => {
                    removed.push(slot);
                    now.insert(id.clone(), again);
                }
                None => removed.push(slot),
            }
        }
        // New records come after every kept one, in birth order.
        let mut added: Vec<(u64, BookRecord)> = now.into_values().collect();
        added.sort_by_key(|(birth, _)| *birth);
        let gone: HashSet<usize> = removed.iter().copied().collect();
        let last = self
            .parts
            .records
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, s)| s.as_ref().filter(|_| !gone.contains(&i)))
            .map(|s| s.birth);
        if let (Some(last), Some((first, _))) = (last, added.first())
            && *first <= last
        {
            return None;
        }
        let mut moved = Moved::default();
        self.moved = Shifted::default();
        let mut old_keys: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
        for &slot in removed.iter().chain(rewritten.iter().map(|(s, _, _)| s)) {
            self.take_back(slot, &mut old_keys, &mut moved);
        }
        for &slot in &removed {
            if let Some(Some(slim)) = self.parts.records.get_mut(slot).map(Option::take) {
                self.index.remove(&slim.id);
                self.live -= 1;
            }
        }
        // The new contributions: rewritten records in their slot, added
        // ones in new slots at the end.
        let mut new: Vec<(usize, Slim, Profile)> = Vec::new();
        for (slot, birth, r) in rewritten {
            new.push((slot, Slim::of(&r, birth), Profile::of(&r, romaji)));
        }
        for (birth, r) in added {
            let slot = self.parts.records.len();
            self.parts.records.push(None);
            self.blocks.push(Vec::new());
            old_keys.insert(slot, Vec::new());
            self.index.insert(r.id(), slot);
            self.live += 1;
            new.push((slot, Slim::of(&r, birth), Profile::of(&r, romaji)));
        }
        let mut recompute: BTreeSet<usize> = BTreeSet::new();
        let mut orgs_in: Vec<(usize, OrgProfile)> = Vec::new();
        let mut persons_in: Vec<(usize, PersonProfile)> = Vec::new();
        for (slot, slim, profile) in new {
            recompute.insert(slot);
            if let Some(s) = self.parts.records.get_mut(slot) {
                *s = Some(slim);
            }
            match profile {
                Profile::Org(p) => {
                    self.tally.org(&mut self.org, &p, true, &mut moved);
                    orgs_in.push((slot, p));
                }
                Profile::Person(p) => {
                    self.tally.person(
                        &mut self.person,
                        &mut self.person_words,
                        &p,
                        true,
                        &mut moved,
                    );
                    persons_in.push((slot, p));
                }
                Profile::None => {}
            }
        }
        self.place_profiles(&old_keys, orgs_in, persons_in);
        // Records whose blocks moved because a word crossed the rare-word
        // limit.
        for slot in self.crossed(&moved) {
            if recompute.insert(slot) {
                self.take_back_blocks(slot, &mut old_keys);
                self.moved.slots.insert(slot);
            }
        }
        for slot in recompute {
            self.put_blocks(slot);
        }
        for (slot, old) in old_keys {
            self.move_postings(slot, old);
        }
        if (self.parts.records.len() - self.live) * MAX_EMPTY_SHARE > self.live {
            return Some(self.closed_up());
        }
        Some(self)
    }

    /// Takes back what the record in `slot` contributes: its profile's
    /// counts, its block sizes; its keys are kept in `old_keys` for the
    /// postings.
    fn take_back(&mut self, slot: usize, old_keys: &mut BTreeMap<usize, Vec<u64>>, m: &mut Moved) {
        let Some(kind) = self.slim_kind(slot) else {
            return;
        };
        self.take_back_blocks(slot, old_keys);
        self.staff.remove(&slot);
        match kind {
            RecordKind::Organization => {
                if let Ok(at) = self.parts.orgs.binary_search_by_key(&slot, |(i, _)| *i) {
                    let p = &self.parts.orgs[at].1;
                    self.tally.org(&mut self.org, p, false, m);
                }
            }
            RecordKind::Person => {
                if let Ok(at) = self.parts.persons.binary_search_by_key(&slot, |(i, _)| *i) {
                    let p = &self.parts.persons[at].1;
                    self.tally
                        .person(&mut self.person, &mut self.person_words, p, false, m);
                }
            }
            _ => {}
        }
    }

    fn slim_kind(&self, slot: usize) -> Option<RecordKind> {
        Some(self.parts.records.get(slot)?.as_ref()?.kind)
    }

    /// Takes a slot's blocks out of the block sizes, keeping its keys (as
    /// they were) for the postings.
    fn take_back_blocks(&mut self, slot: usize, old_keys: &mut BTreeMap<usize, Vec<u64>>) {
        let Some(slim) = self.parts.records.get(slot).and_then(Option::as_ref) else {
            return;
        };
        let blocks = std::mem::take(&mut self.blocks[slot]);
        old_keys.entry(slot).or_insert_with(|| slim.keys(&blocks));
        let sizes = match slim.kind {
            RecordKind::Organization => &mut self.org_sizes,
            _ => &mut self.person_sizes,
        };
        for h in blocks {
            sizes.remove_hash(h);
        }
    }

    /// Puts the new profiles in their place: over the old ones of the same
    /// slot, or in order; drops the profiles of slots that no longer have
    /// one of that kind.
    fn place_profiles(
        &mut self,
        old_keys: &BTreeMap<usize, Vec<u64>>,
        orgs_in: Vec<(usize, OrgProfile)>,
        persons_in: Vec<(usize, PersonProfile)>,
    ) {
        fn place<P>(
            list: &mut Vec<(usize, P)>,
            taken: &BTreeMap<usize, Vec<u64>>,
            new: Vec<(usize, P)>,
        ) {
            let mut kept: HashSet<usize> = HashSet::new();
            let mut unsorted = false;
            for (slot, p) in new {
                kept.insert(slot);
                match list.binary_search_by_key(&slot, |(i, _)| *i) {
                    Ok(at) => list[at].1 = p,
                    Err(at) => {
                        unsorted |= at != list.len();
                        list.push((slot, p));
                    }
                }
            }
            let stale = taken.keys().any(|slot| {
                !kept.contains(slot) && list.binary_search_by_key(slot, |(i, _)| *i).is_ok()
            });
            if stale {
                list.retain(|(slot, _)| !taken.contains_key(slot) || kept.contains(slot));
            }
            if unsorted {
                list.sort_by_key(|(i, _)| *i);
            }
        }
        place(&mut self.parts.orgs, old_keys, orgs_in);
        place(&mut self.parts.persons, old_keys, persons_in);
    }

    /// The slots of records holding a word whose count crossed the
    /// rare-word limit in this update.
    fn crossed(&self, moved: &Moved) -> Vec<usize> {
        let org: HashSet<&str> = moved
            .org
            .iter()
            .filter(|(w, before)| {
                (**before <= MAX_BLOCK) != (self.org.words.frequency(w) as usize <= MAX_BLOCK)
            })
            .map(|(w, _)| w.as_str())
            .collect();
        let person: HashSet<&str> = moved
            .person
            .iter()
            .filter(|(w, before)| {
                let now = self.person_words.get(w.as_str()).copied().unwrap_or(0);
                (**before <= people::MAX_BLOCK) != (now <= people::MAX_BLOCK)
            })
            .map(|(w, _)| w.as_str())
            .collect();
        let holds = |keys: &[String], set: &HashSet<&str>| {
            keys.iter()
                .any(|k| words(k).iter().any(|w| set.contains(w)))
        };
        let mut slots = Vec::new();
        if !org.is_empty() {
            let _span = tracing::info_span!("words crossed the limit", words = org.len()).entered();
            slots.extend(
                self.parts
                    .orgs
                    .iter()
                    .filter(|(_, p)| holds(&p.keys, &org))
                    .map(|(i, _)| *i),
            );
        }
        if !person.is_empty() {
            let _span =
                tracing::info_span!("name words crossed the limit", words = person.len()).entered();
            slots.extend(
                self.parts
                    .persons
                    .iter()
                    .filter(|(_, p)| holds(&p.keys, &person))
                    .map(|(i, _)| *i),
            );
        }
        slots
    }

    /// Computes a slot's blocks from its profile and the current counts,
    /// and counts them in the block sizes.
    fn put_blocks(&mut self, slot: usize) {
        let blocks = match self.slim_kind(slot) {
            Some(RecordKind::Organization) => {
                match self.parts.orgs.binary_search_by_key(&slot, |(i, _)| *i) {
                    Ok(at) => org_blocks(&self.parts.orgs[at].1, &self.org),
                    Err(_) => Vec::new(),
                }
            }
            Some(RecordKind::Person) => {
                match self.parts.persons.binary_search_by_key(&slot, |(i, _)| *i) {
                    Ok(at) => person_blocks(&self.parts.persons[at].1, &self.person_words),
                    Err(_) => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        let sizes = match self.slim_kind(slot) {
            Some(RecordKind::Organization) => &mut self.org_sizes,
            _ => &mut self.person_sizes,
        };
        for &h in &blocks {
            sizes.add_hash(h);
        }
        self.blocks[slot] = blocks;
    }

    /// Moves a slot in the postings from its old keys to its current ones.
    fn move_postings(&mut self, slot: usize, old: Vec<u64>) {
        let new = match self.parts.records.get(slot).and_then(Option::as_ref) {
            Some(slim) => {
                if slim.staff {
                    self.staff.insert(slot);
                }
                slim.keys(&self.blocks[slot])
            }
            None => Vec::new(),
        };
        let at = slot as u32;
        for k in old.iter().filter(|k| new.binary_search(k).is_err()) {
            self.moved.keys.insert(*k);
            if let Some(list) = self.postings.get_mut(k) {
                if let Some(pos) = list.iter().position(|&s| s == at) {
                    list.swap_remove(pos);
                }
                if list.is_empty() {
                    self.postings.remove(k);
                }
            }
        }
        for k in new.iter().filter(|k| old.binary_search(k).is_err()) {
            self.moved.keys.insert(*k);
            self.postings.entry(*k).or_default().push(at);
        }
    }

    /// The same statistics with the empty slots closed up (the kept
    /// contributions added up again; no record read).
    fn closed_up(self) -> BookStats {
        let _span = tracing::info_span!("close up book statistics", records = self.live).entered();
        let mut to: Vec<Option<usize>> = Vec::with_capacity(self.parts.records.len());
        let mut records = Vec::with_capacity(self.live);
        for slim in self.parts.records {
            to.push(slim.as_ref().map(|_| records.len()));
            if let Some(s) = slim {
                records.push(Some(s));
            }
        }
        let slot = |i: usize| to.get(i).copied().flatten();
        let orgs = self
            .parts
            .orgs
            .into_iter()
            .filter_map(|(i, p)| Some((slot(i)?, p)))
            .collect();
        let persons = self
            .parts
            .persons
            .into_iter()
            .filter_map(|(i, p)| Some((slot(i)?, p)))
            .collect();
        let moved = Shifted {
            keys: self.moved.keys,
            slots: self.moved.slots.into_iter().filter_map(slot).collect(),
        };
        let mut stats = BookStats::of_parts(Parts {
            records,
            orgs,
            persons,
        });
        stats.moved = moved;
        stats
    }
}

impl Profile {
    fn of(r: &BookRecord, romaji: Option<Romaji>) -> Profile {
        match r.kind {
            RecordKind::Organization => Profile::Org(OrgProfile::of(r, domain_of, romaji)),
            RecordKind::Person => Profile::Person(PersonProfile::of(r, None, romaji)),
            _ => Profile::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: &str, name: &str) -> Record {
        let mut r = Record::new("crm", id, RecordKind::Organization);
        r.names.push(name.into());
        r
    }

    fn person(id: &str, name: &str, company: &str) -> Record {
        let mut r = Record::new("crm", id, RecordKind::Person);
        r.names.push(name.into());
        r.company = Some(company.into());
        r
    }

    fn book() -> Vec<Record> {
        vec![
            org("1", "Acme Robotics Inc."),
            person("2", "Jon Smith", "Acme Robotics"),
            org("3", "Cedar Foods"),
            person("4", "Ann Lee", "Cedar Foods"),
        ]
    }

    /// Organisations that no change touches, so that an update leaves too
    /// few empty slots to close them up (which adds everything up again).
    fn others() -> Vec<Record> {
        (0..20)
            .map(|i| org(&format!("x{i}"), &format!("Filler Works {i}")))
            .collect()
    }

    #[test]
    fn an_update_equals_the_whole_books_statistics() {
        let mut before = book();
        before.extend(others());
        let births: Vec<u64> = (10..14).chain(30..50).collect();
        let stats = BookStats::of_born(&super::super::statistics_book(&before), &births, None);
        // Record 2 renamed, record 3 removed, record 5 added, record 4
        // removed and added again (a new birth: it moves last).
        let renamed = person("2", "Jonathan Smith", "Acme Robotics");
        let added = org("5", "Delta Logistics");
        let again = person("4", "Ann Lee", "Delta Logistics");
        let changed: BTreeSet<String> = ["crm:2", "crm:3", "crm:4", "crm:5"]
            .into_iter()
            .map(String::from)
            .collect();
        let now = vec![
            (60, again.clone()),
            (11, renamed.clone()),
            (55, added.clone()),
        ];
        let updated = stats.update(&changed, now, None);
        let mut after = vec![before[0].clone(), renamed];
        after.extend(others());
        after.extend([added, again]);
        let births: Vec<u64> = [10, 11].into_iter().chain(30..50).chain([55, 60]).collect();
        let whole = BookStats::of_born(&super::super::statistics_book(&after), &births, None);
        assert!(updated.is_some_and(|u| u.parts.records.len() == 26 && u == whole));
    }

    #[test]
    fn a_record_born_before_a_kept_one_is_not_placed() {
        let before = book();
        let stats = BookStats::of_born(
            &super::super::statistics_book(&before),
            &[10, 11, 12, 13],
            None,
        );
        let changed: BTreeSet<String> = ["crm:9".to_string()].into();
        let early = (5, org("9", "Early Trading"));
        assert!(stats.update(&changed, vec![early], None).is_none());
    }

    /// 101 organisations share the word "common": one removed brings it
    /// under the rare-word limit, and every other holder's blocks change.
    #[test]
    fn a_word_crossing_the_rare_word_limit_moves_its_holders_blocks() {
        let before: Vec<Record> = (0..=MAX_BLOCK)
            .map(|i| org(&i.to_string(), &format!("Common Trading {i}")))
            .collect();
        let births: Vec<u64> = (0..before.len() as u64).collect();
        let stats = BookStats::of_born(&super::super::statistics_book(&before), &births, None);
        let changed: BTreeSet<String> = ["crm:0".to_string()].into();
        let Some(updated) = stats.update(&changed, Vec::new(), None) else {
            panic!("a removal is always placed");
        };
        let after = &before[1..];
        let whole = BookStats::of_born(&super::super::statistics_book(after), &births[1..], None);
        assert!(updated == whole);
        // The 100 others now share a rare-word block: all re-resolved,
        // though the removed record's keys no longer name it.
        let previous = super::super::Resolution::default();
        let overrides = super::super::Overrides::default();
        let plan = super::super::plan(&updated, &changed, &previous, &overrides);
        assert_eq!(plan.subset.len(), MAX_BLOCK, "{:?}", plan.subset);
    }

    /// Most of a book removed: the empty slots are closed up, and the
    /// statistics are still the whole book's.
    #[test]
    fn empty_slots_are_closed_up() {
        let before = book();
        let stats =
            BookStats::of_born(&super::super::statistics_book(&before), &[1, 2, 3, 4], None);
        let changed: BTreeSet<String> = ["crm:1", "crm:2"].into_iter().map(String::from).collect();
        let updated = stats.update(&changed, Vec::new(), None);
        let whole = BookStats::of_born(&super::super::statistics_book(&before[2..]), &[3, 4], None);
        assert!(updated.is_some_and(|u| u.parts.records.len() == 2 && u == whole));
    }
}
