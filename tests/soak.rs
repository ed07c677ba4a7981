//! The soak benchmark's machinery, run briefly as a test: a real server on
//! 127.0.0.1 answers searching clients while exports are ingested and notes
//! written, with no failed request, no failed ingest and no lost note. The
//! figures (p99, RSS over time) are the benchmark's business; this test only
//! checks that the concurrent work happened and nothing failed.

use crate::common;

use common::Workspace;

#[test]
fn searches_ingests_and_notes_run_together_without_a_failure() {
    let ws = Workspace::new();
    ws.write_config(&[]);
    let dir = ws.path().join("soak");
    let dir = dir.to_string_lossy();
    let out = ws.run(&[
        "bench",
        "soak",
        "--records",
        "400",
        "--seconds",
        "8",
        "--window",
        "2",
        "--clients",
        "2",
        "--ingest-every-ms",
        "200",
        "--note-every-ms",
        "50",
        "--json",
        "--dir",
        &dir,
    ]);
    assert!(
        out.status.success(),
        "soak failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for counter in ["search_failures", "note_failures", "ingest_failures"] {
        assert_eq!(report[counter], 0, "{counter}: {report:#}");
    }
    assert!(
        report["searches"]["requests"].as_u64().unwrap() > 0,
        "{report:#}"
    );
    assert!(report["notes_written"].as_u64().unwrap() > 0, "{report:#}");
    assert!(report["ingest_passes"].as_u64().unwrap() > 0, "{report:#}");
    let (start, end) = (
        report["records_at_start"].as_u64().unwrap(),
        report["records_at_end"].as_u64().unwrap(),
    );
    // Every note and every ingested export record is in the store after.
    let notes = report["notes_written"].as_u64().unwrap();
    let ingested = report["ingest_passes"].as_u64().unwrap() * 200;
    assert!(
        end >= start + notes + ingested,
        "{start} → {end}: {report:#}"
    );
    assert!(
        report["windows"].as_array().unwrap().len() >= 3,
        "{report:#}"
    );
    // Memory is reported whole and without mapped files' pages.
    let (rss, anon) = (
        report["rss_end_mb"].as_f64().unwrap(),
        report["rss_anon_end_mb"].as_f64().unwrap(),
    );
    assert!(anon > 0.0 && anon <= rss, "{anon} of {rss}: {report:#}");
}

/// `rapport bench audit` appends from concurrent writers through the group
/// commit and every entry ends up in one unbroken hash chain.
#[test]
fn concurrent_audit_appends_all_land_in_one_chain() {
    let ws = Workspace::new();
    ws.write_config(&[]);
    let dir = ws.path().join("audit-bench");
    let out = ws.run(&[
        "bench",
        "audit",
        "--entries",
        "300",
        "--writers",
        "1,6",
        "--json",
        "--dir",
        &dir.to_string_lossy(),
    ]);
    assert!(
        out.status.success(),
        "bench audit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "{report:#}");
    let written: u64 = rounds.iter().map(|r| r["entries"].as_u64().unwrap()).sum();
    assert_eq!(written, 300 + 300, "{report:#}");
    // The log holds exactly what the writers appended, chained.
    assert_eq!(report["chained"].as_u64().unwrap(), written, "{report:#}");
    assert!(
        rounds
            .iter()
            .all(|r| r["entries_per_second"].as_f64().unwrap() > 0.0)
    );
}
