//! The book a full resolution holds (`Store::records_by_birth_as` with
//! `resolve::BookRecord::from`, which empties through
//! `resolve::keep_what_is_read`, as `Engine::resolve_locked` reads it)
//! resolves exactly as the whole book does (every field a `BookRecord`
//! has, of every record: `BookRecord::keeping_all`): the same assignments, customers,
//! suspects and unattached records, on a book whose interactions attach by
//! every rule that reads a record's text, folder, address, attributes and
//! owner, through a real store.

#![cfg(feature = "bench")]

use rapport::record::consent::{Channel, Consent, Status};
use rapport::record::{Link, QualityIssue, Record, RecordKind};
use rapport::resolve::{self, BookRecord, Overrides, Resolution, Settings};
use rapport::store::Store;

fn link(rel: &str, target: &str) -> Link {
    Link {
        rel: rel.into(),
        target: target.into(),
        name: None,
    }
}

fn org(id: &str, name: &str, city: &str, country: &str) -> Record {
    let mut r = Record::new("crm", id, RecordKind::Organization);
    r.names.push(name.into());
    r.address.city = Some(city.into());
    r.country = Some(country.into());
    // Never read by resolution: emptied by the read.
    r.body = Some(format!("{name} has been a customer since 2019."));
    r.attrs.insert("plan".into(), "gold".into());
    r.flag("phones", "planted");
    r
}

fn note(id: &str, file: &str, body: &str) -> Record {
    let mut r = Record::new("notes", id, RecordKind::Note);
    r.provenance.file = file.into();
    r.body = Some(body.into());
    r.tags.push("visit".into());
    r.attrs.insert("mood".into(), "fine".into());
    r
}

/// Customers that need every rule, with fields no rule reads besides.
fn hand_made() -> Vec<Record> {
    let mut staff = Record::new("crm", "S1", RecordKind::Person);
    staff.names.push("Sam Staff".into());
    staff.emails.push("sam@ourco.example".into());
    staff.attrs.insert("role".into(), "agent".into());
    let mut greta = Record::new("crm", "P1", RecordKind::Person);
    greta.names.push("Greta Vogel".into());
    greta.emails.push("greta@globex.example".into());
    greta.links.push(link("account", "G1"));
    greta.consent.push(Consent {
        channel: Channel::Email,
        status: Status::OptedOut,
        date: None,
    });
    greta.stage = Some("lead".into());
    // A national number only its organisation's country reads.
    let mut hugh = Record::new("crm", "P2", RecordKind::Person);
    hugh.names.push("Hugh Lambert".into());
    hugh.links.push(link("account", "R1"));
    hugh.attrs
        .insert("raw_phones".into(), "020 7946 0958".into());
    hugh.attrs.insert("shoe_size".into(), "44".into());
    let mut ticket = Record::new("crm", "TK1", RecordKind::Ticket);
    ticket.title = Some("Printer jam".into());
    ticket.owner = Some("S1".into());
    ticket.links.push(link("requester", "P1"));
    let mut deal = Record::new("crm", "D1", RecordKind::Opportunity);
    deal.company = Some("Acme Robotics Inc.".into());
    deal.stage = Some("won".into());
    deal.amount = Some(1000.0);
    deal.currency = Some("EUR".into());
    deal.quality.push(QualityIssue {
        field: "amount".into(),
        reason: "planted".into(),
    });
    let mut mail = Record::new("mail", "M1", RecordKind::Email);
    mail.title = Some("Re: quote".into());
    mail.links.push(link("from", "greta@globex.example"));
    mail.links.push(link("to", "sam@ourco.example"));
    let mut declared = Record::new("warehouse", "W1", RecordKind::Person);
    declared.names.push("Ivo Declared".into());
    declared.customer_id = Some("CUST-9".into());
    declared.customer_name = Some("Declared Ltd".into());
    let mut acme = org("A1", "Acme Robotics Inc.", "Bristol", "GB");
    acme.websites.push("acmerobotics.example".into());
    vec![
        acme,
        org("G1", "Globex Corporation", "Springfield", "US"),
        org("R1", "Redwood Industries Ltd.", "Leeds", "GB"),
        org("T1", "Titan Logistics GmbH", "Hamburg", "DE"),
        org("T2", "Titan Logistics AG", "Berlin", "DE"),
        staff,
        greta,
        hugh,
        ticket,
        deal,
        mail,
        declared,
        note(
            "typo.txt",
            "typo.txt",
            "Call with Redowod Industries Ltd. about the renewal; they want a quote.",
        ),
        note(
            "Globex Corporation/visit.txt",
            "Globex Corporation/visit.txt",
            "Visited the plant.",
        ),
        note(
            "Titan Logistics/city.txt",
            "Titan Logistics/city.txt",
            "Site visit in Hamburg; they want a quote.",
        ),
        note(
            "mail.txt",
            "mail.txt",
            "Mail from greta@globex.example about the renewal",
        ),
    ]
}

