//! What a note's clues are read against: every organisation name (as its
//! key's words, each word also with one letter left out, so a name written
//! with one slip is found), the names an organisation's own contacts give
//! it, customers' people by full name, organisations' cities, and names by
//! their reading across scripts. `attach/decide.rs` weighs what a note
//! holds; the text is read as `attach/shape.rs` shapes it.
//!
//! It must never guess: a slip is forgiven only in a long word of a name of
//! two words or more, and a name two organisations' contacts give stays
//! shared.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::super::{Graph, OrgLookup, Romaji, domain_of};
use crate::normalize::company_key;
use crate::record::RecordKind;

use super::shape::{FUZZY_NAME, FUZZY_WORD, deletions, one_slip};
pub(super) use super::shape::{Shaped, shaped, slipped_legal_form, words};

/// Phrases (lower-case words) by their first word, each with the
/// organisation roots it points to.
type Phrases = HashMap<String, Vec<(Vec<String>, BTreeSet<usize>)>>;

/// Phrases as they are collected: each one once, with its roots (a lookup
/// by the whole phrase, so a book of a million people is not quadratic).
type PhraseSets = HashMap<Vec<String>, BTreeSet<usize>>;

/// An organisation name key's words, its (root, node) pairs, the key.
pub(super) type Name = (Vec<String>, Vec<(usize, usize)>, String);

/// A name found in a run of words: which one, where, and whether with a slip.
#[derive(Clone)]
pub(super) struct Found {
    pub(super) name: usize,
    pub(super) start: usize,
    pub(super) len: usize,
    pub(super) slip: bool,
}

/// Organisation names, customers' people and cities, indexed for notes.
pub(in crate::resolve) struct Clues {
    /// Each organisation name key's words, its (root, node) pairs, and the
    /// key as written.
    pub(super) names: Vec<Name>,
    /// A word of a name, or that word with one letter left out → (name,
    /// position of the word in it).
    by_word: HashMap<String, Vec<(usize, usize)>>,
    /// Keys without spaces written in kanji or kana, found inside text.
    cjk: Vec<usize>,
    /// Full names of customers' people (two words or more) → org roots.
    people: Phrases,
    /// Cities of organisations (first word → words, org roots).
    pub(super) cities: Phrases,
    /// Each organisation root's cities (as words).
    pub(super) city_of: HashMap<usize, BTreeSet<Vec<String>>>,
    /// The names by their reading, across scripts.
    pub(super) readings: super::readings::Readings,
    /// Organisations resolution kept apart that are one firm.
    firms: super::firms::Firms,
}

/// Names no organisation record bears that an organisation's own contacts
/// give it in their company column (桜物産株式会社 for "Sakura Bussan
/// K.K.", "Thorn Richter & Söhne" for an account typed "Thorn Rihter"):
/// each key with the organisations whose contacts write it, so a name
/// contacts of two organisations write stays shared. An organisation that
/// shares a name with another (twins) gets none: its contacts' romanised
/// name may be its twin's too (新栄電子 twins, one written "Shinei Denshi").
fn contacts_names(
    graph: &Graph<'_>,
    lookup: &OrgLookup,
    roots: &[usize],
    membership: &HashMap<usize, (usize, String)>,
) -> BTreeMap<String, Vec<(usize, usize)>> {
    let twins: BTreeSet<usize> = lookup
        .by_key
        .values()
        .filter(|orgs| {
            let distinct: BTreeSet<usize> = orgs.iter().map(|(root, _)| *root).collect();
            distinct.len() > 1
        })
        .flat_map(|orgs| orgs.iter().map(|(root, _)| *root))
        .collect();
    let mut out: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    for (i, r) in graph.records.iter().enumerate() {
        if r.kind != RecordKind::Person || super::is_staff(r) {
            continue;
        }
        let Some(company) = r.company.as_deref() else {
            continue;
        };
        let key = company_key(company);
        if key.is_empty() || lookup.by_key.contains_key(&key) {
            continue;
        }
        let Some((org, _)) = roots.get(i).and_then(|root| membership.get(root)) else {
            continue;
        };
        // Only an organisation with a record: one known only by contacts'
        // names (often a typo of the real one) is a name of its own.
        let Some(&org_root) = roots.get(*org) else {
            continue;
        };
        if twins.contains(&org_root) {
            continue;
        }
        let orgs = out.entry(key).or_default();
        if !orgs.iter().any(|(root, _)| *root == org_root) {
            orgs.push((org_root, *org));
        }
    }
    out
}

