//! Keeping the book's statistics between incremental passes: a change
//! (records written or removed) replaces those records' contributions
//! (profiles, reference keys, what the closure reads) in [`BookStats`] and
//! the statistics are added up again from the contributions, so the next
//! pass reads only the changed records, not the whole book. The totals are
//! recomputed by the same code as `BookStats::of`, so an updated book's
//! statistics equal those of the whole book by construction (and a test
//! compares them).
//!
//! It must never read the store, and never guess: a change it cannot place
//! (a record born before one it keeps) gives `None`, and the caller
//! computes the statistics from the whole book.

use std::collections::{BTreeSet, HashMap};

use super::incremental::{BookStats, Parts, Slim};
use super::organisations::OrgProfile;
use super::people::PersonProfile;
use super::{Romaji, domain_of};
use crate::record::{Record, RecordKind};

impl BookStats {
    /// The statistics after a change: `changed` are the ids written or
    /// removed since these were computed, `now` those of them still in the
    /// book, with their birth, as the store holds them. `None` when a new
    /// record would not come last in first-seen order.
    pub fn update(
        self,
        changed: &BTreeSet<String>,
        now: Vec<(u64, Record)>,
        romaji: Option<Romaji>,
    ) -> Option<BookStats> {
        let _span =
            tracing::info_span!("update book statistics", changed = changed.len()).entered();
        let Parts {
            records,
            orgs,
            persons,
        } = self.parts;
        let mut now: HashMap<String, (u64, Record)> =
            now.into_iter().map(|(b, r)| (r.id(), (b, r))).collect();
        // Each record kept, at its new index: those not changed, and those
        // changed that kept their birth (rewritten, not removed and added
        // again), which get their new contribution.
        let mut moved: Vec<Option<usize>> = Vec::with_capacity(records.len());
        let mut slims: Vec<Slim> = Vec::with_capacity(records.len() + now.len());
        let mut rewritten: Vec<(usize, Record)> = Vec::new();
        for slim in records {
            if !changed.contains(&slim.id) {
                moved.push(Some(slims.len()));
                slims.push(slim);
                continue;
            }
            match now.remove(&slim.id) {
                Some((birth, r)) if birth == slim.birth => {
                    moved.push(None);
                    rewritten.push((slims.len(), r));
                    slims.push(Slim::of(&rewritten[rewritten.len() - 1].1, birth));
                }
                Some(again) => {
                    moved.push(None);
                    now.insert(slim.id, again);
                }
                None => moved.push(None),
            }
        }
        // New records come after every kept one, in birth order.
        let mut added: Vec<(u64, Record)> = now.into_values().collect();
        added.sort_by_key(|(birth, _)| *birth);
        let last = slims.last().map(|s| s.birth);
        if let (Some(last), Some((first, _))) = (last, added.first())
            && *first <= last
        {
            return None;
        }
        for (birth, r) in added {
            slims.push(Slim::of(&r, birth));
            rewritten.push((slims.len() - 1, r));
        }
        let keep = |i: usize| moved.get(i).copied().flatten();
        let mut orgs: Vec<(usize, OrgProfile)> = orgs
            .into_iter()
            .filter_map(|(i, p)| Some((keep(i)?, p)))
            .collect();
        let mut persons: Vec<(usize, PersonProfile)> = persons
            .into_iter()
            .filter_map(|(i, p)| Some((keep(i)?, p)))
            .collect();
        for (i, r) in &rewritten {
            match r.kind {
                RecordKind::Organization => orgs.push((*i, OrgProfile::of(r, domain_of, romaji))),
                RecordKind::Person => persons.push((*i, PersonProfile::of(r, None, romaji))),
                _ => {}
            }
        }
        // Mostly sorted already: the new ones are few.
        orgs.sort_by_key(|(i, _)| *i);
        persons.sort_by_key(|(i, _)| *i);
        Some(BookStats::of_parts(Parts {
            records: slims,
            orgs,
            persons,
        }))
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

    #[test]
    fn an_update_equals_the_whole_books_statistics() {
        let before = book();
        let births = [10, 11, 12, 13];
        let stats = BookStats::of_born(&before, &births, None);
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
            (20, again.clone()),
            (11, renamed.clone()),
            (15, added.clone()),
        ];
        let updated = stats.update(&changed, now, None);
        let after = vec![before[0].clone(), renamed, added, again];
        let whole = BookStats::of_born(&after, &[10, 11, 15, 20], None);
        assert!(updated.is_some_and(|u| u == whole));
    }

    #[test]
    fn a_record_born_before_a_kept_one_is_not_placed() {
        let before = book();
        let stats = BookStats::of_born(&before, &[10, 11, 12, 13], None);
        let changed: BTreeSet<String> = ["crm:9".to_string()].into();
        let early = (5, org("9", "Early Trading"));
        assert!(stats.update(&changed, vec![early], None).is_none());
    }
}
