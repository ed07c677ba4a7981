//! Snapshots while serving, and restores that answer as the original did.

use serde_json::Value;

use crate::common::{self, Server, Workspace};

/// What a data directory answers: search ids for some queries and customer
/// pages for the customers they find.
fn answers(server: &Server) -> Vec<Value> {
    let mut out = Vec::new();
    let (_, health) = server.get("/healthz");
    out.push(health["index"]["records"].clone());
    out.push(health["index"]["indexed_documents"].clone());
    for q in ["renewal", "東京", "acme", "invoice", "*"] {
        let hits = server.search(q);
        out.push(hits["total"].clone());
        out.push(Value::from(common::hit_ids(&hits)));
        let mut customers: Vec<String> = hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|h| h["customer_id"].as_str().map(str::to_string))
            .collect();
        customers.sort();
        customers.dedup();
        for id in customers {
            let (status, mut page) = server.get(&format!("/v1/customers/{id}"));
            assert_eq!(status, 200);
            // Resolution may list a customer's records in another order
            // when it runs again on the restored store: compare as sets.
            for list in ["records", "people"] {
                if let Some(items) = page[list].as_array_mut() {
                    items.sort_by_key(|item| item["id"].to_string());
                }
            }
            out.push(page);
        }
    }
    out
}

#[test]
fn a_snapshot_taken_while_serving_restores_everything() {
    let ws = Workspace::with_examples();
    let server = ws.serve();
    let before = answers(&server);

    // Searches keep running during the snapshots.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let base = server.base.clone();
    let client = server.client();
    let searching = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut ok, mut failed) = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match client.get(format!("{base}/v1/search?q=acme")).send() {
                    Ok(r) if r.status().is_success() => ok += 1,
                    _ => failed += 1,
                }
            }
            (ok, failed)
        })
    };
    let (status, created) = server.post("/v1/snapshots", r#"{"name": "first"}"#);
    assert_eq!(status, 201, "{created}");
    let first = std::path::PathBuf::from(created["path"].as_str().unwrap());
    assert_eq!(first, ws.path().join("snapshots/first"));
    assert_eq!(created["manifest"]["records"], 38);
    assert!(created["manifest"]["index_seq"].as_u64() <= created["manifest"]["store_seq"].as_u64());
    // A name is one plain folder name in snapshot_dir; never a path.
    for bad in [
        r#"{"name": "../escape"}"#,
        r#"{"name": "a/b"}"#,
        r#"{"name": ".."}"#,
    ] {
        let (status, error) = server.post("/v1/snapshots", bad);
        assert_eq!(status, 400, "{bad}: {error}");
    }
    assert!(!ws.path().join("escape").exists());
    let (status, _) = server.post("/v1/snapshots", r#"{"name": "first"}"#);
    assert_eq!(status, 409);
    let (status, unnamed) = server.post("/v1/snapshots", "");
    assert_eq!(status, 201, "{unnamed}");

    // The command line asks the running server and moves its snapshot to DIR.
    let cli_snapshot = ws.path().join("cli-snapshot");
    let out = ws.run(&[
        "snapshot",
        cli_snapshot.to_str().unwrap(),
        "--server",
        &server.base,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(cli_snapshot.join("manifest.json").is_file());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, failed) = searching.join().unwrap();
    assert!(ok > 0);
    assert_eq!(failed, 0, "searches failed during the snapshots");

    // Restore refuses the data directory the server holds.
    let out = ws.run(&["restore", first.to_str().unwrap(), "--force"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Restored into a new data directory, a server answers as before.
    for snapshot in [&first, &cli_snapshot] {
        let other = Workspace::new();
        other.write_config(&[]);
        let out = other.run(&["restore", snapshot.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let restored = other.serve();
        assert_eq!(answers(&restored), before);
        drop(restored);
        // Not over a directory that holds data, unless forced.
        let out = other.run(&["restore", snapshot.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
        let out = other.run(&["restore", snapshot.to_str().unwrap(), "--force"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // A damaged index copy: the restore rebuilds the index from the store.
    let damaged = ws.path().join("damaged");
    common::copy_dir(&first, &damaged);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(damaged.join("manifest.json")).unwrap())
            .unwrap();
    let index_file = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .find(|p| p.ends_with(".idx"))
        .unwrap();
    std::fs::write(damaged.join(index_file), b"garbage").unwrap();
    let other = Workspace::new();
    other.write_config(&[]);
    let out = other.run(&["restore", damaged.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("rebuilt from the store"));
    let restored = other.serve();
    assert_eq!(answers(&restored), before);
    drop(restored);
    // A damaged store copy is refused.
    std::fs::write(damaged.join("store.redb"), b"garbage").unwrap();
    let out = Workspace::new().run(&[
        "restore",
        damaged.to_str().unwrap(),
        "--data-dir",
        ws.path().join("nowhere").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("store.redb"));
}
