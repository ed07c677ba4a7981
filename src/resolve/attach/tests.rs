//! Attachment of interactions on small hand-made record sets.

use crate::record::{Link, Record, RecordKind};
use crate::resolve::{Overrides, Settings, resolve};

pub(super) fn org(id: &str, name: &str, website: Option<&str>) -> Record {
    let mut r = Record::new("crm", id, RecordKind::Organization);
    r.names.push(name.into());
    r.websites.extend(website.map(str::to_string));
    r
}

pub(super) fn person(id: &str, name: &str, email: &str, account: &str) -> Record {
    let mut r = Record::new("crm", id, RecordKind::Person);
    r.names.push(name.into());
    r.emails.push(email.into());
    r.links.push(Link {
        rel: "account".into(),
        target: account.into(),
        name: None,
    });
    r
}

fn email(id: &str, from: &str, to: &[&str], replies_to: Option<&str>) -> Record {
    let mut r = Record::new("mail", id, RecordKind::Email);
    r.title = Some("Re: quote".into());
    let mut link = |rel: &str, target: &str| {
        r.links.push(Link {
            rel: rel.into(),
            target: target.into(),
            name: None,
        })
    };
    link("from", from);
    for t in to {
        link("to", t);
    }
    if let Some(parent) = replies_to {
        link("thread", parent);
    }
    r
}

fn book() -> Vec<Record> {
    let mut opportunity = Record::new("crm", "OPP-1", RecordKind::Opportunity);
    opportunity.title = Some("Fleet renewal".into());
    opportunity.company = Some("Acme Robotics Inc.".into());
    let mut ambiguous = Record::new("crm", "OPP-2", RecordKind::Opportunity);
    ambiguous.company = Some("Orion".into());
    let mut foldered = Record::new("notes", "globex/visit.md", RecordKind::Note);
    foldered.provenance.file = "customers/Globex Corporation/visit.md".into();
    foldered.body = Some("Visited the plant.".into());
    let mut by_form = Record::new("crm", "OPP-3", RecordKind::Opportunity);
    by_form.company = Some("Orion Limited".into());
    vec![
        by_form,
        org("A1", "Acme Robotics Inc.", Some("acmerobotics.com")),
        org("G1", "Globex Corporation", None),
        org("O1", "Orion GmbH", None),
        org("O2", "Orion Ltd", None),
        person("P1", "Jon Smith", "jon@acmerobotics.com", "A1"),
        person("P2", "Hank Scorpio", "hank@globex.example", "G1"),
        opportunity,
        ambiguous,
        foldered,
        // A known address on the customer side decides, not the staff's.
        email("m1", "rep@ourco.com", &["hank@globex.example"], None),
        // An unknown address at a domain only Globex's people use.
        email("m2", "lisa@globex.example", &["rep@ourco.com"], None),
        // A domain Acme's web site names.
        email(
            "m3",
            "new.person@acmerobotics.com",
            &["rep@ourco.com"],
            None,
        ),
        // A reply from free mail follows the thread it answers.
        email("m4", "someone@gmail.com", &["rep@ourco.com"], Some("m3")),
        // Only staff: attaches to nobody, and says why.
        email("m5", "rep@ourco.com", &["boss@sales.ourco.com"], None),
    ]
}

pub(super) fn settings() -> Settings {
    Settings {
        staff_domains: vec!["ourco.com".into()],
        ..Settings::default()
    }
}

#[test]
fn interactions_attach_by_company_folder_correspondent_domain_and_thread() {
    let records = book();
    let r = resolve(&records, &settings(), &Overrides::default());
    let customer = |id: &str| {
        r.assignments
            .get(id)
            .and_then(|a| a.customer_id.clone())
            .unwrap_or_else(|| format!("none for {id}"))
    };
    let acme = customer("crm:A1");
    let globex = customer("crm:G1");
    assert_eq!(customer("crm:OPP-1"), acme, "company column");
    assert_eq!(
        customer("crm:OPP-3"),
        customer("crm:O2"),
        "the legal form picks one of two namesakes"
    );
    assert_eq!(customer("notes:globex/visit.md"), globex, "folder name");
    assert_eq!(customer("mail:m1"), globex, "known address");
    assert_eq!(customer("mail:m2"), globex, "a contact's domain");
    assert_eq!(customer("mail:m3"), acme, "the web site's domain");
    assert_eq!(customer("mail:m4"), acme, "the thread");
    let why = |id: &str| {
        r.unattached
            .iter()
            .find(|u| u.record == id)
            .map(|u| u.reason.clone())
    };
    assert_eq!(
        why("crm:OPP-2").as_deref(),
        Some("company name \"Orion\" names 2 organisations")
    );
    assert_eq!(
        why("mail:m5").as_deref(),
        Some("every correspondent is staff")
    );
    assert_eq!(r.unattached.len(), 2, "{:?}", r.unattached);
}

