//! Identity resolution measured where its faults appear: on generated
//! multi-source books of hundreds to thousands of companies with the traps
//! real books have (see `rapport::bench::book`), and on hand-made sets of
//! look-alike companies. Precision first: two companies merged is a privacy
//! incident, so each book must keep organisation precision ≥ 0.99.

use std::collections::HashSet;

use rapport::bench::book;
use rapport::record::{Record, RecordKind};
use rapport::resolve::{Overrides, Settings, resolve};

fn check_book(customers: usize, seed: u64) {
    let book = book::generate(customers, seed);
    let resolution = resolve(&book.records, &Settings::default(), &Overrides::default());
    let q = book::quality(&book, &resolution);
    println!(
        "{customers} companies: organisations P {:.4} R {:.4} F1 {:.4}; people P {:.4} R {:.4} F1 {:.4}",
        q.organisations.precision,
        q.organisations.recall,
        q.organisations.f1,
        q.people.precision,
        q.people.recall,
        q.people.f1
    );
    assert!(
        q.organisations.precision >= 0.99,
        "organisation precision {:.4} at {customers}: {:#?}",
        q.organisations.precision,
        q.false_merges
    );
    assert!(
        q.organisations.f1 >= 0.95,
        "organisation F1 {:.4} at {customers}",
        q.organisations.f1
    );
    assert!(
        q.people.f1 >= 0.95,
        "person F1 {:.4} at {customers}",
        q.people.f1
    );
    assert!(
        q.people.precision >= 0.98,
        "person precision {:.4} at {customers}",
        q.people.precision
    );
}

#[test]
fn a_book_of_500_companies_resolves_with_precision_first() {
    check_book(500, 11);
}

#[test]
fn a_book_of_2000_companies_resolves_with_precision_first() {
    check_book(2000, 2026);
}

fn org(source: &str, id: &str, name: &str, website: &str, phone: &str, city: &str) -> Record {
    let mut r = Record::new(source, id, RecordKind::Organization);
    r.names.push(name.to_string());
    if !website.is_empty() {
        r.websites.push(website.to_string());
    }
    if !phone.is_empty() {
        r.phones.push(phone.to_string());
    }
    if !city.is_empty() {
        r.address.city = Some(city.to_string());
    }
    r
}

