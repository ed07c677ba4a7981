//! EM recovers known m and u on synthetic pairs; the person model names
//! each of its comparison levels as the estimator reads them.

use super::*;
use crate::resolve::evidence::Evidence;

/// A number in [0, 1) from a pair and a feature, the same every run.
fn draw(a: usize, b: usize, salt: u64) -> f64 {
    let mut z = (a as u64) << 32 ^ (b as u64) ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn pick(p: f64, shares: &[f64]) -> usize {
    let mut acc = 0.0;
    for (i, s) in shares.iter().enumerate() {
        acc += s;
        if p < acc {
            return i;
        }
    }
    shares.len() - 1
}

/// Each feature: its levels with the rough hand weights given, m, u, and
/// how often it is missing.
struct Feature {
    name: &'static str,
    levels: &'static [(&'static str, f64)],
    m: &'static [f64],
    u: &'static [f64],
    missing: f64,
}

const FEATURES: [Feature; 4] = [
    Feature {
        name: "name",
        levels: &[("exact", 4.0), ("close", 1.0), ("different", -3.0)],
        m: &[0.80, 0.15, 0.05],
        u: &[0.01, 0.04, 0.95],
        missing: 0.0,
    },
    Feature {
        name: "birth date",
        levels: &[("same", 5.0), ("different", -4.0)],
        m: &[0.90, 0.10],
        u: &[0.02, 0.98],
        missing: 0.2,
    },
    Feature {
        name: "city",
        levels: &[("same", 2.0), ("different", -1.0)],
        m: &[0.85, 0.15],
        u: &[0.10, 0.90],
        missing: 0.1,
    },
    Feature {
        name: "phone",
        levels: &[("shared", 6.0), ("different", -1.0)],
        m: &[0.60, 0.40],
        u: &[0.01, 0.99],
        missing: 0.5,
    },
];

/// Candidates keyed on each feature in turn (every level: the synthetic
/// blocking is not on any value).
const SESSIONS: &[Session] = &[
    Session {
        feature: "name",
        levels: &["exact", "close", "different"],
    },
    Session {
        feature: "birth date",
        levels: &["same", "different"],
    },
    Session {
        feature: "city",
        levels: &["same", "different"],
    },
    Session {
        feature: "phone",
        levels: &["shared", "different"],
    },
];

/// Records 2k and 2k+1 are one entity; every other pair two. Each pair's
/// levels are drawn from m (one entity) or u (two), independently.
fn synthetic(a: usize, b: usize) -> Evidence {
    let one = a / 2 == b / 2;
    let mut e = Evidence::default();
    for (i, f) in FEATURES.iter().enumerate() {
        let salt = 2 * i as u64 + 1;
        if draw(a, b, salt) < f.missing {
            continue;
        }
        let shares = if one { f.m } else { f.u };
        let (level, bits) = f.levels[pick(draw(a, b, salt + 1), shares)];
        e.add(f.name, level, bits);
    }
    e
}

#[test]
fn em_recovers_known_m_and_u_on_synthetic_pairs() {
    let n = 4_000;
    // Candidates as blocking would give them: every true pair, and three
    // times as many pairs of two entities.
    let mut candidates: Vec<(usize, usize)> = (0..n / 2).map(|k| (2 * k, 2 * k + 1)).collect();
    candidates.extend(
        (0..3 * n / 2)
            .map(|k| ((k * 7) % n, (k * 7 + 5) % n))
            .map(|(a, b)| (a.min(b), a.max(b))),
    );
    let estimate = estimate(n, &candidates, SESSIONS, synthetic);
    assert_eq!(estimate.sessions.len(), 4);
    assert!(
        estimate.sessions.iter().all(|s| s.converged),
        "{:?}",
        estimate.describe()
    );
    assert_eq!(estimate.random_pairs, RANDOM_PAIRS);
    for f in &FEATURES {
        for (level, (name, _)) in f.levels.iter().enumerate() {
            let l = estimate.level(f.name, name).unwrap();
            let what = format!("{} {name}: {:?}", f.name, estimate.describe());
            assert!((l.m - f.m[level]).abs() < 0.04, "m of {what}");
            assert!((l.u - f.u[level]).abs() < 0.01, "u of {what}");
        }
    }
    // A quarter of the candidates are true pairs.
    for s in &estimate.sessions {
        assert!((s.lambda - 0.25).abs() < 0.02, "{s:?}");
    }
    let exact = estimate.level("name", "exact").unwrap();
    assert!((exact.bits - (exact.m / exact.u).log2()).abs() < 1e-9);
    assert_eq!(exact.hand_bits, 4.0);
}

#[test]
fn reweighing_keeps_the_hand_rules_and_adds_up() {
    let n = 400;
    let candidates: Vec<(usize, usize)> = (0..n / 2).map(|k| (2 * k, 2 * k + 1)).collect();
    let estimate = estimate(n, &candidates, SESSIONS, synthetic);
    let weights = Weights::of(&estimate, |feature, _| feature == "birth date");
    let mut e = Evidence::default();
    e.add("name", "exact", 4.0);
    e.add("birth date", "same", 5.0);
    weights.reweigh(&mut e);
    let name = estimate.level("name", "exact").unwrap().bits;
    assert_eq!(e.weights[0].bits, name);
    assert_eq!(e.weights[1].bits, 5.0, "a kept level keeps its hand weight");
    assert!((e.total - (name + 5.0)).abs() < 1e-9);
}