#[test]
fn staff_addresses_never_decide() {
    let mut records = book();
    // Without the staff domain, the staff's own address is unknown anyway;
    // a staff person record (a help-desk agent) is never a customer either.
    let mut agent = Record::new("zd", "u9", RecordKind::Person);
    agent.names.push("Rep".into());
    agent.emails.push("rep@ourco.com".into());
    agent
        .attrs
        .insert("staff".into(), serde_json::Value::Bool(true));
    records.push(agent);
    let r = resolve(&records, &Settings::default(), &Overrides::default());
    let m5 = r
        .assignments
        .get("mail:m5")
        .and_then(|a| a.customer_id.clone());
    assert_eq!(m5, None, "an agent's address attached a message");
}

#[test]
fn a_steward_attaches_by_hand() {
    let records = book();
    let overrides = Overrides {
        attach: vec![("crm:OPP-2".into(), "crm:O2".into())],
        ..Overrides::default()
    };
    let r = resolve(&records, &settings(), &overrides);
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    assert_eq!(a("crm:OPP-2"), a("crm:O2"));
    assert!(r.unattached.iter().all(|u| u.record != "crm:OPP-2"));
}

#[test]
fn a_national_phone_is_read_in_its_organisations_country() {
    let mut kansai = org("K1", "Kansai Foods", None);
    kansai.country = Some("JP".into());
    let mut keiko = person("P9", "Keiko Nakamura", "keiko@kansai.example", "K1");
    keiko.attrs.insert(
        "raw_phones".into(),
        serde_json::Value::String("06-6000-1201".into()),
    );
    keiko.flag("phones", "not a valid phone number");
    let r = resolve(
        &[kansai, keiko],
        &Settings::default(),
        &Overrides::default(),
    );
    assert_eq!(r.assignments["crm:P9"].phones, vec!["+81660001201"]);
    assert!(r.assignments["crm:K1"].phones.is_empty());
}

#[test]
fn a_company_named_with_its_legal_form_tells_namesakes_apart() {
    let mut records = book();
    let mut note = Record::new("notes", "orion.md", RecordKind::Note);
    note.body = Some("Call with Orion GmbH about the renewal.".into());
    let mut vague = Record::new("notes", "vague.md", RecordKind::Note);
    vague.body = Some("Call with Orion about the renewal.".into());
    records.extend([note, vague]);
    let r = resolve(&records, &settings(), &Overrides::default());
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    assert_eq!(a("notes:orion.md"), a("crm:O1"));
    assert_eq!(a("notes:vague.md"), None, "Orion alone names two customers");
}

#[test]
fn a_converted_lead_is_its_contact_whatever_its_name() {
    let records = book();
    let mut records: Vec<Record> = records;
    // The lead was typed with a nickname and a private address; the contact
    // it became has the married name and the work address.
    let mut lead = person("L1", "Kim Lee", "kimlee77@gmail.com", "A1");
    lead.links.push(Link {
        rel: "contact".into(),
        target: "C1".into(),
        name: None,
    });
    let contact = person("C1", "Kimberly Weber", "k.weber@acmerobotics.com", "A1");
    let stranger = person("C2", "Kim Leeds", "kim.leeds@acmerobotics.com", "A1");
    records.extend([lead, contact, stranger]);
    let r = resolve(&records, &settings(), &Overrides::default());
    let person_of = |id: &str| r.assignments.get(id).and_then(|a| a.person_id.clone());
    assert!(person_of("crm:C1").is_some());
    assert_eq!(person_of("crm:L1"), person_of("crm:C1"));
    assert_ne!(person_of("crm:C2"), person_of("crm:C1"));
    // A steward's "never together" wins over the conversion.
    let overrides = Overrides {
        never: vec![("crm:L1".into(), "crm:C1".into())],
        ..Overrides::default()
    };
    let r = resolve(&records, &settings(), &overrides);
    let person_of = |id: &str| r.assignments.get(id).and_then(|a| a.person_id.clone());
    assert_ne!(person_of("crm:L1"), person_of("crm:C1"));
}

