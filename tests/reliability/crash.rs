//! Crash recovery: a real `rapport serve` is killed with SIGKILL while notes
//! are being written, several times (bounded), and after each restart it
//! starts, its index holds exactly what its store holds, and every note
//! that was acknowledged is there and found. A damaged index generation is
//! rebuilt from the store on open.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{Server, Workspace};

const KILLS: usize = 8;

fn status(server: &Server) -> serde_json::Value {
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

/// Asserts store = index and that every acknowledged note is stored and
/// found by its unique word.
fn check(server: &Server, acknowledged: &[(String, String)], round: usize) {
    let index = status(server);
    assert_eq!(
        index["records"], index["indexed_documents"],
        "round {round}: {index}"
    );
    assert_eq!(
        index["store_seq"], index["index_seq"],
        "round {round}: {index}"
    );
    for (id, word) in acknowledged {
        let (code, note) = server.get(&format!("/v1/notes/{id}"));
        assert_eq!(
            code, 200,
            "round {round}: acknowledged note {id} lost: {note}"
        );
        let found = server.search(word);
        assert_eq!(found["total"], 1, "round {round}: {word} not in the index");
    }
}

#[test]
fn kill_9_while_writing_notes_loses_nothing_acknowledged_and_restarts_clean() {
    let ws = Workspace::with_examples();
    ws.ingest();
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    for round in 0..KILLS {
        let server = ws.serve();
        let snapshot = acknowledged.lock().unwrap().clone();
        check(&server, &snapshot, round);
        let customer_id = customer(&server);
        let base = server.base.clone();
        // The writer is the server's own client: it sends the admin key.
        let client = server.client();
        let writer = {
            let acknowledged = acknowledged.clone();
            std::thread::spawn(move || {
                // Bounded: stops at the first failure (the kill) or 400 notes.
                for n in 0..400 {
                    let word = format!("crashword{round}x{n}");
                    let body = serde_json::json!({
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
                    let Ok(note) = response.json::<serde_json::Value>() else {
                        return;
                    };
                    let id = note["id"].as_str().unwrap_or_default().to_string();
                    acknowledged.lock().unwrap().push((id, word));
                }
            })
        };
        // At least one note acknowledged this round, then a kill at a
        // different point of the writes each round.
        let before = snapshot.len();
        let wrote = server.wait_for(Duration::from_secs(60), |_| {
            acknowledged.lock().unwrap().len() > before
        });
        assert!(wrote, "round {round}: no note acknowledged");
        std::thread::sleep(Duration::from_millis((round as u64 * 67) % 400));
        drop(server); // SIGKILL
        writer.join().unwrap();
    }
    let server = ws.serve();
    let all = acknowledged.lock().unwrap().clone();
    assert!(
        all.len() >= KILLS,
        "too few notes written to mean anything: {}",
        all.len()
    );
    check(&server, &all, KILLS);
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
