//! The organisation matching model: what of an organisation record can be
//! compared (name keys, web and email domains, phones, registration
//! numbers, postcode, city, country), which pairs are compared at all
//! (blocking rules, with the number of pairs each produced), and the weight
//! each feature contributes to a pair.
//!
//! Weights are log2 Bayes factors: how much likelier the observation is for
//! two records of one company than for records of two. They are set from
//! what each agreement means (a shared registration number almost never
//! happens by chance; half the companies in a book may share "Analytics"),
//! with name weights scaled by how rare the words are in this book.
//!
//! It must never link anything itself: it scores, `cluster.rs` decides.

use std::collections::{BTreeMap, HashMap};

use unicode_normalization::UnicodeNormalization;

use super::BookRecord;
use super::blocking::{BlockSizes, Blocks, same, shares};
use super::book_record::strings;
use super::cluster::Thresholds;
use super::compare::{WordStats, has_cjk, reading_of, soft_tfidf, words};
use super::estimate::Session;
use super::evidence::Evidence;
use crate::normalize::{acronym, company_key, legal_form};

pub const THRESHOLDS: Thresholds = Thresholds {
    link: 7.0,
    review: 3.0,
    sure: 12.0,
    margin: 3.0,
    floor: 0.0,
    mean: 2.0,
    // -2 so that two records of one source (`source same`) are a clear
    // disagreement: a company joins a customer that already holds another
    // record of its source only when it matches that record on its own.
    // Two look-alike accounts of one CRM linked through a third source's
    // record were most of the false merges of `bench resolve --book 20000`
    // (12 of 23).
    disagreement: -2.0,
};

/// Blocks larger than this are too generic to compare pairwise.
pub const MAX_BLOCK: usize = 100;

/// What each blocking rule keys on, for EM's training sessions
/// (`estimate.rs`): name keys, words and acronyms; domain; phone.
pub const SESSIONS: &[Session] = &[
    Session {
        feature: "name",
        levels: &[
            "exact",
            "exact, borne by several",
            "acronym",
            "same reading, other script",
            "close",
            "similar",
            "weak",
        ],
    },
    Session {
        feature: "domain",
        levels: &["shared"],
    },
    Session {
        feature: "phone",
        levels: &["shared"],
    },
];

/// What one organisation record offers for comparison.
#[derive(Debug, Default, PartialEq)]
pub struct OrgProfile {
    pub keys: Vec<String>,
    pub domains: Vec<String>,
    pub phones: Vec<String>,
    /// `(scheme, value)` registration numbers.
    pub identifiers: Vec<(String, String)>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    /// Legal-form families the names state (`inc`, `ltd`, `gmbh`, …).
    pub legal_forms: Vec<&'static str>,
    pub source: String,
    /// Each name key read in romaji, as one string (`hokutoseiki`).
    pub readings: Vec<String>,
}