pub(super) fn note(id: &str, folder: Option<&str>, body: &str) -> Record {
    let mut r = Record::new("notes", id, RecordKind::Note);
    r.provenance.file = match folder {
        Some(f) => format!("{f}/{id}"),
        None => id.to_string(),
    };
    r.body = Some(body.into());
    r
}

pub(super) fn org_in(id: &str, name: &str, city: &str) -> Record {
    let mut r = org(id, name, None);
    r.address.city = Some(city.into());
    r
}

#[test]
fn notes_forgive_one_slip_and_let_their_clues_pick_among_namesakes() {
    let mut records = book();
    records.extend([
        org_in("R1", "Redwood Industries Ltd.", "Leeds"),
        org_in("T1", "Titan Logistics GmbH", "Hamburg"),
        org_in("T2", "Titan Logistics AG", "Berlin"),
        person("P5", "Greta Vogel", "greta@titan-berlin.example", "T2"),
        note(
            "n1",
            None,
            "Call with Redowod Industries Ltd. about the renewal.",
        ),
        note("n2", Some("notes/Redwood Industires"), "Visited the site."),
        note(
            "n3",
            None,
            "Call with Titan Logistics about the renewal. Met Greta Vogel.",
        ),
        note(
            "n4",
            Some("notes/Titan Logistics"),
            "Site visit in Hamburg.",
        ),
        // Two namesakes and nothing else: no guess.
        note("n5", None, "Call with Titan Logistics about the renewal."),
        // A slip in a short name is not forgiven ("Orion" is not "Orian").
        note("n6", None, "Call with Orian GmbH about the renewal."),
        // A misspelt name whose only contact belongs elsewhere: no guess.
        note(
            "n7",
            None,
            "Call with Redwood Industires. Met Hank Scorpio.",
        ),
        // A known name inside a longer, unknown one is not that company.
        note(
            "n8",
            None,
            "Call with Northern Redwood Industries about it.",
        ),
        note("n9", None, "Call with Redwood Industries-Thomas about it."),
        note("n10", None, "Call with Redwood Industries Ltd. about it."),
    ]);
    let r = resolve(&records, &settings(), &Overrides::default());
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    let redwood = a("crm:R1");
    assert!(redwood.is_some());
    assert_eq!(a("notes:n1"), redwood, "a swapped pair of letters");
    assert_eq!(a("notes:n2"), redwood, "a folder with a slip");
    assert_eq!(a("notes:n3"), a("crm:T2"), "the contact picks the namesake");
    assert_eq!(a("notes:n4"), a("crm:T1"), "the city picks the namesake");
    assert_eq!(a("notes:n5"), None);
    assert_eq!(a("notes:n6"), None);
    assert_eq!(a("notes:n7"), None);
    assert_eq!(a("notes:n8"), None);
    assert_eq!(a("notes:n9"), None);
    assert_eq!(a("notes:n10"), redwood, "a legal form ends the name");
    let why = r
        .unattached
        .iter()
        .find(|u| u.record == "notes:n5")
        .map(|u| u.reason.clone())
        .unwrap_or_default();
    assert!(why.contains("names 2 organisation"), "{why}");
}

fn deal(id: &str, company: Option<&str>, title: &str) -> Record {
    let mut r = Record::new("deals", id, RecordKind::Opportunity);
    r.company = company.map(str::to_string);
    r.title = Some(title.into());
    r
}

