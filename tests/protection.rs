//! Data protection (issue 17) end to end on real servers: consent read from
//! a Salesforce export and a generic CSV becomes the golden record's latest
//! statement per channel, is filterable and facetable, and an export
//! declared for marketing leaves out who opted out, says how many, and is
//! audited; customer pages name each field's source, purpose and lawful
//! basis.

mod common;

use common::{Server, Workspace};
use serde_json::Value;

const CONTACTS: &str = "\
Id,FirstName,LastName,Email,Phone,HasOptedOutOfEmail,DoNotCall,HasOptedOutOfFax,LastModifiedDate
003A,Ada,Lovelace,ada@analytical.example,+44 20 7946 0001,true,false,false,2024-01-10T09:00:00Z
003B,Ben,Okafor,ben@okafor.example,+44 20 7946 0002,false,true,false,2024-01-10T09:00:00Z
003C,Chie,Sato,chie@sato.example,+81 3 1234 5678,false,false,false,2024-01-10T09:00:00Z
";

/// A newsletter tool's list: Ada's old opt-in (older than her opt-out in
/// the CRM, so it loses) and Ben's marketing opt-out.
const EVENTS: &str = "\
id,name,email,marketing_opt_out,email_opt_in,consent_date
ev1,Ada Lovelace,ada@analytical.example,,yes,2023-03-01
ev2,Ben Okafor,ben@okafor.example,yes,,2024-05-01
";

fn workspace() -> Workspace {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path().join("sf")).unwrap();
    std::fs::create_dir_all(ws.path().join("events")).unwrap();
    std::fs::write(ws.path().join("sf/Contact.csv"), CONTACTS).unwrap();
    std::fs::write(ws.path().join("events/list.csv"), EVENTS).unwrap();
    let config = "data_dir = \"store\"\n\
        [[sources]]\nname = \"sf\"\nconnector = \"salesforce-export\"\npath = \"sf\"\n\
        purpose = \"sales\"\nlawful_basis = \"contract\"\n\
        [[sources]]\nname = \"events\"\nconnector = \"generic-csv\"\npath = \"events\"\n\
        purpose = \"marketing\"\nlawful_basis = \"consent\"\n";
    std::fs::write(ws.config(), config).unwrap();
    ws
}

fn customer_of(server: &Server, record: &str) -> String {
    let (status, body) = server.get(&format!(
        "/v1/search?q=*&group=none&limit=50&filter.id={record}"
    ));
    assert_eq!(status, 200, "{body}");
    body["hits"][0]["customer_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no customer for {record}: {body}"))
        .to_string()
}

/// The body of an export: its rows, its trailer line (last), and the
/// purpose it declared in its headers.
fn export(server: &Server, query: &str) -> (Vec<Value>, Option<Value>, String) {
    let response = server
        .client()
        .get(format!("{}/v1/export?{query}", server.base))
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let purpose = response
        .headers()
        .get("x-rapport-purpose")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response.text().unwrap();
    assert_eq!(status, 200, "{body}");
    let mut lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let trailer = match lines.last() {
        Some(last) if last.get("export").is_some() => lines.pop(),
        _ => None,
    };
    (lines, trailer, purpose)
}