/// Words as a city is compared in either script (大阪市 = osaka).
pub(super) fn city_words(words: &[String]) -> Vec<String> {
    words.iter().map(|w| super::cities::city_word(w)).collect()
}

/// A person's name as a note writes it (two words or more): honorifics
/// dropped, in the order written, and "Smith, Jon" also as "Jon Smith".
fn name_orders(name: &str) -> Vec<Vec<String>> {
    let parts: Vec<String> = crate::normalize::person_parts(name)
        .iter()
        .flat_map(|p| words(p))
        .collect();
    if parts.len() < 2 {
        return Vec::new();
    }
    let mut out = vec![parts.clone()];
    if let Some((family, given)) = name.split_once(',') {
        let turned: Vec<String> = words(given).into_iter().chain(words(family)).collect();
        if turned.len() >= 2 && turned != parts {
            out.push(turned);
        }
    }
    out
}

/// Adds `roots` under `words` (indexed by its first word).
fn add_phrase(map: &mut PhraseSets, words: Vec<String>, root: usize) {
    if !words.is_empty() {
        map.entry(words).or_default().insert(root);
    }
}

/// The collected phrases indexed by their first word (the order within a
/// list does not matter: lookups gather roots into a set).
fn by_first_word(sets: PhraseSets) -> Phrases {
    let mut out: Phrases = HashMap::new();
    for (words, roots) in sets {
        out.entry(words[0].clone())
            .or_default()
            .push((words, roots));
    }
    out
}

/// The roots of every phrase of `map` that `text` holds as whole words.
pub(super) fn phrases_in(map: &Phrases, text: &[String]) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    for (p, w) in text.iter().enumerate() {
        for (phrase, roots) in map.get(w).into_iter().flatten() {
            if text.get(p..p + phrase.len()) == Some(phrase.as_slice()) {
                out.extend(roots);
            }
        }
    }
    out
}

impl Clues {
    pub(in crate::resolve) fn new(
        graph: &Graph<'_>,
        lookup: &OrgLookup,
        roots: &[usize],
        membership: &HashMap<usize, (usize, String)>,
        domains: &HashMap<String, Option<usize>>,
        firms: super::firms::Firms,
    ) -> Clues {
        let mut names = Vec::new();
        let mut by_word: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        let mut cjk = Vec::new();
        let mut keys: Vec<(&String, &Vec<(usize, usize)>)> = lookup.by_key.iter().collect();
        let aliases = contacts_names(graph, lookup, roots, membership);
        keys.extend(aliases.iter());
        keys.sort();
        for (key, orgs) in keys {
            let mut w = words(key);
            // "Pioneer Health Pacific Limitde": the slipped form is no
            // part of the name.
            if w.len() >= 3 && w.last().is_some_and(|l| slipped_legal_form(l)) {
                w.pop();
            }
            if w.is_empty() {
                continue;
            }
            let n = names.len();
            if w.len() == 1 && !w[0].is_ascii() {
                cjk.push(n);
            }
            for (pos, word) in w.iter().enumerate() {
                for v in deletions(word) {
                    let list = by_word.entry(v).or_default();
                    // `n` only grows, so a repeat of this word's variant
                    // can only be the last entry (a scan of the whole list
                    // would be quadratic on common words).
                    if list.last() != Some(&(n, pos)) {
                        list.push((n, pos));
                    }
                }
            }
            names.push((w, orgs.clone(), key.clone()));
        }
        let mut people = PhraseSets::new();
        let mut cities = PhraseSets::new();
        let mut city_of: HashMap<usize, BTreeSet<Vec<String>>> = HashMap::new();
        for (i, r) in graph.records.iter().enumerate() {
            match r.kind {
                RecordKind::Person if !super::is_staff(r) => {
                    let Some(root) = roots.get(i) else { continue };
                    // A contact no organisation took (its company column
                    // names namesakes) is placed by a domain one owns.
                    let org = membership.get(root).map(|(org, _)| *org).or_else(|| {
                        let owners = r
                            .emails
                            .iter()
                            .filter_map(|e| domain_of(e))
                            .filter_map(|d| {
                                domains.get(&d.to_ascii_lowercase()).copied().flatten()
                            });
                        let mut owners: BTreeSet<usize> =
                            owners.filter_map(|n| roots.get(n).copied()).collect();
                        let only = owners.pop_first();
                        only.filter(|_| owners.is_empty())
                    });
                    let Some(&org_root) = org.and_then(|org| roots.get(org)) else {
                        continue;
                    };
                    for name in &r.names {
                        for w in name_orders(name) {
                            add_phrase(&mut people, w, org_root);
                        }
                    }
                }
                RecordKind::Organization => {
                    let (Some(city), Some(&root)) = (r.address().city.as_deref(), roots.get(i))
                    else {
                        continue;
                    };
                    let city = city_words(&words(city));
                    city_of.entry(root).or_default().insert(city.clone());
                    add_phrase(&mut cities, city, root);
                }
                _ => {}
            }
        }
        let readings = super::readings::Readings::new(
            names
                .iter()
                .enumerate()
                .map(|(n, (w, _, _))| (n, w.as_slice())),
            graph.romaji,
        );
        Clues {
            firms,
            readings,
            names,
            by_word,
            cjk,
            people: by_first_word(people),
            cities: by_first_word(cities),
            city_of,
        }
    }

