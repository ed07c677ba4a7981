//! Issue 18, ninth landing: organisations resolution kept apart that claim
//! the same domains (a typo'd CRM record and the exact one) are one firm to
//! a note: its exact name is no namesake's, and a city known of either
//! counts for both. A twin with a site of its own stays a namesake.

use super::tests::{note, org, org_in, person, settings};
use crate::resolve::{Overrides, resolve};

#[test]
fn a_typod_record_claiming_the_same_domain_is_no_namesake() {
    let records = vec![
        // One firm: the exact record, and a typo'd one holding the site
        // its contact writes from.
        org_in("L1", "Boulangerie Legrand SA", "Lille"),
        org(
            "L2",
            "Boulangerie Lergand SA",
            Some("boulangerielegrand.fr"),
        ),
        person("C1", "Anne Roux", "aroux@boulangerielegrand.fr", "L1"),
        // Twins: the typo'd one has a site of its own.
        org(
            "P1",
            "Polaris Health Works AG",
            Some("polarishealthworks.de"),
        ),
        org(
            "P2",
            "Polairs Health Works AG",
            Some("polarishealthworks-berlin2.de"),
        ),
        person("C2", "Helen Martin", "hmartin@polarishealthworks.de", "P1"),
        note(
            "n1",
            None,
            "Call with Boulangerie Legrand SA about the renewal.",
        ),
        note(
            "n2",
            None,
            "Call with Polaris Health Works AG about the renewal.",
        ),
    ];
    let r = resolve(&records, &settings(), &Overrides::default());
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    assert!(
        a("crm:L1").is_some() && a("crm:L1") != a("crm:L2"),
        "kept apart"
    );
    assert!(a("crm:P1").is_some() && a("crm:P1") != a("crm:P2"));
    assert_eq!(a("notes:n1"), a("crm:L1"), "one firm, named exactly");
    assert_eq!(a("notes:n2"), None, "the typo'd twin may be the one");
}

#[test]
fn a_city_known_of_one_record_of_a_firm_counts_for_the_firm() {
    let book = |with_contact: bool| {
        let mut records = vec![
            org_in("E1", "Echo Systems Pacific", "Seattle"),
            org_in("E2", "Echo Systems Pacific", "Denver"),
            org(
                "E3",
                "Echo Systems Pacific Inc",
                Some("echo-seattle2.example"),
            ),
            note(
                "n1",
                None,
                "Call with Echo Systems Pacific about it. Site visit in Seattle.",
            ),
        ];
        if with_contact {
            records.push(person(
                "C1",
                "Ivan Walker",
                "iwalker@echo-seattle2.example",
                "E1",
            ));
        }
        records
    };
    let r = resolve(&book(true), &settings(), &Overrides::default());
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    let firm = [a("crm:E1"), a("crm:E3")];
    assert!(a("crm:E2").is_some() && !firm.contains(&a("crm:E2")));
    assert!(firm.contains(&a("notes:n1")), "{:?}", a("notes:n1"));
    // Nothing ties the record without a city to the Seattle one: it might
    // be a namesake in Seattle.
    let r = resolve(&book(false), &settings(), &Overrides::default());
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    if a("crm:E3") != a("crm:E1") {
        assert_eq!(a("notes:n1"), None);
    }
}

#[test]
fn a_name_another_organisation_bears_in_the_other_script_decides_nothing_alone() {
    // IPADIC's reading of the kanji name, as the engine's dictionary gives.
    let read = |text: &str| {
        text.contains("金剛富士精機")
            .then(|| vec!["kongo".to_string(), "fuji".into(), "seiki".into()])
    };
    let romaji: crate::resolve::Romaji = &read;
    let mut kanji = org_in("K1", "金剛富士精機株式会社", "名古屋市");
    kanji.country = Some("JP".into());
    let mut latin = org_in("K2", "Kongo Fuji Seiki K.K.", "Osaka");
    latin.country = Some("JP".into());
    latin.websites.push("kongofujiseiki-2.example".into());
    let records = vec![
        kanji,
        latin,
        note("n1", Some("Kongo Fuji Seiki K.K."), "Visited the site."),
        note(
            "n2",
            Some("Kongo Fuji Seiki K.K."),
            "Visited the site. Site visit in 大阪市.",
        ),
    ];
    let r =
        crate::resolve::resolve_with(&records, &settings(), &Overrides::default(), Some(romaji));
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    assert!(
        a("crm:K1").is_some() && a("crm:K1") != a("crm:K2"),
        "kept apart"
    );
    assert_eq!(a("notes:n1"), None, "the folder reads as both");
    assert_eq!(a("notes:n2"), a("crm:K2"), "the city picks the Osaka one");
}