fn resolve_book(records: Vec<BookRecord>) -> Resolution {
    resolve::resolve_owned(records, &Settings::default(), &Overrides::default(), None)
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap()
}

#[test]
fn the_book_resolution_holds_resolves_as_the_whole_book() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.redb")).unwrap();
    // A labelled book (legal forms, typos, kanji and romaji, addresses,
    // registration numbers) and the hand-made customers and interactions.
    let mut records = rapport::bench::book::generate(60, 11).records;
    records.extend(hand_made());
    let mut sources: Vec<String> = records.iter().map(|r| r.source.clone()).collect();
    sources.sort();
    sources.dedup();
    for source in &sources {
        let of_source: Vec<Record> = records
            .iter()
            .filter(|r| &r.source == source)
            .cloned()
            .collect();
        store
            .apply_file(source, &format!("{source}.csv"), "h", &of_source)
            .unwrap();
    }
    let whole: Vec<BookRecord> = store
        .records_by_birth()
        .unwrap()
        .into_iter()
        .map(BookRecord::keeping_all)
        .collect();
    let read = store.records_by_birth_as(BookRecord::from).unwrap();
    assert_eq!(whole.len(), read.len());
    // The read did empty something, so the comparison below is not empty:
    // of the fields a `BookRecord` holds, a customer's body and file, an
    // interaction's address, web sites and consent, the attributes no rule
    // reads (quality flags and deal fields it never holds at all).
    let emptied = whole.iter().zip(&read).filter(|(w, r)| w != r).count();
    assert!(emptied >= 10, "only {emptied} records were emptied");

    let (full, slim) = (resolve_book(whole), resolve_book(read));
    assert_eq!(full.assignments, slim.assignments);
    assert_eq!(json(&full.entities), json(&slim.entities));
    assert_eq!(json(&full.suspects), json(&slim.suspects));
    assert_eq!(full.unattached, slim.unattached);
    assert_eq!(json(&full.model), json(&slim.model));

    // Every rule that reads an emptied record's other fields was used.
    let customer = |id: &str| slim.assignments.get(id).and_then(|a| a.customer_id.clone());
    for id in [
        "notes:typo.txt",
        "notes:Globex Corporation/visit.txt",
        "notes:Titan Logistics/city.txt",
        "notes:mail.txt",
        "mail:M1",
        "crm:D1",
        "crm:TK1",
    ] {
        assert!(customer(id).is_some(), "{id} attached to no customer");
    }
    assert_eq!(customer("notes:typo.txt"), customer("crm:R1"));
    assert_eq!(
        customer("notes:Globex Corporation/visit.txt"),
        customer("crm:G1")
    );
    assert_eq!(
        customer("notes:Titan Logistics/city.txt"),
        customer("crm:T1")
    );
    let hugh = slim.assignments.get("crm:P2").unwrap();
    assert_eq!(hugh.phones, vec!["+442079460958".to_string()]);
    let ticket = slim.assignments.get("crm:TK1").unwrap();
    assert_eq!(ticket.owner.as_deref(), Some("Sam Staff"));
    assert!(
        !slim.assignments.contains_key("crm:S1"),
        "staff is no customer"
    );
    let declared = slim.assignments.get("warehouse:W1");
    assert!(declared.is_none_or(|a| a.customer_id.as_deref() == Some("CUST-9")));
}