    /// The organisation roots of the contacts (by full name) and addresses
    /// a note names.
    pub(super) fn people_named(
        &self,
        text: &str,
        text_words: &[String],
        person_by_email: &HashMap<String, usize>,
        domains: &HashMap<String, Option<usize>>,
        roots: &[usize],
        membership: &HashMap<usize, (usize, String)>,
    ) -> BTreeSet<usize> {
        let mut people = phrases_in(&self.people, text_words);
        for w in text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>')) {
            let w = w.trim_end_matches('.').to_lowercase();
            if !w.contains('@') {
                continue;
            }
            let person = person_by_email.get(&w).and_then(|&p| roots.get(p));
            let org = person
                .and_then(|root| membership.get(root))
                .and_then(|(org, _)| roots.get(*org))
                .or_else(|| {
                    let d = domain_of(&w)?;
                    domains.get(d).copied().flatten().and_then(|n| roots.get(n))
                });
            people.extend(org);
        }
        people
    }

    /// Whether organisation roots `a` and `b` are one firm resolution kept
    /// apart (`attach/firms.rs`).
    pub(super) fn same_firm(&self, a: usize, b: usize) -> bool {
        self.firms.same(a, b)
    }

    /// Whether the text names one of the cities organisation `root` is in.
    pub(super) fn city_names(&self, text_words: &[String], root: usize) -> bool {
        let Some(own) = self.city_of.get(&root) else {
            return false;
        };
        let text_words = &city_words(text_words);
        own.iter().any(|city| {
            !city.is_empty() && text_words.windows(city.len()).any(|w| w == city.as_slice())
        })
    }

    /// Whether the text names a city some organisation is in while the
    /// organisation `root` is known to be elsewhere.
    pub(super) fn city_contradicts(&self, text_words: &[String], root: usize) -> bool {
        let Some(own) = self.city_of.get(&root) else {
            return false;
        };
        let text_words = &city_words(text_words);
        let mut named = false;
        for (p, w) in text_words.iter().enumerate() {
            for (phrase, _) in self.cities.get(w).into_iter().flatten() {
                if text_words.get(p..p + phrase.len()) == Some(phrase.as_slice()) {
                    if own.contains(phrase) {
                        return false;
                    }
                    named = true;
                }
            }
        }
        named
    }

    /// Organisation names `text` holds, exactly or with one slip; a name
    /// inside a longer one found at the same place, and a slip where an
    /// exact name overlaps, are dropped.
    pub(super) fn names_in(&self, text: &[String], shape: Option<&Shaped>) -> Vec<Found> {
        let mut found = self.every_name_in(text, shape);
        let covers = |a: &Found, b: &Found| {
            a.start <= b.start && b.start + b.len <= a.start + a.len && a.len > b.len
        };
        let overlaps =
            |a: &Found, b: &Found| a.start < b.start + b.len && b.start < a.start + a.len;
        // A slip over the very words of an exact name is another
        // organisation's typo'd namesake: it stays a candidate.
        let same_words = |a: &Found, b: &Found| a.start == b.start && a.len == b.len;
        let all = found.clone();
        // An exact name that does not stand alone ("Lantern Partners" in
        // "Juniper Lantern Partners") is no reading of the words a slip
        // covers: the slip ("Juiper Lantern Partners") stays.
        let run_on_inside = |f: &Found, g: &Found| g.name == usize::MAX && covers(f, g);
        found.retain(|f| {
            !all.iter().any(|g| {
                (covers(g, f) && g.slip <= f.slip)
                    || (f.slip
                        && !g.slip
                        && overlaps(f, g)
                        && !same_words(f, g)
                        && !run_on_inside(f, g))
            })
        });
        found
    }

    /// The organisation roots whose name is `name` (its company key) only
    /// with one slip: namesakes whose records carry a typo.
    pub(super) fn slip_namesakes(&self, name: &str) -> BTreeSet<usize> {
        let key = words(&company_key(name));
        let found: Vec<Found> = self
            .every_name_in(&key, None)
            .into_iter()
            .filter(|f| f.start == 0 && f.len == key.len() && f.name != usize::MAX)
            .collect();
        let roots = |slip: bool| -> BTreeSet<usize> {
            found
                .iter()
                .filter(|f| f.slip == slip)
                .flat_map(|f| self.names[f.name].1.iter().map(|(root, _)| *root))
                .collect()
        };
        let exact = roots(false);
        roots(true).difference(&exact).copied().collect()
    }

    /// The organisation roots bearing a name that `name` (a whole name,
    /// its company key) spells in the other script: 金剛富士精機 for "Kongo
    /// Fuji Seiki K.K.", and the other way round.
    pub(super) fn read_namesakes(&self, name: &str, romaji: Option<Romaji>) -> BTreeSet<usize> {
        let key = words(&company_key(name));
        self.readings
            .of_name(&key, romaji)
            .into_iter()
            .flat_map(|n| self.names[n].1.iter().map(|(root, _)| *root))
            .collect()
    }

    /// Every name `text` holds, exactly or with one slip, overlaps and all.
    pub(super) fn every_name_in(&self, text: &[String], shape: Option<&Shaped>) -> Vec<Found> {
        let mut found: Vec<Found> = Vec::new();
        for (p, word) in text.iter().enumerate() {
            for v in deletions(word) {
                for &(name, pos) in self.by_word.get(&v).into_iter().flatten() {
                    let Some(start) = p.checked_sub(pos) else {
                        continue;
                    };
                    if found.iter().any(|f| f.name == name && f.start == start) {
                        continue;
                    }
                    if let Some(slip) = self.matches(name, &text[start..]) {
                        let len = self.names[name].0.len();
                        if shape.is_some_and(|s| !s.stands_alone(start, start + len)) {
                            found.push(Found {
                                name: usize::MAX,
                                start,
                                len,
                                slip,
                            });
                            continue;
                        }
                        found.push(Found {
                            name,
                            start,
                            len,
                            slip,
                        });
                    }
                }
            }
        }
        found
    }

    /// Whether name `n` starts `text`: `Some(false)` exactly, `Some(true)`
    /// with one slip in a long word of a long name of two words or more.
    fn matches(&self, n: usize, text: &[String]) -> Option<bool> {
        let (name, _, key) = &self.names[n];
        let window = text.get(..name.len())?;
        let mut slips = 0;
        for (w, k) in window.iter().zip(name) {
            if w == k {
                continue;
            }
            if k.chars().count() < FUZZY_WORD || !one_slip(w, k) {
                return None;
            }
            slips += 1;
        }
        match slips {
            0 => Some(false),
            1 if name.len() >= 2 && key.chars().count() >= FUZZY_NAME => Some(true),
            _ => None,
        }
    }

    /// Names whose reading the note spells in the other script: runs of
    /// two to four capitalised romanised words standing alone, and runs of
    /// kanji or kana (`attach/readings.rs`).
    pub(super) fn read_in(&self, text: &str, shape: &Shaped, romaji: Option<Romaji>) -> Vec<usize> {
        let mut found = self.readings.in_kanji(text, romaji);
        if romaji.is_some() {
            let words = &shape.words;
            for start in (0..words.len()).filter(|&s| shape.is_capital(s)) {
                let longest = super::readings::MAX_WORDS.min(words.len() - start);
                for len in 2..=longest {
                    if shape.stands_alone(start, start + len) {
                        found.extend(self.readings.read_latin(&words[start..start + len]));
                    }
                }
            }
        }
        found
    }

    /// Names written in kanji or kana that `text` holds.
    pub(super) fn cjk_in(&self, text: &str) -> Vec<usize> {
        self.cjk
            .iter()
            .copied()
            .filter(|&n| {
                // Not the tail of a longer name (三和日進工業 holds 日進工業).
                let key = self.names[n].2.as_str();
                text.match_indices(key).any(|(at, _)| {
                    !text[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric())
                })
            })
            .collect()
    }
}
