//! Field notes that name their company with a typo or by a name namesakes
//! share, through the real binary (issue 18): `rapport ingest` of a CRM CSV
//! and a notes folder, then the customer each note landed on as search and
//! the customer page show it, and the reason a note that stays unattached
//! gives in `/v1/quality/unattached`.

use crate::common;

use common::Workspace;

const CRM: &str = "\
id,kind,name,company,email,city,customer
R1,organization,Redwood Industries Ltd.,,,Leeds,
T1,organization,Titan Logistics GmbH,,,Hamburg,
T2,organization,Titan Logistics AG,,,Berlin,
P1,person,Greta Vogel,Titan Logistics AG,greta@titan-berlin.example,,T2
";

#[test]
fn misspelt_and_namesake_notes_land_on_their_customer_end_to_end() {
    let ws = Workspace::new();
    let write = |path: &str, text: &str| ws.write_file(path, text);
    write("in/crm/crm.csv", CRM);
    write(
        "in/notes/typo.txt",
        "Call with Redowod Industries Ltd. about the renewal; they want a quote.\n",
    );
    write(
        "in/notes/Redwood Industires/visit.txt",
        "Visited the site; they want a quote.\n",
    );
    write(
        "in/notes/met.txt",
        "Call with Titan Logistics about the renewal. Met Greta Vogel.\n",
    );
    write(
        "in/notes/Titan Logistics/city.txt",
        "Site visit in Hamburg; they want a quote.\n",
    );
    write(
        "in/notes/vague.txt",
        "Call with Titan Logistics about the renewal.\n",
    );
    ws.write_config(&[
        ("crm", "generic-csv", "in/crm"),
        ("notes", "notes", "in/notes"),
    ]);
    ws.ingest();
    let server = ws.serve();
    let customer_of = |record: &str| server.customer_of(record);
    let redwood = customer_of("crm:R1");
    let hamburg = customer_of("crm:T1");
    let berlin = customer_of("crm:T2");
    assert!(redwood.is_some() && hamburg != berlin);
    assert_eq!(customer_of("notes:typo.txt"), redwood);
    assert_eq!(customer_of("notes:Redwood Industires/visit.txt"), redwood);
    assert_eq!(customer_of("notes:met.txt"), berlin);
    assert_eq!(customer_of("notes:Titan Logistics/city.txt"), hamburg);
    assert_eq!(customer_of("notes:vague.txt"), None);
    // The customer page's timeline holds the misspelt note.
    let redwood = redwood.unwrap_or_default();
    let (status, timeline) = server.get(&format!("/v1/customers/{redwood}/timeline"));
    assert_eq!(status, 200, "{timeline}");
    let text = timeline.to_string();
    assert!(text.contains("Redowod Industries"), "{timeline}");
    // The note two namesakes could own waits for a steward, with why.
    let (status, unattached) = server.get("/v1/quality/unattached?source=notes");
    assert_eq!(status, 200, "{unattached}");
    let text = unattached.to_string();
    assert!(
        text.contains("vague.txt") && text.contains("names 2 organisation"),
        "{unattached}"
    );
}
