//! Crash recovery: a real `rapport serve` is killed with SIGKILL 30 times,
//! in turn while it ingests a large CSV, while notes and attributes are
//! being written back, and while a reindex job rebuilds the index (bounded
//! counts and waits, loopback only). After each restart it opens cleanly,
//! store = index = export (counts, and the export's ids are unique and
//! hold every acknowledged note), and every acknowledged note and attribute
//! is there. An interrupted commit (delete files written, meta not updated)
//! is recovered on open, both as reproduced by hand and by kills aimed at
//! the moment a commit's delete file appears (which land inside the commit:
//! the test counts them and fails if none does); a damaged generation is
//! rebuilt from the store.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Server, Workspace};

/// Kills in total: a third during ingest, write-back and reindex each.
const KILLS: usize = 30;
/// Rows of the large CSV ingested again (changed) in every ingest round.
const BIG_ROWS: usize = 4_000;
/// Writes a writer may send in one round (it stops at the kill sooner).
const MAX_WRITES: usize = 400;

#[derive(Default)]
struct Acknowledged {
    /// (note id, its record id, its unique word)
    notes: Vec<(String, String, String)>,
    /// attribute key -> value, for the one customer the attributes go to
    attributes: BTreeMap<String, u64>,
}

type Shared = Arc<Mutex<Acknowledged>>;

fn status(server: &Server) -> Value {
    let (code, body) = server.get("/healthz");
    assert_eq!(code, 200, "{body}");
    body["index"].clone()
}

fn customer(server: &Server) -> String {
    let (_, found) = server.get("/v1/search?q=acme&filter.kind=organization");
    found["customers"][0]["customer_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no customer: {found}"))
        .to_string()
}

