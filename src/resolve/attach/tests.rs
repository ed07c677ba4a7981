//! Attachment of interactions on small hand-made record sets.

use crate::record::{Link, Record, RecordKind};
use crate::resolve::{Overrides, Settings, resolve};

fn org(id: &str, name: &str, website: Option<&str>) -> Record {
    let mut r = Record::new("crm", id, RecordKind::Organization);
    r.names.push(name.into());
    r.websites.extend(website.map(str::to_string));
    r
}

fn person(id: &str, name: &str, email: &str, account: &str) -> Record {
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

fn settings() -> Settings {
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
