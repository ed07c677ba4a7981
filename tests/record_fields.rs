//! The typed record fields (date of birth, postal address, web sites) read
//! from every connector whose source has them, on the fixtures in each
//! tool's real format (tests/fixtures/connectors), after normalisation:
//! postcodes in their country's form, web sites as host names, a date that
//! is no date flagged on its record.

use std::path::{Path, PathBuf};

use crate::common;

use chrono::NaiveDate;
use common::read_folder;
use rapport::record::{Address, Record};

fn fixtures(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/connectors")
        .join(name)
}

/// The folder's records read by `connector` and normalised.
fn read(connector: &str, folder: &str) -> Vec<Record> {
    let read = read_folder(connector, &fixtures(folder));
    read.records
        .into_iter()
        .map(|mut r| {
            rapport::normalize::finish_record(&mut r, None);
            r
        })
        .collect()
}

fn get<'a>(records: &'a [Record], id: &str) -> &'a Record {
    records
        .iter()
        .find(|r| r.external_id == id)
        .unwrap_or_else(|| panic!("no record {id}"))
}

fn address(street: &str, city: &str, region: &str, postcode: &str) -> Address {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Address {
        street: some(street),
        city: some(city),
        region: some(region),
        postcode: some(postcode),
    }
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

#[test]
fn salesforce_billing_mailing_and_lead_addresses_websites_and_birthdates() {
    let records = read("salesforce-export", "salesforce");
    let acme = get(&records, "0015g00000AcmeRAAR");
    assert_eq!(
        acme.address,
        address("500 Harbor Blvd", "San Francisco", "CA", "94107")
    );
    assert_eq!(acme.websites, vec!["acmerobotics.example"]);
    let nitto = get(&records, "0015g00000NittoAAR");
    assert_eq!(nitto.address.postcode.as_deref(), Some("105-0023"));
    assert_eq!(nitto.address.city.as_deref(), Some("東京都"));
    let jon = get(&records, "0035g00000JonSmAAB");
    assert_eq!(
        jon.address,
        address(
            "500 Harbor Blvd\nSuite 200",
            "San Francisco",
            "CA",
            "94107-1234"
        )
    );
    assert_eq!(jon.birth_date, date(1979, 3, 14));
    let tanaka = get(&records, "0035g00000TanakAAB");
    assert_eq!(tanaka.address.postcode.as_deref(), Some("105-0023"), "JP");
    assert_eq!(tanaka.birth_date, None, "an empty Birthdate is no date");
    assert!(tanaka.quality.is_empty(), "{:?}", tanaka.quality);
    let grace = get(&records, "00Q5g00000LeadAAAA");
    assert_eq!(
        grace.address,
        address("1 Park Row", "Leeds", "West Yorkshire", "LS1 5AB")
    );
    assert_eq!(grace.websites, vec!["brightwater.example"]);
}

#[test]
fn hubspot_contact_and_company_addresses_websites_and_dates_of_birth() {
    let records = read("hubspot-export", "hubspot");
    let maria = get(&records, "contact-51");
    assert_eq!(
        maria.address,
        address("1200 Larimer St", "Denver", "Colorado", "80204")
    );
    assert_eq!(maria.birth_date, date(1984, 11, 2));
    let kenji = get(&records, "contact-52");
    assert_eq!(kenji.address.postcode.as_deref(), Some("530-0001"));
    assert_eq!(kenji.birth_date, date(1975, 7, 21));
    let sam = get(&records, "contact-53");
    assert_eq!(sam.address.postcode.as_deref(), Some("M5V 2T6"), "CA");
    assert_eq!(sam.websites, vec!["samlee.example"]);
    assert_eq!(sam.birth_date, None);
    assert!(
        sam.quality.iter().any(|q| q.field == "birth_date"),
        "31/02/1990 is flagged: {:?}",
        sam.quality
    );
    let cedar = get(&records, "company-9001");
    assert_eq!(cedar.websites, vec!["cedarpeak.example"], "one host, once");
    assert_eq!(cedar.address.street.as_deref(), Some("1200 Larimer St"));
    let minato = get(&records, "company-9002");
    assert_eq!(minato.websites, vec!["minato-denshi.example.jp"]);
    assert_eq!(minato.address.postcode.as_deref(), Some("530-0001"));
}

#[test]
fn zendesk_organizations_keep_their_domains_as_websites() {
    let records = read("zendesk-export", "zendesk-full");
    let acme = get(&records, "organization-5501");
    assert_eq!(
        acme.websites,
        vec!["acmerobotics.example", "acme-robots.example"]
    );
}

#[test]
fn vcard_adr_bday_and_url_become_typed_fields() {
    let records = read("vcard", "vcard");
    let jon = get(&records, "5A9F6C1E-0B7D-4F4B-9E0C-1D2F3A4B5C6D");
    assert_eq!(
        jon.address,
        address("500 Harbor Blvd", "San Francisco", "CA", "94107"),
        "the first ADR is the typed one"
    );
    assert_eq!(jon.birth_date, date(1979, 3, 14));
    assert_eq!(jon.websites, vec!["acmerobotics.example"]);
    let tanaka = get(&records, "0c2d8a1e-7f21-4b3c-9f0a-2e5b6c7d8e9f");
    assert_eq!(tanaka.birth_date, None, "--0930 has no year");
    assert!(
        tanaka.quality.iter().all(|q| q.field != "birth_date"),
        "a birthday without its year is no error: {:?}",
        tanaka.quality
    );
    let grace = get(&records, "4fbe8971-0bc3-424c-9c26-36c3e1eff6b1");
    assert_eq!(grace.address, address("1 Park Row", "Leeds", "", "LS1 5AB"));
    let org = get(&records, "9a1c2b3d-0000-4000-8000-00000000b0a1");
    assert_eq!(org.websites, vec!["brightwater.example"]);
}

#[test]
fn generic_csv_and_json_recognise_the_usual_column_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("people.csv"),
        "rec_id,given_name,surname,date_of_birth,address_1,suburb,state,postcode,soc_sec_id,country\n\
         r1,Ann,Lee,19560409,12 Main Rd,Sydney,NSW,2000,5304218,AU\n",
    )
    .unwrap();
    let read = read_folder("generic-csv", dir.path());
    let mut ann = get(&read.records, "r1").clone();
    rapport::normalize::finish_record(&mut ann, None);
    assert_eq!(ann.names, vec!["Ann Lee"]);
    assert_eq!(ann.birth_date, date(1956, 4, 9));
    assert_eq!(ann.address, address("12 Main Rd", "Sydney", "NSW", "2000"));
    assert_eq!(ann.identifiers.len(), 1, "{:?}", ann.identifiers);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("people.json"),
        r#"[{"id": "j1", "name": "Bo Kim", "dob": "1990-01-02",
            "address": {"street": "1 High St", "city": "Leeds", "postcode": "ls15ab"},
            "country": "GB", "website": "https://bo.example"}]"#,
    )
    .unwrap();
    let read = read_folder("generic-json", dir.path());
    let mut bo = get(&read.records, "j1").clone();
    rapport::normalize::finish_record(&mut bo, None);
    assert_eq!(bo.birth_date, date(1990, 1, 2));
    assert_eq!(bo.address, address("1 High St", "Leeds", "", "LS1 5AB"));
    assert_eq!(bo.websites, vec!["bo.example"]);
}

