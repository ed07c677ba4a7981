//! The person matching model: what of a person record can be compared
//! (names in any order or script, emails, phones, the organisation the
//! record already belongs to, date of birth, identifiers, postcode and
//! city), which pairs are compared (blocking rules, with their pair
//! counts), and each feature's weight in bits.
//!
//! A name's weight depends on how common it is in this book: two records
//! of "John Smith" say less than two of "Zwicklbauer". The same name inside
//! the same resolved organisation is strong evidence; at two different
//! organisations it is evidence against.
//!
//! It must never link anything itself: it scores, `cluster.rs` decides.

use std::collections::{BTreeMap, HashMap};

use super::BookRecord;
use super::blocking::{BlockSizes, Blocks, same, shares};
use super::book_record::strings;
use super::cluster::Thresholds;
use super::compare::{has_cjk, reading_keys, same_parts, words};
use super::estimate::{Estimate, Session, Weights};
use super::evidence::Evidence;
use super::name_readings::{NameSide, readings_disagree};
use super::organisations::fold_place;
use crate::normalize::{person_key, person_parts};

pub const THRESHOLDS: Thresholds = Thresholds {
    link: 9.0,
    review: 5.0,
    sure: 15.0,
    margin: 3.0,
    // People have several addresses: two that differ (−2) do not object.
    floor: -3.0,
    mean: 3.0,
    // A typo'd date of birth (-6) or a different address does not object
    // on its own; a different name (-6) with nothing else for does, through
    // the floor.
    disagreement: -6.5,
};

pub(super) const MAX_BLOCK: usize = 100;

#[derive(Debug, Default, PartialEq)]
pub struct PersonProfile {
    /// Order-free matching keys of each name.
    pub keys: Vec<String>,
    /// Each name's parts joined by a space, in the order written.
    pub spaced: Vec<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// The root of the organisation the record belongs to, if known.
    pub org: Option<usize>,
    pub birth_date: Option<chrono::NaiveDate>,
    pub identifiers: Vec<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub street: Option<String>,
    /// Each name read in romaji (see `compare::reading_keys`), for names
    /// written in another script.
    pub readings: Vec<String>,
}

impl PersonProfile {
    fn name_side(&self) -> NameSide<'_> {
        NameSide {
            keys: &self.keys,
            spaced: &self.spaced,
            readings: &self.readings,
        }
    }

    pub fn of(
        record: &BookRecord,
        org: Option<usize>,
        romaji: Option<super::Romaji>,
    ) -> PersonProfile {
        let mut keys: Vec<String> = record
            .names
            .iter()
            .map(|n| person_key(n))
            .filter(|k| !k.is_empty())
            .collect();
        keys.sort();
        keys.dedup();
        let spaced = record
            .names
            .iter()
            .map(|n| person_parts(n).join(" "))
            .filter(|s| !s.is_empty())
            .collect();
        PersonProfile {
            keys,
            spaced,
            emails: strings(&record.emails),
            phones: strings(&record.phones),
            org,
            birth_date: record.birth_date(),
            identifiers: record.identifiers().clone(),
            postcode: record.address().postcode.as_deref().map(fold_place),
            city: record.address().city.as_deref().map(fold_place),
            street: record.address().street.as_deref().map(fold_place),
            readings: record
                .names
                .iter()
                .flat_map(|n| reading_keys(&person_parts(n), romaji))
                .collect(),
        }
    }
}

/// What the model knows of the whole book: how many records bear each name
/// key, and how many differently named people share each phone (a
/// switchboard).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PersonModel {
    pub(super) names: HashMap<String, u32>,
    pub(super) phone_names: HashMap<String, u32>,
    /// Weights estimated by EM (`estimate.rs`), when they are used.
    estimated: Option<Estimated>,
}

/// The estimated weights and what a name's term-frequency adjustment needs.
#[derive(Debug, Clone, PartialEq)]
struct Estimated {
    weights: Weights,
    /// m of the exact name level, and how many records the book has.
    exact_m: f64,
    records: f64,
}

/// What each blocking rule keys on, for EM's training sessions
/// (`estimate.rs`): name keys, words and parts; email; phone; organisation;
/// date of birth; identifier.
pub const SESSIONS: &[Session] = &[
    Session {
        feature: "name",
        levels: &[
            "exact",
            "same parts, other order",
            "same reading, other script",
            "initials or short form agree",
            "close",
            "similar",
        ],
    },
    Session {
        feature: "email",
        levels: &["shared"],
    },
    Session {
        feature: "phone",
        levels: &["shared", "shared by several people"],
    },
    Session {
        feature: "organisation",
        levels: &["same"],
    },
    Session {
        feature: "birth date",
        levels: &["same"],
    },
    Session {
        feature: "identifier",
        levels: &["same"],
    },
];