#[test]
fn a_small_book_reads_every_pair_for_u() {
    assert_eq!(random_pairs(5, RANDOM_PAIRS).len(), 10);
    let many = random_pairs(10_000, 1_000);
    assert_eq!(many.len(), 1_000);
    assert!(many.iter().all(|(a, b)| a < b && *b < 10_000));
}

/// Each comparison level of the person model, as the estimator reads it
/// (feature and level names in the evidence), from two crafted profiles.
#[test]
fn every_person_comparison_level() {
    use crate::resolve::people::{PersonModel, PersonProfile, SESSIONS, score};
    let model = PersonModel::default();
    let person = |name: &str| {
        let mut r = crate::record::Record::new("s", "1", crate::record::RecordKind::Person);
        r.names.push(name.into());
        PersonProfile::of(&crate::resolve::BookRecord::from(r), None, None)
    };
    let level = |a: &PersonProfile, b: &PersonProfile, feature: &str| {
        score(a, b, &model)
            .weights
            .iter()
            .find(|w| w.feature == feature)
            .map(|w| w.level.clone())
    };
    let name = |a: &str, b: &str| level(&person(a), &person(b), "name");
    assert_eq!(name("Jon Smith", "Smith, Jon").as_deref(), Some("exact"));
    assert_eq!(
        name("直子 高橋", "高橋直子").as_deref(),
        Some("same parts, other order")
    );
    assert_eq!(
        name("K Ng", "Kim Ng").as_deref(),
        Some("initials or short form agree")
    );
    assert_eq!(
        name("Jonathan Smith", "Jonathon Smith").as_deref(),
        Some("close")
    );
    assert_eq!(name("Jon Smith", "Jan Smyth").as_deref(), Some("similar"));
    assert_eq!(name("Jon Smith", "Anna Berg").as_deref(), Some("different"));
    assert_eq!(
        name("Jon Smith", "高橋 直子").as_deref(),
        Some("other script")
    );
    let (mut a, mut b) = (person("Jon Smith"), person("Jon Smith"));
    fn date(y: i32, m: u32, d: u32) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
    }
    type Set = Box<dyn Fn(&mut PersonProfile, &mut PersonProfile)>;
    let cases: Vec<(&str, &str, Set)> = vec![
        (
            "email",
            "shared",
            Box::new(|a, b| {
                a.emails = vec!["j@x.io".into()];
                b.emails = vec!["j@x.io".into(), "js@y.io".into()];
            }),
        ),
        (
            "email",
            "different",
            Box::new(|_, b| b.emails = vec!["k@x.io".into()]),
        ),
        (
            "phone",
            "shared",
            Box::new(|a, b| {
                a.phones = vec!["+15555550100".into()];
                b.phones = a.phones.clone();
            }),
        ),
        (
            "phone",
            "different",
            Box::new(|_, b| b.phones = vec!["+15555550199".into()]),
        ),
        (
            "organisation",
            "same",
            Box::new(|a, b| (a.org, b.org) = (Some(1), Some(1))),
        ),
        (
            "organisation",
            "different",
            Box::new(|_, b| b.org = Some(2)),
        ),
        (
            "birth date",
            "same",
            Box::new(|a, b| (a.birth_date, b.birth_date) = (date(1956, 4, 9), date(1956, 4, 9))),
        ),
        (
            "birth date",
            "one part differs",
            Box::new(|_, b| b.birth_date = date(1956, 9, 4)),
        ),
        (
            "birth date",
            "different",
            Box::new(|_, b| b.birth_date = date(1971, 1, 2)),
        ),
        (
            "identifier",
            "same",
            Box::new(|a, b| {
                a.identifiers = vec!["national_id:5304218".into()];
                b.identifiers = a.identifiers.clone();
            }),
        ),
        (
            "identifier",
            "one or two characters differ",
            Box::new(|_, b| b.identifiers = vec!["national_id:5304281".into()]),
        ),
        (
            "identifier",
            "different",
            Box::new(|_, b| b.identifiers = vec!["national_id:1111111".into()]),
        ),
        (
            "street",
            "same",
            Box::new(|a, b| {
                (a.street, b.street) = (Some("12mainrd".into()), Some("12mainrd".into()))
            }),
        ),
        (
            "street",
            "close",
            Box::new(|_, b| b.street = Some("12mainroad".into())),
        ),
        (
            "street",
            "different",
            Box::new(|_, b| b.street = Some("5elmst".into())),
        ),
        (
            "postcode",
            "same",
            Box::new(|a, b| (a.postcode, b.postcode) = (Some("2000".into()), Some("2000".into()))),
        ),
        (
            "postcode",
            "different",
            Box::new(|_, b| b.postcode = Some("3000".into())),
        ),
        (
            "city",
            "same",
            Box::new(|a, b| (a.city, b.city) = (Some("sydney".into()), Some("sydney".into()))),
        ),
        (
            "city",
            "different",
            Box::new(|_, b| b.city = Some("perth".into())),
        ),
    ];
    let mut before = "";
    for (feature, expected, set) in cases {
        if feature != before {
            assert_eq!(
                level(&a, &b, feature),
                None,
                "{feature} missing on one side is no level"
            );
        }
        before = feature;
        set(&mut a, &mut b);
        assert_eq!(
            level(&a, &b, feature).as_deref(),
            Some(expected),
            "{feature}"
        );
    }
    // The sessions name levels the model has.
    for s in SESSIONS {
        assert!(!s.levels.is_empty(), "{}", s.feature);
    }
}
