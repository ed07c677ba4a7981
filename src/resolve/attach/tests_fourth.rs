//! Issue 18, fourth landing: notes that name their company as people write
//! it (with `&`, umlauts, hyphens, a slipped legal form, a run-on inner
//! name, the name the company's own contacts use) attach; a name two
//! organisations' contacts share attaches to none.

use super::tests::{note, org, person, settings};
use crate::resolve::{Overrides, resolve};

#[test]
fn notes_read_names_as_company_keys_fold_them() {
    let records = vec![
        org("M1", "Morel & Fils SARL", None),
        org("K1", "Autohaus Krüger GmbH", None),
        org("B1", "Boulangerie Roux-Petit SA", None),
        org("W1", "Koch GmbH", None),
        note("n1", None, "Call with Morel & Fils about the renewal."),
        note("n2", None, "Call with Autohaus Krüger GmbH about it."),
        note("n3", None, "Call with Boualngerie Roux-Petit SA about it."),
        // "Koch & Söhne" is a longer name than Koch's.
        note("n4", None, "Call with Koch & Söhne about the renewal."),
    ];
    let r = resolve(&records, &settings(), &Overrides::default());
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    assert!(a("crm:M1").is_some() && a("crm:K1").is_some() && a("crm:B1").is_some());
    assert_eq!(a("notes:n1"), a("crm:M1"), "& is no word of the name");
    assert_eq!(a("notes:n2"), a("crm:K1"), "Krüger is krueger");
    assert_eq!(a("notes:n3"), a("crm:B1"), "Roux-Petit is one word");
    assert_eq!(a("notes:n4"), None);
}

#[test]
fn a_slip_reads_past_a_run_on_name_and_a_slipped_legal_form() {
    let records = vec![
        org("L1", "Lantern Partners LLC", None),
        org("J1", "Juiper Lantern Partners", None),
        org("G1", "Granite Labs Global Inc.", None),
        org("P1", "Pioneer Health Pacific Limitde", None),
        org("P2", "Pioneer Health", None),
        note(
            "n1",
            None,
            "Call with Juniper Lantern Partners Corp. about it.",
        ),
        note(
            "n2",
            None,
            "Call with Granite Labs Global Incorporaetd about it.",
        ),
        note(
            "n3",
            None,
            "Call with Pioneer Health Pacific about the renewal.",
        ),
    ];
    let r = resolve(&records, &settings(), &Overrides::default());
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    assert!(a("crm:J1").is_some() && a("crm:J1") != a("crm:L1"));
    assert_eq!(a("notes:n1"), a("crm:J1"), "not Lantern Partners");
    assert_eq!(a("notes:n2"), a("crm:G1"), "Incorporaetd ends the name");
    assert_eq!(a("notes:n3"), a("crm:P1"), "Limitde is no word of it");
}

