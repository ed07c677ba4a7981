//! The book's totals changed by difference: adding or taking back one
//! record's organisation or person profile moves the word counts, the
//! owners of a name and the names of a phone exactly as counting the whole
//! book again would (`OrgModel::of`, `PersonModel::of`, `word_counts`). The
//! owners of a name and the names of a phone are counts of distinct values,
//! so each keeps a multiset ([`Tally`]) of which value was seen how often.
//!
//! It must never count anything the whole-book code does not: the models it
//! moves are compared with those computed from the whole book in tests
//! (`book_update.rs`, `tests/incremental_resolution.rs`).

use std::collections::HashMap;

use super::blocking::block_hash;
use super::compare::words;
use super::organisations::{OrgModel, OrgProfile};
use super::people::{PersonModel, PersonProfile};

/// Multisets behind the distinct counts of the models, by 64-bit hashes
/// (as block sizes are).
#[derive(Debug, Default, PartialEq)]
pub(super) struct Tally {
    /// (organisation name key, domain or phone) → times seen together.
    org_pairs: HashMap<(u64, u64), u32>,
    /// Organisation name key → distinct domains, distinct phones, and how
    /// many times a profile holds the key.
    org_keys: HashMap<u64, [u32; 3]>,
    /// (phone, person name key) → times seen together.
    phone_pairs: HashMap<(u64, u64), u32>,
    /// Phone → distinct name keys, and how many times a profile holds it.
    phones: HashMap<u64, [u32; 2]>,
}

/// Words whose count moved, with the count they had before the first move
/// (organisation words by document frequency, person words by occurrence).
#[derive(Default)]
pub(super) struct Moved {
    pub(super) org: HashMap<String, usize>,
    pub(super) person: HashMap<String, usize>,
}

/// Moves a pair count by one; whether the pair appeared (`+1` from zero)
/// or disappeared (down to zero).
fn step(pairs: &mut HashMap<(u64, u64), u32>, pair: (u64, u64), add: bool) -> bool {
    if add {
        let n = pairs.entry(pair).or_default();
        *n += 1;
        *n == 1
    } else {
        match pairs.get_mut(&pair) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                pairs.remove(&pair);
                true
            }
            None => false,
        }
    }
}

fn bump(n: &mut u32, add: bool) {
    *n = if add { *n + 1 } else { n.saturating_sub(1) };
}

impl Tally {
    /// The tally of a whole book's profiles.
    pub(super) fn of(orgs: &[(usize, OrgProfile)], persons: &[(usize, PersonProfile)]) -> Tally {
        let mut tally = Tally::default();
        for (_, p) in orgs {
            tally.org_pairs_of(p, true);
        }
        for (_, p) in persons {
            tally.person_pairs_of(p, true);
        }
        tally
    }

    /// Adds (or takes back) one organisation profile: its multisets here,
    /// its words and owners in `model`.
    pub(super) fn org(&mut self, model: &mut OrgModel, p: &OrgProfile, add: bool, m: &mut Moved) {
        for k in &p.keys {
            for w in words(k) {
                let before = model.words.frequency(w) as usize;
                m.org.entry(w.to_string()).or_insert(before);
            }
            if add {
                model.words.add(k);
            } else {
                model.words.remove(k);
            }
        }
        let keys = self.org_pairs_of(p, add);
        for (k, kh) in p.keys.iter().zip(keys) {
            match self.org_keys.get(&kh) {
                Some([d, ph, _]) => {
                    model.owners.insert(k.clone(), (*d).max(*ph).max(1));
                }
                None => {
                    model.owners.remove(k);
                }
            }
        }
    }

    /// The multiset part of [`Tally::org`]; the hashes of the keys.
    fn org_pairs_of(&mut self, p: &OrgProfile, add: bool) -> Vec<u64> {
        let mut hashes = Vec::with_capacity(p.keys.len());
        for k in &p.keys {
            let kh = block_hash("owner key", k);
            hashes.push(kh);
            let mut counts = self.org_keys.get(&kh).copied().unwrap_or_default();
            bump(&mut counts[2], add);
            for d in &p.domains {
                if step(&mut self.org_pairs, (kh, block_hash("d", d)), add) {
                    bump(&mut counts[0], add);
                }
            }
            for ph in &p.phones {
                if step(&mut self.org_pairs, (kh, block_hash("p", ph)), add) {
                    bump(&mut counts[1], add);
                }
            }
            if counts[2] == 0 {
                self.org_keys.remove(&kh);
            } else {
                self.org_keys.insert(kh, counts);
            }
        }
        hashes
    }

    /// Adds (or takes back) one person profile: its multisets here, its
    /// names and phones in `model`, its words in `words`.
    pub(super) fn person(
        &mut self,
        model: &mut PersonModel,
        person_words: &mut HashMap<String, usize>,
        p: &PersonProfile,
        add: bool,
        m: &mut Moved,
    ) {
        for k in &p.keys {
            counted(&mut model.names, k, add);
            for w in words(k) {
                let before = person_words.get(w).copied().unwrap_or(0);
                m.person.entry(w.to_string()).or_insert(before);
                match person_words.get_mut(w) {
                    Some(n) if add => *n += 1,
                    Some(n) if *n > 1 => *n -= 1,
                    Some(_) => {
                        person_words.remove(w);
                    }
                    None if add => {
                        person_words.insert(w.to_string(), 1);
                    }
                    None => {}
                }
            }
        }
        let phones = self.person_pairs_of(p, add);
        for (ph, hh) in p.phones.iter().zip(phones) {
            match self.phones.get(&hh) {
                Some([distinct, _]) => {
                    model.phone_names.insert(ph.clone(), *distinct);
                }
                None => {
                    model.phone_names.remove(ph);
                }
            }
        }
    }

    /// The multiset part of [`Tally::person`]; the hashes of the phones.
    fn person_pairs_of(&mut self, p: &PersonProfile, add: bool) -> Vec<u64> {
        let mut hashes = Vec::with_capacity(p.phones.len());
        for ph in &p.phones {
            let hh = block_hash("phone names", ph);
            hashes.push(hh);
            let mut counts = self.phones.get(&hh).copied().unwrap_or_default();
            bump(&mut counts[1], add);
            for k in &p.keys {
                if step(&mut self.phone_pairs, (hh, block_hash("k", k)), add) {
                    bump(&mut counts[0], add);
                }
            }
            if counts[1] == 0 {
                self.phones.remove(&hh);
            } else {
                self.phones.insert(hh, counts);
            }
        }
        hashes
    }
}

/// Moves a count by one, forgetting it at zero.
fn counted(map: &mut HashMap<String, u32>, key: &str, add: bool) {
    match map.get_mut(key) {
        Some(n) if add => *n += 1,
        Some(n) if *n > 1 => *n -= 1,
        Some(_) => {
            map.remove(key);
        }
        None if add => {
            map.insert(key.to_string(), 1);
        }
        None => {}
    }
}