/// The levels that stay as set here whatever EM says: the organisation
/// rules (the same name inside the same organisation), a switchboard, and
/// an exact name, whose weight follows its frequency (see `exact_name_bits`).
pub fn hand_rule(feature: &str, level: &str) -> bool {
    feature == "organisation"
        || (feature, level) == ("phone", "shared by several people")
        || (feature, level) == ("name", "exact")
}

impl PersonModel {
    pub fn of(profiles: &[(usize, PersonProfile)]) -> PersonModel {
        let mut names: HashMap<String, u32> = HashMap::new();
        let mut phone_names: HashMap<&str, Vec<&str>> = HashMap::new();
        for (_, p) in profiles {
            for k in &p.keys {
                *names.entry(k.clone()).or_default() += 1;
            }
            for ph in &p.phones {
                phone_names
                    .entry(ph)
                    .or_default()
                    .extend(p.keys.iter().map(String::as_str));
            }
        }
        let phone_names = phone_names
            .into_iter()
            .map(|(ph, mut ks)| {
                ks.sort_unstable();
                ks.dedup();
                (ph.to_string(), ks.len() as u32)
            })
            .collect();
        PersonModel {
            names,
            phone_names,
            estimated: None,
        }
    }

    /// Scores with the weights `estimate` found, the hand rules kept.
    pub fn use_estimate(&mut self, estimate: &Estimate, records: usize) {
        self.estimated = Some(Estimated {
            weights: Weights::of(estimate, hand_rule),
            exact_m: estimate.level("name", "exact").map_or(0.9, |l| l.m),
            records: records.max(1) as f64,
        });
    }

    fn exact_name_bits(&self, key: &str) -> f64 {
        let n = f64::from(self.names.get(key).copied().unwrap_or(1).max(1));
        match &self.estimated {
            // Term-frequency adjusted, as Splink does: u of this name is
            // the share of records bearing it.
            Some(est) => (est.exact_m * est.records / n).log2().clamp(5.0, 8.0),
            None => (9.0 - n.log2()).clamp(5.0, 8.0),
        }
    }
}

fn name_weight(a: &PersonProfile, b: &PersonProfile, model: &PersonModel, e: &mut Evidence) {
    let exact = a
        .keys
        .iter()
        .filter(|k| b.keys.contains(k))
        .map(|k| model.exact_name_bits(k))
        .max_by(f64::total_cmp);
    if let Some(bits) = exact {
        e.add("name", "exact", bits);
        return;
    }
    let reordered = a
        .spaced
        .iter()
        .any(|x| b.spaced.iter().any(|y| has_cjk(x) && same_parts(x, y)));
    if reordered {
        e.add("name", "same parts, other order", 6.0);
        return;
    }
    if a.keys
        .iter()
        .any(|x| b.keys.iter().any(|y| initials_agree(x, y)))
    {
        e.add("name", "initials or short form agree", 2.0);
        return;
    }
    let mut best: Option<f64> = None;
    for x in &a.keys {
        for y in &b.keys {
            if has_cjk(x) != has_cjk(y) {
                continue;
            }
            let s = strsim::jaro_winkler(x, y);
            best = Some(best.map_or(s, |b: f64| b.max(s)));
        }
    }
    match best {
        None if a.readings.iter().any(|r| b.readings.contains(r)) => {
            e.add("name", "same reading, other script", 6.0)
        }
        None if readings_disagree(&a.name_side(), &b.name_side()) => {
            e.add("name", "different reading", -6.0)
        }
        None if !a.keys.is_empty() && !b.keys.is_empty() => e.add("name", "other script", 0.0),
        None => {}
        Some(s) if s >= 0.93 => e.add("name", "close", 4.0),
        Some(s) if s >= 0.85 => e.add("name", "similar", 0.0),
        Some(_) => e.add("name", "different", -6.0),
    }
}

/// "k ng" and "kim ng": every word of the shorter name is a word of the
/// other or its initial, and one full word at least is shared.
fn initials_agree(x: &str, y: &str) -> bool {
    let (wx, wy) = (words(x), words(y));
    initials_within(&wx, &wy) || initials_within(&wy, &wx)
}

