//! Bad input never stops a source: each problem is reported with its file and
//! line, and everything else is ingested.

use crate::common;

use common::{Workspace, copy_dir, errors_of, hit_ids, repo};

#[test]
fn each_problem_names_its_file_and_line_and_the_rest_is_ingested() {
    let ws = Workspace::new();
    copy_dir(
        &repo().join("tests/fixtures/bad-input"),
        &ws.path().join("in"),
    );
    let crm = ws.path().join("in/crm");
    // Invalid UTF-8 on line 3 (a Latin-1 "é").
    std::fs::write(
        crm.join("latin1.csv"),
        b"id,name,email\nL-1,Ok Person,ok@example.com\nL-2,Ren\xe9 Latin,rene@example.com\nL-3,After Bad,after@example.com\n",
    )
    .unwrap();
    // An unreadable file: a link to nowhere.
    std::os::unix::fs::symlink(ws.path().join("missing.csv"), crm.join("unreadable.csv")).unwrap();
    // A binary file dropped among the notes.
    std::fs::write(
        ws.path().join("in/notes/photo.md"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    )
    .unwrap();
    ws.write_config(&[
        ("crm", "generic-csv", "in/crm"),
        ("notes", "notes", "in/notes"),
    ]);

    let out = ws.run(&["ingest", "--json"]);
    assert!(
        out.status.success(),
        "bad rows must not fail the run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let crm_errors = errors_of(&report, 0);
    let has = |file: &str, line: Option<u64>, words: &str| {
        crm_errors
            .iter()
            .any(|(f, l, r)| f == file && *l == line && r.contains(words))
    };
    assert!(
        has(
            "contacts.csv",
            Some(3),
            "row has 4 fields but the header has 7"
        ),
        "{crm_errors:?}"
    );
    assert!(
        has(
            "contacts.csv",
            Some(6),
            "row has 8 fields but the header has 7"
        ),
        "{crm_errors:?}"
    );
    assert!(
        has("latin1.csv", Some(3), "invalid UTF-8 in column 2 (`name`)"),
        "{crm_errors:?}"
    );
    assert!(
        has("unreadable.csv", None, "cannot read file"),
        "{crm_errors:?}"
    );
    assert_eq!(crm_errors.len(), 4, "{crm_errors:?}");

    let note_errors = errors_of(&report, 1);
    assert!(
        note_errors
            .iter()
            .any(|(f, l, r)| f == "good.md" && *l == Some(6) && r.contains("not `key: value`")),
        "{note_errors:?}"
    );
    assert!(
        note_errors
            .iter()
            .any(|(f, _, r)| f == "photo.md" && r.contains("binary")),
        "{note_errors:?}"
    );

    // Everything else made it in.
    assert_eq!(report["sources"][0]["inserted"], 3 + 1 + 1 + 3, "{report}");
    assert_eq!(report["sources"][1]["inserted"], 1, "{report}");
    for (query, id) in [
        ("alice@example.com", "crm:P-1"),
        ("carol@example.com", "crm:P-3"),
        ("newline", "crm:P-3"),
        ("erin", "crm:P-5"),
        ("semi@example.com", "crm:S-1"),
        ("bom@example.com", "crm:B-1"),
        ("after@example.com", "crm:L-3"),
        ("rene@example.com", "crm:L-2"),
        ("forecast", "notes:good.md"),
    ] {
        let response = ws.search(query);
        assert!(
            hit_ids(&response).contains(&id.to_string()),
            "{query} → {response}"
        );
    }
    for query in ["bob@example.com", "dan@example.com"] {
        assert_eq!(ws.search(query)["total"], 0, "{query} was on a skipped row");
    }
}

#[test]
fn a_missing_source_folder_fails_only_that_source_and_sets_the_exit_status() {
    let ws = Workspace::new();
    copy_dir(
        &repo().join("tests/fixtures/bad-input/notes"),
        &ws.path().join("notes"),
    );
    ws.write_config(&[
        ("notes", "notes", "notes"),
        ("gone", "generic-csv", "no-such-folder"),
    ]);
    let out = ws.run(&["ingest", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["sources"][0]["inserted"], 1, "{report}");
    assert!(
        report["sources"][1]["failed"]
            .as_str()
            .unwrap()
            .contains("no-such-folder"),
        "{report}"
    );
}
