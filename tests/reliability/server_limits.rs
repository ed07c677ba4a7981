//! The server's limits over raw TCP on 127.0.0.1: an oversized announced
//! body is a 413 at once, slow headers and slow bodies are cut off, a
//! connection or request over the limit is a 503 with `Retry-After`, and
//! analyze's input is bounded. Every read here is bounded by a socket
//! timeout, so a server that never answers fails the test instead of
//! hanging it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Server, Workspace};

const PATIENCE: Duration = Duration::from_secs(20);

fn connect(server: &Server) -> TcpStream {
    let address = server.base.trim_start_matches("http://");
    let stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Reads until the response head is complete or the peer closes; `None`
/// when nothing came within [`PATIENCE`].
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(String::from_utf8_lossy(&seen).into_owned()),
            Ok(n) => {
                seen.extend_from_slice(&buffer[..n]);
                if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    return Some(String::from_utf8_lossy(&seen).into_owned());
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None;
            }
            Err(_) => return Some(String::from_utf8_lossy(&seen).into_owned()),
        }
    }
}

/// Reads until the peer closes (or [`PATIENCE`] passes).
fn read_all(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let _ = stream.read_to_end(&mut seen);
    String::from_utf8_lossy(&seen).into_owned()
}

fn status(head: &str) -> Option<u16> {
    head.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn oversized_slow_and_excess_requests_are_answered_or_cut_off() {
    let ws = Workspace::new();
    ws.write_config_with(
        &[],
        "[server]\nheader_timeout_secs = 1\nbody_timeout_secs = 1\nmax_analyze_bytes = 1000\n",
    );
    let server = ws.serve();

    // Announces 99,999,999,999 bytes, sends 48: a 413 at once.
    let mut stream = connect(&server);
    stream
        .write_all(b"POST /v1/search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{\"q\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}")
        .unwrap();
    let head = read_head(&mut stream).expect("no answer to an oversized Content-Length");
    assert_eq!(status(&head), Some(413), "{head}");

    // A 5 MB note is a 413 too (it was a 400).
    let mut stream = connect(&server);
    stream
        .write_all(b"POST /v1/notes HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{\"text\": \"")
        .unwrap();
    let head = read_head(&mut stream).expect("no answer to a 5 MB note");
    assert_eq!(status(&head), Some(413), "{head}");

    // Headers that never end: the connection is closed.
    let mut stream = connect(&server);
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let head = read_head(&mut stream).expect("a slow-header connection stayed open");
    assert!(status(&head).is_none_or(|s| s == 408), "{head}");

    // A body that never arrives: answered (400/408/413) or closed.
    let mut stream = connect(&server);
    stream
        .write_all(b"POST /v1/search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"q\":")
        .unwrap();
    let head = read_head(&mut stream).expect("a slow-body connection stayed open");
    assert!(status(&head).is_none_or(|s| s >= 400), "{head}");

    // Analyze takes at most 1,000 bytes here.
    let text = "word ".repeat(400);
    let body = serde_json::json!({ "text": text }).to_string();
    let (code, _, answer) = server.send("POST", "/v1/analyze", Some(&body));
    assert_eq!(code, 413, "{answer}");
    assert!(answer.contains("max_analyze_bytes"), "{answer}");
    let (code, _, _) = server.send("POST", "/v1/analyze", Some(r#"{"text": "a few words"}"#));
    assert_eq!(code, 200);
}

#[test]
fn connections_and_requests_over_the_limits_get_503_with_retry_after() {
    let ws = Workspace::new();
    ws.write_config_with(
        &[],
        "[server]\nheader_timeout_secs = 30\nbody_timeout_secs = 30\nmax_connections = 5\nmax_in_flight = 2\n",
    );
    // max_connections leaves room for the two slow clients, the probe, and
    // the idle keep-alive connection the harness's own client may hold.
    let server = ws.serve();

    // Two requests whose bodies are still coming hold both in-flight slots.
    // They carry the server's key, so that they pass authentication and
    // wait for their bodies in the handler.
    let key = server.key.clone().unwrap_or_default();
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&server);
        stream
            .write_all(
                format!(
                    "POST /v1/search HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"q\":"
                )
                .as_bytes(),
            )
            .unwrap();
        // Give the server time to take the request in (its headers parsed,
        // its handler waiting for the body): nothing may come back.
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut early = [0u8; 400];
        let n = std::io::Read::read(&mut stream, &mut early).unwrap_or(0);
        assert_eq!(
            n,
            0,
            "a slow request was answered early: {}",
            String::from_utf8_lossy(&early[..n])
        );
        slow.push(stream);
    }
    // A third connection is served, but its request is over the limit
    // (fresh connections, closed after each answer, until both slow
    // requests are in flight).
    let refused = server.wait_for(PATIENCE, |server| {
        let mut attempt = connect(server);
        let _ = attempt
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let answer = read_all(&mut attempt);
        status(&answer) == Some(503)
            && answer.to_ascii_lowercase().contains("retry-after: 1")
            && answer.contains("max_in_flight")
    });
    assert!(refused, "no 503 for a request over max_in_flight");

    // Connections over max_connections are answered 503 and closed: among
    // the next few idle connections, one is refused.
    let mut held = Vec::new();
    let mut refusal = None;
    for _ in 0..5 {
        let mut extra = connect(&server);
        extra
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        match read_head(&mut extra) {
            Some(head) if status(&head) == Some(503) => {
                refusal = Some(head);
                break;
            }
            _ => held.push(extra),
        }
    }
    let head = refusal.expect("no connection refused over max_connections");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    drop(held);

    // Once the slow clients leave, requests are served again.
    drop(slow);
    assert!(
        server.wait_for(PATIENCE, |s| s.send("GET", "/healthz", None).0 == 200),
        "the server did not recover after the slow clients left"
    );
}

/// POSTs `body` with no Content-Length (chunked, as a stream is sent).
fn post_unlengthed(server: &Server, path: &str, content_type: &str, body: String) -> (u16, Value) {
    let response = server
        .client()
        .post(format!("{}{path}", server.base))
        .header("content-type", content_type)
        .body(reqwest::blocking::Body::new(std::io::Cursor::new(body)))
        .send()
        .unwrap();
    let code = response.status().as_u16();
    (code, response.json().unwrap_or(Value::Null))
}

#[test]
fn unlengthed_bodies_over_the_limit_get_413_and_attribute_uploads_stream() {
    let ws = Workspace::with_examples();
    ws.write_config_with(
        &[
            ("crm", "generic-csv", "data/crm"),
            ("notes", "notes", "data/notes"),
        ],
        "[server]\nmax_body_bytes = 4096\nmax_upload_bytes = 200000\n",
    );
    let server = ws.serve();
    let (_, found) = server.get("/v1/search?q=acme&filter.kind=organization");
    let customer = found["customers"][0]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();

    // A JSON body without a length, over the limit: 413 (it was 400). The
    // sender reads the answer, not a broken pipe, however far over the
    // limit it is (up to the megabytes the server reads to let it finish),
    // with or without a length.
    for size in [10_000, 100_000, 1_000_000, 4_000_000] {
        let note = json!({"customer_id": customer, "text": "x".repeat(size)}).to_string();
        let (code, answer) = post_unlengthed(&server, "/v1/notes", "application/json", note);
        assert_eq!(code, 413, "{size} bytes without a length: {answer}");
        assert_eq!(answer["error"]["code"], "body_too_large", "{answer}");
        let note = json!({"customer_id": customer, "text": "x".repeat(size)}).to_string();
        let (code, _, answer) = server.send("POST", "/v1/notes", Some(&note));
        assert_eq!(code, 413, "{size} bytes with a length: {answer}");
    }

    // An upload without a length, read line by line: 1,000 lines pass.
    let line = |key: &str, n: usize| json!({"customer_id": customer, "key": key, "value": n});
    let lines: String = (0..1000)
        .map(|n| format!("{}\n", line(&format!("k{n}"), n)))
        .collect();
    let (code, report) = post_unlengthed(&server, "/v1/attributes", "application/x-ndjson", lines);
    assert_eq!(code, 200, "{report}");
    assert_eq!(report["accepted"], 1000, "{report}");

    // Over the limit: 413, and none of its lines (less than one batch) is
    // written.
    let mut lines = format!("{}\n", line("cutoff", 1));
    while lines.len() <= 200_000 {
        lines.push_str(&format!("{}\n", line("filler", lines.len())));
    }
    let (code, answer) = post_unlengthed(&server, "/v1/attributes", "application/x-ndjson", lines);
    assert_eq!(code, 413, "{answer}");
    assert_eq!(answer["error"]["code"], "body_too_large", "{answer}");
    let (_, page) = server.get(&format!("/v1/customers/{customer}"));
    assert_eq!(page["attributes"]["k999"], json!(999), "{page}");
    assert!(page["attributes"].get("cutoff").is_none(), "{page}");
}