/// Every word of `short` is a word of `long` or its initial.
fn initials_within(short: &[&str], long: &[&str]) -> bool {
    if short.len() > long.len() {
        return false;
    }
    let mut used = vec![false; long.len()];
    let mut full = false;
    for w in short {
        let exact = long.iter().enumerate().find(|(j, l)| !used[*j] && *l == w);
        // An initial ("k"), or a short form of three letters or more ("kim"
        // of "kimberly").
        let found = exact.or_else(|| {
            long.iter()
                .enumerate()
                .find(|(j, l)| !used[*j] && l.len() > w.len() && l.starts_with(*w))
                .filter(|_| w.chars().count() == 1 || w.chars().count() >= 3)
        });
        match found {
            Some((j, l)) => {
                full |= l == w && w.chars().count() > 1;
                used[j] = true;
            }
            None => return false,
        }
    }
    full && short.iter().any(|w| !long.contains(w))
}

/// Two dates of birth that differ in one part only (a typo in the day, the
/// month or the year), or with day and month swapped.
fn dates_close(x: chrono::NaiveDate, y: chrono::NaiveDate) -> bool {
    use chrono::Datelike;
    let same = [
        x.year() == y.year(),
        x.month() == y.month(),
        x.day() == y.day(),
    ];
    let swapped = x.year() == y.year() && x.month() == y.day() && x.day() == y.month();
    same.iter().filter(|s| **s).count() == 2 || swapped
}

/// Scores one pair of person records.
pub fn score(a: &PersonProfile, b: &PersonProfile, model: &PersonModel) -> Evidence {
    let mut e = Evidence::default();
    name_weight(a, b, model, &mut e);
    e.agreement(
        "email",
        shares(&a.emails, &b.emails),
        ("shared", 12.0),
        ("different", -2.0),
    );
    match shares(&a.phones, &b.phones) {
        Some(true) => {
            let switchboard = a
                .phones
                .iter()
                .filter(|p| b.phones.contains(p))
                .all(|p| model.phone_names.get(p).copied().unwrap_or(0) > 2);
            if switchboard {
                e.add("phone", "shared by several people", 1.0);
            } else {
                e.add("phone", "shared", 7.0);
            }
        }
        Some(false) => e.add("phone", "different", -1.0),
        None => {}
    }
    match (a.org, b.org) {
        (Some(x), Some(y)) if x == y => e.add("organisation", "same", 6.0),
        (Some(_), Some(_)) => e.add("organisation", "different", -6.0),
        _ => {}
    }
    if let (Some(x), Some(y)) = (a.birth_date, b.birth_date) {
        if x == y {
            e.add("birth date", "same", 9.0);
        } else if dates_close(x, y) {
            e.add("birth date", "one part differs", 2.0);
        } else {
            e.add("birth date", "different", -6.0);
        }
    }
    if !a.identifiers.is_empty() && !b.identifiers.is_empty() {
        let close = |x: &String, y: &String| strsim::levenshtein(x, y) <= 2;
        if shares(&a.identifiers, &b.identifiers) == Some(true) {
            e.add("identifier", "same", 14.0);
        } else if a
            .identifiers
            .iter()
            .any(|x| b.identifiers.iter().any(|y| close(x, y)))
        {
            e.add("identifier", "one or two characters differ", 5.0);
        } else {
            e.add("identifier", "different", -6.0);
        }
    }
    if let (Some(x), Some(y)) = (&a.street, &b.street) {
        if x == y {
            e.add("street", "same", 3.0);
        } else if strsim::jaro_winkler(x, y) >= 0.9 {
            e.add("street", "close", 1.0);
        } else {
            e.add("street", "different", -1.0);
        }
    }
    e.agreement(
        "postcode",
        same(&a.postcode, &b.postcode),
        ("same", 3.0),
        ("different", -2.0),
    );
    e.agreement(
        "city",
        same(&a.city, &b.city),
        ("same", 2.0),
        ("different", -1.0),
    );
    if let Some(est) = &model.estimated {
        est.weights.reweigh(&mut e);
    }
    e
}

/// The pairs worth comparing, and how many each blocking rule produced.
pub fn candidate_pairs(
    profiles: &[(usize, PersonProfile)],
) -> (Vec<(usize, usize)>, BTreeMap<&'static str, usize>) {
    let counts = word_counts(profiles);
    candidate_pairs_with(profiles, &|w| counts.get(w).copied().unwrap_or(0), None)
}

