//! One huge value no longer stalls ingest: a 20,000-character name in a CSV
//! and a 200 KB name in a vCard are cut to `[limits] max_key_bytes` and
//! flagged, and the pass completes (it once took minutes: resolution's name
//! matching is not linear in a name's length).

use rapport::store::Store;

use crate::common::Workspace;

#[test]
fn a_huge_name_is_cut_flagged_and_ingested() {
    let ws = Workspace::new();
    let folder = ws.path().join("in");
    std::fs::create_dir_all(&folder).unwrap();
    let twenty_thousand = "Ab".repeat(10_000);
    std::fs::write(
        folder.join("people.csv"),
        format!(
            "id,name,email\nA-1,{twenty_thousand},a@example.com\nA-2,Bob Smith,b@example.com\n"
        ),
    )
    .unwrap();
    let two_hundred_kb = "Cd".repeat(100_000);
    std::fs::write(
        folder.join("card.vcf"),
        format!(
            "BEGIN:VCARD\nVERSION:3.0\nFN:{two_hundred_kb}\nN:{two_hundred_kb};;;;\nEMAIL:v@example.com\nEND:VCARD\n"
        ),
    )
    .unwrap();
    ws.write_config_with(
        &[("crm", "generic-csv", "in"), ("cards", "vcard", "in")],
        "[limits]\nmax_key_bytes = 512\n",
    );
    let report = ws.ingest();
    assert_eq!(report["sources"][0]["inserted"], 2, "{report}");
    assert_eq!(report["sources"][1]["inserted"], 1, "{report}");

    let store = Store::open(&ws.path().join("store/store.redb")).unwrap();
    let ids = [("crm", "people.csv"), ("cards", "card.vcf")].map(|(source, file)| {
        let checkpoint = store.checkpoint(source, file).unwrap().unwrap();
        checkpoint.records.into_iter().next().unwrap()
    });
    for id in ids {
        let record = store.get(&id).unwrap().unwrap();
        assert!(
            record.names.iter().all(|n| n.len() <= 512),
            "{id}: {:?}",
            record.names.iter().map(String::len).collect::<Vec<_>>()
        );
        assert!(
            record
                .quality
                .iter()
                .any(|q| q.field == "names" && q.reason.contains("cut to the first 512")),
            "{id}: {:?}",
            record.quality
        );
    }
}
