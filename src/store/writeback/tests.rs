//! Write-back in the store on a real redb file: a note written while a
//! resolution is being computed stays attached when that resolution is
//! saved; attributes follow a merge and reach the change log.

use super::*;
use crate::record::{Link, RecordKind};
use crate::resolve::{Overrides, Resolution, Settings, resolve};

fn org(id: &str, name: &str) -> Record {
    let mut r = Record::new("crm", id, RecordKind::Organization);
    r.names.push(name.to_string());
    r.company = Some(name.to_string());
    r
}

fn note(external_id: &str, target: &str, text: &str) -> Record {
    let mut r = Record::new(NOTES_SOURCE, external_id, RecordKind::Note);
    r.body = Some(text.to_string());
    r.links.push(Link {
        rel: NOTE_LINK.to_string(),
        target: target.to_string(),
        name: None,
    });
    r
}

fn resolved(store: &Store, overrides: &Overrides) -> Resolution {
    let records = store.records_by_birth().unwrap();
    resolve(&records, &Settings::default(), overrides)
}

/// A store in a temporary directory (`s.redb`) holding two organisations,
/// Alpha Widgets (`crm:A`) and Bravo Tools (`crm:B`), resolved and saved.
pub(in crate::store) fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.redb")).unwrap();
    store
        .apply_file(
            "crm",
            "orgs.csv",
            "h",
            &[org("A", "Alpha Widgets"), org("B", "Bravo Tools")],
        )
        .unwrap();
    let resolution = resolved(&store, &Overrides::default());
    store.save_resolution(&resolution).unwrap();
    (dir, store)
}

fn customer_of(store: &Store, record: &str) -> Option<String> {
    store
        .assignment(record)
        .unwrap()
        .and_then(|a| a.customer_id)
}

#[test]
fn a_note_written_during_a_resolution_stays_attached() {
    let (_dir, store) = open();
    let alpha = customer_of(&store, "crm:A").unwrap();
    // A resolution reads the records, then a note is written, then the
    // resolution (which never saw the note) is saved.
    let stale = resolved(&store, &Overrides::default());
    let written = note("note-1", "crm:A", "written meanwhile");
    assert_eq!(
        store
            .write_note(&written)
            .unwrap()
            .and_then(|a| a.customer_id),
        Some(alpha.clone())
    );
    assert!(!stale.assignments.contains_key(&written.id()));
    store.save_resolution(&stale).unwrap();
    assert_eq!(customer_of(&store, &written.id()), Some(alpha.clone()));
    let entity = store.entity(&alpha).unwrap().unwrap();
    assert!(entity.attached.iter().any(|m| m.record == written.id()));
    // The next resolution sees it and keeps it there through the link.
    let fresh = resolved(&store, &Overrides::default());
    assert_eq!(
        fresh.assignments[&written.id()].customer_id,
        Some(alpha.clone())
    );
    // Deleting detaches it.
    assert!(store.delete_note(&written.id()).unwrap());
    assert_eq!(customer_of(&store, &written.id()), None);
    let entity = store.entity(&alpha).unwrap().unwrap();
    assert!(!entity.attached.iter().any(|m| m.record == written.id()));
}

#[test]
fn attributes_follow_a_merge_and_reach_the_change_log() {
    let (_dir, store) = open();
    let alpha = customer_of(&store, "crm:A").unwrap();
    let bravo = customer_of(&store, "crm:B").unwrap();
    let change = |customer: &str, key: &str, value: Option<serde_json::Value>| AttributeChange {
        customer_id: customer.to_string(),
        key: key.to_string(),
        value,
    };
    let outcomes = store
        .write_attributes(&[
            change(&alpha, "tier", Some(serde_json::json!("gold"))),
            change(&bravo, "score", Some(serde_json::json!(7))),
            change(&bravo, "tier", Some(serde_json::json!("bronze"))),
            change(&bravo, "score", Some(serde_json::json!(7))),
            change(&alpha, "absent", None),
        ])
        .unwrap();
    use AttributeOutcome::*;
    assert_eq!(
        outcomes,
        vec![Written, Written, Written, Unchanged, Unchanged]
    );
    let logged = store.changes_after(0, 100).unwrap();
    let bravo_record = logged.iter().find(|c| c.id == "crm:B").unwrap();
    let attrs = &bravo_record.record.as_ref().unwrap().attrs;
    assert_eq!(attrs["score"], serde_json::json!(7));

    // Merge B into A: B's attributes move to the survivor, whose own win.
    let overrides = Overrides {
        merges: vec![("crm:A".into(), "crm:B".into())],
        ..Overrides::default()
    };
    let merged = resolved(&store, &overrides);
    store.save_resolution(&merged).unwrap();
    let survivor = customer_of(&store, "crm:B").unwrap();
    assert_eq!(customer_of(&store, "crm:A").as_ref(), Some(&survivor));
    let gone = if survivor == alpha { &bravo } else { &alpha };
    let kept = store.customer_attributes(&survivor).unwrap();
    assert_eq!(kept["score"], serde_json::json!(7));
    assert!(store.customer_attributes(gone).unwrap().is_empty());
    let last = store.changes_after(0, 100).unwrap();
    let a = last.iter().find(|c| c.id == "crm:A").unwrap();
    assert_eq!(
        a.record.as_ref().unwrap().attrs["score"],
        serde_json::json!(7)
    );
}
