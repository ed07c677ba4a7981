//! Resolution on small hand-made record sets.

use super::*;
use crate::record::{Link, Record, RecordKind};

fn org(source: &str, id: &str, name: &str, email: Option<&str>) -> Record {
    let mut r = Record::new(source, id, RecordKind::Organization);
    r.names.push(name.into());
    r.emails.extend(email.map(str::to_string));
    r
}

fn person(source: &str, id: &str, name: &str, email: &str, company: Option<&str>) -> Record {
    let mut r = Record::new(source, id, RecordKind::Person);
    r.names.push(name.into());
    r.emails.push(email.into());
    r.company = company.map(str::to_string);
    r
}

#[test]
fn spellings_of_one_company_and_one_person_become_one_customer() {
    let records = vec![
        org("sf", "001", "IBM", Some("info@ibm.com")),
        org("hs", "77", "I.B.M. Corp.", None),
        {
            // An acronym is weak evidence: with the same web domain, it links.
            let mut r = org("zd", "9", "International Business Machines", None);
            r.websites.push("ibm.com".into());
            r
        },
        org("zd", "10", "Intl Bank of Melbourne", None),
        person("sf", "003", "Jon Smith", "jon@ibm.com", None),
        person("hs", "88", "Smith, Jon", "jon@ibm.com", Some("IBM")),
        person("zd", "5", "Ann Lee", "ann@gmail.com", None),
    ];
    let r = resolve(&records, &Settings::default(), &Overrides::default());
    let a = |id: &str| r.assignments[id].clone();
    assert_eq!(a("sf:001").customer_id, a("hs:77").customer_id);
    assert_eq!(
        a("sf:001").customer_id,
        a("zd:9").customer_id,
        "acronym and domain"
    );
    assert_ne!(
        a("sf:001").customer_id,
        a("zd:10").customer_id,
        "an acronym alone never links"
    );
    assert_eq!(a("sf:003").person_id, a("hs:88").person_id);
    assert_eq!(
        a("sf:003").customer_id,
        a("sf:001").customer_id,
        "person belongs to IBM"
    );
    assert_ne!(a("zd:5").customer_id, a("sf:001").customer_id);
    assert!(
        a("hs:77").evidence.iter().any(|e| e.contains("name exact")),
        "{:?}",
        a("hs:77")
    );
}

#[test]
fn interactions_attach_by_reference_participant_and_mention() {
    let mut note = Record::new("notes", "n1", RecordKind::Note);
    note.body = Some("Met the Acme Robotics team".into());
    let mut mail = Record::new("mail", "<m1>", RecordKind::Email);
    mail.links.push(Link {
        rel: "from".into(),
        target: "jo@acme.com".into(),
        name: None,
    });
    let mut task = Record::new("sf", "T1", RecordKind::Task);
    task.links.push(Link {
        rel: "who".into(),
        target: "P1".into(),
        name: None,
    });
    let records = vec![
        org("sf", "A1", "Acme Robotics", Some("hello@acme.com")),
        person("sf", "P1", "Jo Park", "jo@acme.com", None),
        note,
        mail,
        task,
    ];
    let r = resolve(&records, &Settings::default(), &Overrides::default());
    let acme = r.assignments["sf:A1"].customer_id.clone();
    for id in ["notes:n1", "mail:<m1>", "sf:T1"] {
        assert_eq!(
            r.assignments[id].customer_id,
            acme,
            "{id}: {:?}",
            r.assignments.get(id)
        );
    }
    assert_eq!(
        r.assignments["sf:T1"].person_id,
        r.assignments["sf:P1"].person_id
    );
}

#[test]
fn ids_are_stable_and_a_bridge_merges_then_its_removal_splits() {
    let a = person("crm", "1", "Kim Ng", "kim@x.io", None);
    let b = person("crm", "2", "Kimberly Ng", "kng@y.io", None);
    let bridge = {
        let mut r = person("hs", "3", "K. Ng", "kim@x.io", None);
        r.emails.push("kng@y.io".into());
        r
    };
    let settings = Settings::default();
    let before = resolve(&[a.clone(), b.clone()], &settings, &Overrides::default());
    let id_a = before.assignments["crm:1"].person_id.clone();
    let id_b = before.assignments["crm:2"].person_id.clone();
    assert_ne!(id_a, id_b);
    let unrelated = person("crm", "9", "Zed", "z@z.io", None);
    let again = resolve(
        &[a.clone(), b.clone(), unrelated.clone()],
        &settings,
        &Overrides::default(),
    );
    assert_eq!(
        again.assignments["crm:1"].person_id, id_a,
        "an unrelated record renames nothing"
    );
    let merged = resolve(
        &[a.clone(), b.clone(), bridge],
        &settings,
        &Overrides::default(),
    );
    assert_eq!(
        merged.assignments["crm:2"].person_id, id_a,
        "merged under the oldest record"
    );
    let split = resolve(&[a, b], &settings, &Overrides::default());
    assert_eq!(split.assignments["crm:2"].person_id, id_b);
}