/// The ids of every record, as `GET /v1/export` streams them.
fn exported_ids(server: &Server) -> Vec<String> {
    let text = server
        .client()
        .get(format!(
            "{}/v1/export?level=record&format=ndjson&fields=id",
            server.base
        ))
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.text())
        .unwrap_or_else(|e| panic!("export failed: {e}"));
    text.lines()
        .map(|line| {
            let row: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            row["id"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

/// The large CSV, its names tagged with `round` so that each ingest round
/// changes every row.
fn big_csv(round: usize) -> String {
    let mut text = String::from("id,kind,name,email,country\n");
    for row in 0..BIG_ROWS {
        text.push_str(&format!(
            "BIG-{row},person,Person{row} Round{round},p{row}@big{}.example,JP\n",
            row % 97
        ));
    }
    text
}

/// Asserts after a restart: store = index = export, no duplicate ids, and
/// every acknowledged note (stored, indexed, exported) and attribute.
fn check(server: &Server, acknowledged: &Shared, customer_id: &str, round: usize) {
    let index = status(server);
    assert_eq!(
        index["records"], index["indexed_documents"],
        "round {round}: {index}"
    );
    assert_eq!(
        index["store_seq"], index["index_seq"],
        "round {round}: {index}"
    );
    let ids = exported_ids(server);
    let unique: HashSet<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(unique.len(), ids.len(), "round {round}: duplicate ids");
    assert_eq!(
        Some(ids.len() as u64),
        index["records"].as_u64(),
        "round {round}: export != store {index}"
    );
    let acknowledged = acknowledged.lock().unwrap();
    for (id, record_id, _) in &acknowledged.notes {
        assert!(
            unique.contains(record_id.as_str()),
            "round {round}: acknowledged note {id} not exported"
        );
    }
    // The newest notes, read from the store and found by their word.
    for (id, _, word) in acknowledged.notes.iter().rev().take(5) {
        let (code, note) = server.get(&format!("/v1/notes/{id}"));
        assert_eq!(code, 200, "round {round}: note {id} lost: {note}");
        assert_eq!(server.search(word)["total"], 1, "round {round}: {word}");
    }
    let (code, page) = server.get(&format!("/v1/customers/{customer_id}"));
    assert_eq!(code, 200, "{page}");
    for (key, value) in &acknowledged.attributes {
        assert_eq!(
            page["attributes"][key],
            json!(value),
            "round {round}: acknowledged attribute {key} lost"
        );
    }
}

/// Writes notes and attribute batches until the first failure (the kill)
/// or [`MAX_WRITES`], recording what was acknowledged.
fn write_back(server: Server, acknowledged: &Shared, customer_id: &str, round: usize) {
    let (base, client) = (server.base.clone(), server.client());
    let notes = {
        let acknowledged = acknowledged.clone();
        let customer_id = customer_id.to_string();
        std::thread::spawn(move || {
            for n in 0..MAX_WRITES {
                let word = format!("crashword{round}x{n}");
                let body = json!({
                    "customer_id": customer_id,
                    "text": format!("Note {word} written while the server may die."),
                });
                let Ok(response) = client.post(format!("{base}/v1/notes")).json(&body).send()
                else {
                    return;
                };
                if response.status().as_u16() != 201 {
                    return;
                }
                let Ok(note) = response.json::<Value>() else {
                    return;
                };
                let id = note["id"].as_str().unwrap_or_default().to_string();
                let record = note["record_id"].as_str().unwrap_or_default().to_string();
                acknowledged.lock().unwrap().notes.push((id, record, word));
            }
        })
    };
    let attributes = write_attributes(&server, acknowledged, customer_id, format!("crash_{round}"));
    let wrote = server.wait_for(Duration::from_secs(60), |_| {
        let a = acknowledged.lock().unwrap();
        a.notes
            .iter()
            .any(|n| n.2.starts_with(&format!("crashword{round}x")))
            && a.attributes
                .keys()
                .any(|k| k.starts_with(&format!("crash_{round}_")))
    });
    assert!(wrote, "round {round}: no write acknowledged");
    std::thread::sleep(Duration::from_millis((round as u64 * 67) % 300));
    drop(server); // SIGKILL
    notes.join().unwrap();
    attributes.join().unwrap();
}

/// Writes attributes `PREFIX_0`, `PREFIX_1`, … of one customer, one per
/// request, until the first failure (the kill) or [`MAX_WRITES`],
/// recording each acknowledged one.
fn write_attributes(
    server: &Server,
    acknowledged: &Shared,
    customer_id: &str,
    prefix: String,
) -> std::thread::JoinHandle<()> {
    let (base, client) = (server.base.clone(), server.client());
    let (acknowledged, customer_id) = (acknowledged.clone(), customer_id.to_string());
    std::thread::spawn(move || {
        for n in 0..MAX_WRITES {
            let key = format!("{prefix}_{n}");
            let line = json!({"customer_id": customer_id, "key": key, "value": n});
            let Ok(response) = client
                .post(format!("{base}/v1/attributes"))
                .header("content-type", "application/x-ndjson")
                .body(format!("{line}\n"))
                .send()
            else {
                return;
            };
            let ok = response.status().as_u16() == 200
                && response
                    .json::<Value>()
                    .is_ok_and(|report| report["accepted"] == 1);
            if !ok {
                return;
            }
            acknowledged
                .lock()
                .unwrap()
                .attributes
                .insert(key, n as u64);
        }
    })
}

/// Starts a job and kills the server once it is running (or done), after
/// a delay that differs each round.
fn kill_during_job(server: Server, body: &str, round: usize) {
    let (code, job) = server.post("/v1/reindex", body);
    assert_eq!(code, 202, "round {round}: {job}");
    let id = job["id"].as_str().unwrap_or_default().to_string();
    let started = server.wait_for(Duration::from_secs(60), |s| {
        let (_, view) = s.get(&format!("/v1/jobs/{id}"));
        view["state"] != "queued"
    });
    assert!(started, "round {round}: job {id} never started");
    std::thread::sleep(Duration::from_millis((round as u64 * 89) % 700));
    drop(server); // SIGKILL
}

#[test]
fn kill_9_during_ingest_write_back_and_reindex_loses_nothing_acknowledged() {
    let ws = Workspace::with_examples();
    std::fs::create_dir_all(ws.path().join("data/big")).unwrap();
    std::fs::write(ws.path().join("data/big/big.csv"), big_csv(0)).unwrap();
    ws.write_config(&[
        ("crm", "generic-csv", "data/crm"),
        ("notes", "notes", "data/notes"),
        ("big", "generic-csv", "data/big"),
    ]);
    ws.ingest();
    let acknowledged: Shared = Arc::default();
    let mut customer_id = String::new();
    for round in 0..KILLS {
        let server = ws.serve();
        if customer_id.is_empty() {
            customer_id = customer(&server);
        }
        check(&server, &acknowledged, &customer_id, round);
        match round % 3 {
            0 => {
                // The large CSV changed: re-read it whole, killed midway.
                std::fs::write(ws.path().join("data/big/big.csv"), big_csv(round + 1)).unwrap();
                kill_during_job(server, r#"{"source": "big"}"#, round);
            }
            1 => write_back(server, &acknowledged, &customer_id, round),
            _ => kill_during_job(server, r#"{"from": "store"}"#, round),
        }
    }
    let server = ws.serve();
    check(&server, &acknowledged, &customer_id, KILLS);
    let all = acknowledged.lock().unwrap();
    assert!(
        all.notes.len() >= KILLS / 3 && all.attributes.len() >= KILLS / 3,
        "too few writes to mean anything: {} notes, {} attributes",
        all.notes.len(),
        all.attributes.len()
    );
    // Every note, read back from the store.
    for (id, _, _) in &all.notes {
        assert_eq!(server.get(&format!("/v1/notes/{id}")).0, 200, "note {id}");
    }
    // The large CSV's last version is whole after the interrupted ingests.
    let last = (0..KILLS).filter(|r| r % 3 == 0).max().unwrap_or(0) + 1;
    let (_, found) = server.get(&format!("/v1/search?q=Round{last}&group=none&limit=1"));
    assert_eq!(found["total"], BIG_ROWS, "{found}");
}

#[test]
fn an_index_generation_that_cannot_be_opened_is_rebuilt_from_the_store() {
    let ws = Workspace::with_examples();
    ws.ingest();
    let before = ws.search("*")["total"].clone();
    // Damage the live generation's meta.json as a crash mid-write could.
    let index = ws.path().join("store/index");
    let current = std::fs::read_to_string(index.join("CURRENT")).unwrap();
    std::fs::write(index.join(current.trim()).join("meta.json"), b"{\"segm").unwrap();

    // `rapport check` repairs it and says so.
    let out = ws.run(&["check", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["consistent"], true, "{report}");
    assert!(report["repaired"]["index_rebuilt"].is_string(), "{report}");
    let again: serde_json::Value =
        serde_json::from_slice(&ws.run(&["check", "--json"]).stdout).unwrap();
    assert!(again["repaired"]["index_rebuilt"].is_null(), "{again}");

    let server = ws.serve();
    let status = status(&server);
    assert_eq!(status["records"], status["indexed_documents"], "{status}");
    assert_eq!(server.search("*")["total"], before);
}

/// The files of the live index generation.
fn generation_files(ws: &Workspace) -> (std::path::PathBuf, Vec<String>) {
    let index = ws.path().join("store/index");
    let current = std::fs::read_to_string(index.join("CURRENT")).unwrap();
    let dir = index.join(current.trim());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    (dir, names)
}

#[test]
fn an_interrupted_commit_that_left_delete_files_is_recovered_on_open() {
    let ws = Workspace::with_examples();
    ws.ingest();
    let server = ws.serve();
    let customer_id = customer(&server);
    drop(server);
    let (dir, before) = generation_files(&ws);
    // Every file of the committed generation, meta.json among them: a crash
    // before the next meta is written cannot have removed any of them, but a
    // background merge that finished after the write may have.
    let committed: Vec<(String, Vec<u8>)> = before
        .iter()
        .map(|name| (name.clone(), std::fs::read(dir.join(name)).unwrap()))
        .collect();

    // An attribute re-indexes the customer's records, which sit in the
    // ingest's segment: the commit writes a delete file for it.
    let server = ws.serve();
    let line = json!({"customer_id": customer_id, "key": "recovered", "value": 7});
    let response = server
        .client()
        .post(format!("{}/v1/attributes", server.base))
        .header("content-type", "application/x-ndjson")
        .body(format!("{line}\n"))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let in_index = |s: &Server| {
        let (_, found) = s.get("/v1/search?q=*&filter.attrs.recovered=7&group=none");
        found["total"].as_u64().unwrap_or(0) > 0
    };
    assert!(server.wait_for(Duration::from_secs(30), in_index));
    drop(server);
    let (_, after) = generation_files(&ws);
    let written: Vec<&String> = after
        .iter()
        .filter(|n| n.ends_with(".del") && !before.contains(n))
        .collect();
    assert!(
        !written.is_empty(),
        "the write left no delete file: {after:?}"
    );

    // Interrupted as a crash between the files and the meta would leave it:
    // the new delete and segment files are there beside every file of the
    // committed generation, and meta.json is the old one.
    for (name, bytes) in &committed {
        let path = dir.join(name);
        if name == "meta.json" || !path.exists() {
            std::fs::write(path, bytes).unwrap();
        }
    }

    let server = ws.serve();
    let index = status(&server);
    assert_eq!(index["store_seq"], index["index_seq"], "{index}");
    assert_eq!(index["records"], index["indexed_documents"], "{index}");
    let (code, page) = server.get(&format!("/v1/customers/{customer_id}"));
    assert_eq!(code, 200, "{page}");
    assert_eq!(page["attributes"]["recovered"], json!(7), "{page}");
    assert!(
        in_index(&server),
        "the acknowledged attribute is not searchable"
    );
}

/// The delete files of `dir` that its meta.json does not name: what a
/// commit interrupted between writing them and its meta leaves.
fn unreferenced_delete_files(dir: &std::path::Path) -> Vec<String> {
    let meta: Value = std::fs::read(dir.join("meta.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null);
    let named: HashSet<String> = meta["segments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let id = s["segment_id"].as_str()?.replace('-', "");
            let opstamp = s["deletes"]["opstamp"].as_u64()?;
            Some(format!("{id}.{opstamp}.del"))
        })
        .collect();
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".del") && !named.contains(n))
                .collect()
        })
        .unwrap_or_default()
}

/// Rounds of the aimed kill at most, and how many kills inside the window
/// are enough.
const AIMED_ROUNDS: usize = 12;
const AIMED_HITS: usize = 2;

#[test]
fn a_kill_aimed_at_a_commit_writing_delete_files_is_recovered() {
    let ws = Workspace::with_examples();
    ws.ingest();
    let acknowledged: Shared = Arc::default();
    let customer_id = customer(&ws.serve());
    let mut hits = 0;
    let mut rounds = 0;
    while rounds < AIMED_ROUNDS && hits < AIMED_HITS {
        rounds += 1;
        let server = ws.serve();
        check(&server, &acknowledged, &customer_id, rounds);
        let (dir, before) = generation_files(&ws);
        // Attributes re-index the customer's records: each commit writes a
        // delete file for the segments they were in.
        let writer = write_attributes(
            &server,
            &acknowledged,
            &customer_id,
            format!("aimed_{rounds}"),
        );
        // Kill the moment a new delete file appears (polled every
        // millisecond, for 30 s at most): the commit that wrote it may not
        // have written its meta yet.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            let appeared = std::fs::read_dir(&dir).is_ok_and(|entries| {
                entries.filter_map(|e| e.ok()).any(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.ends_with(".del") && !before.contains(&name)
                })
            });
            if appeared {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(server); // SIGKILL
        writer.join().unwrap();
        if !unreferenced_delete_files(&dir).is_empty() {
            hits += 1;
        }
    }
    eprintln!("{hits} kills of {rounds} landed between a commit's delete files and its meta");
    assert!(
        hits > 0,
        "no kill of {rounds} landed inside a commit: the test proves nothing"
    );
    // Every restart opened and checked (rounds above); once more after the
    // last kill.
    let server = ws.serve();
    check(&server, &acknowledged, &customer_id, rounds + 1);
}