#[test]
fn consent_is_on_the_golden_record_and_honoured_by_a_marketing_export() {
    let ws = workspace();
    let server = ws.serve();
    let ada = customer_of(&server, "sf:003A");
    let ben = customer_of(&server, "sf:003B");
    let chie = customer_of(&server, "sf:003C");
    assert_eq!(
        customer_of(&server, "events:ev1"),
        ada,
        "the list row joins Ada"
    );
    assert_eq!(
        customer_of(&server, "events:ev2"),
        ben,
        "the list row joins Ben"
    );

    // The golden record: the latest explicit statement per channel, with
    // where it came from.
    let (status, page) = server.get(&format!("/v1/customers/{ada}"));
    assert_eq!(status, 200, "{page}");
    let consent = &page["golden"]["consent"];
    assert_eq!(consent["email"]["status"], "opted_out", "{consent}");
    assert_eq!(consent["email"]["source"], "sf", "{consent}");
    assert_eq!(consent["email"]["external_id"], "003A", "{consent}");
    assert_eq!(consent["phone"]["status"], "no_objection", "{consent}");
    assert_eq!(consent["fax"]["status"], "no_objection", "{consent}");
    // Purpose and lawful basis per field.
    let purposes = &page["purposes"];
    assert_eq!(purposes["consent.email"]["purpose"], "sales", "{purposes}");
    assert_eq!(purposes["name"]["source"], "sf", "{purposes}");
    assert_eq!(purposes["name"]["lawful_basis"], "contract", "{purposes}");

    let (_, page) = server.get(&format!("/v1/customers/{ben}"));
    let consent = &page["golden"]["consent"];
    assert_eq!(consent["marketing"]["status"], "opted_out", "{consent}");
    assert_eq!(consent["marketing"]["source"], "events", "{consent}");
    assert_eq!(consent["phone"]["status"], "opted_out", "{consent}");
    assert_eq!(
        page["purposes"]["consent.marketing"]["purpose"],
        "marketing"
    );
    assert_eq!(
        page["purposes"]["consent.marketing"]["lawful_basis"],
        "consent"
    );

    // Filterable and facetable.
    let (status, body) = server
        .get("/v1/search?q=*&group=none&limit=50&filter.consent=email:opted_out&facets=consent");
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "Ada's two records: {body}");
    assert!(
        ids.iter().all(|id| *id == "sf:003A" || *id == "events:ev1"),
        "{ids:?}"
    );
    let facet = body["facets"]["consent"].to_string();
    assert!(facet.contains("marketing:opted_out"), "{facet}");
    assert!(facet.contains("phone:opted_out"), "{facet}");

    // A marketing export leaves Ada (no e-mail) and Ben (no marketing) out,
    // by default, and says how many rows it left out.
    let (all, trailer, _) = export(&server, "format=ndjson");
    assert_eq!(all.len(), 5, "{all:?}");
    assert!(trailer.is_none(), "no purpose, no trailer");
    let (rows, trailer, purpose) = export(&server, "format=ndjson&purpose=marketing");
    let customers: Vec<&str> = rows
        .iter()
        .map(|r| r["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(customers, vec![chie.as_str()], "{rows:?}");
    let trailer = trailer.expect("a trailer line");
    assert_eq!(trailer["export"]["purpose"], "marketing", "{trailer}");
    assert_eq!(trailer["export"]["left_out"], 4, "{trailer}");
    assert_eq!(trailer["export"]["rows"], 1, "{trailer}");
    assert_eq!(purpose, "marketing");

    // At customer level, through a query, the same people are left out.
    let (rows, trailer, _) = export(&server, "q=*&level=customer&purpose=marketing");
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![chie.as_str()], "{rows:?}");
    assert_eq!(trailer.unwrap()["export"]["left_out"], 2);

    // Profiling: nobody refused it.
    let (rows, trailer, _) = export(&server, "purpose=profiling");
    assert_eq!(rows.len(), 5);
    assert_eq!(trailer.unwrap()["export"]["left_out"], 0);

    // Asked for explicitly, the opted-out are kept (and nothing is left out).
    let (rows, trailer, _) = export(&server, "purpose=marketing&include_opted_out=true");
    assert_eq!(rows.len(), 5);
    assert_eq!(trailer.unwrap()["export"]["left_out"], 0);

    // CSV ends with a comment line.
    let (_, _, csv) = server.get_text("/v1/export?format=csv&purpose=marketing");
    let last = csv.lines().last().unwrap_or_default();
    assert_eq!(
        last, "# purpose: marketing; rows: 1; left out (opted out): 4",
        "{csv}"
    );

    // An unknown purpose is a 400 naming the parameter.
    let (status, _, body) = server.get_text("/v1/export?purpose=astrology");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("purpose"), "{body}");

    // The audit log has the count.
    let (status, audit) = server.get("/v1/audit?action=export.purpose");
    assert_eq!(status, 200, "{audit}");
    let entries: Vec<&Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "export.purpose")
        .collect();
    assert!(
        entries
            .iter()
            .any(|e| e["purpose"] == "marketing" && e["left_out"] == 4 && e["rows"] == 1),
        "{entries:?}"
    );
}
