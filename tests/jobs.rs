//! Reindex jobs on a real server: searches keep answering (same hit count,
//! no errors) while the index is rebuilt into a new generation and swapped
//! in; a cancelled rebuild leaves the live index as it was; a second reindex
//! is refused with the running job's id; jobs are listed (watch passes too)
//! and kept across restarts; `rapport reindex` waits or detaches.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{Server, Workspace};
use serde_json::Value;

const ROWS: usize = 10_000;
/// Every this many rows mention the rare word.
const RARE_EVERY: usize = 10;
const RARE: &str = "zephyr";
/// Slows each batch of 2,000 changes of a rebuild, so that searching and
/// cancelling during one are not races on a fast machine.
const BATCH_DELAY_MS: &str = "300";
const FINISHED: [&str; 3] = ["succeeded", "failed", "cancelled"];

fn write_corpus(ws: &Workspace) {
    let folder = ws.path().join("data/crm");
    std::fs::create_dir_all(&folder).unwrap();
    let mut text = String::from("id,kind,name,company,email,city,description\n");
    for i in 0..ROWS {
        let word = if i % RARE_EVERY == 0 { RARE } else { "plain" };
        text.push_str(&format!(
            "P{i:06},person,Person{i:06} Example{},Company{},p{i}@example{}.com,City{},row {i} {word} note about the customer\n",
            i % 97,
            i % 500,
            i % 50,
            i % 30
        ));
    }
    std::fs::write(folder.join("people.csv"), text).unwrap();
    std::fs::create_dir_all(ws.path().join("data/drops")).unwrap();
    std::fs::write(
        ws.config(),
        "data_dir = \"store\"\nwatch_debounce_ms = 200\n\
         [[sources]]\nname = \"crm\"\nconnector = \"generic-csv\"\npath = \"data/crm\"\n\
         [[sources]]\nname = \"drops\"\nconnector = \"generic-csv\"\npath = \"data/drops\"\nwatch = true\n",
    )
    .unwrap();
}

fn current_generation(ws: &Workspace) -> String {
    std::fs::read_to_string(ws.path().join("store/index/CURRENT"))
        .unwrap()
        .trim()
        .to_string()
}

fn generations(ws: &Workspace) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(ws.path().join("store/index"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("gen-"))
        .collect();
    names.sort();
    names
}

fn rare_total(server: &Server) -> u64 {
    server.search(RARE)["total"].as_u64().unwrap()
}

fn job(server: &Server, id: &str) -> Value {
    let (status, job) = server.get(&format!("/v1/jobs/{id}"));
    assert_eq!(status, 200, "GET job {id}: {job}");
    job
}

fn wait_finished(server: &Server, id: &str) -> Value {
    let mut last = Value::Null;
    let done = server.wait_for(Duration::from_secs(300), |s| {
        last = job(s, id);
        FINISHED.contains(&last["state"].as_str().unwrap_or(""))
    });
    assert!(done, "job {id} did not finish: {last}");
    last
}

fn start_reindex(server: &Server, body: &str) -> String {
    let (status, job) = server.post("/v1/reindex", body);
    assert_eq!(status, 202, "POST /v1/reindex {body}: {job}");
    job["id"].as_str().unwrap().to_string()
}