pub fn fold_place(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

impl OrgProfile {
    pub fn of(
        record: &BookRecord,
        domain_of: impl Fn(&str) -> Option<&str>,
        romaji: Option<super::Romaji>,
    ) -> OrgProfile {
        let mut keys: Vec<String> = record
            .names
            .iter()
            .chain(record.company.iter())
            .chain(record.title.iter())
            .map(|n| company_key(n))
            .filter(|k| !k.is_empty())
            .collect();
        keys.sort();
        keys.dedup();
        let mut domains: Vec<String> = record
            .websites()
            .iter()
            .map(|w| w.trim_start_matches("www.").to_ascii_lowercase())
            .chain(
                record
                    .emails
                    .iter()
                    .filter_map(|e| domain_of(e))
                    .map(str::to_string),
            )
            .collect();
        domains.sort();
        domains.dedup();
        // A company's name is read in the order written, as one string.
        let readings = keys
            .iter()
            .filter_map(|k| {
                words(k)
                    .into_iter()
                    .map(|part| reading_of(part, romaji))
                    .collect::<Option<String>>()
            })
            .filter(|r| !r.is_empty())
            .collect();
        OrgProfile {
            readings,
            keys,
            domains,
            phones: strings(&record.phones),
            identifiers: record
                .identifiers()
                .iter()
                .filter_map(|i| i.split_once(':'))
                .map(|(s, v)| (s.to_string(), v.to_string()))
                .collect(),
            postcode: record.address().postcode.as_deref().map(fold_place),
            city: record.address().city.as_deref().map(fold_place),
            country: record.country.as_deref().map(str::to_string),
            legal_forms: {
                let mut forms: Vec<&'static str> = record
                    .names
                    .iter()
                    .chain(record.company.iter())
                    .filter_map(|n| legal_form(n))
                    .collect();
                forms.sort_unstable();
                forms.dedup();
                forms
            },
            source: record.source.to_string(),
        }
    }
}

/// What the model knows of the whole book: how rare each word of a name
/// is, and how many different owners (web or email domains) each name key
/// is seen with — a name that two companies bear identifies neither.
#[derive(Debug, Default, PartialEq)]
pub struct OrgModel {
    pub words: WordStats,
    pub(super) owners: HashMap<String, u32>,
}

impl OrgModel {
    pub fn of(profiles: &[(usize, OrgProfile)]) -> OrgModel {
        let mut words = WordStats::default();
        // Per key, the domains and the phones seen with it: one company's
        // records share its domain and its switchboard.
        type Seen<'p> = (Vec<&'p str>, Vec<&'p str>);
        let mut seen: HashMap<&str, Seen> = HashMap::new();
        for (_, p) in profiles {
            for k in &p.keys {
                words.add(k);
                let (domains, phones) = seen.entry(k).or_default();
                domains.extend(p.domains.iter().map(String::as_str));
                phones.extend(p.phones.iter().map(String::as_str));
            }
        }
        let owners = seen
            .into_iter()
            .map(|(k, (mut domains, mut phones))| {
                for list in [&mut domains, &mut phones] {
                    list.sort_unstable();
                    list.dedup();
                }
                (k.to_string(), domains.len().max(phones.len()).max(1) as u32)
            })
            .collect();
        OrgModel { words, owners }
    }

    /// The weight of an exact name: 7 bits for a name one owner bears, less
    /// for a name several companies share.
    fn exact_name_bits(&self, key: &str) -> f64 {
        let owners = f64::from(self.owners.get(key).copied().unwrap_or(1));
        (7.0 - 4.0 * owners.log2()).max(0.0)
    }
}

/// The name comparison of two organisations.
fn name_weight(a: &OrgProfile, b: &OrgProfile, model: &OrgModel, e: &mut Evidence) {
    let stats = &model.words;
    let shared = a
        .keys
        .iter()
        .filter(|k| b.keys.contains(k))
        .map(|k| model.exact_name_bits(k))
        .max_by(f64::total_cmp);
    if let Some(bits) = shared {
        let level = if bits < 7.0 {
            "exact, borne by several"
        } else {
            "exact"
        };
        e.add("name", level, bits);
        return;
    }
    let acronym_of = |x: &OrgProfile, y: &OrgProfile| {
        x.keys
            .iter()
            .any(|k| acronym(k).is_some_and(|ac| y.keys.contains(&ac)))
    };
    if acronym_of(a, b) || acronym_of(b, a) {
        e.add("name", "acronym", 3.0);
        return;
    }
    let mut best: Option<f64> = None;
    for x in &a.keys {
        for y in &b.keys {
            if has_cjk(x) != has_cjk(y) {
                continue; // another script: neither for nor against
            }
            let s = soft_tfidf(x, y, stats);
            best = Some(best.map_or(s, |b: f64| b.max(s)));
        }
    }
    match best {
        None if a.readings.iter().any(|r| b.readings.contains(r)) => {
            e.add("name", "same reading, other script", 5.0)
        }
        None if !a.keys.is_empty() && !b.keys.is_empty() => e.add("name", "other script", 0.0),
        None => {}
        Some(s) if s >= 0.93 => e.add("name", "close", 5.0),
        Some(s) if s >= 0.8 => e.add("name", "similar", 1.0),
        Some(s) if s >= 0.6 => e.add("name", "weak", -3.0),
        Some(_) => e.add("name", "different", -8.0),
    }
}

/// Scores one pair of organisation records.
pub fn score(a: &OrgProfile, b: &OrgProfile, model: &OrgModel) -> Evidence {
    let mut e = Evidence::default();
    name_weight(a, b, model, &mut e);
    e.agreement(
        "domain",
        shares(&a.domains, &b.domains),
        ("shared", 9.0),
        ("different", -7.0),
    );
    e.agreement(
        "phone",
        shares(&a.phones, &b.phones),
        ("shared", 6.0),
        ("different", -3.0),
    );
    for (scheme, value) in &a.identifiers {
        for (other_scheme, other) in &b.identifiers {
            if scheme == other_scheme {
                if value == other {
                    e.add(format!("{scheme} number"), "same", 12.0);
                } else {
                    e.add(format!("{scheme} number"), "different", -30.0);
                    e.conflict = true;
                }
            }
        }
    }
    e.agreement(
        "postcode",
        same(&a.postcode, &b.postcode),
        ("same", 2.0),
        ("different", -3.0),
    );
    e.agreement(
        "city",
        same(&a.city, &b.city),
        ("same", 1.0),
        ("different", -3.0),
    );
    if same(&a.country, &b.country) == Some(false) {
        e.add("country", "different", -4.0);
    }
    e.agreement(
        "legal form",
        shares(&a.legal_forms, &b.legal_forms),
        ("same", 1.0),
        ("different", -5.0),
    );
    // A source rarely holds one company twice: two of its records that
    // look alike are more often two companies.
    if a.source == b.source {
        e.add("source", "same", -2.0);
    }
    e
}

/// The pairs worth comparing, and how many each blocking rule produced;
/// for a subset of the book, `sizes` (the whole book's) skip the blocks a
/// full pass skips.
pub fn candidate_pairs_sized(
    profiles: &[(usize, OrgProfile)],
    stats: &WordStats,
    sizes: Option<&BlockSizes>,
) -> (Vec<(usize, usize)>, BTreeMap<&'static str, usize>) {
    Blocks::of(profiles, |p, add| block_keys(p, stats, add)).pairs_sized(MAX_BLOCK, sizes)
}

/// The blocks (rule and key) one organisation record falls in.
pub fn block_keys(p: &OrgProfile, stats: &WordStats, mut add: impl FnMut(&'static str, String)) {
    for k in &p.keys {
        add("name key", k.clone());
        if let Some(ac) = acronym(k) {
            add("name key", ac);
        }
        if has_cjk(k) {
            add("name start", k.chars().take(2).collect());
        }
        for w in words(k) {
            if stats.frequency(w) as usize <= MAX_BLOCK {
                add("rare word", w.to_string());
            }
            if w.chars().count() >= 4 {
                add("word start", w.chars().take(3).collect());
            }
        }
    }
    for d in &p.domains {
        add("domain", d.clone());
    }
    for ph in &p.phones {
        add("phone", ph.clone());
    }
    for (s, v) in &p.identifiers {
        add("registration", format!("{s}:{v}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str) -> OrgProfile {
        OrgProfile {
            keys: vec![company_key(name)],
            source: format!("source of {name}"),
            ..OrgProfile::default()
        }
    }

    #[test]
    fn conflicting_registration_numbers_keep_companies_apart() {
        let stats = OrgModel::default();
        let mut a = profile("Koch & Söhne GmbH");
        let mut b = profile("Koch & Söhne");
        a.identifiers.push(("vat".into(), "DE1".into()));
        b.identifiers.push(("vat".into(), "DE2".into()));
        let e = score(&a, &b, &stats);
        assert!(e.conflict, "{}", e.describe());
    }

    #[test]
    fn an_acronym_alone_never_reaches_the_link_threshold() {
        let stats = OrgModel::default();
        let e = score(
            &profile("IBM"),
            &profile("International Business Machines Corp."),
            &stats,
        );
        assert!(e.total < THRESHOLDS.link, "{}", e.describe());
        assert!(e.total >= THRESHOLDS.review, "a suspect: {}", e.describe());
    }

    #[test]
    fn same_name_with_different_phone_and_city_is_not_a_link() {
        let stats = OrgModel::default();
        let mut a = profile("Pioneer Industries Inc");
        let mut b = profile("Pioneer Industries LLC");
        a.phones.push("+16175550100".into());
        b.phones.push("+16175550199".into());
        a.city = Some("boston".into());
        b.city = Some("austin".into());
        assert!(score(&a, &b, &stats).total < THRESHOLDS.link);
        b.phones = a.phones.clone();
        b.city = None;
        assert!(score(&a, &b, &stats).total >= THRESHOLDS.link);
    }
}