/// Issue 18, third landing: a name-based rule that would land a record on
/// the wrong customer refuses, and the record stays unattached with why.
#[test]
fn names_that_could_mean_another_customer_attach_to_none() {
    let mut cedar_contact = person("CC1", "Ines Moreau", "ines@free.example", "C1");
    cedar_contact.company = Some("Cedar Software Services".into());
    let mut cedar_card = Record::new("vc", "CC2", RecordKind::Person);
    cedar_card.names.push("Ines Moreau".into());
    cedar_card.emails.push("ines@free.example".into());
    cedar_card.company = Some("Cedar Software Services".into());
    let records = vec![
        org_in("R1", "Redwood Industries Ltd.", "Leeds"),
        // A namesake whose records carry a typo, and its twin.
        org_in("M1", "Meridian Robotics Corp.", "Boston"),
        org_in("M2", "Meridain Robotics Inc", "Austin"),
        org_in("L1", "Lumen Media Networks", "Boston"),
        org_in("T1", "Titan Logistics GmbH", "Hamburg"),
        org("T2", "Titan Logistics AG", None),
        org("A1", "Atlas Energy LLC", None),
        // Known to Rapport only by a typo; a contact's other record names
        // it right, so the right name stands for nobody (a phantom).
        org("C1", "Cedar Software Serivces SA", None),
        cedar_contact,
        cedar_card,
        deal(
            "D1",
            Some("Delta Atlas Energy"),
            "Support case 1 for Delta Atlas Energy",
        ),
        deal("D2", None, "Atlas Energy renewal 2024"),
        deal("D3", Some("Meridian Robotics Corp."), "Renewal"),
        deal("D4", Some("Cedar Software Services"), "Renewal"),
        note("n1", None, "Call with Meridian Robotics about the renewal."),
        note(
            "n2",
            None,
            "Call with Lumen Media Networks. Site visit in Leeds.",
        ),
        note(
            "n3",
            None,
            "Call with Lumen Media Networks. Site visit in Boston.",
        ),
        // The city names T1, but T2's city is unknown: it might be T2.
        note(
            "n4",
            None,
            "Call with Titan Logistics. Site visit in Hamburg.",
        ),
        note("n5", Some("notes/Cedar Software Services SA"), "Visited."),
        note("n6", None, "Call with Delta Atlas Energy about it."),
        note(
            "n7",
            None,
            "Call with Lumen Media Networks International Corp.",
        ),
        // The typo'd namesake is in Berlin; the exact one's city unknown.
        org("W1", "Willow Media Networks", None),
        org_in("W2", "Willow Media Netwrks", "Berlin"),
        note(
            "n8",
            None,
            "Call with Willow Media Networks about the renewal. Site visit in Berlin.",
        ),
        // Namesakes the CRM places in romanised cities; the note writes
        // the city in kanji.
        org_in("Y1", "Yamato Shoji K.K.", "Osaka"),
        org_in("Y2", "Yamato Shoji Co., Ltd.", "Nagoya"),
        note(
            "n9",
            None,
            "商談メモ Call with Yamato Shoji about the renewal. Site visit in 大阪市.",
        ),
    ];
    let r = resolve(&records, &settings(), &Overrides::default());
    let a = |id: &str| r.assignments.get(id).and_then(|a| a.customer_id.clone());
    let why = |id: &str| {
        r.unattached
            .iter()
            .find(|u| u.record == id)
            .map(|u| u.reason.clone())
            .unwrap_or_default()
    };
    assert!(a("crm:A1").is_some() && a("crm:L1").is_some());
    assert_eq!(a("deals:D2"), a("crm:A1"), "a name standing alone");
    assert_eq!(
        a("deals:D1"),
        None,
        "Atlas Energy inside Delta Atlas Energy"
    );
    assert_eq!(a("notes:n6"), None, "{}", why("notes:n6"));
    assert_eq!(a("notes:n7"), None, "a longer name with its own legal form");
    assert_eq!(
        a("deals:D3"),
        None,
        "Meridain Robotics may be the one meant"
    );
    assert!(
        why("deals:D3").contains("with one slip"),
        "{}",
        why("deals:D3")
    );
    assert_eq!(a("notes:n1"), None);
    assert_eq!(
        a("notes:n3"),
        a("crm:L1"),
        "its own city: {}",
        why("notes:n3")
    );
    // A city elsewhere alone vetoes nothing: firms have sites elsewhere.
    assert_eq!(a("notes:n2"), a("crm:L1"), "{}", why("notes:n2"));
    assert_eq!(a("notes:n4"), None, "a namesake of unknown city");
    assert_eq!(a("deals:D4"), None, "a phantom organisation");
    assert!(
        why("deals:D4").contains("no contact"),
        "{}",
        why("deals:D4")
    );
    assert_eq!(a("notes:n5"), a("crm:C1"), "the folder's slip finds C1");
    assert_eq!(a("notes:n8"), None, "{:?}", r.assignments.get("notes:n8"));
    assert!(a("crm:Y1").is_some() && a("crm:Y1") != a("crm:Y2"));
    assert_eq!(a("notes:n9"), a("crm:Y1"), "大阪市 is Osaka");
}