fn delete(server: &Server, path: &str) -> (u16, Value) {
    let response = server
        .client()
        .delete(format!("{}{path}", server.base))
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

struct SearchLoop {
    answered: AtomicUsize,
    during_job: AtomicUsize,
    errors: std::sync::Mutex<Vec<String>>,
}

/// Searches in a loop from `threads` threads until `stop`; counts answers
/// that both started and ended while `running` was set.
fn search_loop(
    server: &Server,
    expected: u64,
    threads: usize,
    running: &Arc<AtomicBool>,
    stop: &Arc<AtomicBool>,
) -> (Arc<SearchLoop>, Vec<std::thread::JoinHandle<()>>) {
    let stats = Arc::new(SearchLoop {
        answered: AtomicUsize::new(0),
        during_job: AtomicUsize::new(0),
        errors: std::sync::Mutex::new(Vec::new()),
    });
    let handles = (0..threads)
        .map(|_| {
            let (stats, running, stop) = (stats.clone(), running.clone(), stop.clone());
            let url = format!("{}/v1/search?q={RARE}&group=none&limit=5", server.base);
            let client = server.client();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let before = running.load(Ordering::SeqCst);
                    let outcome =
                        client
                            .get(&url)
                            .send()
                            .map_err(|e| e.to_string())
                            .and_then(|r| {
                                let status = r.status().as_u16();
                                let body: Value = r.json().map_err(|e| e.to_string())?;
                                match (status, body["total"].as_u64()) {
                                    (200, Some(total)) if total == expected => Ok(()),
                                    _ => Err(format!("{status}: {body}")),
                                }
                            });
                    let after = running.load(Ordering::SeqCst);
                    stats.answered.fetch_add(1, Ordering::SeqCst);
                    if before && after {
                        stats.during_job.fetch_add(1, Ordering::SeqCst);
                    }
                    if let Err(e) = outcome {
                        stats.errors.lock().unwrap().push(e);
                    }
                    // Leave the server's CPU to the watch pass too.
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        })
        .collect();
    (stats, handles)
}

#[test]
fn reindex_jobs_keep_search_answering_and_are_listed() {
    let ws = Workspace::new();
    write_corpus(&ws);
    let mut command = ws.command(&["serve", "--listen", "127.0.0.1:0"]);
    command.env("RAPPORT_TEST_REBUILD_BATCH_DELAY_MS", BATCH_DELAY_MS);
    // A filled generation waits while this file exists (see index::live).
    let hold = ws.path().join("hold-rebuild");
    command.env("RAPPORT_TEST_REBUILD_HOLD_FILE", &hold);
    let server = ws.start(command);
    let expected = (ROWS / RARE_EVERY) as u64;
    assert_eq!(rare_total(&server), expected);
    let before = current_generation(&ws);
    assert_eq!(generations(&ws), vec![before.clone()]);

    // (a) A full rebuild from the store while two threads search.
    let running = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let (stats, searchers) = search_loop(&server, expected, 2, &running, &stop);
    std::fs::write(&hold, "").unwrap();
    let id = start_reindex(&server, r#"{"from": "store"}"#);
    let mut saw_running = false;
    let mut conflict_checked = false;
    // A write made once the new generation is filled (a watched file) goes
    // to the live index, and only the final catch-up can bring it into the
    // new generation before the swap.
    let mut dropped = false;
    let mut written_during = false;
    let finished = loop {
        let view = job(&server, &id);
        let state = view["state"].as_str().unwrap().to_string();
        running.store(state == "running", Ordering::SeqCst);
        if state == "running" {
            saw_running = true;
            if view["phase"] == "catching up" && !dropped {
                assert_eq!(current_generation(&ws), before);
                assert_eq!(generations(&ws).len(), 2, "built beside the live one");
                std::fs::write(
                    ws.path().join("data/drops/during.csv"),
                    "id,kind,name,description\nW1,person,Written During,wombatword arrived\n",
                )
                .unwrap();
                dropped = true;
            } else if dropped && !written_during {
                written_during = server.search("wombatword")["total"] == 1;
                if written_during {
                    std::fs::remove_file(&hold).unwrap();
                }
            }
            if !conflict_checked {
                // (c) A second reindex while this one runs.
                let (status, body) = server.post("/v1/reindex", "{}");
                assert_eq!(status, 409, "{body}");
                assert_eq!(body["error"]["code"], "job_running");
                assert_eq!(body["error"]["job_id"], id.as_str());
                assert!(
                    body["error"]["message"].as_str().unwrap().contains(&id),
                    "{body}"
                );
                conflict_checked = true;
            }
        }
        if FINISHED.contains(&state.as_str()) {
            break view;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    stop.store(true, Ordering::SeqCst);
    for handle in searchers {
        handle.join().unwrap();
    }
    let errors = stats.errors.lock().unwrap().clone();
    assert!(
        errors.is_empty(),
        "searches failed during the rebuild: {errors:?}"
    );
    assert!(saw_running && conflict_checked);
    assert!(
        written_during,
        "the watched write was not searchable while the rebuild ran"
    );
    assert_eq!(
        server.search("wombatword")["total"],
        1,
        "a write made during the rebuild is in the new generation"
    );
    let during = stats.during_job.load(Ordering::SeqCst);
    eprintln!(
        "{during} of {} searches overlapped the running rebuild",
        stats.answered.load(Ordering::SeqCst)
    );
    assert!(
        during >= 10,
        "only {during} searches overlapped the running job (of {})",
        stats.answered.load(Ordering::SeqCst)
    );
    assert_eq!(finished["state"], "succeeded", "{finished}");
    assert_eq!(finished["kind"], "rebuild");
    assert_eq!(finished["trigger"], "api");
    assert_eq!(finished["records_total"], ROWS as u64);
    assert!(finished["records_done"].as_u64().unwrap() >= ROWS as u64);
    let rebuilt = current_generation(&ws);
    assert_ne!(rebuilt, before);
    assert_eq!(finished["result"]["index"]["generation"], rebuilt.as_str());
    assert_eq!(
        generations(&ws),
        vec![rebuilt.clone()],
        "the old generation is gone"
    );
    assert_eq!(rare_total(&server), expected);

    // (b) Cancel a rebuild: the live index stays as it was.
    let cancelled = start_reindex(&server, r#"{"from": "store"}"#);
    assert!(server.wait_for(Duration::from_secs(120), |s| {
        let view = job(s, &cancelled);
        view["state"] == "running" && view["records_done"].as_u64().unwrap_or(0) > 0
    }));
    assert_eq!(
        generations(&ws).len(),
        2,
        "the new generation is built beside the live one"
    );
    let (status, body) = delete(&server, &format!("/v1/jobs/{cancelled}"));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["cancel_requested"], true);
    let view = wait_finished(&server, &cancelled);
    assert_eq!(view["state"], "cancelled", "{view}");
    assert_eq!(current_generation(&ws), rebuilt);
    assert_eq!(
        generations(&ws),
        vec![rebuilt.clone()],
        "the partial generation is removed"
    );
    assert_eq!(rare_total(&server), expected);
    let (status, body) = delete(&server, &format!("/v1/jobs/{cancelled}"));
    assert_eq!(status, 409, "a finished job cannot be cancelled: {body}");
    assert_eq!(delete(&server, "/v1/jobs/job_nope").0, 404);
    assert_eq!(server.get("/v1/jobs/job_nope").0, 404);

    // Bad requests name the parameter.
    for (body, parameter) in [
        (r#"{"source": "nope"}"#, "source"),
        (r#"{"from": "disk"}"#, "from"),
        (r#"{"bogus": 1}"#, "bogus"),
        (r#"{"source": "crm", "from": "store"}"#, "source"),
    ] {
        let (status, answer) = server.post("/v1/reindex", body);
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(parameter), "{body}: {message}");
    }

    // One source re-read ignoring its checkpoints.
    let source_job = start_reindex(&server, r#"{"source": "crm"}"#);
    let view = wait_finished(&server, &source_job);
    assert_eq!(view["state"], "succeeded", "{view}");
    assert_eq!(view["kind"], "reindex");
    assert_eq!(view["source"], "crm");
    let report = &view["result"]["sources"][0];
    assert_eq!(report["files_seen"], 1, "{report}");
    assert_eq!(
        report["unchanged"], ROWS as u64,
        "every row was read again: {report}"
    );

    // (d) A file dropped into the watched folder: a new ingest job.
    let watch_job = |job: &Value| {
        job["kind"] == "ingest"
            && job["trigger"] == "watch"
            && job["source"] == "drops"
            && job["state"] == "succeeded"
            && job["records_done"].as_u64().unwrap_or(0) >= 1
    };
    let watch_jobs = |list: &Value| -> Vec<String> {
        list["jobs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|j| watch_job(j))
            .filter_map(|j| j["id"].as_str().map(str::to_string))
            .collect()
    };
    let earlier = watch_jobs(&server.get("/v1/jobs").1);
    assert!(
        !earlier.is_empty(),
        "the write during the rebuild was a watch job"
    );
    std::fs::write(
        ws.path().join("data/drops/new.csv"),
        "id,kind,name,description\nD1,person,Dropped Person,quokkaword arrived\n",
    )
    .unwrap();
    // The job is marked finished just after its catch-up: wait for it.
    let mut list = Value::Null;
    assert!(
        server.wait_for(Duration::from_secs(60), |s| {
            list = s.get("/v1/jobs").1;
            watch_jobs(&list).iter().any(|id| !earlier.contains(id))
        }),
        "no new watch ingest job with records: {list}"
    );
    assert_eq!(server.search("quokkaword")["total"], 1);
    let jobs = list["jobs"].as_array().unwrap();
    let ids: Vec<&str> = jobs.iter().filter_map(|j| j["id"].as_str()).collect();
    for id in [&id, &cancelled, &source_job] {
        assert!(ids.contains(&id.as_str()), "{id} missing from {ids:?}");
    }
    let position = |id: &str| ids.iter().position(|i| *i == id).unwrap();
    assert!(position(&source_job) < position(&cancelled));
    assert!(position(&cancelled) < position(&id), "newest first");

    // (e) The CLI through the server: waiting, then detached.
    let out = ws.run(&["reindex", "--from-store", "--server", &server.base]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("succeeded"), "{stdout}");
    assert_ne!(current_generation(&ws), rebuilt);
    let out = ws.run(&[
        "reindex",
        "--from-store",
        "--detach",
        "--server",
        &server.base,
    ]);
    assert!(out.status.success());
    let detached = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(detached.starts_with("job_"), "{detached}");
    let view = wait_finished(&server, &detached);
    assert_eq!(view["state"], "succeeded");
    assert_eq!(rare_total(&server), expected);
    assert_eq!(server.search("quokkaword")["total"], 1);
}

#[test]
fn reindex_cli_runs_in_process_without_a_server_and_jobs_survive_a_restart() {
    let ws = Workspace::with_examples();
    ws.ingest();
    let before = current_generation(&ws);
    let results_before = ws.search("Acme")["total"].clone();
    // Nothing listens on port 1.
    let nobody = "http://127.0.0.1:1";
    let out = ws.run(&["reindex", "--from-store", "--detach", "--server", nobody]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--detach needs a running server"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ws.run(&["reindex", "--server", nobody]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("succeeded"), "{stdout}");
    let id = stdout.split_whitespace().nth(1).unwrap().to_string();
    let after = current_generation(&ws);
    assert_ne!(after, before);
    assert_eq!(generations(&ws), vec![after]);
    assert_eq!(ws.search("Acme")["total"], results_before);

    let server = ws.serve();
    let view = job(&server, &id);
    assert_eq!(view["state"], "succeeded");
    assert_eq!(view["trigger"], "cli");
    assert_eq!(view["kind"], "reindex");
}