/// Salesforce and the vCard of the same Jon Smith, ingested and served:
/// his customer page's golden record holds his date of birth, address and
/// web site, each with the record it came from and the other sources'
/// values as variants.
#[test]
fn the_golden_record_holds_the_new_fields_with_provenance_over_http() {
    let ws = common::Workspace::new();
    common::copy_dir(&fixtures("salesforce"), &ws.path().join("sf"));
    common::copy_dir(&fixtures("vcard"), &ws.path().join("cards"));
    ws.write_config_with(
        &[
            ("crm", "salesforce-export", "sf"),
            ("cards", "vcard", "cards"),
        ],
        "[resolve]\nsource_priority = [\"crm\", \"cards\"]\n",
    );
    ws.ingest();
    let server = ws.serve();
    let hits = server
        .get("/v1/search?q=jon.smith%40acmerobotics.example&group=none")
        .1;
    // Hits of equal score come in any order: Jon's person record.
    let person = hits["hits"]
        .as_array()
        .and_then(|hits| hits.iter().find(|h| h["kind"] == "person"))
        .and_then(|h| h["person_id"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(person.starts_with("per_"), "{hits}");
    let (status, page) = server.get(&format!("/v1/customers/{person}"));
    assert_eq!(status, 200, "{page}");
    let fields = &page["golden"]["fields"];
    assert_eq!(fields["birth_date"]["value"], "1979-03-14", "{fields}");
    assert_eq!(fields["birth_date"]["source"], "crm");
    assert_eq!(
        fields["address"]["value"],
        "500 Harbor Blvd Suite 200, San Francisco, CA 94107-1234"
    );
    assert_eq!(fields["address"]["external_id"], "0035g00000JonSmAAB");
    let variants: Vec<&str> = fields["address"]["variants"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x["value"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        variants.contains(&"500 Harbor Blvd, San Francisco, CA 94107"),
        "the vCard's address is a variant: {variants:?}"
    );
    assert_eq!(fields["websites"]["value"], "acmerobotics.example");
    assert_eq!(fields["websites"]["source"], "cards");
}