fn customers_of(records: &[Record]) -> Vec<String> {
    let resolution = resolve(records, &Settings::default(), &Overrides::default());
    records
        .iter()
        .map(|r| {
            resolution.assignments[&r.id()]
                .customer_id
                .clone()
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn look_alike_companies_stay_apart() {
    let families = [
        "Martin", "Dubois", "Legrand", "Roux", "Garnier", "Faure", "Blanc", "Petit", "Moreau",
        "Girard",
    ];
    let mut records: Vec<Record> = families
        .iter()
        .enumerate()
        .map(|(i, f)| {
            org(
                "sf",
                &format!("L{i}"),
                &format!("Laboratoires {f} SAS"),
                &format!("labo-{}.fr", f.to_lowercase()),
                "",
                "Paris",
            )
        })
        .collect();
    // The same ten, as a second CRM writes them.
    records.extend(families.iter().enumerate().map(|(i, f)| {
        org(
            "hs",
            &format!("h{i}"),
            &format!("LABORATOIRES {}", f.to_uppercase()),
            &format!("labo-{}.fr", f.to_lowercase()),
            "",
            "",
        )
    }));
    records.push(org(
        "sf",
        "N1",
        "Nova Analytics Co.",
        "nova-analytics.com",
        "",
        "Boston",
    ));
    records.push(org(
        "sf",
        "N2",
        "Nova Analytics Works Corp.",
        "novaworks.com",
        "",
        "Denver",
    ));
    records.push(org("sf", "I1", "IBM", "ibm.com", "", ""));
    for (i, name) in [
        "Integrated Beverage Makers Ltd",
        "Ito Bridge Manufacturing",
        "Iron Bay Marine",
    ]
    .iter()
    .enumerate()
    {
        records.push(org(
            "hs",
            &format!("ib{i}"),
            name,
            &format!("ib{i}.example"),
            "",
            "",
        ));
    }
    records.push(org(
        "sf",
        "T1",
        "Pioneer Industries Inc",
        "",
        "+16175550100",
        "Boston",
    ));
    records.push(org(
        "hs",
        "T2",
        "Pioneer Industries Inc.",
        "",
        "+15125550199",
        "Austin",
    ));
    let customers = customers_of(&records);
    let distinct: HashSet<&String> = customers.iter().collect();
    // 10 laboratories + Nova x2 + IBM + 3 "I.B.M." + Pioneer x2.
    assert_eq!(distinct.len(), 18, "{customers:?}");
    for i in 0..10 {
        assert_eq!(
            customers[i],
            customers[10 + i],
            "the two spellings of lab {i}"
        );
    }
}

#[test]
fn each_link_keeps_the_weight_of_every_feature() {
    let records = vec![
        org(
            "sf",
            "1",
            "Hokuto Seiki Co., Ltd.",
            "hokuto.co.jp",
            "+81355550100",
            "東京都",
        ),
        org("hs", "2", "HOKUTO SEIKI", "hokuto.co.jp", "", ""),
    ];
    let resolution = resolve(&records, &Settings::default(), &Overrides::default());
    let entity = resolution
        .entities
        .iter()
        .find(|e| e.members.len() == 2)
        .expect("the two records are one organisation");
    let matches = &entity.members[0].matches;
    assert_eq!(matches.len(), 1, "{entity:?}");
    let features: Vec<&str> = matches[0]
        .evidence
        .weights
        .iter()
        .map(|w| w.feature.as_ref())
        .collect();
    assert!(
        features.contains(&"name") && features.contains(&"domain"),
        "{features:?}"
    );
    let sum: f64 = matches[0].evidence.weights.iter().map(|w| w.bits).sum();
    assert!((sum - matches[0].evidence.total).abs() < 1e-9);
}

/// The real IPADIC dictionary, built once into the tests' shared cache.
fn analyzers() -> rapport::index::analyzers::Analyzers {
    let cache = rapport::config::shared_cache_dir()
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ipadic-cache"));
    rapport::index::analyzers::Analyzers::load(
        std::path::Path::new("/usr/share/mecab/dic/ipadic"),
        &cache,
    )
    .unwrap_or_else(|e| panic!("IPADIC: {e:?}"))
}

fn with_phone(mut record: Record, phone: &str) -> Record {
    record.phones.push(phone.to_string());
    record
}

#[test]
fn names_in_kanji_match_their_romanised_forms_through_readings() {
    let analyzers = analyzers();
    assert_eq!(
        analyzers.romaji_words("佐藤"),
        Some(vec!["sato".to_string()]),
        "IPADIC reads 佐藤 サトウ, folded to sato"
    );
    let romaji = |text: &str| analyzers.romaji_words(text);
    let person = |source: &str, id: &str, name: &str, org: &str| {
        let mut r = Record::new(source, id, RecordKind::Person);
        r.names.push(name.to_string());
        r.links.push(rapport::record::Link {
            rel: "account".into(),
            target: org.to_string(),
            name: None,
        });
        r
    };
    let mut sf_org = org("sf", "A1", "北斗精機株式会社", "", "+81355550100", "東京都");
    sf_org.country = Some("JP".into());
    let mut hs_org = org(
        "hs",
        "c1",
        "Hokuto Seiki Co., Ltd.",
        "hokuto-seiki.co.jp",
        "+81355550100",
        "",
    );
    hs_org.country = Some("JP".into());
    let records = vec![
        sf_org,
        person("sf", "C1", "佐藤 健", "A1"),
        person("sf", "C2", "高橋 直子", "A1"),
        hs_org,
        person("hs", "p1", "Ken Sato", "c1"),
        person("hs", "p2", "TAKAHASHI Naoko", "c1"),
        person("hs", "p3", "Yuko Ito", "c1"),
        // Two colleagues behind one switchboard, one in kanji, one
        // romanised: the reading (katonaoko) holds no part of her name.
        with_phone(person("sf", "C3", "加藤 直子", "A1"), "+81355550199"),
        with_phone(person("hs", "p4", "Sarah Murphy", "c1"), "+81355550199"),
    ];
    let with = rapport::resolve::resolve_with(
        &records,
        &Settings::default(),
        &Overrides::default(),
        Some(&romaji),
    );
    let a = |id: &str| with.assignments[id].clone();
    // The two companies are one by their reading and switchboard; their
    // people are one each, by reading inside the same company.
    assert_eq!(
        a("sf:A1").customer_id,
        a("hs:c1").customer_id,
        "{:?}",
        with.suspects
    );
    assert_eq!(
        a("sf:C1").person_id,
        a("hs:p1").person_id,
        "佐藤 健 = Ken Sato"
    );
    assert_eq!(
        a("sf:C2").person_id,
        a("hs:p2").person_id,
        "高橋 直子 = TAKAHASHI Naoko"
    );
    assert_ne!(a("sf:C1").person_id, a("hs:p3").person_id);
    // Different names by their reading: apart, and no steward's suspect.
    assert_ne!(a("sf:C3").person_id, a("hs:p4").person_id);
    let c3 = a("sf:C3").customer_id.unwrap_or_default();
    let p4 = a("hs:p4").customer_id.unwrap_or_default();
    assert!(
        !with
            .suspects
            .iter()
            .any(|s| [&s.a, &s.b] == [&c3, &p4] || [&s.a, &s.b] == [&p4, &c3]),
        "{:?}",
        with.suspects
    );
    // Without readings, scripts never meet.
    let without = resolve(&records, &Settings::default(), &Overrides::default());
    assert_ne!(
        without.assignments["sf:C1"].person_id,
        without.assignments["hs:p1"].person_id
    );
}

/// Interactions written as real exports (CRM CSVs, a Zendesk full export, a
/// mailbox, deals, notes in five encodings) land on their true customer;
/// planted data problems are flagged and nothing else is.
#[test]
fn a_book_of_300_companies_attaches_its_interactions_and_flags_its_problems() {
    let dir = tempfile::tempdir().unwrap();
    let r = rapport::bench::attach::run(300, 2026, dir.path(), None).unwrap();
    println!(
        "{} interactions: right {:.3}, wrong {:.3}; planted flagged {}/{}, false flags {}/{}",
        r.all.total,
        r.all.right_share(),
        r.all.wrong_share(),
        r.planted_flagged,
        r.planted,
        r.false_flags,
        r.flags
    );
    for (source, c) in &r.by_source {
        println!(
            "  {source}: {} right {:.3} wrong {:.3}",
            c.total,
            c.right_share(),
            c.wrong_share()
        );
    }
    assert_eq!(r.read_errors, 0, "the generated files read cleanly");
    assert!(r.all.total > 1000, "{:?}", r.all);
    // Targets: wrong ≤ 1 %, flagged ≥ 95 %, false flags ≤ 5 %, right ≥ 97 %
    // (measured 98.5 %). Per kind right is held at 96 %, notes included
    // (measured 97.6 %: issue 18 fourth landing, BENCHMARKS.md; the rest
    // name twins nothing tells apart, and wait for a steward); notes land
    // on a wrong company at most 1 % of the time (measured 0 of 212).
    assert!(
        r.all.wrong_share() <= 0.01,
        "wrong: {:#?}",
        r.wrong_examples
    );
    assert!(r.all.right_share() >= 0.97, "{:#?}", r.reasons);
    for (source, c) in &r.by_source {
        let floor = if source.starts_with("notes") {
            assert!(
                c.wrong_share() <= 0.01,
                "{source}: {c:?} {:#?}",
                r.wrong_examples
            );
            0.96
        } else {
            0.96
        };
        assert!(c.right_share() >= floor, "{source}: {c:?} {:#?}", r.reasons);
    }
    assert!(
        r.flagged_share() >= 0.95,
        "{}/{}",
        r.planted_flagged,
        r.planted
    );
    assert!(r.false_flag_share() <= 0.05, "{:#?}", r.false_flag_examples);
}
