//! Store behaviour on a real redb file in a temporary directory.

use super::*;
use crate::record::{Record, RecordKind};

fn person(id: &str, name: &str) -> Record {
    let mut r = Record::new("crm", id, RecordKind::Person);
    r.names.push(name.to_string());
    r
}

#[test]
fn upsert_of_the_same_key_replaces_and_logs_one_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.redb")).unwrap();
    let first = store
        .apply_file(
            "crm",
            "a.csv",
            "h1",
            &[person("1", "Ann"), person("2", "Bo")],
        )
        .unwrap();
    assert_eq!((first.inserted, first.updated), (2, 0));
    let again = store
        .apply_file(
            "crm",
            "a.csv",
            "h2",
            &[person("1", "Ann"), person("2", "Bob")],
        )
        .unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 1, 1));
    assert_eq!(store.record_count().unwrap(), 2);
    assert_eq!(store.get("crm:2").unwrap().unwrap().names, vec!["Bob"]);
    // Only the latest change of each record stays in the log.
    let changes = store.changes_after(0, 100).unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(store.last_seq().unwrap(), 3);
    assert_eq!(changes.last().unwrap().id, "crm:2");
}

#[test]
fn a_row_gone_from_a_file_and_a_removed_file_delete_their_records() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.redb")).unwrap();
    store
        .apply_file(
            "crm",
            "a.csv",
            "h1",
            &[person("1", "Ann"), person("2", "Bo")],
        )
        .unwrap();
    let stats = store
        .apply_file("crm", "a.csv", "h2", &[person("1", "Ann")])
        .unwrap();
    assert_eq!(stats.deleted, 1);
    assert!(store.get("crm:2").unwrap().is_none());
    let deleted = store.changes_after(0, 10).unwrap();
    assert!(
        deleted
            .iter()
            .any(|c| c.id == "crm:2" && c.record.is_none())
    );
    assert_eq!(store.files_of_source("crm").unwrap(), vec!["a.csv"]);
    assert_eq!(store.remove_file("crm", "a.csv").unwrap(), 1);
    assert_eq!(store.record_count().unwrap(), 0);
    assert!(store.files_of_source("crm").unwrap().is_empty());
}

#[test]
fn a_second_open_of_the_same_file_says_it_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let _first = Store::open(&path).unwrap();
    let err = Store::open(&path).err().expect("second open must fail");
    assert!(err.to_string().contains("in use"), "{err}");
}
