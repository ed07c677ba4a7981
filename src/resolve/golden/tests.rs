//! Golden records hold the identity fields (date of birth, address,
//! identifiers, web sites) with the record each value came from.

use super::*;
use crate::record::{Address, Record, RecordKind};

fn record(source: &str, id: &str) -> Record {
    Record::new(source, id, RecordKind::Person)
}

#[test]
fn identity_fields_survive_by_priority_and_keep_every_value_as_a_variant() {
    let mut crm = record("crm", "c1");
    crm.birth_date = chrono::NaiveDate::from_ymd_opt(1979, 3, 14);
    crm.address = Address {
        street: Some("500 Harbor Blvd\nSuite 200".into()),
        city: Some("San Francisco".into()),
        region: Some("CA".into()),
        postcode: Some("94107".into()),
    };
    crm.identifiers.push("national_id:5304218".into());
    let mut cards = record("cards", "v1");
    cards.birth_date = chrono::NaiveDate::from_ymd_opt(1979, 3, 15);
    cards.address.city = Some("Oakland".into());
    cards.websites.push("acme.example".into());
    let settings = Settings {
        source_priority: vec!["crm".into(), "cards".into()],
        ..Settings::default()
    };
    let (cards, crm) = (BookRecord::from(cards), BookRecord::from(crm));
    let golden = Golden::build(&[&cards, &crm], &settings);
    let dob = &golden.fields["birth_date"];
    assert_eq!(
        (dob.value.as_str(), dob.source.as_str()),
        ("1979-03-14", "crm")
    );
    assert_eq!(dob.variants.len(), 2, "the vCard's date is a variant");
    let address = &golden.fields["address"];
    assert_eq!(
        address.value,
        "500 Harbor Blvd Suite 200, San Francisco, CA 94107"
    );
    assert_eq!(address.external_id, "c1");
    assert_eq!(address.variants[1].value, "Oakland");
    assert_eq!(golden.value("identifiers"), Some("national_id:5304218"));
    let site = &golden.fields["websites"];
    assert_eq!(
        (site.value.as_str(), site.source.as_str()),
        ("acme.example", "cards")
    );
}
