//! When two [`BookStats`] are the same statistics: the same counts and
//! models, and the same records with the same contributions in the same
//! order, wherever their slots are (an update leaves empty slots, a book
//! computed whole has none). Tests compare an updated book's statistics with
//! the whole changed book's this way.
//!
//! It must never be used to decide anything in a pass: it walks every slot.

use std::collections::{BTreeMap, BTreeSet};

use super::incremental::{BookStats, Slim};
use super::organisations::OrgProfile;
use super::people::PersonProfile;

impl BookStats {
    /// What the live slots hold, in order, for comparing two books.
    #[allow(clippy::type_complexity)]
    fn live_slots(&self) -> Vec<(&Slim, &[u64], Option<&OrgProfile>, Option<&PersonProfile>)> {
        let find = |slot: usize| {
            let org = self
                .parts
                .orgs
                .binary_search_by_key(&slot, |(i, _)| *i)
                .ok()
                .map(|at| &self.parts.orgs[at].1);
            let person = self
                .parts
                .persons
                .binary_search_by_key(&slot, |(i, _)| *i)
                .ok()
                .map(|at| &self.parts.persons[at].1);
            (org, person)
        };
        self.parts
            .records
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let (org, person) = find(i);
                Some((s.as_ref()?, self.blocks[i].as_slice(), org, person))
            })
            .collect()
    }

    /// The postings by record id, and the staff ids, for comparing.
    fn postings_by_id(&self) -> (BTreeMap<u64, BTreeSet<&str>>, BTreeSet<&str>) {
        let postings = self
            .postings
            .iter()
            .map(|(k, slots)| {
                let ids = slots.iter().filter_map(|&s| self.id(s as usize)).collect();
                (*k, ids)
            })
            .collect();
        let staff = self.staff.iter().filter_map(|&s| self.id(s)).collect();
        (postings, staff)
    }
}

impl PartialEq for BookStats {
    /// The same statistics: the same counts and models, and the same
    /// records with the same contributions in the same order, wherever
    /// their slots are.
    fn eq(&self, other: &BookStats) -> bool {
        self.org == other.org
            && self.person == other.person
            && self.person_words == other.person_words
            && self.org_sizes == other.org_sizes
            && self.person_sizes == other.person_sizes
            && self.tally == other.tally
            && self.live == other.live
            && self.index.len() == self.live
            && other.index.len() == other.live
            && self.parts.orgs.len() == other.parts.orgs.len()
            && self.parts.persons.len() == other.parts.persons.len()
            && self.live_slots() == other.live_slots()
            && self.postings_by_id() == other.postings_by_id()
    }
}