#[test]
fn the_name_a_companys_contacts_write_names_it() {
    let contact = |id: &str, name: &str, email: &str, account: &str, company: &str| {
        let mut p = person(id, name, email, account);
        p.company = Some(company.into());
        p
    };
    let records = vec![
        org("S1", "Sakura Bussan Co., Ltd.", None),
        contact(
            "C1",
            "Aoi Sato",
            "aoi@sakura.example",
            "S1",
            "桜物産株式会社",
        ),
        org("T1", "Thorn Rihter & Söhne GmbH", None),
        contact(
            "C2",
            "Jan Weber",
            "jan@thorn.example",
            "T1",
            "Thorn Richter & Söhne",
        ),
        // Contacts of two organisations write one name: it is shared.
        org("N1", "Nova Trading LLC", None),
        org("N2", "Nova Commerce LLC", None),
        contact("C3", "Ann Lee", "ann@nova1.example", "N1", "Nova Group"),
        contact("C4", "Bo Park", "bo@nova2.example", "N2", "Nova Group"),
        note(
            "n1",
            None,
            "商談メモ Call with (株)桜物産 about the renewal.",
        ),
        note("n2", Some("notes/Thorn Richter & Söhne GmbH"), "Visited."),
        note("n3", None, "Call with Nova Group about the renewal."),
        // Twins: the romanised name one's contact writes may be the
        // other's too.
        super::tests::org_in("S2", "新栄電子株式会社", "Osaka"),
        super::tests::org_in("S3", "新栄電子株式会社", "Nagoya"),
        contact(
            "C5",
            "Ken Mori",
            "ken@shinei.example",
            "S3",
            "Shinei Denshi K.K.",
        ),
        note(
            "n4",
            None,
            "Call with Shinei Denshi K.K. about the renewal.",
        ),
    ];
    let r = resolve(&records, &settings(), &Overrides::default());
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    assert!(a("crm:S1").is_some() && a("crm:T1").is_some());
    assert_eq!(
        a("notes:n1"),
        a("crm:S1"),
        "the kanji name its contact writes"
    );
    assert_eq!(a("notes:n2"), a("crm:T1"), "the name its contact writes");
    assert_eq!(a("notes:n3"), None, "two organisations' contacts write it");
    assert!(a("crm:S2").is_some() && a("crm:S2") != a("crm:S3"));
    assert_eq!(a("notes:n4"), None, "a twin's contact's name");
}

#[test]
fn folders_read_whole_and_contacts_pick_by_their_domain_and_either_name_order() {
    let hs_contact = |id: &str, name: &str, email: &str, company: &str| {
        let mut p = crate::record::Record::new("hs", id, crate::record::RecordKind::Person);
        p.names.push(name.into());
        p.emails.push(email.into());
        p.company = Some(company.into());
        p
    };
    let mut records = vec![
        org("J1", "Juniper Juniper Trading Inc.", None),
        org("J2", "Juniper Trading LLC", None),
        org("R1", "Raven Kestrel Consulting Inc", None),
        // Twins; their contacts' company column names both, their
        // addresses one each.
        org(
            "H1",
            "Horizon Consulting Global SA",
            Some("horizon.example"),
        ),
        org(
            "H2",
            "Horizon Consulting Global SAS",
            Some("horizon-lyon.example"),
        ),
        hs_contact(
            "c1",
            "Wilson, Oliver",
            "oliver@horizon-lyon.example",
            "Horizon Consulting Global",
        ),
        hs_contact(
            "c2",
            "Dr. Ana Ruiz",
            "ana@horizon.example",
            "Horizon Consulting Global",
        ),
        note(
            "n1",
            Some("notes/Junier Juniper Trading"),
            "Visited the site.",
        ),
        note(
            "n2",
            Some("notes/Raven Kestrel Consulting Incoporated"),
            "Visited.",
        ),
        note(
            "n3",
            None,
            "Call with Horizon Consulting Global. Met Oliver Wilson.",
        ),
        note(
            "n4",
            Some("notes/Horizon Consulting Global"),
            "Met Ana Ruiz.",
        ),
        note(
            "n5",
            None,
            "Call with Horizon Consulting Global about the renewal.",
        ),
    ];
    records.sort_by_key(|r| r.id());
    let r = resolve(&records, &settings(), &Overrides::default());
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    assert!(a("crm:H1").is_some() && a("crm:H1") != a("crm:H2"));
    assert_eq!(a("notes:n1"), a("crm:J1"), "not Juniper Trading");
    assert_eq!(a("notes:n2"), a("crm:R1"), "Incoporated is no word of it");
    assert_eq!(a("notes:n3"), a("crm:H2"), "Wilson, Oliver at H2's domain");
    assert_eq!(a("notes:n4"), a("crm:H1"), "Dr. Ana Ruiz at H1's domain");
    assert_eq!(a("notes:n5"), None, "nothing tells the twins apart");
    let n5 = r.unattached.iter().find(|u| u.record == "notes:n5");
    assert!(
        n5.is_some_and(|u| u.reason.starts_with("ambiguous") && u.candidates.len() == 2),
        "{n5:?}"
    );
}