#[test]
fn steward_overrides_are_honoured() {
    let records = vec![
        org("crm", "1", "Northwind", None),
        org("crm", "2", "Northwind Traders", None),
        org("crm", "3", "Contoso", None),
    ];
    let s = Settings::default();
    let merged = resolve(
        &records,
        &s,
        &Overrides {
            merges: vec![("crm:1".into(), "crm:3".into())],
            ..Overrides::default()
        },
    );
    assert_eq!(
        merged.assignments["crm:1"].customer_id,
        merged.assignments["crm:3"].customer_id
    );
    let apart = resolve(
        &records,
        &s,
        &Overrides {
            never: vec![("crm:1".into(), "crm:2".into())],
            ..Overrides::default()
        },
    );
    assert_ne!(
        apart.assignments["crm:1"].customer_id,
        apart.assignments["crm:2"].customer_id
    );
    let same = resolve(
        &[
            org("crm", "1", "Acme", None),
            org("hs", "1", "ACME Inc", None),
        ],
        &s,
        &Overrides::default(),
    );
    assert_eq!(
        same.assignments["crm:1"].customer_id,
        same.assignments["hs:1"].customer_id
    );
    let split = resolve(
        &[
            org("crm", "1", "Acme", None),
            org("hs", "1", "ACME Inc", None),
        ],
        &s,
        &Overrides {
            splits: vec![vec!["hs:1".into()]],
            ..Overrides::default()
        },
    );
    assert_ne!(
        split.assignments["crm:1"].customer_id,
        split.assignments["hs:1"].customer_id
    );
}

/// Two look-alike accounts of one CRM are two companies unless they match
/// on their own: a third source's record that matches both does not join
/// them into one customer.
#[test]
fn a_second_account_of_one_source_does_not_join_through_another_source() {
    let records = vec![
        org(
            "hubspot",
            "1",
            "Acme Consulting Corp.",
            Some("info@acmeconsulting.example"),
        ),
        org(
            "crm",
            "A",
            "Acme Consulting Corp.",
            Some("sales@acmeconsulting.example"),
        ),
        org("crm", "B", "Acme Consulting Corp.", None),
    ];
    let r = resolve(&records, &Settings::default(), &Overrides::default());
    let customer = |id: &str| r.assignments[id].customer_id.clone();
    assert_eq!(customer("hubspot:1"), customer("crm:A"));
    assert_ne!(customer("crm:A"), customer("crm:B"));
}

#[test]
fn near_names_between_thresholds_are_suspects() {
    let records = vec![
        org("crm", "1", "Brightwater Logistics", None),
        org("crm", "2", "Brightwell Logistic", None),
    ];
    let r = resolve(&records, &Settings::default(), &Overrides::default());
    assert_ne!(
        r.assignments["crm:1"].customer_id,
        r.assignments["crm:2"].customer_id
    );
    assert_eq!(r.suspects.len(), 1, "{:?}", r.suspects);
}

#[test]
fn a_note_naming_an_organisation_address_attaches_to_it() {
    let mut note = Record::new("notes", "n1", RecordKind::Note);
    note.body = Some("Mail from info@co5.example about the renewal".into());
    let mut by_ref = Record::new("notes", "n2", RecordKind::Note);
    by_ref.customer_ref = Some("O5".into());
    let records = vec![
        org("crm", "O5", "Delta Foods 5 Inc.", Some("info@co5.example")),
        note,
        by_ref,
    ];
    let r = resolve(&records, &Settings::default(), &Overrides::default());
    assert!(
        r.assignments.contains_key("notes:n1"),
        "{:?}",
        r.assignments.keys()
    );
    assert!(
        r.assignments.contains_key("notes:n2"),
        "{:?}",
        r.assignments.keys()
    );
}

#[cfg(feature = "bench")]
#[test]
fn the_same_records_always_resolve_the_same_way() {
    // Shared phones and addresses, people of one company, notes: every
    // place where hash-map order could leak into unions or lists.
    let mut records = crate::bench::corpus::generate(0, 300, 10, 7);
    for (i, r) in records.iter_mut().enumerate().filter(|(i, _)| i % 7 == 0) {
        r.phones = vec![format!("+8135550{:04}", i % 13)];
    }
    let first = resolve(&records, &Settings::default(), &Overrides::default());
    let encode = |r: &Resolution| {
        let mut assignments: Vec<_> = r.assignments.iter().collect();
        assignments.sort_by(|a, b| a.0.cmp(b.0));
        serde_json::to_string(&(assignments, &r.entities, &r.suspects)).unwrap_or_default()
    };
    for _ in 0..4 {
        let again = resolve(&records, &Settings::default(), &Overrides::default());
        let (x, y) = (encode(&first), encode(&again));
        let at = x.bytes().zip(y.bytes()).take_while(|(a, b)| a == b).count();
        assert!(
            x == y,
            "resolution changed between two runs over the same records, at: {}",
            x.get(at.saturating_sub(200)..(at + 200).min(x.len()))
                .unwrap_or(&x)
        );
    }
}

#[test]
fn one_company_in_three_sources_is_one_customer() {
    let mut a = org("sf", "001", "Echo Media Ltd", None);
    a.phones.push("+442075998458".into());
    a.address.city = Some("London".into());
    let mut b = org("hs", "c1", "Echo Media Ltd", None);
    b.websites.push("echomedia.co.uk".into());
    b.phones.push("+442075998458".into());
    b.address.city = Some("London".into());
    let mut c = org("zd", "o1", "Echo Media Limited", None);
    c.websites.push("echomedia.co.uk".into());
    let r = resolve(&[a, b, c], &Settings::default(), &Overrides::default());
    let id = |x: &str| r.assignments[x].customer_id.clone();
    assert_eq!(id("sf:001"), id("hs:c1"), "{:?}", r.assignments);
    assert_eq!(id("sf:001"), id("zd:o1"), "{:?}", r.assignments);
}