/// How many name keys of `profiles` hold each word.
pub fn word_counts(profiles: &[(usize, PersonProfile)]) -> HashMap<String, usize> {
    let mut word_counts: HashMap<String, usize> = HashMap::new();
    for (_, p) in profiles {
        for k in &p.keys {
            for w in words(k) {
                match word_counts.get_mut(w) {
                    Some(n) => *n += 1,
                    None => {
                        word_counts.insert(w.to_string(), 1);
                    }
                }
            }
        }
    }
    word_counts
}

/// [`candidate_pairs`] with the word counts (`count`) and block sizes of
/// the whole book, for a subset of it.
pub fn candidate_pairs_with(
    profiles: &[(usize, PersonProfile)],
    count: &(dyn Fn(&str) -> usize + Sync),
    sizes: Option<&BlockSizes>,
) -> (Vec<(usize, usize)>, BTreeMap<&'static str, usize>) {
    Blocks::of(profiles, |p, add| block_keys(p, count, add)).pairs_sized(MAX_BLOCK, sizes)
}

/// The blocks (rule and key) one person record falls in; `count` says how
/// many name keys of the book hold a word.
pub fn block_keys(
    p: &PersonProfile,
    count: &dyn Fn(&str) -> usize,
    mut add: impl FnMut(&'static str, String),
) {
    for k in &p.keys {
        add("name key", k.clone());
        for w in words(k) {
            if count(w) <= MAX_BLOCK {
                add("rare name word", w.to_string());
            }
            if let Some(org) = p.org {
                add(
                    "organisation and initial",
                    format!("{org}:{}", w.chars().take(2).collect::<String>()),
                );
            }
        }
    }
    for s in &p.spaced {
        if has_cjk(s) {
            let mut parts = words(s);
            parts.sort_unstable();
            add("japanese name parts", parts.concat());
        }
    }
    if let Some(org) = p.org {
        add("organisation", org.to_string());
    }
    for e in &p.emails {
        add("email", e.clone());
    }
    for ph in &p.phones {
        add("phone", ph.clone());
    }
    for id in &p.identifiers {
        add("identifier", id.clone());
    }
    if let Some(d) = p.birth_date {
        add("birth date", d.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str) -> PersonProfile {
        let mut r = crate::record::Record::new("s", "1", crate::record::RecordKind::Person);
        r.names.push(name.into());
        PersonProfile::of(&BookRecord::from(r), None, None)
    }

    #[test]
    fn the_same_name_in_the_same_organisation_links_across_email_and_phone() {
        let model = PersonModel::default();
        let mut a = person("Mr. Jon Smith");
        let mut b = person("Smith, Jon");
        a.emails.push("jon@acme.com".into());
        b.phones.push("+15555550100".into());
        a.org = Some(3);
        b.org = Some(3);
        assert!(score(&a, &b, &model).total >= THRESHOLDS.link);
        b.org = Some(4);
        assert!(score(&a, &b, &model).total < THRESHOLDS.review);
    }

    #[test]
    fn japanese_names_in_either_order_match() {
        let model = PersonModel::default();
        let e = score(&person("直子 高橋"), &person("高橋 直子 様"), &model);
        assert!(e.total >= 6.0, "{}", e.describe());
        let e = score(&person("高橋直子"), &person("直子 高橋"), &model);
        assert!(e.total >= 6.0, "{}", e.describe());
    }

    #[test]
    fn initials_agree_with_the_full_name() {
        assert!(initials_agree("k ng", "kim ng"));
        assert!(initials_agree("j smith", "jon smith"));
        assert!(!initials_agree("j smith", "jon smythe"));
        assert!(
            !initials_agree("kim ng", "kim ng"),
            "exact is another level"
        );
        assert!(!initials_agree("k ng", "ng tan"));
        assert!(initials_agree("kim ng", "kimberly ng"), "a short form");
        assert!(
            !initials_agree("ki ng", "kimberly ng"),
            "two letters are neither"
        );
    }

    #[test]
    fn common_names_weigh_less_than_rare_ones() {
        let profiles: Vec<(usize, PersonProfile)> = (0..40)
            .map(|i| (i, person("John Smith")))
            .chain([(99, person("Anna Zwicklbauer"))])
            .collect();
        let model = PersonModel::of(&profiles);
        assert!(model.exact_name_bits("john smith") < model.exact_name_bits("anna zwicklbauer"));
    }
}
